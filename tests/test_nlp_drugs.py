"""Drug names by dictionary: matching, the shorthand table, the analyzer and the alert's drug."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamproc.drugnames import read_shorthand
from streamproc.fhir.adverse_event import drug_name, finding_digest, medication_code
from streamproc.nlp.analyzer import Analyzer
from streamproc.nlp.drugs import DrugLexicon, packaged_lexicon
from streamproc.nlp.types import AdeRelation, CodeCandidate, DrugConcept, Entity

FURO = {"name": "Furosemide", "drugbank_id": "DB00695", "mesh_id": "D049994"}
DICTIONARY = {
    "drug_variant_to_canonical": {
        "furosemide": ["furosemide"],
        "lasix": ["furosemide"],
        "morphine": ["morphine"],
        "analgesics": ["analgesics"],  # a MeSH class: no drug mention
        "alkaline phosphatase": ["alkaline phosphatase"],
        "ace": ["ace"],
        "piperacillin and tazobactam": ["pip/tazo"],
        "pseudomonas aeruginosa": ["pseudomonas aeruginosa"],
    },
    "drug_canonical_to_data": {
        "furosemide": FURO,
        "morphine": {"name": "Morphine", "drugbank_id": "DB00295"},
        "analgesics": {"name": "Analgesics", "mesh_id": "D000700"},
        "alkaline phosphatase": {"name": "Alkaline phosphatase", "drugbank_id": "DB00000"},
        "ace": {"name": "Ace", "drugbank_id": "DB99999"},
        "pip/tazo": {"name": "Piperacillin and Tazobactam", "medline_plus_id": "a000000"},
        # DrugBank's allergenic extract of an organism
        "pseudomonas aeruginosa": {"name": "Pseudomonas aeruginosa", "drugbank_id": "DB19284"},
    },
}


@pytest.fixture
def shorthand(tmp_path: Path) -> Path:
    path = tmp_path / "shorthand.tsv"
    path.write_text(
        "# kind\tterm\tvalue\nalias\tmso4\tmorphine\nalias\tpip-tazo\tpiperacillin and tazobactam\n"
        "exclude\talkaline phosphatase\n"
    )
    return path


def found(lexicon: DrugLexicon, text: str) -> list[tuple[str, str]]:
    return [(text[m.start : m.end], m.concept.name) for m in lexicon.find(text)]


def test_brands_shorthand_and_longest_match(shorthand: Path) -> None:
    lex = DrugLexicon.from_dictionary(DICTIONARY, shorthand)
    text = "Hypotensive after Lasix x2 and MSO4 2mg; started piperacillin and tazobactam, pip-tazo."
    assert found(lex, text) == [
        ("Lasix", "Furosemide"),
        ("MSO4", "Morphine"),
        ("piperacillin and tazobactam", "Piperacillin and Tazobactam"),  # one three-word name
        ("pip-tazo", "Piperacillin and Tazobactam"),
    ]


def test_classes_excluded_entries_and_short_words_are_not_drugs(shorthand: Path) -> None:
    lex = DrugLexicon.from_dictionary(DICTIONARY, shorthand)
    text = "analgesics given; alkaline phosphatase 140; ACE level; no lasixx; pneumonia due to Pseudomonas aeruginosa"
    assert found(lex, text) == []


def test_an_alias_to_an_unknown_drug_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "s.tsv"
    bad.write_text("alias\tvanco\tvancomycin\n")
    with pytest.raises(ValueError, match="vanco"):
        DrugLexicon.from_dictionary(DICTIONARY, bad)


def test_lookup_names_the_one_drug_in_a_mention(shorthand: Path) -> None:
    lex = DrugLexicon.from_dictionary(DICTIONARY, shorthand)
    assert (
        lex.lookup("IV Lasix")
        == lex.lookup("furosemide")
        == DrugConcept(name="Furosemide", drugbank="DB00695")
    )
    assert lex.lookup("lasix and morphine") is None  # two drugs: no single name
    assert lex.lookup("saline") is None


def test_a_combination_written_with_a_hyphen_or_slash_is_one_drug() -> None:
    """MICU note: "piperacillin-tazobactam" had no name, so its nephrotoxicity alerted nothing."""
    lex = packaged_lexicon()
    assert lex.lookup("piperacillin-tazobactam") == lex.lookup("piperacillin and tazobactam")
    combined = lex.lookup("buprenorphine-naloxone")
    assert combined is not None and combined.drugbank is None
    assert combined.name == "Buprenorphine / Naloxone"
    assert lex.lookup("vancomycin and piperacillin-tazobactam") is None  # a list: two drugs
    # a formulation prefix the dictionary lacks belongs to the drug it is hyphened to
    text = "Peripheral neuropathy from nab-paclitaxel persists."
    (drug,) = lex.annotate(text, [])
    assert (drug.text, drug.concept) == ("nab-paclitaxel", lex.lookup("paclitaxel"))


def test_annotate_adds_missed_drugs_and_names_found_ones(shorthand: Path) -> None:
    lex = DrugLexicon.from_dictionary(DICTIONARY, shorthand)
    text = "lasix gtt; MSO4 for pain; furosemide toxicity"
    gtt = Entity(label="treatment", start=0, end=9, text="lasix gtt")
    toxicity = Entity(label="problem", start=26, end=45, text="furosemide toxicity")
    out = lex.annotate(text, [gtt, toxicity])
    assert [(e.text, e.label, e.concept.name if e.concept else None) for e in out] == [
        ("lasix gtt", "treatment", "Furosemide"),
        ("MSO4", "drug", "Morphine"),
        ("furosemide toxicity", "problem", None),  # a problem keeps its span and label
    ]


def test_a_drug_tagged_as_a_problem_in_the_slot_of_a_cause_is_the_drug() -> None:
    """ICU and OPAT notes (round 46): "Neuroleptic malignant syndrome due to haloperidol" and
    "DRESS syndrome (…) due to vancomycin" tagged the drug a problem ("vancomycin" became
    resistance to vancomycin, Z16.21) and alerted nothing; a problem there stays one."""
    lex = packaged_lexicon()
    text = "NMS due to haloperidol; delirium secondary to serotonin syndrome; vancomycin"

    def problem(word: str) -> Entity:
        start = text.index(word)
        return Entity(label="problem", start=start, end=start + len(word), text=word)

    out = lex.annotate(text, [problem("haloperidol"), problem("serotonin syndrome")])
    assert [(e.text, e.label, e.concept.name if e.concept else None) for e in out] == [
        ("haloperidol", "drug", "Haloperidol"),
        ("serotonin syndrome", "problem", None),
        ("vancomycin", "drug", "Vancomycin"),  # no entity there: the dictionary's own
    ]


def test_a_drug_tagged_as_a_problem_glossing_a_cause_is_the_drug() -> None:
    """Medicine admission (round 56): "hypercalcemia from milk-alkali syndrome (calcium
    carbonate)" tagged the drug a problem (a disorder of calcium metabolism, E83.50); a problem
    glossing another finding stays one."""
    lex = packaged_lexicon()
    text = "hypercalcemia from milk-alkali syndrome (calcium carbonate); rash (urticaria)"

    def problem(word: str) -> Entity:
        start = text.index(word)
        return Entity(label="problem", start=start, end=start + len(word), text=word)

    out = lex.annotate(text, [problem("calcium carbonate"), problem("urticaria")])
    assert [(e.text, e.label) for e in out] == [
        ("calcium carbonate", "drug"),
        ("urticaria", "problem"),
    ]


def test_the_packaged_table_and_dictionary_agree() -> None:
    """Every shorthand row names a real dictionary entry (the loader raises otherwise), and the
    product's dictionary knows the names ICU notes use."""
    aliases, excluded = read_shorthand()
    lex = packaged_lexicon()
    assert aliases and excluded and len(lex.names) > 20_000
    assert not excluded & set(lex.names)
    text = "after lasix and MSO4, levophed gtt; KCL 40meq; alkaline phosphatase 90; alcohol"
    assert found(lex, text) == [
        ("lasix", "Furosemide"),
        ("MSO4", "Morphine"),
        ("levophed", "Norepinephrine"),
        ("KCL", "Potassium chloride"),
    ]


