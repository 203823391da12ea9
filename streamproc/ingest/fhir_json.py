"""FHIR R4 JSON reader: DocumentReference, DiagnosticReport.presentedForm and Bundles of them.

Parsing is the stdlib ``json`` behind a linear depth pre-scan (a 100k-deep ``[[[...`` is refused
before the recursive parser sees it); validation uses ``fhir.resources``' R4B models, which read
R4 ``DocumentReference``/``DiagnosticReport`` unchanged. Resources of other types are valid input
that carries no note: they are skipped without model validation (nothing downstream reads them).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate, repeat
from operator import sub
from typing import Any, TypeVar

import pydantic

from streamproc.config import Settings
from streamproc.ingest.errors import IngestError
from streamproc.ingest.patient import (
    PatientIdentifier,
    PatientKey,
    choose_patient,
    fhir_identifiers,
)
from streamproc.ingest.text import (
    PDF_MEDIA_TYPE,
    PLAIN_MEDIA_TYPE,
    TEXT_MEDIA_TYPES,
    body_to_text,
    check_text_size,
    decode_body,
    pdf_to_text,
    stable_id,
)
from streamproc.records import Coding, NoteEvent, SourceRef, sha256_hex

try:  # fhir.resources >= 7: top level is R5, R4B lives in a subpackage
    from fhir.resources.R4B import get_fhir_model_class
except ImportError:  # pragma: no cover - older releases are R4 at the top level
    from fhir.resources import get_fhir_model_class

log = logging.getLogger(__name__)
_T = TypeVar("_T")

NOTE_RESOURCES = frozenset({"DocumentReference", "DiagnosticReport"})
LOINC = "http://loinc.org"
# Attachment types read as notes, best first: text.TEXT_MEDIA_TYPES (plain, HTML, RTF, the text
# layer of a PDF); anything else (images) is not a note.

# A string literal; an unterminated one runs to the end of input, so a failed match never
# rescans (``"\"\"\"...`` would otherwise make the scan quadratic).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_BRACKET_STEP = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # minus one: +1 open, -1 close
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_WHITESPACE = re.compile(r"\s+")


# ---- JSON ---------------------------------------------------------------------------------


def check_depth(data: bytes, max_depth: int) -> None:
    """Refuse JSON nested deeper than ``max_depth`` without recursing (strings ignored).

    Linear and C-speed: brackets become +1/-1 and the running sum's maximum is the depth.
    """
    brackets = _STRING.sub(b'""', data).translate(_BRACKET_STEP, _NOT_BRACKET)
    depth = max(accumulate(map(sub, brackets, repeat(1))), default=0)
    if depth > max_depth:
        raise IngestError("json_too_deep", f"JSON nesting exceeds the limit of {max_depth} levels")


def load_json(data: bytes, settings: Settings) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise IngestError(
            "not_utf8", f"JSON is not valid UTF-8 (byte offset {err.start})"
        ) from None
    check_depth(data, settings.max_json_depth)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise IngestError(
            "invalid_json", f"not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    except (ValueError, RecursionError) as err:  # e.g. integers over the digit limit
        raise IngestError("invalid_json", f"not valid JSON: {type(err).__name__}") from None


# ---- validation ---------------------------------------------------------------------------


def _path(root: str, loc: tuple[int | str, ...]) -> str:
    out = root
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{str(part)[:40]}"
    return out


def _validation_error(root: str, err: pydantic.ValidationError) -> IngestError:
    """Field paths and error types only: pydantic's messages may quote input values."""
    errors = err.errors(include_input=False, include_url=False, include_context=False)
    if any(e["type"] == "base64_decode" for e in errors):
        bad = next(e for e in errors if e["type"] == "base64_decode")
        return IngestError("invalid_base64", f"{_path(root, bad['loc'])} is not valid base64")
    shown = "; ".join(f"{_path(root, e['loc'])}: {e['type']}" for e in errors[:5])
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return IngestError("fhir_invalid", f"{len(errors)} validation error(s): {shown}{more}")


def _check_base64(resource: dict[str, Any], root: str) -> None:
    """Strict base64 check of every attachment we may read (pydantic's decoder is lenient)."""
    for path, att in _raw_attachments(resource, root):
        data = att.get("data")
        if not isinstance(data, str):
            continue
        try:
            base64.b64decode(_WHITESPACE.sub("", data), validate=True)
        except (binascii.Error, ValueError):
            raise IngestError("invalid_base64", f"{path}.data is not valid base64") from None


