"""Reader for PHEE (pharmacovigilance event extraction, BRAT) -> one ``Example`` per sentence.

Layout: ``<root>/.../{train,dev}/<pmid>_<n>.txt`` + ``.ann``. Text-bound lines ``T<i>\\t<Type> s e\\ttext``
carry triggers (``Adverse_event``, ``Potential_therapeutic_event``) and arguments (``Subject``,
``Treatment``, ``Effect``, and sub-arguments such as ``Drug``, ``Dosage``, ``Route``). Event lines
``E<i>\\t<Type>:T<trigger> arg:T.. arg2:T..`` link arguments only sometimes (the released "clean"
files mostly leave them unlinked), attributes ``A<i>\\tNegated|Speculated E<i>`` mark modality.

We keep the argument spans (labels lower-cased: ``treatment``, ``effect``, ``drug``, ``subject``),
a ``treatment -> effect`` relation where an event links both, ``label`` = ``adverse_event`` when any
adverse event trigger is present (else ``potential_therapeutic_event``), and the modality attributes
in ``meta``. ``split`` is the official folder; ``group`` is the PubMed id from the file name.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from streamproc.train.examples import Example, Relation, Span

log = logging.getLogger(__name__)

ARGUMENTS = {"Treatment", "Effect", "Drug", "Subject"}
EVENTS = {"Adverse_event", "Potential_therapeutic_event"}
_T = re.compile(r"^(T\d+)\t(\S+) (\d+) (\d+)(?:;\d+ \d+)*\t")


def find_split_dir(data_dir: Path, split: str) -> Path | None:
    """The official ``split`` folder under ``data_dir`` (``phee/data/clean/<split>`` or any depth)."""
    for base in (data_dir, data_dir / "phee"):
        for cand in (base / split, base / "data" / "clean" / split):
            if cand.is_dir() and any(cand.glob("*.ann")):
                return cand
    for cand in sorted(data_dir.rglob(split)):
        if cand.is_dir() and any(cand.glob("*.ann")) and "phee" in str(cand).lower():
            return cand
    return None


def parse_ann(text: str, ann: str, ex_id: str, group: str, split: str) -> Example:
    """One BRAT pair -> ``Example`` (spans whose text does not match the offsets are dropped)."""
    tb: dict[str, tuple[str, int, int]] = {}
    events: list[tuple[str, str, list[str]]] = []
    attrs: dict[str, set[str]] = {}
    for line in ann.splitlines():
        if line.startswith("T"):
            m = _T.match(line)
            if m:
                tb[m.group(1)] = (m.group(2), int(m.group(3)), int(m.group(4)))
        elif line.startswith("E"):
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            fields = parts[1].split()
            etype = fields[0].split(":")[0]
            args = [f.split(":", 1)[1] for f in fields[1:] if ":" in f]
            events.append((parts[0], etype, args))
        elif line.startswith("A"):
            parts = line.split("\t")
            if len(parts) >= 2:
                fields = parts[1].split()
                if len(fields) >= 2:
                    attrs.setdefault(fields[1], set()).add(fields[0])
    spans: list[Span] = []
    index: dict[str, int] = {}
    for tid, (label, start, end) in sorted(tb.items(), key=lambda kv: (kv[1][1], kv[1][2])):
        if label in ARGUMENTS and 0 <= start < end <= len(text):
            index[tid] = len(spans)
            spans.append(Span(start, end, label.lower()))
    relations: list[Relation] = []
    kinds: set[str] = set()
    modality: set[str] = set()
    for eid, etype, args in events:
        if etype not in EVENTS:
            continue
        kinds.add(etype)
        modality |= attrs.get(eid, set())
        treats = [index[a] for a in args if a in index and spans[index[a]].label == "treatment"]
        effects = [index[a] for a in args if a in index and spans[index[a]].label == "effect"]
        for t in treats:
            for e in effects:
                relations.append(Relation(t, e, etype.lower()))
    label = "adverse_event" if "Adverse_event" in kinds else "potential_therapeutic_event"
    return Example(
        id=ex_id,
        text=text,
        spans=tuple(spans),
        relations=tuple(relations),
        group=group,
        split=split,
        label=label,
        meta={"corpus": "phee", "modality": ",".join(sorted(modality))},
    )


def read_phee(data_dir: Path, splits: tuple[str, ...] = ("train", "dev")) -> list[Example]:
    """Read the official PHEE folders found under ``data_dir``."""
    out: list[Example] = []
    for split in splits:
        folder = find_split_dir(data_dir, split)
        if folder is None:
            log.warning("phee split not found", extra={"split": split})
            continue
        for ann_path in sorted(folder.glob("*.ann")):
            txt_path = ann_path.with_suffix(".txt")
            if not txt_path.is_file():
                continue
            text = txt_path.read_text(encoding="utf-8")
            stem = ann_path.stem
            out.append(
                parse_ann(
                    text,
                    ann_path.read_text(encoding="utf-8"),
                    f"phee:{split}:{stem}",
                    stem.split("_")[0],
                    split,
                )
            )
    return out
