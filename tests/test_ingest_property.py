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


def test_unmutated_bases_are_valid_notes() -> None:
    assert len(parse_message(VALID_HL7, SRC, SETTINGS)) == 1
    assert len(parse_message(VALID_FHIR, SRC, SETTINGS)) == 1
