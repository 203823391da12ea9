"""What the product alerts on, scored on ADE-Corpus-V2: NER + ADE model + the extractor's rules.

``streamproc eval ade`` scores the relation model alone. Alerts come from the analyzer, which
also drops indications and negated effects and, with ``ade_require_evidence`` (the default),
keeps a pair only when the entity stage agrees on both mentions and the sentence links them.
This command runs that path on every sentence of a split, with the requirement on and off, so
what the requirement costs on case reports is measured beside what it saves on notes
(docs/adverse-events.md). Registered in ``TASK_MODULES`` as ``"ade-pipeline"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamproc.evaluate.metrics import prf
from streamproc.train.tasks import EvalOnlyTask


def evaluate_pipeline(
    data: Path, split: str = "dev", settings: Any | None = None, limit: int | None = None
) -> dict[str, Any]:
    from streamproc.config import load_settings
    from streamproc.nlp import build_analyzer
    from streamproc.train.datasets.ade import read_ade
    from streamproc.train.tasks_ade import Pair, pair_counts

    settings = settings or load_settings()
    splits = ("train", "dev") if split == "all" else (split,)
    examples = [e for e in read_ade(Path(data)) if e.split in splits][:limit]
    analyzer = build_analyzer(settings, None)
    extractor = analyzer.relations
    if extractor is None:
        raise RuntimeError("the analyzer has no ADE stage")
    spans = analyzer.predict_entities([e.text for e in examples])
    out: dict[str, Any] = {"split": split, "sentences": len(examples)}
    for required in (True, False):
        extractor.require_evidence = required  # type: ignore[attr-defined]
        sent = [0, 0, 0]
        strict = [0, 0, 0]
        relaxed = [0, 0, 0]
        for ex, found in zip(examples, spans, strict=True):
            gold: set[Pair] = {
                (
                    (ex.spans[r.head].start, ex.spans[r.head].end),
                    (ex.spans[r.tail].start, ex.spans[r.tail].end),
                )
                for r in ex.relations
            }
            rels = analyzer.analyze_text(ex.text, found).relations
            pred: set[Pair] = {
                ((r.drug.start, r.drug.end), (r.effect.start, r.effect.end)) for r in rels
            }
            gold_ade, pred_ade = ex.label == "ade", bool(pred)
            sent[0] += gold_ade and pred_ade
            sent[1] += pred_ade and not gold_ade
            sent[2] += gold_ade and not pred_ade
            one_strict, one_relaxed = pair_counts(gold, pred)
            for total, counts in ((strict, one_strict), (relaxed, one_relaxed)):
                for k in range(3):
                    total[k] += counts[k]
        out["evidence_required" if required else "model_alone"] = {
            "sentence_ade": prf(*sent),
            "relation_strict": prf(*strict),
            "relation_relaxed": prf(*relaxed),
        }
    extractor.require_evidence = bool(getattr(settings, "ade_require_evidence", True))  # type: ignore[attr-defined]
    return out


TASK = EvalOnlyTask(
    name="ade-pipeline",
    description="alerts as the analyzer makes them (NER + ADE + rules) on ADE-Corpus-V2",
    run=lambda data, split, **kw: evaluate_pipeline(
        data, split, kw.get("settings"), kw.get("limit")
    ),
    train_hint="nothing to train: `streamproc train ade` trains the model",
)
