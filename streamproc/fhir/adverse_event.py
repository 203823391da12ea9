"""FHIR R4 ``AdverseEvent`` alerts for drug -> adverse-effect findings (topic ``adverse_events``).

One resource per (patient, drug, effect) finding, alerted once:

* the id is an HMAC of (pseudonymous patient, normalised drug, normalised effect), so the same
  finding in a re-sent or amended note has the same id (subscribers can upsert on it), and
* a store key derived from the same HMAC (TTL ``ttl_s``) suppresses the second alert, across
  workers and restarts when the store is Redis. The key is written only after the broker
  acknowledged the alert (``OutMessage.marks``, applied by ``Pipeline.mark_published``), so a
  failed publish is retried or dead-lettered and re-alerted on replay, never silently lost;
  findings built but not yet acknowledged are held in memory so one batch does not alert twice.

Only ``actuality="actual"`` findings are alerted by default; hypothetical ones ("watch for
hepatotoxicity") are published with ``actuality="potential"`` only when ``include_potential`` is set
(subscribers mostly act on actual events). No ``DetectedIssue`` is emitted: it would repeat the
same finding under a second id and double every alert; the AdverseEvent already carries severity,
seriousness, the suspect drug and the evidence.

Coding: MedDRA, SNOMED CT and RxNorm are not available offline, so ``event`` carries text (plus the
NER stage's ICD-10-CM candidates for the effect when it supplied them) and the Medication carries
the mention as text plus, when the drug dictionary names it (``streamproc.nlp.drugs``), a DrugBank
coding under the UMLS-pattern system URI the FHIR spec gives for systems it does not list. The
finding's identity uses that canonical name and the effect's ICD-10-CM code when it has one:
"lasix → hypotensive" and a later "furosemide → hypotension" are one finding, alerted once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from streamproc.fhir.common import MIN_CODE_SCORE, document_reference, iso, model_meta, reference
from streamproc.fhir.common import validate as validate_r4
from streamproc.nlp.ade.extractor import normalise
from streamproc.nlp.types import AdeRelation, CodeCandidate, NoteAnalysis
from streamproc.records import NoteEvent, OutMessage
from streamproc.state import StateStore

log = logging.getLogger(__name__)

EVIDENCE_URL = "https://streamproc.dev/fhir/StructureDefinition/ade-evidence"
IDENTIFIER_SYSTEM = "https://streamproc.dev/fhir/adverse-event"
SERIOUSNESS_SYSTEM = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
SEVERITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ICD10_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
DRUGBANK_SYSTEM = "http://www.nlm.nih.gov/research/umls/drugbank"
_SEVERITY_CODE = {
    "high": ("severe", "Severe"),
    "moderate": ("moderate", "Moderate"),
    "low": ("mild", "Mild"),
}
DEFAULT_TTL_S = 365 * 24 * 3600


def _secret(settings: Any) -> bytes:
    raw = getattr(settings, "deid_secret", "streamproc")
    value = raw.get_secret_value() if hasattr(raw, "get_secret_value") else str(raw)
    return value.encode("utf-8")


def finding_digest(secret: bytes, patient: str, drug: str, effect: str) -> str:
    """HMAC-SHA256 of the finding; never contains the identifiers themselves."""
    msg = "\x1f".join((patient, normalise(drug), normalise(effect))).encode("utf-8")
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


IN_FLIGHT_MAX = 10_000


class AdverseEventBuilder:
    """ResourceBuilder: ``build(note, analysis) -> [OutMessage(topic="adverse_events")]``."""

    def __init__(
        self,
        settings: Any,
        store: StateStore,
        ttl_s: int = DEFAULT_TTL_S,
        include_potential: bool = False,
        min_score: float | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.ttl_s = ttl_s
        self.include_potential = include_potential
        self.min_score = (
            float(getattr(settings, "ade_threshold", 0.5)) if min_score is None else min_score
        )
        self._secret = _secret(settings)
        # Findings built but not yet acknowledged (the store is written only after the ack),
        # so one batch or a quick re-send does not alert twice. Bounded: oldest forgotten first.
        self._in_flight: OrderedDict[str, None] = OrderedDict()

    def _qualifying(
        self, note: NoteEvent, analysis: NoteAnalysis
    ) -> Iterator[tuple[AdeRelation, str]]:
        """(relation, finding digest) for each finding of the note that clears the alert bar."""
        patient = note.patient_ref or f"unknown-patient:{note.document_id or note.event_id}"
        for rel in analysis.relations:
            if rel.score < self.min_score:
                continue
            if rel.actuality != "actual" and not self.include_potential:
                continue
            yield rel, finding_digest(self._secret, patient, drug_name(rel), effect_name(rel))

    def findings(self, note: NoteEvent, analysis: NoteAnalysis) -> dict[str, dict[str, Any]]:
        """The alerts this note supports, by id, whether alerted now or before: what
        ``fhir.lifecycle`` needs to withdraw one if the note is retracted (its dedup mark, and
        the fields a withdrawal repeats)."""
        subject = reference(note.patient_ref, "Patient") or {"display": "unknown patient"}
        return {
            alert_id(digest): {
                "mark": alerted_mark(digest),
                "subject": subject,
                "event": event_concept(rel),
                "actuality": rel.actuality,
            }
            for rel, digest in self._qualifying(note, analysis)
        }

    def forget(self, mark: str) -> None:
        """A withdrawn alert's finding may alert again: drop it from the findings held here."""
        self._in_flight.pop(mark, None)

    def build(self, note: NoteEvent, analysis: NoteAnalysis) -> list[OutMessage]:
        out: list[OutMessage] = []
        for rel, digest in self._qualifying(note, analysis):
            resource = self.resource(note, rel, digest, dict(analysis.model_versions))
            mark = alerted_mark(digest)
            if mark in self._in_flight or self.store.get(mark) is not None:
                log.info("ade alert suppressed (already alerted)", extra={"id": resource["id"]})
                continue
            self._in_flight[mark] = None
            while len(self._in_flight) > IN_FLIGHT_MAX:
                self._in_flight.popitem(last=False)
            out.append(
                OutMessage(
                    topic="adverse_events",
                    key=note.patient_ref or resource["id"],
                    value=resource,
                    marks=((mark, resource["id"], self.ttl_s),),
                )
            )
        return out

    # ---- the resource ------------------------------------------------------------------------
    def resource(
        self, note: NoteEvent, rel: AdeRelation, digest: str, versions: dict[str, str]
    ) -> dict[str, Any]:
        version = versions.get("ade", "unknown")
        rid = alert_id(digest)
        med_id = f"med-{digest[40:56]}"
        event = event_concept(rel)
        evidence: list[tuple[str, dict[str, Any]]] = [
            ("eventId", {"valueString": note.event_id}),
            ("drugStart", {"valueInteger": rel.drug.start}),
            ("drugEnd", {"valueInteger": rel.drug.end}),
            ("effectStart", {"valueInteger": rel.effect.start}),
            ("effectEnd", {"valueInteger": rel.effect.end}),
            ("sentenceStart", {"valueInteger": rel.sentence_start}),
            ("sentenceEnd", {"valueInteger": rel.sentence_end}),
            ("score", {"valueDecimal": round(rel.score, 4)}),
        ]
        if note.document_id:
            evidence.insert(0, ("documentId", {"valueString": note.document_id}))
        sev_code, sev_display = _SEVERITY_CODE[rel.severity]
        subject = reference(note.patient_ref, "Patient") or {"display": "unknown patient"}
        res: dict[str, Any] = {
            "resourceType": "AdverseEvent",
            "id": rid,
            "meta": model_meta(versions),
            "contained": [
                {"resourceType": "Medication", "id": med_id, "code": medication_code(rel)}
            ],
            "extension": [
                {
                    "url": EVIDENCE_URL,
                    "extension": [{"url": name, **value} for name, value in evidence],
                }
            ],
            "identifier": {"system": IDENTIFIER_SYSTEM, "value": rid},
            "actuality": rel.actuality,
            "category": [{"text": "adverse drug reaction"}],
            "event": event,
            "subject": subject,
            "severity": {
                "coding": [{"system": SEVERITY_SYSTEM, "code": sev_code, "display": sev_display}]
            },
            "suspectEntity": [
                {
                    "instance": {"reference": f"#{med_id}", "display": rel.drug.text},
                    "causality": [
                        {
                            "productRelatedness": f"{rel.score:.3f}",
                            "method": {"text": f"streamproc ADE relation model {version}"},
                        }
                    ],
                }
            ],
        }
        encounter = reference(note.encounter_ref, "Encounter")
        if encounter:
            res["encounter"] = encounter
        if note.authored is not None:
            res["date"] = iso(note.authored)
        res["referenceDocument"] = [document_reference(note)]
        if rel.seriousness == "serious":
            res["seriousness"] = {
                "coding": [{"system": SERIOUSNESS_SYSTEM, "code": "Serious", "display": "Serious"}]
            }
        elif rel.seriousness == "non-serious":
            res["seriousness"] = {
                "coding": [
                    {"system": SERIOUSNESS_SYSTEM, "code": "Non-serious", "display": "Non-serious"}
                ]
            }
        validate(res)
        return res


