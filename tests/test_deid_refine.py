"""Note-level refinements: name propagation and the PHI-model span filter (synthetic text)."""

from __future__ import annotations

from typing import Any

import pytest

from streamproc.deid.detect.analyzer import Analyzer
from streamproc.deid.detect.lexicons import Lexicons, load_lexicons
from streamproc.deid.detect.refine import ModelSpanFilter, NamePropagation
from streamproc.deid.types import AGE, DATE, LOCATION, NAME, PHONE, PhiSpan


@pytest.fixture(scope="module")
def lex() -> Lexicons:
    return load_lexicons()


def span(text: str, value: str, kind: str = NAME, nth: int = 0) -> PhiSpan:
    start = -1
    for _ in range(nth + 1):
        start = text.index(value, start + 1)
    return PhiSpan(start, start + len(value), kind, 0.9, "test")


def texts(text: str, spans: list[PhiSpan]) -> list[str]:
    return [text[s.start : s.end] for s in sorted(spans, key=lambda s: s.start)]


def test_propagation_marks_bare_later_mentions(lex: Lexicons) -> None:
    text = "spoke with Radu Crosson (son). Radu wishes to visit; RADU called again. Raduz no."
    out = NamePropagation(lex).refine(text, [span(text, "Radu Crosson")])
    assert texts(text, out) == ["Radu Crosson", "Radu", "RADU"]


def test_propagation_skips_ordinary_words(lex: Lexicons) -> None:
    # a name span that is an ordinary word (a false positive) must not spread through the note
    text = "Rhonchi noted. BS with rhonchi; rhonchi cleared."
    out = NamePropagation(lex).refine(text, [span(text, "Rhonchi")])
    assert texts(text, out) == ["Rhonchi"]


def test_analyzer_applies_refiners(lex: Lexicons) -> None:
    class Source:
        def analyze(self, text: str) -> list[PhiSpan]:
            return [span(text, "Suzette")]

    text = "dtr Suzette in; suzette called at noon"
    plain = Analyzer([Source()]).analyze(text)
    refined = Analyzer([Source()], refiners=[NamePropagation(lex)]).analyze(text)
    assert texts(text, plain) == ["Suzette"]
    assert texts(text, refined) == ["Suzette", "suzette"]


@pytest.mark.parametrize(
    "text, value, kept",
    [
        ("chaplain visisted the unit", "visisted", False),  # misspelling, lower case
        ("R IJ quinton accessed", "quinton", False),  # ordinary clinical word
        ("daughters sarah and margie visited", "margie", True),  # after a relation word
        ("nsg (d. renna) counted the cash", "d. renna", True),  # initial + surname
        ("Seen by Zabrowski today", "Zabrowski", True),  # capitalised non-word
    ],
)
def test_model_span_filter(lex: Lexicons, text: str, value: str, kept: bool) -> None:
    s = span(text, value)
    assert ModelSpanFilter(lex).filter(text, [s]) == ([s] if kept else [])


def test_model_filter_drops_drug_names(lex: Lexicons) -> None:
    # the model took glucagon for a town; "Allegra" is a brand and a first name: kept
    text = "Atropine given with improvement, glucagon, admit to CCU. Seen with Allegra Diaz."
    spans = [span(text, "glucagon", LOCATION), span(text, "Allegra", NAME)]
    assert "glucagon" in lex.drug_names and "allegra" in lex.drug_names
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["Allegra"]


def test_model_filter_drops_a_date_of_punctuation_alone(lex: Lexicons) -> None:
    # round 28: the model tagged the "/" of "reduce to 24/26 mg BID" as a date ("24[DATE]26")
    text = "reduce to 24/26 mg BID; seen 3/14 for follow-up"
    slash = text.index("/")
    spans = [PhiSpan(slash, slash + 1, DATE, 0.9, "phi_model"), span(text, "3/14", DATE)]
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["3/14"]


def test_model_date_starting_with_the_oct_test_keeps_the_date_alone(lex: Lexicons) -> None:
    # round 58: the model's "OCT 09/2025" had no surrogate ("last [DATE] normal")
    text = "annual retinal screening (last OCT 09/2025 normal), seen OCT 12, 2025"
    spans = [span(text, "OCT 09/2025", DATE), span(text, "OCT 12, 2025", DATE)]
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["09/2025", "OCT 12, 2025"]


