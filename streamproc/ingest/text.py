"""Text helpers shared by the HL7 and FHIR readers: HTML to text, size checks, stable ids.

Kept free of format knowledge so both readers produce note text the same way.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from streamproc.config import Settings
from streamproc.ingest.errors import IngestError
from streamproc.records import sha256_hex

# Tags after which a line break keeps the document's visual structure.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """Collects visible text; block elements become line breaks, scripts/styles vanish."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li" and not self._skip_depth:
            self.parts.append("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            # Source line breaks inside a paragraph are layout, not content.
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def html_to_text(html: str) -> str:
    """Plain text of an HTML note: visible text, one line per block element, entities decoded."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


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
