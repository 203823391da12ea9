"""Property: whatever the bytes, parse_message returns notes or raises IngestError, nothing else."""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamproc.config import Settings
from streamproc.ingest import IngestError, parse_message
from streamproc.records import NoteEvent, SourceRef

SRC = SourceRef(topic="file:fuzz")
SETTINGS = Settings.model_validate({"max_message_bytes": 20_000})

VALID_HL7 = "\r".join(
    [
        "MSH|^~\\&|APP|FAC|RAPP|RFAC|20240305101500+0100||ORU^R01^ORU_R01|C1|P|2.5.1||||||8859/1",
        "PID|1||MRN1^^^FAC^MR||Doe^Jane",
        "PV1|1|I|||||||||||||||||V1",
        "OBR|1|P1|F1|18748-4^Imaging^LN|||20240305",
        "OBX|1|FT|18782-3^Obs^LN|1|Line \\.br\\ one \\X41\\ \\F\\ \\S\\||||||F",
        "OBX|2|FT|18782-3^Obs^LN|1|Line two~rep||||||F",
        "OBX|3|TX|19005-8^Imp^LN|1|Impression||||||F",
    ]
).encode("latin-1")

VALID_FHIR = json.dumps(
    {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p"}},
            {
                "resource": {
                    "resourceType": "DocumentReference",
                    "id": "d",
                    "status": "current",
                    "subject": {"reference": "Patient/p"},
                    "content": [
                        {
                            "attachment": {
                                "contentType": "text/html",
                                "data": base64.b64encode(b"<p>Note &amp; text</p>").decode(),
                            }
                        }
                    ],
                }
            },
        ],
    }
).encode()

RTF_BODY = (
    rb"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fnil\fcharset0 Arial;}{\f1\fcharset204 X;}}"
    rb"\uc1\pard\b HPI:\b0 caf\'e9 \u8212? \f1\'c0\f0\par"
    rb"{\field{\*\fldinst{HYPERLINK \"http://x.org\"}}{\fldrslt{link}}}"
    rb"\trowd\cellx100 Na\cell 140\cell\row{\pict\pngblip 89504e47}\line end\par}"
)

# A two-page PDF with a text layer, as pypdf writes it (tests/test_ingest_documents.make_pdf).
PDF_BODY = base64.b64decode(
    "JVBERi0xLjMKJeLjz9MKMSAwIG9iago8PAovUHJvZHVjZXIgKHB5cGRmKQo+PgplbmRvYmoKMiAwIG9iago8PAov"
    "VHlwZSAvUGFnZXMKL0NvdW50IDIKL0tpZHMgWyA1IDAgUiA3IDAgUiBdCj4+CmVuZG9iagozIDAgb2JqCjw8Ci9U"
    "eXBlIC9DYXRhbG9nCi9QYWdlcyAyIDAgUgo+PgplbmRvYmoKNCAwIG9iago8PAovVHlwZSAvRm9udAovU3VidHlw"
    "ZSAvVHlwZTEKL0Jhc2VGb250IC9IZWx2ZXRpY2EKPj4KZW5kb2JqCjUgMCBvYmoKPDwKL1R5cGUgL1BhZ2UKL1Jl"
    "c291cmNlcyA8PAovRm9udCA8PAovRjEgNCAwIFIKPj4KPj4KL01lZGlhQm94IFsgMC4wIDAuMCA2MTIgNzkyIF0K"
    "L1BhcmVudCAyIDAgUgovQ29udGVudHMgNiAwIFIKPj4KZW5kb2JqCjYgMCBvYmoKPDwKL0xlbmd0aCA5NQo+Pgpz"
    "dHJlYW0KQlQgL0YxIDExIFRmIDcyIDcyMCBUZCAoQXNzZXNzbWVudDogcG5ldW1vbmlhLikgVGogMCAtMTQgVGQg"
    "KFBsYW46IGFtb3hpY2lsbGluLikgVGogMCAtMTQgVGQgRVQKZW5kc3RyZWFtCmVuZG9iago3IDAgb2JqCjw8Ci9U"
    "eXBlIC9QYWdlCi9SZXNvdXJjZXMgPDwKL0ZvbnQgPDwKL0YxIDQgMCBSCj4+Cj4+Ci9NZWRpYUJveCBbIDAuMCAw"
    "LjAgNjEyIDc5MiBdCi9QYXJlbnQgMiAwIFIKL0NvbnRlbnRzIDggMCBSCj4+CmVuZG9iago4IDAgb2JqCjw8Ci9M"
    "ZW5ndGggNjUKPj4Kc3RyZWFtCkJUIC9GMSAxMSBUZiA3MiA3MjAgVGQgKE5vIHJhc2ggYWZ0ZXIgcGVuaWNpbGxp"
    "bi4pIFRqIDAgLTE0IFRkIEVUCmVuZHN0cmVhbQplbmRvYmoKeHJlZgowIDkKMDAwMDAwMDAwMCA2NTUzNSBmIAow"
    "MDAwMDAwMDE1IDAwMDAwIG4gCjAwMDAwMDAwNTQgMDAwMDAgbiAKMDAwMDAwMDExOSAwMDAwMCBuIAowMDAwMDAw"
    "MTY4IDAwMDAwIG4gCjAwMDAwMDAyMzggMDAwMDAgbiAKMDAwMDAwMDM3MCAwMDAwMCBuIAowMDAwMDAwNTE1IDAw"
    "MDAwIG4gCjAwMDAwMDA2NDcgMDAwMDAgbiAKdHJhaWxlcgo8PAovU2l6ZSA5Ci9Sb290IDMgMCBSCi9JbmZvIDEg"
    "MCBSCj4+CnN0YXJ0eHJlZgo3NjIKJSVFT0YK"
)

