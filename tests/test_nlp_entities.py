"""A trained token classifier's spans become ``nlp.types.Entity`` with exact offsets."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamproc.nlp.entities import join_glosses, to_entities, with_qualifiers, without_non_findings
from streamproc.nlp.icd import IcdCoder
from streamproc.nlp.token_classifier import TokenClassifier
from streamproc.nlp.types import Entity
from streamproc.train.core import TrainConfig, train_token_classifier
from streamproc.train.examples import Example, Span
from streamproc.train.testing import tiny_base


def test_trained_model_spans_become_entities_with_offsets(tmp_path: Path) -> None:
    base = tiny_base(tmp_path / "base")
    rng = random.Random(0)
    exs = []
    for i in range(48):
        p, d = rng.choice(["diabetes", "hypertension"]), rng.choice(["insulin", "heparin"])
        text = f"History of {p} treated with {d} ."
        a, b = text.index(p), text.index(d)
        exs.append(
            Example(str(i), text, (Span(a, a + len(p), "problem"), Span(b, b + len(d), "drug")))
        )
    cfg = TrainConfig(epochs=4, lr=1e-2, batch_size=8, max_length=24, trainable="full", patience=4)
    res = train_token_classifier(
        exs[:40], exs[40:], ["problem", "drug"], cfg, tmp_path / "ner", "ner", base=base
    )
    assert res["best_f1"] > 0.5  # the tiny model does learn this pattern
    clf = TokenClassifier.from_path(
        tmp_path / "ner", max_tokens=64, stride=16, batch_size=4, device="cpu", threads=1
    )
    assert clf.version == res["version"]
    texts = [exs[41].text, "", "History of diabetes treated with insulin . " * 20]
    out = [to_entities(t, spans) for t, spans in zip(texts, clf.predict(texts), strict=True)]
    assert len(out) == 3 and out[1] == []
    for text, ents in zip(texts, out, strict=True):
        for e in ents:
            assert isinstance(e, Entity)
            assert e.text == text[e.start : e.end] and e.label in {"problem", "drug"}
            assert 0.0 <= e.score <= 1.0
    assert any(e.label == "problem" and e.text == "diabetes" for e in out[2])


def test_entities_never_leave_a_parenthesis_open() -> None:
    from types import SimpleNamespace

    text = "History of severe anxiety (panic) (finding), gout (flare and rash."

    def span(phrase: str) -> SimpleNamespace:
        start = text.index(phrase)
        return SimpleNamespace(start=start, end=start + len(phrase), label="problem", score=0.9)

    got = [e.text for e in to_entities(text, [span("severe anxiety (panic"), span("gout (flare")])]
    # the ")" right after the span closes it; otherwise the span stops before the open "("
    assert got == ["severe anxiety (panic)", "gout"]


def test_a_course_gloss_joins_its_finding() -> None:
    """OPAT note (round 55): "eosinophilic pneumonia (acute)" had coded as the NOS J82.81
    (chronic); the course in brackets is part of the finding."""
    from streamproc.nlp.entities import join_glosses

    text = "Daptomycin-induced eosinophilic pneumonia (acute) - stopped"
    start = text.index("eosinophilic")
    ent = Entity(label="problem", start=start, end=start + 22, text=text[start : start + 22])
    (joined,) = join_glosses(text, [ent], lambda a, b: False)
    assert joined.text == "eosinophilic pneumonia (acute)"
    inner = text.index("acute")
    found = Entity(label="problem", start=inner, end=inner + 5, text="acute")
    (joined,) = join_glosses(text, [ent, found], lambda a, b: False)
    assert joined.text == "eosinophilic pneumonia (acute)"


def test_a_span_ending_on_a_preposition_and_its_article_ends_before_them() -> None:
    """Dermatology consult (round 44): the tagger's "rash on the [face]" had coded as a serum
    reaction, T80.61XA."""
    from types import SimpleNamespace

    text = (
        "a painful rash on the face; numbness and tingling in both feet; hepatitis A; "
        "synovitis of the 2nd and 3rd MCPs"
    )

    def span(phrase: str) -> SimpleNamespace:
        start = text.index(phrase)
        return SimpleNamespace(start=start, end=start + len(phrase), label="problem", score=0.9)

    # round 52: "synovitis of the 2nd" had read as a transient synovitis, M67.30
    spans = [
        span("rash on the"),
        span("tingling in both"),
        span("hepatitis A"),
        span("synovitis of the 2nd"),
    ]
    assert [e.text for e in to_entities(text, spans)] == [
        "rash",
        "tingling",
        "hepatitis A",
        "synovitis",
    ]


def test_a_drug_or_problem_ends_at_a_spaced_dash() -> None:
    from streamproc.nlp.entities import ending_at_delimiters

    text = "Due to nivolumab - start levothyroxine; anti-PD-1.\nSkin - Yeast infection - improving"

    def ent(phrase: str, label: str) -> Entity:
        start = text.index(phrase)
        return Entity(label=label, start=start, end=start + len(phrase), text=phrase)  # type: ignore[arg-type]

    got = ending_at_delimiters(
        text,
        [
            ent("nivolumab - start", "drug"),
            ent("anti-PD-1", "drug"),
            ent("Skin - Yeast infection - improving", "problem"),
            ent("start levothyroxine", "treatment"),
        ],
    )
    # the plan after the delimiter is no part of the drug, a name's own hyphens stay, a system
    # heading is no delimiter (without_inline_headings takes it off), tests and treatments stay
    assert [e.text for e in got] == [
        "nivolumab",
        "anti-PD-1",
        "Skin - Yeast infection",
        "start levothyroxine",
    ]


def test_a_problem_takes_the_stage_written_after_it() -> None:
    from types import SimpleNamespace

    text = (
        "Has chronic kidney disease stage 3 (disorder), breast cancer, stage IIIa and CKD.\nstage 2"
    )
    spans = [
        SimpleNamespace(start=4, end=26, label="problem", score=0.9),
        SimpleNamespace(start=47, end=60, label="problem", score=0.9),
        SimpleNamespace(start=77, end=80, label="problem", score=0.9),  # stage on the next line
        SimpleNamespace(start=47, end=53, label="drug", score=0.9),  # only problems take it
    ]
    assert [e.text for e in to_entities(text, spans)] == [
        "chronic kidney disease stage 3",
        "breast cancer, stage IIIa",
        "CKD",
        "breast",
    ]


def _ent(text: str, phrase: str, label: str = "problem") -> Entity:
    start = text.index(phrase)
    return Entity(label=label, start=start, end=start + len(phrase), text=phrase, score=0.9)  # type: ignore[arg-type]


def test_a_problem_glossed_by_a_problem_in_parentheses_is_one_problem() -> None:
    text = "Severe anxiety (panic), CHF ( EF 30% ), sepsis (pneumonia) and stroke ( CVA ).\n"
    ents = [_ent(text, "Severe anxiety"), _ent(text, "panic"), _ent(text, "CHF"),
            _ent(text, "EF 30%", "test"), _ent(text, "sepsis"), _ent(text, "pneumonia"),
            _ent(text, "stroke"), _ent(text, "CVA")]  # fmt: skip
    family = {"Severe anxiety": "F41", "panic": "F41", "stroke": "I63", "CVA": "I63",
              "sepsis": "A41", "pneumonia": "J18", "CHF": "I50"}  # fmt: skip
    asked: list[tuple[str, str]] = []

    def same(a: str, b: str) -> bool:
        asked.append((a, b))
        return family[a] == family[b]

    joined = join_glosses(text, ents, same)
    assert [(e.text, e.label) for e in joined] == [
        ("Severe anxiety (panic)", "problem"),
        ("CHF", "problem"),  # a test in the parenthesis is no gloss
        ("EF 30%", "test"),
        ("sepsis", "problem"),  # two findings
        ("pneumonia", "problem"),
        ("stroke ( CVA )", "problem"),
    ]
    assert text[joined[0].start : joined[0].end] == joined[0].text
    assert ("sepsis", "pneumonia") in asked
    # "A, (B)" or "A (B and more)" are no glosses, whatever the codes
    other = "anxiety, (panic) and pain (back pain worse)\n"
    ents2 = [
        _ent(other, "anxiety"),
        _ent(other, "panic"),
        _ent(other, "pain"),
        _ent(other, "back pain"),
    ]
    assert [e.text for e in join_glosses(other, ents2, lambda a, b: True)] == [
        "anxiety", "panic", "pain", "back pain"
    ]  # fmt: skip


def test_an_untagged_parenthesis_naming_the_same_finding_joins_the_problem() -> None:
    text = "History of severe anxiety (panic) (finding), CHF (EF 30%), diabetes (finding).\n"
    ents = [_ent(text, "severe anxiety"), _ent(text, "CHF"), _ent(text, "diabetes")]
    family = {"severe anxiety": "F41", "panic": "F41", "CHF": "I50", "EF 30%": "R94",
              "diabetes": "E11", "finding": "E11"}  # fmt: skip
    asked: list[str] = []

    def same(a: str, b: str) -> bool:
        asked.append(b)
        return family[a] == family[b]

    assert [e.text for e in join_glosses(text, ents, same)] == [
        "severe anxiety (panic)",
        "CHF",
        "diabetes",  # a SNOMED tag is never a gloss, whatever it would code to
    ]
    assert "finding" not in asked


def test_recurrent_after_a_depression_is_the_recurrent_code(coder: IcdCoder) -> None:
    """ "Major depressive disorder, recurrent" is F33.9, not the single episode F32.9."""
    text = "MDD, recurrent, in partial remission; Recurrent UTIs."
    (out,) = with_qualifiers(text, [_ent(text, "MDD")], coder.code)
    assert out.text == "MDD, recurrent"
    assert coder.code(out.text)[0].code == "F33.9"
    (uti,) = with_qualifiers(text, [_ent(text, "UTIs")], coder.code)
    assert uti.text == "UTIs"  # only the depressions leave their category


@pytest.mark.parametrize(
    ("text", "problem", "kept"),
    [
        ("administration of diphtheria, pertussis, and tetanus vaccine", "diphtheria", False),
        ("administration of diphtheria, pertussis, and tetanus vaccine", "pertussis", False),
        ("hepatitis B vaccine series completed", "hepatitis B", False),
        ("vaccinated against measles, mumps and rubella", "rubella", False),
        ("the following immunizations: influenza, seasonal, injectable", "influenza", False),
        ("pneumonia despite pneumococcal vaccination", "pneumonia", True),
        ("diabetes. Influenza vaccine given", "diabetes", True),
        ("received influenza vaccine, has CHF", "CHF", True),
        ("immunization history reviewed. Has asthma", "asthma", True),
        ("HPV vaccine declined; cervical dysplasia noted", "cervical dysplasia", True),
    ],
)
def test_a_disease_named_for_a_vaccine_is_no_problem(text: str, problem: str, kept: bool) -> None:
    ents = [_ent(text, problem)]
    assert (without_non_findings(text, ents) == ents) is kept
    treatment = [_ent(text, problem, "treatment")]
    assert without_non_findings(text, treatment) == treatment  # only problems are dropped


def test_a_piece_of_a_hyphenated_word_is_no_entity() -> None:
    text = "History of part-time employment, COVID-19, non-small cell lung cancer, well-being.\n"

    @dataclass
    class S:
        start: int
        end: int
        label: str = "problem"
        score: float = 0.9

    def at(phrase: str) -> S:
        i = text.index(phrase)
        return S(i, i + len(phrase))

    spans = [at("part"), at("COVID"), at("small cell lung cancer"), at("being")]
    assert [e.text for e in to_entities(text, spans)] == ["COVID", "small cell lung cancer"]


def test_a_bare_cancer_takes_the_organ_before_it() -> None:
    from streamproc.nlp.entities import cancer_sites

    text = "PMH: OVARIAN CA (6/94), laryngeal CA w/p XRT. CA repleted."

    def problem(word: str, nth: int = 0) -> Entity:
        start = [i for i in range(len(text)) if text.startswith(word, i)][nth]
        return Entity(label="problem", start=start, end=start + len(word), text=word)

    organ = Entity(label="test", start=5, end=12, text="OVARIAN")
    out = cancer_sites(text, [organ, problem("CA"), problem("CA", 1), problem("CA", 2)])
    assert [e.text for e in out] == ["OVARIAN CA", "laryngeal CA", "CA"]  # calcium stays alone
    # round 46: the organ written after the histology ("had been a skin cancer, C44.92")
    text = "Diagnosis: Squamous cell carcinoma of the oropharynx (right tonsil)."
    scc = Entity(label="problem", start=11, end=34, text=text[11:34])
    (out1,) = cancer_sites(text, [scc])
    assert out1.text == "Squamous cell carcinoma of the oropharynx"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("NEURO: RESPONSIVE ONLY TO DEEP PAIN AND ONLY BY WITHDRAWING.", False),
        ("perrl; withdraws to pain.", False),
        ("c/o pain suddenly at 0200.", True),
        ("responds to pain meds well.", True),  # the pain is there, and treated
        ("NEURO: OPENS EYES TO VOICE. HAS A COUGH AND GAG.", False),  # airway reflexes
        ("strong cough, productive of thick secretions", True),
        ("cough reflex intact, pupils 3 mm", False),
    ],
)
def test_neuro_exam_stimuli_and_reflexes_are_no_problems(text: str, kept: bool) -> None:
    word = "pain" if "pain" in text.lower() else "cough"
    start = text.lower().index(word)
    found = Entity(
        label="problem", start=start, end=start + len(word), text=text[start : start + len(word)]
    )
    assert (without_non_findings(text, [found]) == [found]) is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # a ventilator report: the tidal volume
        ("RESP: on CPAP/PS 16, PEEP 7.5, VT 460.", False),
        ("Settings unchanged: Vt= 550, RR= 12, FiO2 40%.", False),
        ("changed to PS 15/peep5, RR 20's with VT's 4-600.", False),
        ("Increased VT 700, decreased RR to 16.", False),
        ("A/C 600X16/5/50%. VT CHANGED FROM 700 TO 600.", False),
        ("occasional cuff leak, but maintaining good exhaled VT's.", False),
        # a rhythm report: ventricular tachycardia
        ("Frequent runs of VT 3-7 beats this evening, HO notified.", True),
        ("At 2030 went into sustained VT, CDV 360 x1.", True),
        ("Converted to NSR but then back into VT at 2130.", True),
        ("Cardiology consulted for the vt run yesterday.", True),
    ],
)
def test_vt_in_a_ventilator_report_is_a_tidal_volume(text: str, kept: bool) -> None:
    start = text.lower().index("vt")
    end = start + (4 if text[start : start + 4].lower() == "vt's" else 2)
    found = Entity(label="problem", start=start, end=end, text=text[start:end])
    assert (without_non_findings(text, [found]) == [found]) is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("s/p stent to LAD. cath c/b VT req. shock, dopa.", False),
        ("VF, given shock 200J, converted to NSR.", False),
        ("Went into VT, shock x2, amio bolus.", False),
        ("AICD fired shock overnight.", False),
        ("A: septic shock with multiple potential sources.", True),
        ("a- stemi, cardiogenic shock, on dopamine.", True),
        ("Arrhythmias r/t shock, cardiomyopathy.", True),
    ],
)
def test_a_defibrillator_shock_is_no_circulatory_shock(text: str, kept: bool) -> None:
    start = text.lower().index("shock")
    found = Entity(label="problem", start=start, end=start + 5, text=text[start : start + 5])
    assert (without_non_findings(text, [found]) == [found]) is kept


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        ("Cv- Hypotensive", "Hypotensive"),  # coded O26.50 (pregnancy) as one mention
        ("Neuro - Pt anxious", "Pt anxious"),
        ("Skin - Yeast infection", "Yeast infection"),
        ("a- stemi", "stemi"),  # SOAP assessment
        ("C-V- Hemodynamically stable", "Hemodynamically stable"),
        ("A-fib", "A-fib"),  # no space after the dash: a word, not a heading
        ("DM- TYPE 2", "DM- TYPE 2"),  # DM is the problem itself
        ("gi- ", None),  # only a heading
    ],
)
def test_inline_system_headings_are_cut_off(text: str, finding: str | None) -> None:
    from streamproc.nlp.entities import without_inline_headings

    note = f"Night shift. {text} overnight."
    start = note.index(text)
    entity = Entity(label="problem", start=start, end=start + len(text), text=text)
    out = without_inline_headings(note, [entity])
    assert [note[e.start : e.end] for e in out] == ([finding] if finding else [])
    assert all(e.text == note[e.start : e.end] for e in out)


@pytest.mark.parametrize(
    ("mention", "parts"),
    [
        ("SEPTIC SHOCK- HYPOTENSION", ["SEPTIC SHOCK", "HYPOTENSION"]),
        ("CHF, COPD", ["CHF", "COPD"]),
        ("HTN / DM", ["HTN", "DM"]),
        ("anemia, iron deficiency", ["anemia, iron deficiency"]),  # the whole codes as well
        ("diabetes, uncontrolled", ["diabetes, uncontrolled"]),  # a qualifier codes nothing
        ("A-fib", ["A-fib"]),  # a hyphen inside a word is no separator
    ],
)
def test_a_problem_read_across_a_list_separator_is_split_when_its_parts_code(
    mention: str, parts: list[str]
) -> None:
    from streamproc.nlp.entities import split_joined_problems
    from streamproc.nlp.types import CodeCandidate

    table = {  # what a coder answers, best score per mention
        "septic shock": 1.0, "hypotension": 1.0, "septic shock- hypotension": 0.52,
        "chf": 1.0, "copd": 1.0, "chf, copd": 0.52, "htn": 1.0, "dm": 1.0, "htn / dm": 0.5,
        "anemia": 1.0, "iron deficiency": 1.0, "anemia, iron deficiency": 1.0,
        "diabetes": 1.0, "diabetes, uncontrolled": 0.95, "a-fib": 1.0,
    }  # fmt: skip

    def code(text: str) -> tuple[CodeCandidate, ...]:
        score = table.get(text.lower())
        return (CodeCandidate(code="X", display="x", score=score),) if score else ()

    text = f"Treated for {mention}, then intubated."
    start = text.index(mention)
    entity = Entity(label="problem", start=start, end=start + len(mention), text=mention)
    out = split_joined_problems([entity], code)
    assert [e.text for e in out] == parts
    assert all(text[e.start : e.end] == e.text for e in out)


@pytest.mark.parametrize(
    ("text", "found", "read"),
    [
        ("STIFF FROM OLD STROKE. OOB", "STROKE", "OLD STROKE"),
        ("PMH: remote CVA, HTN", "CVA", "remote CVA"),
        ("PMH: old MI", "MI", "old MI"),
        ("an old dog with a cough", "cough", "cough"),  # no row for "old ... cough"
        ("Stroke yesterday", "Stroke", "Stroke"),
        # the words before a problem join whenever the whole is a row (the longest such)
        ("2. C. difficile colitis, non-severe", "colitis", "C. difficile colitis"),
        (
            "# Cholestatic-mixed drug-induced liver injury",
            "liver injury",
            "drug-induced liver injury",
        ),
        ("history of ischemic colitis", "colitis", "colitis"),  # no row
        ("xold stroke", "stroke", "stroke"),  # a word the window cut is no modifier
    ],
)
def test_words_before_a_problem_join_it_when_the_coder_has_a_row_for_the_whole(
    text: str, found: str, read: str
) -> None:
    from streamproc.nlp.entities import with_coded_modifier

    rows = {
        "old stroke",
        "remote cva",
        "old mi",
        "c. difficile colitis",
        "drug-induced liver injury",
    }
    start = text.index(found)
    entity = Entity(label="problem", start=start, end=start + len(found), text=found)
    (out,) = with_coded_modifier(text, [entity], lambda m: m.lower() in rows)
    assert out.text == read == text[out.start : out.end]


def test_a_joined_modifier_takes_the_problem_inside_it_but_not_a_drug() -> None:
    from streamproc.nlp.entities import with_coded_modifier

    text = "C. difficile colitis after clindamycin-induced diarrhea"

    def at(word: str, label: str) -> Entity:
        start = text.index(word)
        return Entity(label=label, start=start, end=start + len(word), text=word)  # type: ignore[arg-type]

    found = [at("C. difficile", "problem"), at("colitis", "problem"), at("clindamycin", "drug")]
    out = with_coded_modifier(text, found, lambda m: m.lower() == "c. difficile colitis")
    assert [(e.label, e.text) for e in out] == [
        ("problem", "C. difficile colitis"),
        ("drug", "clindamycin"),
    ]


@pytest.fixture(scope="module")
def coder() -> IcdCoder:
    return IcdCoder()


@pytest.mark.parametrize(
    ("text", "problem", "staged"),
    [
        ("Assessment: Stage 2 chronic kidney disease.", "chronic kidney disease", "N18.2"),
        ("PMH: stage IV CKD, HTN.", "CKD", "N18.4"),
        ("Stage 3 pressure ulcer, sacrum", "pressure ulcer", "L89.93"),
        ("1. Acute on chronic systolic heart failure", "chronic systolic heart failure", "I50.23"),
        ("acute on chronic pancreatitis", "chronic pancreatitis", None),
        # a stage that leaves the category or changes nothing is no part of the problem
        ("Stage 2 hypertension", "hypertension", None),
        ("stage IV lung cancer", "lung cancer", None),
    ],
)
def test_a_stage_or_acute_on_written_before_a_problem_joins_it(
    coder: IcdCoder, text: str, problem: str, staged: str | None
) -> None:
    (out,) = with_qualifiers(text, [_ent(text, problem)], coder.code)
    if staged is None:
        assert out.text == problem
    else:
        assert out.text.lower().startswith(("stage", "acute on"))
        assert coder.code(out.text)[0].code == staged


@pytest.mark.parametrize(
    ("text", "problem", "kept"),
    [
        ("add amoxicillin to allergy list, stop it", "allergy", False),
        ("Problem list reviewed.", "Problem", False),
        ("drug allergy to penicillin", "allergy", True),
        ("Stop empagliflozin; document as adverse reaction.", "adverse reaction", False),
        ("Allopurinol listed as allergy - never rechallenge.", "allergy", False),
        ("document digoxin toxicity in the allergy/intolerance list", "allergy", False),
        # round 10: a record naming its drug, a test named by what it looks for
        ("document amoxicillin as allergy (urticaria)", "allergy", False),
        ("pending allergy testing", "allergy", False),
        ("baseline preeclampsia labs normal", "preeclampsia", False),
        ("Strep test positive.", "Strep", True),
        ("HIV test was reactive", "HIV", True),
        # round 12: an allergy's work-up or label is no reaction
        ("referred for penicillin allergy evaluation before surgery", "allergy", False),
        ("Penicillin allergy label removed.", "allergy", False),
        ("Penicillin allergy: hives.", "allergy", True),
        # round 15: the allergy service a patient is sent to
        ("start fluticasone nasal spray; refer to allergy for testing (cat)", "allergy", False),
        ("Seen by allergy last year.", "allergy", False),
        ("She has a severe allergy to cats.", "allergy", True),
        # round 16: a serology named by what it looks for
        ("hepatitis B/C serologies pending", "hepatitis B", False),
    ],
)
def test_a_word_naming_a_list_is_no_problem(text: str, problem: str, kept: bool) -> None:
    found = _ent(text, problem)
    assert (without_non_findings(text, [found]) == [found]) is kept


def test_a_subtype_after_a_comma_joins_its_condition(coder: IcdCoder) -> None:
    """Psychiatry note: "schizoaffective disorder, bipolar type" was F25.9 plus a bipolar II
    disorder (F31.81) read from "bipolar type"; a list stays a list."""
    from streamproc.nlp.entities import join_subtypes

    def problems(text: str, *words: str) -> list[Entity]:
        return [
            Entity(label="problem", start=text.index(w), end=text.index(w) + len(w), text=w)
            for w in words
        ]

    text = "37 yo woman with schizoaffective disorder, bipolar type, admitted"
    (joined,) = join_subtypes(
        text, problems(text, "schizoaffective disorder", "bipolar type"), coder.code
    )
    assert joined.text == "schizoaffective disorder, bipolar type"
    assert coder.code(joined.text)[0].code == "F25.0"
    text = "PMH: diabetes, hypertension"
    kept = join_subtypes(text, problems(text, "diabetes", "hypertension"), coder.code)
    assert [e.text for e in kept] == ["diabetes", "hypertension"]
    # a term the tagger cut in two, side by side
    text = "hypersensitivity pneumonitis less likely"
    (joined,) = join_subtypes(text, problems(text, "hypersensitivity", "pneumonitis"), coder.code)
    assert coder.code(joined.text)[0].code == "J67.9"
    text = "HTN DM"
    assert len(join_subtypes(text, problems(text, "HTN", "DM"), coder.code)) == 2


@pytest.mark.parametrize(
    ("text", "word", "dropped"),
    [
        # round 51: a latent infection published as active tuberculosis A18.89
        ("Reported to state TB program (case worker).", "TB", True),
        ("Follow up in heart failure clinic in 2 weeks.", "heart failure", True),
        ("Heart failure with reduced EF, on GDMT.", "Heart failure", False),
        ("Tuberculosis: treated 2019.", "Tuberculosis", False),
    ],
)
def test_a_disease_naming_a_service_is_no_finding(text: str, word: str, dropped: bool) -> None:
    from streamproc.nlp.entities import is_service_name

    start = text.index(word)
    entity = Entity(label="problem", start=start, end=start + len(word), text=word)
    assert is_service_name(text, entity) is dropped


@pytest.mark.parametrize(
    ("text", "word", "dropped"),
    [
        ("INFECTIOUS DISEASES FOLLOW-UP\nMRSA bacteremia.", "INFECTIOUS DISEASES", True),
        ("HEART FAILURE CLINIC NOTE\nCHF stable.", "HEART FAILURE", True),
        ("PNEUMONIA, HYPOXIA\npt on 4L NC", "PNEUMONIA", False),  # a nursing note's problem line
        ("INFECTIOUS DISEASES FOLLOW-UP\nMRSA bacteremia.", "MRSA bacteremia", False),
    ],
)
def test_a_service_in_the_note_title_is_no_finding(text: str, word: str, dropped: bool) -> None:
    from streamproc.nlp.entities import is_note_title

    start = text.index(word)
    entity = Entity(label="problem", start=start, end=start + len(word), text=word)
    assert is_note_title(text, entity) is dropped


@pytest.mark.parametrize(
    ("text", "found", "label", "read"),
    [
        # discharge summary: the tagger called the test a drug; with what it showed, a finding
        ("QTc prolonged to 520 ms on azithromycin.", "QTc", "drug", "QTc prolonged"),
        (
            "C. difficile toxin positive, attributed to ceftriaxone.",
            "difficile toxin",
            "drug",
            "C. difficile toxin positive",
        ),
        ("QTc 460 today.", "QTc", "test", None),  # a value, no finding
    ],
)
def test_a_test_and_what_it_showed_is_a_finding_the_coder_names(
    text: str, found: str, label: str, read: str | None
) -> None:
    from streamproc.nlp.entities import with_coded_finding

    rows = {"qtc prolonged", "c. difficile toxin positive"}
    start = text.index(found)
    entity = Entity(label=label, start=start, end=start + len(found), text=found)  # type: ignore[arg-type]
    (out,) = with_coded_finding(text, [entity], lambda m: m.lower() in rows)
    if read is None:
        assert out == entity
    else:
        assert (out.label, out.text, text[out.start : out.end]) == ("problem", read, read)


@pytest.mark.parametrize(
    ("text", "found", "read"),
    [
        # cardiology note: "persistent atrial fibrillation" is I48.19, the tagger read only I48.91
        (
            "with persistent atrial fibrillation on diltiazem",
            "atrial fibrillation",
            "persistent atrial fibrillation",
        ),
        ("Mild intermittent asthma.", "asthma", "Mild intermittent asthma"),
        # a whole outside the problem's category stays apart (Z82.5 is a family history code)
        ("Family history of asthma.", "asthma", "asthma"),
    ],
)
def test_a_word_before_joins_when_the_whole_is_a_more_specific_tabular_term(
    coder: IcdCoder, text: str, found: str, read: str
) -> None:
    from streamproc.nlp.entities import with_coded_modifier

    start = text.index(found)
    entity = Entity(label="problem", start=start, end=start + len(found), text=found)
    (out,) = with_coded_modifier(text, [entity], lambda m: False, coder.code)
    assert out.text == read == text[out.start : out.end]


def test_a_problem_read_across_status_post_is_cut_there(coder: IcdCoder) -> None:
    """Orthopedic note: "Left femoral neck fracture s/p hemiarthroplasty" coded 0.22 as one
    span, and the principal problem went unpublished."""
    from streamproc.nlp.entities import split_status_post

    text = "1. Left femoral neck fracture s/p hemiarthroplasty: WBAT."
    whole = _ent(text, "Left femoral neck fracture s/p hemiarthroplasty")
    fracture, procedure = split_status_post([whole], coder.code)
    assert (fracture.text, procedure.text) == ("Left femoral neck fracture", "s/p hemiarthroplasty")
    assert text[procedure.start : procedure.end] == "s/p hemiarthroplasty"
    assert coder.code(fracture.text)[0].code == "S72.002A"
    # the part before must code on its own, better than the whole
    vague = "thing s/p surgery"
    assert split_status_post([_ent(vague, vague)], coder.code)[0].text == vague


@pytest.mark.parametrize(
    ("text", "problem", "read"),
    [
        ("#5 Anemia due to chemotherapy: Hgb 8.9", "Anemia", "Anemia due to chemotherapy"),
        ("Anemia of chemotherapy, transfuse if < 7", "Anemia", "Anemia of chemotherapy"),
        # a cause that is no row of the problem's category stays apart
        ("Anemia due to blood loss from the GI tract", "Anemia", "Anemia"),
        ("Neutropenia of unclear cause", "Neutropenia", "Neutropenia"),
        # "with": a tabular term for a more specific code of the category (N40.1, not N40.0)
        ("- BPH with LUTS: stable on tamsulosin.", "BPH", "BPH with LUTS"),
        ("Pneumonia with effusion", "Pneumonia", "Pneumonia"),
        # a row for the whole joins even across categories; after "in" only a row
        ("6. Anemia in CKD - continue darbepoetin.", "Anemia", "Anemia in CKD"),  # D63.1
        ("Anemia of chronic kidney disease, on ESA", "Anemia", "Anemia of chronic kidney disease"),
        ("Pain in the left knee", "Pain", "Pain"),
    ],
)
def test_the_cause_after_a_problem_joins_it_when_the_whole_is_a_more_specific_row(
    coder: IcdCoder, text: str, problem: str, read: str
) -> None:
    from streamproc.nlp.entities import with_coded_cause

    start = text.index(problem)
    found = [Entity(label="problem", start=start, end=start + len(problem), text=problem)]
    if "chemotherapy" in text:
        c = text.index("chemotherapy")
        found.append(Entity(label="treatment", start=c, end=c + 12, text="chemotherapy"))
    out = with_coded_cause(text, found, coder.synonyms.is_direct, coder.code)
    assert out[0].text == read == text[out[0].start : out[0].end]
    assert len(out) == (1 if read != problem or "chemotherapy" not in text else 2)


@pytest.mark.parametrize(
    ("text", "problem", "read"),
    [
        ("2. Acute kidney injury on CKD 3a: prerenal", "CKD", "CKD 3a"),  # N18.31, not N18.9
        ("PMH: CKD 4, HTN", "CKD", "CKD 4"),
        ("Pain 8/10 in the left knee", "Pain", "Pain"),  # a score, no stage
        ("Anemia 9.8 today", "Anemia", "Anemia"),
        # "with / without aura" says which migraine (G43.009, not G43.909)
        ("PMH: Migraine without aura. Iron deficiency.", "Migraine", "Migraine without aura"),
        ("Migraine with aura, on topiramate", "Migraine", "Migraine with aura"),
        # a subtype after a comma: F90.2
        ("1. ADHD, combined type - methylphenidate", "ADHD", "ADHD, combined type"),
        # one qualifier after another: F33.9, then F33.2
        (
            "MDD, recurrent, severe without psychotic features, on sertraline",
            "MDD",
            "MDD, recurrent, severe without psychotic features",
        ),
    ],
)
def test_a_bare_stage_right_after_a_problem_joins_it_when_it_changes_the_code(
    coder: IcdCoder, text: str, problem: str, read: str
) -> None:
    (out,) = with_qualifiers(text, [_ent(text, problem)], coder.code)
    assert out.text == read


@pytest.mark.parametrize(
    ("text", "problem", "read"),
    [
        (
            "4. Atrial fibrillation, chronic, on warfarin (held)",
            "Atrial fibrillation",
            "Atrial fibrillation, chronic",
        ),
        (
            "Hypertension, chronic, well controlled",
            "Hypertension",
            "Hypertension",
        ),  # I10 either way
    ],
)
def test_a_course_after_a_comma_joins_the_problem_when_it_refines_the_code(
    coder: IcdCoder, text: str, problem: str, read: str
) -> None:
    (out,) = with_qualifiers(text, [_ent(text, problem)], coder.code)
    assert out.text == read


def test_a_treatment_with_the_words_after_it_is_a_problem_when_a_row_names_the_whole(
    coder: IcdCoder,
) -> None:
    from streamproc.nlp.entities import with_coded_finding

    text = "- Liver transplant recipient, excellent graft function."
    found = [Entity(label="treatment", start=2, end=18, text="Liver transplant")]
    (out,) = with_coded_finding(text, found, coder.synonyms.is_direct)
    assert (out.label, out.text) == ("problem", "Liver transplant recipient")
    assert coder.code(out.text)[0].code == "Z94.4"
    plain = "Liver transplant in 2023 for cirrhosis."
    found = [Entity(label="treatment", start=0, end=16, text="Liver transplant")]
    assert with_coded_finding(plain, found, coder.synonyms.is_direct)[0].label == "treatment"


def test_a_drug_no_dictionary_names_is_a_problem_when_a_row_names_it(coder: IcdCoder) -> None:
    """Bariatric note (round 29): the tagger called "Telogen effluvium" a drug, and the
    Condition was lost; a named drug stays a drug whatever the rows say."""
    from streamproc.nlp.entities import with_coded_finding
    from streamproc.nlp.types import DrugConcept

    text = "6. Telogen effluvium, likely from rapid weight loss. Iron sucrose x5."
    hair = Entity(label="drug", start=3, end=20, text="Telogen effluvium")
    iron = Entity(
        label="drug",
        start=53,
        end=65,
        text="Iron sucrose",
        concept=DrugConcept(name="Iron sucrose", drugbank=None),
    )
    out = with_coded_finding(
        text, [hair, iron], lambda m: m.lower() in ("telogen effluvium", "iron sucrose")
    )
    assert [(e.label, e.text) for e in out] == [
        ("problem", "Telogen effluvium"),
        ("drug", "Iron sucrose"),
    ]


def test_a_bare_diabetes_type_takes_the_diabetes_after_it() -> None:
    from streamproc.nlp.entities import with_diabetes_type

    text = "Other: type 2 diabetes - metformin stopped. Thyrotoxicosis, type 2 likely."

    def ent(phrase: str, label: str, nth: int = 0) -> Entity:
        start = text.index(phrase)
        for _ in range(nth):
            start = text.index(phrase, start + 1)
        return Entity(label=label, start=start, end=start + len(phrase), text=phrase)  # type: ignore[arg-type]

    got = with_diabetes_type(
        text,
        [
            ent("type 2", "problem"),
            ent("diabetes - metformin", "drug"),  # the tagger's drug across the delimiter
            ent("type 2", "problem", 1),
        ],
    )
    assert [(e.label, e.text) for e in got] == [
        ("problem", "type 2 diabetes"),
        ("drug", "metformin"),
        ("problem", "type 2"),  # no diabetes after it: left as it is (the coder names nothing)
    ]


def test_a_drug_inside_a_problem_already_read_stays_a_drug() -> None:
    """ED note: "Chronic lithium toxicity" is read from "toxicity" (a row for the whole); the
    drug "lithium" with the words after it is that same problem, so it stays the drug the ADE
    stage blames instead of a second copy of the problem."""
    from streamproc.nlp.entities import with_coded_finding

    text = "Chronic lithium toxicity, severe."
    problem = Entity(label="problem", start=0, end=24, text="Chronic lithium toxicity")
    drug = Entity(label="drug", start=8, end=15, text="lithium")
    out = with_coded_finding(
        text, [problem, drug], lambda m: m.lower() in {"chronic lithium toxicity"}
    )
    assert [(e.label, e.text) for e in out] == [
        ("problem", "Chronic lithium toxicity"),
        ("drug", "lithium"),
    ]


def test_a_span_does_not_end_on_plus() -> None:
    from types import SimpleNamespace

    text = "Hyperkalemia due to spironolactone plus ACE inhibitor."
    start = text.index("spironolactone")
    span = SimpleNamespace(
        start=start, end=start + len("spironolactone plus"), label="drug", score=0.9
    )
    assert [e.text for e in to_entities(text, [span])] == ["spironolactone"]


def test_an_abbreviation_that_is_also_a_word_is_not_read_in_an_all_capitals_line() -> None:
    """ "CONTINUING TO DRESS WOUNDS PER PROTOCOL" (an ICU nursing note) is no drug reaction with
    eosinophilia; "concerning for DRESS vs SJS" in a written note is."""
    from streamproc.nlp.entities import ProblemAbbreviations
    from streamproc.nlp.icd.coder import load_synonyms

    finder = ProblemAbbreviations(load_synonyms())
    nursing = "SKIN: IMPROVING, CONTINUING TO DRESS WOUNDS PER PROTOCOL\n"
    assert [e.text for e in finder.add(nursing, [])] == []
    written = "Rash with fever - concerning for DRESS vs early SJS.\n"
    assert [e.text for e in finder.add(written, [])] == ["DRESS", "SJS"]


def test_prevention_words_and_drug_kinds_are_no_findings(coder: IcdCoder) -> None:
    """Neurosurgery note (round 26): "levetiracetam for seizure prophylaxis" and "since starting
    the seizure medication" published a seizure the patient never had."""
    from streamproc.nlp.entities import is_medication_kind
    from streamproc.nlp.token_classifier import ScoredSpan

    text = "levetiracetam 500 mg BID for seizure prophylaxis"
    start = text.index("seizure")
    (e,) = to_entities(text, [ScoredSpan(start, len(text), "problem", 0.9)])
    assert e.text == "seizure"  # ConText's "prophylaxis" then reads it as hypothetical
    said = "new since starting the seizure medication"
    s = said.index("seizure")
    assert is_medication_kind(said, Entity(label="problem", start=s, end=s + 7, text="seizure"))
    ok = "seizure in the clinic"
    assert not is_medication_kind(ok, Entity(label="problem", start=0, end=7, text="seizure"))
    htn = "HTN meds held during CVVHD"  # a chronic disease's drugs say the patient has it
    assert not is_medication_kind(htn, Entity(label="problem", start=0, end=3, text="HTN"))


