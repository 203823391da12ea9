"""Entry point of ingest: size limit, framing, format sniffing, then the format's reader.

Order matters: the size limit is checked on the raw bytes before anything is decoded, so an
oversized message costs nothing; every failure is an ``IngestError`` whose message never holds
note text.
"""

from __future__ import annotations

import re

from streamproc.config import Settings
from streamproc.ingest.errors import IngestError
from streamproc.ingest.fhir_json import parse_fhir
from streamproc.ingest.hl7v2 import parse_hl7
from streamproc.records import NoteEvent, SourceRef

MLLP_START = b"\x0b"
MLLP_END = b"\x1c"
UTF8_BOM = b"\xef\xbb\xbf"
_FRAMING = b" \t\r\n\x0b\x1c\x00"
# Looks like ER7 segments, just not starting with MSH (a truncated message).
_SEGMENT_START = re.compile(rb"[A-Z][A-Z0-9]{2}\|")
_HL7_STARTS = (b"MSH", b"FHS", b"BHS")


def strip_framing(raw: bytes) -> bytes:
    """Remove MLLP start/end bytes, a UTF-8 BOM and surrounding whitespace."""
    data = raw.strip(_FRAMING)
    while data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :].strip(_FRAMING)
    return data


def sniff(data: bytes) -> str:
    """'hl7v2', 'fhir' or raise: decided from the first bytes only."""
    if data.startswith(_HL7_STARTS):
        return "hl7v2"
    if data[:1] in (b"{", b"["):
        return "fhir"
    if _SEGMENT_START.match(data):
        raise IngestError("hl7_no_msh", "HL7 segments without a leading MSH segment (truncated?)")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise IngestError(
            "not_utf8", f"message is not valid UTF-8 (byte offset {err.start}) nor a known format"
        ) from None
    raise IngestError("unknown_format", "message is neither HL7 v2 (starts with MSH) nor FHIR JSON")


def parse_message(raw: bytes, source: SourceRef, settings: Settings) -> list[NoteEvent]:
    """Raw message bytes -> canonical notes. [] means valid but no note (skipped)."""
    if len(raw) > settings.max_message_bytes:
        raise IngestError(
            "too_large",
            f"message is {len(raw)} bytes, over the limit of {settings.max_message_bytes}",
        )
    data = strip_framing(raw)
    if not data:
        raise IngestError("empty", "message is empty or only whitespace/framing bytes")
    if sniff(data) == "hl7v2":
        return parse_hl7(data, source, settings)
    return parse_fhir(data, source, settings)
