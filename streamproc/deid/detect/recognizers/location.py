"""Hospitals, institutions and places: facility patterns ("Union Hospital" -> "Union"),
known facility names/abbreviations (GH, VAMC) and cities/states/countries from a lexicon.

The generic word ("Hospital", "Rehab") stays outside the span: it identifies nobody and keeping it
preserves readability after replacement.
"""

from __future__ import annotations

import re
from typing import ClassVar

from streamproc.deid.detect.lexicons import Lexicons
from streamproc.deid.detect.recognizer import Recognizer
from streamproc.deid.detect.refine import CLINICAL_ENDING, case_is_informative
from streamproc.deid.types import LOCATION, PhiSpan


def _phrase_regex(phrases: frozenset[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alts = "|".join(
        re.escape(p).replace(r"\ ", r"\s+") for p in sorted(phrases, key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w-])(?:{alts})(?![A-Za-z-])", re.IGNORECASE)


class LocationRecognizer(Recognizer):
    name = "location"
    ENTITY_TYPE = LOCATION
    LEAD_STOP: ClassVar[frozenset[str]] = frozenset(
        {"to", "from", "at", "in", "the", "a", "an", "of", "and", "or", "by", "for", "with", "went",
         "transferred", "transfer", "admitted", "discharged", "sent", "seen", "via", "osh", "outside",
         "pt", "patient", "was", "is", "this", "that", "his", "her", "their", "our", "local", "other",
         "rehab", "hospital", "hosp", "into", "back", "home", "nursing", "another", "same", "d/c",
         "dc'd", "came", "come", "returned", "return", "brought", "taken", "taking", "called",
         "on", "then", "now", "after", "before", "while", "when", "will", "would", "may", "go",
         "going", "he", "she", "they", "who", "which", "as", "had", "has", "have", "been", "be",
         "also", "per", "s/p", "w/", "w", "yesterday", "today", "last", "first", "one", "two",
         "community", "state", "private", "psych", "psychiatric", "city", "county", "area", "there",
         "visiting", "living", "lives", "resident", "ho", "md", "dr", "team", "cardiology", "er",
         "ed", "icu", "ccu", "micu", "floor", "unit", "acute", "chronic", "long", "term", "short",
         "skilled", "facility", "level", "care", "all", "any", "not", "no", "rehabilitation"}
    )  # fmt: skip

    def __init__(self, lexicons: Lexicons) -> None:
        self.lex = lexicons
        suffixes = "|".join(
            re.escape(s).replace(r"\ ", r"\s+")
            for s in sorted(lexicons.facility_suffixes, key=len, reverse=True)
        )
        word = r"(?:St\.?|[A-Za-z][A-Za-z'’.-]*)"
        self._facility = re.compile(
            rf"(?P<phi>{word}(?:[ \t]+{word}){{0,3}})[ \t]+(?i:{suffixes})(?![A-Za-z])"
        )
        self._saint = re.compile(
            r"\b(?:(?i:st\.|saint)\s+[A-Za-z]{2,}|St\s+[A-Z][a-z]+)(?:'s)?(?![\w])"
        )
        # what follows says a place or an employer comes next: "lives alone in white marsh",
        # "works for Genentech", "CEO of IBM"
        self._context = re.compile(
            r"\b(?i:(?:lives|living|resides|residing|moved|relocated)(?:[ \t]+(?:alone|with[ \t]+\w+))?"
            r"[ \t]+(?:in|to|near)|works?[ \t]+(?:for|at)|worked[ \t]+(?:for|at)|employed[ \t]+(?:by|at)"
            r"|employee[ \t]+of|ceo[ \t]+of|owner[ \t]+of|(?:his|her|own)[ \t]+business)[ \t]+"
        )
        self._facilities = _phrase_regex(lexicons.facilities)
        self._places = _phrase_regex(lexicons.places)

    def _trim(self, text: str, start: int, end: int) -> tuple[int, int, bool] | None:
        """Keep the run of name words right before the suffix ("went to Union" -> "Union").

        Returns (start, end, all_common) or None when nothing name-like is left.
        """
        words = list(re.finditer(r"\S+", text[start:end]))
        keep: list[re.Match[str]] = []
        mixed = any(c.islower() for c in text[max(0, start - 100) : end + 100])
        for w in reversed(words):
            low = w.group().lower().strip(".,")
            if low in self.LEAD_STOP:
                break
            if len(low) >= 7 and CLINICAL_ENDING.search(low) and low not in self.lex.names:
                break  # "Cystic Fibrosis Center", "Oncology Clinic": what it treats, not a name
            if mixed and not (w.group()[0].isupper() or low in ("st", "st.")):
                break
            if keep and low in self.lex.common_words and low not in self.lex.facilities:
                break
            keep.append(w)
        if not keep:
            return None
        s = start + keep[-1].start()
        all_common = all(
            k.group().lower().strip(".,").removesuffix("'s").removesuffix("’s")
            in self.lex.common_words
            for k in keep
        )
        return s, end, all_common

    def _after_context(self, text: str, pos: int, case_matters: bool) -> tuple[int, int] | None:
        """Up to three words after a residence/employer phrase ("white marsh", "Genentech").

        Ordinary words at the end are left out; in mixed-case text the words must be capitalised.
        """
        run = re.match(r"[A-Za-z][\w&'’-]*(?:[ \t]+[A-Za-z][\w&'’-]*){0,2}", text[pos : pos + 60])
        if run is None:
            return None
        words: list[re.Match[str]] = []
        for w in re.finditer(r"\S+", run.group()):
            low = w.group().lower()
            if low in self.LEAD_STOP or (case_matters and not w.group()[0].isupper()):
                break
            words.append(w)
        while words and words[-1].group().lower() in self.lex.common_words:
            words.pop()  # "works for vista health": the name, not "health"
        if not words or all(w.group().lower() in self.lex.common_words for w in words):
            return None
        phrase = " ".join(w.group().lower() for w in words)
        if phrase in self.lex.not_phi_places:
            return None  # "lives in California": a state is not a Safe Harbor identifier
        return pos + words[0].start(), pos + words[-1].end()

    def analyze(self, text: str) -> list[PhiSpan]:
        spans: list[PhiSpan] = []
        case_matters = case_is_informative(text)
        for m in self._context.finditer(text):
            found = self._after_context(text, m.end(), case_matters)
            if found is not None:
                spans.append(PhiSpan(*found, LOCATION, 0.7, "location_context"))
        for m in self._facility.finditer(text):
            trimmed = self._trim(text, *m.span("phi"))
            if trimmed is None:
                continue
            s, e, all_common = trimmed
            score = 0.45 if all_common and text[s:e].lower() not in self.lex.facilities else 0.8
            spans.append(PhiSpan(s, e, LOCATION, score, "location_facility"))
        for m in self._saint.finditer(text):
            if m.group().split()[-1].lower().removesuffix("'s") in self.lex.common_words:
                continue
            spans.append(PhiSpan(m.start(), m.end(), LOCATION, 0.75, "location_saint"))
        for regex, score, src in (
            (self._facilities, 0.85, "location_known"),
            (self._places, 0.75, "location_place"),
        ):
            if regex is None:
                continue
            for m in regex.finditer(text):
                spans.append(PhiSpan(m.start(), m.end(), LOCATION, score, src))
        return spans
