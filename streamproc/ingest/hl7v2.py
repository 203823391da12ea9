"""HL7 v2 ER7 reader: MDM (TXA + OBX text) and ORU^R01 (OBR + OBX text) into ``NoteEvent``s.

A small purpose-built tokenizer is used instead of ``hl7.parse``: it must be total (every
malformed input becomes an ``IngestError``, never an ``IndexError``), must validate truncated
``MSH`` headers, and must unescape without logging field values (``hl7.unescape`` logs the field
it fails on, which would put note text in the logs) and with ``\\.br\\`` as a newline.

Decisions (see docs/ingest.md):

* segment ends ``\\r``, ``\\n`` and ``\\r\\n`` are all accepted; blank lines are ignored;
* a payload with several ``MSH`` segments (a batch file, ``FHS``/``BHS`` wrappers dropped) is read
  as several messages, all decoded with the character set of the first ``MSH``;
* MDM: one note per message (the TXA document) built from every TX/FT/ST ``OBX``;
* ORU: one note per ``OBR`` group that has TX/FT/ST ``OBX`` text (``OBX`` before any ``OBR``
  form group 0);
* consecutive ``OBX`` with the same observation id (``OBX-3``) and sub-id (``OBX-4``) are lines of
  one observation and are joined with ``\\n``; a new observation starts a new paragraph (``\\n\\n``);
  repetitions inside ``OBX-5`` are lines too.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from streamproc.config import Settings
from streamproc.ingest.errors import IngestError
from streamproc.ingest.patient import PatientIdentifier, PatientKey, choose_patient
from streamproc.ingest.text import (
    HTML_MEDIA_TYPES,
    PDF_MEDIA_TYPE,
    PLAIN_MEDIA_TYPE,
    RTF_MEDIA_TYPES,
    body_to_text,
    check_text_size,
    decode_body,
    normalize_newlines,
    pdf_to_text,
    stable_id,
)
from streamproc.records import Coding, NoteEvent, SourceRef, sha256_hex

log = logging.getLogger(__name__)

Segment = list[str]  # index n is field n for every segment, MSH included (MSH-1 at index 1)

MDM_TRIGGERS = frozenset(
    {"T01", "T02", "T03", "T04", "T05", "T06", "T07", "T08", "T09", "T10", "T11"}
)
CANCEL_TRIGGER = "T11"  # document cancel notification
REPLACEMENT_TRIGGERS = frozenset({"T09", "T10"})  # TXA-13 names the document replaced
CANCELED = "CA"  # TXA-19 document availability status
WITHDRAWN_RESULT_STATUSES = frozenset({"W", "D"})  # OBX-11: posted as wrong, deleted
ORU_TRIGGERS = frozenset({"R01", ""})
TEXT_VALUE_TYPES = frozenset({"TX", "FT", "ST"})
ENCAPSULATED_VALUE_TYPE = "ED"
MIN_OBX_FIELDS = 5
MAX_ESCAPE_REPEAT = 100  # cap for \.spN\ / \.skN\ so a tiny escape cannot blow up the text

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_WHITESPACE = re.compile(r"\s+")
_BATCH_SEGMENTS = frozenset({"FHS", "FTS", "BHS", "BTS"})
_TS = re.compile(
    r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?(?:([+-])(\d{2})(\d{2}))?"
)

# MSH-18 (HL7 table 0211) -> Python codec. ASCII is read as UTF-8, its superset: senders that
# declare ASCII and send UTF-8 are common, and nothing is lost by accepting them.
HL7_CHARSETS: dict[str, str] = {
    "ASCII": "utf-8",
    "ISO IR6": "utf-8",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "ISO IR192": "utf-8",
    "8859/1": "iso8859-1",
    "8859/2": "iso8859-2",
    "8859/3": "iso8859-3",
    "8859/4": "iso8859-4",
    "8859/5": "iso8859-5",
    "8859/6": "iso8859-6",
    "8859/7": "iso8859-7",
    "8859/8": "iso8859-8",
    "8859/9": "iso8859-9",
    "8859/15": "iso8859-15",
    "ISO IR100": "iso8859-1",
    "ISO IR101": "iso8859-2",
    "ISO IR109": "iso8859-3",
    "ISO IR110": "iso8859-4",
    "ISO IR144": "iso8859-5",
    "ISO IR127": "iso8859-6",
    "ISO IR126": "iso8859-7",
    "ISO IR138": "iso8859-8",
    "ISO IR148": "iso8859-9",
    "ISO IR14": "shift_jis",
    "GB 18030-2000": "gb18030",
    "KS X 1001": "euc_kr",
    "BIG-5": "big5",
    "WINDOWS-1252": "cp1252",
}

# HL7 table 0396 coding-system names -> FHIR system URIs for the few that matter here.
_CODING_SYSTEMS: dict[str, str] = {
    "LN": "http://loinc.org",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "DCM": "http://dicom.nema.org/resources/ontology/DCM",
    "I9C": "http://hl7.org/fhir/sid/icd-9-cm",
    "I9CM": "http://hl7.org/fhir/sid/icd-9-cm",
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "I10C": "http://hl7.org/fhir/sid/icd-10-cm",
    "C4": "http://www.ama-assn.org/go/cpt",
    "CPT4": "http://www.ama-assn.org/go/cpt",
}
LOINC = "http://loinc.org"
DOCUMENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0270"
LOCAL_SYSTEM = "urn:hl7v2:local"


@dataclass(frozen=True)
class Delimiters:
    field: str
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""


# ---- bytes -> text ------------------------------------------------------------------------


def declared_charset(data: bytes) -> str:
    """MSH-18's first repetition, read from the raw bytes (the MSH segment is ASCII-safe)."""
    end = len(data)
    for terminator in (b"\r", b"\n"):
        pos = data.find(terminator)
        if pos != -1:
            end = min(end, pos)
    header = data[:end]
    if len(header) < 4:
        return ""
    parts = header.split(header[3:4])
    if len(parts) < 18:
        return ""
    rep = parts[1][1:2] or b"~"
    value = parts[17].split(rep)[0]
    return " ".join(value.decode("ascii", errors="replace").upper().split())


