"""Synthea notes with weak problem gold: the patient's own ``Condition`` names found in the text.

A Synthea export (``DocumentReference.ndjson`` with base64 notes, ``Condition.ndjson`` coded in
SNOMED CT) writes each condition into later notes under its SNOMED display ("Patient has a history
of chronic kidney disease stage 3 (disorder), stress (finding)"). Every case-insensitive,
word-bounded occurrence of one of the patient's condition names without the semantic tag is a
gold ``problem`` span, longest name first; social findings that are no health problem
("full-time employment", "not in labor force") are left out. This is the only note-style entity gold we have: it
measures recall of recorded conditions on notes. Precision is weak (symptoms such as a chief
complaint are problems but no Synthea Condition), so compare models on it, not to a target.
Notes are read by the product's own FHIR parser, so the text is exactly what the pipeline analyses.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streamproc.config import load_settings
from streamproc.ingest.errors import IngestError
from streamproc.ingest.fhir_json import parse_fhir
from streamproc.nlp.entities import SEMANTIC_TAG
from streamproc.records import NoteEvent, SourceRef
from streamproc.train.examples import Example, Span

logger = logging.getLogger(__name__)
# Social findings Synthea records as Conditions that are no health problem (nor one we code):
# work, schooling, income, surroundings. Stress, isolation, abuse and drinking stay in the gold.
_NOT_A_PROBLEM = re.compile(
    r"employment|labor force|education|social contact|violence in the environment|criminal"
    r"|housing|transport|income|refugee|risk activity|armed forces"
)
CORPUS = "synthea-notes"


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        yield from (line for line in f if line.strip())


def condition_names(folder: Path) -> dict[str, set[str]]:
    """Patient reference -> lower-cased condition names without the SNOMED semantic tag."""
    names: dict[str, set[str]] = defaultdict(set)
    for line in _lines(folder / "Condition.ndjson"):
        res: dict[str, Any] = json.loads(line)
        text = res.get("code", {}).get("text") or ""
        name = SEMANTIC_TAG.sub("", text).strip().lower()
        if len(name) >= 3 and not _NOT_A_PROBLEM.search(name):
            names[str(res.get("subject", {}).get("reference", ""))].add(name)
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


def note_events(folder: Path, limit: int | None = None) -> list[NoteEvent]:
    """The notes of ``DocumentReference.ndjson`` in file order, parsed by the product's FHIR
    reader. A resource the parser rejects is skipped and counted in the log."""
    settings = load_settings()
    path = folder / "DocumentReference.ndjson"
    out: list[NoteEvent] = []
    rejected = 0
    for n, line in enumerate(_lines(path)):
        try:
            out.extend(parse_fhir(line, SourceRef(topic=f"file:{path}", offset=n), settings))
        except IngestError:
            rejected += 1
            continue
        if limit and len(out) >= limit:
            break
    if rejected:
        logger.warning(
            "notes the ingest parser rejected were skipped", extra={"rejected": rejected}
        )
    return out[:limit] if limit else out


def read_synthea_notes(folder: Path, limit: int | None = None) -> list[Example]:
    """Notes of ``DocumentReference.ndjson`` in file order, each with its weak problem gold."""
    names = condition_names(folder)
    out: list[Example] = []
    for note in note_events(folder, limit):
        patient = note.patient_ref or ""
        spans = gold_spans(note.text, names.get(patient, set()))
        meta = {"corpus": CORPUS, "annotated_labels": "problem"}
        out.append(Example(note.document_id or note.event_id, note.text, spans,
                           group=patient, split="dev", meta=meta))  # fmt: skip
    return out