# MDM whose note is an RTF document in a Base64 ED value and an A-encoded one.
VALID_HL7_ED = "\r".join(
    [
        "MSH|^~\\&|APP|FAC|RAPP|RFAC|20240305101500||MDM^T02|C2|P|2.5.1",
        "PID|1||MRN2^^^FAC^MR",
        "TXA|1|11506-3^Note^LN|TX|20240305||||||||DOC-2",
        "OBX|1|ED|N^Note^L|1|^TEXT^RTF^Base64^" + base64.b64encode(RTF_BODY).decode() + "||||||F",
        "OBX|2|ED|M^More^L|1|^TEXT^RTF^A^{\\E\\rtf1 more \\E\\par}||||||F",
    ]
).encode("latin-1")

HL7_ALPHABET = st.sampled_from(
    [b"MSH", b"OBX", b"TXA", b"OBR", b"PID", b"|", b"^", b"~", b"\\", b"&", b"\r", b"\n", b"1"]
    + [b"TX", b"FT", b"MDM^T02", b"ORU^R01", b"\\.sp9\\", b"\\X", b"\xe9", b"\x0b", b"\x1c"]
)


def check(raw: bytes) -> None:
    try:
        notes = parse_message(raw, SRC, SETTINGS)
    except IngestError as err:
        assert isinstance(err.code, str) and err.code
        assert isinstance(err.message, str) and err.message
        return
    assert isinstance(notes, list)
    assert all(isinstance(n, NoteEvent) for n in notes)


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]))
        if op == "delete":
            del data[pos : pos + draw(st.integers(1, 20))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "replace":
            data[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 40))]
    return bytes(data)


# database=None: no .hypothesis folder in the shared checkout.
FAST = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    check(raw)


@FAST
@given(st.lists(HL7_ALPHABET, max_size=80).map(b"".join))
def test_hl7_like_tokens(raw: bytes) -> None:
    check(b"MSH|^~\\&|" + raw)


@FAST
@given(mutated(VALID_HL7))
def test_mutated_hl7(raw: bytes) -> None:
    check(raw)


@FAST
@given(mutated(VALID_FHIR))
def test_mutated_fhir(raw: bytes) -> None:
    check(raw)


@FAST
@given(mutated(VALID_HL7_ED))
def test_mutated_hl7_encapsulated_rtf(raw: bytes) -> None:
    check(raw)


@FAST
@given(mutated(RTF_BODY))
def test_mutated_rtf_attachment(body: bytes) -> None:
    attachment = {"contentType": "text/rtf", "data": base64.b64encode(body).decode()}
    resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": attachment}],
    }
    check(json.dumps(resource).encode())


@FAST
@given(mutated(PDF_BODY))
def test_mutated_pdf_attachment(body: bytes) -> None:
    attachment = {"contentType": "application/pdf", "data": base64.b64encode(body).decode()}
    resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": attachment}],
    }
    check(json.dumps(resource).encode())


def test_unmutated_bases_are_valid_notes() -> None:
    assert len(parse_message(VALID_HL7, SRC, SETTINGS)) == 1
    assert len(parse_message(VALID_FHIR, SRC, SETTINGS)) == 1
    pdf = {"contentType": "application/pdf", "data": base64.b64encode(PDF_BODY).decode()}
    pdf_doc = {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": pdf}],
    }
    [pdf_note] = parse_message(json.dumps(pdf_doc).encode(), SRC, SETTINGS)
    assert pdf_note.text.startswith("Assessment: pneumonia.")
    [rtf_note] = parse_message(VALID_HL7_ED, SRC, SETTINGS)
    assert rtf_note.text == "HPI:café — А\nlinkNa | 140\n\nend\n\nmore"
