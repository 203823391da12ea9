"""What a note says of a problem's course: resolved (clinicalStatus ``resolved``) or in remission
(clinicalStatus ``remission`` and the code's remission twin)."""

from __future__ import annotations

import pytest

from streamproc.fhir import ConditionBuilder
from streamproc.nlp.analyzer import Analyzer
from streamproc.nlp.assertion.context import AssertionResult, ContextAssertion
from streamproc.nlp.assertion.course import clinical_course, remission_after, resolved
from streamproc.nlp.icd import IcdCoder
from tests.test_nlp_analyzer import WordNer, make_note


@pytest.fixture(scope="module")
def coder() -> IcdCoder:
    return IcdCoder()


def context(sentence: str, problem: str) -> AssertionResult:
    """ConText's reading of the last ``problem`` in ``sentence`` ("Septic shock … resolved
    shock")."""
    start = sentence.rindex(problem)
    return ContextAssertion().assert_text(sentence, start, start + len(problem))


@pytest.mark.parametrize(
    ("sentence", "problem", "course"),
    [
        ("Pneumonia has resolved on repeat imaging.", "Pneumonia", "resolved"),
        ("Steroid-induced hyperglycemia, resolved after taper.", "hyperglycemia", "resolved"),
        ("Chest pain, since resolved.", "Chest pain", "resolved"),
        ("No longer having headaches.", "headaches", "resolved"),
        ("Denies headaches.", "headaches", None),  # never there
        ("No pneumonia on imaging.", "pneumonia", None),
        ("AKI, resolving with fluids.", "AKI", None),  # still there
        # round 58: healed, and "now" before the cue
        ("She notes oral ulcers last week, now healed.", "oral ulcers", "resolved"),
        ("Heel ulcer, partially healed.", "ulcer", None),
        # round 9: a relative clause, a treatment between, a cure
        (
            "Course was complicated by neutropenic fever after cycle 2, which resolved with "
            "cefepime, and by peripheral neuropathy.",
            "neutropenic fever",
            "resolved",
        ),
        (
            "Course was complicated by neutropenic fever after cycle 2, which resolved with "
            "cefepime, and by peripheral neuropathy.",
            "peripheral neuropathy",
            None,
        ),
        (
            "C. difficile colitis in January was treated with oral vancomycin and has resolved.",
            "C. difficile colitis",
            "resolved",
        ),
        ("Pneumonia was treated with ceftriaxone and azithromycin.", "Pneumonia", None),
        ("History of hepatitis C, cured.", "hepatitis C", "resolved"),
        ("Ear pain is gone.", "Ear pain", "resolved"),
        ("Her headache went away with acetaminophen.", "headache", "resolved"),
        ("Potassium has gone up; hyperkalemia noted.", "hyperkalemia", None),
        # "resolved" before what it qualifies, not the pneumonia still treated
        ("# Septic shock due to MSSA pneumonia, resolved shock: cefazolin", "shock", "resolved"),
        ("# Septic shock due to MSSA pneumonia, resolved shock: cefazolin", "MSSA pneumonia", None),
        ("Rash resolved with steroids.", "Rash", "resolved"),
        (
            "Chronic hepatitis C was treated with sofosbuvir/velpatasvir in 2022 with sustained "
            "virologic response.",
            "Chronic hepatitis C",
            "resolved",
        ),
    ],
)
def test_resolution_cues(sentence: str, problem: str, course: str | None) -> None:
    result = context(sentence, problem)
    assert resolved(result.assertion, result.cue) is (course == "resolved")
    end = sentence.rindex(problem) + len(problem)
    assert clinical_course(sentence, end, result.assertion, result.cue)[0] == course


@pytest.mark.parametrize(
    ("sentence", "problem", "assertion"),
    [
        ("Hepatitis B immune.", "Hepatitis B", "absent"),  # immunity: never infected
        ("Rubella immune, varicella immune.", "Rubella", "absent"),
        ("Rubella immune, varicella immune.", "varicella", "absent"),
        ("ITP (immune thrombocytopenia) on steroids.", "ITP", "present"),
    ],
)
def test_immunity_is_no_disease(sentence: str, problem: str, assertion: str) -> None:
    result = context(sentence, problem)
    assert result.assertion == assertion
    assert not resolved(result.assertion, result.cue)


