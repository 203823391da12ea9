"""Negation evaluation on Chia (BRAT): which Condition mentions are negated.

Chia marks a negation cue as a ``Negation`` entity and links it with ``Has_negation`` to the
negated entity or to a ``Scope`` entity; every Condition inside that scope counts as negated.
Each criteria line is one sentence (that is how Chia is written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from streamproc.nlp.assertion.context import ContextAssertion
from streamproc.nlp.sentences import Sentence

_TARGET_TYPES = ("Condition",)


@dataclass
class NegationScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    missed_cues: dict[str, int] = field(default_factory=dict)  # gold cue -> count of misses
    false_cues: dict[str, int] = field(default_factory=dict)  # our cue -> count of false alarms

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _realign(text: str, start: int, first_len: int, surface: str) -> int:
    """Shift to apply to an entity's offsets: some Chia files count line ends differently."""
    fragment = surface[:first_len]
    if not fragment or text[start : start + first_len] == fragment:
        return 0
    best: int | None = None
    pos = text.find(fragment)
    while pos >= 0:
        if best is None or abs(pos - start) < abs(best):
            best = pos - start
        pos = text.find(fragment, pos + 1)
    return best if best is not None and abs(best) <= 200 else 0


def _read_ann(
    path: Path, text: str = ""
) -> tuple[dict[str, tuple[str, int, int, str]], list[tuple[str, str]]]:
    ents: dict[str, tuple[str, int, int, str]] = {}
    negs: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if line.startswith("T") and len(parts) >= 3:
            kind, _, offsets = parts[1].partition(" ")
            nums = [int(x) for x in re.findall(r"\d+", offsets)]
            if nums:
                shift = _realign(text, nums[0], nums[1] - nums[0], parts[2]) if text else 0
                ents[parts[0]] = (kind, min(nums) + shift, max(nums) + shift, parts[2])
        elif line.startswith("R") and len(parts) >= 2 and parts[1].startswith("Has_negation"):
            m = re.search(r"Arg1:(\S+)\s+Arg2:(\S+)", parts[1])
            if m:
                negs.append((m.group(1), m.group(2)))
    return ents, negs


def evaluate_chia(
    data_dir: Path, assertion: ContextAssertion | None = None, clinical_only: bool = False
) -> NegationScore:
    """Negation P/R/F1 over every Condition mention in the Chia ``.ann`` files.

    ``clinical_only`` leaves out mentions whose gold cue is an eligibility exception ("other
    than", "except"...), which clinical-note negation does not model (see EXCEPTION_CUES).
    """
    assertion = assertion or ContextAssertion()
    score = NegationScore()
    for ann in sorted(Path(data_dir).glob("*.ann")):
        txt = ann.with_suffix(".txt")
        if not txt.is_file():
            continue
        text = txt.read_text(encoding="utf-8")
        ents, negs = _read_ann(ann, text)
        gold: dict[str, str] = {}
        for target, cue in negs:
            if target not in ents:
                continue
            cue_text = ents[cue][3].lower() if cue in ents else "?"
            _, t_start, t_end, _ = ents[target]
            for eid, (kind, s, e, _) in ents.items():
                if kind in _TARGET_TYPES and s >= t_start and e <= t_end:
                    gold[eid] = cue_text
        sentences = [
            Sentence(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()
        ]
        targets = [(eid, s, e) for eid, (kind, s, e, _) in ents.items() if kind in _TARGET_TYPES]
        results = assertion.assert_spans(text, [(s, e) for _, s, e in targets], sentences)
        for (eid, _, _), res in zip(targets, results, strict=True):
            if clinical_only and eid in gold and is_exception_cue(gold[eid]):
                continue
            predicted = res.assertion == "absent"
            if predicted and eid in gold:
                score.tp += 1
            elif predicted:
                score.fp += 1
                cue = (res.cue or "?").lower()
                score.false_cues[cue] = score.false_cues.get(cue, 0) + 1
            elif eid in gold:
                score.fn += 1
                score.missed_cues[gold[eid]] = score.missed_cues.get(gold[eid], 0) + 1
            else:
                score.tn += 1
    return score


# Chia annotates eligibility-criteria exceptions ("other than X", "except Y") as negation. In
# clinical notes those words do not negate ("no complaints except cough": cough is present), so
# the clinical-negation subset leaves out mentions whose gold cue is one of these.
EXCEPTION_CUES = (
    "other than",
    "except",
    "exception",
    "unless",
    "excluding",
    "aside from",
    "in addition to",
    "other",
    "allowed",
    "eligible",
    "permitted",
    "allowable",
)


def is_exception_cue(cue: str) -> bool:
    return any(word in cue for word in EXCEPTION_CUES)
