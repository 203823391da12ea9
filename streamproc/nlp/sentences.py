"""Rule-based sentence splitting with character offsets, aware of clinical note layout.

Why rules: the NER model windows and ConText scopes only need sensible boundaries, and a regex
pass over a note costs microseconds. Clinical notes break lines inside sentences (``Name\\n is a
60 year-old``) but also use one line per list item or header, so a newline is a boundary only
when the next line starts a list item or header, the line itself is a header, or a blank line
separates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sentence:
    """A half-open character span ``[start, end)`` of the note text."""

    start: int
    end: int

    def text(self, note: str) -> str:
        return note[self.start : self.end]


# Abbreviations whose trailing period does not end a sentence (lower-cased, without the dot).
_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "vs",
        "e.g",
        "i.e",
        "etc",
        "approx",
        "appt",
        "dept",
        "no",
        "nos",
        "pt",
        "pts",
        "hx",
        "dx",
        "tx",
        "rx",
        "sx",
        "fx",
        "b.i.d",
        "t.i.d",
        "q.i.d",
        "p.o",
        "p.r",
        "q.d",
        "q.h",
        "h.s",
        "a.m",
        "p.m",
        "mg",
        "mcg",
        "ml",
        "kg",
        "cm",
        "mm",
        "min",
        "max",
        "wk",
        "wks",
        "yr",
        "yrs",
        "fig",
        "al",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)

LIST_ITEM = re.compile(  # a list marker opening a line: "- ", "* ", "2. ", "b) "
    r"[ \t]*(?:[-*\u2022+]|\d{1,2}[.)]|[a-z][.)])[ \t]+", re.IGNORECASE
)
_HEADER_LINE = re.compile(
    r"[ \t]*(?:#{1,6}[ \t]*\S.*|[A-Z][A-Za-z /&()-]{1,40}:[ \t]*|[A-Z][A-Z /&()-]{2,40}:?[ \t]*)$"
)
_INLINE_HEADER = re.compile(r"[ \t]*[A-Z][A-Za-z /&()-]{1,40}:[ \t]+\S")
_LIST_MARKER_ONLY = re.compile(r"\s*(?:\d{1,2}|[A-Za-z])[.)]\s*$")
_SENT_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
# What may stand right before a sentence end followed by a lower-case word: a word of three or
# more letters (not an abbreviation) or a reading ("98%", "x3", "120/80").
_PLAIN_WORD_END = re.compile(r"(?<!\S)(?:[A-Za-z][\w/'-]*[A-Za-z]{2}|\S*[0-9%])$")


def _is_header(line: str) -> bool:
    return bool(_HEADER_LINE.match(line))


def _line_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        spans.append((pos, pos + len(stripped)))
        pos += len(line)
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    """Group lines into blocks that a sentence may span (newline-level boundaries)."""
    blocks: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    prev_header = False
    in_list = False
    for start, end in _line_spans(text):
        line = text[start:end]
        if not line.strip():
            if current is not None:
                blocks.append(current)
            current, prev_header, in_list = None, False, False
            continue
        header = _is_header(line)
        list_item = bool(LIST_ITEM.match(line))
        starts_new = (
            current is None
            or prev_header
            or header
            or list_item
            or bool(_INLINE_HEADER.match(line))
            or (in_list and line[:1].isupper())
        )
        if starts_new:
            if current is not None:
                blocks.append(current)
            current = (start, end)
        else:
            assert current is not None
            current = (current[0], end)
        prev_header = header
        if starts_new:
            in_list = list_item
    if current is not None:
        blocks.append(current)
    return blocks


# units that end a sentence after a number ("10 mg."), though "mg." alone is no sentence end
_UNITS = frozenset(["mg", "mcg", "ml", "kg", "cm", "mm", "min", "wk", "wks", "yr", "yrs"])


def _ends_sentence(text: str, dot_start: int) -> bool:
    """False for abbreviations (``Dr.``), initials and decimals."""
    if text[dot_start] != ".":
        return True
    word = re.search(r"([A-Za-z.]+)$", text[max(0, dot_start - 12) : dot_start])
    if word is None:
        return True
    token = word.group(1).lower().strip(".")
    if token in _UNITS and re.search(
        r"\d[ \t]*$", text[max(0, dot_start - len(token) - 8) : dot_start - len(token)]
    ):
        return True  # "increased to 10 mg. Gout flare in March …": a dose ends its sentence
    if token in _ABBREVIATIONS:
        return False
    return not (len(token) == 1 and token.isalpha() and text[dot_start - 1].isupper())


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences with offsets; whitespace at the edges is trimmed."""
    out: list[Sentence] = []
    for b_start, b_end in _blocks(text):
        cursor = b_start
        for m in _SENT_END.finditer(text, b_start, b_end):
            nxt = m.end()
            # Need whitespace then an upper-case letter, digit or list marker to split, or a
            # lower-case word after a plain word or a number (all-lower-case nursing notes:
            # "no basal rate. pt states pain is under control").
            follow = re.match(r"\s+([A-Z0-9(\[\"'-])", text[nxt : min(b_end, nxt + 40)])
            if follow is None and re.match(r"\s+[a-z]", text[nxt : min(b_end, nxt + 3)]):
                follow = _PLAIN_WORD_END.search(text, max(b_start, m.start() - 40), m.start())
                follow = follow if follow and follow.group().lower() not in _ABBREVIATIONS else None
            if follow is None or not _ends_sentence(text, m.start()):
                continue
            if _LIST_MARKER_ONLY.match(text[cursor:nxt]):
                continue
            if _inside_brackets(text, max(cursor, m.start() - 150), m.start()) and _closes(
                text, nxt, b_end
            ):
                continue  # "(WBC < 15 at onset, creatinine at baseline... WBC now 18.9)"
            _append(out, text, cursor, nxt)
            cursor = nxt
        _append(out, text, cursor, b_end)
    return out


def _inside_brackets(text: str, start: int, end: int) -> bool:
    """Whether a bracket opened in ``[start, end)`` is still open at ``end`` (an aside goes on
    past a full stop or an ellipsis inside it)."""
    depth = 0
    for ch in text[start:end]:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
    return depth > 0


def _closes(text: str, start: int, end: int) -> bool:
    """Whether a bracket closes soon after ``start`` on the same line (a nursing note's "( pt
    received this last pm" that never closes is no aside to keep together)."""
    window = text[start : min(end, start + 150)].split("\n", 1)[0]
    return ")" in window and "(" not in window[: window.index(")")]


def _append(out: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end))


def line_bounds(text: str, start: int, end: int | None = None) -> tuple[int, int]:
    """Where the line (or lines) holding ``text[start:end]`` begins and ends, without its
    line breaks; ``end`` defaults to ``start``."""
    line_end = text.find("\n", start if end is None else end)
    return text.rfind("\n", 0, start) + 1, len(text) if line_end < 0 else line_end


def sentence_index(sentences: list[Sentence], offset: int) -> int:
    """Index of the sentence containing ``offset`` (or the nearest one before it); -1 if none."""
    lo, hi = 0, len(sentences) - 1
    found = -1
    while lo <= hi:
        mid = (lo + hi) // 2
        if sentences[mid].start <= offset:
            found = mid
            lo = mid + 1
        else:
            hi = mid - 1
    return found