def test_a_problem_inside_a_joined_qualifier_is_part_of_the_whole(coder: IcdCoder) -> None:
    """ "schizophrenia, paranoid type" read whole (F20.0): the tagger's "paranoid" inside it is no
    shared psychotic disorder F24 of its own."""
    text = "PMH: schizophrenia, paranoid type, on clozapine"
    out = with_qualifiers(text, [_ent(text, "schizophrenia"), _ent(text, "paranoid")], coder.code)
    assert [e.text for e in out] == ["schizophrenia, paranoid type"]


def test_line_bounds_exclude_the_line_breaks() -> None:
    from streamproc.nlp.sentences import line_bounds

    text = "first line\nsecond line\nlast"
    at = text.index("second")
    assert line_bounds(text, at) == (11, 22) and text[11:22] == "second line"
    assert line_bounds(text, 0) == (0, 10)
    assert line_bounds(text, text.index("last")) == (23, len(text))  # no break after it
    # a span over two lines: from the first's start to the second's end
    assert line_bounds(text, 3, text.index("second") + 2) == (0, 22)


def test_a_burn_with_depth_and_site_is_one_problem_over_its_words() -> None:
    from streamproc.nlp.entities import with_burns

    text = (
        "18% TBSA flame burns: partial-thickness burns to the right forearm and hand, "
        "full-thickness burn to the left thigh. BSA test done."
    )
    partial = text.index("partial-thickness burns")
    read = [
        Entity(label="problem", start=partial, end=partial + 23, text=text[partial : partial + 23]),
        Entity(
            label="test",
            start=text.index("BSA test"),
            end=text.index("BSA test") + 8,
            text="BSA test",
        ),
    ]
    out = with_burns(text, read)
    assert [(e.label, e.text) for e in out] == [
        ("problem", "partial-thickness burns to the right forearm and hand"),
        ("problem", "full-thickness burn to the left thigh"),
        ("test", "BSA test"),
    ]
    assert with_burns("No burns.", read[:1]) == read[:1]


