"""``mask``: every letter/digit becomes ``*`` (length and punctuation kept)."""

from __future__ import annotations

from streamproc.deid.transform.operators.base import Operator, OperatorContext
from streamproc.deid.types import PhiSpan


class MaskOperator(Operator):
    name = "mask"
    CHAR = "*"

    def operate(self, original: str, span: PhiSpan, ctx: OperatorContext) -> str:
        return "".join(self.CHAR if ch.isalnum() else ch for ch in original)