def _raw_attachments(resource: dict[str, Any], root: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if resource.get("resourceType") == "DocumentReference":
        content = resource.get("content")
        if isinstance(content, list):
            for i, item in enumerate(content):
                if isinstance(item, dict) and isinstance(item.get("attachment"), dict):
                    yield f"{root}.content[{i}].attachment", item["attachment"]
    elif resource.get("resourceType") == "Binary":
        yield root, resource
    elif resource.get("resourceType") == "DiagnosticReport":
        forms = resource.get("presentedForm")
        if isinstance(forms, list):
            for i, att in enumerate(forms):
                if isinstance(att, dict):
                    yield f"{root}.presentedForm[{i}]", att


def _validate(resource: dict[str, Any], root: str) -> Any:
    _check_base64(resource, root)
    model = get_fhir_model_class(resource["resourceType"])
    try:
        return model.model_validate(resource)
    except pydantic.ValidationError as err:
        raise _validation_error(root, err) from None


# ---- notes --------------------------------------------------------------------------------


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """(media type, declared charset or None) of a MIME content type; plain text when absent."""
    if not content_type:
        return PLAIN_MEDIA_TYPE, None
    media, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    return media.strip().lower(), charset


# The type and id a reference ends with: "Binary/abc", "https://ehr.example.org/fhir/Patient/p1"
_RESOURCE_REF = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def _type_and_id(reference: str) -> tuple[str, str] | None:
    found = _RESOURCE_REF.search(reference)
    return (found.group(1), found.group(2)) if found else None


@dataclass(frozen=True)
class _Binary:
    """A Binary entry of the same Bundle, which an attachment may point at by ``url``; it is
    validated only when an attachment uses it, like every other entry no note needs."""

    resource: dict[str, Any]
    path: str

    def content(self) -> tuple[str | None, bytes]:
        binary = _validate(self.resource, self.path)
        return binary.contentType, binary.data or b""


@dataclass
class _BundleIndex:
    """Entries of a Bundle that a note's resource may point at, by every reference that may name
    them (``Binary/<id>``, an absolute URL ending so, the entry's fullUrl).

    EHR exports ship a DocumentReference whose attachment has only ``url: Binary/…`` with the
    document as a Binary of the same Bundle, and the Patient it is about beside it, whose
    identifiers (the MRN) are what links the note to the same patient in other feeds.
    """

    binaries: dict[str, _Binary] = field(default_factory=dict)
    patients: dict[str, list[PatientIdentifier]] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: list[Any], root: str) -> _BundleIndex:
        index = cls()
        for i, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            rtype = resource.get("resourceType")
            names = [entry["fullUrl"]] if isinstance(entry.get("fullUrl"), str) else []
            if isinstance(resource.get("id"), str):
                names.append(f"{rtype}/{resource['id']}")
            if rtype == "Binary":
                index.binaries.update(
                    dict.fromkeys(names, _Binary(resource, f"{root}.entry[{i}].resource"))
                )
            elif rtype == "Patient":
                index.patients.update(
                    dict.fromkeys(names, fhir_identifiers(resource.get("identifier")))
                )
        return index

    def binary(self, url: str) -> _Binary | None:
        return _lookup(self.binaries, url)

    def patient_identifiers(self, reference: str) -> list[PatientIdentifier]:
        return _lookup(self.patients, reference) or []


def _lookup(found: dict[str, _T], reference: str) -> _T | None:
    if reference in found:
        return found[reference]
    relative = _type_and_id(reference)  # "https://ehr.example.org/fhir/Binary/abc"
    return found.get("/".join(relative)) if relative else None