@pytest.mark.parametrize(
    ("text", "word", "measured"),
    [
        ("ABI: right 0.82, left 0.38. TBI left 0.12.", "TBI", True),  # the toe-brachial index
        ("TBI: 0.45 on the right.", "TBI", True),
        ("PMH: TBI 2019, seizures.", "TBI", False),
        ("CKD 3a, DM 2.", "CKD", False),  # a stage, no decimal
    ],
)
def test_a_short_form_with_a_decimal_value_is_an_index_measured(
    text: str, word: str, measured: bool
) -> None:
    from streamproc.nlp.entities import is_measured_index

    start = text.index(word)
    e = Entity(label="problem", start=start, end=start + len(word), text=word)
    assert is_measured_index(text, e) is measured


@pytest.mark.parametrize(
    ("word", "dosing"),
    [
        ("TID", True),
        ("q4h", True),
        ("PRN", True),
        ("mg", True),
        ("b.i.d.", True),
        ("Oxybutynin", False),
        ("tidal", False),
    ],
)
def test_a_dose_frequency_route_or_unit_is_no_drug(word: str, dosing: bool) -> None:
    """SCI rehabilitation note (round 32): "Oxybutynin 5 mg TID causes dry mouth" alerted TID."""
    from streamproc.nlp.entities import is_dosing_word

    assert is_dosing_word(word, Entity(label="drug", start=0, end=len(word), text=word)) is dosing
    assert not is_dosing_word(word, Entity(label="problem", start=0, end=len(word), text=word))


