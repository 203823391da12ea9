"""Text helpers shared by the HL7 and FHIR readers: HTML to text, size checks, stable ids.

Kept free of format knowledge so both readers produce note text the same way.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

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