def test_the_analyzer_adds_a_drug_the_model_missed() -> None:
    class NoNer:
        version = "none"

        def predict(self, texts: list[str]) -> list[list[object]]:
            return [[] for _ in texts]

    text = "Pt hypotensive after receiving lasix.\n"
    lexicon = packaged_lexicon()
    analysis = Analyzer(NoNer(), drugs=lexicon).analyze_text(text, [])
    (drug,) = analysis.entities
    assert (drug.text, drug.label) == ("lasix", "drug")
    assert drug.concept is not None and drug.concept.drugbank == "DB00695"
    assert analysis.model_versions["drugs"] == lexicon.version  # changes with the table


def _relation(
    drug: str, concept: DrugConcept | None, effect: str = "hypotension", code: str | None = None
) -> AdeRelation:
    codes = (
        (CodeCandidate(code=code, display="Hypotension, unspecified", score=1.0),) if code else ()
    )
    return AdeRelation(
        drug=Entity(label="drug", start=0, end=len(drug), text=drug, concept=concept),
        effect=Entity(label="problem", start=20, end=20 + len(effect), text=effect, codes=codes),
        score=0.9,
        sentence_start=0,
        sentence_end=40,
    )


def test_the_alert_names_and_codes_the_drug() -> None:
    furosemide = DrugConcept(name="Furosemide", drugbank="DB00695")
    lasix, generic = _relation("lasix", furosemide), _relation("furosemide", furosemide)
    code = medication_code(lasix)
    assert code["text"] == "lasix"
    assert [(c["code"], c["display"]) for c in code["coding"]] == [("DB00695", "Furosemide")]
    digest = [
        finding_digest(b"k", "Patient/1", drug_name(r), "hypotension") for r in (lasix, generic)
    ]
    assert digest[0] == digest[1]  # one suspect drug, one alert
    unnamed = _relation("pain med", None)
    assert medication_code(unnamed) == {"text": "pain med"}


