"""Assertion on clinical notes, scored against the shipped nursing-note gold set.

Chia (``evaluate.py``) is eligibility-criteria text with its own conventions; this set is the
kind of text the product reads: 800 problem spans the shipped NER found in PhysioNet nursing
notes, each labelled present / absent / possible / hypothetical / family (or ``not_problem``,
left out of the scores) by reading its sentence. How it was drawn and decided:
docs/assertion-gold.md. ``tuning`` rows were read while writing the rules; ``heldout`` rows were
labelled after, from other patients, and are the honest figure.

Registered in ``streamproc.train.tasks.TASK_MODULES`` as ``"assertion-notes"``.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from streamproc.nlp.assertion.context import ContextAssertion
from streamproc.nlp.sections import SectionIndex
from streamproc.nlp.sentences import split_sentences
from streamproc.train.tasks import EvalOnlyTask

LABELS = ("present", "absent", "possible", "hypothetical", "family")
# The pipeline's categories folded onto the gold's: "conditional" (on exertion…) is a
# hypothetical reading of the problem for this set.
_FOLD = {"conditional": "hypothetical"}
_HALVES = {"dev": "tuning", "train": "tuning", "test": "heldout", "all": None}


@dataclass(frozen=True, slots=True)
class GoldRow:
    patient: str
    note: str
    start: int
    end: int
    mention: str
    label: str
    half: str


def read_gold(path: Path | None = None) -> list[GoldRow]:
    """The packaged gold set (or ``path``), comment lines skipped."""
    if path is None:
        text = (
            resources.files("streamproc.nlp.assertion.gold")
            .joinpath("notes_assertion_gold.tsv")
            .read_text("utf-8")
        )
    else:
        text = Path(path).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [
        GoldRow(
            r["patient"],
            r["note"],
            int(r["start"]),
            int(r["end"]),
            r["mention"],
            r["label"],
            r["half"],
        )  # fmt: skip
        for r in csv.DictReader(lines, delimiter="\t")
    ]


def _notes(data: Path) -> dict[tuple[str, str], str]:
    from streamproc.train.datasets.physionet_deid import read_records

    folder = data / "deid" if (data / "deid").is_dir() else data
    path = folder / "id.text"
    if not path.is_file():
        raise FileNotFoundError(f"no PhysioNet id.text under {data} (or {data}/deid)")
    return {(p, n): body for p, n, body in read_records(path)}


def score(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Negation P/R/F1 (``absent`` against the rest), accuracy and per-label figures."""
    confusion = Counter(pairs)
    out: dict[str, Any] = {"mentions": len(pairs)}
    correct = sum(n for (g, p), n in confusion.items() if g == p)
    out["accuracy"] = round(correct / len(pairs), 4) if pairs else 0.0
    per_label: dict[str, Any] = {}
    for lab in LABELS:
        tp = confusion[(lab, lab)]
        fp = sum(n for (g, p), n in confusion.items() if p == lab and g != lab)
        fn = sum(n for (g, p), n in confusion.items() if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_label[lab] = {"gold": tp + fn, "precision": round(prec, 4), "recall": round(rec, 4),
                          "f1": round(f1, 4), "tp": tp, "fp": fp, "fn": fn}  # fmt: skip
    out["negation"] = per_label["absent"]
    out["per_label"] = per_label
    out["confusion"] = {f"{g}->{p}": n for (g, p), n in sorted(confusion.items())}
    return out


def evaluate_notes(
    data: Path,
    split: str = "all",
    assertion: ContextAssertion | None = None,
    gold: Path | None = None,
) -> dict[str, Any]:
    """Score ``assertion`` (the shipped rules by default) on the gold set (packaged or ``gold``)."""
    assertion = assertion or ContextAssertion()
    notes = _notes(Path(data))
    rows = [r for r in read_gold(gold) if r.label != "not_problem"]
    by_note: dict[tuple[str, str], list[GoldRow]] = defaultdict(list)
    for r in rows:
        by_note[(r.patient, r.note)].append(r)
    by_half: dict[str, list[tuple[str, str]]] = {"tuning": [], "heldout": []}
    for key, mine in sorted(by_note.items()):
        text = notes.get(key)
        if text is None:
            raise ValueError(f"note {key} of the gold set is not in the corpus")
        for r in mine:
            if text[r.start : r.end].replace("\n", " ").replace("\t", " ") != r.mention:
                raise ValueError(f"gold span {key} {r.start}-{r.end} does not match the note text")
        results = assertion.assert_spans(
            text, [(r.start, r.end) for r in mine], split_sentences(text), SectionIndex.of(text)
        )
        for r, res in zip(mine, results, strict=True):
            by_half[r.half].append((r.label, _FOLD.get(res.assertion, res.assertion)))
    half = _HALVES.get(split)
    out: dict[str, Any] = {"rules_version": assertion.version, "headline_half": half or "all"}
    for name, pairs in by_half.items():
        out[name] = score(pairs)
    out["all"] = score(by_half["tuning"] + by_half["heldout"])
    out["headline"] = out[half or "all"]["negation"]
    return out


TASK = EvalOnlyTask(
    name="assertion-notes",
    description="ConText assertion on the shipped nursing-note gold set (rules; nothing to train)",
    run=lambda data, split, **kw: evaluate_notes(data, split),
    train_hint="assertion is rule-based: edit assertion/rules.json",
)
