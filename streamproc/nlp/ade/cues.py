"""Negation / hypothetical cues around an effect mention, so "no rash after penicillin" is not an ADE.

A small local cue list (NegEx-style, pre-cues in the effect's clause plus a few post-cues); the
shared assertion rules (``streamproc.nlp.assertion``) were not available when this was written. When
the NER stage gives an overlapping problem entity, its ``assertion`` is used first (see extractor).
"""

from __future__ import annotations

import re
from typing import Literal

Actuality = Literal["actual", "potential", "absent"]

NEGATION_PRE = (
    "no",
    "not",
    "without",
    "denies",
    "denied",
    "negative for",
    "free of",
    "absence of",
    "no evidence of",
    "no signs of",
    "ruled out",
    "did not develop",
    "did not experience",
    "never developed",
    "resolution of",
)
NEGATION_POST = (
    "was ruled out",
    "were ruled out",
    "was not observed",
    "were not observed",
    "did not occur",
    "was absent",
    "not seen",
)
HYPOTHETICAL_PRE = (
    "may cause",
    "may induce",
    "may lead to",
    "can cause",
    "could cause",
    "might cause",
    "may result in",
    "risk of",
    "risk for",
    "at risk",
    "watch for",
    "monitor for",
    "monitoring for",
    "observe for",
    "warned about",
    "counseled on",
    "counselled on",
    "to prevent",
    "prevention of",
    "prophylaxis",
    "if",
    "in case of",
    "potential",
    "potentially",
)  # "possible X" is not here: a suspected reaction is still reported as actual
HYPOTHETICAL_POST = ("may occur", "can occur", "could occur", "is possible", "is a risk")
# A clause boundary ends a cue's scope ("no fever but rash after penicillin": rash is actual).
_BOUNDARY = re.compile(
    r"\b(?:but|however|although|though|except|yet|which|who)\b|[;:]|, and\b", re.I
)
_WINDOW_WORDS = 6


def _has_cue(fragment: str, cues: tuple[str, ...], at_end: bool) -> str | None:
    low = " " + " ".join(fragment.lower().split()) + " "
    for cue in cues:
        pat = rf"(?<![\w-]){re.escape(cue)}(?![\w-])"
        if re.search(pat, low):
            return cue
    return None


def actuality(sentence: str, start: int, end: int) -> tuple[Actuality, str | None]:
    """Actuality of the effect at ``sentence[start:end]`` and the cue that decided it."""
    before = sentence[:start]
    cut = list(_BOUNDARY.finditer(before))
    if cut:
        before = before[cut[-1].end() :]
    before = " ".join(before.split()[-_WINDOW_WORDS:])
    after = sentence[end:]
    stop = _BOUNDARY.search(after)
    if stop:
        after = after[: stop.start()]
    after = " ".join(after.split()[:_WINDOW_WORDS])
    cue = _has_cue(before, NEGATION_PRE, True) or _has_cue(after, NEGATION_POST, False)
    if cue:
        return "absent", cue
    cue = _has_cue(before, HYPOTHETICAL_PRE, True) or _has_cue(after, HYPOTHETICAL_POST, False)
    if cue:
        return "potential", cue
    return "actual", None
