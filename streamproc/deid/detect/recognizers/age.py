"""Ages over 89 (Safe Harbor: ages 90+ must be aggregated); younger ages are not PHI."""

from __future__ import annotations

from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import AGE, SAFE_HARBOR_MIN_AGE


class AgeRecognizer(PatternRecognizer):
    name = "age"
    ENTITY_TYPE = AGE
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern(
            "age_suffix",
            r"\b(?P<phi>\d{2,3})\s*[- ]?(?:yo|y/o|y\.o\.?|yrs?\.?\s*old|years?[- ]old|yr|yrs|y\b|year)",
            0.9,
        ),
        Pattern("age_prefix", r"\b(?:age[ds]?|aged)\s*:?\s*(?P<phi>\d{2,3})\b", 0.9),
        Pattern("decade", r"\b(?:in\s+(?:his|her|their)\s+)(?P<phi>(?:9\d|1[0-2]\d)'?s)\b", 0.9),
    )

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        digits = "".join(ch for ch in text[start:end] if ch.isdigit())
        return SAFE_HARBOR_MIN_AGE <= int(digits) <= 125 or False