def _attachment_text(
    attachments: list[Any], path: str, bundle: _BundleIndex | None = None
) -> str | None:
    """Text of the best textual attachment; None when there is no textual attachment.

    An attachment with only a ``url`` is read from a Binary of the same Bundle when it names
    one; the worker never fetches a URL.
    """
    best: tuple[int, bytes, str, str | None] | None = None
    url_only = False
    for att in attachments:
        media, charset = _media_type(att.contentType)
        data = att.data
        if data is None and att.url:
            binary = bundle.binary(att.url) if bundle is not None else None
            if binary is not None:
                content_type, data = binary.content()
                if not att.contentType:
                    media, charset = _media_type(content_type)
        if media not in TEXT_MEDIA_TYPES:
            continue
        if data is None:
            url_only = url_only or bool(att.url)
            continue
        rank = TEXT_MEDIA_TYPES.index(media)
        if best is None or rank < best[0]:
            best = (rank, data, media, charset)
    if best is None:
        if url_only:
            raise IngestError(
                "attachment_url_unsupported",
                f"{path}: text attachment is only referenced by url (no Binary of the same "
                "Bundle has it); fetching is not supported",
            )
        return None
    _, data, media, charset = best
    if media == PDF_MEDIA_TYPE:
        return pdf_to_text(data)
    body = decode_body(data, charset, f"{path} attachment", media=media)
    return body_to_text(body, media)


def _coding(concept: Any) -> Coding | None:
    codings = [c for c in (getattr(concept, "coding", None) or []) if c.code]
    if not codings:
        return None
    best = next((c for c in codings if c.system == LOINC), codings[0])
    return Coding(system=best.system or "", code=best.code, display=best.display)


def _ref(reference: Any) -> str | None:
    return getattr(reference, "reference", None) or None


def _patient(subject: Any, bundle: _BundleIndex | None, settings: Settings) -> PatientKey | None:
    """The note's patient key: ``subject.identifier`` and the identifiers of the Patient entry
    the subject points at in the same Bundle, by ``settings.patient_identity``."""
    if subject is None:
        return None
    identifiers = fhir_identifiers(subject.identifier) if subject.identifier else []
    logical = _ref(subject)
    if logical and bundle is not None:
        identifiers += bundle.patient_identifiers(logical)
    return choose_patient(identifiers, logical, settings.patient_identity)


def _replaced(relations: Any) -> str | None:
    """The id of the document a ``relatesTo`` of code ``replaces`` names, in the form
    ``document_id`` takes (the resource id, or the reference itself for a ``urn:uuid:``)."""
    for relation in relations or []:
        target = _ref(relation.target) if relation.code == "replaces" else None
        if target:
            found = _type_and_id(target)
            return found[1] if found and found[0] == "DocumentReference" else target
    return None