def decode_hl7(data: bytes) -> str:
    """Decode with MSH-18's character set; without one, strictly as UTF-8."""
    name = declared_charset(data)
    if not name:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise IngestError(
                "not_utf8",
                f"message is not valid UTF-8 (byte offset {err.start}) and MSH-18 declares "
                "no character set",
            ) from None
    codec = HL7_CHARSETS.get(name)
    if codec is None:
        raise IngestError("unsupported_charset", f"MSH-18 character set {name!r} is not supported")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        raise IngestError(
            "charset_mismatch",
            f"bytes at offset {err.start} are not valid {name} as declared in MSH-18",
        ) from None


# ---- tokenizer ----------------------------------------------------------------------------


def _delimiters(msh_line: str) -> Delimiters:
    """Delimiters from MSH-1/MSH-2, validated: a truncated header is malformed, not guessed."""
    if len(msh_line) < 8:
        raise IngestError("hl7_malformed", "MSH segment is truncated before its delimiters")
    fs = msh_line[3]
    if fs.isalnum() or fs.isspace():
        raise IngestError("hl7_malformed", "MSH-1 field separator is missing or invalid")
    end = msh_line.find(fs, 4)
    enc = msh_line[4:] if end == -1 else msh_line[4:end]
    if not 2 <= len(enc) <= 5 or len(set(enc + fs)) != len(enc) + 1:
        raise IngestError("hl7_malformed", "MSH-2 encoding characters are missing or repeated")
    if any(c.isalnum() or c.isspace() for c in enc):
        raise IngestError("hl7_malformed", "MSH-2 encoding characters are invalid")
    return Delimiters(
        field=fs,
        component=enc[0],
        repetition=enc[1],
        escape=enc[2] if len(enc) > 2 else "",
        subcomponent=enc[3] if len(enc) > 3 else "&",
        truncation=enc[4] if len(enc) > 4 else "",
    )