def test_a_brand_and_its_generic_alert_once_for_a_patient() -> None:
    from datetime import UTC, datetime

    from streamproc.config import Settings
    from streamproc.fhir.adverse_event import AdverseEventBuilder, validate
    from streamproc.nlp.types import NoteAnalysis
    from streamproc.records import NoteEvent, SourceRef
    from streamproc.state import MemoryStore

    def note(event_id: str) -> NoteEvent:
        return NoteEvent(
            event_id=event_id,
            source=SourceRef(topic="notes.deid"),
            message_format="fhir",
            message_type="DocumentReference",
            patient_ref="Patient/p-1",
            authored=datetime(2024, 3, 1, tzinfo=UTC),
            text="x" * 40,
            content_hash=event_id,
            deidentified=True,
        )

    furosemide = DrugConcept(name="Furosemide", drugbank="DB00695")
    builder = AdverseEventBuilder(Settings(), MemoryStore())
    first = builder.build(note("e1"), NoteAnalysis(relations=(_relation("lasix", furosemide),)))
    again = builder.build(
        note("e2"), NoteAnalysis(relations=(_relation("furosemide", furosemide),))
    )
    # the same drug and a differently worded effect with the same ICD-10-CM code: one finding
    coded = AdverseEventBuilder(Settings(), MemoryStore())
    one = coded.build(
        note("e3"),
        NoteAnalysis(relations=(_relation("lasix", furosemide, "hypotensive", "I95.9"),)),
    )
    two = coded.build(
        note("e4"),
        NoteAnalysis(relations=(_relation("furosemide", furosemide, "hypotension", "I95.9"),)),
    )
    assert len(one) == 1 and two == []
    (alert,) = [m.value for m in first]
    validate(alert)
    assert alert["contained"][0]["code"]["coding"][0]["code"] == "DB00695"
    assert again == []


def test_a_problem_that_is_only_a_drug_compound_is_the_drug() -> None:
    """ "Diarrhea, mycophenolate-associated": the tagger called the compound a problem, so no
    drug was there to blame; the compound is the cue and the drug an entity."""
    lex = packaged_lexicon()
    text = "3. Diarrhea, mycophenolate-associated - reduce dose; lithium-induced tremor."
    compound = Entity(label="problem", start=13, end=37, text=text[13:37])
    tremor = Entity(label="problem", start=53, end=75, text=text[53:75])
    assert (compound.text, tremor.text) == ("mycophenolate-associated", "lithium-induced tremor")
    out = lex.annotate(text, [compound, tremor])
    assert [(e.label, e.text) for e in out] == [
        ("drug", "mycophenolate"),
        ("problem", "lithium-induced tremor"),  # names a finding: kept
    ]
    assert out[0].concept == lex.lookup("mycophenolate")
    # a drug span the tagger read with its compound ("ambrisentan-related") is the drug alone
    text = "2. Peripheral edema, ambrisentan-related - furosemide."
    start = text.index("ambrisentan")
    read = Entity(label="drug", start=start, end=start + 19, text=text[start : start + 19])
    (drug,) = lex.annotate(text, [read])[:1]
    assert (drug.text, drug.concept) == ("ambrisentan", lex.lookup("ambrisentan"))
    # one read across a list item's spaced dash is the drug before it (round 33)
    text = "2. Diarrhea due to mycophenolate mofetil - switch to mycophenolate sodium."
    start = text.index("mycophenolate mofetil")
    read = Entity(label="treatment", start=start, end=start + 30, text=text[start : start + 30])
    assert read.text == "mycophenolate mofetil - switch"
    (drug,) = lex.annotate(text, [read])[:1]
    assert (drug.text, drug.end) == ("mycophenolate mofetil", start + 21)
    assert drug.concept == lex.lookup("mycophenolate mofetil")


def test_intravenous_immunoglobulin_is_named() -> None:
    """Kawasaki note (round 34): "IVIG" was no dictionary drug, so its aseptic meningitis and
    hemolysis alerted a bare model span (or nothing)."""
    lex = packaged_lexicon()
    assert lex.lookup("IVIG") == lex.lookup("human immunoglobulin G") is not None
    assert lex.lookup("intravenous immunoglobulin") == lex.lookup("IVIG")
