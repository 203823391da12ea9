"""Anonymizer: apply operators to merged spans, right to left, so offsets stay valid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from streamproc.deid.transform.operators.base import Operator, OperatorContext
from streamproc.deid.types import PhiSpan


class Anonymizer:
    def __init__(self, default: Operator, per_type: Mapping[str, Operator] | None = None) -> None:
        self.default = default
        self.per_type = dict(per_type or {})

    def anonymize(
        self, text: str, spans: Sequence[PhiSpan], ctx: OperatorContext
    ) -> tuple[str, Counter[str]]:
        """New text and the number of replacements per type (counts only: safe to log)."""
        out, counts, _ = self.anonymize_marked(text, spans, ctx)
        return out, counts

    def anonymize_marked(
        self, text: str, spans: Sequence[PhiSpan], ctx: OperatorContext
    ) -> tuple[str, Counter[str], list[PhiSpan]]:
        """New text, counts per type, and where each replacement stands in the new text (so
        later stages can tell a surrogate from the clinical words around it)."""
        counts: Counter[str] = Counter()
        replaced: list[tuple[PhiSpan, str]] = []  # right to left: operators see the same order
        cursor = len(text)
        for span in sorted(spans, key=lambda s: s.start, reverse=True):
            if span.end > cursor:  # overlapping leftovers: the analyzer should have merged them
                continue
            op = self.per_type.get(span.entity_type, self.default)
            replaced.append((span, op.operate(text[span.start : span.end], span, ctx)))
            cursor = span.start
            counts[span.entity_type] += 1
        pieces: list[str] = []
        marks: list[PhiSpan] = []
        cursor, length = 0, 0
        for span, surrogate in reversed(replaced):
            pieces.append(text[cursor : span.start])
            length += span.start - cursor
            pieces.append(surrogate)
            marks.append(
                PhiSpan(length, length + len(surrogate), span.entity_type, span.score, span.source)
            )
            length += len(surrogate)
            cursor = span.end
        pieces.append(text[cursor:])
        return "".join(pieces), counts, marks
