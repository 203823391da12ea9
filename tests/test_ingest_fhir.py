"""FHIR R4 JSON happy paths: DocumentReference (plain/html), DiagnosticReport, Bundle."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from streamproc.config import Settings
from streamproc.ingest import IngestError, parse_message
from streamproc.ingest.text import html_to_text
from streamproc.records import SourceRef, sha256_hex

SRC = SourceRef(topic="file:notes.ndjson", partition=1, offset=3)
SETTINGS = Settings.model_validate({})  # defaults, independent of STREAMPROC_* env


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def doc_ref(
    text: str = "Chief complaint: cough.\n",
    content_type: str = "text/plain; charset=utf-8",
    rid: str = "doc-1",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": rid,
        "status": "current",
        "type": {
            "coding": [
                {"system": "urn:local", "code": "X1"},
                {"system": "http://loinc.org", "code": "34117-2", "display": "H&P note"},
            ]
        },
        "subject": {"reference": "Patient/p-1"},
        "date": "2021-05-04T10:20:30.5-05:00",
        "content": [{"attachment": {"contentType": content_type, "data": b64(text)}}],
        "context": {"encounter": [{"reference": "Encounter/e-1"}]},
        **extra,
    }


def diag_report(text: str = "Impression: no acute disease.", rid: str = "dr-1") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "18748-4"}]},
        "subject": {"reference": "Patient/p-2"},
        "encounter": {"reference": "Encounter/e-2"},
        "effectiveDateTime": "2022-01-02T03:04:05Z",
        "presentedForm": [
            {"contentType": "application/pdf", "data": b64("%PDF-1.4")},
            {"contentType": "text/plain", "data": b64(text)},
        ],
    }


def parse(obj: Any) -> list:
    return parse_message(json.dumps(obj).encode("utf-8"), SRC, SETTINGS)


def test_document_reference_plain_text() -> None:
    (note,) = parse(doc_ref())
    assert note.text == "Chief complaint: cough.\n"
    assert note.message_format == "fhir"
    assert note.message_type == "DocumentReference"
    assert note.document_id == "doc-1"
    assert note.patient_ref == "Patient/p-1"
    assert note.encounter_ref == "Encounter/e-1"
    assert note.note_type is not None
    assert (note.note_type.system, note.note_type.code) == ("http://loinc.org", "34117-2")
    assert note.authored == datetime(
        2021, 5, 4, 10, 20, 30, 500000, tzinfo=timezone(-timedelta(hours=5))
    )
    assert note.content_hash == sha256_hex(note.text)


def test_event_id_stable_and_version_sensitive() -> None:
    (a,) = parse(doc_ref())
    (b,) = parse(doc_ref())
    (c,) = parse(doc_ref(meta={"versionId": "2"}))
    (d,) = parse(doc_ref(rid="doc-2"))
    assert a.event_id == b.event_id
    assert len({a.event_id, c.event_id, d.event_id}) == 3


def test_document_reference_html() -> None:
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<h1>Assessment</h1><p>Stable &amp; improving,\n  no&nbsp;fever.</p>"
        "<ul><li>aspirin</li><li>metformin</li></ul><script>alert(1)</script></body></html>"
    )
    (note,) = parse(doc_ref(html, content_type="text/html"))
    assert note.text == "Assessment\n\nStable & improving, no fever.\n\n- aspirin\n- metformin"


def test_html_to_text_breaks() -> None:
    assert html_to_text("a<br>b<br/>c") == "a\nb\nc"
    assert html_to_text("<table><tr><td>x</td><td>y</td></tr></table>") == "x y"


def test_document_reference_prefers_plain_over_html_and_honours_charset() -> None:
    resource = doc_ref()
    resource["content"] = [
        {"attachment": {"contentType": "text/html", "data": b64("<p>html</p>")}},
        {
            "attachment": {
                "contentType": "text/plain; charset=ISO-8859-1",
                "data": b64("Café", "latin-1"),
            }
        },
    ]
    (note,) = parse(resource)
    assert note.text == "Café"


def test_document_reference_without_readable_attachment_is_skipped() -> None:
    # An image is no note (a PDF is read for its text layer: tests/test_ingest_documents.py).
    resource = doc_ref()
    resource["content"] = [{"attachment": {"contentType": "image/jpeg", "data": b64("JFIF")}}]
    assert parse(resource) == []


def test_diagnostic_report_presented_form() -> None:
    (note,) = parse(diag_report())
    assert note.text == "Impression: no acute disease."
    assert note.message_type == "DiagnosticReport"
    assert note.patient_ref == "Patient/p-2"
    assert note.encounter_ref == "Encounter/e-2"
    assert note.note_type is not None and note.note_type.code == "18748-4"
    assert note.authored is not None and note.authored.year == 2022


def test_bundle_with_two_notes_and_a_patient() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p-1"}},
            {"resource": doc_ref("First note.")},
            {"resource": diag_report("Second note.")},
        ],
    }
    notes = parse(bundle)
    assert [n.text for n in notes] == ["First note.", "Second note."]
    assert [n.message_type for n in notes] == ["DocumentReference", "DiagnosticReport"]


def test_other_resource_types_are_skipped() -> None:
    assert parse({"resourceType": "Patient", "id": "p-1"}) == []
    assert parse({"resourceType": "Condition", "id": "c-1"}) == []


def test_ndjson_line_with_trailing_newline_and_bom() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(doc_ref()).encode() + b"\n"
    assert len(parse_message(raw, SRC, SETTINGS)) == 1


def test_entered_in_error_is_a_retraction_never_read() -> None:
    """Only the identity travels: the text of a retracted document is never analysed."""
    (note,) = parse(doc_ref(status="entered-in-error"))
    assert (note.document_status, note.document_id, note.text) == ("entered-in-error", "doc-1", "")
    assert note.patient_ref == "Patient/p-1"
    (current,) = parse(doc_ref())
    assert current.event_id != note.event_id and current.document_status == "current"
    (note,) = parse(doc_ref(docStatus="entered-in-error"))
    assert note.document_status == "entered-in-error"
    report = diag_report()
    report["status"] = "entered-in-error"
    (note,) = parse(report)
    assert (note.document_status, note.document_id) == ("entered-in-error", "dr-1")
    anonymous = doc_ref(status="entered-in-error")
    del anonymous["id"]
    assert parse(anonymous) == []  # nothing names what to withdraw


@pytest.mark.parametrize(
    "target",
    ["DocumentReference/doc-0", "https://ehr.example/fhir/DocumentReference/doc-0", "doc-0"],
)
def test_relates_to_replaces_names_the_replaced_document(target: str) -> None:
    relation = [{"code": "appends", "target": {"reference": "DocumentReference/x"}},
                {"code": "replaces", "target": {"reference": target}}]  # fmt: skip
    (note,) = parse(doc_ref(relatesTo=relation))
    assert note.replaces == "doc-0"
    (plain,) = parse(doc_ref())
    assert plain.replaces is None


def test_diagnostic_report_effective_period() -> None:
    report = diag_report()
    del report["effectiveDateTime"]
    report["effectivePeriod"] = {"start": "2020-02-03T04:05:06Z"}
    (note,) = parse(report)
    assert note.authored is not None and note.authored.year == 2020


def test_bundle_in_bundle_and_too_deep_nesting() -> None:
    inner = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": doc_ref()}]}
    outer = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": inner}]}
    assert len(parse(outer)) == 1
    third = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": outer}]}
    with pytest.raises(IngestError) as info:
        parse(third)
    assert info.value.code == "fhir_invalid"
