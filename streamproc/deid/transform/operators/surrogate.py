"""``surrogate`` (default): realistic, consistent fakes per PHI type.

* NAME: token by token, per patient ("Smith" -> "Jones" everywhere for that patient; initials
  stay initials, case and rough gender kept).
* DATE: shifted by the patient's offset, same format (see ``dateshift``).
* AGE: "90+".
* PHONE/ID/SSN/ZIP: format-preserving keyed fakes (same input -> same fake).
* EMAIL/URL/IP/ADDRESS/LOCATION: keyed picks from fake lists (same input -> same fake).
"""

from __future__ import annotations

import re
from datetime import date

from streamproc.deid.transform.dateshift import shift_text
from streamproc.deid.transform.fakes import FAKE_FACILITIES, format_preserving, match_case, rng_from
from streamproc.deid.transform.operators.base import Operator, OperatorContext
from streamproc.deid.types import (
    ADDRESS,
    AGE,
    DATE,
    DWELLING_UNIT,
    EMAIL,
    ID,
    IP,
    LOCATION,
    NAME,
    PHONE,
    SSN,
    URL,
    ZIP,
    PhiSpan,
)

_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’]*\.?|[A-Za-z]")
_UNIT_ALONE = re.compile(DWELLING_UNIT, re.I)
_STREETS = ("Oak", "Maple", "Cedar", "Elm", "Pine", "Birch", "Walnut", "Chestnut", "Willow",
            "Spruce", "Hickory", "Laurel", "Juniper", "Magnolia", "Sycamore")  # fmt: skip
_STREET_TYPES = ("Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place")
_CITIES = ("Millbrook", "Fairhaven", "Glenwood", "Ridgefield", "Harmony", "Bellport", "Easton Falls",
           "Cedar Hill", "Lakemont", "Springdale", "Oak Harbor", "Milford", "Clayton", "Ashland")  # fmt: skip


# between the dates of a span that lists several ("(2021, 2023)", "2019 and 2022")
_DATE_LIST_SEPARATOR = re.compile(r"(\s*(?:,|;|&|\band\b)\s*)")


def _shift_each(original: str, offset: int, written_on: date | None = None) -> str | None:
    """A span of several dates shifted date by date ("2021, 2023" had become "[DATE]", losing
    the episodes' years); None unless every piece is a date."""
    pieces = _DATE_LIST_SEPARATOR.split(original)
    if len(pieces) < 3:
        return None
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(piece)
            continue
        shifted = shift_text(piece, offset, written_on)
        if shifted is None:
            return None
        out.append(shifted)
    return "".join(out)


class SurrogateOperator(Operator):
    name = "surrogate"

    def operate(self, original: str, span: PhiSpan, ctx: OperatorContext) -> str:
        kind = span.entity_type
        cb = ctx.codebook
        if kind == NAME:
            return self._name(original, ctx)
        if kind == DATE:
            shifted = shift_text(original, ctx.date_offset, ctx.written_on) or _shift_each(
                original, ctx.date_offset, ctx.written_on
            )
            if shifted is None:
                return "[DATE]"
            cb.remember("date", shifted, original)
            return shifted
        if kind == AGE:
            return "90+"
        if kind in (PHONE, ID, SSN, ZIP):
            return cb.surrogate(kind, "", original, lambda d: format_preserving(original, d))
        if kind == EMAIL:
            return cb.surrogate(
                kind,
                "",
                original,
                lambda d: f"user{int.from_bytes(d[:4], 'big') % 100000}@example.org",
            )
        if kind == URL:
            return cb.surrogate(kind, "", original, lambda d: f"https://example.org/{d[:4].hex()}")
        if kind == IP:
            return cb.surrogate(kind, "", original, lambda d: f"10.{d[0]}.{d[1]}.{d[2] or 1}")
        if kind == ADDRESS:
            return cb.surrogate(kind, "", original, lambda d: self._address(original, d))
        if kind == LOCATION:
            return cb.surrogate(kind, "", original, lambda d: self._location(original, d))
        return cb.surrogate(kind, "", original, lambda d: format_preserving(original, d))

    def _name(self, original: str, ctx: OperatorContext) -> str:
        def repl(m: re.Match[str]) -> str:
            token = m.group(0)
            core = token.rstrip(".").lower()
            is_first = core in ctx.first_names or core in ctx.names.all_first
            return ctx.codebook.surrogate(
                "name",
                ctx.patient_key,
                token,
                lambda d: ctx.names.fake_token(token, d, is_first and len(core) > 1),
            )

        return _NAME_TOKEN.sub(repl, original)

    @staticmethod
    def _address(original: str, digest: bytes) -> str:
        rng = rng_from(digest)
        unit = _UNIT_ALONE.fullmatch(original.strip())
        if unit:  # "apt 214" -> "apt 87": a dwelling's number keeps its shape
            return f"{unit.group('unit_word')}{rng.randrange(1, 999)}"
        text = f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)} {rng.choice(_STREET_TYPES)}"
        return match_case(original, text) if original.isupper() else text

    @staticmethod
    def _location(original: str, digest: bytes) -> str:
        rng = rng_from(digest)
        pool = FAKE_FACILITIES if rng.random() < 0.5 else _CITIES
        pick = pool[rng.randrange(len(pool))]
        if pick.lower() == original.lower():
            pick = pool[(pool.index(pick) + 1) % len(pool)]
        if original.isupper():
            return pick.upper()
        if original.islower():
            return pick.lower()
        return pick
