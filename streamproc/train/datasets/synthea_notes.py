"""Synthea notes with weak problem gold: the patient's own ``Condition`` names found in the text.

A Synthea export (``DocumentReference.ndjson`` with base64 notes, ``Condition.ndjson`` coded in
SNOMED CT) writes each condition into later notes under its SNOMED display ("Patient has a history
of chronic kidney disease stage 3 (disorder), stress (finding)"). Every case-insensitive,
word-bounded occurrence of one of the patient's condition names without the semantic tag is a
gold ``problem`` span, longest name first; social findings that are no health problem
("full-time employment", "not in labor force") are left out. This is the only note-style entity gold we have: it
measures recall of recorded conditions on notes. Precision is weak (symptoms such as a chief
complaint are problems but no Synthea Condition), so compare models on it, not to a target.
"""

from __future__ import annotations

import base64
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streamproc.train.examples import Example, Span

_SEMANTIC_TAG = re.compile(r"\s*\((?:disorder|finding|situation|morphologic abnormality)\)\s*$")
# Social findings Synthea records as Conditions that are no health problem (nor one we code):
# work, schooling, income, surroundings. Stress, isolation, abuse and drinking stay in the gold.
_NOT_A_PROBLEM = re.compile(
    r"employment|labor force|education|social contact|violence in the environment|criminal"
    r"|housing|transport|income|refugee|risk activity|armed forces"
)
CORPUS = "synthea-notes"


def _ndjson(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _patient(resource: dict[str, Any]) -> str:
    return str(resource.get("subject", {}).get("reference", "")).rsplit("/", 1)[-1]


def condition_names(folder: Path) -> dict[str, set[str]]:
    """Patient id -> lower-cased condition names without the SNOMED semantic tag."""
    names: dict[str, set[str]] = defaultdict(set)
    for res in _ndjson(folder / "Condition.ndjson"):
        text = res.get("code", {}).get("text") or ""
        name = _SEMANTIC_TAG.sub("", text).strip().lower()
        if len(name) >= 3 and not _NOT_A_PROBLEM.search(name):
            names[_patient(res)].add(name)
    return names


def gold_spans(text: str, names: set[str]) -> tuple[Span, ...]:
    """Non-overlapping occurrences of ``names`` in ``text``, longest name first."""
    taken = [False] * len(text)
    spans: list[Span] = []
    low = text.lower()
    for name in sorted(names, key=len, reverse=True):
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", low):
            if not any(taken[m.start() : m.end()]):
                taken[m.start() : m.end()] = [True] * (m.end() - m.start())
                spans.append(Span(m.start(), m.end(), "problem"))
    return tuple(sorted(spans, key=lambda s: s.start))


def read_synthea_notes(folder: Path, limit: int | None = None) -> list[Example]:
    """Notes of ``DocumentReference.ndjson`` in file order, each with its weak problem gold."""
    names = condition_names(folder)
    out: list[Example] = []
    for res in _ndjson(folder / "DocumentReference.ndjson"):
        patient = _patient(res)
        for content in res.get("content", []):
            data = content.get("attachment", {}).get("data")
            if not data:
                continue
            text = base64.b64decode(data).decode("utf-8", errors="replace")
            meta = {"corpus": CORPUS, "annotated_labels": "problem"}
            spans = gold_spans(text, names.get(patient, set()))
            out.append(
                Example(str(res.get("id")), text, spans, group=patient, split="dev", meta=meta)
            )
        if limit and len(out) >= limit:
            break
    return out[:limit] if limit else out
