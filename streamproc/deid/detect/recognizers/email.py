"""E-mail addresses."""

from __future__ import annotations

from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.types import EMAIL


class EmailRecognizer(PatternRecognizer):
    name = "email"
    ENTITY_TYPE = EMAIL
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("email", r"\b[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,24}\b", 1.0),
    )
