"""Withdrawing what a document published when its sender retracts or replaces it.

Subscribers act on the Conditions and alerts a note gave. When the sender says the document was
wrong — FHIR ``status`` / ``docStatus`` ``entered-in-error``, HL7 MDM^T11 or TXA-19 ``CA``; often
a note filed to the wrong patient — or sends a new version of it (the same document id again, HL7
T09/T10 naming the replaced document in TXA-13, FHIR ``relatesTo`` ``replaces``), they must learn
which of those resources no longer hold. ``DocumentLifecycle.settle`` runs after the builders for
every note:

* per document (keyed by a hash of its pseudonymous id) the store keeps what it published: its
  Conditions with their code and subject, the alerts it supports, and the note events seen;
* what the earlier version published and this one does not is withdrawn under the same id: a
  ``Condition`` with ``verificationStatus`` ``entered-in-error`` (FHIR's way to say a record was
  wrong; no ``clinicalStatus``, as invariant con-5 requires), an ``AdverseEvent`` carrying R5's
  ``status`` ``entered-in-error`` as a cross-version modifier extension (R4 has no status; a
  modifier, so a consumer that does not know it must not take the alert as it was). An alert is
  withdrawn only once no other document still supports the finding, and its "already alerted"
  mark is cleared so that a later note reporting it alerts again;
* a retracted or replaced document is final: a version of it that arrives later (a replay, a late
  redelivery) publishes nothing, and neither does an older version replayed after a newer one.

The record is written with the outputs' marks, after the broker acknowledged them, as the alert
dedup is; a note whose settlement publishes nothing records it directly.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from streamproc.fhir.adverse_event import IDENTIFIER_SYSTEM, AdverseEventBuilder
from streamproc.fhir.common import EXT_WITHDRAWN, document_reference, validate
from streamproc.nlp.types import NoteAnalysis
from streamproc.records import NoteEvent, OutMessage, sha256_hex
from streamproc.state import StateStore, apply_marks

log = logging.getLogger(__name__)

RECORD_PREFIX = "doc:published:"
SUPPORT_PREFIX = "ade:support:"
AE_STATUS_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-AdverseEvent.status"
VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
MAX_EVENTS = 32  # note events remembered per document (versions, redeliveries)

Mark = tuple[str, str | None, int]


@dataclass
class DocumentRecord:
    """What one document published, as the store keeps it."""

    events: list[str] = field(default_factory=list)  # note event ids seen, oldest first
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> code, subject
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> mark, subject, ...
    final: bool = False  # retracted or replaced: nothing of it is published again

    @classmethod
    def load(cls, raw: str | None) -> DocumentRecord | None:
        return cls(**json.loads(raw)) if raw else None

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)


def is_withdrawal(resource: dict[str, Any]) -> bool:
    """Whether a published resource withdraws the one of its id (see the module docstring)."""
    codings = (resource.get("verificationStatus") or {}).get("coding") or []
    if any(c.get("code") == "entered-in-error" for c in codings):
        return True
    return any(
        e.get("url") == AE_STATUS_EXTENSION and e.get("valueCode") == "entered-in-error"
        for e in resource.get("modifierExtension") or []
    )


def record_key(document_id: str) -> str:
    return RECORD_PREFIX + sha256_hex(document_id)[:40]


class DocumentLifecycle:
    """Implements the pipeline's ``Lifecycle``: ``settle(note, analysis, built) -> outputs``."""

    def __init__(self, store: StateStore, alerts: AdverseEventBuilder | None, ttl_s: int) -> None:
        self.store = store
        self.alerts = alerts
        self.ttl_s = ttl_s

    def settle(
        self, note: NoteEvent, analysis: NoteAnalysis | None, built: list[OutMessage]
    ) -> list[OutMessage]:
        """The outputs to publish for ``note``: what the builders made (nothing for a retraction)
        plus the withdrawals of what earlier versions published and this one no longer holds."""
        if not note.document_id:
            return built
        key = record_key(note.document_id)
        record = DocumentRecord.load(self.store.get(key))
        if record is not None and (record.final or note.event_id in record.events[:-1]):
            for held in built:  # alerts built for it were never sent: they may alert later
                for mark, _, _ in held.marks:
                    if self.alerts is not None:
                        self.alerts.forget(mark)
            log.info(
                "document retracted, replaced or superseded: not published again",
                extra={"event_id": note.event_id, "final": record.final},
            )
            return []
        retracting = note.document_status == "entered-in-error"
        conditions = {} if retracting else _conditions(built)
        alerts: dict[str, dict[str, Any]] = {}
        if not retracting and analysis is not None and self.alerts is not None:
            alerts = self.alerts.findings(note, analysis)
            for alert_id, fields in alerts.items():
                fields["key"] = note.patient_ref or alert_id
        out = [] if retracting else list(built)
        marks: list[Mark] = []
        earlier = [(key, record)] if record is not None else []
        if note.replaces and note.replaces != note.document_id:
            replaced_key = record_key(note.replaces)
            replaced = DocumentRecord.load(self.store.get(replaced_key))
            if replaced is not None and not replaced.final:
                earlier.append((replaced_key, replaced))
                final = DocumentRecord(events=replaced.events, final=True)
                marks.append((replaced_key, final.dump(), self.ttl_s))
        why = "retracted" if retracting else "replaced"
        for old_key, old in earlier:
            for condition_id, fields in old.conditions.items():
                if condition_id not in conditions:
                    out.append(_withdrawn_condition(condition_id, fields, note, why))
            for alert_id, fields in old.alerts.items():
                if alert_id in alerts:
                    continue
                support = self._support(alert_id) - {old_key}
                if support:
                    marks.append(_support_mark(alert_id, support, self.ttl_s))
                    continue
                if self.alerts is not None:
                    self.alerts.forget(fields["mark"])
                gone: tuple[Mark, ...] = (
                    (fields["mark"], None, 0),
                    (SUPPORT_PREFIX + alert_id, None, 0),
                )
                out.append(_withdrawn_alert(alert_id, fields, why, gone))
        for alert_id in alerts:
            marks.append(_support_mark(alert_id, self._support(alert_id) | {key}, self.ttl_s))
        events = record.events if record is not None else []
        if not events or events[-1] != note.event_id:
            events = [*events, note.event_id][-MAX_EVENTS:]
        now = DocumentRecord(events, conditions, alerts, final=retracting)
        marks.append((key, now.dump(), self.ttl_s))
        if out:
            last = out[-1]
            out[-1] = last.model_copy(update={"marks": (*last.marks, *marks)})
        else:
            apply_marks(self.store, marks)  # nothing to publish: nothing an ack could wait for
        return out

    def _support(self, alert_id: str) -> set[str]:
        raw = self.store.get(SUPPORT_PREFIX + alert_id)
        return set(json.loads(raw)) if raw else set()


