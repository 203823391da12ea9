"""Street addresses, P.O. boxes and ZIP codes (ZIP next to a state or "zip")."""

from __future__ import annotations

from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import ADDRESS, DWELLING_UNIT, ZIP

_SUFFIX_MIXED = (
    r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Drive|Lane|Ln\.?|Way|Court"
    r"|Place|Terrace|Highway|Hwy\.?|Parkway|Pkwy\.?|Circle|Square|Alley|Trail|Turnpike|Pike|Row"
    r"|Crossing|Loop|Run|Path|Walk|Heights|Ridge|Park)"
)
_SUFFIX_CAPS = (
    r"(?:STREET|AVENUE|AVE|ROAD|BOULEVARD|BLVD|DRIVE|LANE|COURT|PLACE|TERRACE|HIGHWAY|PARKWAY"
    r"|CIRCLE)"
)
_UNIT = r"(?:,?\s*(?:Apt\.?|Suite|Ste\.?|Unit|#)\s*[A-Za-z0-9-]+)?"
_STATES = (
    r"AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH"
    r"|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR"
)


class AddressRecognizer(PatternRecognizer):
    name = "address"
    ENTITY_TYPE = ADDRESS
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern(
            "street",
            rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z'.-]+\s+){{1,3}}{_SUFFIX_MIXED}(?![a-z]){_UNIT}",
            0.85,
            0,
        ),
        Pattern(
            "street_caps",
            rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z'.-]+\s+){{1,3}}{_SUFFIX_CAPS}\b{_UNIT}",
            0.85,
            0,
        ),
        Pattern("po_box", r"\bP\.?\s?O\.?\s+Box\s+\d+\b", 0.95),
        # a dwelling's number alone, after its building ("Sunrise Senior Living, apt 214" had
        # kept "214" in clear beside a surrogate street)
        Pattern("unit", rf"(?i:\b{DWELLING_UNIT})", 0.7),
    )


class ZipRecognizer(PatternRecognizer):
    name = "zip"
    ENTITY_TYPE = ZIP
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("state_zip", rf"\b(?:{_STATES}),?\s+(?P<phi>\d{{5}}(?:-\d{{4}})?)\b", 0.9, 0),
        Pattern(
            "zip_keyword",
            r"\b(?:zip|zipcode|zip code|postal code)\s*:?\s*(?P<phi>\d{5}(?:-\d{4})?)\b",
            0.95,
        ),
    )
