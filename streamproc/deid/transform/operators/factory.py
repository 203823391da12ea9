"""Operator names -> classes: an explicit table, no discovery."""

from __future__ import annotations

from collections.abc import Mapping

from streamproc.deid.transform.operators.base import Operator
from streamproc.deid.transform.operators.mask import MaskOperator
from streamproc.deid.transform.operators.redact import RedactOperator
from streamproc.deid.transform.operators.surrogate import SurrogateOperator

OPERATORS: dict[str, type[Operator]] = {
    "surrogate": SurrogateOperator,
    "mask": MaskOperator,
    "redact": RedactOperator,
}
DEFAULT_OPERATOR = "surrogate"


def build_operators(
    per_type: Mapping[str, str] | None = None, default: str = DEFAULT_OPERATOR
) -> tuple[Operator, dict[str, Operator]]:
    """The default operator and per-type overrides, e.g. ``{"DATE": "redact"}``."""
    for name in [default, *(per_type or {}).values()]:
        if name not in OPERATORS:
            raise ValueError(f"unknown deid operator {name!r}; known: {sorted(OPERATORS)}")
    cache: dict[str, Operator] = {}

    def get(name: str) -> Operator:
        if name not in cache:
            cache[name] = OPERATORS[name]()
        return cache[name]

    return get(default), {t: get(n) for t, n in (per_type or {}).items()}
