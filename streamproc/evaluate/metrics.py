"""Span- and token-level scores shared by ``streamproc eval``, training dev checks and replay.

Inputs are per-document collections of spans (anything with ``start``, ``end``, ``label``
attributes, or ``(start, end, label)`` tuples), so the same code scores corpora, trainer dev
splits and replayed pipeline output. Every result is plain JSON-serialisable dicts.

Definitions:
- strict: a prediction is correct when label, start and end all equal a gold span
  (the CoNLL / seqeval definition).
- relaxed: a prediction is correct when it overlaps a gold span of the same label; recall counts
  gold spans overlapped by a same-label prediction (i2b2 "lenient" matching).
- token: tokens (``\\w+`` or one punctuation char) inside a span carry its label; scored per label
  and label-agnostic ("any"), which is the usual de-identification view.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

SpanKey = tuple[int, int, str]

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")


def _key(span: Any) -> SpanKey:
    if isinstance(span, tuple):
        return (int(span[0]), int(span[1]), str(span[2]))
    return (int(span.start), int(span.end), str(span.label))


def _keys(spans: Iterable[Any], labels: set[str] | None) -> set[SpanKey]:
    out = {_key(s) for s in spans}
    return {k for k in out if labels is None or k[2] in labels}


def prf(tp: int, fp: int, fn: int, digits: int = 6) -> dict[str, float | int]:
    """Precision, recall, F1 (0 where undefined) with the counts they come from."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, digits),
        "recall": round(r, digits),
        "f1": round(f, digits),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "support": tp + fn,
    }


def _summarise(counts: dict[str, list[int]], labels: Sequence[str]) -> dict[str, Any]:
    per_label = {lab: prf(*counts[lab]) for lab in labels}
    tot = [sum(counts[lab][i] for lab in labels) for i in range(3)]
    micro = prf(*tot)
    scored = [per_label[lab] for lab in labels]
    macro = {
        "precision": round(sum(float(s["precision"]) for s in scored) / len(scored), 6)
        if scored
        else 0.0,
        "recall": round(sum(float(s["recall"]) for s in scored) / len(scored), 6)
        if scored
        else 0.0,
        "f1": round(sum(float(s["f1"]) for s in scored) / len(scored), 6) if scored else 0.0,
    }
    return {"per_label": per_label, "micro": micro, "macro": macro}


