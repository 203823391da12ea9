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


# ---- indications: the problem a drug treats is not its adverse effect ----------------------------
# A model trained on case reports (every drug-disease pair in a sentence is a candidate) reads
# "hypertension on lisinopril" as lisinopril -> hypertension. In notes that wording names the
# indication. Post-patterns: "<problem> (is|was|well controlled) on|treated with|managed with <...>";
# pre-patterns: "for|to treat|treatment of|indicated for <problem>". A causal cue just before the
# problem ("developed", "induced", "new") keeps the pair: "developed hypotension on lisinopril".
_INDICATION_AFTER = re.compile(
    r"^\s*,?\s*(?:(?:is|was|are|were|being|been|well|poorly|currently|now|also|still)\s+)*"
    r"(?:on|treated\s+with|managed\s+with|controlled\s+(?:on|with)|maintained\s+on|started\s+on"
    r"|receiving|taking|for\s+which\s+\w+\s+(?:takes|took|is\s+on|was\s+on|receives))\b",
    re.I,
)
_INDICATION_BEFORE = re.compile(
    r"\b(?:for|to\s+treat|treatment\s+of|therapy\s+for|indicated\s+for|prescribed\s+for"
    r"|given\s+for|started\s+for)\s+(?:(?:his|her|their|the|a|an|known|chronic|presumed)\s+)*$",
    re.I,
)
_CAUSAL_BEFORE = re.compile(
    r"\b(?:developed|develops|developing|experienced|new|new-onset|onset\s+of|induced|caused"
    r"|suffered|complicated\s+by|watch\s+for|monitor(?:ing)?\s+for|observe\s+for|risk\s+of"
    r"|signs\s+of)\s+(?:\w+\s+){0,2}$",
    re.I,
)
# Words that name a harm, never a treated condition.
_HARM_WORDS = re.compile(r"toxic|induced|reaction|allerg|intoleran|overdose|poisoning", re.I)


def is_indication(sentence: str, start: int, end: int) -> bool:
    """True when the problem at ``sentence[start:end]`` is worded as what a drug treats."""
    before = sentence[max(0, start - 60) : start]
    if _CAUSAL_BEFORE.search(before) or _HARM_WORDS.search(sentence[start:end]):
        return False
    return bool(_INDICATION_AFTER.match(sentence[end:]) or _INDICATION_BEFORE.search(before))