@pytest.mark.parametrize(
    ("text", "problem", "degree"),
    [
        ("AUD, in sustained remission.", "AUD", ""),
        ("AML in complete remission since 2019.", "AML", "full"),
        ("MDD, recurrent, in partial remission.", "MDD", "partial"),
        ("CLL (in remission).", "CLL", ""),
        ("Myeloma - currently in remission.", "Myeloma", ""),
        ("Crohn disease, now in full remission", "Crohn disease", "full"),
        ("AML. Remission was discussed.", "AML", None),  # another sentence
        ("AML, not in remission.", "AML", None),
        ("AML with remission induction planned.", "AML", None),
        # the hematology short forms: first complete remission, partial response
        ("Day +62 after transplant for AML in CR1 (FLT3-ITD).", "AML", "full"),
        ("Follicular lymphoma in PR after R-CHOP.", "Follicular lymphoma", "partial"),
        ("AML in cr1", "AML", None),  # the short forms are written in capitals
    ],
)
def test_remission_after_the_problem(text: str, problem: str, degree: str | None) -> None:
    assert remission_after(text, text.index(problem) + len(problem)) == degree


@pytest.mark.parametrize(
    ("mention", "degree", "twin"),
    [
        ("alcohol use disorder", "", "F10.21"),  # F10.20 uncomplicated
        ("opioid use disorder", "", "F11.21"),
        ("acute lymphoblastic leukemia", "", "C91.01"),  # "not having achieved remission"
        ("AML", "full", "C92.01"),  # no "full" twin: the plain one
        ("nodular sclerosis hodgkin lymphoma", "", "C81.1A"),
        ("recurrent major depressive disorder", "partial", "F33.41"),  # under F33.4
        ("recurrent major depressive disorder", "", "F33.40"),
        ("major depressive disorder", "full", "F32.5"),
        ("major depressive disorder", "", "F32.9"),  # partial F32.4 or full F32.5: not said
        ("breast cancer", "", "C50.919"),  # no remission code
    ],
)
def test_remission_twins(coder: IcdCoder, mention: str, degree: str, twin: str) -> None:
    codes = coder.code(mention)
    chosen = coder.in_remission(codes, degree)
    assert chosen[0].code == twin
    assert chosen[0].score == codes[0].score
    assert len({c.code for c in chosen}) == len(chosen)


def test_a_remission_alone_is_no_problem(coder: IcdCoder) -> None:
    for words in ("remission", "complete remission", "partial remission"):
        assert coder.code(words) == ()


def test_resolved_and_remitted_problems_end_to_end(coder: IcdCoder) -> None:
    text = (
        "Hospital course: pneumonia has resolved. Alcohol use disorder, in sustained remission. "
        "Denies chest pain. Hypertension, continue lisinopril."
    )
    words = ["pneumonia", "Alcohol use disorder", "chest pain", "Hypertension", "lisinopril"]
    ner = WordNer({w: "drug" if w == "lisinopril" else "problem" for w in words})
    note = make_note(text, 7)
    (a,) = Analyzer(ner, coder=coder, relations=None).analyze_batch([note])
    courses = {e.text: e.course for e in a.entities if e.label == "problem"}
    assert courses == {
        "pneumonia": "resolved",
        "Alcohol use disorder": "remission",
        "chest pain": None,
        "Hypertension": None,
    }
    statuses = {
        m.value["code"]["coding"][0]["code"]: m.value["clinicalStatus"]["coding"][0]["code"]
        for m in ConditionBuilder().build(note, a)
    }
    assert statuses == {"J18.9": "resolved", "F10.21": "remission", "I10": "active"}


def test_a_problem_a_drug_caused_takes_its_drug_induced_code(coder: IcdCoder) -> None:
    """Transplant note: "new fine tremor" after tacrolimus is G25.1, and the note's other
    tremor with it; the alert keeps R25.1 (its de-duplication key)."""
    from streamproc.nlp.types import AdeRelation, Entity

    text = "Tacrolimus trough 14.8. He has a new fine tremor. Plan: recheck tremor; HTN stable."
    analyzer = Analyzer(WordNer({}), coder=coder, relations=None)

    def problem(word: str, nth: int = 0) -> Entity:
        start = -1
        for _ in range(nth + 1):
            start = text.index(word, start + 1)
        return Entity(
            label="problem", start=start, end=start + len(word), text=word, codes=coder.code(word)
        )

    drug = Entity(label="drug", start=0, end=10, text="Tacrolimus")
    tremor, again, htn = problem("tremor"), problem("tremor", 1), problem("HTN")
    relation = AdeRelation(drug=drug, effect=tremor, score=0.9, sentence_start=24, sentence_end=50)
    out = analyzer._drug_induced([drug, tremor, again, htn], [relation])
    assert [e.codes[0].code if e.codes else None for e in out] == [None, "G25.1", "G25.1", "I10"]
    assert relation.effect.codes[0].code == "R25.1"
    # a warning ("potential") changes no code
    warning = relation.model_copy(update={"actuality": "potential"})
    assert analyzer._drug_induced([tremor], [warning])[0].codes[0].code == "R25.1"


