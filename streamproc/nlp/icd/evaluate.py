"""Top-1 / top-5 accuracy of the ICD-10-CM coder on the gold TSV (``gold/icd10_gold.tsv``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from streamproc.nlp.icd.coder import IcdCoder


@dataclass(frozen=True)
class GoldPair:
    mention: str
    code: str
    split: str
    source: str
    rule: str


def packaged_gold() -> Path:
    return Path(str(resources.files("streamproc.nlp.icd"))) / "gold" / "icd10_gold.tsv"


def read_gold(path: Path) -> list[GoldPair]:
    """Rows of the gold TSV (``#`` lines are comments; the first other line is the header)."""
    if path.is_dir():
        path = path / "icd10_gold.tsv"
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    rows = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    return [
        GoldPair(
            r["mention"],
            r["code"],
            r.get("split") or "dev",
            r.get("source") or "",
            r.get("rule") or "",
        )
        for r in rows
        if r.get("mention") and r.get("code")
    ]


def evaluate_gold(
    path: Path, split: str = "all", coder: IcdCoder | None = None, errors: int = 0
) -> dict[str, Any]:
    """Accuracy per split (``dev``, ``heldout``, ``heldout-pubmed``) and overall; ``test`` selects
    every held-out split; ``errors`` lists that many misses."""
    coder = coder or IcdCoder()
    pairs = [
        p
        for p in read_gold(path)
        if split in ("all", p.split) or (split == "test" and p.split.startswith("heldout"))
    ]
    by_split: dict[str, list[int]] = {}
    misses: list[dict[str, Any]] = []
    for pair in pairs:
        codes = [c.code for c in coder.code(pair.mention)]
        top1 = int(bool(codes) and codes[0] == pair.code)
        top5 = int(pair.code in codes[:5])
        for key in (pair.split, "all"):
            acc = by_split.setdefault(key, [0, 0, 0])
            acc[0] += 1
            acc[1] += top1
            acc[2] += top5
        if not top1 and len(misses) < errors:
            misses.append({"mention": pair.mention, "gold": pair.code, "got": codes[:5]})
    result: dict[str, Any] = {
        name: {"n": n, "top1": round(t1 / n, 4), "top5": round(t5 / n, 4)}
        for name, (n, t1, t5) in sorted(by_split.items())
        if n
    }
    result["coder_version"] = coder.version
    if errors:
        result["misses"] = misses
    return result
