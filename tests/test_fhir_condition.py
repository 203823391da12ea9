"""Condition builder: valid R4 resources, deterministic ids, assertion mapping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streamproc.config import Settings
from streamproc.fhir import ConditionBuilder, build_resource_builders
from streamproc.fhir.common import (
    EXT_ALTERNATIVE_CODES,
    EXT_ASSERTION,
    EXT_NOTE_SPAN,
    FhirValidationError,
    deterministic_id,
    reference,
    validate,
)
from streamproc.nlp.types import CodeCandidate, Entity, NoteAnalysis
from streamproc.records import NoteEvent, OutMessage, SourceRef

TEXT = "Pt has CHF. No diabetes. Possible pneumonia. Mother had breast cancer. CHF again."
CODES = {
    "CHF": (
        CodeCandidate(code="I50.9", display="Heart failure, unspecified", score=1.0),
        CodeCandidate(code="I50.20", display="Unspecified systolic heart failure", score=0.69),
    ),
    "diabetes": (CodeCandidate(code="E11.9", display="Type 2 diabetes mellitus", score=1.0),),
    "pneumonia": (
        CodeCandidate(code="J18.9", display="Pneumonia, unspecified organism", score=1.0),
    ),
    "breast cancer": (CodeCandidate(code="C50.919", display="Malignant neoplasm", score=1.0),),
}


def note(event_id: str = "ev-1", patient: str | None = "Patient/p1") -> NoteEvent:
    return NoteEvent(
        event_id=event_id,
        source=SourceRef(topic="file:test"),
        message_format="fhir",
        message_type="DocumentReference",
        document_id="doc-1",
        patient_ref=patient,
        encounter_ref="Encounter/e1",
        authored=datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
        text=TEXT,
        content_hash="h",
        deidentified=True,
    )


def entity(mention: str, assertion: str, occurrence: int = 0) -> Entity:
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(mention, start + 1)
    return Entity(
        label="problem",
        start=start,
        end=start + len(mention),
        text=mention,
        assertion=assertion,  # type: ignore[arg-type]
        codes=CODES[mention],
    )


def analysis(*entities: Entity) -> NoteAnalysis:
    return NoteAnalysis(entities=entities, model_versions={"ner": "ner-1", "icd": "icd lex 1"})


def test_present_and_possible_become_conditions() -> None:
    a = analysis(
        entity("CHF", "present"),
        entity("diabetes", "absent"),
        entity("pneumonia", "possible"),
        entity("breast cancer", "family"),
    )
    out = ConditionBuilder().build(note(), a)
    by_code = {m.value["code"]["coding"][0]["code"]: m.value for m in out}
    assert set(by_code) == {"I50.9", "J18.9"}  # absent and family stay evidence only
    assert by_code["I50.9"]["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert by_code["J18.9"]["verificationStatus"]["coding"][0]["code"] == "provisional"
    for msg in out:
        assert msg.topic == "conditions"
        assert msg.key == msg.value["id"]
        validate(msg.value)


def test_resource_content() -> None:
    (msg,) = ConditionBuilder().build(note(), analysis(entity("CHF", "present")))
    r = msg.value
    assert r["resourceType"] == "Condition"
    assert r["subject"] == {"reference": "Patient/p1"}
    assert r["encounter"] == {"reference": "Encounter/e1"}
    assert r["recordedDate"] == "2020-01-02T03:04:05+00:00"
    assert r["code"]["text"] == "CHF"
    assert r["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10-cm"
    assert r["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    assert r["clinicalStatus"]["coding"][0]["code"] == "active"
    assert {t["code"] for t in r["meta"]["tag"]} == {"ner:ner-1", "icd:icd_lex_1"}
    assert r["evidence"][0]["detail"][0] == {"reference": "DocumentReference/doc-1"}
    (span,) = [e for e in r["extension"] if e["url"] == EXT_NOTE_SPAN]
    values = {
        e["url"]: next(v for k, v in e.items() if k.startswith("value")) for e in span["extension"]
    }
    assert (values["start"], values["end"]) == (7, 10)
    alternatives = [e for e in r["extension"] if e["url"] == EXT_ALTERNATIVE_CODES]
    assert [a["extension"][1]["valueCoding"]["code"] for a in alternatives] == ["I50.9", "I50.20"]
    assert all(a["extension"][1]["valueCoding"]["userSelected"] is False for a in alternatives)


def test_ids_are_deterministic_per_document_and_code() -> None:
    """Redelivery, replay and a corrected version of the same document overwrite the document's
    Condition for a code; another document or another code is another Condition."""
    a = analysis(entity("CHF", "present"))
    first = ConditionBuilder().build(note(), a)[0].value["id"]
    again = ConditionBuilder().build(note(), a)[0].value["id"]
    assert first == again
    moved = ConditionBuilder().build(note("ev-2"), analysis(entity("CHF", "present", 1)))
    assert moved[0].value["id"] == first  # version 2 of doc-1, the mention moved: overwritten
    other_doc = ConditionBuilder().build(note().model_copy(update={"document_id": "doc-2"}), a)
    assert other_doc[0].value["id"] != first
    no_doc = [note(e).model_copy(update={"document_id": None}) for e in ("ev-1", "ev-2")]
    ids = {ConditionBuilder().build(n, a)[0].value["id"] for n in no_doc}
    assert len(ids) == 2 and first not in ids  # without a document, each note is its own
    assert deterministic_id("a", 1, 2, "X") != deterministic_id("a", 1, 2, "Y")


def test_repeated_mentions_make_one_condition() -> None:
    a = analysis(entity("CHF", "possible"), entity("CHF", "present", 1))
    (msg,) = ConditionBuilder().build(note(), a)
    spans = [e for e in msg.value["extension"] if e["url"] == EXT_NOTE_SPAN]
    assert len(spans) == 2
    assert msg.value["verificationStatus"]["coding"][0]["code"] == "confirmed"
    # the assertion shown is the one that decided the status, not the first mention's
    (shown,) = [e["valueCode"] for e in msg.value["extension"] if e["url"].endswith("/assertion")]
    assert shown == "present"


def test_low_score_and_uncoded_problems_are_skipped() -> None:
    weak = entity("CHF", "present").model_copy(
        update={"codes": (CodeCandidate(code="I50.9", display="x", score=0.2),)}
    )
    uncoded = entity("pneumonia", "present").model_copy(update={"codes": ()})
    assert ConditionBuilder().build(note(), analysis(weak, uncoded)) == []


def test_a_possible_status_is_no_condition() -> None:
    """ "nephrology for possible hemodialysis" had become a provisional Z99.2 (dependence on
    dialysis); a present status stays, and a possible diagnosis stays provisional."""
    dialysis = entity("CHF", "possible").model_copy(
        update={"codes": (CodeCandidate(code="Z99.2", display="dialysis", score=1.0),)}
    )
    assert ConditionBuilder().build(note(), analysis(dialysis)) == []
    on_dialysis = dialysis.model_copy(update={"assertion": "present"})
    assert len(ConditionBuilder().build(note(), analysis(on_dialysis))) == 1
    assert len(ConditionBuilder().build(note(), analysis(entity("CHF", "possible")))) == 1


def test_a_suspicion_ruled_out_further_on_is_no_condition() -> None:
    """Urgent care (round 53): "amoxicillin for presumed streptococcal pharyngitis (culture
    later negative) … 3. Streptococcal pharyngitis - ruled out" had published a provisional
    J02.0. A later negated mention of the same code settles it; an earlier one does not, nor
    does it touch a confirmed mention."""
    suspected = entity("CHF", "possible", 0)
    ruled_out = entity("CHF", "absent", 1)
    assert ConditionBuilder().build(note(), analysis(suspected, ruled_out)) == []
    earlier = entity("CHF", "absent", 0)
    later = entity("CHF", "possible", 1)
    assert len(ConditionBuilder().build(note(), analysis(earlier, later))) == 1
    confirmed = entity("CHF", "present", 0)
    assert len(ConditionBuilder().build(note(), analysis(confirmed, ruled_out))) == 1


def _chf_coded(occurrence: int, code: str, display: str) -> Entity:
    """A present "CHF" mention that the coder read as ``code``."""
    return entity("CHF", "present", occurrence).model_copy(
        update={"codes": (CodeCandidate(code=code, display=display, score=1.0),)}
    )


def _codes(*entities: Entity) -> list[str]:
    built = ConditionBuilder().build(note(), analysis(*entities))
    return sorted(m.value["code"]["coding"][0]["code"] for m in built)


def test_an_unspecified_code_folds_into_the_specific_one_of_its_category() -> None:
    """Nephrology note: "AKI on CKD" (N18.9) beside "CKD stage 3b" (N18.32) is one condition;
    the unspecified mention is kept as evidence of the specific one."""
    unspecified = _chf_coded(0, "N18.9", "CKD, unspecified")
    staged = _chf_coded(1, "N18.32", "CKD, stage 3b")
    (msg,) = ConditionBuilder().build(note(), analysis(unspecified, staged))
    assert msg.value["code"]["coding"][0]["code"] == "N18.32"
    spans = [e for e in msg.value["extension"] if e["url"] == EXT_NOTE_SPAN]
    assert len(spans) == 2
    # a specific code the note only suspects does not take a confirmed unspecified one
    doubted = staged.model_copy(update={"assertion": "possible"})
    assert _codes(unspecified, doubted) == ["N18.32", "N18.9"]
    # a deeper code takes it even when unspecified at its own level: heart failure I50.9 is
    # the diastolic I50.30 the note named as HFpEF
    hf = _chf_coded(0, "I50.9", "Heart failure, unspecified")
    assert _codes(hf, _chf_coded(1, "I50.30", "Unspecified diastolic heart failure")) == ["I50.30"]
    # a sibling branch refines it when its description holds every word the unspecified one
    # names: atrial fibrillation I48.91 is the persistent one I48.19 the note named
    af = _chf_coded(0, "I48.91", "Unspecified atrial fibrillation")
    assert _codes(af, _chf_coded(1, "I48.19", "Other persistent atrial fibrillation")) == ["I48.19"]
    # ... but nausea with vomiting (R11.2) is no unspecified vomiting (R11.10)
    nv = _chf_coded(0, "R11.2", "Nausea with vomiting, unspecified")
    assert _codes(nv, _chf_coded(1, "R11.10", "Vomiting, unspecified")) == ["R11.10", "R11.2"]
    # a plural in the specific description is the unspecified one's singular: the HIT note's
    # "thrombosis" I82.90 is its "left popliteal DVT"
    vein = _chf_coded(0, "I82.90", "Acute embolism and thrombosis of unspecified vein")
    deep = _chf_coded(
        1,
        "I82.402",
        "Acute embolism and thrombosis of unspecified deep veins of left lower extremity",
    )
    assert _codes(vein, deep) == ["I82.402"]
    # "part unspecified" is a qualifier: the HPI's "perforated diverticulitis" K57.80 is the
    # discharge diagnosis's perforated sigmoid diverticulitis K57.20
    part = _chf_coded(
        0, "K57.80", "Diverticulitis of intestine, part unspecified, with perforation and abscess"
    )
    sigmoid = _chf_coded(
        1, "K57.20", "Diverticulitis of large intestine with perforation and abscess"
    )
    assert _codes(part, sigmoid) == ["K57.20"]
    # a few unspecified codes have their specified forms in other categories: "Rheumatoid
    # arthritis" M06.9 beside "seropositive rheumatoid arthritis" M05.9 (rheumatology, round 21),
    # "pneumonia" beside the MSSA pneumonia, "depression" beside recurrent MDD
    ra = _chf_coded(0, "M06.9", "Rheumatoid arthritis, unspecified")
    seropositive = _chf_coded(
        1, "M05.9", "Rheumatoid arthritis with rheumatoid factor, unspecified"
    )
    assert _codes(ra, seropositive) == ["M05.9"]
    pna = _chf_coded(0, "J18.9", "Pneumonia, unspecified organism")
    assert _codes(pna, _chf_coded(1, "J15.211", "Pneumonia due to MSSA")) == ["J15.211"]
    dep = _chf_coded(0, "F32.A", "Depression, unspecified")
    assert _codes(dep, _chf_coded(1, "F33.9", "Major depressive disorder, recurrent")) == ["F33.9"]
    assert _codes(dep, _chf_coded(1, "F43.21", "Adjustment disorder")) == ["F32.A", "F43.21"]
    # another category is another condition
    assert _codes(unspecified, _chf_coded(1, "N17.9", "AKI, unspecified")) == ["N17.9", "N18.9"]


def test_a_symptom_the_diagnosis_includes_is_its_evidence() -> None:
    """Neurology note: "Seizures" (R56.9) beside "juvenile myoclonic epilepsy" (G40.B09) is one
    Condition, as the tabular list's Excludes1 notes say; a symptom of another kind stays."""
    seizures = _chf_coded(0, "R56.9", "Unspecified convulsions")
    epilepsy = _chf_coded(1, "G40.B09", "Juvenile myoclonic epilepsy, not intractable")
    (msg,) = ConditionBuilder().build(note(), analysis(seizures, epilepsy))
    assert msg.value["code"]["coding"][0]["code"] == "G40.B09"
    assert len([e for e in msg.value["extension"] if e["url"] == EXT_NOTE_SPAN]) == 2
    # the diagnosis excludes the symptom NOS (J45: "wheezing NOS (R06.2)"), and the pair no
    # note states: shock beside septic shock
    wheeze = _chf_coded(0, "R06.2", "Wheezing")
    assert _codes(wheeze, _chf_coded(1, "J45.909", "Unspecified asthma")) == ["J45.909"]
    shock = _chf_coded(0, "R57.9", "Shock, unspecified")
    assert _codes(shock, _chf_coded(1, "R65.21", "Severe sepsis with septic shock")) == ["R65.21"]
    # round 59: a gastroenteritis's vomiting and diarrhea; not beside another diagnosis
    vomiting = _chf_coded(0, "R11.10", "Vomiting, unspecified")
    viral = _chf_coded(1, "A08.4", "Viral intestinal infection, unspecified")
    assert _codes(vomiting, viral) == ["A08.4"]
    diarrhea = _chf_coded(0, "R19.7", "Diarrhea, unspecified")
    assert _codes(diarrhea, _chf_coded(1, "K52.9", "Noninfective gastroenteritis")) == ["K52.9"]
    assert _codes(vomiting, _chf_coded(1, "I10", "Essential (primary) hypertension")) == [
        "I10",
        "R11.10",
    ]
    # the symptom is evidence, not the course: "wheezing resolved" does not resolve the asthma
    (msg,) = ConditionBuilder().build(
        note(),
        analysis(
            wheeze.model_copy(update={"course": "resolved"}),
            _chf_coded(1, "J45.909", "Unspecified asthma"),
        ),
    )
    assert _status(msg) == ("active", "confirmed")
    # a doubted diagnosis does not take a confirmed symptom
    doubted = epilepsy.model_copy(update={"assertion": "possible"})
    assert _codes(seizures, doubted) == ["G40.B09", "R56.9"]
    # edema beside pulmonary edema, a tremor beside akathisia: other sites and kinds, two
    edema = _chf_coded(0, "R60.9", "Edema, unspecified")
    assert _codes(edema, _chf_coded(1, "J81.0", "Acute pulmonary edema")) == ["J81.0", "R60.9"]
    tremor = _chf_coded(0, "R25.1", "Tremor, unspecified")
    assert _codes(tremor, _chf_coded(1, "G25.71", "Drug induced akathisia")) == ["G25.71", "R25.1"]
    # round 44: a delirium (R41.0, "Delirium NOS") beside mild cognitive impairment is an
    # acute illness of its own, though R41 excludes G31.84
    delirium = _chf_coded(0, "R41.0", "Disorientation, unspecified")
    mci = _chf_coded(1, "G31.84", "Mild cognitive impairment of uncertain or unknown etiology")
    assert _codes(delirium, mci) == ["G31.84", "R41.0"]
    # prediabetes is an earlier stage beside diabetes, not its symptom
    pre = _chf_coded(0, "R73.03", "Prediabetes")
    assert _codes(pre, _chf_coded(1, "E11.9", "Type 2 diabetes")) == ["E11.9", "R73.03"]
    # of two diagnoses that include it, the one mentioned nearest takes it
    jaundice = entity("pneumonia", "present").model_copy(
        update={"codes": (CodeCandidate(code="R17", display="Unspecified jaundice", score=1.0),)}
    )
    far = _chf_coded(0, "K70.30", "Alcoholic cirrhosis of liver without ascites")
    near = entity("breast cancer", "present").model_copy(
        update={"codes": (CodeCandidate(code="K71.9", display="Toxic liver disease", score=1.0),)}
    )
    built = ConditionBuilder().build(note(), analysis(jaundice, far, near))
    by_code = {m.value["code"]["coding"][0]["code"]: m.value for m in built}
    assert sorted(by_code) == ["K70.30", "K71.9"]
    spans = [e for e in by_code["K71.9"]["extension"] if e["url"] == EXT_NOTE_SPAN]
    assert len(spans) == 2