def test_a_suspected_drug_cause_leaves_the_certain_finding_its_own_code(coder: IcdCoder) -> None:
    """Post-PCI note (round 29): "Thrombocytopenia, suspected heparin-induced thrombocytopenia
    (HIT)" had made the certain low count a confirmed D75.829; only the suspected mention is
    HIT. Where a mention of the finding is itself the drug's reaction ("Subclinical hypothyroidism
    likely secondary to lithium"), every mention takes the drug's code, as before."""
    from streamproc.nlp.types import AdeRelation, Entity

    text = "Thrombocytopenia, suspected heparin-induced thrombocytopenia (HIT) - stop heparin."
    analyzer = Analyzer(WordNer({}), coder=coder, relations=None)

    def problem(word: str, nth: int, assertion: str) -> Entity:
        start = -1
        for _ in range(nth + 1):
            start = text.lower().index(word, start + 1)
        return Entity(
            label="problem",
            start=start,
            end=start + len(word),
            text=text[start : start + len(word)],
            codes=coder.code(word),
            assertion=assertion,  # type: ignore[arg-type]
        )

    drug = Entity(
        label="drug", start=text.index("heparin"), end=text.index("heparin") + 7, text="heparin"
    )
    low, suspected = (
        problem("thrombocytopenia", 0, "present"),
        problem("thrombocytopenia", 1, "possible"),
    )
    relation = AdeRelation(
        drug=drug, effect=suspected, score=1.0, sentence_start=0, sentence_end=len(text)
    )
    out = analyzer._drug_induced([low, drug, suspected], [relation])
    assert [e.codes[0].code if e.codes else None for e in out] == ["D69.6", None, "D75.829"]
    # the certain mention the drug's reaction too: both take its code
    both = [relation, relation.model_copy(update={"effect": low})]
    out = analyzer._drug_induced([low, drug, suspected], both)
    assert [e.codes[0].code if e.codes else None for e in out] == ["D75.829", None, "D75.829"]


@pytest.mark.parametrize(
    ("sentence", "problem", "assertion"),
    [
        ("Monitor platelets. HIT pending. Continue heparin hold.", "HIT", "possible"),
        ("Blood cultures pending.", "Blood cultures", "possible"),
        ("Pneumonia, discharge pending placement.", "Pneumonia", "present"),
    ],
)
def test_a_pending_result_is_no_finding_yet(sentence: str, problem: str, assertion: str) -> None:
    """ICU note: "HIT pending" (the antibody test) had become a confirmed D75.829."""
    assert context(sentence, problem).assertion == assertion


def test_which_resolved_after_a_drug_speaks_of_the_problem_before_it() -> None:
    from streamproc.nlp.assertion.course import resolved_past_drug

    text = (
        "She developed a pruritic rash on day 3 after starting metronidazole, which resolved "
        "with diphenhydramine. Hypertension on lisinopril, which was increased. Gout; "
        "colchicine, which resolved it."
    )

    def spans(*words: tuple[str, str]) -> list[tuple[int, int, str]]:
        return sorted((text.index(w), text.index(w) + len(w), label) for w, label in words)

    found = spans(
        ("pruritic rash", "problem"), ("metronidazole", "drug"), ("diphenhydramine", "drug"),
        ("Hypertension", "problem"), ("lisinopril", "drug"), ("Gout", "problem"),
        ("colchicine", "drug"),
    )  # fmt: skip
    # the rash resolved; the lisinopril was increased; the gout is in another clause
    assert resolved_past_drug(text, found) == {0}


@pytest.mark.parametrize(
    ("sentence", "problem", "course"),
    [
        (
            "Past history: prior basal cell carcinoma of the nose (excised 2015).",
            "basal cell carcinoma of the nose",
            "resolved",
        ),
        ("Lipoma of the back, removed in 2019.", "Lipoma of the back", "resolved"),
        # taken out this admission, under treatment still: no past year, no course
        ("Rectal cancer, resected 11/20, on adjuvant FOLFOX.", "Rectal cancer", None),
        ("Basal cell carcinoma, excision planned 2027.", "Basal cell carcinoma", None),
    ],
)
def test_a_problem_removed_in_a_past_year_is_resolved(
    sentence: str, problem: str, course: str | None
) -> None:
    """Melanoma note (round 37): "prior basal cell carcinoma of the nose (excised 2015)" was an
    active Condition."""
    end = sentence.index(problem) + len(problem)
    assert clinical_course(sentence, end, "present", None)[0] == course
