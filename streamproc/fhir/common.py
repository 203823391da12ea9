"""Shared FHIR helpers: deterministic ids, references, provenance tags, evidence offsets, and
validation with ``fhir.resources``.

``fhir.resources`` 8.x puts R5 at the top level and R4B (wire-compatible with R4 for Condition and
AdverseEvent as we emit them) under ``fhir.resources.R4B``; we validate against R4B.
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from streamproc.records import NoteEvent

# Our own extension and code-system namespace (stable: changing it changes nothing in ids).
BASE_URL = "https://streamproc.dev/fhir"
EXT_NOTE_SPAN = f"{BASE_URL}/StructureDefinition/note-span"
EXT_MODEL_VERSION = f"{BASE_URL}/StructureDefinition/model-version"
EXT_ALTERNATIVE_CODES = f"{BASE_URL}/StructureDefinition/alternative-codes"
EXT_CODING_SCORE = f"{BASE_URL}/StructureDefinition/coding-score"
EXT_ASSERTION = f"{BASE_URL}/StructureDefinition/assertion"
EXT_WITHDRAWN = f"{BASE_URL}/StructureDefinition/withdrawn-because"
MODEL_VERSION_SYSTEM = f"{BASE_URL}/CodeSystem/model-version"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
# An ICD-10-CM candidate below this score is a guess, not a code: it makes no Condition and
# codes no alert event (the text stays). One threshold, so an alert never names a code that
# the same note's Conditions rejected ("angioedema of the lips" -> K13.0 "Diseases of lips").
MIN_CODE_SCORE = 0.5
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, BASE_URL)
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class FhirValidationError(ValueError):
    """A resource we built does not validate: a bug, dead-lettered with this message."""


def deterministic_id(*parts: object) -> str:
    """uuid5 over the parts: same note, span and code -> same id on redelivery and replay."""
    return str(uuid.uuid5(ID_NAMESPACE, "|".join(str(p) for p in parts)))


def reference(value: str | None, resource_type: str) -> dict[str, Any] | None:
    """``Patient/x`` style reference; a bare id gets the type prefixed; other strings (urn:,
    identifiers) become a logical reference by identifier."""
    if not value:
        return None
    if re.match(rf"^{resource_type}/[A-Za-z0-9\-.]{{1,64}}$", value):
        return {"reference": value}
    if _FHIR_ID.match(value):
        return {"reference": f"{resource_type}/{value}"}
    return {"type": resource_type, "identifier": {"value": value}}


def document_reference(note: NoteEvent) -> dict[str, Any]:
    """Reference to the source document (falls back to the note event id)."""
    ref = reference(note.document_id, "DocumentReference")
    return ref or {"type": "DocumentReference", "identifier": {"value": note.event_id}}


def note_span_extension(note: NoteEvent, start: int, end: int) -> dict[str, Any]:
    """Character offsets ``[start, end)`` into the de-identified note text."""
    return {
        "url": EXT_NOTE_SPAN,
        "extension": [
            {"url": "noteEventId", "valueString": note.event_id},
            {"url": "document", "valueReference": document_reference(note)},
            {"url": "start", "valueInteger": start},
            {"url": "end", "valueInteger": end},
        ],
    }


def model_meta(versions: Mapping[str, str]) -> dict[str, Any]:
    """``meta.tag`` entries ``<task>:<version>`` for every model that contributed."""
    return {
        "tag": [
            {"system": MODEL_VERSION_SYSTEM, "code": _token(f"{task}:{version}")}
            for task, version in sorted(versions.items())
        ]
    }


def _token(value: str) -> str:
    """A FHIR ``code`` may not hold leading/trailing or repeated whitespace."""
    return re.sub(r"\s+", "_", value.strip()) or "unknown"


def iso(value: Any) -> str | None:
    """A FHIR ``dateTime``: with its time only when the offset is known.

    FHIR requires a timezone on any dateTime that carries a time. An HL7 TS without one is the
    sender's local time, which we do not know, so a naive datetime becomes its date alone
    rather than a guessed UTC instant.
    """
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.date().isoformat()
    return str(value.isoformat())


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """Validate a resource dict against FHIR R4B; returns it unchanged or raises a clear error."""
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype.isalpha():
        raise FhirValidationError("resource has no valid resourceType")
    try:
        module = importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}")
        model = getattr(module, rtype)
    except (ImportError, AttributeError) as err:
        raise FhirValidationError(f"unknown FHIR resource type {rtype!r}") from err
    try:
        model.model_validate(resource)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()[:5]
        )
        raise FhirValidationError(f"invalid {rtype} {resource.get('id')}: {problems}") from None
    return resource