def split_messages(text: str) -> list[list[str]]:
    """Segment lines grouped per message (one group per MSH); batch envelopes dropped."""
    lines = [line for line in normalize_newlines(text).split("\n") if line.strip()]
    lines = [line for line in lines if line[:3] not in _BATCH_SEGMENTS]
    if not lines:
        raise IngestError("hl7_no_msh", "batch envelope holds no message")
    if not lines[0].startswith("MSH"):
        raise IngestError("hl7_no_msh", "message does not start with an MSH segment")
    messages: list[list[str]] = []
    for line in lines:
        if line.startswith("MSH"):
            messages.append([])
        messages[-1].append(line)
    return messages


def tokenize(lines: list[str]) -> tuple[Delimiters, list[Segment]]:
    delims = _delimiters(lines[0])
    segments: list[Segment] = []
    for n, line in enumerate(lines, start=1):
        if line.startswith("MSH"):
            seg = ["MSH", delims.field, *line[4:].split(delims.field)]
        else:
            seg = line.split(delims.field)
        if not _SEGMENT_ID.fullmatch(seg[0]):
            raise IngestError("hl7_malformed", f"segment #{n} has an invalid segment id")
        segments.append(seg)
    return delims, segments


# ---- field access -------------------------------------------------------------------------


def unescape(value: str, d: Delimiters, codec: str = "utf-8") -> str:
    """Resolve HL7 escape sequences; formatting ones become whitespace, unknown ones vanish."""
    esc = d.escape
    if not esc or esc not in value:
        return value
    out: list[str] = []
    i, n = 0, len(value)
    while i < n:
        j = value.find(esc, i)
        if j == -1:
            out.append(value[i:])
            break
        out.append(value[i:j])
        end = value.find(esc, j + 1)
        if end == -1:  # unterminated: keep it literally rather than lose text
            out.append(value[j:])
            break
        out.append(_expand(value[j + 1 : end], d, codec))
        i = end + 1
    return "".join(out)


def _count(arg: str) -> int:
    arg = arg.strip().lstrip("+")
    return min(int(arg), MAX_ESCAPE_REPEAT) if arg.isdigit() else 1


def _expand(seq: str, d: Delimiters, codec: str) -> str:
    simple = {
        "F": d.field,
        "S": d.component,
        "T": d.subcomponent,
        "R": d.repetition,
        "E": d.escape,
        "P": d.truncation,
        "H": "",
        "N": "",
    }
    if seq in simple:
        return simple[seq]
    if seq.startswith("X"):
        hexdigits = seq[1:]
        try:
            return bytes.fromhex(hexdigits).decode(codec, errors="replace")
        except ValueError:
            return ""
    if seq.startswith(".br") or seq.startswith(".ce"):
        return "\n"
    if seq.startswith(".sp"):
        return "\n" * _count(seq[3:])
    if seq.startswith(".sk"):
        return " " * _count(seq[3:])
    return ""  # .in .ti .fi .nf, \Cxxyy\, \Mxxyyzz\, \Zxx\ and unknown sequences


def raw_field(seg: Segment, n: int) -> str:
    return seg[n] if n < len(seg) else ""


def component(seg: Segment, n: int, d: Delimiters, comp: int = 1, rep: int = 1) -> str:
    """Unescaped component ``comp`` of repetition ``rep`` of field ``n`` (all 1-based)."""
    reps = raw_field(seg, n).split(d.repetition)
    if rep > len(reps):
        return ""
    comps = reps[rep - 1].split(d.component)
    if comp > len(comps):
        return ""
    return unescape(comps[comp - 1].split(d.subcomponent)[0], d).strip()


def parse_ts(value: str) -> datetime | None:
    """HL7 TS/DTM -> datetime; timezone-aware when the value carries an offset."""
    m = _TS.fullmatch(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, frac, sign, tzh, tzm = m.groups()
    try:
        tz = None
        if sign:
            offset = timedelta(hours=int(tzh), minutes=int(tzm))
            tz = timezone(-offset if sign == "-" else offset)
        return datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((frac or "0").ljust(6, "0")[:6]),
            tzinfo=tz,
        )
    except ValueError:
        return None


