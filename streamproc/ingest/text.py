"""Text helpers shared by the HL7 and FHIR readers: document bodies (plain, HTML, RTF, PDF) to
text, size checks, stable ids.

Kept free of format knowledge so both readers produce note text the same way.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from striprtf import striprtf

from streamproc.config import Settings
from streamproc.ingest.errors import IngestError
from streamproc.records import sha256_hex

# Block elements: paragraph-like ones leave a blank line, the others a line break.
_PARAGRAPH_TAGS = frozenset(
    {
        "article", "aside", "blockquote", "dl", "figure", "footer", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "main", "nav", "ol", "p", "pre", "section", "table", "ul",
    }
)  # fmt: skip
_LINE_TAGS = frozenset(
    {"address", "caption", "dd", "div", "dt", "fieldset", "figcaption", "form", "li", "tr"}
)
_CELL_TAGS = frozenset({"td", "th"})
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


class _TextExtractor(HTMLParser):
    """Collects visible text; block elements become line breaks, scripts/styles vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._pending = 0  # line breaks owed before the next text
        self._cell = False

    def _block(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._pending = max(self._pending, 2)
        elif tag in _LINE_TAGS:
            self._pending = max(self._pending, 1)
        elif tag in _CELL_TAGS:
            self._cell = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag == "br":
            self._pending = min(self._pending + 1, 2)
        else:
            self._block(tag)
            if tag == "li":
                self._emit("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._pending = min(self._pending + 1, 2)
        else:
            self._block(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        else:
            self._block(tag)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        # Source line breaks inside a paragraph are layout, not content.
        data = _SPACES.sub(" ", data.replace("\r", " ").replace("\n", " "))
        if data.strip():
            self._emit(data)
        elif self.parts and not self._pending:
            self.parts.append(" ")

    def _emit(self, text: str) -> None:
        if self.parts:
            if self._pending:
                self.parts.append("\n" * self._pending)
            elif self._cell:
                self.parts.append(" ")
        self._pending = 0
        self._cell = False
        self.parts.append(text)


def html_to_text(html: str) -> str:
    """Plain text of an HTML note: visible text, one line per block element, entities decoded."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n")]
    return "\n".join(lines).strip()


# Media types whose bodies become note text, best first (plain text needs no conversion).
PLAIN_MEDIA_TYPE = "text/plain"
HTML_MEDIA_TYPES = ("text/html", "application/xhtml+xml")
RTF_MEDIA_TYPES = ("text/rtf", "application/rtf")
PDF_MEDIA_TYPE = "application/pdf"  # read for its text layer; last, as the least faithful
TEXT_MEDIA_TYPES = (PLAIN_MEDIA_TYPE, *HTML_MEDIA_TYPES, *RTF_MEDIA_TYPES, PDF_MEDIA_TYPE)
MAX_PDF_PAGES = 200
RTF_DEFAULT_CODEC = "cp1252"  # RTF's own default (\ansicpg1252) for undeclared 8-bit bytes

_FIELD_INSTRUCTION = re.compile(r"\\fldinst\{")
_FONT_TABLE_START = re.compile(r"{[^{}]*\\fonttbl")  # where striprtf looks for it
_FONT_OR_CHARSET = re.compile(r"\\f(\d+)|\\fcharset(\d+)")
_BRACE = re.compile(r"[{}]")
_BLANK_RUNS = re.compile(r"\n{3,}")


def looks_like_rtf(text: str) -> bool:
    """RTF sent as if it were plain text (a TX OBX, a text/plain attachment) still starts so."""
    return text.lstrip("\ufeff \t\r\n").startswith("{\\rtf")


def _canonical_font_table(rtf: str) -> str:
    """The font table rewritten as ``{\\fN\\fcharsetM F;}`` entries, found in one linear scan.

    striprtf reads fonts with a regular expression whose time grows with the cube of a
    malformed table (a 2.6 KB one took 8 s); only each font's number and character set matter
    for the text (they decide how ``\\'xx`` bytes decode), so that is all that is kept.
    """
    start = _FONT_TABLE_START.search(rtf)
    if start is None:
        return rtf
    end, depth = len(rtf), 1
    for brace in _BRACE.finditer(rtf, start.end()):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            end = brace.end()
            break
    charsets: dict[str, str] = {}
    font: str | None = None
    for match in _FONT_OR_CHARSET.finditer(rtf, start.end(), end):
        if match.group(1) is not None:
            font = match.group(1)
            charsets.setdefault(font, "0")
        elif font is not None:
            charsets[font] = match.group(2)
    entries = "".join(f"{{\\f{f}\\fcharset{c} F;}}" for f, c in charsets.items())
    return f"{rtf[: start.start()]}{{\\fonttbl{entries}}}{rtf[end:]}"


def _tidy(text: str) -> str:
    """Converted text as notes are kept: LF line ends, no trailing blanks, at most one empty
    line in a row, no empty lines at either end."""
    lines = [line.rstrip() for line in normalize_newlines(text).split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")


def rtf_to_text(rtf: str) -> str:
    """Plain text of an RTF note: many EMRs keep notes as RTF and send them unchanged.

    ``striprtf`` does the reading, after two rewrites that keep a crafted note from stalling a
    worker: its hyperlink rewrite is a regular expression that backtracks for minutes on a
    crafted field group (66 KB took 90 s), so field instructions are made unmatchable
    (``\\fldinst {`` means the same in RTF: the link's shown text is kept and its URL, an
    identifier under HIPAA, is dropped); and the font table is put in a canonical form.
    """
    safe = _canonical_font_table(_FIELD_INSTRUCTION.sub(r"\\fldinst {", rtf))
    try:
        plain = striprtf.rtf_to_text(safe, encoding=RTF_DEFAULT_CODEC, errors="replace")
    except (ValueError, LookupError, OverflowError, TypeError, IndexError, KeyError) as err:
        # What striprtf raises on broken input (chr() of an out-of-range \uN, a control word
        # missing its number, a code page Python lacks); the message never quotes the text.
        raise IngestError(
            "invalid_rtf", f"RTF body could not be read ({type(err).__name__})"
        ) from None
    # striprtf ends every table cell with "|": "Na|138|" reads as "Na | 138".
    lines = [
        " | ".join(c.strip() for c in line.rstrip().rstrip("|").split("|")) if "|" in line else line
        for line in normalize_newlines(plain).split("\n")
    ]
    return _tidy("\n".join(lines))


def pdf_to_text(raw: bytes) -> str:
    """The text layer of a PDF note (EMRs print discharge summaries and reports to PDF).

    ``pypdf`` reads it, within its own limits on decompressed stream sizes; the message size
    limit bounds the input. A PDF with no text layer (a scan) is an error, not an empty note:
    it is a clinical document this worker cannot read, and the dead-letter topic keeps it.
    """
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError("pdf_encrypted", "PDF is encrypted with a password")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise IngestError(
                "too_large", f"PDF has {len(reader.pages)} pages, over the limit of {MAX_PDF_PAGES}"
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except IngestError:
        raise
    except Exception as err:  # any failure of the parser on untrusted bytes
        # pypdf raises its own errors but also ValueError, KeyError, TypeError... on broken files;
        # the message names the type only, never the document's content.
        raise IngestError("invalid_pdf", f"PDF could not be read ({type(err).__name__})") from None
    text = _tidy("\n\n".join(pages))
    if not text.strip():
        raise IngestError(
            "pdf_no_text", "PDF has no text layer (a scanned image?); OCR is not done"
        )
    return text


def decode_body(
    raw: bytes, charset: str | None, where: str, *, media: str = PLAIN_MEDIA_TYPE
) -> str:
    """Bytes of a document body -> str in its declared charset (UTF-8 when none is declared).

    An RTF body with no declared charset that is not UTF-8 is read as Windows-1252, RTF's own
    default; for other types undecodable bytes are an error, not a guess.
    """
    codec = charset or "utf-8"
    try:
        return raw.decode(codec).lstrip("\ufeff")
    except LookupError:
        raise IngestError(
            "unsupported_charset", f"{where}: charset {codec[:40]!r} is not supported"
        ) from None
    except UnicodeDecodeError as err:
        if charset is None and media in RTF_MEDIA_TYPES:
            return raw.decode(RTF_DEFAULT_CODEC, errors="replace")
        code = (
            "not_utf8"
            if codec.lower().replace("_", "-") in ("utf-8", "utf8")
            else "charset_mismatch"
        )
        raise IngestError(
            code, f"{where}: bytes at offset {err.start} are not valid {codec[:40]}"
        ) from None


def body_to_text(body: str, media: str) -> str:
    """Note text of a decoded body: HTML and RTF reduced to their text, newlines normalised.

    RTF is recognised by its header too, since senders label it text/plain often enough.
    """
    if media in RTF_MEDIA_TYPES or looks_like_rtf(body):
        return rtf_to_text(body)
    if media in HTML_MEDIA_TYPES:
        return html_to_text(body)
    return normalize_newlines(body)


def normalize_newlines(text: str) -> str:
    """CR LF and lone CR become LF so offsets mean the same whatever the sender used."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_text_size(text: str, settings: Settings) -> None:
    """A decoded note may not exceed the message size limit either (escapes, base64...)."""
    size = len(text.encode("utf-8"))
    if size > settings.max_message_bytes:
        raise IngestError(
            "too_large",
            f"decoded note text is {size} bytes, over the limit of {settings.max_message_bytes}",
        )


def stable_id(*parts: str | int | None) -> str:
    """Deterministic id from source identifiers: redelivery of a document gives the same id."""
    return sha256_hex("\x1f".join("" if p is None else str(p) for p in parts))[:32]
