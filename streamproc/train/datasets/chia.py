"""Chia (clinical-trial eligibility criteria, BRAT) -> ``Example``s in the product's scheme.

Label mapping (decided here, documented in docs/training.md):

| Chia | product | why |
|---|---|---|
| Condition | problem | diagnoses, symptoms, findings |
| Drug | drug | |
| Procedure | treatment | mostly therapeutic (surgery, therapy); imaging/diagnostic procedures are also here and get ``treatment`` — a known source of noise against the i2b2 ``test`` class |
| Measurement | test | lab values, scores, vital signs |
| Device | treatment | implants, lines, pacemakers (i2b2 treats devices as treatments) |
| Observation, Person, Visit, annotations (Value, Temporal, Negation…) | dropped | not i2b2 concept classes |

Discontinuous annotations keep their first fragment. Chia has no official split: trials
(``NCTxxxxxxxx``, shared by the ``_inc`` and ``_exc`` files) are sorted, shuffled with
``random.Random(SPLIT_SEED)`` and the first ``DEV_FRACTION`` go to ``dev``.

Negation gold for the assertion work: :func:`read_chia_negation` gives one ``NegationCase`` per
mapped concept, negated when the concept (or a ``Scope`` containing it) is ``Arg1`` of a
``Has_negation`` relation; the cue span is the relation's ``Negation`` entity. The same flags are
in ``Example.meta["negated"]`` (comma-separated indices into ``Example.spans``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from streamproc.train.datasets.brat import BratDoc, read_brat_dir
from streamproc.train.examples import Example, Span

SPLIT_SEED = 20240607
DEV_FRACTION = 0.1
CHIA_LABELS = {
    "Condition": "problem",
    "Drug": "drug",
    "Procedure": "treatment",
    "Measurement": "test",
    "Device": "treatment",
}
ANNOTATED = "problem,test,treatment,drug"


def trial_id(doc_id: str) -> str:
    return doc_id.split("_")[0]


def dev_trials(
    trials: list[str], seed: int = SPLIT_SEED, fraction: float = DEV_FRACTION
) -> set[str]:
    """The fixed, seeded, trial-grouped dev set."""
    order = sorted(set(trials))
    random.Random(seed).shuffle(order)
    return set(order[: max(1, round(len(order) * fraction))]) if order else set()


def _negated_ids(doc: BratDoc) -> dict[str, tuple[int, int] | None]:
    """Entity id -> cue span, for every entity negated directly or through a Scope."""
    out: dict[str, tuple[int, int] | None] = {}
    for rel in doc.relations:
        if rel.label != "Has_negation":
            continue
        roles = dict(rel.args)
        target, cue_id = roles.get("Arg1"), roles.get("Arg2")
        cue_ent = doc.entities.get(cue_id or "")
        cue = (cue_ent.start, cue_ent.end) if cue_ent else None
        ent = doc.entities.get(target or "")
        if ent is None:
            continue
        if ent.label == "Scope":
            for other in doc.entities.values():
                if other.label in CHIA_LABELS and ent.start <= other.start and other.end <= ent.end:
                    out[other.id] = cue
        else:
            out[ent.id] = cue
    return out


def doc_to_example(doc: BratDoc, split: str) -> Example:
    ents = sorted(
        (e for e in doc.entities.values() if e.label in CHIA_LABELS and e.end > e.start),
        key=lambda e: (e.start, -e.end),
    )
    negated = _negated_ids(doc)
    spans = tuple(Span(e.start, e.end, CHIA_LABELS[e.label]) for e in ents)
    neg_idx = [str(i) for i, e in enumerate(ents) if e.id in negated]
    return Example(
        id=doc.id,
        text=doc.text,
        spans=spans,
        group=trial_id(doc.id),
        split=split,
        meta={"corpus": "chia", "annotated_labels": ANNOTATED, "negated": ",".join(neg_idx)},
    )


def read_chia(folder: Path, split: str = "all") -> list[Example]:
    """Examples of the ``train``/``dev`` split (or ``all``) of a Chia BRAT folder."""
    docs = read_brat_dir(Path(folder))
    dev = dev_trials([trial_id(d.id) for d in docs])
    out = []
    for d in docs:
        s = "dev" if trial_id(d.id) in dev else "train"
        if split in ("all", s):
            out.append(doc_to_example(d, s))
    return out


@dataclass(frozen=True)
class NegationCase:
    doc_id: str
    text: str  # the whole criteria text of the document
    start: int
    end: int
    label: str
    negated: bool
    cue: tuple[int, int] | None


def read_chia_negation(folder: Path, split: str = "all") -> list[NegationCase]:
    """One case per mapped Chia concept with its gold negation flag (assertion evaluation)."""
    docs = read_brat_dir(Path(folder))
    dev = dev_trials([trial_id(d.id) for d in docs])
    out = []
    for d in docs:
        s = "dev" if trial_id(d.id) in dev else "train"
        if split not in ("all", s):
            continue
        negated = _negated_ids(d)
        for e in sorted(d.entities.values(), key=lambda e: e.start):
            if e.label in CHIA_LABELS:
                out.append(
                    NegationCase(
                        d.id,
                        d.text,
                        e.start,
                        e.end,
                        CHIA_LABELS[e.label],
                        e.id in negated,
                        negated.get(e.id),
                    )
                )
    return out


def split_lines(ex: Example) -> list[Example]:
    """One example per non-empty line (criteria are one per line): shorter training windows.
    Spans crossing a line break are dropped."""
    out = []
    pos = 0
    for i, line in enumerate(ex.text.split("\n")):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        spans = tuple(
            Span(s.start - start, s.end - start, s.label)
            for s in ex.spans
            if start <= s.start and s.end <= end
        )
        out.append(
            Example(f"{ex.id}:{i}", line, spans, group=ex.group, split=ex.split, meta=dict(ex.meta))
        )
    return out