def test_a_treatment_with_the_words_before_it_is_a_problem_when_a_row_names_the_whole(
    coder: IcdCoder,
) -> None:
    """Consultation-liaison note (round 33): "MRSA bacteremia from an infected right knee
    prosthesis" (the tagger read only "right knee prosthesis", a treatment) is T84.53XA."""
    from streamproc.nlp.entities import with_coded_finding

    text = "MRSA bacteremia from an infected right knee prosthesis, on linezolid."
    start = text.index("right knee prosthesis")
    found = [Entity(label="treatment", start=start, end=start + 21, text="right knee prosthesis")]
    (out,) = with_coded_finding(text, found, coder.synonyms.is_direct)
    assert (out.label, out.text) == ("problem", "infected right knee prosthesis")
    assert coder.code(out.text)[0].code == "T84.53XA"


def test_a_record_of_an_allergy_with_its_severity_is_no_allergy() -> None:
    """SJS consult (round 33): "document as severe allergy" had published T78.40XA."""
    from streamproc.nlp.entities import is_list_name

    text = "Stop lamotrigine permanently; document as severe allergy; transfer to burn unit."
    start = text.index("allergy")
    assert is_list_name(text, Entity(label="problem", start=start, end=start + 7, text="allergy"))
    plain = "Severe allergy to peanuts."
    assert not is_list_name(plain, Entity(label="problem", start=7, end=14, text="allergy"))
    # round 47: what the list records, glossed after it
    for text, finding in (
        ("Avoid fluoroquinolones; documented in allergy list (tendon rupture).", "tendon rupture"),
        ("Stop azathioprine (add to allergy list: pancreatitis).", "pancreatitis"),
    ):
        start = text.index(finding)
        entity = Entity(label="problem", start=start, end=start + len(finding), text=finding)
        assert is_list_name(text, entity)
    # round 61: a field label inside a line ("PMH: … eczema. Allergies: peanut (…)") had
    # published T78.40XA
    text = "PMH: Asthma, eczema. Allergies: peanut (anaphylaxis 2021)."
    start = text.index("Allergies")
    assert is_list_name(text, Entity(label="problem", start=start, end=start + 9, text="Allergies"))