def coding(seg: Segment | None, n: int, d: Delimiters, default_system: str) -> Coding | None:
    """CWE/CE -> Coding, preferring the LOINC triplet when the alternate one is LOINC."""
    if seg is None:
        return None
    triplets = [
        (component(seg, n, d, 1), component(seg, n, d, 2), component(seg, n, d, 3)),
        (component(seg, n, d, 4), component(seg, n, d, 5), component(seg, n, d, 6)),
    ]
    triplets = [t for t in triplets if t[0]]
    if not triplets:
        return None
    code, display, system = next((t for t in triplets if t[2].upper() == "LN"), triplets[0])
    if system:
        uri = _CODING_SYSTEMS.get(system.upper())
        if uri is None:
            uri = f"{LOCAL_SYSTEM}:{system}"
    else:
        uri = default_system
    return Coding(system=uri, code=code, display=display or None)


def _pick_note_type(candidates: list[Coding | None]) -> Coding | None:
    present = [c for c in candidates if c is not None]
    return next((c for c in present if c.system == LOINC), present[0] if present else None)


# ---- messages -----------------------------------------------------------------------------


@dataclass
class _Group:
    index: int
    obr: Segment | None
    pid: Segment | None
    pv1: Segment | None
    obx: list[Segment] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    delims: Delimiters
    codec: str
    source: SourceRef
    settings: Settings
    msh: Segment
    message_type: str


def _check_obx(seg: Segment, n: int) -> None:
    fields = len(seg) - 1
    if fields < MIN_OBX_FIELDS:
        raise IngestError(
            "hl7_bad_segment",
            f"OBX segment #{n} has {fields} fields; at least {MIN_OBX_FIELDS} (OBX-5 value) needed",
        )


def _ed_media(seg: Segment, d: Delimiters) -> str | None:
    """Media type of an encapsulated-data OBX we read (RTF, HTML, plain, PDF); None for images
    and other binary data."""
    kind = component(seg, 5, d, 2).lower()
    subtype = component(seg, 5, d, 3).lower().rpartition("/")[2].removeprefix("x-")
    if subtype == "rtf":
        return RTF_MEDIA_TYPES[0]
    if subtype == "pdf":
        return PDF_MEDIA_TYPE
    if subtype in ("html", "xhtml", "xhtml+xml"):
        return HTML_MEDIA_TYPES[0]
    if subtype in ("plain", "txt", "text") or (kind in ("text", "tx") and not subtype):
        return PLAIN_MEDIA_TYPE
    return None


def _text_kind(seg: Segment, d: Delimiters) -> str | None:
    """``"text"`` for TX/FT/ST, the media type for textual ED, None for every other OBX."""
    value_type = component(seg, 2, d).upper()
    if value_type in TEXT_VALUE_TYPES:
        return "text"
    if value_type == ENCAPSULATED_VALUE_TYPE:
        return _ed_media(seg, d)
    return None


def _ed_data(seg: Segment, d: Delimiters) -> tuple[str, str]:
    """(encoding, data) of an ED value; a data part holding stray ``^`` is kept whole."""
    comps = raw_field(seg, 5).split(d.repetition)[0].split(d.component)
    encoding = unescape(comps[3], d).strip().upper() if len(comps) > 3 else ""
    return encoding, d.component.join(comps[4:])