def test_body_parts_functions_and_qualifiers_alone_are_fragments() -> None:
    from streamproc.nlp.icd.coder import IcdCoder

    coder = IcdCoder()
    exact = entity("pneumonia", "present")
    assert len(ConditionBuilder().build(note(), analysis(exact))) == 1
    for fragment in ("Heart", "Urination", "viral"):
        cut = exact.model_copy(update={"text": fragment, "codes": coder.code(fragment)})
        assert ConditionBuilder().build(note(), analysis(cut)) == []


def test_missing_patient_raises() -> None:
    with pytest.raises(ValueError, match="patient"):
        ConditionBuilder().build(note(patient=None), analysis(entity("CHF", "present")))


def test_invalid_resource_raises_clear_error() -> None:
    with pytest.raises(FhirValidationError, match="invalid Condition"):
        validate({"resourceType": "Condition", "id": "x", "subject": {"reference": 5}, "bogus": 1})
    with pytest.raises(FhirValidationError, match="unknown FHIR resource type"):
        validate({"resourceType": "Nonsense"})


def test_reference_forms() -> None:
    assert reference("Patient/abc", "Patient") == {"reference": "Patient/abc"}
    assert reference("abc", "Patient") == {"reference": "Patient/abc"}
    assert reference("urn:uuid:1 2", "Patient") == {
        "type": "Patient",
        "identifier": {"value": "urn:uuid:1 2"},
    }
    assert reference(None, "Patient") is None


