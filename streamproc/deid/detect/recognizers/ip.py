"""IPv4 and (full-form) IPv6 addresses."""

from __future__ import annotations

from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import IP


class IpRecognizer(PatternRecognizer):
    name = "ip"
    ENTITY_TYPE = IP
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("ipv4", r"(?<![\d.])\b(?:\d{1,3}\.){3}\d{1,3}\b(?![\d.]*\d)", 0.9),
        Pattern("ipv6", r"\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b", 0.95),
    )

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        if pattern.name == "ipv4":
            return all(int(part) <= 255 for part in text[start:end].split(".")) or False
        return None