def _encapsulated_text(segs: list[Segment], media: str, where: str, ctx: _Context) -> str:
    """One ED observation (its data may continue over several OBX) -> note text."""
    d = ctx.delims
    encoding = _ed_data(segs[0], d)[0]
    data = "".join(_ed_data(seg, d)[1] for seg in segs)
    if not data.strip():
        return ""  # a document announced without content (the shared samples' empty PDFs)
    if encoding in ("", "A") and media == PDF_MEDIA_TYPE:
        raise IngestError("hl7_bad_encoding", f"{where}: a PDF must be sent as Base64 or Hex")
    if encoding in ("", "A"):
        return body_to_text(unescape(data, d, ctx.codec), media)
    packed = _WHITESPACE.sub("", unescape(data, d))
    try:
        if encoding == "BASE64":
            raw = base64.b64decode(packed, validate=True)
        elif encoding == "HEX":
            raw = bytes.fromhex(packed)
        else:
            raise IngestError(
                "hl7_bad_encoding",
                f"{where}: ED encoding {encoding[:20]!r} is not A, Hex or Base64",
            )
    except (binascii.Error, ValueError):
        raise IngestError(
            "invalid_base64" if encoding == "BASE64" else "hl7_bad_encoding",
            f"{where}: ED data is not valid {encoding.title()}",
        ) from None
    if media == PDF_MEDIA_TYPE:
        return pdf_to_text(raw)
    # MSH-18 names the message's character set; bytes under an unset one are read as UTF-8
    # (RTF falls back to its own default, Windows-1252).
    charset = None if ctx.codec == "utf-8" else ctx.codec
    return body_to_text(decode_body(raw, charset, where, media=media), media)


def _text_of(obx: list[Segment], ctx: _Context) -> str:
    """Note text of a document's OBX: each observation's text, a blank line between them.

    An observation is a run of consecutive text OBX with the same OBX-3 and OBX-4 (lines of
    one text, or the continued data of one ED value). TX/FT/ST lines that together are an RTF
    document (senders put RTF in TX as well) are read as RTF.
    """
    d = ctx.delims
    runs: list[tuple[tuple[str, str], str, list[Segment]]] = []
    for seg in obx:
        kind = _text_kind(seg, d)
        if kind is None:
            continue
        key = (raw_field(seg, 3), raw_field(seg, 4))
        if runs and runs[-1][0] == key and runs[-1][1] == kind:
            runs[-1][2].append(seg)
        else:
            runs.append((key, kind, [seg]))
    texts: list[str] = []
    for n, (_, kind, segs) in enumerate(runs, start=1):
        if kind == "text":
            lines = [
                unescape(r, d, ctx.codec)
                for seg in segs
                for r in raw_field(seg, 5).split(d.repetition)
            ]
            text = body_to_text("\n".join(lines), PLAIN_MEDIA_TYPE)
        else:
            text = _encapsulated_text(segs, kind, f"OBX observation {n} (ED)", ctx)
        texts.append(text)
    text = normalize_newlines("\n\n".join(t for t in texts if t.strip())).strip("\n")
    return text if text.strip() else ""


def _authority(cx: str, d: Delimiters) -> tuple[str, ...]:
    """Names of a CX value's assigning authority (CX.4, an HD ``namespace&universal-id&type``):
    namespace id, universal id, and ``urn:oid:<universal id>`` when its type is ISO."""
    comps = cx.split(d.component)
    hd = [unescape(p, d).strip() for p in comps[3].split(d.subcomponent)] if len(comps) > 3 else []
    systems = [p for p in hd[:2] if p]
    if len(hd) > 2 and hd[1] and hd[2].upper() == "ISO":
        systems.append(f"urn:oid:{hd[1]}")
    return tuple(systems)


def _patient_identifiers(pid: Segment, d: Delimiters) -> list[PatientIdentifier]:
    """PID-3 (all repetitions: CX.1 value, CX.4 authority, CX.5 type), else the legacy PID-2."""
    for n in (3, 2):
        found = [
            PatientIdentifier(value, _authority(cx, d), component(pid, n, d, 5, rep))
            for rep, cx in enumerate(raw_field(pid, n).split(d.repetition), start=1)
            if (value := component(pid, n, d, 1, rep))
        ]
        if found:
            return found
    return []