def test_builders_wiring() -> None:
    builders = build_resource_builders(Settings(), None)
    assert isinstance(builders[0], ConditionBuilder)
    assert len(builders) == 2


def test_history_mentions_are_problem_list_items() -> None:
    past = entity("CHF", "present").model_copy(update={"historical": True})
    (msg,) = ConditionBuilder().build(note(), analysis(past))
    category = msg.value["category"][0]["coding"][0]
    assert (category["code"], category["display"]) == ("problem-list-item", "Problem List Item")
    assert msg.value["clinicalStatus"]["coding"][0]["code"] == "active"  # required on the list
    validate(msg.value)
    # one mention of this encounter makes the Condition an encounter diagnosis
    both = (past, entity("CHF", "present", occurrence=1))
    (msg2,) = ConditionBuilder().build(note(), analysis(*both))
    assert msg2.value["category"][0]["coding"][0]["code"] == "encounter-diagnosis"


def test_a_past_episode_in_the_history_is_inactive() -> None:
    """ "History of pneumonia" is no current pneumonia; "history of CHF" is a current problem."""
    past_pneumonia = entity("pneumonia", "present").model_copy(update={"historical": True})
    past_chf = entity("CHF", "present").model_copy(update={"historical": True})
    statuses = {
        m.value["code"]["coding"][0]["code"]: m.value["clinicalStatus"]["coding"][0]["code"]
        for m in ConditionBuilder().build(note(), analysis(past_pneumonia, past_chf))
    }
    assert statuses == {"J18.9": "inactive", "I50.9": "active"}
    # the same pneumonia named as this encounter's problem is active
    now = entity("pneumonia", "present")
    (msg,) = ConditionBuilder().build(note(), analysis(now))
    assert msg.value["clinicalStatus"]["coding"][0]["code"] == "active"


