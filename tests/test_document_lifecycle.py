"""Retracted and replaced documents: what they published is withdrawn, once, under the same ids.

The whole pipeline runs (ingest, rules-only de-identification, the real Condition and
AdverseEvent builders, the lifecycle); only the models are a word lookup, so what each note
supports is plain to see.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jsonschema
import pytest

from streamproc.config import Settings
from streamproc.deid import build_deidentifier
from streamproc.fhir import build_lifecycle, build_resource_builders
from streamproc.fhir.common import validate
from streamproc.fhir.lifecycle import AE_STATUS_EXTENSION, is_withdrawal
from streamproc.nlp.types import AdeRelation, CodeCandidate, Entity, NoteAnalysis
from streamproc.pipeline import Pipeline
from streamproc.records import NoteEvent, OutMessage, SourceRef
from streamproc.state import MemoryStore
from tests.test_ingest_fhir import doc_ref
from tests.test_schemas_outputs import _schema as topic_schema

CODES = {"hypertension": "I10", "diabetes": "E11.9", "anaphylaxis": "T78.2XXA", "asthma": "J45.909"}


class WordAnalyzer:
    """Problems by word lookup, and "anaphylaxis after penicillin" as a drug reaction."""

    def analyze_batch(self, notes: Sequence[NoteEvent]) -> list[NoteAnalysis]:
        return [self._one(n.text) for n in notes]

    @staticmethod
    def _one(text: str) -> NoteAnalysis:
        low = text.lower()
        entities = []
        for word, code in CODES.items():
            if word in low:
                at = low.index(word)
                codes = (CodeCandidate(code=code, display=word.title(), score=1.0),)
                entities.append(
                    Entity(label="problem", start=at, end=at + len(word), text=word, codes=codes)
                )
        relations = []
        if "anaphylaxis after penicillin" in low:
            effect = next(e for e in entities if e.text == "anaphylaxis")
            at = low.index("penicillin")
            drug = Entity(label="drug", start=at, end=at + 10, text="penicillin")
            relations.append(
                AdeRelation(
                    drug=drug, effect=effect, score=0.9, sentence_start=0, sentence_end=len(text)
                )
            )
        return NoteAnalysis(
            entities=tuple(entities), relations=tuple(relations), model_versions={"words": "1"}
        )


def pipeline(store: MemoryStore | None = None) -> Pipeline:
    settings = Settings(deid_secret="lifecycle-test")
    store = store if store is not None else MemoryStore()
    builders = build_resource_builders(settings, store)
    return Pipeline(
        settings=settings,
        store=store,
        deidentifier=build_deidentifier(settings, store, mode="rules"),
        analyzer=WordAnalyzer(),
        builders=builders,
        lifecycle=build_lifecycle(builders, store),
    )


def fhir(text: str, version: str, rid: str = "doc-9", **extra: Any) -> bytes:
    resource = doc_ref(text, rid=rid, meta={"versionId": version}, **extra)
    return json.dumps(resource).encode()


def hl7(
    trigger: str, doc: str, text: str = "", txa19: str = "AV", parent: str = "", site: str = "HOSP"
) -> bytes:
    obx = f"OBX|1|TX|||{text}\r" if text else ""
    return (
        f"MSH|^~\\&|EMR|{site}|||202403011000||MDM^{trigger}|C-{trigger}-{doc}|P|2.5\r"
        "PID|1||12345^^^HOSP^MR||Doe^Jane\r"
        f"TXA|1|PN|TX|202403011000||||||||{doc}|{parent}||||AU||{txa19}\r"
        f"{obx}"
    ).encode()


def run(pipe: Pipeline, raw: bytes) -> list[OutMessage]:
    return [m for m in pipe.process(raw, SourceRef(topic="notes.raw")) if m.topic != "deid"]


def withdrawn(outputs: list[OutMessage]) -> list[OutMessage]:
    return [m for m in outputs if is_withdrawal(m.value)]


V1 = "Hypertension and diabetes. Anaphylaxis after penicillin."


def test_a_corrected_version_overwrites_and_withdraws_what_it_dropped() -> None:
    pipe = pipeline()
    first = run(pipe, fhir(V1, "1"))
    conditions = {
        m.value["code"]["coding"][0]["code"]: m.value["id"]
        for m in first
        if m.topic == "conditions"
    }
    assert set(conditions) == {"I10", "E11.9", "T78.2XXA"}
    assert [m.topic for m in first].count("adverse_events") == 1
    second = run(pipe, fhir("Hypertension. Anaphylaxis after penicillin.", "2"))
    # hypertension and the reaction again, under the same ids: overwritten, not duplicated;
    # the alert is not raised twice; diabetes, gone from the text, is withdrawn
    live = {m.value["id"] for m in second if not is_withdrawal(m.value)}
    assert live == {conditions["I10"], conditions["T78.2XXA"]}
    (gone,) = withdrawn(second)
    assert gone.value["id"] == conditions["E11.9"] and gone.topic == "conditions"
    assert gone.value["code"]["coding"][0]["code"] == "E11.9" and "clinicalStatus" not in gone.value
    validate(gone.value)
    # the same correction redelivered: nothing new (dedup), and a replay of version 1 after
    # version 2 republishes nothing either (it would bring the withdrawn diabetes back)
    assert run(pipe, fhir("Hypertension. Anaphylaxis after penicillin.", "2")) == []
    store = pipe.store
    assert isinstance(store, MemoryStore)
    for key in [k for k in store.keys() if k.startswith("dedup:")]:  # noqa: SIM118
        store.delete(key)
    assert run(pipeline(store), fhir(V1, "1")) == []


def test_a_retracted_document_withdraws_its_conditions_and_its_alert() -> None:
    pipe = pipeline()
    first = run(pipe, fhir(V1, "1"))
    published = {m.value["id"]: m for m in first}
    retraction = run(pipe, fhir(V1, "2", status="entered-in-error"))
    assert {m.value["id"] for m in retraction} == set(published)
    assert all(is_withdrawal(m.value) for m in retraction)
    (alert,) = [m for m in retraction if m.topic == "adverse_events"]
    assert alert.value["modifierExtension"] == [
        {"url": AE_STATUS_EXTENSION, "valueCode": "entered-in-error"}
    ]
    assert alert.key == published[alert.value["id"]].key  # same partition as the alert: ordered
    assert alert.value["subject"] == published[alert.value["id"]].value["subject"]
    for message in retraction:  # what subscribers validate against
        name = {"conditions": "fhir.conditions", "adverse_events": "alerts.adverse-events"}
        jsonschema.validate(message.value, topic_schema(f"{name[message.topic]}.schema.json"))
    # retracted is final: the note sent again under a new version publishes nothing
    assert run(pipe, fhir(V1, "3")) == []
    # the finding's dedup mark is gone: another document reporting it alerts again
    again = run(pipe, fhir(V1, "1", rid="doc-10"))
    assert [m.topic for m in again if not is_withdrawal(m.value)].count("adverse_events") == 1


def test_an_alert_another_document_supports_stays() -> None:
    pipe = pipeline()
    run(pipe, fhir(V1, "1", rid="doc-a"))
    other = run(pipe, fhir("Anaphylaxis after penicillin.", "1", rid="doc-b"))
    assert not [m for m in other if m.topic == "adverse_events"]  # already alerted
    retraction = run(pipe, fhir(V1, "2", rid="doc-a", status="entered-in-error"))
    assert {m.topic for m in retraction} == {"conditions"}  # doc-b still reports the reaction
    last = run(pipe, fhir(V1, "2", rid="doc-b", status="entered-in-error"))
    assert [m.topic for m in last].count("adverse_events") == 1


def test_hl7_cancel_and_replacement() -> None:
    pipe = pipeline()
    original = run(pipe, hl7("T02", "D1", V1))
    assert len(original) == 4
    # T10: D2 replaces D1; D2 says only hypertension
    replacement = run(pipe, hl7("T10", "D2", "Hypertension.", parent="D1"))
    gone = {
        m.value["code"]["coding"][0]["code"]
        for m in withdrawn(replacement)
        if m.topic == "conditions"
    }
    assert gone == {"I10", "E11.9", "T78.2XXA"}  # a new document: its Conditions are its own
    assert [m.topic for m in withdrawn(replacement)].count("adverse_events") == 1
    live = [m for m in replacement if not is_withdrawal(m.value)]
    assert [m.value["code"]["coding"][0]["code"] for m in live] == ["I10"]
    # D1 is final once replaced; D2 cancelled by T11 withdraws what D2 published
    assert run(pipe, hl7("T02", "D1", V1).replace(b"C-T02-D1", b"C-T02-D1b")) == []
    cancel = run(pipe, hl7("T11", "D2"))
    assert [m.value["id"] for m in withdrawn(cancel)] == [live[0].value["id"]]
    # TXA-19 "CA" on any trigger is a cancellation too
    run(pipe, hl7("T02", "D3", "Diabetes."))
    cancelled = run(pipe, hl7("T04", "D3", txa19="CA"))
    assert [m.value["code"]["coding"][0]["code"] for m in withdrawn(cancelled)] == ["E11.9"]


@pytest.mark.parametrize("trigger", ["T11", "T02"])
def test_a_cancel_without_document_number_is_skipped(trigger: str) -> None:
    raw = hl7(trigger, "", txa19="CA")
    assert pipeline().process(raw, SourceRef(topic="notes.raw")) == []


def test_withdrawals_are_recorded_only_after_the_broker_ack() -> None:
    """Like alerts: if the withdrawal is never acknowledged, it is withdrawn again on retry."""
    pipe = pipeline()
    run(pipe, fhir(V1, "1"))
    note = NoteEvent.model_validate(
        next(
            m.value
            for m in pipe.ingest(
                fhir(V1, "2", status="entered-in-error"), SourceRef(topic="t")
            ).outputs
        )
    )
    lost = pipe.analyze([note])  # published, but the broker never acknowledged it
    assert len(withdrawn(lost)) == 4
    retried = pipe.analyze([note])
    assert [m.value["id"] for m in retried] == [m.value["id"] for m in lost]
    pipe.mark_published(retried)
    assert pipe.analyze([note]) == []


def test_a_retraction_that_overtakes_its_document_closes_it() -> None:
    pipe = pipeline()
    assert run(pipe, fhir(V1, "2", status="entered-in-error")) == []  # nothing to withdraw yet
    assert run(pipe, fhir(V1, "1")) == []  # the document, late: never published


def test_a_replay_scores_what_each_version_asserts_not_its_withdrawals() -> None:
    from streamproc.evaluate.replay import ReplayMessage, run_replay

    pipe = pipeline()
    run(pipe, fhir(V1, "1"))  # published (and recorded) before the replay
    second = ReplayMessage(SourceRef(topic="notes.raw"), fhir("Hypertension.", "2"))
    assert (
        len(
            withdrawn(
                pipe.analyze(
                    [
                        NoteEvent.model_validate(m.value)
                        for m in pipe.ingest(second.data, second.source).outputs
                    ]
                )
            )
        )
        == 3
    )
    (result,) = run_replay(pipeline(pipe.store), [second])
    assert result.conditions == {"I10"} and not result.adverse_events


def oru(control: str, status: str, text: str, obr25: str = "F") -> bytes:
    return (
        f"MSH|^~\\&|LAB|HOSP|||202403011000||ORU^R01|{control}|P|2.5\r"
        "PID|1||12345^^^HOSP^MR||Doe^Jane\r"
        f"OBR|1|PL-7|FL-7|11526-1^Pathology study^LN|||202403011000||||||||||||||||||{obr25}\r"
        f"OBX|1|TX|11526-1^Pathology study^LN||{text}||||||{status}\r"
    ).encode()


def test_oru_corrections_overwrite_and_results_posted_as_wrong_are_withdrawn() -> None:
    pipe = pipeline()
    final = run(pipe, oru("R1", "F", "Hypertension and diabetes."))
    ids = {m.value["code"]["coding"][0]["code"]: m.value["id"] for m in final}
    assert set(ids) == {"I10", "E11.9"}
    corrected = run(pipe, oru("R2", "C", "Hypertension."))  # the same report (OBR-3), corrected
    assert [(m.value["id"], is_withdrawal(m.value)) for m in corrected] == [
        (ids["I10"], False),
        (ids["E11.9"], True),
    ]
    wrong = run(pipe, oru("R3", "W", "Hypertension."))  # posted as wrong: the wrong patient
    assert [(m.value["id"], is_withdrawal(m.value)) for m in wrong] == [(ids["I10"], True)]
    cancelled = pipeline()
    run(cancelled, oru("R1", "F", "Diabetes."))
    assert len(withdrawn(run(cancelled, oru("R4", "", "", obr25="X")))) == 1


def test_the_same_document_number_from_two_facilities_is_two_documents() -> None:
    """MSH-4 scopes TXA-12: another site's document 1 is no new version of this site's."""
    pipe = pipeline()
    north = run(pipe, hl7("T02", "1", "Hypertension and diabetes.", site="NORTH"))
    south = run(pipe, hl7("T02", "1", "Asthma.", site="SOUTH"))
    assert len(north) == 2 and len(south) == 1 and not withdrawn(south)
    assert not {m.value["id"] for m in north} & {m.value["id"] for m in south}
    cancel = run(pipe, hl7("T11", "1", site="SOUTH"))
    assert [m.value["code"]["text"] for m in withdrawn(cancel)] == ["asthma"]


def test_a_transaction_delete_of_the_document_withdraws_what_it_published() -> None:
    pipe = pipeline()
    published = run(pipe, fhir(V1, "1"))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "DELETE", "url": "DocumentReference/doc-9"}},
            {"request": {"method": "DELETE", "url": "Observation/o-1"}},  # no note: skipped
            {"request": {"method": "GET", "url": "DocumentReference/doc-9"}},
        ],
    }
    retraction = run(pipe, json.dumps(bundle).encode())
    assert {m.value["id"] for m in retraction} == {m.value["id"] for m in published}
    assert all(is_withdrawal(m.value) for m in retraction)
    # with no patient on the DELETE, the withdrawals repeat the subject they were published with
    assert {json.dumps(m.value["subject"]) for m in retraction} == {
        json.dumps(m.value["subject"]) for m in published
    }