def test_a_drug_the_tabular_list_names_word_for_word_as_a_finding_is_a_problem(
    coder: IcdCoder,
) -> None:
    """Eating disorders unit (round 35): "hypokalemia" between two electrolytes was tagged a
    drug and lost; a substance ("opioids", "alcohol") and a vaccine's target stay drugs."""
    from streamproc.nlp.entities import with_coded_finding

    text = "Hypomagnesemia and hypokalemia. Oxybutynin and opioids. Influenza vaccine given."
    words = ("hypokalemia", "opioids", "Influenza")
    found = [
        Entity(label="drug", start=text.index(w), end=text.index(w) + len(w), text=w) for w in words
    ]
    out = with_coded_finding(text, found, coder.synonyms.is_direct, coder.code)
    assert [(e.text, e.label) for e in out] == [
        ("hypokalemia", "problem"),
        ("opioids", "drug"),
        ("Influenza", "drug"),
    ]
    # a test sent for it stays what the tagger said ("sent for c-diff", "C-diff sent x 2")
    for text in ("2nd stool sample sent for c-diff today.", "C-diff sent x 2 today."):
        start = text.lower().index("c-diff")
        sent = Entity(label="drug", start=start, end=start + 6, text=text[start : start + 6])
        assert (
            with_coded_finding(text, [sent], coder.synonyms.is_direct, coder.code)[0].label
            == "drug"
        )
    # a nursing note's system heading ("ENDOCRINE: RISS") stays what it was
    text = "ENDOCRINE: RISS per protocol."
    heading = Entity(label="drug", start=0, end=9, text="ENDOCRINE")
    assert (
        with_coded_finding(text, [heading], coder.synonyms.is_direct, coder.code)[0].label == "drug"
    )