def _status(msg: OutMessage) -> tuple[str, str]:
    v = msg.value
    return (
        v["clinicalStatus"]["coding"][0]["code"],
        v["verificationStatus"]["coding"][0]["code"],
    )


def test_a_problem_the_note_says_resolved_is_a_resolved_condition() -> None:
    """ConText reads "diabetes ... resolved" as absent (not there now); the patient had it."""
    gone = entity("diabetes", "absent").model_copy(update={"course": "resolved"})
    (msg,) = ConditionBuilder().build(note(), analysis(gone))
    assert _status(msg) == ("resolved", "confirmed")
    assert {"url": EXT_ASSERTION, "valueCode": "absent"} in msg.value["extension"]
    validate(msg.value)
    # a plain negation stays evidence only
    assert ConditionBuilder().build(note(), analysis(entity("diabetes", "absent"))) == []
    # a stated course outweighs a mention that states none (the admitting problem, later
    # resolved)
    both = (
        entity("CHF", "present"),
        entity("CHF", "absent", 1).model_copy(update={"course": "resolved"}),
    )
    (msg2,) = ConditionBuilder().build(note(), analysis(*both))
    assert _status(msg2) == ("resolved", "confirmed")


def test_a_default_without_code_folds_into_its_with_twin() -> None:
    """Urology note: "BPH" (the coder's default N40.0, *without* LUTS) beside "BPH with lower
    urinary tract symptoms" N40.1 is one Condition; "migraine without aura" said so stays."""
    without = CodeCandidate(
        code="N40.0", display="BPH without lower urinary tract symptoms", score=1.0
    )
    with_ = CodeCandidate(code="N40.1", display="BPH with lower urinary tract symptoms", score=1.0)
    bare = entity("CHF", "present").model_copy(update={"codes": (without,)})
    named = entity("CHF", "present", 1).model_copy(update={"codes": (with_,)})
    assert _codes(bare, named) == ["N40.1"]
    said = bare.model_copy(update={"text": "BPH without LUTS"})
    assert sorted(_codes(said, named)) == ["N40.0", "N40.1"]


