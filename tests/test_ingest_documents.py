"""RTF and PDF notes, and encapsulated (ED) text: what EMRs send besides TX lines and text/plain."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from streamproc.config import Settings
from streamproc.ingest import IngestError, parse_message
from streamproc.ingest.text import pdf_to_text, rtf_to_text
from streamproc.records import NoteEvent, SourceRef

SRC = SourceRef(topic="notes.raw", partition=0, offset=11)
SETTINGS = Settings.model_validate({})

RTF_NOTE = (
    r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fnil Arial;}}{\colortbl ;\red0\green0\blue0;}"
    "\n"
    r"\viewkind4\uc1\pard\b HPI:\b0  67 y/o with CHF, temp 38\'b0C.\par"
    "\n"
    r"Denies chest pain \u8212? no dyspnea.\par"
    "\n"
    r"\pard Plan: start lisinopril 10 mg\par"
    "\n"
    r"{\*\generator Riched20 10.0;}}"
)
RTF_TEXT = "HPI: 67 y/o with CHF, temp 38°C.\nDenies chest pain — no dyspnea.\nPlan: start lisinopril 10 mg"

MSH = "MSH|^~\\&|EPIC|GENHOSP|RECV|RFAC|20240305101500||MDM^T02^MDM_T02|CTRL9|P|2.5.1"
PID = "PID|1||MRN5^^^GENHOSP^MR||Doe^Jan"
TXA = "TXA|1|11506-3^Progress note^LN|TX|20240305093000||||||||DOC-9||||AU"


def b64(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def hl7(*obx: str) -> bytes:
    return "\r".join([MSH, PID, TXA, *obx]).encode("utf-8")


def doc_ref(*attachments: dict[str, str]) -> bytes:
    resource = {
        "resourceType": "DocumentReference",
        "id": "rtf-1",
        "status": "current",
        "subject": {"reference": "Patient/p-1"},
        "content": [{"attachment": att} for att in attachments],
    }
    return json.dumps(resource).encode("utf-8")


def one(raw: bytes) -> NoteEvent:
    notes = parse_message(raw, SRC, SETTINGS)
    assert len(notes) == 1
    return notes[0]


def error(raw: bytes) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_message(raw, SRC, SETTINGS)
    return caught.value


# ---- RTF itself -------------------------------------------------------------------------------


def test_rtf_to_text_keeps_words_drops_markup() -> None:
    assert rtf_to_text(RTF_NOTE) == RTF_TEXT


def test_rtf_hyperlink_keeps_shown_text_and_drops_the_url() -> None:
    rtf = (
        r'{\rtf1\ansi See {\field{\*\fldinst{HYPERLINK "https://portal.example.org/p/88231"}}'
        r"{\fldrslt{\ul discharge instructions}}} today.\par}"
    )
    assert rtf_to_text(rtf) == "See discharge instructions today."


@pytest.mark.timeout(30)
def test_crafted_field_groups_do_not_stall_the_reader() -> None:
    # striprtf's own hyperlink regex needs about 90 s for this (66 KB); a worker must not stall.
    crafted = "{\\rtf1 Plan: rest.\\par " + '{\\field{\\*\\fldinst{HYPERLINK "x" ' * 2000 + "}"
    assert rtf_to_text(crafted) == "Plan: rest."


def test_rtf_table_rows_become_lines_of_cells() -> None:
    rtf = r"{\rtf1\ansi\trowd\cellx1000\cellx2000 Na\cell 138\cell\row\trowd Cr\cell 1.1\cell\row}"
    assert rtf_to_text(rtf) == "Na | 138\nCr | 1.1"


def test_font_charsets_decide_how_bytes_decode() -> None:
    rtf = (
        r"{\rtf1\ansi{\fonttbl{\f0\fswiss\fcharset0 Arial;}{\f1\froman\fcharset204 Times;}}"
        r"\f1\'c0\'e1 \f0 caf\'e9\par}"
    )
    assert rtf_to_text(rtf) == "Аб café"


@pytest.mark.timeout(30)
def test_malformed_font_table_does_not_stall_the_reader() -> None:
    # Many fonts, one late \fcharset, no ';': striprtf's font regex took 3.8 s on these 2.4 KB
    # and grows with the cube of the table.
    crafted = (
        r"{\rtf1 Plan: rest.\par {\fonttbl" + r"\f0 " * 100 + r"\fcharset0 " + "a" * 2000 + "}}"
    )
    assert rtf_to_text(crafted) == "Plan: rest."


def test_unreadable_rtf_is_an_ingest_error() -> None:
    with pytest.raises(IngestError) as caught:
        rtf_to_text(r"{\rtf1 pain \u9999999999? today}")
    assert caught.value.code == "invalid_rtf"


# ---- FHIR attachments -------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/rtf", "application/rtf", "text/rtf; charset=utf-8"])
def test_fhir_rtf_attachment_is_read_as_text(content_type: str) -> None:
    note = one(doc_ref({"contentType": content_type, "data": b64(RTF_NOTE)}))
    assert note.text == RTF_TEXT


def test_fhir_rtf_labelled_text_plain_is_still_rtf() -> None:
    note = one(doc_ref({"contentType": "text/plain", "data": b64(RTF_NOTE)}))
    assert note.text == RTF_TEXT


def test_fhir_plain_attachment_is_preferred_over_rtf() -> None:
    note = one(
        doc_ref(
            {"contentType": "text/rtf", "data": b64(r"{\rtf1 rtf copy\par}")},
            {"contentType": "text/plain", "data": b64("plain copy")},
        )
    )
    assert note.text == "plain copy"


def test_fhir_rtf_with_raw_windows_1252_bytes_and_no_charset() -> None:
    raw = r"{\rtf1\ansi Caf".encode("ascii") + b"\xe9 au lait, no \x96 rash\\par}"
    note = one(doc_ref({"contentType": "text/rtf", "data": b64(raw)}))
    assert note.text == "Café au lait, no – rash"


def test_fhir_plain_text_with_bad_bytes_is_still_an_error() -> None:
    raw = b"caf\xe9"
    assert error(doc_ref({"contentType": "text/plain", "data": b64(raw)})).code == "not_utf8"


def test_fhir_bad_rtf_goes_to_the_dead_letter_topic() -> None:
    bad = r"{\rtf1 pain \u9999999999? today}"
    assert error(doc_ref({"contentType": "text/rtf", "data": b64(bad)})).code == "invalid_rtf"


# ---- HL7 v2 encapsulated data and RTF in TX ----------------------------------------------------


def test_hl7_ed_rtf_base64_is_the_note() -> None:
    note = one(hl7(f"OBX|1|ED|NOTE^Progress note^L||^TEXT^RTF^Base64^{b64(RTF_NOTE)}||||||F"))
    assert note.text == RTF_TEXT
    assert note.document_id == "DOC-9"


def test_hl7_ed_continued_over_several_obx_is_joined_before_decoding() -> None:
    data = b64(RTF_NOTE)
    cut = 41  # not a multiple of 4: neither half is valid base64 alone
    raw = hl7(
        f"OBX|1|ED|NOTE^Progress note^L|1|^application^rtf^Base64^{data[:cut]}||||||F",
        f"OBX|2|ED|NOTE^Progress note^L|1|^application^rtf^Base64^{data[cut:]}||||||F",
    )
    assert one(raw).text == RTF_TEXT


def test_hl7_ed_plain_text_and_html_beside_tx() -> None:
    raw = hl7(
        "OBX|1|TX|HPI^History^L||Cough for three days.||||||F",
        f"OBX|2|ED|ASSESS^Assessment^L||^TEXT^PLAIN^Base64^{b64('Viral bronchitis.')}||||||F",
        f"OBX|3|ED|PLAN^Plan^L||^TEXT^HTML^Base64^{b64('<p>Fluids</p><p>Rest</p>')}||||||F",
        "OBX|4|ED|NOTE2^Addendum^L||^TEXT^^A^No fever.\\.br\\Tolerating diet.||||||F",
    )
    assert one(raw).text == (
        "Cough for three days.\n\nViral bronchitis.\n\nFluids\n\nRest\n\nNo fever.\nTolerating diet."
    )


def test_hl7_ed_images_and_binary_data_are_still_not_notes() -> None:
    raw = hl7(
        "OBX|1|ED|IMG^Image^L||^IM^JPEG^Base64^VGhpcyBpcyBhIEJhc2U2NCBzdHJpbmc=||||||F",
        "OBX|2|ED|||App5^NS^Octet-stream^Base64^VGhpcyBpcyBhIEJhc2U2NCBzdHJpbmc=|",
    )
    assert parse_message(raw, SRC, SETTINGS) == []


def test_hl7_ed_bad_base64_and_unknown_encoding_are_dead_lettered() -> None:
    bad = hl7("OBX|1|ED|NOTE^Note^L||^TEXT^RTF^Base64^not*base64!||||||F")
    assert error(bad).code == "invalid_base64"
    odd = hl7("OBX|1|ED|NOTE^Note^L||^TEXT^PLAIN^UUENCODE^abc||||||F")
    assert error(odd).code == "hl7_bad_encoding"


def test_hl7_rtf_sent_as_tx_lines_is_read_as_rtf() -> None:
    # A conforming sender escapes RTF's backslashes as \E\ in ER7.
    lines = RTF_NOTE.replace("\\", "\\E\\").split("\n")
    obx = [f"OBX|{i}|TX|NOTE^Note^L|1|{line}||||||F" for i, line in enumerate(lines, start=1)]
    assert one(hl7(*obx)).text == RTF_TEXT


# ---- PDF ----------------------------------------------------------------------------------------


def make_pdf(*pages: list[str], compress: bool = False) -> bytes:
    """A PDF whose pages carry the given lines as a Helvetica text layer (as EMR print-outs do)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        fonts = DictionaryObject({NameObject("/F1"): font})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
        ops = " ".join(f"({line}) Tj 0 -14 Td" for line in lines)
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 11 Tf 72 720 Td {ops} ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        if compress:
            page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


