"""Reader for ADE-Corpus-V2 (Gurulingappa et al. 2012) -> one ``Example`` per sentence.

``DRUG-AE.rel`` rows are ``pmid|sentence|effect|start|end|drug|start|end`` with offsets into the
whole abstract, not the sentence. We relocate every mention inside its sentence: each occurrence
of a mention votes for a sentence start offset (``doc_start - local_start``), the offset with most
votes across all mentions of that sentence wins, and each mention takes the occurrence that agrees
with it (or, failing that, the occurrence nearest to it). That resolves repeated words ("rash ...
rash") the way the annotator meant them.

Rows are grouped by ``(pmid, sentence)``: a sentence with several drug/effect pairs is one example
with several spans (labels ``drug`` / ``effect``) and ``ADE`` relations (head drug, tail effect).
``ADE-NEG.txt`` sentences become examples with no spans and ``label="none"``.

Split: PubMed ids (``group``) are sorted, shuffled with ``random.Random(SPLIT_SEED)`` and the first
``DEV_FRACTION`` go to ``dev``, so no abstract is on both sides and dev never changes between runs.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from streamproc.train.examples import Example, Relation, Span

log = logging.getLogger(__name__)

SPLIT_SEED = 20240606
DEV_FRACTION = 0.15
POSITIVE = "ade"
NEGATIVE = "none"


@dataclass(frozen=True)
class _Mention:
    text: str
    doc_start: int
    label: str


def _occurrences(sentence: str, needle: str) -> list[int]:
    """Every start of ``needle`` in ``sentence`` (case-sensitive first, then case-insensitive)."""
    for hay, pin in ((sentence, needle), (sentence.lower(), needle.lower())):
        found: list[int] = []
        pos = hay.find(pin)
        while pos >= 0:
            found.append(pos)
            pos = hay.find(pin, pos + 1)
        if found:
            return found
    return []


def locate(sentence: str, mentions: list[_Mention]) -> list[Span | None]:
    """Map document-level mentions to sentence offsets (None where the text is not in it)."""
    votes: Counter[int] = Counter()
    occ = [_occurrences(sentence, m.text) for m in mentions]
    for mention, starts in zip(mentions, occ, strict=True):
        for local in set(starts):
            votes[mention.doc_start - local] += 1
    shift = min(votes, key=lambda s: (-votes[s], abs(s))) if votes else 0
    spans: list[Span | None] = []
    for mention, starts in zip(mentions, occ, strict=True):
        if not starts:
            spans.append(None)
            continue
        want = mention.doc_start - shift
        local = min(starts, key=lambda s: abs(s - want))
        spans.append(Span(local, local + len(mention.text), mention.label))
    return spans


def split_for(groups: list[str]) -> dict[str, str]:
    """Seeded grouped split: the same groups always land on the same side."""
    ordered = sorted(set(groups))
    random.Random(SPLIT_SEED).shuffle(ordered)
    n_dev = max(1, round(len(ordered) * DEV_FRACTION)) if len(ordered) > 1 else 0
    return {g: ("dev" if i < n_dev else "train") for i, g in enumerate(ordered)}


def _sid(pmid: str, sentence: str) -> str:
    return f"ade:{pmid}:{hashlib.sha1(sentence.encode('utf-8')).hexdigest()[:10]}"


def read_ade(data_dir: Path) -> list[Example]:
    """Read ``DRUG-AE.rel`` and ``ADE-NEG.txt`` under ``data_dir`` (the folder, or its parent)."""
    root = data_dir / "ade" if (data_dir / "ade" / "DRUG-AE.rel").is_file() else data_dir
    rows: dict[tuple[str, str], list[tuple[_Mention, _Mention]]] = defaultdict(list)
    for line in (root / "DRUG-AE.rel").read_text(encoding="utf-8").splitlines():
        parts = line.split("|")
        if len(parts) < 8:
            continue
        pmid, sentence = parts[0], parts[1]
        effect, e_start, drug, d_start = parts[2], parts[3], parts[5], parts[6]
        try:
            pair = (
                _Mention(drug, int(d_start), "drug"),
                _Mention(effect, int(e_start), "effect"),
            )
        except ValueError:
            continue
        rows[(pmid, sentence)].append(pair)

    negatives: dict[tuple[str, str], None] = {}
    neg_path = root / "ADE-NEG.txt"
    if neg_path.is_file():
        for line in neg_path.read_text(encoding="utf-8").splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[1] == "NEG" and (parts[0], parts[2]) not in rows:
                negatives[(parts[0], parts[2])] = None

    sides = split_for([p for p, _ in rows] + [p for p, _ in negatives])
    examples: list[Example] = []
    lost = 0
    for (pmid, sentence), pairs in rows.items():
        flat = [m for pair in pairs for m in pair]
        located = locate(sentence, flat)
        spans: list[Span] = []
        index: dict[Span, int] = {}
        relations: list[Relation] = []
        for i in range(0, len(located), 2):
            d_span, e_span = located[i], located[i + 1]
            if d_span is None or e_span is None:
                lost += 1
                continue
            for span in (d_span, e_span):
                if span not in index:
                    index[span] = len(spans)
                    spans.append(span)
            rel = Relation(index[d_span], index[e_span], "ADE")
            if rel not in relations:
                relations.append(rel)
        examples.append(
            Example(
                id=_sid(pmid, sentence),
                text=sentence,
                spans=tuple(spans),
                relations=tuple(relations),
                group=pmid,
                split=sides[pmid],
                label=POSITIVE if relations else NEGATIVE,
                meta={"corpus": "ade"},
            )
        )
    for pmid, sentence in negatives:
        examples.append(
            Example(
                id=_sid(pmid, sentence),
                text=sentence,
                group=pmid,
                split=sides[pmid],
                label=NEGATIVE,
                meta={"corpus": "ade"},
            )
        )
    if lost:
        log.warning("ade pairs not found in their sentence", extra={"pairs": lost})
    return examples


def iter_split(examples: list[Example], split: str) -> Iterator[Example]:
    return (e for e in examples if e.split == split)
