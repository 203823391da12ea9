"""``streamproc eval negation --data <shared data or chia folder>``: ConText negation F1 on Chia.

Registered in ``streamproc.train.tasks.TASK_MODULES`` as ``"negation"``. The Chia trials are
split by a fixed seeded hash (see ``evaluate.half_of``): rules are tuned on ``tuning`` only and
``heldout`` is the honest figure. ``--split dev`` (or ``train``) selects the tuning half for the
headline, ``test`` the held-out half, ``all`` both; every half is always reported alongside.

Two exception modes are scored because Chia is eligibility-criteria text: ``criteria`` reads
"other than / except / unless" as negation of what follows (Chia's convention), ``note`` treats
them as scope terminators (clinical notes; the pipeline default). ``without_exception_cues``
leaves out the gold mentions whose cue is an exception, so the note-style figure is fair.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_HEADLINE_HALF = {"dev": "tuning", "train": "tuning", "test": "heldout", "all": "all"}


def _metrics(s: Any) -> dict[str, Any]:
    return {
        "precision": round(s.precision, 4),
        "recall": round(s.recall, 4),
        "f1": round(s.f1, 4),
        "tp": s.tp,
        "fp": s.fp,
        "fn": s.fn,
        "tn": s.tn,
    }


class NegationTask:
    name = "negation"
    description = "ConText negation of Condition mentions on Chia (rules; nothing to train)"

    def train(self, data: Path, out: Path, **kw: Any) -> dict[str, Any]:
        raise NotImplementedError("assertion is rule-based: edit assertion/rules.json")

    def evaluate(self, data: Path, split: str = "all", **kw: Any) -> dict[str, Any]:
        from streamproc.nlp.assertion.context import ContextAssertion
        from streamproc.nlp.assertion.evaluate import (
            HALVES,
            SPLIT_SEED,
            chia_mentions,
            resolve_chia_dir,
            score_mentions,
        )

        folder = resolve_chia_dir(Path(data))
        headline_half = _HEADLINE_HALF.get(split, "all")
        out: dict[str, Any] = {"split_seed": SPLIT_SEED, "headline_half": headline_half}
        for mode in ("criteria", "note"):
            ctx = ContextAssertion(exceptions=mode)
            out["rules_version"] = ctx.version
            mentions = chia_mentions(folder, ctx)
            by_half: dict[str, Any] = {}
            for half in (*HALVES, "all"):
                by_half[half] = {
                    "all_cues": _metrics(score_mentions(mentions, _half_arg(half))),
                    "without_exception_cues": _metrics(
                        score_mentions(mentions, _half_arg(half), clinical_only=True)
                    ),
                }
            out[f"exceptions_{mode}"] = by_half
        # Headline: each mode on the gold it is meant to reproduce.
        out["headline"] = {
            "criteria_mode_all_cues": out["exceptions_criteria"][headline_half]["all_cues"],
            "note_mode_without_exception_cues": out["exceptions_note"][headline_half][
                "without_exception_cues"
            ],
        }
        return out


def _half_arg(half: str) -> str | None:
    return None if half == "all" else half


TASK = NegationTask()
