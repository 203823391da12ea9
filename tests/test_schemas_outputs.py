"""What the builders publish validates against the committed topic schemas subscribers use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from streamproc.config import Settings
from streamproc.fhir import ConditionBuilder
from streamproc.fhir.adverse_event import AdverseEventBuilder
from streamproc.records import DeadLetter, SourceRef
from streamproc.state import MemoryStore
from tests import test_fhir_adverse_event as ae
from tests import test_fhir_condition as cond

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def _schema(name: str) -> dict[str, Any]:
    return dict(json.loads((SCHEMAS / name).read_text()))


def test_condition_matches_topic_schema() -> None:
    a = cond.analysis(cond.entity("CHF", "present"), cond.entity("pneumonia", "possible"))
    out = ConditionBuilder().build(cond.note(), a)
    assert len(out) == 2
    for message in out:
        jsonschema.validate(message.value, _schema("fhir.conditions.schema.json"))


def test_adverse_event_matches_topic_schema() -> None:
    builder = AdverseEventBuilder(Settings(), MemoryStore())
    out = builder.build(ae.note(), ae.analysis(ae.rel("penicillin", "rash")))
    assert len(out) == 1
    jsonschema.validate(out[0].value, _schema("alerts.adverse-events.schema.json"))


def test_dead_letter_matches_topic_schema() -> None:
    dead = DeadLetter.build(
        "not_utf8", "bytes are not UTF-8", SourceRef(topic="notes.raw"), b"\xff"
    )
    jsonschema.validate(dead.model_dump(mode="json"), _schema("notes.dlq.schema.json"))


def test_schema_rejects_a_foreign_resource() -> None:
    wrong = {"resourceType": "Observation", "id": "x", "actuality": "actual", "subject": {}}
    try:
        jsonschema.validate(wrong, _schema("alerts.adverse-events.schema.json"))
    except jsonschema.ValidationError:
        return
    raise AssertionError("an Observation must not validate as an alert")
