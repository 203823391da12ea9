"""US social security numbers (dashed, or 9 digits next to SSN context)."""

from __future__ import annotations

from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import SSN


class SsnRecognizer(PatternRecognizer):
    name = "ssn"
    ENTITY_TYPE = SSN
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("dashed", r"(?<![\d-])\b\d{3}[- ]\d{2}[- ]\d{4}\b(?![\d-])", 0.8),
        Pattern(
            "ssn_context",
            r"\b(?:ssn|ss#|social security(?: number| no\.?)?)\s*[:#]?\s*(?P<phi>\d{9}|\d{3}-\d{2}-\d{4})\b",
            1.0,
        ),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = ("ssn", "social security", "ss#")

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        digits = "".join(ch for ch in text[start:end] if ch.isdigit())
        area, group, serial = digits[:3], digits[3:5], digits[5:]
        if area in ("000", "666") or group == "00" or serial == "0000":
            return False
        return None
