"""One person, one patient: which identifier keys a note's patient across HL7 and FHIR feeds.

The key decides the pseudonym, the date shift and whether an alert is a repeat; two hospitals'
identical MRNs must stay two patients, and one patient's MRN from two feeds one, when the
operator says their namespaces are one (``patient_identity.namespaces``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from streamproc.config import PatientIdentity, Settings
from streamproc.deid import build_deidentifier
from streamproc.fhir.adverse_event import AdverseEventBuilder
from streamproc.ingest import parse_message
from streamproc.nlp.types import AdeRelation, Entity, NoteAnalysis
from streamproc.pipeline import Pipeline
from streamproc.records import NoteEvent, SourceRef
from streamproc.state import MemoryStore
from tests.test_ingest_fhir import doc_ref

TEXT = "Patient developed anaphylaxis after penicillin."
SRC = SourceRef(topic="notes.raw", partition=0, offset=1)
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
SHARED = {"HOSP": "hosp", "urn:oid:1.2.3": "hosp"}


def hl7(pid3: str, control_id: str = "MSG1") -> bytes:
    return (
        f"MSH|^~\\&|EPIC|HOSP|||202403011000||MDM^T02|{control_id}|P|2.5\r"
        f"PID|1||{pid3}||Doe^Jane||19600101|F\r"
        f"TXA|1|PN|TX|202403011000||||||||DOC-{control_id}||||||AU\r"
        f"OBX|1|TX|||{TEXT}\r"
    ).encode()


def fhir(subject: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps(doc_ref(TEXT, subject=subject, date="2024-03-01T10:00:00Z", **extra)).encode()


def mrn(value: str = "12345", system: str = "urn:oid:1.2.3") -> dict[str, Any]:
    return {
        "system": system,
        "value": value,
        "type": {"coding": [{"system": V2_0203, "code": "MR"}]},
    }


def settings(**namespaces: str) -> Settings:
    return Settings(
        deid_secret="patient-identity-test",
        patient_identity=PatientIdentity(namespaces=dict(namespaces)),
    )


def one(raw: bytes, cfg: Settings) -> NoteEvent:
    (note,) = parse_message(raw, SRC, cfg)
    return note


def deidentified(raw: bytes, cfg: Settings, store: MemoryStore) -> NoteEvent:
    return build_deidentifier(cfg, store, mode="rules").deidentify(one(raw, cfg))


def test_pid3_prefers_the_medical_record_number_and_keeps_its_authority() -> None:
    note = one(hl7("999-99-9999^^^SSA^SS~12345^^^HOSP^MR"), settings())
    assert (note.patient_ref, note.patient_namespace) == ("Patient/12345", "HOSP")
    # HD with a universal id: the namespace id names it; an identifier without one stays bare
    note = one(hl7("PAT7^5^M11^test1&2.16.1&ISO^MR"), settings())
    assert (note.patient_ref, note.patient_namespace) == ("Patient/PAT7", "test1")
    note = one(hl7("PAT7"), settings())
    assert (note.patient_ref, note.patient_namespace) == ("Patient/PAT7", None)


def test_the_same_number_at_two_hospitals_is_two_patients() -> None:
    cfg, store = settings(), MemoryStore()
    a = deidentified(hl7("12345^^^HOSP-A^MR"), cfg, store)
    b = deidentified(hl7("12345^^^HOSP-B^MR", "MSG2"), cfg, store)
    assert a.patient_ref != b.patient_ref and a.authored != b.authored
    assert a.patient_namespace is None  # the pseudonym carries it
    # bare numbers are keyed as before namespaces existed
    bare = deidentified(hl7("12345"), cfg, store)
    assert (
        bare.patient_ref
        == deidentified(fhir({"reference": "Patient/12345"}), cfg, store).patient_ref
    )


def with_visit(pv1_19: str, facility: str, control_id: str) -> bytes:
    return (
        hl7("12345^^^HOSP^MR", control_id)
        .decode()
        .replace("|EPIC|HOSP|", f"|EPIC|{facility}|")
        .replace("\rTXA", f"\rPV1|1|I|||||||||||||||||{pv1_19}\rTXA")
        .encode()
    )


def test_visit_numbers_are_unique_within_their_authority_or_facility() -> None:
    cfg, store = settings(), MemoryStore()
    note = one(with_visit("V100^^^HOSP-VISITS", "HOSP", "M1"), cfg)
    assert (note.encounter_ref, note.encounter_namespace) == ("Encounter/V100", "HOSP-VISITS")
    note = one(with_visit("V100", "NORTH", "M2"), cfg)
    assert (note.encounter_ref, note.encounter_namespace) == ("Encounter/V100", "NORTH")
    # two facilities numbering visits alike: two encounters; the same facility twice: one
    north = deidentified(with_visit("V100", "NORTH", "M3"), cfg, store)
    south = deidentified(with_visit("V100", "SOUTH", "M4"), cfg, store)
    again = deidentified(with_visit("V100", "NORTH", "M5"), cfg, store)
    assert north.encounter_ref != south.encounter_ref
    assert north.encounter_ref == again.encounter_ref
    assert north.encounter_namespace is None  # the pseudonym carries it


def test_a_fhir_note_keeps_its_logical_id_unless_its_identifier_is_mapped() -> None:
    subject = {"reference": "Patient/p-77", "identifier": mrn()}
    plain = one(fhir(subject), settings())
    assert (plain.patient_ref, plain.patient_namespace) == ("Patient/p-77", None)
    mapped = one(fhir(subject), settings(**SHARED))
    assert (mapped.patient_ref, mapped.patient_namespace) == ("Patient/12345", "hosp")
    # identifier only, no reference: the identifier in its own system
    alone = one(fhir({"identifier": mrn(system="http://ehr.example/mrn")}), settings())
    assert (alone.patient_ref, alone.patient_namespace) == (
        "Patient/12345",
        "http://ehr.example/mrn",
    )


@pytest.mark.parametrize(
    "reference", ["urn:uuid:4f7c", "Patient/p-77", "https://ehr.example/fhir/Patient/p-77"]
)
def test_the_bundle_patient_entry_gives_the_identifier(reference: str) -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p-77",
        "identifier": [
            {
                "system": "http://hl7.org/fhir/sid/us-ssn",
                "value": "999-99-9999",
                "type": {"coding": [{"code": "SS"}]},
            },
            mrn(),
        ],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:4f7c", "resource": patient},
            {"resource": doc_ref(TEXT, subject={"reference": reference})},
        ],
    }
    note = one(json.dumps(bundle).encode(), settings(**SHARED))
    assert (note.patient_ref, note.patient_namespace) == ("Patient/12345", "hosp")


def test_mapped_namespaces_make_one_patient_and_one_alert_across_feeds() -> None:
    """The same MRN in an HL7 MDM and a FHIR DocumentReference: one pseudonym, one date shift,
    one alert. Unmapped, the product cannot know they are one person and alerts twice."""
    for namespaces, alerts in ((SHARED, 1), ({}, 2)):
        cfg, store = settings(**namespaces), MemoryStore()
        notes = [
            deidentified(hl7("12345^^^HOSP^MR"), cfg, store),
            deidentified(fhir({"reference": "Patient/p-77", "identifier": mrn()}), cfg, store),
        ]
        same = notes[0].patient_ref == notes[1].patient_ref
        assert same == (alerts == 1)
        # one date shift per patient (the HL7 time carries no zone, the FHIR one is UTC)
        shifted = [n.authored.replace(tzinfo=None) for n in notes if n.authored]
        assert len(shifted) == 2 and (shifted[0] == shifted[1]) == same
        builder, published = AdverseEventBuilder(cfg, store), []
        for note in notes:
            out = builder.build(note, anaphylaxis_after_penicillin())
            Pipeline(cfg, store).mark_published(out)
            published += out
        assert len(published) == alerts


def anaphylaxis_after_penicillin() -> NoteAnalysis:
    d0, e0 = TEXT.index("penicillin"), TEXT.index("anaphylaxis")
    relation = AdeRelation(
        drug=Entity(label="drug", start=d0, end=d0 + 10, text="penicillin"),
        effect=Entity(label="problem", start=e0, end=e0 + 11, text="anaphylaxis"),
        score=0.9,
        sentence_start=0,
        sentence_end=len(TEXT),
    )
    return NoteAnalysis(relations=(relation,), model_versions={"ade": "ade-test"})


def test_namespaces_come_from_the_environment_and_a_shared_name_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STREAMPROC_PATIENT_IDENTITY__NAMESPACES", json.dumps(SHARED))
    assert Settings().patient_identity.namespaces == SHARED
    with pytest.raises(ValidationError, match="shared name"):
        PatientIdentity(namespaces={"HOSP": " "})