def test_model_filter_drops_diagnoses_by_their_ending(lex: Lexicons) -> None:
    # round 26: "1. Glioblastoma, left frontal" became "Harmony", and name propagation then
    # masked every "glioblastoma" of the note; a known name with such an ending stays a name
    text = "1. Glioblastoma, left frontal. Cholangitis resolved. Eufemia Diaz, Dr. Bakaitis."
    spans = [span(text, v, NAME) for v in ("Glioblastoma", "Cholangitis", "Eufemia", "Bakaitis")]
    assert "eufemia" in lex.names
    # "-aitis" is a Lithuanian surname's ending (the PhysioNet gold has one), never a disease's
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["Eufemia", "Bakaitis"]


def test_model_filter_keeps_states_and_countries(lex: Lexicons) -> None:
    # states and countries are not Safe Harbor identifiers; towns are
    text = "niece lives in California; son from calif. and Towson"
    spans = [span(text, v, LOCATION) for v in ("California", "calif", "Towson")]
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["Towson"]


@pytest.mark.parametrize(
    "text, value, kept",
    [
        ("WBC from this AM 9.2 today", "9", False),
        ("EXPIRED AT APPROX 0320.", "0320", False),
        ("weaned from PS 15 to 10 tonight", "10", False),
        ("CABG in 1998 at OSH", "1998", True),
        ("extubated 10/3 at noon", "10/3", True),
        ("brought to morgue at 2000.", "2000", False),
        # M/D shapes: pain scores and vent settings are not dates, dates near "vent" are
        ("C/O INCISIONAL PAIN #9/10. DENIES CHEST PAIN", "9/10", False),
        ("episode of cp 5/10, ekg done", "5/10", False),
        ("Patient on PSV of 15/5, 30% t/o night", "15/5", False),
        ("MECH VENT VIA TRACH (PLACED 8/14). AC 100%", "8/14", True),
        ("FROM 9/16 TO 9/20 PATIENT WAS FREE OF ANY S/SX", "9/20", True),
    ],
)
def test_model_date_filter(lex: Lexicons, text: str, value: str, kept: bool) -> None:
    s = span(text, value, DATE)
    assert ModelSpanFilter(lex).filter(text, [s]) == ([s] if kept else [])


def test_model_filter_drops_ordinary_places_and_clock_phones(lex: Lexicons) -> None:
    text = "HR 104 IN ST WITH PVCS. NOTES WRITTEN AT 0732, 0747 REFER TO BED 4; cell 617-555-0100"
    spans = [
        span(text, "ST", LOCATION),
        span(text, "0747", PHONE),
        span(text, "617-555-0100", PHONE),
    ]
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["617-555-0100"]


def test_model_filter_keeps_only_ages_over_89(lex: Lexicons) -> None:
    # The PHI model tagged "73" in an RTF progress note; only 90+ is aggregated by Safe Harbor.
    text = "HPI: 73 y/o woman; her mother, 94 yo, and a man in his nineties; age 90 exactly"
    spans = [span(text, v, AGE) for v in ("73", "94", "nineties", "90")]
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["94", "nineties", "90"]


@pytest.mark.parametrize(
    ("text", "value", "kind", "kept"),
    [
        # what the PHI model tagged in disease names: the surrogate broke the finding
        ("Patient developed Stevens-Johnson syndrome after carbamazepine.", "Stevens", NAME, False),
        ("Kaposi sarcoma lesions on the legs.", "Kaposi", NAME, False),
        ("GLASGOW COMA SCALE 8", "GLASGOW", LOCATION, False),
        ("Mallory-Weiss tear on EGD.", "Mallory-Weiss", NAME, False),
        ("Hx of Parkinson's disease.", "Parkinson's", NAME, False),
        ("Brudzinski and Kernig signs negative.", "Kernig", NAME, False),
        ("Richmond Agitation Sedation Scale -2", "Richmond", LOCATION, False),
        ("Serotonin syndrome (Hunter criteria met) from tramadol", "Hunter", NAME, False),
        # round 35: "Graves disease" had become "Clements disease", the Graves note's principal
        # problem lost; eponyms the tabular list does not write (or writes in brackets)
        ("37-year-old woman with Graves disease diagnosed in August.", "Graves", NAME, False),
        ("Graves' disease, on methimazole.", "Graves", NAME, False),
        ("Complete Kawasaki disease on day 5.", "Kawasaki", NAME, False),
        ("Ewing sarcoma of the femur.", "Ewing", NAME, False),
        ("Mrs. Graves is here with her son.", "Graves", NAME, True),
        # round 39: a staging system's name ("Hurley stage II" became "Osborne stage II")
        ("Hidradenitis suppurativa, Hurley stage II, both axillae.", "Hurley", NAME, False),
        ("Hidradenitis suppurativa, Hurley II, partially controlled.", "Hurley", NAME, False),
        ("Mr. Hurley is here.", "Hurley", NAME, True),
        # round 47: a clinical test's eponym ("Thompson test" became "Roberson test")
        ("Thompson test positive on the left.", "Thompson", NAME, False),
        # round 51: a qualifier the span took along ("Classic Hodgkin lymphoma" had become
        # "Reilly Howard lymphoma")
        ("Classic Hodgkin lymphoma, stage IIB.", "Classic Hodgkin", NAME, False),
        ("Acute Guillain-Barre syndrome.", "Acute Guillain-Barre", NAME, False),
        ("Spoke with Anna Hodgkin today.", "Anna Hodgkin", NAME, True),
        # the same words as a person or a place stay PHI
        ("Mr. Parkinson's wife called.", "Parkinson's", NAME, True),
        ("Dr. Stevens saw the patient.", "Stevens", NAME, True),
        ("Moved here from Glasgow last year.", "Glasgow", LOCATION, True),
        ("Kaposi called back.", "Kaposi", NAME, True),
        ("Seen with Dr. Hunter today.", "Hunter", NAME, True),
        # only names and places are ever dropped
        ("Stevens-Johnson syndrome", "Stevens", DATE, True),
    ],
)
def test_eponyms_are_no_names(text: str, value: str, kind: str, kept: bool) -> None:
    from streamproc.deid.detect.eponyms import EponymFilter

    found = span(text, value, kind)
    assert (EponymFilter().refine(text, [found]) == [found]) is kept


