"""Eponyms are diseases, not people: "Stevens-Johnson syndrome", "Kaposi sarcoma".

The PHI model tags a few surnames inside disease names as NAMEs ("Stevens" of Stevens-Johnson
syndrome, "Kaposi", "Mallory-Weiss") and "Glasgow" of the Glasgow coma scale as a place; the
surrogate then reads "Tate-Johnson syndrome", and the entity, coding and ADE stages lose the
finding (the severity rules name SJS as always severe). :class:`EponymFilter` drops a NAME or
LOCATION span when the capitalised word group around it is an eponym *and* the word after it is
what that eponym names ("syndrome", "sarcoma", "coma"): "Mr. Parkinson's wife" stays a name,
"Parkinson's disease" is a disease.

The eponyms come from the ICD-10-CM tabular list (capitalised word groups that are hyphenated,
possessive, or capitalised inside a description or an inclusion term) and are shipped in ``conf/eponyms.txt`` with a
few the tabular list does not write (Mallory-Weiss tear, Foley catheter); rebuild the generated
part with ``python -m streamproc.deid.detect.eponyms``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources

from streamproc.deid.types import LOCATION, NAME, PhiSpan

_GROUP = re.compile(r"(?<![\w'’-])([A-Z][a-z]+(?:-[A-Z][a-z]+)*)('s|s'|’s)?[ -]+([a-z]+)")
_NOT_A_HEAD = frozenset(
    [
        "of",
        "and",
        "in",
        "with",
        "without",
        "or",
        "to",
        "the",
        "a",
        "due",
        "for",
        "by",
        "on",
        "at",
        "not",
        "other",
        "unspecified",
        "type",
    ]
)
_WORD_CHARS = re.compile(r"[A-Za-z'’-]")
_AFTER = re.compile(r"(?:'s|s'|’s)?[ \t-]+([A-Za-z]+)")
_POSSESSIVE = re.compile(r"(?:'s|s'|’s)$")
GENERATED_MARK = "# generated from the ICD-10-CM tabular list"


def icd_eponyms() -> dict[str, set[str]]:
    """Eponym word group (lower case) -> the words that follow it in ICD-10-CM descriptions and
    inclusion terms ("Wolff-Parkinson-White syndrome" is an inclusion term of I45.6)."""
    import simple_icd_10_cm as cm

    table: dict[str, set[str]] = {}
    for code in cm.get_all_codes(with_dots=True):
        for phrase in (cm.get_description(code), *cm.get_inclusion_term(code)):
            _scan(phrase, table)
    return table


def _scan(phrase: str, table: dict[str, set[str]]) -> None:
    for m in _GROUP.finditer(phrase):
        group, possessive, head = m.group(1).lower(), m.group(2), m.group(3)
        if head in _NOT_A_HEAD or (m.start() == 0 and "-" not in group and not possessive):
            continue  # a description's first word is capitalised whatever it is
        table.setdefault(group, set()).add(head)


def format_table(table: Mapping[str, set[str]]) -> str:
    return "".join(
        f"{group}\t{','.join(sorted(heads))}\n" for group, heads in sorted(table.items())
    )


def load_eponyms(conf_package: str = "streamproc.deid.conf") -> dict[str, frozenset[str]]:
    """``conf/eponyms.txt``: ``group<TAB>head,head`` lines, both parts (generated and by hand)."""
    text = (resources.files(conf_package) / "eponyms.txt").read_text(encoding="utf-8")
    table: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            group, _, heads = line.partition("\t")
            table.setdefault(group.strip().lower(), set()).update(heads.strip().split(","))
    return {group: frozenset(heads) for group, heads in table.items()}


class EponymFilter:
    """A note-level refiner: drop NAME / LOCATION spans that sit inside an eponymous term."""

    def __init__(self, eponyms: Mapping[str, frozenset[str]] | None = None) -> None:
        self.eponyms = eponyms if eponyms is not None else load_eponyms()

    def is_eponym(self, text: str, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` is (part of) an eponym followed by what it names."""
        while start > 0 and _WORD_CHARS.match(text[start - 1]):
            start -= 1
        while end < len(text) and _WORD_CHARS.match(text[end]) and text[end] != "-":
            end += 1
        while end + 1 < len(text) and text[end] == "-" and text[end + 1].isupper():
            end += 1  # "Stevens" of "Stevens-Johnson"
            while end < len(text) and _WORD_CHARS.match(text[end]) and text[end] != "-":
                end += 1
        group = _POSSESSIVE.sub("", text[start:end].strip("-")).lower()
        heads = self.eponyms.get(group)
        while heads is None and " " in group:
            # a qualifier the span took along: "Classic Hodgkin", "Acute Guillain-Barre"
            group = group.split(None, 1)[1]
            heads = self.eponyms.get(group)
        after = _AFTER.match(text, end)  # the possessive is inside the group already
        if not (heads and after):
            return False
        word = after.group(1).lower()
        return word in heads or word.removesuffix("s") in heads  # "Kernig signs"

    def refine(self, text: str, spans: Sequence[PhiSpan]) -> list[PhiSpan]:
        return [
            s
            for s in spans
            if s.entity_type not in (NAME, LOCATION) or not self.is_eponym(text, s.start, s.end)
        ]


if __name__ == "__main__":  # rebuild the generated part of conf/eponyms.txt
    print(GENERATED_MARK)
    print(format_table(icd_eponyms()), end="")
