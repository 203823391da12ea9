"""``streamproc eval negation --data <chia folder>``: ConText negation F1 on Chia.

Register with one line in ``streamproc.train.tasks.TASK_MODULES``:
``"negation": "streamproc.nlp.assertion.task"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class NegationTask:
    name = "negation"
    description = "ConText negation of Condition mentions on Chia (rules; nothing to train)"

    def train(self, data: Path, out: Path, **kw: Any) -> dict[str, Any]:
        raise NotImplementedError("assertion is rule-based: edit assertion/rules.json")

    def evaluate(self, data: Path, split: str = "all", **kw: Any) -> dict[str, Any]:
        from streamproc.nlp.assertion.context import ContextAssertion
        from streamproc.nlp.assertion.evaluate import evaluate_chia

        ctx = ContextAssertion()
        out: dict[str, Any] = {"rules_version": ctx.version}
        for name, clinical in (("all_cues", False), ("clinical_cues", True)):
            s = evaluate_chia(Path(data), ctx, clinical_only=clinical)
            out[name] = {
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
                "tn": s.tn,
            }
        return out


TASK = NegationTask()
