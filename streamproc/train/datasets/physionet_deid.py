"""Reader for the PhysioNet de-identification gold standard (nursing notes) -> ``Example``s.

Layout (see ``shared/data/README.md``): ``id.text`` holds records
``START_OF_RECORD=<patient>||||<note>||||\\n<body>||||END_OF_RECORD`` and ``id-phi.phrase`` holds one
PHI fragment per line, ``patient note start end TYPE phrase``, with character offsets into the body.
Multi-word PHI is often annotated word by word; :func:`merge_fragments` joins fragments of one type
separated only by spaces/punctuation so span-level scores count a name or an address once.

Split: patients (``group``) are sorted, shuffled with ``random.Random(SPLIT_SEED)`` and the first
``DEV_FRACTION`` of them go to ``dev``; everything else is ``train``. The split never changes
unless ``SPLIT_SEED``/``DEV_FRACTION`` change, so dev figures are comparable across runs.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from streamproc.train.examples import Example, Span

SPLIT_SEED = 20240601
DEV_FRACTION = 0.2

_HEADER = re.compile(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n")
_END = "||||END_OF_RECORD"
_GAP = re.compile(r"[\s.,'\-]*")  # what may sit between two fragments of one span


def read_records(path: Path) -> Iterator[tuple[str, str, str]]:
    """Yield ``(patient, note, body)`` from ``id.text`` in file order."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    for match in _HEADER.finditer(raw):
        start = match.end()
        end = raw.find(_END, start)
        if end < 0:
            end = len(raw)
        yield match.group(1), match.group(2), raw[start:end]


def read_phi(path: Path) -> dict[tuple[str, str], list[Span]]:
    """PHI fragments keyed by ``(patient, note)``."""
    out: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 5:
            continue
        patient, note, start, end, label = parts[:5]
        out[(patient, note)].append(Span(int(start), int(end), label))
    return out


def merge_fragments(text: str, spans: list[Span]) -> tuple[Span, ...]:
    """Join same-type fragments separated only by spaces/punctuation (e.g. ``DAN A FORMAN``)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged:
            last = merged[-1]
            gap = text[last.end : span.start] if span.start >= last.end else ""
            if span.start <= last.end or (
                _canon(last.label) == _canon(span.label)
                and len(gap) <= 3
                and _GAP.fullmatch(gap)
                and "\n" not in gap
            ):
                merged[-1] = Span(last.start, max(last.end, span.end), last.label)
                continue
        merged.append(span)
    return tuple(merged)


def _canon(label: str) -> str:
    from streamproc.deid.types import canonical_type  # local: keeps the reader import-light

    return canonical_type(label)


def split_of(patient: str, patients: list[str]) -> str:
    """Deterministic, patient-grouped split (see module docstring)."""
    order = sorted(set(patients), key=int)
    random.Random(SPLIT_SEED).shuffle(order)
    dev = set(order[: max(1, round(len(order) * DEV_FRACTION))])
    return "dev" if patient in dev else "train"


def read_corpus(data_dir: Path, split: str | None = None, merge: bool = True) -> list[Example]:
    """All notes of the corpus as ``Example``s (optionally one split only)."""
    data_dir = Path(data_dir)
    if (data_dir / "deid").is_dir() and not (data_dir / "id.text").exists():
        data_dir = data_dir / "deid"
    phi = read_phi(data_dir / "id-phi.phrase")
    records = list(read_records(data_dir / "id.text"))
    patients = [p for p, _, _ in records]
    order = sorted(set(patients), key=int)
    random.Random(SPLIT_SEED).shuffle(order)
    dev = set(order[: max(1, round(len(order) * DEV_FRACTION))])
    examples: list[Example] = []
    for patient, note, body in records:
        which = "dev" if patient in dev else "train"
        if split is not None and which != split:
            continue
        spans = [s for s in phi.get((patient, note), []) if 0 <= s.start < s.end <= len(body)]
        examples.append(
            Example(
                id=f"{patient}-{note}",
                text=body,
                spans=merge_fragments(body, spans)
                if merge
                else tuple(sorted(spans, key=lambda s: s.start)),
                group=patient,
                split=which,
                meta={"patient": patient, "note": note, "corpus": "physionet-deid"},
            )
        )
    return examples
