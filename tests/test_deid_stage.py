"""The whole stage: consistency, structured ids, and no original PHI anywhere in the output,
the logs or the state store. All PHI below is synthetic."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import fakeredis
import pytest

from streamproc.config import Settings
from streamproc.deid import build_deidentifier
from streamproc.deid.deidentifier import Deidentifier
from streamproc.pipeline import Pipeline
from streamproc.records import NoteEvent, SourceRef
from streamproc.state import MemoryStore, RedisStore

# Every string here is PHI for the leak checks below.
PHI = {
    "patient_id": "PX-778812",
    "encounter_id": "ENC-99120",
    "document_id": "DOC-55671",
    "source_key": "MRN-778812",
    "mrn": "4455667",
    "names": ["Quilling", "Ottoline", "Brannagh", "Zabrowski", "Hudsonia"],
    "phone": "617-555-0199",
    "email": "o.quilling@example.net",
    "dates": ["8/23/2001", "Aug 25, 2001", "5/13"],
    "ssn": "123-45-6789",
    "street": "42 Larkspur Street",
    "city": "Towson",
    "hospital": "Kernan",
}

NOTE_1 = (
    "74 yo woman admitted 8/23/2001 from Kernan Hospital. Dr. Quilling spoke with pt's "
    "daughter Ottoline Brannagh (617-555-0199, o.quilling@example.net). MRN: 4455667. "
    "Prior MI 5/13. Lives at 42 Larkspur Street, Towson. SSN 123-45-6789.\n"
    "Follow up Aug 25, 2001.\nK. Zabrowski, RN\n"
)
NOTE_2 = "Dr. Quilling rounded; daughter Ottoline called. Next visit 9/1/2001. Hudsonia, RN\n"


def all_phi() -> list[str]:
    out: list[str] = []
    for value in PHI.values():
        out.extend(value if isinstance(value, list) else [value])
    return out


def make_note(text: str, patient: str = PHI["patient_id"], event: str = "ev-1") -> NoteEvent:
    return NoteEvent(
        event_id=event,
        source=SourceRef(topic="notes.raw", partition=0, offset=7, key=PHI["source_key"]),
        message_format="hl7v2",
        message_type="MDM^T02",
        document_id=PHI["document_id"],
        patient_ref=f"Patient/{patient}",
        encounter_ref=f"Encounter/{PHI['encounter_id']}",
        authored=datetime(2001, 8, 23, 14, 5, tzinfo=UTC),
        text=text,
        content_hash="0" * 64,
    )


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(deid_secret="test-secret-not-for-prod", date_shift_max_days=200)


@pytest.fixture(scope="module")
def deid_and_store(settings: Settings) -> tuple[Deidentifier, MemoryStore]:
    store = MemoryStore()
    return build_deidentifier(settings, store, mode="rules"), store


def assert_no_phi(blob: str) -> None:
    low = blob.lower()
    leaked = [p for p in all_phi() if p.lower() in low]
    assert not leaked, f"PHI leaked: {leaked}"


def test_output_json_logs_and_store_hold_no_phi(
    deid_and_store: tuple[Deidentifier, MemoryStore], caplog: pytest.LogCaptureFixture
) -> None:
    deid, store = deid_and_store
    with caplog.at_level(logging.DEBUG):
        out = deid.deidentify(make_note(NOTE_1))
    assert out.deidentified and out.deid_version and out.deid_version.startswith("deid-1")
    assert_no_phi(out.model_dump_json())
    records = "\n".join(
        f"{r.getMessage()} {json.dumps({k: str(v) for k, v in r.__dict__.items()})}"
        for r in caplog.records
    )
    assert "deidentified" in records and "phi_counts" in records
    assert_no_phi(records)
    keys = store.keys()
    assert keys and all(k.startswith("deid:") for k in keys)
    assert_no_phi("\n".join(keys))
    assert_no_phi("\n".join(store.get(k) or "" for k in keys))


def test_surrogates_are_consistent_per_patient(settings: Settings) -> None:
    deid = build_deidentifier(settings, MemoryStore(), mode="rules")
    a = deid.deidentify(make_note(NOTE_1, event="ev-a"))
    b = deid.deidentify(make_note(NOTE_2, event="ev-b"))
    fake_dr_a = a.text.split("Dr. ")[1].split()[0]
    fake_dr_b = b.text.split("Dr. ")[1].split()[0].rstrip(";")
    assert fake_dr_a == fake_dr_b != "Quilling"
    assert a.patient_ref == b.patient_ref and a.patient_ref.startswith("Patient/")
    # same name, another patient: drawn independently of the first patient's codebook entry
    other = deid.deidentify(make_note(NOTE_2, patient="PX-000001", event="ev-c"))
    assert other.patient_ref != a.patient_ref
    # J. Smith style: initials stay initials
    assert ", RN" in a.text and a.text.split("\n")[-2][1] == "."


def test_phi_marks_point_at_the_surrogates(settings: Settings) -> None:
    deid = build_deidentifier(settings, MemoryStore(), mode="rules")
    out = deid.deidentify(make_note(NOTE_1))
    marks = out.phi_marks
    assert marks == tuple(sorted(marks, key=lambda m: m.start))
    assert all(a.end <= b.start for a, b in zip(marks, marks[1:], strict=False))
    by_type: dict[str, list[str]] = {}
    for m in marks:
        by_type.setdefault(m.type, []).append(out.text[m.start : m.end])
    fake_dr = out.text.split("Dr. ")[1].split()[0]
    assert fake_dr in by_type["NAME"]
    assert {"NAME", "DATE", "PHONE"} <= set(by_type)
    # what lies between the marks is the note's own (non-PHI) text, unchanged
    outside = "".join(out.text[a.end : b.start] for a, b in zip(marks, marks[1:], strict=False))
    assert "spoke with pt's daughter" in outside and "Prior MI" in outside
    assert_no_phi(" ".join(x for v in by_type.values() for x in v))


def test_dates_shift_by_one_patient_offset_and_keep_format(settings: Settings) -> None:
    deid = build_deidentifier(settings, MemoryStore(), mode="rules")
    out = deid.deidentify(make_note(NOTE_1))
    offset = deid.codebook.date_offset(deid.patient_key(make_note(NOTE_1)))
    assert out.authored == datetime(2001, 8, 23, 14, 5, tzinfo=UTC) + __import__(
        "datetime"
    ).timedelta(days=offset)
    from streamproc.deid.transform.dateshift import shift_text

    assert shift_text("8/23/2001", offset) in out.text
    assert shift_text("Aug 25, 2001", offset) in out.text  # "Mon D, YYYY" stays that format
    assert abs(offset) <= 200


def test_age_over_89(settings: Settings) -> None:
    deid = build_deidentifier(settings, MemoryStore(), mode="rules")
    out = deid.deidentify(make_note("93 yo man, brother is 67 yo"))
    assert out.text.startswith("90+ yo man") and "67 yo" in out.text


def test_structured_refs_pseudonymised_consistently(settings: Settings) -> None:
    deid = build_deidentifier(settings, MemoryStore(), mode="rules")
    a = deid.deidentify(make_note("no phi here"))
    b = deid.deidentify(make_note("still none", event="ev-2"))
    assert a.patient_ref == b.patient_ref and a.encounter_ref == b.encounter_ref
    assert a.document_id == b.document_id and a.source.key == b.source.key
    assert a.event_id == "ev-1"  # kept: already a one-way hash upstream
    assert a.content_hash != "0" * 64 and len(a.content_hash) == 64
    # a different secret gives different pseudonyms (keyed, not a plain hash)
    other = build_deidentifier(Settings(deid_secret="another"), MemoryStore(), mode="rules")
    assert other.deidentify(make_note("no phi here")).patient_ref != a.patient_ref


def test_redis_backed_run_and_reversible_round_trip() -> None:
    server = fakeredis.FakeServer()
    store = RedisStore.__new__(RedisStore)
    store._client = fakeredis.FakeRedis(server=server, decode_responses=True)  # type: ignore[attr-defined]
    store._prefix = "streamproc:"  # type: ignore[attr-defined]
    settings = Settings(deid_secret="round-trip-secret", deid_reversible=True)
    deid = build_deidentifier(settings, store, mode="rules")
    out = deid.deidentify(make_note(NOTE_1))
    keys = store.client.keys("*")
    assert keys and all(k.startswith("streamproc:deid:") for k in keys)
    assert_no_phi("\n".join(keys) + "\n".join(store.client.get(k) or "" for k in keys))
    fake_phone = out.text.split("(")[1].split(",")[0]
    assert deid.codebook.reverse("PHONE", fake_phone) == PHI["phone"]
    assert deid.codebook.reverse("ref", out.patient_ref or "") == f"Patient/{PHI['patient_id']}"
    # a second worker with the same secret and store gives the same surrogates
    again = build_deidentifier(settings, store, mode="rules").deidentify(make_note(NOTE_1))
    assert again.text == out.text


def test_irreversible_by_default_stores_no_reverse_map(
    deid_and_store: tuple[Deidentifier, MemoryStore],
) -> None:
    _, store = deid_and_store
    assert not any(k.startswith("deid:rev:") for k in store.keys())  # noqa: SIM118 - MemoryStore.keys() is a method


def rules_pipeline(settings: Settings) -> Pipeline:
    """The ingest stage as the worker builds it, rules-only de-id, in-memory state."""
    store = MemoryStore()
    return Pipeline(
        settings=settings,
        store=store,
        deidentifier=build_deidentifier(settings, store, mode="rules"),
    )


def test_pipeline_publishes_deidentified_note(settings: Settings) -> None:
    pipe = rules_pipeline(settings)
    hl7 = (
        "MSH|^~\\&|EPIC|KERNAN|||200108231405||MDM^T02|MSG0001|P|2.5\r"
        f"PID|1||{PHI['patient_id']}^^^MRN||Brannagh^Ottoline||19270101|F\r"
        f"PV1|1|I|||||||||||||||||{PHI['encounter_id']}\r"
        f"TXA|1|PN|TX|200108231405||||||||{PHI['document_id']}||||||AU\r"
        "OBX|1|TX|||Dr. Quilling called 617-555-0199 on 8/23/2001.\r"
    )
    outputs = pipe.process(hl7.encode(), SourceRef(topic="file:test"))
    deid_msgs = [m for m in outputs if m.topic == "deid"]
    assert deid_msgs, [m.value for m in outputs]
    blob = json.dumps([m.model_dump(mode="json") for m in deid_msgs])
    assert_no_phi(blob)


def test_metric_labels_hold_no_phi(settings: Settings) -> None:
    """What the worker exports (topics, stages, error codes) after a valid note with PHI and a
    broken one whose bytes are full of PHI: nothing from either reaches a metric label."""
    from types import SimpleNamespace

    from prometheus_client import generate_latest

    from streamproc.metrics import Metrics
    from streamproc.stream.agents import count_outcome

    pipe = rules_pipeline(settings)
    good = (
        "MSH|^~\\&|EPIC|KERNAN|||200108231405||MDM^T02|MSG0002|P|2.5\r"
        f"PID|1||{PHI['patient_id']}^^^MRN||Brannagh^Ottoline||19270101|F\r"
        f"TXA|1|PN|TX|200108231405||||||||{PHI['document_id']}||||||AU\r"
        f"OBX|1|TX|||{NOTE_1}\r"
    )
    broken = f"PID|1||{PHI['patient_id']}||Brannagh^Ottoline\rOBX|1|TX|||{NOTE_2}\r"
    ctx = SimpleNamespace(metrics=Metrics())
    for n, raw in enumerate((good, broken)):
        outputs = pipe.process(raw.encode(), SourceRef(topic="notes.raw", offset=n))
        count_outcome(ctx, "notes.raw", outputs)
        assert outputs
    exported = generate_latest(ctx.metrics.registry).decode()
    assert "streamproc_messages_dead_lettered_total{reason=" in exported
    assert_no_phi(exported)
