"""Note-level corrections applied around the recognizers and the PHI model.

Two things a span-by-span detector cannot know:

- :class:`NamePropagation`: a name found once in a note is a name everywhere in that note. Notes
  name a relative or clinician once with context ("dtr suzette", "Radu Crosson (son)") and later
  bare ("suzette called", "Radu wishes to…"); the bare mentions give a recognizer nothing to go on.
- :class:`ModelSpanFilter`: the PHI model learned that rare words are names, so it also tags
  misspellings ("visisted", "rhonchorous") and ordinary clinical words ("quinton", "klebsiella").
  A model NAME span is dropped when every word is an ordinary word of clinical notes, or when it
  is written in lower case in a mixed-case note and no word is a known first or last name,
  unless a relation word comes just before it ("son rob", "daughters sarah and margie").
  A model AGE span under 90 is dropped: only ages over 89 are Safe Harbor identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from streamproc.deid.detect.lexicons import Lexicons
from streamproc.deid.detect.recognizers.date import DateRecognizer
from streamproc.deid.types import (
    AGE,
    DATE,
    ID,
    LOCATION,
    NAME,
    PHONE,
    SAFE_HARBOR_MIN_AGE,
    PhiSpan,
)


def _valid_yyyymmdd(value: str) -> bool:
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return 1900 <= int(value[:4]) <= 2099


_PIECE_BREAK = re.compile(r",|[ \t]{2}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_TIME_BEFORE = re.compile(r"(?:\bat|@|\bby)\s*$")
_INITIAL = re.compile(r"[A-Za-z]\.\s*[A-Za-z]")
_MONTH_DAY = re.compile(r"\d{1,2}/\d{1,2}")
_NUMBER = re.compile(r"\d+")
_ACRONYM = re.compile(r"[A-Z]{2,5}")
_NUMBERED = re.compile(r"-?\d")
_OBSTETRIC = re.compile(r"[Gg]\d{1,2}[ \t]*[Pp]\d{1,4}(?:[-,][ \t]?\d{1,2}){0,3}")


def upper_share(text: str) -> float:
    """Share of the letters that are capitals (0 for a text without letters)."""
    letters = sum(c.isalpha() for c in text)
    return sum(c.isupper() for c in text) / max(1, letters)


def is_caps_note(text: str) -> bool:
    """Notes typed in capitals give case no meaning."""
    return upper_share(text) > 0.6


def case_is_informative(text: str) -> bool:
    """Mixed-case text: capitals mark names. Not in notes typed in capitals or all lower case."""
    return 0.02 < upper_share(text) < 0.6


class NamePropagation:
    """Mark every other mention, in the same note, of a word already detected as a name."""

    def __init__(self, lexicons: Lexicons, min_length: int = 3, score: float = 0.65) -> None:
        self.lex = lexicons
        self.min_length = min_length
        self.score = score

    def _propagates(self, word: str) -> bool:
        low = word.lower().strip("'’")
        if len(low) < self.min_length or low in self.lex.stop_words:
            return False
        return low not in self.lex.common_words or low in self.lex.names

    def refine(self, text: str, spans: Sequence[PhiSpan]) -> list[PhiSpan]:
        words = {
            m.group().lower().strip("'’")
            for s in spans
            if s.entity_type == NAME
            for m in _WORD.finditer(text, s.start, s.end)
            if self._propagates(m.group())
        }
        if not words:
            return list(spans)
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
        covered = sorted((s.start, s.end) for s in spans)
        extra = [
            PhiSpan(m.start(), m.end(), NAME, self.score, "name_propagation")
            for m in pattern.finditer(text)
            if not any(a <= m.start() and m.end() <= b for a, b in covered)
        ]
        return [*spans, *extra]


# endings of diagnoses and procedures ("glioblastoma", "cholangitis", "nephropathy",
# "cholecystectomy", "thrombocytopenia", "hepatomegaly")
CLINICAL_ENDING = re.compile(
    # not "-aitis" / "-ytis": Lithuanian surnames (a "BAKAITIS" of the PhysioNet gold)
    r"(?:oma|omas|(?<![ay])itis|osis|emia|aemia|pathy|plasia|trophy|ectomy|otomy|ostomy|plasty|algia"
    r"|rrhea|rrhoea|megaly|penia|cytosis|plegia|paresis|lysis|scopy|gram|graphy"
    # a service or specialty ("Endocrinology Urgent Visit" became "Wagner Flynn Visit")
    r"|ology|ologist|iatry|iatrics|ediatrics|opedics|etrics)$"
)


class ModelSpanFilter:
    """Drop PHI-model NAME and LOCATION spans that are drug names, NAME spans that are ordinary
    words or lower-case non-names, DATE spans
    that are bare numbers (a lab value "9" of "9.2", a clock time "0320", a setting "10") and
    LOCATION spans that are a state or country and AGE spans under 90 (neither is a Safe Harbor
    identifier)."""

    def __init__(self, lexicons: Lexicons) -> None:
        self.lex = lexicons
        self._relations = frozenset(r.lower() for r in lexicons.relations)
        self._ordinary = lexicons.common_words | lexicons.stop_words

    def _after_relation(self, text: str, start: int) -> bool:
        """ "son rob", "daughters sarah and margie", "husband, milovan": context says name."""
        before = [
            w.lower().removesuffix("'s") for w in _WORD.findall(text[max(0, start - 40) : start])
        ]
        return any(w in self._relations for w in before[-4:])

    @staticmethod
    def _bare_number(text: str, span: PhiSpan) -> bool:
        value = text[span.start : span.end].strip(" .,-/")
        if not value.isdigit():
            return False
        before = text[max(0, span.start - 4) : span.start].lower()
        if len(value) == 4 and 1900 <= int(value) <= 2059 and not _TIME_BEFORE.search(before):
            return False  # a year ("at 2000" is a clock time)
        return len(value) <= 4

    def keep(self, text: str, span: PhiSpan, caps_note: bool) -> bool:
        if _OBSTETRIC.fullmatch(text, span.start, span.end):
            return False  # "53-year-old G2P2": gravidity and parity, not a place
        if _ACRONYM.fullmatch(text, span.start, span.end) and _NUMBERED.match(text, span.end):
            return False  # "GLP-1 receptor agonist", "SGLT2", "IL-6": a drug class or a molecule
        if span.entity_type == AGE:
            # The model tags "73 y/o" as an age too; Safe Harbor aggregates only ages over 89.
            number = _NUMBER.search(text, span.start, span.end)
            return number is None or int(number.group()) >= SAFE_HARBOR_MIN_AGE
        if span.entity_type == DATE:
            value = text[span.start : span.end].strip()
            if not any(ch.isalnum() for ch in value):
                return False  # the "/" of a dose "24/26 mg" alone: no date at all
            if len(value) <= 2 and not any(ch.isdigit() for ch in value):
                return False  # "a" of "after a fall at home": no date either
            if DateRecognizer.is_test_name(text, span.start, span.end):
                return False  # "SD-OCT", "10-2 visual fields"
            if _MONTH_DAY.fullmatch(text, span.start, span.end):
                # the rules' own test: "pain 8/10", "PSV 15/5" are not dates
                return not DateRecognizer.md_is_score_or_setting(text, span.start, span.end)
            return not self._bare_number(text, span)
        if span.entity_type == PHONE:
            return not self._bare_number(text, span)  # "0747": a clock time, not a number to dial
        if span.entity_type in (NAME, LOCATION) and (
            self._drug_name(text, span) or self._clinical_term(text, span)
        ):
            return False
        if span.entity_type == LOCATION:
            place = " ".join(text[span.start : span.end].lower().strip(" .,").split())
            if place in self.lex.not_phi_places:
                return False
            words = [m.group().lower() for m in _WORD.finditer(text, span.start, span.end)]
            # "ST" (sinus tachycardia), "TAN sputum", "last eve": ordinary words, not places
            return not all(w in self._ordinary for w in words)
        if span.entity_type != NAME or self._after_relation(text, span.start):
            return True
        words = [m.group().lower().strip("'’") for m in _WORD.finditer(text, span.start, span.end)]
        words = [w for w in words if len(w) > 1]
        if not words:
            return True
        if all(w in self._ordinary for w in words):
            return False
        value = text[span.start : span.end]
        if _INITIAL.match(value):
            return True  # "d. renna": an initial and a word is how notes write a colleague
        if not caps_note and value.islower():
            return any(w in self.lex.names for w in words)
        return True

    def _drug_name(self, text: str, span: PhiSpan) -> bool:
        """A medication, not a person or a place: "atropine given with improvement, glucagon, admit
        to CCU" lost its glucagon to a surrogate town. Never when a word is also a known name or
        place ("Allegra" is both a brand and a first name)."""
        words = [m.group().lower() for m in _WORD.finditer(text, span.start, span.end)]
        return bool(words) and all(
            w in self.lex.drug_names and w not in self.lex.names and w not in self.lex.places
            for w in words
        )

    def _clinical_term(self, text: str, span: PhiSpan) -> bool:
        """A diagnosis or procedure by its Greek or Latin ending, not a person: "1. Glioblastoma,
        left frontal" became "Harmony" (and, propagated, every "glioblastoma" of the note).
        Seven letters or more, and never a known name or place; an ordinary word may stand
        beside one ("Endocrinology Urgent" of a title line)."""
        words = [m.group().lower() for m in _WORD.finditer(text, span.start, span.end)]
        clinical = [
            len(w) >= 7
            and CLINICAL_ENDING.search(w) is not None
            and w not in self.lex.names
            and w not in self.lex.places
            for w in words
        ]
        return any(clinical) and all(
            is_clinical or w in self._ordinary
            for w, is_clinical in zip(words, clinical, strict=True)
        )

    def _comma_pieces(self, text: str, span: PhiSpan) -> list[PhiSpan]:
        """A NAME span read across commas, cut to its pieces where one is a clinical word or an
        ordinary one: "Dr. Susan Pratt, Rheumatology, Valley View Arthritis Center" had been one
        name, and "rheumatology", propagated, a surrogate name all through the note. A span
        whose every piece may be a name stays whole ("Pratt, Susan"). A gap of spaces between
        header fields cuts too: "Dr. Hyun-woo Bae   Referred by: …" had made "Referred" a name."""
        if span.entity_type != NAME or not _PIECE_BREAK.search(text, span.start, span.end):
            return [span]
        pieces = []
        for m in re.finditer(r"(?:(?![ \t]{2})[^,])+", text[span.start : span.end]):
            lead = len(m.group()) - len(m.group().lstrip())
            s, e = span.start + m.start() + lead, span.start + m.start() + len(m.group().rstrip())
            if e > s:
                pieces.append(replace(span, start=s, end=e))
        words = [[w.group().lower() for w in _WORD.finditer(text, p.start, p.end)] for p in pieces]
        kept = [
            p
            for p, ws in zip(pieces, words, strict=True)
            if ws and not self._clinical_term(text, p) and not all(w in self._ordinary for w in ws)
        ]
        return kept if len(kept) < len(pieces) else [span]

    def filter(self, text: str, spans: Sequence[PhiSpan]) -> list[PhiSpan]:
        caps = is_caps_note(text)
        pieces = [
            self._number_as_id(text, _after_test_name(text, p))
            for s in spans
            for p in self._comma_pieces(text, s)
        ]
        return [s for s in pieces if self.keep(text, s, caps)]

    @staticmethod
    def _number_as_id(text: str, span: PhiSpan) -> PhiSpan:
        """A "date" of seven or more bare digits that no calendar reads ("MRN 19957203") is a
        number: as a date its surrogate failed and the note read "MRN [DATE]"."""
        value = text[span.start : span.end]
        if span.entity_type != DATE or not (value.isdigit() and len(value) >= 7):
            return span
        if len(value) == 8 and _valid_yyyymmdd(value):
            return span
        return replace(span, entity_type=ID)


def _after_test_name(text: str, span: PhiSpan) -> PhiSpan:
    """A model DATE span that starts with a test named like a month ("OCT 09/2025": optical
    coherence tomography, then its date) keeps the date alone; whole, its surrogate failed and
    the note read "last [DATE] normal"."""
    if span.entity_type != DATE or not text.startswith("OCT", span.start):
        return span
    test = re.match(r"OCT[ \t]+", text[span.start : span.end])
    if test is None or not DateRecognizer.is_test_name(text, span.start, span.start + 3):
        return span
    return replace(span, start=span.start + test.end())
