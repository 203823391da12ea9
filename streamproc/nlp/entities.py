"""Entity recognition for the pipeline: the NER model as ``nlp.types.Entity`` objects.

A thin wrapper (presidio's ``medical_ner_recognizer`` pattern): the model folder comes from
``Settings.models.ner`` or the one shipped in ``streamproc/models/ner``; windows, threads and
device come from ``Settings``. Assertion and coding are filled in by later stages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast, get_args

import streamproc.models
from streamproc.nlp.token_classifier import ScoredSpan, TokenClassifier
from streamproc.nlp.types import Entity, EntityLabel

SHIPPED_NER = Path(streamproc.models.__file__).parent / "ner"
_LABELS = set(get_args(EntityLabel))


class EntityRecognizer:
    """Texts in, ``Entity`` tuples out (offsets into the given text)."""

    def __init__(self, classifier: TokenClassifier, min_score: float = 0.0) -> None:
        self.classifier = classifier
        self.min_score = min_score

    @classmethod
    def from_settings(cls, settings: Any, min_score: float = 0.0) -> EntityRecognizer:
        path = settings.models.ner or SHIPPED_NER
        return cls(TokenClassifier.from_path(path, settings), min_score)

    @classmethod
    def from_path(
        cls, path: Path | str, settings: Any | None = None, **kw: Any
    ) -> EntityRecognizer:
        return cls(TokenClassifier.from_path(path, settings, **kw))

    @property
    def version(self) -> str:
        return self.classifier.version

    def _entity(self, text: str, s: ScoredSpan) -> Entity:
        return Entity(
            label=cast(EntityLabel, s.label),  # filtered to EntityLabel in recognize()
            start=s.start,
            end=s.end,
            text=text[s.start : s.end],
            score=round(s.score, 4),
        )

    def recognize(self, texts: Sequence[str]) -> list[tuple[Entity, ...]]:
        """One tuple of entities per text, in text order. A span never crosses a line break:
        the model sometimes joins two list items ("Hunger\n- Thirst"); each line part with a
        letter becomes its own entity, list markers stripped."""
        out = []
        for text, spans in zip(texts, self.classifier.predict(texts), strict=True):
            out.append(
                tuple(
                    self._entity(text, part)
                    for s in spans
                    if s.label in _LABELS and s.score >= self.min_score
                    for part in _line_parts(text, s)
                )
            )
        return out


_LINE_PART = re.compile(r"[^\r\n]+")
_EDGE_MARKERS = " \t-*•·:;,."


def _line_parts(text: str, span: ScoredSpan) -> list[ScoredSpan]:
    """The span cut at line breaks, each part trimmed of list markers and blanks."""
    if "\n" not in text[span.start : span.end] and "\r" not in text[span.start : span.end]:
        return [span] if text[span.start : span.end].strip() else []
    parts = []
    for m in _LINE_PART.finditer(text, span.start, span.end):
        value = m.group()
        start = m.start() + len(value) - len(value.lstrip(_EDGE_MARKERS))
        end = m.end() - (len(value) - len(value.rstrip(" \t")))
        if start < end and any(c.isalpha() for c in text[start:end]):
            parts.append(replace(span, start=start, end=end))
    return parts
