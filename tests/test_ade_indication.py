"""The problem a drug treats is not its adverse effect ("hypertension on lisinopril")."""

from __future__ import annotations

import pytest

from streamproc.nlp.ade.cues import is_indication


def _span(sentence: str, effect: str) -> tuple[int, int]:
    start = sentence.index(effect)
    return start, start + len(effect)


@pytest.mark.parametrize(
    ("sentence", "effect"),
    [
        (
            "58-year-old man with atrial fibrillation on warfarin and hypertension on lisinopril.",
            "hypertension",
        ),
        (
            "58-year-old man with atrial fibrillation on warfarin and hypertension on lisinopril.",
            "atrial fibrillation",
        ),
        ("Diabetes is well controlled on metformin.", "Diabetes"),
        ("Depression treated with sertraline for two years.", "Depression"),
        ("Started amoxicillin for otitis media.", "otitis media"),
        ("Methotrexate was given for her rheumatoid arthritis.", "rheumatoid arthritis"),
    ],
)
def test_indications_are_recognised(sentence: str, effect: str) -> None:
    assert is_indication(sentence, *_span(sentence, effect))


@pytest.mark.parametrize(
    ("sentence", "effect"),
    [
        ("He developed angioedema two days after starting lisinopril.", "angioedema"),
        ("She developed hypotension on lisinopril.", "hypotension"),
        ("Lisinopril-induced angioedema, resolved.", "angioedema"),
        ("Rash after penicillin.", "Rash"),
        ("Hepatotoxicity due to isoniazid was suspected.", "Hepatotoxicity"),
    ],
)
def test_adverse_effects_are_not_indications(sentence: str, effect: str) -> None:
    assert not is_indication(sentence, *_span(sentence, effect))


@pytest.mark.parametrize(
    ("sentence", "effect"),
    [
        ("Watch for hepatotoxicity on isoniazid.", "hepatotoxicity"),
        ("Digoxin toxicity on digoxin 0.25 mg.", "Digoxin toxicity"),
    ],
)
def test_harms_worded_with_on_stay_candidates(sentence: str, effect: str) -> None:
    assert not is_indication(sentence, *_span(sentence, effect))


@pytest.mark.parametrize(
    ("sentence", "effect", "drug", "expected"),
    [
        # "on" names a body site here, and the drug comes after a causal cue
        ("Rash on chest after starting amoxicillin.", "Rash", "amoxicillin", False),
        (
            "Swelling on the left hand after the injection of ceftriaxone",
            "Swelling",
            "ceftriaxone",
            False,
        ),  # fmt: skip
        # with the drug known, the classic indications still read as indications
        ("Hypertension on lisinopril.", "Hypertension", "lisinopril", True),
        (
            "Hypertension, well controlled on daily lisinopril 10 mg.",
            "Hypertension",
            "lisinopril",
            True,
        ),  # fmt: skip
        ("Started amoxicillin for otitis media.", "otitis media", "amoxicillin", True),
    ],
)
def test_indication_with_the_drug_span(
    sentence: str, effect: str, drug: str, expected: bool
) -> None:
    assert is_indication(sentence, *_span(sentence, effect), _span(sentence, drug)) is expected


@pytest.mark.parametrize(
    ("sentence", "drug", "effect", "treated"),
    [
        # round 51: the antiemetic had become the cause of the nausea it controls
        (
            "4. Chemotherapy-induced nausea - controlled with ondansetron.",
            "ondansetron",
            "nausea",
            True,
        ),
        ("Seizures, managed on levetiracetam.", "levetiracetam", "Seizures", True),
        ("Rash resolved with discontinuation of amoxicillin.", "amoxicillin", "Rash", False),
        ("Nausea after starting metformin.", "metformin", "Nausea", False),
    ],
)
def test_a_drug_worded_as_the_treatment_is_no_cause(
    sentence: str, drug: str, effect: str, treated: bool
) -> None:
    from streamproc.nlp.ade.cues import treats

    assert treats(sentence, _span(sentence, drug), _span(sentence, effect)) is treated
