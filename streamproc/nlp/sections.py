"""Section detection: which clinical section (``family_history``, ``allergies``...) an offset is in.

Why: the section changes what a mention means. A problem under "Family history:" belongs to a
relative, and a mention under "Allergies" is not a diagnosis. Headers are markdown (``# Plan``),
``Title:`` at the start of a line (optionally followed by text), an upper-case line, or a line
that is nothing but a known section's name ("Assessment and Recommendations"), when they name a
known section. A ``#`` line that names none is a problem-oriented item ("# Hepatic
encephalopathy, improving: continue lactulose", "#1 CHF"), as physicians write their assessment:
it is read as text and stays in the section above it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# canonical section -> header variants (lower-case, matched after stripping '#', ':' and spaces)
_SECTION_NAMES: dict[str, tuple[str, ...]] = {
    "chief_complaint": ("chief complaint", "cc", "reason for visit", "presenting complaint"),
    "history_present_illness": ("history of present illness", "hpi", "present illness"),
    "past_medical_history": (
        "past medical history",
        "pmh",
        "medical history",
        "past history",
        "problem list",
        "past medical/surgical history",
        "history",
    ),
    "past_surgical_history": (
        "past surgical history",
        "psh",
        "surgical history",
        # a pre-operative evaluation's past reactions to anesthesia
        "anesthetic history",
        "anesthesia history",
        "prior anesthetic history",
        "past anesthetic history",
    ),
    "family_history": ("family history", "fh", "fhx", "family hx", "family medical history"),
    "social_history": ("social history", "sh", "social hx"),
    "allergies": ("allergies", "allergy", "drug allergies", "adverse reactions"),
    "medications": (
        "medications",
        "current medications",
        "meds",
        "home medications",
        "discharge medications",
        "admission medications",
    ),
    "review_of_systems": ("review of systems", "ros"),
    "physical_exam": ("physical exam", "physical examination", "exam", "pe", "vital signs"),
    "labs": ("labs", "laboratory", "laboratory data", "results", "studies", "imaging"),
    "assessment_plan": (
        "assessment and plan",
        "assessment & plan",
        "assessment/plan",
        "assessment and recommendations",
        "assessment/recommendations",
        "recommendations",
        "impression and plan",
        "impression/plan",
        "impression & plan",
        "a/p",
        "assessment",
        "impression",
        "plan",
        "diagnosis",
        "diagnoses",
        "discharge diagnosis",
        "discharge diagnoses",
        "hospital course",
    ),
}
_LOOKUP = {variant: name for name, variants in _SECTION_NAMES.items() for variant in variants}
_HEADER = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*(?P<md>[^\n]+?)[ \t]*$"
    r"|(?P<colon>[A-Za-z][A-Za-z /&()-]{1,40}?)[ \t]*:"
    r"|(?P<caps>[A-Z][A-Z /&()-]{2,40})[ \t]*$"
    # a line that is a known section's name and nothing else: "Assessment and Recommendations"
    r"|(?P<line>[A-Za-z][A-Za-z /&()-]{2,40}?)[ \t]*$)",
    re.MULTILINE,
)


# A bare "History:" is the past history ("History: hypertension, hyperlipidemia, former
# smoker") unless it opens the story of this illness with the patient's age, as a consult does
# ("HISTORY: 71-year-old woman with GERD ... admitted with fatigue and rash": read as the past,
# the fatigue it admitted had been an inactive problem-list item).
_STORY_OPENING = re.compile(
    r"[ \t]*(?:\n[ \t]*)?(?:(?:a|an|this|the|pt|patient|mr\.?|mrs\.?|ms\.?)[ \t]+(?:is[ \t]+(?:a|an)[ \t]+)?)?"
    r"\d{1,3}[ \t-]*(?:y/?o\b|yo\b|yr\b|-?year|years?[ \t]+old|month|week|day)",
    re.IGNORECASE,
)

# ... or tells what the patient reports now: "History: QuantiFERON positive 11/2024 … Today
# reports 5 days of nausea" (the nausea had been an inactive problem-list item)
_STORY_NOW = re.compile(
    r"\b(?:(?:today|now)[ \t]+(?:(?:she|he|they|patient|pt)[ \t]+)?"
    r"(?:reports|presents|complains|notes|describes|has)"
    r"|presents[ \t]+with|complains[ \t]+of"
    r"|(?:reports|describes|notes)[ \t]+(?:\d+|a|an|one|two|three|several|few)[ \t]+"
    r"(?:days?|weeks?|months?)[ \t]+of)\b",
    # (not "Today: penicillin skin testing negative", a label beside a childhood reaction)
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Section:
    name: str  # canonical name
    start: int  # offset of the header
    end: int  # offset where the next section starts (or the text ends)
    header_end: int = -1  # offset where the header line's text ends


def find_sections(text: str) -> list[Section]:
    """Sections in order; text before the first header is not in any section."""
    heads: list[tuple[int, str, int]] = []
    bare_history: list[int] = []  # indexes into heads
    for m in _HEADER.finditer(text):
        raw = m.group("md") or m.group("colon") or m.group("caps") or m.group("line") or ""
        key = re.sub(r"\s+", " ", raw.strip(" #:").lower())
        name = _LOOKUP.get(key)
        if key == "history" and _STORY_OPENING.match(text, m.end()):
            name = "history_present_illness"
        elif key == "history":
            bare_history.append(len(heads))
        if name is not None:
            heads.append((m.start(), name, m.end()))
    for i in bare_history:
        start, _name, header_end = heads[i]
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        if _STORY_NOW.search(text, header_end, end):
            heads[i] = (start, "history_present_illness", header_end)
    return [
        Section(name, start, heads[i + 1][0] if i + 1 < len(heads) else len(text), header_end)
        for i, (start, name, header_end) in enumerate(heads)
    ]


class SectionIndex:
    """Fast offset -> section lookup for one note."""

    def __init__(self, sections: list[Section]) -> None:
        self._sections = sections
        self._starts = [s.start for s in sections]

    @classmethod
    def of(cls, text: str) -> SectionIndex:
        return cls(find_sections(text))

    def in_header(self, start: int, end: int) -> bool:
        """True when ``[start, end)`` lies inside a section header ("# Allergies", "PMH:")."""
        i = bisect.bisect_right(self._starts, start) - 1
        return i >= 0 and end <= self._sections[i].header_end

    def section_containing(self, offset: int) -> Section | None:
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0 or offset >= self._sections[i].end:
            return None
        return self._sections[i]

    def section_at(self, offset: int) -> str | None:
        section = self.section_containing(offset)
        return section.name if section is not None else None
