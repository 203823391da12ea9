"""Negation evaluation on Chia (BRAT): which Condition mentions are negated.

Chia marks a negation cue as a ``Negation`` entity and links it with ``Has_negation`` to the
negated entity or to a ``Scope`` entity; every Condition inside that scope counts as negated.
Each criteria line is one sentence (that is how Chia is written).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from streamproc.nlp.assertion.context import ContextAssertion
from streamproc.nlp.sentences import Sentence, line_bounds, split_sentences

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


# Fixed, seeded split of the Chia trials: rules are tuned only by reading errors on the
# ``tuning`` half; the ``heldout`` half is the honest figure. Both documents of a trial
# (``_inc``/``_exc``) fall in the same half since they share wording.
SPLIT_SEED = "streamproc-negation-split-1"
HALVES = ("tuning", "heldout")


def half_of(doc: str) -> str:
    """``tuning`` or ``heldout`` for a Chia file name such as ``NCT00050349_exc``."""
    trial = Path(doc).name.split("_")[0]
    digest = hashlib.sha256(f"{SPLIT_SEED}:{trial}".encode()).digest()
    return HALVES[digest[0] % 2]


def resolve_chia_dir(data: Path) -> Path:
    """The folder holding Chia ``.ann`` files: ``data`` itself, or ``data/ner/chia``."""
    for cand in (data, data / "ner" / "chia", data / "chia"):
        if cand.is_dir() and next(cand.glob("*.ann"), None) is not None:
            return cand
    raise FileNotFoundError(f"no Chia .ann files under {data} (or {data}/ner/chia)")


@dataclass(frozen=True, slots=True)
class Mention:
    """One scored Condition mention (kept for error analysis; never logged)."""

    doc: str
    half: str
    start: int
    end: int
    gold_cue: str | None  # lower-cased gold negation cue, None when not negated
    predicted_cue: str | None  # our cue when we say absent, else None
    line: str


def chia_mentions(data_dir: Path, assertion: ContextAssertion | None = None) -> list[Mention]:
    """Every Condition mention in the Chia ``.ann`` files with gold and predicted negation."""
    assertion = assertion or ContextAssertion()
    out: list[Mention] = []
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
        # Each criteria line, split into sentences the way the pipeline splits notes.
        sentences = [
            Sentence(m.start() + sub.start, m.start() + sub.end)
            for m in re.finditer(r"[^\n]+", text)
            if m.group().strip()
            for sub in split_sentences(m.group())
        ]
        targets = [(eid, s, e) for eid, (kind, s, e, _) in ents.items() if kind in _TARGET_TYPES]
        results = assertion.assert_spans(text, [(s, e) for _, s, e in targets], sentences)
        half = half_of(ann.stem)
        for (eid, s, e), res in zip(targets, results, strict=True):
            line_start, line_end = line_bounds(text, s, e)
            out.append(
                Mention(
                    doc=ann.stem,
                    half=half,
                    start=s,
                    end=e,
                    gold_cue=gold.get(eid),
                    predicted_cue=(res.cue or "?").lower() if res.assertion == "absent" else None,
                    line=text[line_start:line_end],
                )
            )
    return out


def score_mentions(
    mentions: list[Mention], half: str | None = None, clinical_only: bool = False
) -> NegationScore:
    """P/R/F1 over ``mentions`` (one half or all; optionally without exception-cue gold)."""
    score = NegationScore()
    for m in mentions:
        if half is not None and m.half != half:
            continue
        if clinical_only and m.gold_cue is not None and is_exception_cue(m.gold_cue):
            continue
        predicted = m.predicted_cue is not None
        if predicted and m.gold_cue is not None:
            score.tp += 1
        elif predicted:
            score.fp += 1
            cue = m.predicted_cue or "?"
            score.false_cues[cue] = score.false_cues.get(cue, 0) + 1
        elif m.gold_cue is not None:
            score.fn += 1
            score.missed_cues[m.gold_cue] = score.missed_cues.get(m.gold_cue, 0) + 1
        else:
            score.tn += 1
    return score


def evaluate_chia(
    data_dir: Path,
    assertion: ContextAssertion | None = None,
    clinical_only: bool = False,
    half: str | None = None,
) -> NegationScore:
    """Negation P/R/F1 over every Condition mention in the Chia ``.ann`` files.

    ``clinical_only`` leaves out mentions whose gold cue is an eligibility exception ("other
    than", "except"...), which clinical-note negation does not model (see EXCEPTION_CUES).
    ``half`` restricts to the ``tuning`` or ``heldout`` trials (see :func:`half_of`).
    """
    return score_mentions(chia_mentions(data_dir, assertion), half, clinical_only)


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