def test_a_negative_result_after_a_disease_is_no_part_of_it() -> None:
    """Hemophilia clinic (round 36): "HIV negative" was one problem, HIV disease B20, present (the
    cue inside the span ConText reads after it)."""
    from types import SimpleNamespace

    text = "Hepatitis C cured, HIV negative. HIV positive."
    spans = [
        SimpleNamespace(start=19, end=31, label="problem", score=0.9),
        SimpleNamespace(start=33, end=45, label="problem", score=0.9),
    ]
    assert [e.text for e in to_entities(text, spans)] == ["HIV", "HIV positive"]


def test_a_test_called_abnormal_or_a_treatment_named_as_a_disease_is_a_problem(
    coder: IcdCoder,
) -> None:
    """Cystic fibrosis note (round 37): the tagger's test "transaminase elevation" and treatment
    "nasal polyps" published nothing; a test with no abnormal word, or a treatment the tabular
    list does not name word for word, stays what it was."""
    from streamproc.nlp.entities import with_coded_finding

    text = (
        "Mild transaminase elevation, ALT 68. Chronic rhinosinusitis with nasal polyps, s/p "
        "surgery; colostomy; LFTs. Plan: lung cancer screening CT; wound care. Lines patent "
        "and FLUSHING. After 3rd cdiff, lomotil."
    )
    entities = [
        _ent(text, "transaminase elevation", "test"),
        _ent(text, "ALT 68", "test"),
        _ent(text, "nasal polyps", "treatment"),
        _ent(text, "colostomy", "treatment"),
        _ent(text, "LFTs", "test"),
        # a noun goes on after it: a screening and a dressing, no cancer or injury
        _ent(text, "lung cancer", "treatment"),
        _ent(text, "wound", "treatment"),
        # the nurse's action, and a numbered sample (nursing notes, checked after round 41)
        _ent(text, "FLUSHING", "treatment"),
        _ent(text, "cdiff", "treatment"),
    ]
    out = with_coded_finding(text, entities, coder.synonyms.is_direct, coder.code)
    assert [(e.text, e.label) for e in out] == [
        ("transaminase elevation", "problem"),
        ("ALT 68", "test"),
        ("nasal polyps", "problem"),
        ("colostomy", "treatment"),
        ("LFTs", "test"),
        ("lung cancer", "treatment"),
        ("wound", "treatment"),
        ("FLUSHING", "treatment"),
        ("cdiff", "treatment"),
    ]