def alert_id(digest: str) -> str:
    return f"ade-{digest[:40]}"


def alerted_mark(digest: str) -> str:
    """The store key that says the finding was alerted (written after the broker's ack)."""
    return f"ade:alerted:{digest}"


def event_concept(rel: AdeRelation) -> dict[str, Any]:
    """``AdverseEvent.event``: the effect as written, with its ICD-10-CM code when confident."""
    event: dict[str, Any] = {"text": rel.effect.text}
    code = effect_code(rel)
    if code is not None:
        event["coding"] = [{"system": ICD10_SYSTEM, "code": code.code, "display": code.display}]
    return event


def drug_name(rel: AdeRelation) -> str:
    """What identifies the suspect drug: its canonical name when the dictionary knows it."""
    return rel.drug.concept.name if rel.drug.concept else rel.drug.text


def effect_code(rel: AdeRelation) -> CodeCandidate | None:
    """The effect's ICD-10-CM code when the entity stage coded it with confidence (the bar
    the note's Conditions use), else None: a low-scoring guess is left out, not published."""
    codes = rel.effect.codes
    return codes[0] if codes and codes[0].score >= MIN_CODE_SCORE else None


def effect_name(rel: AdeRelation) -> str:
    """What identifies the effect: its ICD-10-CM code when confidently coded, so "hypotensive"
    in one note and "hypotension" in the next are one finding (I95.9); else its wording."""
    code = effect_code(rel)
    return code.code if code is not None else rel.effect.text


def medication_code(rel: AdeRelation) -> dict[str, Any]:
    """The Medication's CodeableConcept: the note's wording, and DrugBank when named."""
    code: dict[str, Any] = {"text": rel.drug.text}
    concept = rel.drug.concept
    if concept is not None and concept.drugbank:
        code["coding"] = [
            {"system": DRUGBANK_SYSTEM, "code": concept.drugbank, "display": concept.name}
        ]
    return code


def validate(resource: dict[str, Any]) -> None:
    """Raise if ``resource`` is not a valid FHIR R4 AdverseEvent (R4B model; identical here)."""
    validate_r4(resource)
    # fhir.resources does not check required-binding codes; these two matter to subscribers.
    if resource.get("actuality") not in ("actual", "potential"):
        raise ValueError(
            f"AdverseEvent.actuality must be actual|potential, got {resource.get('actuality')!r}"
        )
    if not resource.get("subject"):
        raise ValueError("AdverseEvent.subject is required")
