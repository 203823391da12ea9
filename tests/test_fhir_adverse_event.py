"""AdverseEvent alerts: valid FHIR R4, deterministic ids, alert-once per patient/drug/effect."""

from __future__ import annotations

from datetime import UTC, datetime

import fakeredis
import pytest

from streamproc.config import Settings
from streamproc.fhir.adverse_event import AdverseEventBuilder, validate
from streamproc.nlp.types import AdeRelation, CodeCandidate, Entity, NoteAnalysis
from streamproc.pipeline import Pipeline
from streamproc.records import NoteEvent, SourceRef
from streamproc.state import MemoryStore, RedisStore

TEXT = "Patient developed anaphylaxis after penicillin. Mild rash after Amoxicillin."


def note(patient: str | None = "Patient/p-1", event_id: str = "ev-1") -> NoteEvent:
    return NoteEvent(
        event_id=event_id,
        source=SourceRef(topic="notes.deid"),
        message_format="fhir",
        message_type="DocumentReference",
        document_id="doc-1",
        patient_ref=patient,
        encounter_ref="Encounter/e-1",
        authored=datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
        text=TEXT,
        content_hash="h",
        deidentified=True,
    )


def rel(drug: str, effect: str, score: float = 0.9, **kw: object) -> AdeRelation:
    d0, e0 = TEXT.index(drug), TEXT.index(effect)
    return AdeRelation(
        drug=Entity(label="drug", start=d0, end=d0 + len(drug), text=drug),
        effect=Entity(
            label="problem", start=e0, end=e0 + len(effect), text=effect, codes=kw.pop("codes", ())
        ),  # type: ignore[arg-type]
        score=score,
        sentence_start=0,
        sentence_end=47,
        **kw,  # type: ignore[arg-type]
    )


def analysis(*relations: AdeRelation) -> NoteAnalysis:
    return NoteAnalysis(relations=relations, model_versions={"ade": "ade-test-1"})


def test_valid_adverse_event_with_evidence() -> None:
    b = AdverseEventBuilder(Settings(), MemoryStore())
    codes = (CodeCandidate(code="T78.2XXA", display="Anaphylactic shock", score=0.8),)
    (msg,) = b.build(
        note(),
        analysis(
            rel("penicillin", "anaphylaxis", seriousness="serious", severity="high", codes=codes)
        ),
    )
    res = msg.value
    validate(res)
    assert msg.topic == "adverse_events"
    assert res["actuality"] == "actual" and res["subject"] == {"reference": "Patient/p-1"}
    assert res["event"]["text"] == "anaphylaxis" and res["event"]["coding"][0]["code"] == "T78.2XXA"
    med = res["contained"][0]
    assert med["resourceType"] == "Medication" and med["code"]["text"] == "penicillin"
    assert res["suspectEntity"][0]["instance"]["reference"] == f"#{med['id']}"
    assert res["seriousness"]["coding"][0]["code"] == "Serious"
    assert res["severity"]["coding"][0]["code"] == "severe"
    assert res["date"].startswith("2024-03-01")
    assert "ade:ade-test-1" in {t["code"] for t in res["meta"]["tag"]}
    ev = {
        e["url"]: next(v for k, v in e.items() if k.startswith("value"))
        for e in res["extension"][0]["extension"]
    }
    assert TEXT[ev["drugStart"] : ev["drugEnd"]] == "penicillin"
    assert TEXT[ev["effectStart"] : ev["effectEnd"]] == "anaphylaxis"
    assert "Patient developed" not in str(res["extension"])  # evidence is offsets, not note text


def test_a_low_scoring_code_is_not_published_on_the_alert() -> None:
    # "angioedema of the lips" once coded K13.0 "Diseases of lips" at 0.47: a Condition was
    # rightly withheld, but the alert still named the code.
    guess = (CodeCandidate(code="K13.0", display="Diseases of lips", score=0.47),)
    sure = (
        CodeCandidate(code="L27.0", display="Generalized skin eruption due to drugs", score=0.9),
    )
    b = AdverseEventBuilder(Settings(), MemoryStore())
    (low,) = b.build(note(), analysis(rel("penicillin", "anaphylaxis", codes=guess)))
    (high,) = b.build(note(), analysis(rel("Amoxicillin", "rash", codes=sure)))
    assert low.value["event"] == {"text": "anaphylaxis"}
    assert high.value["event"]["coding"][0]["code"] == "L27.0"
    # The finding's identity follows: the guess leaves the wording, not the code, as identity.
    uncoded = AdverseEventBuilder(Settings(), MemoryStore()).build(
        note(), analysis(rel("penicillin", "anaphylaxis"))
    )
    assert uncoded[0].value["id"] == low.value["id"]


def acked(store: MemoryStore | RedisStore, outputs: list) -> list:  # type: ignore[type-arg]
    """What the pipeline does once the broker acknowledged the outputs."""
    Pipeline(Settings(), store).mark_published(outputs)
    return outputs


