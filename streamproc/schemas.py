"""JSON Schema for every topic's message value, generated from the code (``streamproc schemas``).

* ``notes.deid`` / ``notes.dlq``: the pydantic models in :mod:`streamproc.records`.
* ``fhir.conditions`` / ``alerts.adverse-events``: lean FHIR R4B schemas. ``fhir.resources``'
  own ``model_json_schema()`` is not usable as a wire schema (it omits ``resourceType``, forbids
  additional properties and leaves nested types untyped), so we require ``resourceType`` and
  the elements our builders always set, and list every other element the model defines (name,
  title) so the schema still documents the resource.
* ``notes.raw``: bytes, HL7 v2 ER7 or FHIR R4 JSON, described by a hand-written schema.

``tests/test_schemas.py`` fails when the committed ``schemas/`` drift from this module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streamproc.config import TopicNames
from streamproc.records import DeadLetter, NoteEvent

DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "schemas"

_FHIR_META_KEYS = ("element_property", "summary_element_property", "enum_reference_types")


def _raw_schema() -> dict[str, Any]:
    return {
        "title": "notes.raw message",
        "description": (
            "Raw bytes as received from the source system, one message per Kafka record. Either "
            "an HL7 v2 ER7 message (MDM^T01/T02/T05/T06/T09/T10, ORU^R01; other types are "
            "skipped; optional MLLP framing; segments ended by \\r or \\n; charset per MSH-18) "
            "or a FHIR R4 JSON resource (DocumentReference, DiagnosticReport, or a Bundle of "
            "them). Anything else, or anything over max_message_bytes, goes to notes.dlq. "
            "The record key is free (not used for dedup)."
        ),
        "x-kafka-value-encoding": "bytes",
        "oneOf": [
            {
                "title": "HL7 v2 ER7",
                "type": "string",
                "contentMediaType": "x-application/hl7-v2+er7",
                "pattern": "^\\x0b?MSH",
            },
            {
                "title": "FHIR R4 JSON",
                "type": "object",
                "contentMediaType": "application/fhir+json",
                "required": ["resourceType"],
                "properties": {
                    "resourceType": {
                        "enum": ["DocumentReference", "DiagnosticReport", "Bundle"],
                        "description": "Other resource types are valid but carry no note: skipped",
                    }
                },
            },
        ],
    }


def _fhir_properties(model: Any) -> dict[str, Any]:
    """Element names and titles from a fhir.resources model (types left open)."""
    props: dict[str, Any] = {}
    for name, spec in sorted(model.model_json_schema().get("properties", {}).items()):
        if name.endswith("__ext") or name == "fhir_comments":
            continue
        entry = {k: v for k, v in spec.items() if k in ("title", "description")}
        props[name] = entry
    return props


def _fhir_resource(
    model: Any, resource_type: str, required: list[str], typed: dict[str, Any]
) -> dict[str, Any]:
    props = _fhir_properties(model)
    for name, schema in typed.items():
        props[name] = {**props.get(name, {}), **schema}
    props["resourceType"] = {"const": resource_type}
    return {
        "title": f"FHIR R4B {resource_type}",
        "type": "object",
        "required": ["resourceType", *required],
        "properties": props,
        "additionalProperties": True,
    }


_REFERENCE = {
    "type": "object",
    "properties": {"reference": {"type": "string"}, "display": {"type": "string"}},
}
_CODEABLE = {
    "type": "object",
    "properties": {
        "coding": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "system": {"type": "string"},
                    "code": {"type": "string"},
                    "display": {"type": "string"},
                },
            },
        },
        "text": {"type": "string"},
    },
}
_ID = {"type": "string", "pattern": "^[A-Za-z0-9\\-.]{1,64}$"}


def _condition_schema() -> dict[str, Any]:
    from fhir.resources.R4B.condition import Condition

    schema = _fhir_resource(
        Condition,
        "Condition",
        ["id", "subject", "code"],
        {"id": _ID, "subject": _REFERENCE, "code": _CODEABLE},
    )
    schema["description"] = (
        "One coded problem found in a de-identified note. Deterministic id (same document and "
        "code -> same id), so redelivery, replay and a corrected version of the document are "
        "idempotent upserts. A Condition whose verificationStatus is 'entered-in-error' "
        "withdraws the one of that id: its document was retracted by the sender, or replaced by "
        "a version that no longer supports it. Record key: the id."
    )
    return schema


def _adverse_event_schema() -> dict[str, Any]:
    from fhir.resources.R4B.adverseevent import AdverseEvent

    schema = _fhir_resource(
        AdverseEvent,
        "AdverseEvent",
        ["id", "actuality", "subject"],
        {
            "id": _ID,
            "actuality": {"enum": ["actual", "potential"]},
            "subject": _REFERENCE,
        },
    )
    schema["title"] = "alerts.adverse-events message"
    schema["description"] = (
        "A drug -> adverse effect finding as a FHIR R4B AdverseEvent: actuality 'actual' "
        "(potential findings only when enabled), the suspect drug as a contained Medication, "
        "evidence offsets into the de-identified note in an extension. One alert per patient, "
        "drug and effect; deterministic id (same finding -> same id). An AdverseEvent with the "
        "modifierExtension http://hl7.org/fhir/5.0/StructureDefinition/"
        "extension-AdverseEvent.status = 'entered-in-error' withdraws the alert of that id: no "
        "document still reports the finding (retracted or replaced). Record key: the subject "
        "reference (keeps one patient's alerts in order), else the id."
    )
    return schema


def _model_schema(model: Any, description: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    schema["description"] = description
    return dict(schema)


def build_schemas(topics: TopicNames | None = None) -> dict[str, dict[str, Any]]:
    """``{file name: schema}`` for every topic (names from ``topics``, default settings)."""
    t = topics or TopicNames()
    raw = {
        t.raw: _raw_schema(),
        t.deid: _model_schema(
            NoteEvent,
            "A canonical, de-identified clinical note (JSON). Record key: event_id.",
        ),
        t.dlq: _model_schema(
            DeadLetter,
            "Dead-letter envelope (JSON): why and where a message failed, with the original "
            "bytes in base64. Record key: source topic/partition/offset.",
        ),
        t.conditions: _condition_schema(),
        t.adverse_events: _adverse_event_schema(),
    }
    out: dict[str, dict[str, Any]] = {}
    for topic, schema in raw.items():
        out[f"{topic}.schema.json"] = {
            "$schema": DIALECT,
            "$id": f"https://streamproc.local/schemas/{topic}.schema.json",
            "x-topic": topic,
            **schema,
        }
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in build_schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def check_schemas(directory: Path = DEFAULT_DIR) -> list[str]:
    """Names of schema files that are missing or differ from the code (empty: all in sync)."""
    drifted = []
    for name, schema in build_schemas().items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render(schema):
            drifted.append(name)
    return drifted
