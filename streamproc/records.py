"""Messages that cross topic boundaries: the data contract between stages.

Every topic's JSON Schema in ``schemas/`` is generated from these models (``streamproc schemas``),
and a test fails when the committed files drift from them. FHIR outputs are plain FHIR R4 JSON
validated with ``fhir.resources``; their envelope-free schema comes from that library.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from streamproc import __version__

MessageFormat = Literal["hl7v2", "fhir"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def sha256_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


class SourceRef(BaseModel):
    """Where a message was read from; ``topic`` is ``file:<path>`` for in-process runs."""

    model_config = ConfigDict(frozen=True)

    topic: str
    partition: int = -1
    offset: int = -1
    key: str | None = None

    def dedup_key(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"


class Coding(BaseModel):
    model_config = ConfigDict(frozen=True)

    system: str
    code: str
    display: str | None = None


class PhiMark(BaseModel):
    """Where the de-identifier put a surrogate in a note's text: offsets and type, never a value."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    type: str = Field(description="NAME, DATE, AGE, PHONE, ID, LOCATION, ...")


class NoteEvent(BaseModel):
    """One clinical note in canonical form, whatever wire format it came in.

    On ``notes.deid`` the ``text``, the references and ``authored`` are already de-identified
    (``deidentified`` is true). Offsets in every downstream resource point into that text.
    """

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(description="Stable id: same source document -> same id on redelivery")
    source: SourceRef
    message_format: MessageFormat
    message_type: str = Field(description="e.g. MDM^T02, ORU^R01, DocumentReference")
    document_id: str | None = Field(
        None, description="Source document id (TXA-12, OBR-3, resource id)"
    )
    document_status: Literal["current", "entered-in-error"] = Field(
        default="current",
        description="entered-in-error: the sender retracted this document (FHIR status, HL7 "
        "MDM^T11 or TXA-19 CA); the text is empty and what was published from the document "
        "is withdrawn",
    )
    document_namespace: str | None = Field(
        default=None,
        description="What document_id and replaces are unique within: the HL7 sending "
        "facility (MSH-4), whose document numbers may repeat another's; None for FHIR ids "
        "and after de-identification, whose pseudonyms carry it",
    )
    replaces: str | None = Field(
        default=None,
        description="Id of the document this one replaces (HL7 T09/T10 TXA-13, FHIR relatesTo "
        "replaces): what the replaced document published and this one no longer supports is "
        "withdrawn",
    )
    patient_ref: str | None = Field(default=None, description="Patient reference, e.g. Patient/123")
    patient_namespace: str | None = Field(
        default=None,
        description="What patient_ref's id is unique within (an assigning authority, an "
        "identifier system or the shared name settings give it); None for a FHIR logical id "
        "and after de-identification, whose pseudonym already carries it",
    )
    encounter_ref: str | None = None
    encounter_namespace: str | None = Field(
        default=None,
        description="What encounter_ref is unique within: the visit number's assigning "
        "authority (HL7 PV1-19.4), else the sending facility (MSH-4); None for FHIR ids and "
        "after de-identification, whose pseudonym carries it",
    )
    note_type: Coding | None = Field(default=None, description="LOINC document type where known")
    authored: datetime | None = None
    text: str
    content_hash: str = Field(description="sha256 of the note text as received")
    received_at: datetime = Field(default_factory=utcnow)
    deidentified: bool = False
    deid_version: str | None = None
    phi_marks: tuple[PhiMark, ...] = Field(
        default=(),
        description="Surrogates in the de-identified text (offsets, type): no clinical entity "
        "is read there",
    )
    worker_version: str = __version__


class DeadLetter(BaseModel):
    """Envelope for anything that could not be processed; nothing is silently dropped."""

    model_config = ConfigDict(frozen=True)

    error_code: str = Field(
        description="Machine-readable reason, e.g. not_utf8, hl7_no_msh, too_large"
    )
    message: str = Field(description="Human-readable reason; never contains note text")
    stage: Literal["ingest", "deid", "nlp", "fhir", "publish"] = "ingest"
    source: SourceRef
    payload_b64: str = Field(description="The original message bytes, base64")
    payload_bytes: int
    failed_at: datetime = Field(default_factory=utcnow)
    worker_version: str = __version__

    @classmethod
    def build(
        cls, code: str, message: str, source: SourceRef, payload: bytes, stage: str = "ingest"
    ) -> DeadLetter:
        return cls(
            error_code=code,
            message=message,
            stage=stage,  # type: ignore[arg-type]
            source=source,
            payload_b64=base64.b64encode(payload).decode("ascii"),
            payload_bytes=len(payload),
        )

    def payload(self) -> bytes:
        return base64.b64decode(self.payload_b64)


class OutMessage(BaseModel):
    """What a stage asks the streaming layer to publish: topic (logical name), key, JSON value."""

    model_config = ConfigDict(frozen=True)

    topic: Literal["raw", "deid", "conditions", "adverse_events", "dlq"]
    key: str
    value: dict
    # State to record only once the broker acknowledged this message: (store key, value, ttl_s);
    # a value of None deletes the key. Recording it earlier would turn a failed publish into a
    # lost alert.
    marks: tuple[tuple[str, str | None, int], ...] = ()
