"""Burns by depth and site: "partial-thickness burns to the right forearm and hand".

Why: a burn's ICD-10-CM code says its depth (first / second / third degree), its site and side
(T20-T25: "Burn of second degree of right forearm", T22.211A); a burn unit's note writes them as
"partial-thickness burns to the right forearm and hand, full-thickness burn to the left thigh",
which the tagger cut into "partial-thickness burns" (coded, at 0.25, as a burn of no stated site
or depth) and missed the thigh altogether. The wording is regular enough to read by rule, and
the tabular list names every depth, side and site, so the codes are looked up by description.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# the depth, in clinical words, as the tabular list names it
_DEPTHS = (
    (re.compile(r"(?:first|1st)[- ]degree|superficial(?![- ]partial)", re.I), "first"),
    (
        re.compile(
            r"(?:second|2nd)[- ]degree|(?:superficial[- ]|deep[- ])?partial[- ]thickness", re.I
        ),
        "second",
    ),
    (re.compile(r"(?:third|3rd|fourth|4th)[- ]degree|full[- ]thickness", re.I), "third"),
)
_DEPTH_WORDS = (
    r"(?:(?:first|1st|second|2nd|third|3rd|fourth|4th)[- ]degree"
    r"|(?:superficial[- ]|deep[- ])?partial[- ]thickness|full[- ]thickness|superficial)"
)
# the site words notes use -> the tabular list's wording of the site, "{side}" where a side goes
SITES: dict[str, str] = {
    "forearm": "{side}forearm",
    "forearms": "{side}forearm",
    "upper arm": "{side}upper arm",
    "arm": "{side}upper arm",
    "elbow": "{side}elbow",
    "axilla": "{side}axilla",
    "shoulder": "{side}shoulder",
    "hand": "{side}hand, unspecified site",
    "hands": "{side}hand, unspecified site",
    "palm": "{side}palm",
    "back of hand": "back of {side}hand",
    "dorsum of hand": "back of {side}hand",
    "wrist": "{side}wrist",
    "thumb": "{side}thumb (nail)",
    "thigh": "{side}thigh",
    "thighs": "{side}thigh",
    "knee": "{side}knee",
    "lower leg": "{side}lower leg",
    "leg": "unspecified site of {side}lower limb, except ankle and foot",
    "legs": "unspecified site of {side}lower limb, except ankle and foot",
    "ankle": "{side}ankle",
    "foot": "{side}foot",
    "feet": "{side}foot",
    "toe": "{side}toe(s) (nail)",
    "toes": "{side}toe(s) (nail)",
    "ear": "{side}ear [any part, except ear drum]",
    "chest": "chest wall",
    "chest wall": "chest wall",
    "abdomen": "abdominal wall",
    "abdominal wall": "abdominal wall",
    "upper back": "upper back",
    "lower back": "lower back",
    "back": "upper back",
    "buttock": "buttock",
    "buttocks": "buttock",
    "neck": "neck",
    "scalp": "scalp [any part]",
    "face": "head, face, and neck, unspecified site",
    "nose": "nose (septum)",
    "chin": "chin",
}
_SITE_WORDS = "|".join(sorted((re.escape(s) for s in SITES), key=len, reverse=True))
_ONE_SITE = r"(?:(?:left|right|bilateral|both|l|r)[ \t]+)?(?:" + _SITE_WORDS + r")\b"
_SITE = re.compile(
    r"(?:(?P<side>left|right|bilateral|both|l|r)[ \t]+)?(?P<site>" + _SITE_WORDS + r")\b", re.I
)
# "partial-thickness burns to the right forearm and hand", "full-thickness burn of the left thigh"
BURN_MENTION = re.compile(
    rf"(?P<depth>{_DEPTH_WORDS})[ \t]+(?:(?:flame|scald|thermal|contact|chemical|electrical)[ \t]+)?"
    r"burns?[ \t]+(?:to|of|on|over|involving)[ \t]+(?:the[ \t]+|his[ \t]+|her[ \t]+)?"
    rf"(?P<sites>{_ONE_SITE}(?:[ \t]*(?:,|/|and|,[ \t]*and)[ \t]*(?:the[ \t]+)?{_ONE_SITE})*)",
    re.I,
)


@dataclass(frozen=True)
class Burn:
    """One burn the note writes: its depth (None when not said) and each (side, site)."""

    start: int
    end: int
    depth: str | None
    sites: tuple[tuple[str | None, str], ...]


def _depth(words: str) -> str | None:
    return next((name for pattern, name in _DEPTHS if pattern.search(words)), None)


def _sites(words: str) -> tuple[tuple[str | None, str], ...]:
    """Each site of "right forearm and hand" with its side; a site after a sided one takes that
    side ("right forearm and hand": the right hand)."""
    out: list[tuple[str | None, str]] = []
    side: str | None = None
    for m in _SITE.finditer(words):
        said = (m.group("side") or "").lower()
        side = {"l": "left", "r": "right", "both": "bilateral"}.get(said, said) or side
        site = SITES[m.group("site").lower()]
        if (side, site) not in out:
            out.append((side, site))
    return tuple(out)


def burns(text: str) -> Iterator[Burn]:
    """The burns of ``text`` written with depth and site."""
    for m in BURN_MENTION.finditer(text):
        yield Burn(m.start(), m.end(), _depth(m.group("depth")), _sites(m.group("sites")))


def parse(mention: str) -> Burn | None:
    """``mention`` read as one whole burn mention, else None."""
    m = BURN_MENTION.fullmatch(mention.strip())
    return Burn(0, len(mention), _depth(m.group("depth")), _sites(m.group("sites"))) if m else None


def codes_for(burn: Burn, descriptions: dict[str, str]) -> list[str]:
    """The initial-encounter codes of each site of ``burn``, looked up by the tabular list's
    description (``descriptions``: lower-case description -> code): a bilateral site is the
    right's and the left's, a site with no side said the "unspecified" one's; a site with no
    code for its depth is skipped."""
    out: list[str] = []
    degree = burn.depth or "unspecified"
    for side, site in burn.sites:
        sides = {"bilateral": ["right ", "left "], None: ["unspecified "]}.get(side, [f"{side} "])
        for said in sides if "{side}" in site else [""]:
            name = f"burn of {degree} degree of {site.format(side=said)}, initial encounter"
            code = descriptions.get(name)
            if code is not None and code not in out:
                out.append(code)
    return out


def burn_descriptions(rows: Iterable[tuple[str, str, bool]]) -> dict[str, str]:
    """Lower-case description -> code of the billable burn codes T20-T25 among ``rows``
    (code, description, billable)."""
    return {
        description.lower(): code
        for code, description, billable in rows
        if billable and code[:3] in ("T20", "T21", "T22", "T23", "T24", "T25")
    }
