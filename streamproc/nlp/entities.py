"""Entity recognition for the pipeline: the NER model as ``nlp.types.Entity`` objects.

A thin wrapper (presidio's ``medical_ner_recognizer`` pattern): the model folder comes from
``Settings.models.ner`` or the one shipped in ``streamproc/models/ner``; windows, threads and
device come from ``Settings``. Assertion and coding are filled in by later stages.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        """One tuple of entities per text, in text order."""
        out = []
        for text, spans in zip(texts, self.classifier.predict(texts), strict=True):
            out.append(
                tuple(
                    self._entity(text, s)
                    for s in spans
                    if s.label in _LABELS
                    and s.score >= self.min_score
                    and text[s.start : s.end].strip()
                )
            )
        return out