def test_a_disease_in_remission_takes_its_other_mentions() -> None:
    """ "stage III DLBCL diagnosed 2023 … DLBCL, in complete remission": one Condition, C83.3A."""
    active = CodeCandidate(code="C83.30", display="Diffuse large B-cell lymphoma", score=1.0)
    twin = CodeCandidate(code="C83.3A", display="DLBCL, in remission", score=1.0)
    plain = entity("CHF", "present").model_copy(update={"codes": (active,)})
    calm = entity("CHF", "present", 1).model_copy(
        update={"codes": (twin, active), "course": "remission"}
    )
    (msg,) = ConditionBuilder().build(note(), analysis(plain, calm))
    assert msg.value["code"]["coding"][0]["code"] == "C83.3A"
    assert _status(msg) == ("remission", "confirmed")
    assert len([e for e in msg.value["extension"] if e["url"] == EXT_NOTE_SPAN]) == 2
    # a remission mention whose code had no twin folds nothing in
    other = entity("pneumonia", "present")
    calm_alone = entity("CHF", "present", 1).model_copy(update={"course": "remission"})
    assert len(ConditionBuilder().build(note(), analysis(other, calm_alone))) == 2


def test_a_remission_is_the_clinical_status() -> None:
    calm = entity("breast cancer", "present").model_copy(
        update={"course": "remission", "historical": True}
    )
    (msg,) = ConditionBuilder().build(note(), analysis(calm))
    assert _status(msg) == ("remission", "confirmed")
    assert msg.value["category"][0]["coding"][0]["code"] == "problem-list-item"
    validate(msg.value)