def test_deterministic_id_and_alert_once_per_patient() -> None:
    store = MemoryStore()
    b = AdverseEventBuilder(Settings(), store)
    first = acked(store, b.build(note(), analysis(rel("penicillin", "anaphylaxis"))))
    assert len(first) == 1
    # Same finding in a re-sent note (new event id, drug/effect spelled differently): nothing.
    assert (
        b.build(note(event_id="ev-2"), analysis(rel("penicillin", "anaphylaxis", score=0.99))) == []
    )
    # A fresh store (e.g. expired TTL) gives the same id: subscribers can upsert on it.
    again = AdverseEventBuilder(Settings(), MemoryStore()).build(
        note(event_id="ev-3"), analysis(rel("penicillin", "anaphylaxis"))
    )
    assert again[0].value["id"] == first[0].value["id"]
    other = acked(
        store, b.build(note(patient="Patient/p-2"), analysis(rel("penicillin", "anaphylaxis")))
    )
    assert len(other) == 1 and other[0].value["id"] != first[0].value["id"]
    # Another effect for the same patient is a new finding.
    assert len(b.build(note(), analysis(rel("Amoxicillin", "rash")))) == 1


def test_id_depends_on_secret() -> None:
    a = AdverseEventBuilder(Settings(deid_secret="one"), MemoryStore()).build(
        note(), analysis(rel("penicillin", "anaphylaxis"))
    )
    b = AdverseEventBuilder(Settings(deid_secret="two"), MemoryStore()).build(
        note(), analysis(rel("penicillin", "anaphylaxis"))
    )
    assert a[0].value["id"] != b[0].value["id"]


def test_redis_store_dedup() -> None:
    store = RedisStore.__new__(RedisStore)
    store._client = fakeredis.FakeRedis(decode_responses=True)  # type: ignore[attr-defined]
    store._prefix = "t:"  # type: ignore[attr-defined]
    b = AdverseEventBuilder(Settings(), store, ttl_s=60)
    assert len(acked(store, b.build(note(), analysis(rel("penicillin", "anaphylaxis"))))) == 1
    assert b.build(note(), analysis(rel("penicillin", "anaphylaxis"))) == []
    keys = store.client.keys("t:ade:alerted:*")
    assert len(keys) == 1 and 0 < store.client.ttl(keys[0]) <= 60
    assert "penicillin" not in keys[0] and "p-1" not in keys[0]


def test_threshold_and_potential() -> None:
    b = AdverseEventBuilder(Settings(ade_threshold=0.8), MemoryStore())
    assert b.build(note(), analysis(rel("penicillin", "anaphylaxis", score=0.7))) == []
    assert b.build(note(), analysis(rel("penicillin", "anaphylaxis", actuality="potential"))) == []
    pb = AdverseEventBuilder(Settings(), MemoryStore(), include_potential=True)
    (msg,) = pb.build(note(), analysis(rel("penicillin", "anaphylaxis", actuality="potential")))
    assert msg.value["actuality"] == "potential"
    validate(msg.value)


def test_note_without_patient_still_valid() -> None:
    (msg,) = AdverseEventBuilder(Settings(), MemoryStore()).build(
        note(patient=None), analysis(rel("penicillin", "anaphylaxis"))
    )
    validate(msg.value)
    assert msg.value["subject"] == {"display": "unknown patient"}


def test_invalid_resource_rejected() -> None:
    with pytest.raises(ValueError):
        validate(
            {
                "resourceType": "AdverseEvent",
                "actuality": "sometimes",
                "subject": {"reference": "Patient/x"},
            }
        )
    with pytest.raises(ValueError):
        validate({"resourceType": "AdverseEvent", "actuality": "actual"})
    with pytest.raises(ValueError):
        validate(
            {
                "resourceType": "AdverseEvent",
                "actuality": "actual",
                "subject": {"reference": "Patient/x"},
                "date": "not a date",
            }
        )


def test_alert_is_marked_only_after_the_broker_ack() -> None:
    """A publish that fails (no ack) must not suppress the alert when the note comes back."""
    store = MemoryStore()
    built = AdverseEventBuilder(Settings(), store).build(
        note(), analysis(rel("penicillin", "anaphylaxis"))
    )
    assert len(built) == 1 and built[0].marks
    stored = store.keys()
    assert not [k for k in stored if k.startswith("ade:alerted:")]  # nothing before the ack
    # The worker died before the ack; after a restart (a new builder) the finding is alerted again.
    again = AdverseEventBuilder(Settings(), store).build(
        note(event_id="ev-2"), analysis(rel("penicillin", "anaphylaxis"))
    )
    assert [m.value["id"] for m in again] == [built[0].value["id"]]
    acked(store, again)
    assert (
        AdverseEventBuilder(Settings(), store).build(
            note(event_id="ev-3"), analysis(rel("penicillin", "anaphylaxis"))
        )
        == []
    )


def test_same_finding_twice_in_one_batch_alerts_once() -> None:
    b = AdverseEventBuilder(Settings(), MemoryStore())
    first = b.build(note(), analysis(rel("penicillin", "anaphylaxis")))
    second = b.build(note(event_id="ev-2"), analysis(rel("penicillin", "anaphylaxis")))
    assert len(first) == 1 and second == []
