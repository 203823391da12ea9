"""Web addresses (scheme URLs, www. hosts, bare domains with common TLDs)."""

from __future__ import annotations

from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import URL


class UrlRecognizer(PatternRecognizer):
    name = "url"
    ENTITY_TYPE = URL
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("scheme", r"\b(?:https?|ftp)://[^\s<>\"')\]]+", 1.0),
        Pattern("www", r"\bwww\.[^\s<>\"')\]]+", 0.95),
        Pattern(
            "domain",
            r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|biz|info|us)\b(?:/[^\s]*)?",
            0.8,
        ),
    )

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        return None if not text[start:end].endswith(".") else None