def test_poorly_controlled_after_diabetes_joins_it(coder: IcdCoder) -> None:
    """Wound clinic note (round 37): "Type 2 diabetes, poorly controlled" is E11.65 (the index:
    code to diabetes, by type, with hyperglycemia)."""
    text = "4. Type 2 diabetes, poorly controlled - increase metformin."
    (out,) = with_qualifiers(text, [_ent(text, "Type 2 diabetes")], coder.code)
    assert out.text == "Type 2 diabetes, poorly controlled"
    assert coder.code(out.text)[0].code == "E11.65"


def test_a_treatment_read_across_a_spaced_dash_is_two() -> None:
    """Celiac clinic (round 38): "malabsorption - IV iron sucrose infusions" was one treatment,
    and the ADE stage alerted it as the cause of the anemia it was written after; the cause
    named before the dash is a problem."""
    from streamproc.nlp.entities import ending_at_delimiters

    text = "2. Iron deficiency anemia due to malabsorption - IV iron sucrose infusions. PT - daily."
    entities = [
        _ent(text, "malabsorption - IV iron sucrose infusions", "treatment"),
        _ent(text, "PT - daily", "treatment"),
    ]
    got = [(e.text, e.label) for e in ending_at_delimiters(text, entities, {"PT"}.__contains__)]
    assert got == [
        ("malabsorption", "problem"),
        ("IV iron sucrose infusions", "treatment"),
        ("PT", "treatment"),
        ("daily", "treatment"),
    ]
    # a drug the dictionary names after "due to" stays the cause the ADE stage pairs
    text = "2. Diarrhea due to mycophenolate mofetil - switch to enteric-coated mycophenolate."
    entities = [_ent(text, "mycophenolate mofetil - switch", "treatment")]
    got = [(e.text, e.label) for e in ending_at_delimiters(text, entities, lambda m: True)]
    assert got == [("mycophenolate mofetil", "treatment"), ("switch", "treatment")]


