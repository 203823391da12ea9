"""The one typed example format every corpus reader yields and every trainer/evaluator reads.

Spans are character offsets into ``text`` (end exclusive). ``group`` is the unit that must not be
split across train/dev (patient for de-id notes, PubMed abstract for ADE), so splits are grouped.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Relation:
    head: int  # index into Example.spans
    tail: int
    label: str


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    spans: tuple[Span, ...] = ()
    relations: tuple[Relation, ...] = ()
    group: str = ""
    split: str = "train"  # train | dev | test
    label: str | None = None  # sentence/document-level label where the corpus has one
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