@pytest.mark.parametrize(
    ("code", "episodic"),
    [
        ("N39.0", True),  # urinary tract infection
        ("J01.90", True),  # acute sinusitis
        ("S82.899A", True),  # fracture of ankle
        ("A41.9", True),  # sepsis
        ("R05.9", True),  # cough
        ("I10", False),  # hypertension
        ("N18.30", False),  # chronic kidney disease
        ("B18.2", False),  # chronic hepatitis C
        ("J32.9", False),  # chronic sinusitis
        ("T78.40XA", False),  # an allergy persists
        # round 58: "History of methotrexate hepatotoxicity" is a past injury, not a chronic one
        ("K71.9", True),
        ("K71.0", True),  # cholestatic drug-induced liver injury
        ("K71.7", False),  # toxic liver disease with cirrhosis
        ("K71.50", False),  # chronic active hepatitis
        # round 61: "peanut (anaphylaxis 2021)" is a past episode; the allergy persists
        ("T78.2XXA", True),
    ],
)
def test_episodic_codes(code: str, episodic: bool) -> None:
    from streamproc.fhir.condition import is_episodic

    assert is_episodic(code) is episodic


def test_an_ulcer_that_bled_takes_its_other_mentions() -> None:
    """ "Upper GI bleed secondary to duodenal ulcer … EGD showed a clean-based duodenal ulcer":
    one Condition, K26.4 with hemorrhage, not K26.9 without it beside."""
    without = CodeCandidate(code="K26.9", display="Duodenal ulcer, without hemorrhage", score=1.0)
    bled = CodeCandidate(code="K26.4", display="Duodenal ulcer with hemorrhage", score=1.0)
    plain = entity("CHF", "present").model_copy(update={"codes": (without,)})
    bleeding = entity("CHF", "present", 1).model_copy(update={"codes": (bled, without)})
    (msg,) = ConditionBuilder().build(note(), analysis(plain, bleeding))
    assert msg.value["code"]["coding"][0]["code"] == "K26.4"
    assert len([e for e in msg.value["extension"] if e["url"] == EXT_NOTE_SPAN]) == 2
    # another ulcer (gastric, K25.9) is another Condition
    gastric = CodeCandidate(code="K25.9", display="Gastric ulcer, without hemorrhage", score=1.0)
    other = entity("pneumonia", "present").model_copy(update={"codes": (gastric,)})
    assert len(ConditionBuilder().build(note(), analysis(other, bleeding))) == 2


def test_pancreatitis_ileus_and_diverticulitis_are_episodes_diverticulosis_is_not() -> None:
    from streamproc.fhir.condition import is_episodic

    assert all(is_episodic(c) for c in ("K85.30", "K56.7", "K57.20", "K57.32", "K57.92"))
    assert not any(is_episodic(c) for c in ("K57.30", "K57.90", "K86.1"))  # chronic