def test_shipped_eponyms_match_the_icd_tabular_list() -> None:
    """The generated part of conf/eponyms.txt is what ``python -m …eponyms`` writes today."""
    from importlib import resources

    from streamproc.deid.detect.eponyms import GENERATED_MARK, format_table, icd_eponyms

    shipped = (resources.files("streamproc.deid.conf") / "eponyms.txt").read_text("utf-8")
    assert shipped.split(GENERATED_MARK + "\n", 1)[1] == format_table(icd_eponyms())


def test_the_deid_analyzer_leaves_eponyms_in_clear(lex: Lexicons) -> None:
    from streamproc.deid.detect.eponyms import EponymFilter

    text = "Dr. Stevens notes Stevens-Johnson syndrome; Stevens to follow up."
    spans = [span(text, "Stevens"), span(text, "Stevens", nth=1)]
    analyzer = Analyzer([], refiners=[EponymFilter(), NamePropagation(lex), EponymFilter()])
    got = texts(text, analyzer.resolve(text, spans))
    # the doctor, and the bare later mention propagated from him, stay names; the syndrome not
    assert got == ["Stevens", "Stevens"]
    kept = sorted(s.start for s in analyzer.resolve(text, spans))
    assert text[kept[1] + len("Stevens") :].startswith(" to follow up")


def test_a_specialty_title_is_no_name_pair(lex: Lexicons) -> None:
    """Round 35: the title "Endocrinology Urgent Visit" became "Wagner Flynn Visit" (two
    capitalised words no lexicon knew); a specialty or diagnosis word is no surname. A pair of
    unknown names is still one."""
    from streamproc.deid.detect.recognizers.name import NameRecognizer

    found = NameRecognizer(lex)._unknown_pairs(
        "Endocrinology Urgent Visit\nSpoke with Radu Crosson."
    )
    assert [s.source for s in found] == ["name_unknown_pair"]
    assert found[0].start == len("Endocrinology Urgent Visit\nSpoke with ")


def test_model_filter_cuts_a_name_read_across_commas_at_a_specialty(lex: Lexicons) -> None:
    """Ophthalmology note (round 45): "Dr. Susan Pratt, Rheumatology, Valley View Arthritis
    Center" was one model name, and "rheumatology", propagated, a surrogate name all through
    the note. A name written last-name-first stays whole."""
    text = "Referring: Dr. Susan Pratt, Rheumatology, Valley View Arthritis Center. Pratt, Susan."
    across = PhiSpan(text.index("Susan"), text.index(" Arthritis"), NAME, 0.95, "phi_model")
    pieces = ModelSpanFilter(lex).filter(text, [across])
    assert [text[s.start : s.end] for s in pieces] == ["Susan Pratt", "Valley View"]
    inverted = PhiSpan(text.index("Pratt, Susan"), len(text) - 1, NAME, 0.95, "phi_model")
    assert [text[s.start : s.end] for s in ModelSpanFilter(lex).filter(text, [inverted])] == [
        "Pratt, Susan"
    ]


