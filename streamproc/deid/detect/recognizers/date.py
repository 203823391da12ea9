"""Dates in the many shapes notes use: 5/13, 8/23/2001, 2001-08-23, Aug 23 2001, 23-Aug-01,
"the 3rd of May", bare month names, years near date context. Clock times are off by default:
the corpus does not count them as PHI and, with dates shifted, a time alone identifies nobody
(``include_times: true`` in recognizers.yaml turns them on)."""

from __future__ import annotations

import re
from typing import ClassVar

from streamproc.deid.detect.recognizer import Pattern, PatternRecognizer
from streamproc.deid.detect.recognizers._common import DAY, MON_NUM, MONTH, MONTH_DOT, ORD, YEAR4
from streamproc.deid.types import DATE

_NB = r"(?<![\d/.'])(?<!\d:)"  # not glued to another number ("HX:8/30" is a date, "1:1/2" not)
_NA = r"(?![\d/%]|\.\d)"


class DateRecognizer(PatternRecognizer):
    name = "date"
    ENTITY_TYPE = DATE
    PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("iso", rf"{_NB}{YEAR4}-{MON_NUM}-{DAY}\b{_NA}", 0.95),
        Pattern("mdy", rf"{_NB}{MON_NUM}([/-]){DAY}\1(?:\d{{4}}|\d{{2}})\b{_NA}", 0.95),
        Pattern("md", rf"{_NB}{MON_NUM}/{DAY}\b{_NA}", 0.75),
        Pattern("my", rf"{_NB}{MON_NUM}/(?:{YEAR4}|[0-9]{{2}})\b{_NA}", 0.5),
        Pattern(
            # not a month word before a numeric date: "OCT 09/2025" is the test, then its date
            "mon_d_y",
            rf"\b{MONTH_DOT}[ \t]*{DAY}{ORD}?\b(?:,?[ \t]*(?:{YEAR4}|'\d{{2}})\b)?(?![/-]\d)",
            0.9,
        ),
        Pattern(
            "d_mon_y",
            rf"\b(?:the\s+)?{DAY}{ORD}?\s+(?:of\s+)?{MONTH}\b\.?(?:,?\s*{YEAR4}\b)?",
            0.85,
        ),
        Pattern("d-mon-y", rf"\b{DAY}[-/ ]{MONTH}[-/ ](?:\d{{4}}|\d{{2}})\b", 0.95),
        Pattern("mon_y", rf"\b{MONTH_DOT},?\s+(?:{YEAR4}|'\d{{2}})\b", 0.9),
        Pattern(
            "month_name",
            r"\b(?:january|february|march|april|june|july|august|september|october|november"
            r"|december|sept|nov|apr|aug|oct)\b\.?",
            0.7,
        ),
        Pattern(
            "ordinal_day",
            rf"\b(?:on|by|of|til|since|until)\s+(?:the\s+)?(?P<phi>{DAY}{ORD})\b",
            0.75,
        ),
        Pattern("year_apostrophe", r"(?<![\w'])'(?P<phi>\d{2})\b", 0.75),
        Pattern(
            "in_yy",
            r"\b(?:in|since|hx|pmh)\s+'?(?P<phi>[4-9]\d|0\d)\b(?!\s*(?:%|mg|cc|ml|hr|h\b|min|x|yo|y/o|year|yr|\d|'s|s\b|/|-|\.\d))",
            0.55,
        ),
        Pattern("yy_apostrophe_after", r"(?<![\w/.])(?P<phi>[4-9]\d|0\d)'(?!s)", 0.6),
        Pattern(
            "year",
            rf"{_NB}\b(?P<phi>{YEAR4})\b(?!\s*(?:cc|ml|mg|mcg|u|units|kcal|g|gm|x|hr|h)\b){_NA}",
            0.3,
        ),
        Pattern("year_range", rf"{_NB}\b{YEAR4}\s*[-/]\s*(?P<phi>{YEAR4}|\d{{2}})\b{_NA}", 0.3),
    )
    TIME_PATTERNS: ClassVar[tuple[Pattern, ...]] = (
        Pattern("time", r"\b(?:[01]?\d|2[0-3]):[0-5]\d(?:\s*[ap]\.?m\.?)?\b", 0.6),
    )
    CONTEXT: ClassVar[tuple[str, ...]] = (
        "in", "since", "year", "yr", "born", "dob", "date", "dated", "from", "until", "on",
        "admitted", "admission", "discharged", "s/p", "status post", "diagnosed", "dx", "hx",
        "history", "cabg", "mi", "pmh", "pmhx", "cva", "ca", "dx'd", "copd", "chf", "mva", "surgery", "repair", "replacement", "jan", "feb", "mar", "apr",
        "jun", "jul", "aug", "sep", "oct", "nov", "dec", "circa", "'",
    )  # fmt: skip
    CONTEXT_WINDOW = 25

    # Fractions and grades that look like M/D.
    NOT_DATES: ClassVar[frozenset[str]] = frozenset(
        {"1/2", "1/3", "2/3", "1/4", "3/4", "1/1", "2/2", "3/3", "4/4", "5/5", "1/8", "24/7",
         "12/12"}
    )  # fmt: skip
    # a word that dates what follows: "Since 12/12 fever to 38.9" (left in clear as a ratio)
    DATE_CUE_BEFORE = re.compile(
        # (not "from": "EXTUBATED FROM 5/5 PSV/CPAP" is a ventilator setting)
        r"\b(?:since|until|till|through|as[ \t]+of|dated|started|began|admitted|discharged)"
        r"[ \t]+$",
        re.IGNORECASE,
    )
    NOT_DATE_AFTER = re.compile(
        r"\s*(?:murmur|strength|sem|systolic|holosystolic|grade|str|x\b|mm|cm|ml|cc|mg|units|%|times|pain|\d+\s*%|fio2|peep|ps\b|with\s+\d|bipap|cpap|peep|ps\b|pain|sem|step|floor|line|dose|time|attempt|wake|degree|intercostal|ics|liters?\b|l\b)",
        re.IGNORECASE,
    )
    # what an ordinal counts when it is no day of the month: "of the 1st metatarsal head" had
    # been shifted to "the 7th metatarsal head"
    COUNTED_THING_AFTER = re.compile(
        # past the ordinals coordinated with it: "the 2nd and 3rd MCPs", "2nd-4th toes"
        r"(?:\s*(?:,|and|or|&|-|to|through)\s*\d{1,2}(?:st|nd|rd|th)\b)*"
        r"\s*(?:metatars|metacarp|toe|finger|digit|ray\b|rib|mtp|mcp|pip|dip\b|cmc|web\b"
        r"|interspace|compartment|cranial|molar|premolar|incisor|trimester|percentile|cycle"
        r"|day|week|month|year|generation|order|episode|stage|lumbar|sacral|cervical|thoracic"
        r"|dorsal|branchial|phalan|vertebra|heart\s+sound|metatarsophalangeal)",
        re.IGNORECASE,
    )
    # "(last dose 11/21)": when a dose was given, not a dose of "1/2"
    DOSE_DATED_BEFORE = re.compile(
        r"\b(?:last|first|next|final|prior|previous|most[ \t]+recent)[ \t]+dose[ \t]*[(:]?[ \t]*$",
        re.IGNORECASE,
    )
    VENT_BEFORE = re.compile(
        r"(?:cpap|bipap|bi-pap|\bps\b|psv|peep|fio2|flowby|simv|\bimv|\bvent\b)", re.IGNORECASE
    )
    VENT_SETTING_BEFORE = re.compile(
        r"(?:cpap|bipap|bi-pap|\bps\b|psv|peep|simv|\bimv)\s*(?:of|at|on|to)?\s*$", re.IGNORECASE
    )
    SCORE_RANGE_BEFORE = re.compile(r"(?:^|[^/\d])\d{1,2}\s*-\s*$")  # "3-" of "3-4/10"
    PAIN_NEAR = re.compile(
        r"(?:pain|\bcp\b|rating|rated|scale|experienc|discomfort|ache)", re.IGNORECASE
    )
    NOT_DATE_BEFORE = re.compile(
        r"(?:murmur|strength|grade|gcs|ratio|i:e|ie|peep|ps|cpap|bipap|bi-pap|pap|a/o|ao|o2|dose|\bx|pain|#|ventilation|settings|mode|\bto|co/ci|mask|a/c|simv|imv|\bvent|rate|\bas|c/o|psv|ventilated\s+with\s+psv|\+"
        # a color-plate test's score ("Ishihara 3/14 both eyes" had been shifted to "11/3")
        r"|ishihara|plates?|hrr)\s*[(:]?\s*$",
        re.IGNORECASE,
    )

    def __init__(self, include_times: bool = False, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        if include_times:
            self.patterns = self.patterns + self.TIME_PATTERNS
            self._compiled = [(p, self._compile(p)) for p in self.patterns]

    # a rating scale's results written as fractions of one total ("inattentive 4/9, hyperactive
    # 3/9 (improved from 8/9 and 7/9)": Vanderbilt scores had been shifted as dates)
    SCORE_NEAR = re.compile(
        r"score|scale|rating|rated|vanderbilt|phq|gad-?7|moca|mmse|slums|inattentive|hyperactive"
        r"|subscale|criteria|items?\b|points?\b|out\s+of",
        re.IGNORECASE,
    )
    # a clinical test named like a month or a date: optical coherence tomography ("SD-OCT",
    # "Repeat OCT" became "NOV"), Humphrey visual fields ("10-2 fields" became "11-14")
    FIELD_TEST = re.compile(
        r"(?:10|24|30)-2(?=[ \t]*(?:visual[ \t]+fields?|fields?|vf|hvf|sita)\b)", re.IGNORECASE
    )

    @classmethod
    def is_test_name(cls, text: str, start: int, end: int) -> bool:
        """``text[start:end]`` names a test, not a date: "OCT" in capitals with no day or year
        beside it, or before a numeric date of its own ("last OCT 09/2025 normal" had become
        "last [DATE] normal"), a "10-2" / "24-2" visual field."""
        if text[start:end] == "OCT":
            if re.match(r"[ \t]+\d{1,2}/\d", text[end : end + 8]):
                return True
            return not re.match(r"[ \t.,-]*\d", text[end : end + 4]) and not re.search(
                r"\d[ \t.,-]*$", text[max(0, start - 4) : start]
            )
        field = cls.FIELD_TEST.match(text, start)
        return field is not None and field.end() == end

    @classmethod
    def _score_series(cls, text: str, start: int, end: int) -> bool:
        numerator, _, total = text[start:end].partition("/")
        if not (numerator.isdigit() and total.isdigit()) or int(numerator) > int(total):
            return False
        lo, hi = max(0, start - 60), min(len(text), end + 60)
        same = re.findall(rf"(?<![\d/])(\d{{1,2}})/{total}(?![\d/])", text[lo:hi])
        return (
            len(same) >= 2
            and all(int(n) <= int(total) for n in same)
            and cls.SCORE_NEAR.search(text, lo, hi) is not None
        )

    @classmethod
    def md_is_score_or_setting(cls, text: str, start: int, end: int) -> bool:
        """An M/D-shaped ``text[start:end]`` that is a fraction, a vent setting or a pain score
        ("1/2", "PSV 15/5", "pain 8/10"). Shared with the PHI-model span filter, which tags the
        same shapes as dates; the wider word lists below ("to 9/20") stay rule-only, because on
        model spans they cost real dates."""
        value = text[start:end]
        if value in cls.NOT_DATES and not cls.DATE_CUE_BEFORE.search(
            text, max(0, start - 16), start
        ):
            return True
        if cls._score_series(text, start, end):
            return True
        if cls.VENT_SETTING_BEFORE.search(text, max(0, start - 16), start):
            return True  # "PSV of 15/5", "BIPAP 10/5" (not "VENT VIA TRACH (PLACED 8/14)")
        if value.endswith("/10") and cls.SCORE_RANGE_BEFORE.search(
            text[max(0, start - 6) : start]  # a slice: "^" is its start
        ):
            return True  # "3-4/10": a score range
        return value.endswith("/10") and bool(
            cls.PAIN_NEAR.search(text, max(0, start - 30), min(len(text), end + 30))
        )

    def validate_result(self, text: str, start: int, end: int, pattern: Pattern) -> bool | None:
        value = text[start:end]
        if pattern.name == "month_name" and self.is_test_name(text, start, end):
            return False
        if pattern.name == "md" and (
            self.md_is_score_or_setting(text, start, end)
            or self.VENT_BEFORE.search(text, max(0, start - 30), start)
            or self.NOT_DATE_AFTER.match(text, end, min(len(text), end + 12))
            or (
                self.NOT_DATE_BEFORE.search(text, max(0, start - 12), start)
                and not self.DOSE_DATED_BEFORE.search(text, max(0, start - 24), start)
            )
        ):
            return False
        if pattern.name == "mdy":
            year = value.replace("-", "/").split("/")[-1]
            if len(year) == 4 and not 1900 <= int(year) <= 2099:
                return False
        if pattern.name == "ordinal_day" and (
            self.NOT_DATE_AFTER.match(text, end, min(len(text), end + 12))
            or self.COUNTED_THING_AFTER.match(text, end, min(len(text), end + 40))
        ):
            return False
        if pattern.name == "my":
            # 5/13 is handled by "md"; this is for 6/85-style month/year only.
            year_n = int(value.split("/")[1])
            if year_n <= 31 and len(value.split("/")[1]) == 2:
                return False
            if self.NOT_DATE_AFTER.match(text, end, min(len(text), end + 12)):
                return False
        if pattern.name in ("year", "year_range"):
            if self._near_units(text, end):
                return False
            if re.search(
                r"(?:\bat|@|->|-|\bby|\btil|\buntil|\bfrom|\bto)\s*$",
                text[max(0, start - 6) : start],
                re.IGNORECASE,
            ):
                return False  # "at 1900", "0700->1930": a clock time
            full = int(value) if len(value) == 4 else 1900 + int(value)
            # 1900-1959 / 2000-2059 are also valid clock times (HHMM): those need date context.
            return True if full % 100 >= 60 and len(value) == 4 else None
        return None

    @staticmethod
    def _near_units(text: str, end: int) -> bool:
        return (
            re.match(r"\s*(?:cc|ml|mg|u\b|units|kcal|g\b|gm|/)", text[end : end + 8], re.IGNORECASE)
            is not None
        )
