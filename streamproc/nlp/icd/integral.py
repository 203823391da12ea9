"""Which symptom codes a diagnosis in the same note already includes, read from the tabular
list's Excludes1 notes ("not coded here": the two codes are never used together).

"Seizures" R56.9 beside "juvenile myoclonic epilepsy" G40.B09, "wheezing" R06.2 beside asthma
J45.909, "hyperglycemia" R73.9 beside type 1 diabetes, "auditory hallucinations" R44.0 beside
schizophrenia: the symptom is the diagnosis's, and a coder lists the diagnosis alone. Two kinds
of note say so: a symptom category that excludes the diagnosis ("R56 Excludes1: epileptic
convulsions and seizures (G40.-)") and a diagnosis that excludes the symptom NOS ("G40
Excludes1: seizure (convulsive) NOS (R56.9)").
"""

from __future__ import annotations

import re
from functools import lru_cache

# Symptom categories whose Excludes1 names *other* sites or kinds, not the same finding
# specified: pain of a named site (R52), edema of the lung or brain (R60), swelling of a joint
# (R22), any mental disorder (R46), coma in diabetes or liver failure (R40), the specific movement
# disorders (R25: a tremor beside akathisia is its own finding); and prediabetes (R73.0), an earlier
# stage beside diabetes, not its symptom (a Synthea history names both).
_OTHER_SITE_OR_KIND = ("R22", "R25", "R40", "R46", "R52", "R60", "R73.0")
# Pairs the notes do not state: septic shock is coded R65.21, and "shock" beside it is that shock.
# (a code or the start of one)
_GASTROENTERITIS = ("A08", "A09", "K52.9")
_ALSO_INCLUDED: dict[str, tuple[str, ...]] = {
    "R57.9": ("R65.21",),
    # the vomiting, nausea and diarrhea of a gastroenteritis are the illness itself ("Seen
    # yesterday for gastroenteritis with vomiting", round 59, had published R11.10 beside A08.4)
    "R11.0": _GASTROENTERITIS,
    "R11.10": _GASTROENTERITIS,
    "R11.2": _GASTROENTERITIS,
    "R19.7": _GASTROENTERITIS,
}
# Pairs the notes state but a note means otherwise: "delirium" is coded R41.0 (the index's
# "Delirium NOS"), whose category excludes mild cognitive impairment G31.84 as "confusion"; a
# delirium beside the impairment is an acute illness of its own ("Delirium, hypoactive,
# multifactorial" in a patient with mild cognitive impairment had become the impairment's).
_NOT_INCLUDED = {"R41.0": ("G31.84",)}
# a code or a range of codes in an Excludes1 note: "(G40.-)", "(R56.9)", "(F20-F29)", "(E08-E13)"
_REF = re.compile(
    r"\(([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]*)?)-?(?:-([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]*)?)-?)?\)"
)

Range = tuple[str, str]


def _excludes1(code: str) -> list[str]:
    """The Excludes1 notes of a code and of every category and block above it (not chapters,
    whose notes send whole chapters elsewhere)."""
    import simple_icd_10_cm as cm

    if not cm.is_valid_item(code):
        return []
    notes: list[str] = []
    for item in [code, *cm.get_ancestors(code)]:
        if not cm.is_chapter(item):
            notes.extend(cm.get_excludes1(item))
    return notes


def _refs(note: str) -> list[Range]:
    return [
        (m.group(1).rstrip("."), (m.group(2) or m.group(1)).rstrip("."))
        for m in _REF.finditer(note)
    ]


def _in_range(code: str, ref: Range) -> bool:
    low, high = ref
    return code[: len(low)] >= low and code[: len(high)] <= high


@lru_cache(maxsize=4096)
def _diagnoses_excluded_by(symptom: str) -> tuple[Range, ...]:
    if symptom.startswith(_OTHER_SITE_OR_KIND):
        return ()
    return tuple(
        ref
        for note in _excludes1(symptom)
        for ref in _refs(note)
        if not ref[0].startswith(("R", "P", "Z"))  # symptoms, perinatal, status: not the same
    )


@lru_cache(maxsize=4096)
def _symptoms_excluded_by(diagnosis: str) -> tuple[Range, ...]:
    return tuple(
        ref
        for note in _excludes1(diagnosis)
        if " NOS " in f"{note} "
        for ref in _refs(note)
        if ref[0].startswith("R")
    )


def includes_symptom(diagnosis: str, symptom: str) -> bool:
    """Whether the symptom code ``symptom`` (chapter R) is part of ``diagnosis`` when a note
    names both, so that the symptom's mentions are evidence of the diagnosis, not a Condition."""
    if not symptom.startswith("R") or diagnosis == symptom:
        return False
    if diagnosis.startswith(_ALSO_INCLUDED.get(symptom, ())):
        return True
    if diagnosis.startswith("R") or diagnosis in _NOT_INCLUDED.get(symptom, ()):
        return False
    return any(_in_range(diagnosis, ref) for ref in _diagnoses_excluded_by(symptom)) or any(
        _in_range(symptom, ref) for ref in _symptoms_excluded_by(diagnosis)
    )
