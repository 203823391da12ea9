"""The NER training/evaluation corpora in the product's scheme (problem, test, treatment, drug).

``DIR`` is a folder like ``../shared/data/ner`` with any of ``bc5cdr/``, ``ncbi/`` (IOB ``.tsv``)
and ``chia/`` (BRAT). Every example carries ``meta["corpus"]`` and ``meta["annotated_labels"]``:
BC5CDR annotates problem (Disease) and drug (Chemical), NCBI only problem (Disease), Chia all
four. Scores per corpus are computed on its annotated labels only, and training treats an
unannotated label as unknown rather than ``O`` (see ``streamproc.train.core``).

Splits: ``train`` (``train.tsv``, Chia train trials), ``dev`` (``devel.tsv``/``dev.tsv``, Chia
dev trials), ``test`` (``test.tsv`` where present), ``all`` (every file). A folder that holds
``.tsv`` files or BRAT pairs directly (a user's own corpus) is read as one corpus named after it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from streamproc.train.datasets.chia import read_chia
from streamproc.train.datasets.conll import read_iob_file
from streamproc.train.examples import Example

logger = logging.getLogger(__name__)

NER_LABELS = ["problem", "test", "treatment", "drug"]

# Source label (case-insensitive) -> product label.
LABEL_MAP = {
    "disease": "problem",
    "diseaseclass": "problem",
    "specificdisease": "problem",
    "compositemention": "problem",
    "modifier": "problem",
    "chemical": "drug",
    "drug": "drug",
    "problem": "problem",
    "condition": "problem",
    "test": "test",
    "measurement": "test",
    "treatment": "treatment",
    "procedure": "treatment",
}

CORPUS_LABELS = {"bc5cdr": "problem,drug", "ncbi": "problem", "chia": ",".join(NER_LABELS)}
SPLIT_FILES = {
    "train": ["train.tsv"],
    "dev": ["devel.tsv", "dev.tsv"],
    "test": ["test.tsv"],
    "all": ["train.tsv", "devel.tsv", "dev.tsv", "test.tsv"],
}


def map_label(label: str) -> str | None:
    return LABEL_MAP.get(label.lower())


def _iob_corpus(folder: Path, name: str, split: str) -> list[Example]:
    out: list[Example] = []
    files = SPLIT_FILES.get(split, [])
    paths = [folder / f for f in files if (folder / f).is_file()]
    if split == "all":
        paths = sorted(folder.glob("*.tsv"))
    for p in paths:
        s = (
            "dev"
            if p.stem in ("devel", "dev")
            else p.stem
            if p.stem in ("train", "test")
            else "train"
        )
        out += read_iob_file(
            p,
            split=s,
            prefix=f"{name}/{p.stem}",
            label_map=map_label,
            meta={
                "corpus": name,
                "annotated_labels": CORPUS_LABELS.get(name, ",".join(NER_LABELS)),
            },
        )
    return out


def read_ner_corpora(
    data: Path, split: str = "train", corpora: list[str] | None = None
) -> list[Example]:
    """All NER examples of ``split`` found under ``data``."""
    data = Path(data)
    if not data.is_dir():
        raise FileNotFoundError(f"data folder not found: {data}")
    wanted = corpora or ["bc5cdr", "ncbi", "chia"]
    out: list[Example] = []
    for name in wanted:
        folder = data / name
        if not folder.is_dir():
            continue
        if name == "chia" or any(folder.glob("*.ann")):
            if split in ("train", "dev", "all"):
                out += read_chia(folder, split)
        else:
            out += _iob_corpus(folder, name, split)
    if not out:
        # a user's own corpus directly in DIR
        if any(data.glob("*.ann")):
            exs = read_chia(data, "all")
            out = [
                Example(
                    e.id,
                    e.text,
                    e.spans,
                    e.relations,
                    e.group,
                    e.split,
                    e.label,
                    {**e.meta, "corpus": data.name},
                )
                for e in exs
            ]
        elif any(data.glob("*.tsv")):
            out = _iob_corpus(data, data.name, split if split != "all" else "all")
    if not out:
        raise FileNotFoundError(f"no NER corpus files for split {split!r} under {data}")
    return out