def _as_datetime(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _note_from(
    resource: Any,
    rtype: str,
    root: str,
    full_url: str | None,
    source: SourceRef,
    settings: Settings,
    bundle: _BundleIndex | None = None,
) -> NoteEvent | None:
    identity = resource.id or full_url
    retracted = "entered-in-error" in (resource.status, getattr(resource, "docStatus", None))
    if retracted and not identity:
        log.info("fhir retraction names no document", extra={"resource_type": rtype})
        return None
    replaces = None
    if rtype == "DocumentReference":
        attachments = [c.attachment for c in (resource.content or []) if c.attachment is not None]
        encounters = resource.context.encounter if resource.context is not None else None
        encounter = _ref(encounters[0]) if encounters else None
        note_type = _coding(resource.type)
        authored = _as_datetime(resource.date)
        if authored is None and resource.context is not None and resource.context.period:
            authored = _as_datetime(resource.context.period.start)
        replaces = _replaced(resource.relatesTo)
    else:  # DiagnosticReport
        attachments = list(resource.presentedForm or [])
        encounter = _ref(resource.encounter)
        note_type = _coding(resource.code)
        period = resource.effectivePeriod
        authored = (
            _as_datetime(resource.effectiveDateTime)
            or (_as_datetime(period.start) if period is not None else None)
            or _as_datetime(resource.issued)
        )
    # A retracted document is never read: only its identity travels, to withdraw what it gave.
    text = "" if retracted else _attachment_text(attachments, root, bundle)
    if text is None or not (text.strip() or retracted):
        log.info("fhir resource has no text attachment", extra={"resource_type": rtype})
        return None
    check_text_size(text, settings)
    content_hash = sha256_hex(text)
    version = resource.meta.versionId if resource.meta is not None else None
    fallback = None if identity else content_hash
    retraction = ("entered-in-error",) if retracted else ()  # current notes keep their old ids
    patient = _patient(resource.subject, bundle, settings)
    return NoteEvent(
        event_id=stable_id("fhir", rtype, identity, version, fallback, *retraction),
        source=source,
        message_format="fhir",
        message_type=rtype,
        document_status="entered-in-error" if retracted else "current",
        replaces=replaces,
        document_id=identity,
        patient_ref=patient.ref if patient else None,
        patient_namespace=patient.namespace if patient else None,
        encounter_ref=encounter,
        note_type=note_type,
        authored=authored,
        text=text,
        content_hash=content_hash,
    )


def _resource_notes(
    obj: Any,
    root: str,
    full_url: str | None,
    source: SourceRef,
    settings: Settings,
    depth: int,
    bundle: _BundleIndex | None = None,
) -> list[NoteEvent]:
    if not isinstance(obj, dict):
        raise IngestError("not_fhir_resource", f"{root} is not a JSON object")
    rtype = obj.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise IngestError("not_fhir_resource", f"{root} has no resourceType")
    try:
        get_fhir_model_class(rtype)
    except (ValueError, KeyError, AttributeError):
        raise IngestError(
            "not_fhir_resource", f"{root}: {rtype[:40]!r} is not an R4 resource type"
        ) from None
    if rtype == "Bundle":
        return _bundle_notes(obj, root, source, settings, depth)
    if rtype not in NOTE_RESOURCES:
        log.info("fhir resource carries no note", extra={"resource_type": rtype})
        return []
    resource = _validate(obj, root)
    note = _note_from(resource, rtype, root, full_url, source, settings, bundle)
    return [note] if note is not None else []


def _bundle_notes(
    bundle: dict[str, Any], root: str, source: SourceRef, settings: Settings, depth: int
) -> list[NoteEvent]:
    """Entries are validated one by one, so an error names the entry that caused it."""
    if depth > 1:  # a Bundle inside a Bundle is fine; deeper is not a real-world shape
        raise IngestError("fhir_invalid", f"{root}: Bundles nested more than two deep")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise IngestError("fhir_invalid", f"{root}.entry: not a list")
    index = _BundleIndex.of(entries, root)
    notes: list[NoteEvent] = []
    for i, entry in enumerate(entries):
        path = f"{root}.entry[{i}]"
        if not isinstance(entry, dict):
            raise IngestError("fhir_invalid", f"{path}: not an object")
        if "resource" not in entry:
            deleted = _deleted_note(entry, source)  # a transaction's DELETE of a note
            notes.extend([deleted] if deleted is not None else [])
            continue
        full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
        notes.extend(
            _resource_notes(
                entry["resource"],
                f"{path}.resource",
                full_url,
                source,
                settings,
                depth + 1,
                index,
            )
        )
    return notes


def _deleted_note(entry: dict[str, Any], source: SourceRef) -> NoteEvent | None:
    """A Bundle entry ``request: {method: DELETE, url: DocumentReference/<id>}`` retracts that
    document, like ``status = entered-in-error``; any other request without a resource is
    skipped. The patient is not named: what is withdrawn repeats the subject it was published
    with."""
    request = entry.get("request")
    if not isinstance(request, dict) or str(request.get("method", "")).upper() != "DELETE":
        return None
    found = _type_and_id(str(request.get("url", "")).split("?")[0])
    if found is None or found[0] not in NOTE_RESOURCES:
        return None
    rtype, rid = found
    return NoteEvent(
        event_id=stable_id("fhir", rtype, rid, None, None, "deleted"),
        source=source,
        message_format="fhir",
        message_type=rtype,
        document_status="entered-in-error",
        document_id=rid,
        text="",
        content_hash=sha256_hex(""),
    )


def parse_fhir(data: bytes, source: SourceRef, settings: Settings) -> list[NoteEvent]:
    """One JSON value (an ndjson line or a file) -> notes; [] for resources without notes."""
    obj = load_json(data, settings)
    if isinstance(obj, list):
        raise IngestError(
            "not_fhir_resource", "top-level JSON value is an array, expected one FHIR resource"
        )
    rtype = obj.get("resourceType") if isinstance(obj, dict) else None
    root = rtype[:40] if isinstance(rtype, str) and rtype else "$"
    return _resource_notes(obj, root, None, source, settings, 0)