@pytest.mark.parametrize(
    ("text", "problem", "joined", "code"),
    [
        ("Reports progressive dyspnea on exertion and cough.", "progressive dyspnea",
         "progressive dyspnea on exertion", "R06.09"),
        ("3. Prematurity, 35 weeks - monitor for apnea.", "Prematurity", "Prematurity, 35 weeks",
         "P07.38"),
        ("Hypertension, 35 weeks gestation.", "Hypertension", "Hypertension", "I10"),
        # round 39: an eye's side after a comma picks the code within the category
        ("1. Acute anterior uveitis, right eye, recurrent.", "Acute anterior uveitis",
         "Acute anterior uveitis, right eye", "H20.021"),
        ("Hypertension, left eye pressure normal.", "Hypertension", "Hypertension", "I10"),
        # round 41: an asthma's severity and pattern after a comma
        ("Known asthma, mild persistent, on budesonide.", "asthma", "asthma, mild persistent",
         "J45.30"),
    ],
)  # fmt: skip
def test_round_38_qualifiers_after_a_problem(
    coder: IcdCoder, text: str, problem: str, joined: str, code: str
) -> None:
    """Amiodarone and bronchiolitis notes (round 38): "dyspnea on exertion" is a symptom the
    patient has (R06.09), not a conditional dyspnea; a premature infant's weeks pick P07.3x
    ("Prematurity" alone had been retinopathy of prematurity, H35.109)."""
    (out,) = with_qualifiers(text, [_ent(text, problem)], coder.code)
    assert out.text == joined
    assert coder.code(out.text)[0].code == code


def test_a_past_pregnancy_is_no_pregnant_state() -> None:
    """Round 41: "Previous pregnancy: preeclampsia ..." published a pregnant state, Z33.1."""
    from streamproc.nlp.entities import is_past_pregnancy

    text = "Previous pregnancy: preeclampsia. Pregnancy at 30 weeks."
    assert is_past_pregnancy(text, _ent(text, "pregnancy"))
    assert not is_past_pregnancy(text, _ent(text, "Pregnancy"))
