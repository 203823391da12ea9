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
