"""Section titles are topics, not findings: "# Allergies" must not become an allergy Condition."""

from __future__ import annotations

from streamproc.nlp.sections import SectionIndex

NOTE = "# Chief Complaint\n- Cough\n\n# Allergies\nNo Known Allergies.\n\nPMH: hypertension\n"


def _span(word: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = NOTE.index(word, start + 1)
    return start, start + len(word)


def test_header_text_is_recognised() -> None:
    index = SectionIndex.of(NOTE)
    assert index.in_header(*_span("Allergies"))
    assert index.in_header(*_span("Chief Complaint"))


def test_body_text_is_not_a_header() -> None:
    index = SectionIndex.of(NOTE)
    assert not index.in_header(*_span("Allergies", nth=1))  # "No Known Allergies."
    assert not index.in_header(*_span("Cough"))
    assert not index.in_header(*_span("hypertension"))  # after "PMH:" on the same line
    assert index.section_at(_span("hypertension")[0]) is not None


def test_problem_oriented_items_are_text_in_their_section() -> None:
    """Hepatology note: "# Hepatic encephalopathy, improving" was read as a markdown header,
    so the whole assessment was headers and none of its problems became a Condition."""
    note = (
        "Assessment and plan:\n# Hepatic encephalopathy, improving: continue lactulose.\n"
        "#2 Esophageal varices: continue nadolol.\n# Plan\nEGD in 3 months.\n"
    )
    index = SectionIndex.of(note)
    for word in ("Hepatic encephalopathy", "Esophageal varices"):
        start = note.index(word)
        assert not index.in_header(start, start + len(word))
        assert index.section_at(start) == "assessment_plan"
    plan = note.index("Plan\n")
    assert index.in_header(plan, plan + 4)  # a known section name stays a header


def test_a_line_that_only_names_a_section_is_its_header() -> None:
    """Geriatrics consult (round 16): "Assessment and Recommendations" on its own line, no colon,
    was no header, so its items were read as the HPI's."""
    note = (
        "HPI: Found on the floor.\nShe felt dizzy and fell.\n\nAssessment and Recommendations\n"
        "- Urinary retention - bladder scan q6h.\nFollow-up with urology\n"
    )
    index = SectionIndex.of(note)
    assert index.section_at(note.index("Urinary retention")) == "assessment_plan"
    assert index.in_header(note.index("Assessment"), note.index("Recommendations") + 15)
    # a line that names no known section is text ("She felt dizzy and fell." stays in the HPI)
    assert index.section_at(note.index("She felt")) == "history_present_illness"


def test_a_bare_history_heading_is_this_illness() -> None:
    """Nephrology consult (round 43): "HISTORY: 71-year-old woman ... admitted with fatigue and
    rash" was read as the past history, so the fatigue it admitted was an inactive problem-list
    item. A bare "History:" that opens with the patient's age tells this illness."""
    note = "Reason for consult: AKI.\n\nHISTORY: 71-year-old admitted with fatigue.\n\nPMH: CKD\n"
    index = SectionIndex.of(note)
    assert index.section_at(note.index("fatigue")) == "history_present_illness"
    assert index.section_at(note.index("CKD")) == "past_medical_history"
    # one that opens with no story of this illness is the past history, as it was
    past = "History: hypertension, former smoker (quit 2015).\nMeds: lisinopril\n"
    assert SectionIndex.of(past).section_at(past.index("hypertension")) == "past_medical_history"
    # round 51: nor one that tells what the patient reports today ("5 days of nausea" had
    # been an inactive problem-list item)
    now = "History: IGRA positive 11/2024. Today reports 5 days of nausea.\n\nExam: icterus\n"
    assert SectionIndex.of(now).section_at(now.index("nausea")) == "history_present_illness"
    label = "History: Reported rash to amoxicillin as a child. Today: skin testing negative.\n"
    assert SectionIndex.of(label).section_at(label.index("rash")) == "past_medical_history"
