"""Who a note is about: the one patient key behind pseudonyms, date shifts and alert dedup.

Feeds name a patient in several ways at once: HL7 PID-3 repeats identifiers (MRN, enterprise id,
SSN), each with an assigning authority and a type; FHIR gives a server's logical reference and
sometimes ``subject.identifier`` or the Patient resource in the same Bundle. ``choose_patient``
picks one key per note by ``settings.patient_identity`` (see ``config.PatientIdentity``), so the
same MRN from two feeds is one patient when the operator says the namespaces are one, and the
same number from two hospitals is never one patient by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streamproc.config import PatientIdentity


@dataclass(frozen=True)
class PatientIdentifier:
    """One identifier of the patient as the message gives it."""

    value: str
    # Names of its namespace, most specific first: an HL7 HD's namespace id, universal id and
    # ``urn:oid:`` form; a FHIR Identifier's system. Empty: sent without one.
    systems: tuple[str, ...] = ()
    type: str = ""  # HL7 table 0203 code (MR, PI, SS...), from PID-3.5 or Identifier.type


@dataclass(frozen=True)
class PatientKey:
    ref: str  # "Patient/<id>"
    namespace: str | None  # what the id is unique within; None: a FHIR server's logical id


def _preferred(
    identifiers: Sequence[PatientIdentifier], types: Sequence[str]
) -> list[PatientIdentifier]:
    rank = {t.upper(): i for i, t in enumerate(types)}
    usable = [i for i in identifiers if i.value.strip()]
    return sorted(usable, key=lambda i: rank.get(i.type.upper(), len(rank)))  # stable


def choose_patient(
    identifiers: Sequence[PatientIdentifier], logical_ref: str | None, policy: PatientIdentity
) -> PatientKey | None:
    """The patient key of a note.

    1. An identifier whose namespace the operator mapped (preferred types first): the shared
       name is its namespace, so feeds that agree on it agree on the patient.
    2. The FHIR logical reference, unique on its server.
    3. The first identifier of a preferred type (else the first), within its own namespace.
    """
    ordered = _preferred(identifiers, policy.types)
    for ident in ordered:
        for system in ident.systems or ("",):
            if system in policy.namespaces:
                return PatientKey(f"Patient/{ident.value.strip()}", policy.namespaces[system])
    if logical_ref:
        return PatientKey(logical_ref, None)
    if ordered:
        first = ordered[0]
        return PatientKey(
            f"Patient/{first.value.strip()}", first.systems[0] if first.systems else None
        )
    return None


def fhir_identifiers(raw: Any) -> list[PatientIdentifier]:
    """``Identifier`` objects (parsed or plain JSON) as patient identifiers; malformed ones are
    left out, as a Patient entry is not what the note is judged on."""
    out: list[PatientIdentifier] = []
    for ident in raw if isinstance(raw, list) else [raw]:
        value, system, concept = _get(ident, "value"), _get(ident, "system"), _get(ident, "type")
        if not isinstance(value, str) or not value.strip():
            continue
        codes = [_get(c, "code") for c in (_get(concept, "coding") or [])]
        code = next((c for c in codes if isinstance(c, str) and c), "")
        systems = (system,) if isinstance(system, str) and system else ()
        out.append(PatientIdentifier(value, systems, code))
    return out


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