SUMMARY_PDF = make_pdf(
    ["DISCHARGE SUMMARY", "Assessment: community-acquired pneumonia."],
    ["Plan: amoxicillin 500 mg TID. No rash after penicillin."],
    compress=True,
)
SUMMARY_TEXT = (
    "DISCHARGE SUMMARY\nAssessment: community-acquired pneumonia.\n\n"
    "Plan: amoxicillin 500 mg TID. No rash after penicillin."
)


def test_pdf_text_layer_is_the_note() -> None:
    assert pdf_to_text(SUMMARY_PDF) == SUMMARY_TEXT


def test_fhir_pdf_attachment_is_read_when_no_text_attachment_exists() -> None:
    note = one(doc_ref({"contentType": "application/pdf", "data": b64(SUMMARY_PDF)}))
    assert note.text == SUMMARY_TEXT
    both = one(
        doc_ref(
            {"contentType": "application/pdf", "data": b64(SUMMARY_PDF)},
            {"contentType": "text/plain", "data": b64("the plain copy")},
        )
    )
    assert both.text == "the plain copy"


def test_hl7_ed_pdf_is_read_and_an_empty_one_is_skipped() -> None:
    note = one(
        hl7(f"OBX|1|ED|DS^Discharge summary^L||^application^pdf^Base64^{b64(SUMMARY_PDF)}||||||F")
    )
    assert note.text == SUMMARY_TEXT
    # The shared MDM samples announce a PDF with no data: nothing to read, nothing lost.
    assert (
        parse_message(hl7("OBX|1|ED|DS^Echo^L||^application^pdf^Base64^||||||F"), SRC, SETTINGS)
        == []
    )