def test_seizures_coded_as_epilepsy_fold_into_the_epilepsy_syndrome_named() -> None:
    """Epilepsy clinic (round 23): "generalized tonic-clonic seizures" code as G40.409 (the
    tabular list's grand mal seizure NOS); beside "juvenile myoclonic epilepsy" G40.B09 they are
    that epilepsy's seizures. Alone they stay."""
    seizures = _chf_coded(0, "G40.409", "Other generalized epilepsy and epileptic syndromes")
    epilepsy = _chf_coded(0, "G40.909", "Epilepsy, unspecified, not intractable")
    jme = _chf_coded(1, "G40.B09", "Juvenile myoclonic epilepsy, not intractable")
    assert _codes(seizures, jme) == ["G40.B09"]
    assert _codes(epilepsy, jme) == ["G40.B09"]
    assert _codes(seizures) == ["G40.409"]
    assert _codes(seizures, _chf_coded(1, "I10", "Essential (primary) hypertension")) == [
        "G40.409",
        "I10",
    ]


def test_a_few_unspecified_codes_fold_into_the_specified_one_named() -> None:
    """Round 24: a "left hip fracture" (S72.002A) beside the "left intertrochanteric fracture"
    (S72.142A) is one fracture, not a right one; "HBV" (B19.10) is the chronic hepatitis B
    (B18.1) the note names; an impulse disorder (F63.9) the pathological gambling (F63.0)."""
    hip = _chf_coded(0, "S72.002A", "Fracture of unspecified part of neck of left femur")
    left = _chf_coded(1, "S72.142A", "Displaced intertrochanteric fracture of left femur")
    right = _chf_coded(1, "S72.141A", "Displaced intertrochanteric fracture of right femur")
    assert _codes(hip, left) == ["S72.142A"]
    assert _codes(hip, right) == ["S72.002A", "S72.141A"]
    hbv = _chf_coded(0, "B19.10", "Unspecified viral hepatitis B without hepatic coma")
    assert _codes(hbv, _chf_coded(1, "B18.1", "Chronic viral hepatitis B")) == ["B18.1"]
    impulse = _chf_coded(0, "F63.9", "Impulse disorder, unspecified")
    assert _codes(impulse, _chf_coded(1, "F63.0", "Pathological gambling")) == ["F63.0"]
    # round 30: "malaria" beside the falciparum malaria named; rest pain of no side beside the
    # left leg's limb-threatening ischemia
    malaria = _chf_coded(0, "B54", "Unspecified malaria")
    falciparum = _chf_coded(
        1, "B50.8", "Other severe and complicated Plasmodium falciparum malaria"
    )
    assert _codes(malaria, falciparum) == ["B50.8"]
    # round 59: a dystonic reaction's torticollis; diabetes untyped beside the type named
    torticollis = _chf_coded(0, "M43.6", "Torticollis")
    dystonia = _chf_coded(1, "G24.02", "Drug induced acute dystonia")
    assert _codes(torticollis, dystonia) == ["G24.02"]
    untyped = _chf_coded(0, "E11.9", "Type 2 diabetes mellitus without complications")
    steroid = _chf_coded(
        1, "E09.9", "Drug or chemical induced diabetes mellitus without complications"
    )
    assert _codes(untyped, steroid) == ["E09.9"]
    # round 60: liver lesions on imaging beside the liver metastases named
    lesions = _chf_coded(0, "R93.2", "Abnormal findings on diagnostic imaging of liver")
    metastases = _chf_coded(1, "C78.7", "Secondary malignant neoplasm of liver")
    assert _codes(lesions, metastases) == ["C78.7"]
    # round 61: bare pulmonary edema (chronic J81.1 by the index) beside the acute one; eczema
    # beside the atopic dermatitis
    edema = _chf_coded(0, "J81.1", "Chronic pulmonary edema")
    assert _codes(edema, _chf_coded(1, "J81.0", "Acute pulmonary edema")) == ["J81.0"]
    eczema = _chf_coded(0, "L30.9", "Dermatitis, unspecified")
    assert _codes(eczema, _chf_coded(1, "L20.9", "Atopic dermatitis, unspecified")) == ["L20.9"]
    assert _codes(untyped, _chf_coded(1, "I10", "Essential (primary) hypertension")) == [
        "E11.9",
        "I10",
    ]
    rest = _chf_coded(
        0,
        "I70.229",
        "Atherosclerosis of native arteries of extremities with rest pain, unspecified extremity",
    )
    left_leg = _chf_coded(
        1, "I70.222", "Atherosclerosis of native arteries of extremities with rest pain, left leg"
    )
    assert _codes(rest, left_leg) == ["I70.222"]
    # round 31: COPD beside the emphysema named is the emphysema's code
    copd = _chf_coded(0, "J44.9", "Chronic obstructive pulmonary disease, unspecified")
    assert _codes(copd, _chf_coded(1, "J43.9", "Emphysema, unspecified")) == ["J43.9"]
    # round 34: the echo's "small aneurysm" beside the coronary artery aneurysm named
    aneurysm = _chf_coded(0, "I72.9", "Aneurysm of unspecified site")
    assert _codes(aneurysm, _chf_coded(1, "I25.41", "Coronary artery aneurysm")) == ["I25.41"]
    # round 37: "Type 1 diabetes, poorly controlled" beside the note's DKA is the DKA's code
    high = _chf_coded(0, "E10.65", "Type 1 diabetes mellitus with hyperglycemia")
    dka = _chf_coded(1, "E10.10", "Type 1 diabetes mellitus with ketoacidosis without coma")
    assert _codes(high, dka) == ["E10.10"]
    ulcer = _chf_coded(1, "E10.621", "Type 1 diabetes mellitus with foot ulcer")
    assert _codes(high, ulcer) == ["E10.621", "E10.65"]  # a foot ulcer says nothing of sugar
    # round 40: the dependence beside its withdrawal; "hepatitis" beside the alcoholic one
    dependence = _chf_coded(0, "F10.20", "Alcohol dependence, uncomplicated")
    withdrawal = _chf_coded(1, "F10.239", "Alcohol dependence with withdrawal, unspecified")
    assert _codes(dependence, withdrawal) == ["F10.239"]
    hepatitis = _chf_coded(0, "K75.9", "Inflammatory liver disease, unspecified")
    alcoholic = _chf_coded(1, "K70.10", "Alcoholic hepatitis without ascites")
    assert _codes(hepatitis, alcoholic) == ["K70.10"]
    # round 42: "in renal failure" beside the acute kidney injury named
    failure = _chf_coded(0, "N19", "Unspecified kidney failure")
    aki = _chf_coded(1, "N17.9", "Acute kidney failure, unspecified")
    assert _codes(failure, aki) == ["N17.9"]
    # round 43: the history list's asthma severity beside this visit's exacerbation
    asthma = _chf_coded(0, "J45.40", "Moderate persistent asthma, uncomplicated")
    flare = _chf_coded(1, "J45.41", "Moderate persistent asthma with (acute) exacerbation")
    assert _codes(asthma, flare) == ["J45.41"]
    mild = _chf_coded(1, "J45.21", "Mild intermittent asthma with (acute) exacerbation")
    assert _codes(asthma, mild) == ["J45.21", "J45.40"]  # another severity is no refinement
    back = _chf_coded(0, "M54.9", "Dorsalgia, unspecified")
    low = _chf_coded(1, "M54.50", "Low back pain, unspecified")
    assert _codes(back, low) == ["M54.50"]
    neck = _chf_coded(1, "M54.2", "Cervicalgia")
    assert _codes(back, neck) == ["M54.2", "M54.9"]  # the neck is not the back
    # round 44: the CT's "pancolitis" and a past episode beside the recurrent C. difficile
    colitis = _chf_coded(0, "K52.9", "Noninfective gastroenteritis and colitis, unspecified")
    past = _chf_coded(0, "A04.72", "Enterocolitis due to Clostridium difficile, not specified")
    recurrent = _chf_coded(1, "A04.71", "Enterocolitis due to Clostridium difficile, recurrent")
    assert _codes(colitis, recurrent) == ["A04.71"]
    assert _codes(past, recurrent) == ["A04.71"]


