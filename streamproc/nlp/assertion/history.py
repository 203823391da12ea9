"""Whether a problem mention is the patient's history rather than a finding of this encounter.

FHIR keeps the two apart by ``Condition.category``: ``problem-list-item`` for what the patient
has had or has ("Patient has a history of chronic kidney disease stage 3, anxiety, ..."; a
past-medical-history section), ``encounter-diagnosis`` for what this visit found or treats.
Subscribers filter on it, so "history of acute bronchitis" must not look like today's diagnosis.
Orthogonal to the ConText assertion: "no history of X" is absent (and not published) whatever
this says.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from streamproc.nlp.sections import SectionIndex
from streamproc.nlp.sentences import Sentence, line_bounds, sentence_index

HISTORY_SECTIONS = frozenset({"past_medical_history", "past_surgical_history"})
_TRIGGER = re.compile(
    # "history of" also covers "past medical history of", "known history of"
    r"\b(?:history\s+of|h/o|hx\s*(?:of\b|:)|pmhx?\b\s*(?:of\b|:)?|s/p|status\s+post|"
    r"previously\s+diagnosed\s+with|"
    # an obstetric history: "Previous pregnancy: preeclampsia with severe features at 35 weeks"
    r"(?:previous|prior|last)\s+pregnanc(?:y|ies)\s*:|"
    # "HX (+) FOR ETOH abuse", "history significant for", "hx positive for"
    r"(?:hx|history)\s*(?:\(\s*\+\s*\)|\+|positive|significant|notable|remarkable)\s*for\b)",
    re.IGNORECASE,
)
_NOT_A_TRIGGER = re.compile(
    r"history\s+of\s+present\s+illness|family\s+(?:medical\s+)?history"
    r"|present\s+(?:hx|history)|(?:hx|history)\s+of\s+present"  # "PRESENT HX: acute onset of SOB"
    # a duration names this illness's course: "a 24h history of epistaxis", "1.5 week hx of pain"
    r"|\d\s*-?\s*(?:h|hr|hrs|hours?|days?|d|wks?|weeks?|months?|mos?|years?|yrs?)\s+(?:history|hx)",
    re.I,
)
# what ends a history list inside a sentence: this visit's findings follow
_ENDS_HISTORY = re.compile(
    r";|\b(?:presents?|presenting|presented|now|currently|today|admitted|but|here\s+for)\b", re.I
)


# a past year that dates the mention: "after a 2019 left MCA stroke", "2015 CABG", "pneumonia in
# 2021", "MI (2015)" — nobody dates this visit's finding by its year
_YEAR_BEFORE = re.compile(r"(?:^|[\s(,;])(?:19|20)\d\d(?:\s+|\s*\(\s*)$")  # "in 2021 (DRESS"
_YEAR_STARTS = re.compile(r"(?:19|20)\d\d\s")
_YEAR_AFTER = re.compile(
    r"\s*(?:\bin\s+|\(\s*)(?:19|20)\d\d\b(?!\s*[-/])"
    # a life stage for a year: "penicillin allergy (hives as a child)", "asthma in childhood"
    r"|\s+(?:as\s+an?\s+(?:child|infant|toddler|teenager|adolescent)|in\s+(?:childhood|infancy))\b",
    re.I,
)


# what a drug or event of a past year caused, or a drug was stopped for: "She was on
# levetiracetam in 2019 which caused irritability and depressed mood" (the year dates the cause,
# and so its effects)
_CAUSED_IN_YEAR = re.compile(
    r"\b(?:in|during)\s+(?:19|20)\d\d\b[^.;\n]{0,60}?(?:\b(?:which|that|and)\s+"
    r"(?:caused|led\s+to|resulted\s+in)\b"
    # "tried apixaban briefly in 2016 - stopped due to heavy epistaxis"
    r"|\b(?:stopped|discontinued)\s+(?:due\s+to|because\s+of|for)\b)[^.;\n]*\Z"
    # "sotalol stopped in 2021 for QT prolongation", "doxycycline was stopped in 2023 after
    # photosensitivity"
    r"|\b(?:stopped|discontinued)\s+(?:in|during)\s+(?:19|20)\d\d\s+(?:due\s+to|because\s+of|for|after)\b"
    r"[^.;\n]*\Z",
    re.IGNORECASE,
)


# what a drug tried before did, glossed after it: "Failed risperidone (galactorrhea) and
# olanzapine (weight gain of 18 kg)", "Tried doxycycline (vaginal candidiasis each course)"
TRIED_CLAUSE = (
    r"\b(?:tried|failed|trialed|trial[ \t]+of|intolerant[ \t]+(?:of|to)|intolerance[ \t]+to"
    r"|previously[ \t]+(?:on|tried|took))\b"
    # up to the drug: words, and the glosses of the drugs before it, closed
    r"(?:[^.;:()\n]|\([^()\n]*\)){0,120}"
)
_TRIED_DRUG_GLOSS = re.compile(TRIED_CLAUSE + r"\([^()\n]{0,60}\Z", re.I)


# "morphine avoided given prior severe pruritus", "a previous DVT": the adjective dates it (not
# "prior to admission", nor a word further back: "compared with prior imaging, new effusion")
_PAST_ADJECTIVE = re.compile(r"\b(?:prior|previous)\s+(?!to\b)(?:[\w-]+\s+){0,1}\Z", re.I)


# "a severe rash with fever, eosinophilia and hepatitis on allopurinol in 2021": the drug's year
_ON_DRUG_IN_YEAR = re.compile(r"[^.;\n]{0,80}?\bon\s+[\w-]+\s+in\s+(?:19|20)\d\d\b", re.I)


def _dated_by_year(text: str, start: int, end: int, lo: int) -> bool:
    return bool(
        _ON_DRUG_IN_YEAR.match(text, end)
        or _PAST_ADJECTIVE.search(text, max(lo, start - 24), start)
        or _YEAR_BEFORE.search(text, max(0, start - 8), start)
        or _YEAR_STARTS.match(text, start, end)
        or _YEAR_AFTER.match(text, end)
        or _CAUSED_IN_YEAR.search(text, lo, start)
        or _TRIED_DRUG_GLOSS.search(text, lo, start)
    )


def historical(
    text: str,
    spans: Sequence[tuple[int, int]],
    sentences: list[Sentence],
    sections: SectionIndex,
) -> list[bool]:
    """One flag per ``(start, end)``: in a history section, dated by a past year, or after a
    history trigger in its sentence with nothing between them that turns to the present
    encounter."""
    out: list[bool] = []
    for start, end in spans:
        idx = sentence_index(sentences, start)
        lo = sentences[idx].start if idx >= 0 else line_bounds(text, start)[0]
        if sections.section_at(start) in HISTORY_SECTIONS or _dated_by_year(text, start, end, lo):
            out.append(True)
            continue
        trigger_end = -1
        for m in _TRIGGER.finditer(text, lo, start):
            if not _NOT_A_TRIGGER.search(text[max(lo, m.start() - 24) : m.end() + 20]):
                trigger_end = m.end()
        out.append(trigger_end >= 0 and not _ENDS_HISTORY.search(text, trigger_end, start))
    return out