def _conditions(built: list[OutMessage]) -> dict[str, dict[str, Any]]:
    return {
        m.value["id"]: {"code": m.value.get("code"), "subject": m.value["subject"]}
        for m in built
        if m.topic == "conditions"
    }


def _support_mark(alert_id: str, support: set[str], ttl_s: int) -> Mark:
    return (SUPPORT_PREFIX + alert_id, json.dumps(sorted(support)), ttl_s)


def _reason(why: str) -> str:
    if why == "retracted":
        return "Withdrawn: the source document was retracted by its sender (entered in error)."
    return "Withdrawn: the source document was replaced by a version that no longer supports it."


def _withdrawn_condition(
    condition_id: str, fields: dict[str, Any], note: NoteEvent, why: str
) -> OutMessage:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": condition_id,
        "verificationStatus": {
            "coding": [
                {
                    "system": VERIFICATION_SYSTEM,
                    "code": "entered-in-error",
                    "display": "Entered in Error",
                }
            ]
        },
        "subject": fields["subject"],
        "evidence": [{"detail": [document_reference(note)]}],
        "note": [{"text": _reason(why)}],
    }
    if fields.get("code"):
        resource["code"] = fields["code"]
    return OutMessage(topic="conditions", key=condition_id, value=validate(resource))


def _withdrawn_alert(
    alert_id: str, fields: dict[str, Any], why: str, marks: tuple[Mark, ...]
) -> OutMessage:
    resource = {
        "resourceType": "AdverseEvent",
        "id": alert_id,
        "modifierExtension": [{"url": AE_STATUS_EXTENSION, "valueCode": "entered-in-error"}],
        "identifier": {"system": IDENTIFIER_SYSTEM, "value": alert_id},
        "actuality": fields["actuality"],
        "event": fields["event"],
        "subject": fields["subject"],
        "extension": [{"url": EXT_WITHDRAWN, "valueString": _reason(why)}],
    }
    return OutMessage(
        topic="adverse_events",
        key=fields.get("key") or alert_id,
        value=validate(resource),
        marks=marks,
    )