def test_model_filter_cuts_a_name_at_the_gap_before_the_next_header_field(lex: Lexicons) -> None:
    """Bone clinic (round 52): "Consultant: Dr. Hyun-woo Bae   Referred by: Dr. Elena …" was
    one model name, and "Referred" became "Frye". Two names in a gap-separated header stay."""
    text = "Consultant: Dr. Hyun-woo Bae   Referred by: Dr. Elena Castellanos"
    across = PhiSpan(text.index("Hyun"), text.index(" by:"), NAME, 0.95, "phi_model")
    assert [text[s.start : s.end] for s in ModelSpanFilter(lex).filter(text, [across])] == [
        "Hyun-woo Bae"
    ]
    both = "Patients: Radu Crosson   Elena Castellanos"
    whole = PhiSpan(both.index("Radu"), len(both), NAME, 0.95, "phi_model")
    assert ModelSpanFilter(lex).filter(both, [whole]) == [whole]


def test_model_filter_reads_a_long_bare_number_dated_by_the_model_as_a_number(
    lex: Lexicons,
) -> None:
    """ED note (round 57): the model read "MRN 19957203" as a date, whose surrogate failed:
    the note said "MRN [DATE]". Eight digits that are a calendar date stay one."""
    from streamproc.deid.types import ID

    text = "MRN 19957203; seen 20240105."
    got = ModelSpanFilter(lex).filter(
        text, [span(text, "19957203", DATE), span(text, "20240105", DATE)]
    )
    assert [(text[s.start : s.end], s.entity_type) for s in got] == [
        ("19957203", ID),
        ("20240105", DATE),
    ]


def test_model_filter_drops_gravidity_and_parity(lex: Lexicons) -> None:
    """Menopause clinic (round 47): "53-year-old G2P2" became "53-year-old NORTHGATE"."""
    text = "HPI: 53-year-old G2P2 with natural menopause. G3P2-0-1-2 woman."
    spans = [span(text, "G2P2", LOCATION), span(text, "G3P2-0-1-2", NAME)]
    assert ModelSpanFilter(lex).filter(text, spans) == []


def test_model_filter_drops_a_numbered_acronym(lex: Lexicons) -> None:
    """ICU note (round 48): "GLP-1 receptor agonist" became "OAK HARBOR-1 receptor agonist"."""
    text = (
        "Discharge on a GLP-1 receptor agonist instead of an SGLT2 inhibitor; moved to GLP Street."
    )
    spans = [span(text, "GLP", LOCATION), span(text, "SGLT", LOCATION)]
    assert ModelSpanFilter(lex).filter(text, spans) == []


@pytest.fixture(scope="module")
def shipped() -> Any:
    """The shipped analyzer (PHI model and rules), as the pipeline runs it."""
    from streamproc.deid.engine import build_analyzer

    analyzer, _version = build_analyzer("merged")
    return analyzer


@pytest.mark.parametrize(
    ("text", "kept_in_clear"),
    [
        # rounds 52 and 54: a header's field labels beside names had become surnames
        (
            "Consultant: Dr. Hyun-woo Bae   Referred by: Dr. Elena Castellanos (Orthopaedics)",
            "Referred",
        ),
        (
            "Visit: 01/21/2025   Psychiatrist: Svetlana Ivanova-Brooks, MD   Accompanied by: son "
            "Declan",
            "Accompanied",
        ),
    ],
)
def test_the_shipped_analyzer_leaves_header_labels_in_clear(
    shipped: Any, text: str, kept_in_clear: str
) -> None:
    at = text.index(kept_in_clear)
    spans = shipped.analyze(text)
    assert not any(s.start < at + len(kept_in_clear) and at < s.end for s in spans)
    assert any(s.entity_type == NAME for s in spans)


def test_round_59_occupations_devices_and_a_letter_are_no_phi(lex: Lexicons) -> None:
    """Endocrinology and geriatric notes (round 59): "retired machinist" became "retired
    glenwood", "glucometer prescription" "briarwood prescription"; the "a" of "after a fall"
    was a date. A surname that is also a job word ("Mason") stays a name."""
    text = "retired machinist; glucometer prescription; after a fall; Dr. Mason saw him"
    spans = [
        span(text, "machinist", LOCATION),
        span(text, "glucometer", LOCATION),
        span(text, "a", DATE, nth=text.count("a", 0, text.index("a fall"))),
        span(text, "Mason", NAME),
    ]
    assert texts(text, ModelSpanFilter(lex).filter(text, spans)) == ["Mason"]
