"""BRAT standoff (``.txt`` + ``.ann``) reading: text-bound annotations, relations, events.

The ``.txt`` is read with ``newline=""`` so ``\\r\\n`` stays two characters, which is how Chia's
offsets count them. A discontinuous annotation (``start end;start end``) keeps all fragments
in ``BratEntity.fragments``; callers decide (the Chia reader takes the first fragment). When the
offsets do not reproduce the annotated text, the text is searched for within 100 characters and
the nearest occurrence is used; if it is not there the annotation is dropped (and counted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BratEntity:
    id: str
    label: str
    start: int
    end: int
    text: str
    fragments: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class BratRelation:
    id: str
    label: str
    args: tuple[tuple[str, str], ...]  # (role, entity id)


@dataclass
class BratDoc:
    id: str
    text: str
    entities: dict[str, BratEntity] = field(default_factory=dict)
    relations: list[BratRelation] = field(default_factory=list)
    attributes: dict[str, set[str]] = field(default_factory=dict)  # entity id -> attribute names
    dropped: int = 0


def _realign(text: str, start: int, end: int, surface: str) -> tuple[int, int] | None:
    if text[start:end] == surface:
        return start, end
    lo = max(0, start - 100)
    best: int | None = None
    i = text.find(surface, lo)
    while i >= 0 and i <= start + 100:
        if best is None or abs(i - start) < abs(best - start):
            best = i
        i = text.find(surface, i + 1)
    return (best, best + len(surface)) if best is not None else None


def read_brat(txt_path: Path) -> BratDoc:
    txt_path = Path(txt_path)
    ann_path = txt_path.with_suffix(".ann")
    if not ann_path.is_file():
        raise FileNotFoundError(f"BRAT annotation file not found: {ann_path}")
    with open(txt_path, encoding="utf-8", newline="") as f:
        text = f.read()
    doc = BratDoc(txt_path.stem, text)
    with open(ann_path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for line in lines:
        if not line.strip():
            continue
        parts = line.split("\t")
        tid = parts[0]
        if tid.startswith("T") and len(parts) >= 3:
            label, _, offs = parts[1].partition(" ")
            try:
                frags = tuple((int(a), int(b)) for a, b in (f.split() for f in offs.split(";")))
            except ValueError:
                doc.dropped += 1
                continue
            surface = parts[2]
            if len(frags) == 1:
                aligned = _realign(text, frags[0][0], frags[0][1], surface)
                if aligned is None:
                    doc.dropped += 1
                    continue
                frags = (aligned,)
            else:
                first_len = frags[0][1] - frags[0][0]
                aligned = _realign(text, frags[0][0], frags[0][1], surface[:first_len])
                if aligned is None:
                    doc.dropped += 1
                    continue
                shift = aligned[0] - frags[0][0]
                frags = tuple((a + shift, b + shift) for a, b in frags)
            doc.entities[tid] = BratEntity(
                tid, label, frags[0][0], frags[0][1], text[frags[0][0] : frags[0][1]], frags
            )
        elif tid.startswith("R") and len(parts) >= 2:
            label, *args = parts[1].split()
            roles = tuple(tuple(a.split(":", 1)) for a in args if ":" in a)
            doc.relations.append(BratRelation(tid, label, roles))  # type: ignore[arg-type]
        elif tid.startswith("*") and len(parts) >= 2:
            label, *ids = parts[1].split()
            doc.relations.append(BratRelation(tid, label, tuple(("Arg", i) for i in ids)))
        elif tid.startswith("E") and len(parts) >= 2:
            trig, *args = parts[1].split()
            label, _, trig_id = trig.partition(":")
            roles = tuple(tuple(a.split(":", 1)) for a in args if ":" in a)
            doc.relations.append(BratRelation(tid, label, (("Trigger", trig_id), *roles)))  # type: ignore[arg-type]
        elif tid.startswith("A") and len(parts) >= 2:
            name, *rest = parts[1].split()
            if rest:
                doc.attributes.setdefault(rest[0], set()).add(name)
    return doc


def read_brat_dir(folder: Path) -> list[BratDoc]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"BRAT folder not found: {folder}")
    docs = [read_brat(p) for p in sorted(folder.glob("*.txt")) if p.with_suffix(".ann").is_file()]
    dropped = sum(d.dropped for d in docs)
    if dropped:
        logger.info("brat annotations dropped", extra={"folder": str(folder), "dropped": dropped})
    return docs
