"""De-id evaluation on the PhysioNet corpus: token- and span-level P/R/F1, per PHI type.

Conventions (deid literature): PHI is about *removal*, so a gold token counts as recalled when any
predicted span covers it, whatever type was predicted; a predicted token is correct when it lies
in any gold span. Per-type recall is by gold type, per-type precision by predicted type. Tokens
are alphanumeric runs (``5/13`` is two tokens). Span level: gold fragments of one type joined
(see ``physionet_deid.merge_fragments``); "exact" needs the same boundaries (modulo surrounding
punctuation), "overlap" any overlap.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from streamproc.deid.types import ALL_TYPES, PhiSpan, canonical_type
from streamproc.train.examples import Example

_TOKEN = re.compile(r"[A-Za-z0-9]+")
_STRIP = " \t\n.,;:()[]'\""


def _norm(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    return start, end


def score(examples: Sequence[Example], predictions: Sequence[Sequence[PhiSpan]]) -> dict[str, Any]:
    """Token and span P/R/F1, overall and per canonical type."""
    tok: dict[str, Counter[str]] = {"tp": Counter(), "fp": Counter(), "fn": Counter()}
    span_exact: dict[str, Counter[str]] = {"tp": Counter(), "fp": Counter(), "fn": Counter()}
    span_overlap: dict[str, Counter[str]] = {"tp": Counter(), "fp": Counter(), "fn": Counter()}
    for ex, preds in zip(examples, predictions, strict=True):
        gold = [(s.start, s.end, canonical_type(s.label)) for s in ex.spans]
        pred = [(p.start, p.end, p.entity_type) for p in preds]
        for m in _TOKEN.finditer(ex.text):
            a, b = m.span()
            g = next((t for s, e, t in gold if s < b and e > a), None)
            p = next((t for s, e, t in pred if s < b and e > a), None)
            if g and p:
                tok["tp"][g] += 1  # recall bucket: gold type
                tok["tp"]["_pred_" + p] += 1  # precision bucket: predicted type
            elif g:
                tok["fn"][g] += 1
            elif p:
                tok["fp"]["_pred_" + p] += 1
        gold_n = {(*_norm(ex.text, s, e), t) for s, e, t in gold}
        pred_n = {(*_norm(ex.text, s, e), t) for s, e, t in pred}
        gold_b = {(s, e) for s, e, _ in gold_n}
        pred_b = {(s, e) for s, e, _ in pred_n}
        for s, e, t in gold_n:
            span_exact["tp" if (s, e) in pred_b else "fn"][t] += 1
            hit = any(ps < e and pe > s for ps, pe in pred_b)
            span_overlap["tp" if hit else "fn"][t] += 1
        for s, e, t in pred_n:
            if (s, e) not in gold_b:
                span_exact["fp"]["_pred_" + t] += 1
            else:
                span_exact["tp"]["_pred_" + t] += 1
            hit = any(gs < e and ge > s for gs, ge in gold_b)
            span_overlap["tp" if hit else "fp"]["_pred_" + t] += 1

    def table(c: dict[str, Counter[str]]) -> dict[str, Any]:
        gold_types = [t for t in ALL_TYPES]
        tp_gold = sum(c["tp"][t] for t in gold_types)
        fn = sum(c["fn"][t] for t in gold_types)
        tp_pred = sum(c["tp"]["_pred_" + t] for t in gold_types)
        fp = sum(c["fp"]["_pred_" + t] for t in gold_types)
        overall = {
            "precision": round(tp_pred / (tp_pred + fp), 4) if tp_pred + fp else 1.0,
            "recall": round(tp_gold / (tp_gold + fn), 4) if tp_gold + fn else 1.0,
            "gold": tp_gold + fn,
            "predicted": tp_pred + fp,
        }
        p, r = overall["precision"], overall["recall"]
        overall["f1"] = round(2 * p * r / (p + r), 4) if p + r else 0.0
        per_type: dict[str, Any] = {}
        for t in gold_types:
            g = c["tp"][t] + c["fn"][t]
            pr = c["tp"]["_pred_" + t] + c["fp"]["_pred_" + t]
            if not g and not pr:
                continue
            per_type[t] = {
                "recall": round(c["tp"][t] / g, 4) if g else None,
                "precision": round(c["tp"]["_pred_" + t] / pr, 4) if pr else None,
                "gold": g,
                "predicted": pr,
            }
        return {"overall": overall, "per_type": per_type}

    tokens = table(tok)
    return {
        "token": tokens,
        "span_exact": table(span_exact),
        "span_overlap": table(span_overlap),
        "recall_names": tokens["per_type"].get("NAME", {}).get("recall"),
        "recall_dates": tokens["per_type"].get("DATE", {}).get("recall"),
        "recall_locations": tokens["per_type"].get("LOCATION", {}).get("recall"),
    }


def evaluate_corpus(
    data: Path,
    split: str = "dev",
    model_dir: Path | None = None,
    limit: int | None = None,
    modes: Sequence[str] = ("rules", "model", "merged"),
) -> dict[str, Any]:
    """Score rules, model and merged detection on one split in one pass (JSON-ready dict).

    The top-level metrics are those of ``merged`` (what the pipeline runs); ``by_mode`` holds
    all three. Also measures the whole stage (detect + replace) in notes/s on one thread.
    """
    from streamproc.config import Settings
    from streamproc.deid import build_deidentifier
    from streamproc.deid.detect.analyzer import Analyzer
    from streamproc.deid.engine import build_analyzer
    from streamproc.state import MemoryStore
    from streamproc.train.datasets.physionet_deid import DEV_FRACTION, SPLIT_SEED, read_corpus

    examples = read_corpus(data, split=None if split == "all" else split)
    if not examples:
        raise FileNotFoundError(f"no notes for split {split!r} (the corpus has train and dev only)")
    if limit:
        examples = examples[:limit]
    rules, rules_version = build_analyzer("rules")
    sources: dict[str, Analyzer] = {"rules": rules}
    versions = {"rules": rules_version}
    want_model = any(m in modes for m in ("model", "merged"))  # noqa: SIM118
    if want_model:
        try:
            model, model_version = build_analyzer("model", model_dir=model_dir)
            sources["model"] = model
            versions["model"] = model_version
        except FileNotFoundError:
            pass
    raw: dict[str, list[list[PhiSpan]]] = {name: [] for name in sources}
    seconds: dict[str, float] = {}
    for name, analyzer in sources.items():
        started = time.perf_counter()
        raw[name] = [analyzer.collect(ex.text) for ex in examples]
        seconds[name] = time.perf_counter() - started
    preds: dict[str, list[list[PhiSpan]]] = {
        name: [
            sources[name].resolve(ex.text, spans)
            for ex, spans in zip(examples, raw[name], strict=True)
        ]
        for name in raw
    }
    if "model" in raw:
        preds["merged"] = [
            rules.resolve(ex.text, r + m)  # the rules analyzer carries the note-level refiners
            for ex, r, m in zip(examples, raw["rules"], raw["model"], strict=True)
        ]
        seconds["merged"] = seconds["rules"] + seconds["model"]
        versions["merged"] = f"{versions['rules']}+{versions['model']}"
    by_mode: dict[str, Any] = {}
    for name, p in preds.items():
        if name not in modes:
            continue
        result = score(examples, p)
        result["detect_notes_per_s"] = (
            round(len(examples) / seconds[name], 1) if seconds[name] else None
        )
        result["detector_version"] = versions[name]
        by_mode[name] = result
    top = "merged" if "merged" in by_mode else next(iter(by_mode))
    # whole stage (detect + surrogates + structured fields), the shipped configuration
    stage_mode = "merged" if "model" in sources else "rules"
    settings = Settings.model_validate({"models": {"deid": model_dir}} if model_dir else {})
    stage = build_deidentifier(settings, MemoryStore(), mode=stage_mode)
    from streamproc.records import NoteEvent

    notes = [
        NoteEvent.model_validate(
            {"event_id": ex.id, "source": {"topic": "eval"}, "message_format": "fhir",
             "message_type": "eval", "patient_ref": f"Patient/{ex.group}", "text": ex.text,
             "content_hash": "-"}
        )
        for ex in examples
    ]  # fmt: skip
    started = time.perf_counter()
    for note in notes:
        stage.deidentify(note)
    stage_s = time.perf_counter() - started
    out = dict(by_mode[top])
    out.update(
        {
            "mode": top,
            "by_mode": {
                k: {
                    "token": v["token"]["overall"],
                    "span_exact": v["span_exact"]["overall"],
                    "span_overlap": v["span_overlap"]["overall"],
                    "recall_names": v["recall_names"],
                    "recall_dates": v["recall_dates"],
                    "recall_locations": v["recall_locations"],
                    "token_per_type": v["token"]["per_type"],
                    "detect_notes_per_s": v["detect_notes_per_s"],
                }
                for k, v in by_mode.items()
            },  # fmt: skip
            "split": split,
            "notes": len(examples),
            "split_seed": SPLIT_SEED,
            "dev_fraction": DEV_FRACTION,
            "stage_version": stage.version,
            "stage_notes_per_s": round(len(notes) / stage_s, 1) if stage_s else None,
            "threads": 1,
        }
    )
    return out