def test_unspecified_ckd_folds_into_the_end_stage_renal_disease_named() -> None:
    ckd = _chf_coded(0, "N18.9", "Chronic kidney disease, unspecified")
    assert _codes(ckd, _chf_coded(1, "N18.6", "End stage renal disease")) == ["N18.6"]


@pytest.mark.parametrize(
    ("code", "episodic"),
    [
        ("J98.01", True),
        ("L50.9", True),
        ("I95.9", True),
        ("R55", True),
        ("L52", True),  # round 38: "History of erythema nodosum (Lofgren-like presentation)"
        ("R94.31", True),  # round 38: "sotalol stopped in 2021 for QT prolongation"
        ("L56.8", True),  # a photosensitivity reaction the drug was stopped after
        ("L57.0", False),  # actinic keratosis stays
        # round 61 changed round 32's choice: a past anaphylaxis ("peanut (anaphylaxis 2021)")
        # is an episode too; the allergy it shows persists (T78.4, and the Z91.01- allergy codes)
        ("T78.2XXA", True),
        ("T78.40XA", False),
        ("L50.1", False),
    ],
)
def test_a_reactions_passing_signs_are_episodes(code: str, episodic: bool) -> None:
    """Round 32: the signs of a past reaction named in the history (bronchospasm, urticaria,
    hypotension) are past episodes; an allergy (T78.4) and chronic urticaria persist."""
    from streamproc.fhir.condition import is_episodic

    assert is_episodic(code) is episodic