def _refs(
    pid: Segment | None, pv1: Segment | None, ctx: _Context
) -> tuple[PatientKey | None, str | None, str | None]:
    """Patient, encounter reference, and the visit number's assigning authority (PV1-19.4)."""
    d = ctx.delims
    patient = None
    if pid is not None:
        policy = ctx.settings.patient_identity
        patient = choose_patient(_patient_identifiers(pid, d), None, policy)
    encounter = authority = None
    if pv1 is not None:
        visit = component(pv1, 19, d)
        if visit:
            encounter = f"Encounter/{visit}"
            names = _authority(raw_field(pv1, 19).split(d.repetition)[0], d)
            authority = names[0] if names else None
    return patient, encounter, authority


def _note(
    ctx: _Context,
    text: str,
    document_id: str | None,
    index: int,
    pid: Segment | None,
    pv1: Segment | None,
    note_type: Coding | None,
    authored: datetime | None,
    *,
    retracted: bool = False,
    replaces: str | None = None,
) -> NoteEvent:
    check_text_size(text, ctx.settings)
    content_hash = sha256_hex(text)
    facility = raw_field(ctx.msh, 4)
    control_id = component(ctx.msh, 10, ctx.delims)
    # Without a control id or document id, the content is the only stable identity left.
    fallback = content_hash if not (control_id or document_id) else None
    patient, encounter, visit_authority = _refs(pid, pv1, ctx)
    # Document and visit numbers are unique within the sending facility (MSH-4) unless the visit
    # number names its own authority: two hospitals both number visits from 1.
    facility_name = component(ctx.msh, 4, ctx.delims) or None
    return NoteEvent(
        event_id=stable_id("hl7v2", facility, control_id, document_id, index, fallback),
        source=ctx.source,
        message_format="hl7v2",
        message_type=ctx.message_type,
        document_status="entered-in-error" if retracted else "current",
        replaces=replaces or None,
        document_id=document_id or None,
        document_namespace=facility_name,
        patient_ref=patient.ref if patient else None,
        patient_namespace=patient.namespace if patient else None,
        encounter_ref=encounter,
        encounter_namespace=(visit_authority or facility_name) if encounter else None,
        note_type=note_type,
        authored=authored,
        text=text,
        content_hash=content_hash,
    )


def _first_ts(*candidates: tuple[Segment | None, int], d: Delimiters) -> datetime | None:
    for seg, n in candidates:
        if seg is not None:
            value = component(seg, n, d)
            if value:
                parsed = parse_ts(value)
                if parsed is not None:
                    return parsed
    return None


def _mdm(segments: list[Segment], ctx: _Context) -> list[NoteEvent]:
    d = ctx.delims
    first: dict[str, Segment] = {}
    obx: list[Segment] = []
    for n, seg in enumerate(segments, start=1):
        first.setdefault(seg[0], seg)
        if seg[0] == "OBX":
            _check_obx(seg, n)
            obx.append(seg)
    txa, obr = first.get("TXA"), first.get("OBR")
    document_id = component(txa, 12, d) if txa is not None else ""
    trigger = ctx.message_type.partition("^")[2]
    if trigger == CANCEL_TRIGGER or (txa is not None and component(txa, 19, d).upper() == CANCELED):
        if not document_id:
            log.info("hl7 cancel names no document", extra={"message_type": ctx.message_type})
            return []
        authored = _first_ts((txa, 4), (ctx.msh, 7), d=d)
        pid, pv1 = first.get("PID"), first.get("PV1")
        return [_note(ctx, "", document_id, 0, pid, pv1, None, authored, retracted=True)]
    text = _text_of(obx, ctx)
    if not text:
        return []
    first_text_obx = next((s for s in obx if _text_kind(s, d) is not None), None)
    note_type = _pick_note_type(
        [
            coding(txa, 2, d, DOCUMENT_TYPE_SYSTEM),
            coding(obr, 4, d, LOCAL_SYSTEM),
            coding(first_text_obx, 3, d, LOCAL_SYSTEM),
        ]
    )
    authored = _first_ts((txa, 4), (txa, 6), (obr, 7), (ctx.msh, 7), d=d)
    replaces = component(txa, 13, d) if txa is not None and trigger in REPLACEMENT_TRIGGERS else ""
    pid, pv1 = first.get("PID"), first.get("PV1")
    return [_note(ctx, text, document_id, 0, pid, pv1, note_type, authored, replaces=replaces)]


