"""FHIR R4 ``Condition`` resources from coded, asserted problem mentions.

Choices (see docs/clinical-nlp.md):

* Only problems asserted ``present`` (-> verificationStatus ``confirmed``) or ``possible``
  (-> ``provisional``) become Conditions. Absent, hypothetical, conditional and family problems
  stay evidence in the analysis: publishing them as Conditions (even ``refuted``) would put a
  negated or a relative's diagnosis on the patient's list.
* A problem becomes a Condition only when its best ICD-10-CM candidate scores at least
  ``min_code_score``: an uncodable mention ("full-time employment") is not a diagnosis.
* ``category`` is ``problem-list-item`` when every mention is the patient's history ("has a
  history of …", a past-medical-history section; ``Entity.historical``), else
  ``encounter-diagnosis``. ``clinicalStatus`` is ``active`` either way: a note rarely says a
  past problem resolved, and FHIR requires the status on problem-list items.
* All mentions of the same code in one note form one Condition (id from note event id + first
  span + code), with every span in a ``note-span`` extension: redelivery and replay overwrite,
  and a note that says "hypertension" three times yields one Condition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamproc.fhir.common import (
    EXT_ALTERNATIVE_CODES,
    EXT_ASSERTION,
    EXT_CODING_SCORE,
    ICD10CM,
    deterministic_id,
    document_reference,
    iso,
    model_meta,
    note_span_extension,
    reference,
    validate,
)
from streamproc.nlp.types import Entity, NoteAnalysis
from streamproc.records import NoteEvent, OutMessage

VERIFICATION = {"present": "confirmed", "possible": "provisional"}
_RANK = {"confirmed": 0, "provisional": 1}


@dataclass
class ConditionBuilder:
    """Implements :class:`streamproc.pipeline.ResourceBuilder` for ``fhir.conditions``."""

    min_code_score: float = 0.5

    def build(self, note: NoteEvent, analysis: NoteAnalysis) -> list[OutMessage]:
        groups: dict[str, list[Entity]] = {}
        for ent in analysis.entities:
            if ent.label != "problem" or ent.assertion not in VERIFICATION or not ent.codes:
                continue
            if ent.codes[0].score < self.min_code_score:
                continue
            groups.setdefault(ent.codes[0].code, []).append(ent)
        out = []
        for code, mentions in groups.items():
            mentions.sort(key=lambda e: (e.start, e.end))
            resource = validate(self.resource(note, analysis, code, mentions))
            out.append(OutMessage(topic="conditions", key=resource["id"], value=resource))
        return out

    def resource(
        self, note: NoteEvent, analysis: NoteAnalysis, code: str, mentions: list[Entity]
    ) -> dict[str, Any]:
        first = mentions[0]
        status = min((VERIFICATION[m.assertion] for m in mentions), key=_RANK.__getitem__)
        # The assertion shown is the one that decided the status: "?acute MI … PMH: AMI" is a
        # confirmed Condition whose assertion reads "present", not the first mention's "possible".
        deciding = next(m for m in mentions if VERIFICATION[m.assertion] == status)
        best = first.codes[0]
        subject = reference(note.patient_ref, "Patient")
        if subject is None:
            raise ValueError("note has no patient reference: a Condition needs a subject")
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": deterministic_id(note.event_id, first.start, first.end, code),
            "meta": model_meta(analysis.model_versions),
            "extension": [
                *(note_span_extension(note, m.start, m.end) for m in mentions),
                {"url": EXT_ASSERTION, "valueCode": deciding.assertion},
                {"url": EXT_CODING_SCORE, "valueDecimal": round(best.score, 4)},
                *(
                    {
                        "url": EXT_ALTERNATIVE_CODES,
                        "extension": [
                            {"url": "rank", "valueInteger": rank},
                            {
                                "url": "coding",
                                "valueCoding": {
                                    "system": ICD10CM,
                                    "code": c.code,
                                    "display": c.display,
                                    "userSelected": False,
                                },
                            },
                            {"url": "score", "valueDecimal": round(c.score, 4)},
                        ],
                    }
                    for rank, c in enumerate(first.codes, start=1)
                ),
            ],
            "clinicalStatus": _concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"
            ),
            "verificationStatus": _concept(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                status,
                status.capitalize(),
            ),
            "category": [_category(mentions)],
            "code": {
                "coding": [
                    {
                        "system": ICD10CM,
                        "code": best.code,
                        "display": best.display,
                        "userSelected": False,
                    }
                ],
                "text": first.text,
            },
            "subject": subject,
            "evidence": [{"detail": [document_reference(note)]}],
        }
        encounter = reference(note.encounter_ref, "Encounter")
        if encounter is not None:
            resource["encounter"] = encounter
        recorded = iso(note.authored)
        if recorded is not None:
            resource["recordedDate"] = recorded
        return resource


def _category(mentions: list[Entity]) -> dict[str, Any]:
    """problem-list-item when every mention is the patient's history ("has a history of …", a
    past-medical-history section), encounter-diagnosis when any is this encounter's."""
    system = "http://terminology.hl7.org/CodeSystem/condition-category"
    if all(m.historical for m in mentions):
        return _concept(system, "problem-list-item", "Problem List Item")
    return _concept(system, "encounter-diagnosis", "Encounter Diagnosis")


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}
