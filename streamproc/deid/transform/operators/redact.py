"""``redact``: the span becomes its type tag, e.g. ``[NAME]`` (no length or format kept)."""

from __future__ import annotations

from streamproc.deid.transform.operators.base import Operator, OperatorContext
from streamproc.deid.types import PhiSpan


class RedactOperator(Operator):
    name = "redact"

    def operate(self, original: str, span: PhiSpan, ctx: OperatorContext) -> str:
        return f"[{span.entity_type}]"