def _oru(segments: list[Segment], ctx: _Context) -> list[NoteEvent]:
    d = ctx.delims
    groups: list[_Group] = []
    obr_count = 0
    pid: Segment | None = None
    pv1: Segment | None = None
    for n, seg in enumerate(segments, start=1):
        sid = seg[0]
        if sid == "PID":
            pid, pv1 = seg, None
        elif sid == "PV1":
            pv1 = seg
        elif sid == "OBR":
            obr_count += 1
            groups.append(_Group(index=obr_count, obr=seg, pid=pid, pv1=pv1))
        elif sid == "OBX":
            _check_obx(seg, n)
            if not groups:
                groups.append(_Group(index=0, obr=None, pid=pid, pv1=pv1))
            groups[-1].obx.append(seg)
    notes: list[NoteEvent] = []
    for group in groups:
        document_id = ""
        if group.obr is not None:
            document_id = component(group.obr, 3, d) or component(group.obr, 2, d)
        authored = _first_ts((group.obr, 7), (ctx.msh, 7), d=d)
        if document_id and _withdrawn_results(group, d):
            notes.append(
                _note(
                    ctx,
                    "",
                    document_id,
                    group.index,
                    group.pid,
                    group.pv1,
                    None,
                    authored,
                    retracted=True,
                )  # fmt: skip
            )
            continue
        text = _text_of(group.obx, ctx)
        if not text:
            continue
        first_text_obx = next((s for s in group.obx if _text_kind(s, d) is not None), None)
        note_type = _pick_note_type(
            [coding(group.obr, 4, d, LOCAL_SYSTEM), coding(first_text_obx, 3, d, LOCAL_SYSTEM)]
        )
        notes.append(
            _note(ctx, text, document_id, group.index, group.pid, group.pv1, note_type, authored)
        )
    return notes


def _withdrawn_results(group: _Group, d: Delimiters) -> bool:
    """The sender takes a report back: the order was cancelled (OBR-25 ``X``), or every text
    OBX of it is posted as wrong (OBX-11 ``W``: the original was wrong, e.g. the wrong patient)
    or deleted (``D``). A corrected report (``C``) is a new version of the same document."""
    if group.obr is not None and component(group.obr, 25, d).upper() == "X":
        return True
    statuses = {component(s, 11, d).upper() for s in group.obx if _text_kind(s, d) is not None}
    return bool(statuses) and statuses <= WITHDRAWN_RESULT_STATUSES


def _message(
    lines: list[str], codec: str, source: SourceRef, settings: Settings
) -> list[NoteEvent]:
    delims, segments = tokenize(lines)
    msh = segments[0]
    code = component(msh, 9, delims, 1).upper()
    trigger = component(msh, 9, delims, 2).upper()
    if not code:
        raise IngestError("hl7_malformed", "MSH-9 message type is missing")
    message_type = f"{code}^{trigger}" if trigger else code
    ctx = _Context(delims, codec, source, settings, msh, message_type)
    if code == "MDM" and trigger in MDM_TRIGGERS:
        notes = _mdm(segments, ctx)
    elif code == "ORU" and trigger in ORU_TRIGGERS:
        notes = _oru(segments, ctx)
    else:
        log.info("hl7 message carries no note", extra={"message_type": message_type})
        return []
    if not notes:
        log.info("hl7 message has no text", extra={"message_type": message_type})
    return notes


def parse_hl7(data: bytes, source: SourceRef, settings: Settings) -> list[NoteEvent]:
    """ER7 bytes (framing already stripped) -> notes; [] for valid messages without text."""
    text = decode_hl7(data)
    codec = HL7_CHARSETS.get(declared_charset(data), "utf-8")
    notes: list[NoteEvent] = []
    for lines in split_messages(text):
        notes.extend(_message(lines, codec, source, settings))
    return notes
