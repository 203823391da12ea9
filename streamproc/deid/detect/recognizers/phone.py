"""Phone, fax and pager numbers (NANP shapes, 7-digit locals, extensions, pager context)."""

from __future__ import annotations

from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import PHONE


class PhoneRecognizer(PatternRecognizer):
    name = "phone"
    ENTITY_TYPE = PHONE
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern(
            "nanp",
            r"(?<!\d)(?:\+?1[-.\s])?(?:\([2-9]\d{2}\)|\b[2-9]\d{2})[-.\s/]{0,2}\d{3}[-./\s]\d{4}\b"
            r"(?:\s*(?:x|ext\.?)\s*\d{1,5}\b)?",
            0.9,
        ),
        # Any 3-3-4 digit groups joined by dashes: notes carry mistyped and out-of-plan numbers
        # ("135-442-9738", "212- 476- 8356") that are still someone's number.
        Pattern("dashed10", r"(?<![\d/-])\b\d{3}-\s?\d{3}-\s?\d{4}\b(?![\d/-])", 0.8),
        Pattern("local7", r"(?<![\d/-])\b\d{3}-\d{4}\b(?![\d/-])", 0.45),
        Pattern(
            "pager",
            r"\b(?:pager|beeper|pgr|bpr|page|pg|phone|ph|tel|cell|fax|ext|extension|call|beep)\b"
            r"[\s.:#]*(?:number|no\.?|#)?[\s:#]*(?P<phi>\d{4,6})\b",
            0.85,
        ),
        Pattern("hash5", r"(?<![\w#])#\s?(?P<phi>\d{5})\b", 0.55),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "phone", "tel", "telephone", "fax", "cell", "mobile", "pager", "beeper", "call", "contact",
        "number", "home", "work", "reached", "at",
    )  # fmt: skip

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        after = text[end : end + 6].lower().lstrip()
        if pattern.name == "local7":
            first, second = text[start:end].split("-")
            if after.startswith(("cc", "ml", "mg", "u ", "units", "%")):
                return False
            if first.endswith("0") and second.endswith("00"):
                return False  # a range of round numbers ("500-1000"), not a number to dial
        return None