def entity_scores(
    gold: Sequence[Iterable[Any]],
    pred: Sequence[Iterable[Any]],
    labels: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Strict and relaxed P/R/F1 per label plus micro/macro, and a confusion table.

    ``labels`` restricts scoring to those labels (spans of other labels are ignored on both
    sides, e.g. score only problem/drug on BC5CDR). Without it, every label seen is scored.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents but pred has {len(pred)}")
    only = set(labels) if labels is not None else None
    golds = [_keys(g, only) for g in gold]
    preds = [_keys(p, only) for p in pred]
    seen = sorted({k[2] for doc in golds + preds for k in doc})
    lab_list = sorted(only) if only is not None else seen

    strict: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    relaxed: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for g, p in zip(golds, preds, strict=True):
        for k in g:
            if k in p:
                strict[k[2]][0] += 1
            else:
                strict[k[2]][2] += 1
        for k in p - g:
            strict[k[2]][1] += 1
        # relaxed: precision side counts predictions, recall side counts gold spans
        for k in p:
            hit = any(q[2] == k[2] and q[0] < k[1] and k[0] < q[1] for q in g)
            relaxed[k[2]][0 if hit else 1] += 1
        for k in g:
            hit = any(q[2] == k[2] and q[0] < k[1] and k[0] < q[1] for q in p)
            if not hit:
                relaxed[k[2]][2] += 1
        # confusion: each gold span against its best-overlapping prediction (any label)
        for k in g:
            best, best_ov = "O", 0
            for q in p:
                ov = min(k[1], q[1]) - max(k[0], q[0])
                if ov > best_ov or (ov == best_ov and ov > 0 and q[2] == k[2]):
                    best, best_ov = q[2], ov
            confusion[k[2]][best] += 1
        for q in p:
            if not any(k[0] < q[1] and q[0] < k[1] for k in g):
                confusion["O"][q[2]] += 1
    # relaxed tp used for recall = gold spans hit; recompute recall-side tp per label
    relaxed_out: dict[str, dict[str, float | int]] = {}
    for lab in lab_list:
        tp_p, fp, fn = relaxed[lab]
        n_gold = sum(1 for g in golds for k in g if k[2] == lab)
        prec = tp_p / (tp_p + fp) if tp_p + fp else 0.0
        rec = (n_gold - fn) / n_gold if n_gold else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        relaxed_out[lab] = {
            "precision": round(prec, 6),
            "recall": round(rec, 6),
            "f1": round(f1, 6),
            "tp": tp_p,
            "fp": fp,
            "fn": fn,
            "support": n_gold,
        }
    tot_tp = sum(relaxed[lab][0] for lab in lab_list)
    tot_fp = sum(relaxed[lab][1] for lab in lab_list)
    tot_fn = sum(relaxed[lab][2] for lab in lab_list)
    tot_gold = sum(1 for g in golds for k in g if k[2] in set(lab_list))
    rp = tot_tp / (tot_tp + tot_fp) if tot_tp + tot_fp else 0.0
    rr = (tot_gold - tot_fn) / tot_gold if tot_gold else 0.0
    relaxed_micro = {
        "precision": round(rp, 6),
        "recall": round(rr, 6),
        "f1": round(2 * rp * rr / (rp + rr), 6) if rp + rr else 0.0,
        "tp": tot_tp,
        "fp": tot_fp,
        "fn": tot_fn,
        "support": tot_gold,
    }
    n = len(lab_list)
    relaxed_macro = {
        m: round(sum(float(relaxed_out[lab][m]) for lab in lab_list) / n, 6) if n else 0.0
        for m in ("precision", "recall", "f1")
    }
    return {
        "n_docs": len(golds),
        "labels": lab_list,
        "strict": _summarise(strict, lab_list),
        "relaxed": {"per_label": relaxed_out, "micro": relaxed_micro, "macro": relaxed_macro},
        "confusion": {g: dict(sorted(c.items())) for g, c in sorted(confusion.items())},
    }


def iob_to_spans(tags: Sequence[str]) -> list[SpanKey]:
    """Chunks of an IOB/BIO tag sequence as (start_token, end_token_exclusive, label).

    Follows seqeval's default (non-strict) chunking: an ``I-X`` after ``O`` or after another type
    opens a new chunk, so scores match ``seqeval.metrics`` on the same tags.
    """
    spans: list[SpanKey] = []
    cur_label: str | None = None
    cur_start = 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, lab = tag.partition("-")
        if tag == "O" or prefix not in {"B", "I", "E", "S"}:
            prefix, lab = "O", ""
        starts = prefix in {"B", "S"} or (prefix in {"I", "E"} and lab != cur_label)
        if cur_label is not None and (prefix == "O" or starts):
            spans.append((cur_start, i, cur_label))
            cur_label = None
        if prefix != "O" and (starts or cur_label is None):
            cur_label, cur_start = lab, i
    return spans


def iob_entity_scores(
    gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]
) -> dict[str, Any]:
    """Entity scores over IOB-tagged sentences (seqeval-compatible strict figures)."""
    return entity_scores([iob_to_spans(t) for t in gold_tags], [iob_to_spans(t) for t in pred_tags])


def _tokens(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


def token_scores(
    texts: Sequence[str],
    gold: Sequence[Iterable[Any]],
    pred: Sequence[Iterable[Any]],
    labels: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Token-level P/R/F1 per label and label-agnostic (``any``): a token belongs to a span
    when it overlaps it. De-identification reports these because partial masking still
    protects most of a name."""
    only = set(labels) if labels is not None else None
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    any_counts = [0, 0, 0]
    seen: set[str] = set()
    for text, g, p in zip(texts, gold, pred, strict=True):
        toks = _tokens(text)
        gk, pk = _keys(g, only), _keys(p, only)
        seen.update(k[2] for k in gk | pk)
        for a, b in toks:
            gl = {k[2] for k in gk if k[0] < b and a < k[1]}
            pl = {k[2] for k in pk if k[0] < b and a < k[1]}
            for lab in gl | pl:
                if lab in gl and lab in pl:
                    counts[lab][0] += 1
                elif lab in pl:
                    counts[lab][1] += 1
                else:
                    counts[lab][2] += 1
            if gl and pl:
                any_counts[0] += 1
            elif pl:
                any_counts[1] += 1
            elif gl:
                any_counts[2] += 1
    lab_list = sorted(only) if only is not None else sorted(seen)
    out = _summarise(counts, lab_list)
    out["any"] = prf(*any_counts)
    return out