def test_scanned_broken_and_locked_pdfs_are_dead_lettered() -> None:
    from pypdf import PdfWriter

    scan = io.BytesIO()
    blank = PdfWriter()
    blank.add_blank_page(612, 792)  # no text layer, like a scanned page
    blank.write(scan)
    locked = io.BytesIO()
    secret = PdfWriter(clone_from=io.BytesIO(SUMMARY_PDF))
    secret.encrypt("open-sesame")
    secret.write(locked)
    cases = {
        "pdf_no_text": scan.getvalue(),
        "invalid_pdf": SUMMARY_PDF[: len(SUMMARY_PDF) // 2],
        "pdf_encrypted": locked.getvalue(),
    }
    for code, raw in cases.items():
        assert error(doc_ref({"contentType": "application/pdf", "data": b64(raw)})).code == code


def test_pypdf_warnings_never_reach_the_log(tmp_path: Path) -> None:
    # pypdf's warnings quote the bytes they stumble on: here "Mr Smith." of a broken text stream.
    leaky = make_pdf(["Assessment: pneumonia in Mr Smith."]).replace(
        b"Tj 0 -14 Td", b"Tj 0 -1<<4 Td"
    )
    path = tmp_path / "leaky.pdf"
    path.write_bytes(leaky)
    script = (
        "import sys\n"
        "from streamproc.logging import setup_logging\n"
        "if sys.argv[2] == 'configured': setup_logging()\n"
        "from streamproc.ingest.text import pdf_to_text\n"
        "try:\n"
        "    pdf_to_text(open(sys.argv[1], 'rb').read())\n"
        "except Exception as err:\n"
        "    print(type(err).__name__)\n"
    )

    def run(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, str(path), mode],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stderr

    assert "Smith" in run("bare")  # Python's last-resort handler prints pypdf's warning
    assert "Smith" not in run("configured")  # the project's logging silences pypdf


def test_hl7_pdf_must_be_encoded() -> None:
    raw = hl7("OBX|1|ED|DS^Summary^L||^application^pdf^A^%PDF-1.4 text||||||F")
    assert error(raw).code == "hl7_bad_encoding"


# ---- FHIR Binary in the same Bundle -------------------------------------------------------------


def bundle(*entries: dict) -> bytes:
    return json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": list(entries)}
    ).encode()


