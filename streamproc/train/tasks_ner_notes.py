"""``streamproc eval ner-notes``: the NER model on Synthea notes, against weak problem gold.

The PubMed and trial-criteria dev splits of ``eval ner`` are not notes, and two runs that scored
better there found fewer problems in notes (docs/training.md). This task reads a Synthea export
folder (``--data ../shared/data/fhir``), finds each patient's recorded conditions in the notes
(``datasets/synthea_notes.py``) and scores the *entities the analyzer keeps* (model spans through
``nlp.entities.to_entities``, the model reading sentence by sentence as the analyzer does unless
``STREAMPROC_NER_UNIT=note``) on ``problem``: recall is the figure to compare models on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamproc.evaluate.metrics import entity_scores
from streamproc.nlp.entities import to_entities
from streamproc.train.datasets.synthea_notes import read_synthea_notes
from streamproc.train.examples import Span


@dataclass(frozen=True)
class NerNotesTask:
    name: str = "ner-notes"
    description: str = (
        "NER on Synthea notes, problem recall against the patients' Conditions (eval only)"
    )

    def train(self, data: Path, out: Path, **kw: Any) -> dict[str, Any]:
        raise NotImplementedError("eval only: train the model with `streamproc train ner`")

    def evaluate(self, data: Path, split: str = "dev", *, model_dir: Path | None = None,
                 settings: Any | None = None, limit: int | None = None, **kw: Any) -> dict[str, Any]:  # fmt: skip
        from streamproc.nlp import load_ner, ner_model_folder
        from streamproc.nlp.analyzer import EntityUnit, predict_spans

        path = ner_model_folder(settings, model_dir)
        clf = load_ner(settings, path)
        examples = read_synthea_notes(Path(data), limit)
        unit: EntityUnit = "note" if getattr(settings, "ner_unit", "") == "note" else "sentence"
        spans = predict_spans(clf, [e.text for e in examples], unit)
        preds = [
            [Span(x.start, x.end, x.label) for x in to_entities(e.text, s)]
            for e, s in zip(examples, spans, strict=True)
        ]
        scores = entity_scores([e.spans for e in examples], preds, ["problem"])
        return {
            "task": "ner-notes",
            "model": str(path),
            "model_version": clf.version,
            "ner_unit": unit,
            "notes": len(examples),
            "gold_mentions": sum(len(e.spans) for e in examples),
            "summary": {
                "problem_recall_strict": scores["strict"]["micro"]["recall"],
                "problem_recall_relaxed": scores["relaxed"]["micro"]["recall"],
                "problem_precision_strict_weak": scores["strict"]["micro"]["precision"],
            },
            "scores": scores,
        }


TASK = NerNotesTask()
