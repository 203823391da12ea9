"""IOB ``token TAB tag`` files (BC5CDR, NCBI-disease as distributed here) -> ``Example``s.

Sentences are separated by blank lines; the text of a sentence is its tokens joined with single
spaces, so span offsets are exact in the rebuilt text. The files carry no document ids, so each
sentence is its own example and group (``<file>:<n>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from streamproc.evaluate.metrics import iob_to_spans
from streamproc.train.examples import Example, Span


def read_iob_sentences(path: Path) -> Iterator[tuple[list[str], list[str]]]:
    """Yield (tokens, tags) per sentence. Lines without a tab are taken as tag ``O``."""
    tokens: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if tokens:
                    yield tokens, tags
                tokens, tags = [], []
                continue
            tok, _, tag = line.partition("\t")
            tokens.append(tok)
            tags.append(tag.strip() or "O")
    if tokens:
        yield tokens, tags


def sentence_example(
    tokens: list[str],
    tags: list[str],
    ex_id: str,
    *,
    label_map: Callable[[str], str | None] = lambda x: x,
    split: str = "train",
    meta: dict[str, str] | None = None,
) -> Example:
    """Rebuild ``" ".join(tokens)`` and turn IOB chunks into character spans."""
    starts, pos = [], 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    text = " ".join(tokens)
    spans = []
    for a, b, lab in iob_to_spans(tags):
        mapped = label_map(lab)
        if mapped is None:
            continue
        spans.append(Span(starts[a], starts[b - 1] + len(tokens[b - 1]), mapped))
    return Example(ex_id, text, tuple(spans), group=ex_id, split=split, meta=dict(meta or {}))


def read_iob_file(
    path: Path,
    *,
    split: str = "train",
    prefix: str = "",
    label_map: Callable[[str], str | None] = lambda x: x,
    meta: dict[str, str] | None = None,
) -> list[Example]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IOB file not found: {path}")
    pre = prefix or path.stem
    return [
        sentence_example(toks, tags, f"{pre}:{i}", label_map=label_map, split=split, meta=meta)
        for i, (toks, tags) in enumerate(read_iob_sentences(path))
    ]
