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
        counts: Counter[str] = Counter()
        pieces: list[str] = []
        cursor = len(text)
        for span in sorted(spans, key=lambda s: s.start, reverse=True):
            if span.end > cursor:  # overlapping leftovers: the analyzer should have merged them
                continue
            op = self.per_type.get(span.entity_type, self.default)
            pieces.append(text[span.end : cursor])
            pieces.append(op.operate(text[span.start : span.end], span, ctx))
            cursor = span.start
            counts[span.entity_type] += 1
        pieces.append(text[:cursor])
        return "".join(reversed(pieces)), counts
