"""Recognizer base: regex patterns and context words as class constants, plus a validate hook.

A subclass sets ``ENTITY_TYPE``, ``PATTERNS`` (name, regex, score) and optionally ``CONTEXT``
words; a pattern may capture the PHI part in a group named ``phi`` (so "Dr. Smith" yields "Smith").
Patterns are compiled once per class (``_compiled``), not per note. ``validate_result`` may reject a
match (False), accept it at full confidence (True) or leave the score (None). Context words found
in the ``CONTEXT_WINDOW`` characters before the match raise the score by ``CONTEXT_BOOST``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from streamproc.deid.types import PhiSpan


@dataclass(frozen=True)
class Pattern:
    name: str
    regex: str
    score: float
    flags: int = re.IGNORECASE


class Recognizer:
    """Anything that turns text into PhiSpans."""

    name: ClassVar[str] = "recognizer"
    ENTITY_TYPE: ClassVar[str] = ""

    def analyze(self, text: str) -> list[PhiSpan]:
        raise NotImplementedError


class PatternRecognizer(Recognizer):
    PATTERNS: ClassVar[tuple[Pattern, ...]] = ()
    CONTEXT: ClassVar[tuple[str, ...]] = ()
    CONTEXT_WINDOW: ClassVar[int] = 30
    CONTEXT_BOOST: ClassVar[float] = 0.35
    _compiled_cache: ClassVar[dict[tuple[str, int], re.Pattern[str]]] = {}

    def __init__(
        self,
        patterns: Sequence[Pattern] | None = None,
        context: Sequence[str] | None = None,
        min_score: float = 0.0,
    ) -> None:
        self.patterns = tuple(patterns) if patterns is not None else self.PATTERNS
        words = tuple(context) if context is not None else self.CONTEXT
        self.context_re = (
            re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
            if words
            else None
        )
        self.min_score = min_score
        self._compiled = [(p, self._compile(p)) for p in self.patterns]

    @classmethod
    def _compile(cls, p: Pattern) -> re.Pattern[str]:
        key = (p.regex, p.flags)
        if key not in cls._compiled_cache:
            cls._compiled_cache[key] = re.compile(p.regex, p.flags)
        return cls._compiled_cache[key]

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        """Hook: reject (False), confirm (True) or keep the pattern score (None)."""
        return None

    def has_context(self, text: str, start: int, end: int) -> bool:
        if self.context_re is None:
            return False
        window = text[max(0, start - self.CONTEXT_WINDOW) : start]
        return self.context_re.search(window) is not None

    def analyze(self, text: str) -> list[PhiSpan]:
        out: list[PhiSpan] = []
        for pattern, regex in self._compiled:
            for m in regex.finditer(text):
                if "phi" in regex.groupindex and m.group("phi") is not None:
                    start, end = m.span("phi")
                else:
                    start, end = m.span()
                if start >= end:
                    continue
                verdict = self.validate_result(text, start, end, pattern)
                if verdict is False:
                    continue
                score = 1.0 if verdict else pattern.score
                if self.has_context(text, start, end):
                    score = min(1.0, score + self.CONTEXT_BOOST)
                if score >= self.min_score:
                    out.append(PhiSpan(start, end, self.ENTITY_TYPE, score, self.name))
        return out
