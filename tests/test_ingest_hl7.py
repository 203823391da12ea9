"""HL7 v2 ER7 happy paths: MDM, ORU, escapes, terminators, framing, character sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from streamproc.config import Settings
from streamproc.ingest import parse_message
from streamproc.ingest.hl7v2 import Delimiters, parse_ts, unescape
from streamproc.records import NoteEvent, SourceRef, sha256_hex

SRC = SourceRef(topic="file:test.hl7", partition=0, offset=7)
SETTINGS = Settings.model_validate({})  # defaults, independent of STREAMPROC_* env

MSH_MDM = (
    "MSH|^~\\&|NOTESAPP|GENHOSP|RECV|RFAC|20240305101500+0100||MDM^T02^MDM_T02|CTRL0001|P|2.5.1"
)
PID = "PID|1||MRN12345^^^GENHOSP^MR||Testperson^Alex||19800101|F"
PV1 = "PV1|1|I|WARD^1^2||||||||||||||||VISIT778"
EVN = "EVN|T02|20240305101500"
TXA = "TXA|1|11488-4^Consult note^LN|TX|20240305093000-0500||20240305090000||||||DOC-42||||AU"


def hl7(*segments: str, sep: str = "\r") -> bytes:
    return sep.join(segments).encode("utf-8")


def one(raw: bytes) -> NoteEvent:
    notes = parse_message(raw, SRC, SETTINGS)
    assert len(notes) == 1
    return notes[0]


def test_mdm_t02_note_fields() -> None:
    raw = hl7(
        MSH_MDM,
        EVN,
        PID,
        PV1,
        TXA,
        "OBX|1|TX|NOTE^Note text^L|1|Patient seen for cough.||||||F",
        "OBX|2|TX|NOTE^Note text^L|1|No fever.||||||F",
    )
    note = one(raw)
    assert note.text == "Patient seen for cough.\nNo fever."
    assert note.message_format == "hl7v2"
    assert note.message_type == "MDM^T02"
    assert note.document_id == "DOC-42"
    assert note.patient_ref == "Patient/MRN12345"
    assert note.encounter_ref == "Encounter/VISIT778"
    assert note.note_type is not None
    assert (note.note_type.system, note.note_type.code) == ("http://loinc.org", "11488-4")
    assert note.authored == datetime(2024, 3, 5, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert note.content_hash == sha256_hex(note.text)
    assert note.source == SRC


def test_event_id_is_stable_across_redelivery_and_differs_per_document() -> None:
    obx = "OBX|1|TX|NOTE^Note^L|1|Same text.||||||F"
    first = one(hl7(MSH_MDM, PID, TXA, obx))
    again = one(hl7(MSH_MDM, PID, TXA, obx))
    other = one(hl7(MSH_MDM, PID, TXA.replace("DOC-42", "DOC-43"), obx))
    assert first.event_id == again.event_id
    assert first.event_id != other.event_id


def test_mdm_local_document_type_keeps_its_system() -> None:
    txa = "TXA|1|DS|TX|20240305093000||||||||DOC-1"
    note = one(hl7(MSH_MDM, PID, txa, "OBX|1|TX|X^Y^L|1|Discharge summary text.||||||F"))
    assert note.note_type is not None
    assert note.note_type.code == "DS"
    assert note.note_type.system == "http://terminology.hl7.org/CodeSystem/v2-0270"
    assert note.authored == datetime(2024, 3, 5, 9, 30)  # no offset given: naive


@pytest.mark.parametrize("trigger", ["T01", "T05", "T06", "T09", "T10"])
def test_other_mdm_triggers_with_text(trigger: str) -> None:
    msh = MSH_MDM.replace("MDM^T02^MDM_T02", f"MDM^{trigger}^MDM_{trigger}")
    note = one(hl7(msh, PID, TXA, "OBX|1|TX|N^N^L|1|Addendum text.||||||F"))
    assert note.message_type == f"MDM^{trigger}"


def test_mdm_without_text_is_skipped() -> None:
    raw = hl7(MSH_MDM, PID, TXA, "OBX|1|ED|IMG^Wound photo^L||^IM^JPEG^Base64^SkZJRg==||||||F")
    assert parse_message(raw, SRC, SETTINGS) == []


@pytest.mark.parametrize(
    "msh9", ["ADT^A01^ADT_A01", "SIU^S12^SIU_S12", "ORM^O01^ORM_O01", "VXU^V04^VXU_V04"]
)
def test_messages_without_notes_are_skipped(msh9: str) -> None:
    raw = hl7(MSH_MDM.replace("MDM^T02^MDM_T02", msh9), EVN, PID, PV1)
    assert parse_message(raw, SRC, SETTINGS) == []


def test_oru_repeated_and_continued_obx_one_note_per_obr_group() -> None:
    raw = hl7(
        "MSH|^~\\&|LAB|GENHOSP|EHR|RFAC|20240306120000||ORU^R01^ORU_R01|CTRL0002|P|2.5.1",
        PID,
        PV1,
        "OBR|1|PLAC-1|FILL-1|18748-4^Diagnostic imaging study^LN|||20240306113000+0000",
        "OBX|1|FT|18782-3^Study observation^LN|1|Findings line one.||||||F",
        "OBX|2|FT|18782-3^Study observation^LN|1|Findings line two.||||||F",
        "OBX|3|TX|19005-8^Impression^LN|1|Impression: normal~No follow-up needed.||||||F",
        "OBX|4|NM|8867-4^Heart rate^LN||72|/min|||||F",
        "OBR|2|PLAC-2|FILL-2|24317-0^Hemogram^LN|||20240306114500",
        "OBX|1|NM|718-7^Hemoglobin^LN||13.4|g/dL|||||F",
        "OBR|3|PLAC-3||LOCAL9^Path report^99LOC",
        "OBX|1|ST|LOCAL9^Path report^99LOC|1|Benign.||||||F",
    )
    notes = parse_message(raw, SRC, SETTINGS)
    assert [n.document_id for n in notes] == ["FILL-1", "PLAC-3"]  # OBR-2 when OBR-3 is empty
    first, third = notes
    assert first.text == (
        "Findings line one.\nFindings line two.\n\nImpression: normal\nNo follow-up needed."
    )
    assert first.note_type is not None and first.note_type.code == "18748-4"
    assert first.authored == datetime(2024, 3, 6, 11, 30, tzinfo=UTC)
    assert first.encounter_ref == "Encounter/VISIT778"
    assert third.text == "Benign."
    assert third.note_type is not None
    assert third.note_type.system == "urn:hl7v2:local:99LOC"
    assert first.event_id != third.event_id


def test_oru_without_text_is_skipped() -> None:
    raw = hl7(
        "MSH|^~\\&|LAB|GENHOSP|EHR|RFAC|20240306120000||ORU^R01|CTRL0003|P|2.3",
        PID,
        "OBR|1||F-9|24317-0^Hemogram^LN",
        "OBX|1|NM|718-7^Hemoglobin^LN||13.4|g/dL|||||F",
    )
    assert parse_message(raw, SRC, SETTINGS) == []


def test_escape_sequences_in_text() -> None:
    obx = (
        "OBX|1|FT|N^N^L|1|"
        "BP 120\\S\\80\\.br\\a\\F\\b\\T\\c\\R\\d\\E\\e \\H\\bold\\N\\ \\X41C3A9\\ \\Zfoo\\end"
        "||||||F"
    )
    note = one(hl7(MSH_MDM, PID, TXA, obx))
    assert note.text == "BP 120^80\na|b&c~d\\e bold Aé end"


def test_unescape_helpers_cap_repetition_and_keep_unterminated() -> None:
    d = Delimiters(field="|")
    assert unescape("a\\.sp3\\b", d) == "a\n\n\nb"
    assert unescape("x\\.sp999999\\y", d).count("\n") == 100
    assert unescape("tail \\E", d) == "tail \\E"
    assert unescape("\\XZZ\\ok", d) == "ok"


def test_custom_delimiters_from_msh() -> None:
    raw = hl7(
        "MSH#*@!%#NOTESAPP#GENHOSP#RECV#RFAC#20240305101500##MDM*T02#CTRL9#P#2.5",
        "PID#1##MRN9",
        "TXA#1#DS#TX#########DOC-9",
        "OBX#1#TX#N*N*L#1#a!F!b pipe|kept@second line######F",
    )
    note = one(raw)
    assert note.text == "a#b pipe|kept\nsecond line"
    assert note.patient_ref == "Patient/MRN9"
    assert note.document_id == "DOC-9"


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_segment_terminators(sep: str) -> None:
    raw = hl7(MSH_MDM, PID, TXA, "OBX|1|TX|N^N^L|1|Line.||||||F", sep=sep) + sep.encode()
    assert one(raw).text == "Line."


def test_mllp_framing_and_bom_are_stripped() -> None:
    body = hl7(MSH_MDM, PID, TXA, "OBX|1|TX|N^N^L|1|Framed.||||||F")
    assert one(b"\x0b" + body + b"\x1c\x0d").text == "Framed."
    assert one(b"\xef\xbb\xbf" + body).text == "Framed."


def test_msh18_latin1_bytes_are_decoded() -> None:
    msh = MSH_MDM + "||||||8859/1"
    raw = hl7(msh, PID, TXA, "OBX|1|TX|N^N^L|1|Café ok||||||F").decode().encode("latin-1")
    assert b"\xe9" in raw
    assert one(raw).text == "Café ok"


def test_msh18_unicode_utf8_and_hex_escape_in_latin1() -> None:
    utf8 = hl7(MSH_MDM + "||||||UNICODE UTF-8", PID, TXA, "OBX|1|TX|N^N^L|1|Größe 3 cm||||||F")
    assert one(utf8).text == "Größe 3 cm"
    latin = hl7(MSH_MDM + "||||||8859/1", PID, TXA, "OBX|1|TX|N^N^L|1|\\XE9\\||||||F")
    assert one(latin).text == "é"


def test_batch_file_with_two_messages() -> None:
    msg1 = [MSH_MDM, PID, TXA, "OBX|1|TX|N^N^L|1|First.||||||F"]
    msg2 = [MSH_MDM.replace("CTRL0001", "CTRL0002"), PID, TXA.replace("DOC-42", "DOC-77")]
    msg2.append("OBX|1|TX|N^N^L|1|Second.||||||F")
    raw = hl7("FHS|^~\\&", "BHS|^~\\&", *msg1, *msg2, "BTS|2", "FTS|1")
    assert [n.text for n in parse_message(raw, SRC, SETTINGS)] == ["First.", "Second."]


def test_parse_ts_variants() -> None:
    assert parse_ts("2024") == datetime(2024, 1, 1)
    assert parse_ts("202403051015") == datetime(2024, 3, 5, 10, 15)
    assert parse_ts("20240305101530.25-0030") == datetime(
        2024, 3, 5, 10, 15, 30, 250000, tzinfo=timezone(-timedelta(minutes=30))
    )
    assert parse_ts("20241305") is None
    assert parse_ts("garbage") is None