def reference_doc(url: str, content_type: str | None = "text/rtf") -> dict:
    attachment = {"url": url} | ({"contentType": content_type} if content_type else {})
    return {
        "fullUrl": "urn:uuid:7d2b1f0e-0000-4000-8000-000000000001",
        "resource": {
            "resourceType": "DocumentReference",
            "id": "doc-by-url",
            "status": "current",
            "subject": {"reference": "Patient/p-1"},
            "content": [{"attachment": attachment}],
        },
    }


def binary(rid: str, content_type: str, data: bytes, full_url: str | None = None) -> dict:
    entry: dict = {
        "resource": {
            "resourceType": "Binary",
            "id": rid,
            "contentType": content_type,
            "data": b64(data),
        }
    }
    if full_url:
        entry["fullUrl"] = full_url
    return entry


@pytest.mark.parametrize(
    "url",
    [
        "Binary/rtf-1",  # relative reference
        "https://ehr.example.org/fhir/R4/Binary/rtf-1",  # absolute, same id
        "urn:uuid:0b0b0b0b-0000-4000-8000-000000000002",  # the entry's fullUrl
    ],
)
def test_attachment_url_is_read_from_a_binary_of_the_same_bundle(url: str) -> None:
    raw = bundle(
        reference_doc(url),
        binary(
            "rtf-1", "text/rtf", RTF_NOTE.encode(), "urn:uuid:0b0b0b0b-0000-4000-8000-000000000002"
        ),
    )
    assert one(raw).text == RTF_TEXT


def test_binary_content_type_is_used_when_the_attachment_has_none() -> None:
    raw = bundle(
        reference_doc("Binary/pdf-1", None), binary("pdf-1", "application/pdf", SUMMARY_PDF)
    )
    assert one(raw).text == SUMMARY_TEXT


def test_unresolved_url_and_bad_binary_are_dead_lettered() -> None:
    missing = bundle(reference_doc("Binary/elsewhere"), binary("rtf-1", "text/rtf", b"x"))
    assert error(missing).code == "attachment_url_unsupported"
    broken = json.loads(bundle(reference_doc("Binary/rtf-1"), binary("rtf-1", "text/rtf", b"x")))
    broken["entry"][1]["resource"]["data"] = "not*base64!"
    assert error(json.dumps(broken).encode()).code == "invalid_base64"


def test_a_binary_no_attachment_uses_is_not_read() -> None:
    # Like any entry no note needs: a broken image in the Bundle does not lose its note.
    raw = json.loads(
        bundle(reference_doc("Binary/rtf-1"), binary("rtf-1", "text/rtf", RTF_NOTE.encode()))
    )
    raw["entry"].append(binary("img-9", "image/jpeg", b"x"))
    raw["entry"][-1]["resource"]["data"] = "not*base64!"
    assert one(json.dumps(raw).encode()).text == RTF_TEXT
