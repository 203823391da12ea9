"""Person names: titles (Dr./Mr./NP), relations ("pt's wife Mary"), signature lines
("Jean Hudson, RN"), and lexicon names (faker first/last names) that are not ordinary words.

Context beats the lexicon: after a title or a relation, any word that is not a stop word is taken
(notes write "dr yi", "son, bill"); without context, a lexicon name must be capitalised in
mixed-case text and must not be a common word of clinical notes.
"""

from __future__ import annotations

import re
from typing import ClassVar

from streamproc.deid.detect.lexicons import Lexicons
from streamproc.deid.detect.recognizer import Recognizer
from streamproc.deid.detect.refine import CLINICAL_ENDING, is_caps_note
from streamproc.deid.types import NAME, PhiSpan

# capitalised words that take digits in clinical text ("Covid19", "Vitamin12")
_NOT_NAMES = frozenset(
    {
        "covid",
        "sars",
        "vitamin",
        "type",
        "stage",
        "grade",
        "class",
        "level",
        "room",
        "bed",
        "ward",
        "unit",
        "floor",
        "pod",
        "bay",
        "step",
        "day",
        "week",
        "dose",
        "lead",
        "leads",
    }
)
_WORD = r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z][A-Za-z'’]*)?"
_INITIAL = r"[A-Z]\."
_CAP_PAIR = re.compile(
    r"(?<![\w'’.-])([A-Z][a-z]{2,}(?:['’][A-Za-z]+)?)[ \t]+([A-Z][a-z]{2,}(?:-[A-Z][a-z]+)?)(?![\w'’-])"
)
# word endings of English, not of names, for words outside the ordinary-word list
# ("daughter incredibly emotional", "need for proxy determination", "RN posted")
_ENGLISH_SUFFIX = re.compile(
    r"(?:ly|tion|sion|ment|ness|ity|ed|ing|ous|ive|able|ible|ful|less|ance|ence|ize|ise|ys)$"
)
_PLACE_BEFORE = re.compile(r"\b(?i:in|from|to|at|of|near)[ \t]+$")


# the sides of a building a ward is named by after its floor ("4 North", "7B West")
_WARD_SIDES = frozenset({"north", "south", "east", "west"})


# a relation word's possessive and nothing else: "father's barn", not "father's name is Ian"
_POSSESSIVE_ONLY = re.compile(r"['’]s\s+$", re.IGNORECASE)


class NameRecognizer(Recognizer):
    name = "name"
    ENTITY_TYPE = NAME
    TITLES: ClassVar[str] = (
        r"(?:(?i:drs|dr's|dr|doctor|mr|mrs|ms|miss|mister|prof|professor|rev|md)\.?"
        r"|(?:NP|PA|RN|RRT|SW|HO|NP:|MD:))"
    )
    MAX_FOLLOWING: ClassVar[int] = 3

    def __init__(self, lexicons: Lexicons, lexicon_score: float = 0.6) -> None:
        self.lex = lexicons
        self.names = lexicons.names
        self.lexicon_score = lexicon_score
        self._title = re.compile(rf"\b{self.TITLES}(?=[\s.])[\s.]+")
        rel = "|".join(re.escape(r) for r in sorted(lexicons.relations, key=len, reverse=True))
        self._relation_words = frozenset(r.lower() for r in lexicons.relations)
        self._relation = re.compile(
            rf"\b(?:{rel})(?:'s)?(?:\s*(?:name\s+is|named|is|,|:|-|\(|/)\s*|\s+)", re.IGNORECASE
        )
        creds = "|".join(
            re.escape(c) for c in sorted(lexicons.name_credentials, key=len, reverse=True)
        )
        # lower-case notes sign "irene snell, rn": these credentials are never ordinary words
        creds += r"|(?i:rn|rrt|np|md|licsw|lcsw|msw|ccrn|bsn|lpn|crna|r\.n\.)"
        self._signature = re.compile(
            rf"(?<![\w'])(?P<phi>(?:(?:{_INITIAL}|{_WORD})[ \t]+){{0,3}}(?:{_WORD}))(?:[ \t]*,[ \t]*|[ \t]+)(?:{creds})\b\.?[ \t]*(?:,[ \t]*(?:{creds}))?[ \t]*(?=\n|$|\)|[.,;(])",
            re.MULTILINE,
        )
        self._capword = re.compile(
            r"\b[A-Z][a-z]+(?:['’-][A-Za-z]+)?\b|\b[A-Z]{2,}\b|\b[a-z]{2,}\b"
        )
        self._token = re.compile(rf"{_INITIAL}|{_WORD}")
        # A name the note labels after the fact: "Hank Przybylo (son)", "URSLA MORETTI (DAUGHTER)",
        # "Lopie Certusi cell# 410-…", "Arthur Peppler,MD made…", "Stord-Painter MD performed".
        cap = r"[A-Z][A-Za-z'’]*(?:-[A-Z][A-Za-z'’]*)?"
        run = rf"(?P<phi>(?:{cap}[ \t]+){{0,2}}{cap})"
        # a header field: "Client: Beatriz Quispe Mamani   DOB …" (the model had left "Mamani")
        field = r"(?i:patient(?:'s)?[ \t]+name|patient|pt\.?(?:[ \t]+name)?|name|client|resident)"
        single = rf"(?P<phi>{cap}(?:,?[ \t]{cap}){{0,3}})"
        self._labelled = [
            re.compile(rf"(?:^|[ \t]{{2}}|\|)[ \t]*{field}[ \t]*:[ \t]*{single}", re.MULTILINE),
            re.compile(rf"{run}[ \t]*\((?i:{rel})\)"),
            re.compile(
                rf"{run}[ \t]*[-,(]?[ \t]*(?i:cell|home|work|mobile|phone|tel)\b[ \t]*[#:]?[ \t]*\(?\d"
            ),
            re.compile(
                rf"{run}(?:[ \t]+MD|,MD|(?:[ \t]+|,[ \t]*)(?:RN|NP|PA-C|RRT))\b(?![ \t]*,[ \t]*[A-Z]{{2}}\b)"
            ),
        ]
        # Synthea-style generated names carry digits ("Sumiko254 Larue605")
        self._digit_name = re.compile(r"\b(?P<base>[A-Z][a-z]{1,}(?:['’][A-Za-z]+)?)\d{1,3}\b")
        self._initial_name = re.compile(rf"\b(?P<i>[A-Za-z])(?P<dot>\.)?[ \t]+(?P<w>{_WORD})\b")

    # ---- helpers -----------------------------------------------------------------------------
    def _is_stop(self, word: str) -> bool:
        w = word.lower().strip(".'’")
        return (
            w in self.lex.stop_words
            or (w in self.lex.common_words and w not in self.names)
            or not w
        )

    def _specialty(self, word: str) -> bool:
        """A service or a diagnosis ends a list of names: "Dr. Susan Pratt, Rheumatology, Valley
        View Arthritis Center" had taken "Rheumatology" and "Valley" as two more names."""
        low = word.lower().strip(".,")
        return (
            len(low) >= 7 and CLINICAL_ENDING.search(low) is not None and low not in self.lex.names
        )

    def _take_names(
        self, text: str, pos: int, max_words: int, allow_list: bool
    ) -> list[tuple[int, int]]:
        """Name-like words from ``pos``: "Mary", "J. Smith", "Smokey, Morris and Roger"."""
        out: list[tuple[int, int]] = []
        taken = 0
        while taken < max_words:
            m = self._token.match(text, pos)
            if m is None or self._is_stop(m.group()) or self._specialty(m.group()):
                break
            if re.fullmatch(_INITIAL, m.group()) is None and m.group()[0].isdigit():
                break
            head, dash, tail = m.group().partition("-")
            if dash and self._is_stop(tail):
                # "son Rob-who states", "DR. KNIGHT AWARE-ORDER": the name ends at the hyphen
                if not self._is_stop(head):
                    out.append((m.start(), m.start() + len(head)))
                break
            out.append(m.span())
            taken += 1
            pos = m.end()
            if allow_list:
                lst = re.match(r",?\s*(?:and|&)\s+|,\s*", text[pos:])
                if lst and lst.group().strip():
                    pos += lst.end()
                    taken = 0
                    continue
            sep = re.match(r"[ \t]+|\.[ \t]+(?=[A-Z])", text[pos:])
            nxt_pos = pos + (sep.end() if sep else 0)
            if sep is not None and self._token.match(text, nxt_pos):
                pos = nxt_pos
                continue
            if allow_list:
                lst = re.match(r",?\s*(?:and|&|,)\s*", text[pos:])
                if lst and lst.group().strip():
                    pos += lst.end()
                    taken = 0
                    continue
            break
        return out

    def _context_score(
        self, word: str, caps_note: bool, strong: bool, after_title: bool = True, first: bool = True
    ) -> float:
        """Score a word found after a title ("Dr" is ``strong``) or a relation word.

        A word outside every lexicon counts only right after the cue (``first``), and in
        capitals only after a title: a relation word says little there ("SONS HOCKEY GAME").
        """
        low = word.lower().strip(".")
        common = low in self.lex.common_words
        if len(low) == 1:
            return 0.7 if word.endswith(".") else 0.4  # an initial needs its period
        if strong:
            return 0.9 if not common or low in self.names else 0.75
        if low in self.names:
            return 0.9 if not common else 0.7  # "son bill", "wife, rose"
        if word[0].isupper() and not caps_note and not common:
            return 0.8
        long_enough = len(low) >= (4 if caps_note else 3)  # "HUSBAND CEO": an acronym
        if (
            first
            and (after_title or not caps_note)
            and not common
            and long_enough
            and low.isalpha()
            and not _ENGLISH_SUFFIX.search(low)
            and low not in self._relation_words
            and not self.lex.near_common(low)
        ):
            return 0.6  # "dtr suzette", "NP DJURIC": no case signal, but the context is enough
        return 0.4

    def _labelled_name(self, text: str, m: re.Match[str], caps_note: bool) -> list[PhiSpan]:
        """The trailing name-like words of a labelled run; places and ordinary words stop it."""
        keep: list[re.Match[str]] = []
        for t in reversed(list(self._token.finditer(text, *m.span("phi")))):
            low = t.group().lower().strip(".'’")
            if self._is_stop(t.group()) or low in self.lex.places or len(low) < 2:
                break
            if low in self.lex.common_words and low not in self.names:
                break
            if caps_note and not keep and low not in self.names and len(low) < 3:
                break
            keep.append(t)
        if not keep:
            return []
        if _PLACE_BEFORE.search(text, max(0, keep[-1].start() - 8), keep[-1].start()):
            return []  # "lives in California, phone #…": a place
        return [PhiSpan(keep[-1].start(), keep[0].end(), NAME, 0.75, "name_labelled")]

    def _unknown_pairs(self, text: str) -> list[PhiSpan]:
        """Two capitalised words in a row, neither an ordinary word nor a known place, in
        mixed-case text: "spoken with Radu Crosson (…)". Names outside every lexicon."""
        out: list[PhiSpan] = []
        for m in _CAP_PAIR.finditer(text):
            words = [w.lower() for w in (m.group(1), m.group(2))]
            if any(
                w in self.lex.common_words
                or w in self.lex.stop_words
                or w in self.lex.places
                or w in self.lex.facilities
                or w in _NOT_NAMES
                # "Endocrinology Urgent Visit": a specialty or a diagnosis, not a surname
                or (len(w) >= 7 and CLINICAL_ENDING.search(w) and w not in self.lex.names)
                for w in words
            ):
                continue
            if " ".join(words) in self.lex.places or _PLACE_BEFORE.search(
                text, max(0, m.start() - 8), m.start()
            ):
                continue  # "from Middle River": a place (the location recognizer's business)
            out.append(PhiSpan(m.start(), m.end(), NAME, 0.55, "name_unknown_pair"))
        return out

    # ---- recognizer ----------------------------------------------------------------------------
    def analyze(self, text: str) -> list[PhiSpan]:
        spans: list[PhiSpan] = []
        caps_note = is_caps_note(text)
        for m in self._title.finditer(text):
            if "\n" in m.group():
                continue
            if "." not in m.group() and re.search(r"[ \t]{2}", m.group()):
                continue  # a credential, then the next header field: "…, MD   Accompanied by:"

            title = m.group().strip()
            is_dr = title.rstrip(".").lower() in (
                "dr",
                "doctor",
                "drs",
                "dr's",
                "md",
            ) or title.lower() in ("mr.", "mrs.", "ms.", "mister", "miss")
            # no period: "MR" is also mitral regurgitation, "ms" mental status
            courtesy = title.lower() in ("mr", "mrs", "ho")
            if not is_dr and re.search(r"\s\.", m.group()):
                continue  # "3L NP . FOLEY DC": the sentence ended after the title-like word
            for i, (s, e) in enumerate(self._take_names(text, m.end(), 3, allow_list=is_dr)):
                score = self._context_score(text[s:e], caps_note, is_dr, first=i == 0)
                low = text[s:e].lower()
                if courtesy and score < 0.6 and len(low) >= 3 and low not in self.lex.common_words:
                    score = 0.6
                spans.append(PhiSpan(s, e, NAME, score, "name_title"))
        for m in self._relation.finditer(text):
            # what a relative owns is no name: "his late father's barn" (not "father's name is")
            owned = _POSSESSIVE_ONLY.search(m.group()) is not None
            for i, (s, e) in enumerate(self._take_names(text, m.end(), 3, allow_list=True)):
                word = text[s:e]
                if owned and word.lower() not in self.names and (caps_note or word.islower()):
                    break
                score = self._context_score(word, caps_note, False, after_title=False, first=i == 0)
                spans.append(PhiSpan(s, e, NAME, score, "name_relation"))
        for m in self._initial_name.finditer(text):
            word = m.group("w")
            low = word.lower()
            if self._is_stop(word) or low in self.lex.common_words or len(low) < 2:
                continue
            if (
                m.start() > 0
                and not text[m.start() - 1].isspace()
                and text[m.start() - 1] not in "(,;:-"
            ):
                continue
            if not m.group("i").isupper():
                continue
            if low in self.lex.last_names or low in self.lex.first_names:
                score = 0.8 if (m.group("dot") or word[0].isupper()) else 0.6
            elif (
                m.group("dot")
                and word[0].isupper()
                and (caps_note or not word.isupper())
                and len(low) >= 4
            ):
                score = 0.6
            else:
                continue
            spans.append(PhiSpan(m.start(), m.end(), NAME, score, "name_initial"))
        for m in self._signature.finditer(text):
            s, e = m.span("phi")
            toks = [t for t in self._token.finditer(text, s, e)]
            # keep the trailing run of name-like tokens
            keep = []
            for t in reversed(toks):
                if len(t.group()) == 1:
                    break  # "2 L NP": a unit, not an initial
                low = t.group().lower()
                if self._is_stop(t.group()) and low not in self.names:
                    break
                if low in self.lex.common_words and not t.group()[0].isupper():
                    break
                keep.append(t)
            for t in keep:
                spans.append(PhiSpan(t.start(), t.end(), NAME, 0.85, "name_signature"))
        for regex in self._labelled:
            for m in regex.finditer(text):
                spans.extend(self._labelled_name(text, m, caps_note))
        if not caps_note:
            spans.extend(self._unknown_pairs(text))
        digit_names = list(self._digit_name.finditer(text))
        for i, m in enumerate(digit_names):
            paired = (i > 0 and m.start() - digit_names[i - 1].end() <= 2) or (
                i + 1 < len(digit_names) and digit_names[i + 1].start() - m.end() <= 2
            )
            base = m.group("base").lower()
            if len(base) < 3 and not paired:
                continue  # "Hb12", "Mg2": lab shorthand unless it sits beside another such name
            if (
                paired
                or base in self.names
                or (base not in self.lex.common_words and base not in _NOT_NAMES)
            ):
                spans.append(PhiSpan(m.start(), m.end(), NAME, 0.85, "name_digits"))
        mixed = any(c.islower() for c in text) and any(c.isupper() for c in text[:2000])
        for m in self._capword.finditer(text):
            word = m.group()
            low = word.lower()
            if low not in self.names or low in self.lex.common_words or low in self.lex.stop_words:
                continue
            if word.islower() and not caps_note:
                continue  # lower-case word in mixed-case text: an ordinary word
            if low in _WARD_SIDES and re.search(
                r"\d[A-Za-z]?[ \t]*$", text[max(0, m.start() - 4) : m.start()]
            ):
                continue  # "4 North", "5 West": a hospital ward, not a surname
            if caps_note or word.islower():
                # all-caps / lower-case notes: no case signal; trust only rarer first names
                score = 0.5 if (low in self.lex.first_names and len(low) >= 4) else 0.45
            elif word.isupper():
                continue  # an acronym in mixed-case text
            else:
                before = text[max(0, m.start() - 2) : m.start()]
                sentence_start = not before.strip() or before.strip()[-1:] in ".!?:\n"
                score = self.lexicon_score - (0.15 if sentence_start else 0.0) if mixed else 0.45
            spans.append(PhiSpan(m.start(), m.end(), NAME, score, "name_lexicon"))
        return spans
