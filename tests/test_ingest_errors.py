"""Bad input from the issue's list: each one is an IngestError with a code, never a crash.

Every case also checks that the human message does not leak the note text.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from streamproc.config import Settings
from streamproc.ingest import IngestError, parse_message
from streamproc.records import SourceRef

SRC = SourceRef(topic="file:bad", partition=0, offset=1)
SETTINGS = Settings.model_validate({})  # defaults, independent of STREAMPROC_* env
SECRET = "Secretnote Xylophone"  # note text that must never appear in an error message

MSH = "MSH|^~\\&|APP|FAC|RAPP|RFAC|20240305101500||MDM^T02^MDM_T02|C1|P|2.5.1"
PID = "PID|1||MRN1"
TXA = "TXA|1|DS|TX|20240305||||||||DOC-1"


def err(raw: bytes, settings: Settings = SETTINGS) -> IngestError:
    with pytest.raises(IngestError) as info:
        parse_message(raw, SRC, settings)
    assert SECRET not in info.value.message
    assert SECRET not in str(info.value)
    assert info.value.message  # human readable reason
    return info.value


def doc(data: str, content_type: str = "text/plain", **extra: Any) -> bytes:
    resource = {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "content": [{"attachment": {"contentType": content_type, "data": data}}],
        **extra,
    }
    return json.dumps(resource).encode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("raw", [b"", b"   \r\n\t", b"\x0b\x1c\x0d", b"\xef\xbb\xbf\n"])
def test_empty_message(raw: bytes) -> None:
    assert err(raw).code == "empty"


def test_non_utf8_bytes() -> None:
    assert err(b"\xff\xfe\x00\x81garbage " + SECRET.encode()).code == "not_utf8"


def test_non_utf8_hl7_without_msh18() -> None:
    raw = f"{MSH}\r{PID}\r{TXA}\rOBX|1|TX|N^N^L|1|{SECRET} caf".encode() + b"\xe9||||||F"
    assert err(raw).code == "not_utf8"


def test_non_utf8_json() -> None:
    assert err(b'{"resourceType": "Patient", "name": "\xe9"}').code == "not_utf8"


def test_unknown_format() -> None:
    assert err(f"hello {SECRET}".encode()).code == "unknown_format"


def test_truncated_hl7_without_msh() -> None:
    raw = f"OBX|2|TX|N^N^L|1|{SECRET}||||||F\rOBX|3|TX|N^N^L|1|more||||||F".encode()
    assert err(raw).code == "hl7_no_msh"


@pytest.mark.parametrize(
    "raw",
    [b"MSH", b"MSH|^~", b"MSH|^~\\&|APP|FAC|RAPP", b"MSHA^~\\&|APP", b"MSH|^^\\&|A|B|C|D|E||X"],
)
def test_truncated_or_broken_msh(raw: bytes) -> None:
    assert err(raw).code == "hl7_malformed"


def test_hl7_invalid_segment_id() -> None:
    raw = f"{MSH}\r{PID}\r  {SECRET} stray line\rOBX|1|TX|N^N^L|1|x||||||F".encode()
    assert err(raw).code == "hl7_malformed"


@pytest.mark.parametrize("obx", ["OBX|1|TX|N^N^L", "OBX|1|TX|N^N^L|1", "OBX|1"])
def test_hl7_text_segment_with_wrong_field_count(obx: str) -> None:
    raw = f"{MSH}\r{PID}\r{TXA}\rOBX|1|TX|N^N^L|1|{SECRET}||||||F\r{obx}".encode()
    e = err(raw)
    assert e.code == "hl7_bad_segment"
    assert "OBX" in e.message


def test_hl7_unsupported_and_mismatched_charset() -> None:
    raw = f"{MSH}||||||KLINGON\r{PID}".encode()
    assert err(raw).code == "unsupported_charset"
    raw = f"{MSH}||||||ASCII\r{PID}\rOBX|1|TX|N^N^L|1|{SECRET}".encode() + b"\xff||||||F"
    assert err(raw).code == "charset_mismatch"


@pytest.mark.parametrize("raw", [b"{not json", b'{"a": }', b"[1, 2", b'{"x": 1} trailing'])
def test_fhir_not_json(raw: bytes) -> None:
    assert err(raw).code == "invalid_json"


@pytest.mark.parametrize(
    "obj",
    [{"id": "x"}, [{"resourceType": "Patient"}], {"resourceType": 5}, {"resourceType": "Nope"}],
)
def test_json_but_not_a_resource(obj: Any) -> None:
    assert err(json.dumps(obj).encode()).code == "not_fhir_resource"


def test_fhir_validation_failure_names_field_not_text() -> None:
    raw = doc(b64(SECRET), date=SECRET, bogusField=SECRET)
    e = err(raw)
    assert e.code == "fhir_invalid"
    assert "DocumentReference.date" in e.message
    assert "bogusField" in e.message


def test_fhir_validation_failure_inside_bundle_names_the_entry() -> None:
    bad = json.loads(doc(b64(SECRET), status=["not", "a", "code"]))
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": bad}]}
    e = err(json.dumps(bundle).encode())
    assert e.code == "fhir_invalid"
    assert "Bundle.entry[0].resource.status" in e.message


@pytest.mark.parametrize("data", ["!!!notbase64!!!", "aGVsbG8", "aGVs*G8="])
def test_fhir_invalid_base64(data: str) -> None:
    assert err(doc(data)).code == "invalid_base64"


def test_attachment_with_only_a_url() -> None:
    resource = json.loads(doc(b64(SECRET)))
    resource["content"][0]["attachment"] = {"contentType": "text/plain", "url": "http://x/y"}
    assert err(json.dumps(resource).encode()).code == "attachment_url_unsupported"


def test_attachment_in_wrong_charset() -> None:
    data = base64.b64encode(SECRET.encode() + b"\xff").decode()
    assert err(doc(data, content_type="text/plain; charset=utf-8")).code == "not_utf8"
    assert err(doc(b64(SECRET), content_type="text/plain; charset=x-nope")).code == (
        "unsupported_charset"
    )


def test_message_over_size_limit() -> None:
    small = Settings.model_validate({"max_message_bytes": 200})
    hl7 = f"{MSH}\r{PID}\r{TXA}\rOBX|1|TX|N^N^L|1|{SECRET * 20}||||||F".encode()
    assert err(hl7, small).code == "too_large"
    assert err(doc(b64(SECRET * 20)), small).code == "too_large"


def test_decoded_note_over_size_limit() -> None:
    # \.sp99\ expands to 99 newlines: a message under 220 bytes whose note text is bigger.
    limit = Settings.model_validate({"max_message_bytes": 220})
    obx = "OBX|1|TX|N^N^L|1|a" + "\\.sp99\\" * 4 + "b||||||F"
    raw = f"{MSH}\r{PID}\r{TXA}\r{obx}".encode()
    assert len(raw) <= 220
    assert err(raw, limit).code == "too_large"


def test_default_size_limit_is_one_megabyte() -> None:
    raw = doc(b64("x" * 800_000))
    assert len(raw) > 1_000_000
    assert err(raw).code == "too_large"


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deeply_nested_json(opener: bytes) -> None:
    raw = opener * 100_000 + b"1"
    assert err(raw).code == "json_too_deep"


def test_nesting_inside_strings_does_not_count() -> None:
    resource = {"resourceType": "Patient", "id": "p", "text_": "[" * 1000}
    assert parse_message(json.dumps(resource).encode(), SRC, SETTINGS) == []


def test_depth_scan_is_linear_on_escaped_quotes() -> None:
    # An unterminated string of escaped quotes made the string-skipping regex quadratic.
    raw = b'{"a": "' + b'\\"' * 150_000
    started = time.perf_counter()
    assert err(raw).code == "invalid_json"
    assert time.perf_counter() - started < 10


def test_many_obr_groups_stay_fast() -> None:
    groups = "\r".join(f"OBR|{i}||F{i}|X^Y^L\rOBX|1|TX|N^N^L|1|t{i}||||||F" for i in range(5000))
    raw = f"MSH|^~\\&|A|F|R|RF|2024||ORU^R01|C|P|2.5\r{PID}\r{groups}".encode()
    started = time.perf_counter()
    notes = parse_message(raw, SRC, SETTINGS)
    assert len(notes) == 5000
    assert len({n.event_id for n in notes}) == 5000
    assert time.perf_counter() - started < 20
