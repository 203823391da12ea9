"""What a note says of a problem's course: it resolved, or it is in remission.

FHIR ``Condition.clinicalStatus`` has ``resolved`` and ``remission`` beside ``active`` and
``inactive``. ConText reads "pneumonia, resolved" as absent, which answers "is it there now?";
but the patient had the pneumonia, and a problem list keeps it as resolved rather than dropping
it. "Alcohol use disorder, in sustained remission" is present, and the remission changes its code
(F10.21, not F10.20). Orthogonal to history (``history.py``): "history of AML, in remission" is
both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from streamproc.nlp.types import Assertion, Course

# ConText cues (rules.json, category ``absent``) that say a problem was there and has gone:
# "rash resolved", "oral ulcers last week, now healed", "…, which has since resolved", "was treated with oral vancomycin and has
# resolved", "no longer having headaches", "hepatitis C, cured" / "… with sustained virologic
# response", "ear pain is gone", "resolved shock". Not "resolving" (still there) and not the negations that say it never was ("no",
# "denies", "ruled out", "immune").
_RESOLUTION_CUE = re.compile(
    r"\b(?:resolved|(?<!once )(?<!when )(?<!until )(?<!if )recovered|no\s+longer|cured|sustained\s+vir(?:ologic|al)\s+response|svr\d+|gone"
    r"|went\s+away|healed)\b",
    re.IGNORECASE,
)
# "AUD, in sustained remission", "ALL (in complete remission)", "MDD - currently in partial
# remission": right after the problem, in its clause.
_REMISSION_AFTER = re.compile(
    # a qualifier may come first: "MDD, recurrent, in partial remission"
    r"(?:,[ \t]*[a-z]+(?:[ \t]+[a-z]+)?(?=[ \t]*,))?"
    r"[ \t]*(?:[,(\-–][ \t]*)?(?:(?:now|currently|which\s+is|is|was|has\s+been|been)\s+)?"
    r"in\s+(?:((?:(?!remission\b)[a-z-]+\s+){0,2})remission\b"
    # "AML in CR1" (first complete remission), "in PR" (partial): the hematology short forms
    r"|(?-i:(CR|PR))\d?\b)",
    re.IGNORECASE,
)
_FULL = frozenset({"full", "complete"})
# "prior basal cell carcinoma of the nose (excised 2014)", "lipoma, removed in 2019": taken out
# in a past year, so gone (not "rectal cancer, resected 11/20, on adjuvant FOLFOX")
_REMOVED_IN_YEAR = re.compile(
    r"[ \t]*[,(][ \t]*(?:s/p[ \t]+)?(?:excised|resected|removed|excision|resection)"
    r"[ \t]+(?:in[ \t]+)?(?:19|20)\d\d\b",
    re.IGNORECASE,
)


def resolved(assertion: Assertion, cue: str | None) -> bool:
    """Whether ConText's absent reading comes from a cue saying the problem went away."""
    return assertion == "absent" and cue is not None and bool(_RESOLUTION_CUE.search(cue))


def remission_after(text: str, end: int) -> str | None:
    """The remission stated right after a problem ending at ``end``: ``"full"``, ``"partial"``
    or ``""`` (degree not said); ``None`` when the text says nothing of remission there."""
    match = _REMISSION_AFTER.match(text, end)
    if match is None:
        return None
    if match.group(2):
        return "full" if match.group(2) == "CR" else "partial"
    words = set(match.group(1).lower().split())
    if "partial" in words:
        return "partial"
    return "full" if words & _FULL else ""


def clinical_course(
    text: str, end: int, assertion: Assertion, cue: str | None
) -> tuple[Course | None, str | None]:
    """The course a note states for a problem and, for a remission, its degree (see
    :func:`remission_after`)."""
    if resolved(assertion, cue):
        return "resolved", None
    if assertion == "present" and _REMOVED_IN_YEAR.match(text, end):
        return "resolved", None
    if assertion in ("present", "possible"):
        degree = remission_after(text, end)
        if degree is not None:
            return "remission", degree
    return None, None


# "…, which (has since) resolved" right after a drug
_WHICH_RESOLVED = re.compile(
    r"[ \t]*,[ \t]*which[ \t]+(?:has[ \t]+|had[ \t]+)?(?:since[ \t]+|now[ \t]+|also[ \t]+)?"
    r"resolved\b",
    re.IGNORECASE,
)
_SAME_CLAUSE_GAP = 80  # characters from the problem to its drug, no "." or ";" between


def resolved_past_drug(text: str, spans: Sequence[tuple[int, int, str]]) -> set[int]:
    """Indexes of the problems a "which resolved" after a drug speaks of: "a pruritic rash on
    day 3 after starting metronidazole, which resolved with diphenhydramine" (a drug does not
    resolve; ConText's scope stops at the drug and the rash was published active). ``spans``:
    (start, end, label) of the note's entities, in order. The problem is the last one before
    the drug, in its clause."""
    out: set[int] = set()
    for d, (d_start, d_end, label) in enumerate(spans):
        if label != "drug" or not _WHICH_RESOLVED.match(text, d_end):
            continue
        for p in range(d - 1, -1, -1):
            p_start, p_end, p_label = spans[p]
            gap = text[p_end:d_start]
            if len(gap) > _SAME_CLAUSE_GAP or re.search(r"[.;\n]", gap):
                break
            if p_label == "problem":
                out.add(p)
                break
    return out
