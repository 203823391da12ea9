"""Record, account, licence, device, plate and health-plan numbers: context-driven.

Numbers only count as identifiers next to a keyword ("MRN", "acct", "licence", "#"…), except long
bare digit runs (7+ digits), which no clinical measurement in these notes has.
"""

from __future__ import annotations

import re
from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import ID

_KEYWORDS = (
    r"mrn|mr\s?#|medical\s+record(?:\s+(?:number|no\.?))?|record\s+(?:number|no\.?)|unit\s+(?:no\.?|number)"
    r"|acct|account|encounter|visit\s+(?:no|number)|fin|csn|license|licence|lic|dea|npi|plate"
    r"|vin|serial|s/n|sn|device\s+(?:id|number|no\.?)|member\s+id|subscriber|policy|group\s+(?:no|number)"
    r"|health\s+plan|insurance\s+(?:id|no\.?|number)|medicaid|medicare|id"
    # "Chart # TB-20931" of a public-health clinic, a lab's accession number
    # ("poison center (case 25-118733)": a case number without its "#")
    r"|chart|accession|specimen|requisition|claim|case(?=\s*(?:number|no\.?|#)|\s+\d[\d-]{5,})"
)


class IdentifierRecognizer(PatternRecognizer):
    name = "identifier"
    ENTITY_TYPE = ID
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern(
            "keyword_id",
            rf"\b(?:{_KEYWORDS})\b\s*(?:number|no\.?|num|#)?\s*[:#=]?\s*(?P<phi>[A-Z0-9](?:[A-Z0-9-]*\d[A-Z0-9-]*))\b",
            0.85,
        ),
        Pattern("hash_id", r"(?<![\w#])#\s?(?P<phi>[A-Z]{0,3}\d{6,})\b", 0.7),
        Pattern("long_number", r"(?<![\d.,/-])\b\d{7,}\b(?![.,/-]?\d)", 0.6),
    )

    _DIGITS = re.compile(r"\d")

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        value = text[start:end]
        if pattern.name == "keyword_id" and len(self._DIGITS.findall(value)) < 4:
            return False
        return None
