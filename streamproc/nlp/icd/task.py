"""``streamproc eval icd --data <gold.tsv>``: the ICD coder as an entry of the eval task table.

Register with one line in ``streamproc.train.tasks.TASK_MODULES``:
``"icd": "streamproc.nlp.icd.task"``. Splits: ``dev`` (Synthea/HL7 rows), ``test`` (the held-out
Chia rows), ``all``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamproc.train.tasks import EvalOnlyTask


def _evaluate(data: Path, split: str = "all", **kw: Any) -> dict[str, Any]:
    from streamproc.nlp.icd.evaluate import evaluate_gold

    return evaluate_gold(Path(data), split=split, errors=int(kw.get("errors", 20)))


TASK = EvalOnlyTask(
    name="icd",
    description="ICD-10-CM coding of problem mentions (rules + lexical index; nothing to train)",
    run=_evaluate,
    train_hint="the ICD coder is not trained: edit synonyms.tsv and re-evaluate",
)
