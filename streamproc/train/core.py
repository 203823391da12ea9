"""The training loop every task model is built with (token and sequence classification).

A lean torch loop rather than HF ``Trainer``: we need a loss that understands partially
annotated corpora (see ``annotated_labels`` below), dev scoring through the *inference* code
path (windows merged by offsets, exactly what ships), and small-weight checkpoints. Seeds are
fixed, the best dev epoch is checkpointed as soon as it is reached (so an interrupted run still
leaves a shippable folder), training stops early after ``patience`` epochs without improvement,
gradients accumulate over ``grad_accum`` batches, and mixed precision is used on GPU.

Partial annotation: an Example may say which entity labels its corpus annotates in
``meta["annotated_labels"]`` (comma separated). For such an example an ``O`` token may also be
any label the corpus does not annotate (NCBI marks no chemicals), and the loss is the negative
log of the summed probability of the allowed tags, so mixing corpora does not teach the model
that unannotated drugs are ``O``.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shlex
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from streamproc.devices import resolve_device
from streamproc.evaluate.metrics import entity_scores
from streamproc.nlp.modeling import (
    WEIGHTS,
    Kind,
    Recipe,
    build_model,
    copy_trained_state,
    default_base_path,
    load_tokenizer,
    prepare_trainable,
    save_model,
)
from streamproc.nlp.token_classifier import (
    DocTokens,
    TokenClassifier,
    Window,
    batch_windows,
    bio_tags,
    head_labels,
    plan_windows,
    token_tag_ids,
    tokenize_docs,
)
from streamproc.train.examples import Example

logger = logging.getLogger(__name__)

EpochCallback = Callable[[int, float], None]


class TrainConfig(BaseModel):
    """Training recipe. Stored in every model's meta.json and card."""

    model_config = ConfigDict(extra="forbid")

    lr: float = Field(5e-4, gt=0)
    head_lr: float | None = None  # default: lr
    epochs: int = Field(3, ge=1)
    batch_size: int = Field(16, ge=1)
    grad_accum: int = Field(1, ge=1)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    max_grad_norm: float = 1.0
    seed: int = 13
    max_length: int = Field(128, ge=8, le=512)  # tokens per training window incl. [CLS]/[SEP]
    stride: int = Field(32, ge=0)  # overlap between windows of long documents
    eval_max_length: int = Field(256, ge=8, le=512)
    patience: int = Field(2, ge=1)  # early stopping on dev F1
    trainable: Literal["lora", "top_layers", "full"] = "lora"
    lora_rank: int = Field(16, ge=1)
    lora_alpha: float = 32.0
    top_layers: int = Field(0, ge=0)  # fully trained top encoder layers (also with lora)
    threads: int = Field(1, ge=1)
    max_train_examples: int | None = None
    max_dev_examples: int | None = None
    label_all_subtokens: bool = False  # False: only the first sub-token of a word is labelled
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"  # auto: bf16 on GPU only
    device: Literal["auto", "cpu", "cuda"] = "auto"
    weight_format: Literal["fp16", "int8"] = "fp16"  # int8: weight-only matrices, half the MB
    added_tokens: list[str] = Field(default_factory=list)  # marker tokens (sequence tasks)
    negative_label: str | None = None  # sequence tasks: excluded from the dev F1 it selects on
    log_every: int = Field(50, ge=1)
    init_from: str | None = None  # a model folder of the same recipe to continue training from
    corpus_heads: list[str] = Field(default_factory=list)  # token tasks: one extra head per corpus
    sample_part: Literal["sample", "rest"] = (
        "sample"  # "rest": the examples max_train_examples left out
    )


def command_line(task: str, command: str = "train") -> str:
    """The ``streamproc <command>`` line that is running (train, soup), for a card's rebuild line."""
    args = sys.argv[sys.argv.index(command) + 1 :] if command in sys.argv else [task, "..."]
    return f"streamproc {command} " + " ".join(shlex.quote(a) for a in args)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def _autocast_dtype(cfg: TrainConfig, device: torch.device) -> torch.dtype | None:
    return autocast_dtype(cfg.mixed_precision, device)


def autocast_dtype(mp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of a ``mixed_precision`` setting: "auto" is bf16 on GPU, none on CPU
    (bf16 autocast on CPU measured 13x slower)."""
    if mp == "auto":
        mp = "bf16" if device.type == "cuda" else "no"
    if mp == "no":
        return None
    return torch.bfloat16 if mp == "bf16" else torch.float16


def _optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    emb = model.get_input_embeddings()  # type: ignore[operator]
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = defaultdict(list)
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = p.ndim < 2 or "LayerNorm" in name or p is emb.weight
        lr = cfg.head_lr if (cfg.head_lr and name.startswith("classifier")) else cfg.lr
        groups[(lr, 0.0 if no_decay else cfg.weight_decay)].append(p)
    return torch.optim.AdamW(
        [{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()]
    )


def linear_schedule(
    opt: torch.optim.Optimizer, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up to the set learning rate, then linear decay to zero at ``total``."""

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return torch.optim.lr_scheduler.LambdaLR(opt, f)


def _scaler(ac_dtype: torch.dtype | None, device: torch.device) -> torch.amp.GradScaler | None:
    """fp16 autocast needs loss scaling against underflow; bf16 and fp32 do not."""
    if ac_dtype == torch.float16 and device.type == "cuda":
        return torch.amp.GradScaler("cuda")
    return None


def _step(
    loss: torch.Tensor,
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LambdaLR,
    scaler: torch.amp.GradScaler | None,
    cfg: TrainConfig,
    update: bool,
) -> None:
    """Backward, and every ``grad_accum`` batches a clipped optimizer step."""
    params = [p for p in model.parameters() if p.requires_grad]
    if scaler is not None:
        scaler.scale(loss).backward()
    else:
        loss.backward()
    if not update:
        return
    if scaler is not None:
        scaler.unscale_(opt)
    torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
    if scaler is not None:
        scaler.step(opt)
        scaler.update()
    else:
        opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)


def _batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed shuffled batches: little padding, still random order."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    pool = batch_size * 50
    out: list[list[int]] = []
    for p in range(0, len(idx), pool):
        chunk = sorted(idx[p : p + pool], key=lambda i: lengths[i])
        out += [chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size)]
    rng.shuffle(out)
    return out


def _subsample(
    examples: Sequence[Example], n: int | None, seed: int, part: str = "sample"
) -> list[Example]:
    """A seeded sample of ``n`` examples, or (``part="rest"``) everything that sample left out,
    so a second training stage can continue on the unseen examples."""
    ex = list(examples)
    if n is None or n >= len(ex):
        return ex if part == "sample" else []
    picked = random.Random(seed).sample(range(len(ex)), n)
    if part == "sample":
        return [ex[i] for i in picked]
    chosen = set(picked)
    return [e for i, e in enumerate(ex) if i not in chosen]


def _init_from(model: torch.nn.Module, folder: str) -> None:
    """Continue from a saved small model folder (same recipe): copy its trained parameters."""
    from safetensors.torch import load_file

    state = load_file(str(Path(folder) / "weights.safetensors"))
    state.pop("__added_token_embeddings__", None)
    copy_trained_state(model, state, folder)


def _data_summary(train: Sequence[Example], dev: Sequence[Example]) -> dict[str, Any]:
    def corpora(exs: Sequence[Example]) -> dict[str, int]:
        c: dict[str, int] = defaultdict(int)
        for e in exs:
            c[e.meta.get("corpus", "")] += 1
        return dict(sorted(c.items()))

    return {
        "train_examples": len(train),
        "dev_examples": len(dev),
        "train_corpora": corpora(train),
        "dev_corpora": corpora(dev),
    }


# --------------------------------------------------------------------------- token classification


def _allowed_o_tags(ex: Example, labels: Sequence[str], tags: Sequence[str]) -> np.ndarray:
    """Bool per tag: which tags an ``O`` of this example may really be (partial annotation)."""
    allowed = np.zeros(len(tags), dtype=bool)
    allowed[0] = True
    ann = ex.meta.get("annotated_labels")
    if ann:
        annotated = {a.strip() for a in ann.split(",") if a.strip()}
        for i, t in enumerate(tags):
            if t != "O" and t[2:] not in annotated:
                allowed[i] = True
    return allowed


def _token_train_windows(
    examples: Sequence[Example],
    tokenizer: Any,
    tags: Sequence[str],
    labels: Sequence[str],
    cfg: TrainConfig,
) -> tuple[list[DocTokens], list[Window], list[np.ndarray], np.ndarray]:
    tag_index = {t: i for i, t in enumerate(tags)}
    docs = tokenize_docs(tokenizer, [e.text for e in examples])
    targets = []
    for e, d in zip(examples, docs, strict=True):
        spans = [s for s in e.spans if s.label in labels and s.end > s.start]
        t = token_tag_ids(d, len(e.text), spans, tag_index)
        if not cfg.label_all_subtokens:
            t = np.where(d.word_start, t, -100)
        targets.append(t)
    wins = [
        w
        for i, d in enumerate(docs)
        for w in plan_windows(i, len(d.ids), cfg.max_length - 2, cfg.stride)
        if w.end > w.start
    ]
    o_allowed = (
        np.stack([_allowed_o_tags(e, labels, tags) for e in examples])
        if examples
        else np.zeros((0, len(tags)), bool)
    )
    return docs, wins, targets, o_allowed


def partial_label_loss(
    logits: torch.Tensor, target: torch.Tensor, o_allowed: torch.Tensor
) -> torch.Tensor:
    """Mean over labelled tokens of -log P(allowed tags); equals cross-entropy when every
    label is annotated. ``target`` uses -100 for ignored positions, tag 0 is ``O``."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    valid = target != -100
    safe = target.clamp(min=0)
    allowed = torch.nn.functional.one_hot(safe, logits.shape[-1]).bool()
    is_o = (safe == 0) & valid
    allowed = allowed | (is_o.unsqueeze(-1) & o_allowed.unsqueeze(1))
    lp = torch.logsumexp(logp.masked_fill(~allowed, float("-inf")), dim=-1)
    n = valid.sum().clamp(min=1)
    return -(lp * valid).sum() / n


def evaluate_token_model(
    clf: TokenClassifier, dev: Sequence[Example], labels: Sequence[str]
) -> dict[str, Any]:
    """Strict/relaxed entity scores on dev per corpus (``meta['corpus']``), each corpus scored
    only on the labels it annotates and read by its own head where the model has one (then
    also by the shared head, as ``corpus@shared``: what notes get)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(dev):
        groups[e.meta.get("corpus", "all")].append(i)
    out: dict[str, Any] = {}
    for name, idx in sorted(groups.items()):
        ann = dev[idx[0]].meta.get("annotated_labels")
        labs = [lab for lab in labels if not ann or lab in ann.split(",")]
        readers = {name: clf}
        if name in clf.heads:
            readers = {name: clf.with_head(name), f"{name}@shared": clf.with_head("")}
        for key, reader in readers.items():
            preds = reader.predict([dev[i].text for i in idx])
            out[key] = entity_scores([dev[i].spans for i in idx], preds, labs)
    if len(groups) > 1:
        f1s = [out[g]["strict"]["micro"]["f1"] for g in groups]
        out["mean_corpus_f1"] = sum(f1s) / len(f1s)
    return out


def _selection_f1(scores: dict[str, Any]) -> float:
    if "mean_corpus_f1" in scores:
        return float(scores["mean_corpus_f1"])
    (only,) = [v for v in scores.values() if isinstance(v, dict)]
    return float(only["strict"]["micro"]["f1"])


def _summary(scores: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v["strict"]["micro"] for k, v in scores.items() if isinstance(v, dict) and "strict" in v
    }


def _setup(cfg: TrainConfig, base: Path | str | None) -> tuple[Path, torch.device, Any]:
    """Threads, seeds, base encoder folder, device and autocast dtype: every trainer's start."""
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    base_path = Path(base) if base is not None else default_base_path()
    return base_path, device, _autocast_dtype(cfg, device)


@dataclass
class _Loop:
    """What differs between the token and the sequence trainer; everything else is shared."""

    lengths: list[int]  # one per training item, for length-bucketed batches
    batch_loss: Callable[[list[int]], tuple[torch.Tensor, int]]  # items -> (loss, tokens seen)
    score_dev: Callable[[], tuple[float, dict[str, Any], dict[str, Any]]] | None  # f1, all, summary


def _fit(
    model: torch.nn.Module,
    tokenizer: Any,
    cfg: TrainConfig,
    loop: _Loop,
    *,
    out_dir: Path,
    task: str,
    kind: Kind,
    labels: Sequence[str],
    recipe: Recipe,
    base: Path | str | None,
    data: dict[str, Any],
    rebuild_command: str,
    on_epoch: EpochCallback | None,
    ac_dtype: torch.dtype | None,
    device: torch.device,
) -> dict[str, Any]:
    """Epochs, optimizer/schedule, gradient accumulation, dev scoring, best-epoch checkpoint
    and early stopping: one loop for every model kind. Without a dev split every epoch saves."""
    steps_per_epoch = math.ceil(math.ceil(len(loop.lengths) / cfg.batch_size) / cfg.grad_accum)
    total = steps_per_epoch * cfg.epochs
    opt = _optimizer(model, cfg)
    sched = linear_schedule(opt, int(total * cfg.warmup_ratio), total)
    scaler = _scaler(ac_dtype, device)
    rng = random.Random(cfg.seed)
    history: list[dict[str, Any]] = []
    best_f1, best_epoch, bad, version = -1.0, 0, 0, ""
    best_scores: dict[str, Any] = {}
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        t0, seen_tokens, loss_sum, n_batches = time.time(), 0, 0.0, 0
        batches = _batches(loop.lengths, cfg.batch_size, rng)
        for b, bidx in enumerate(batches):
            with torch.autocast(
                device.type, dtype=ac_dtype or torch.float32, enabled=ac_dtype is not None
            ):
                loss, n_tokens = loop.batch_loss(bidx)
            loss = loss / cfg.grad_accum
            last_of_step = (b + 1) % cfg.grad_accum == 0 or b + 1 == len(batches)
            _step(loss, model, opt, sched, scaler, cfg, last_of_step)
            seen_tokens += n_tokens
            loss_sum += float(loss.detach()) * cfg.grad_accum
            n_batches += 1
            if (b + 1) % cfg.log_every == 0:
                el = time.time() - t0
                logger.info(
                    f"epoch {epoch} batch {b + 1}/{len(batches)} loss {loss_sum / n_batches:.4f} "
                    f"{seen_tokens / max(el, 1e-9):.0f} tok/s",
                    extra={"epoch": epoch, "batch": b + 1, "loss": loss_sum / n_batches},
                )
        train_s = time.time() - t0
        f1, scores, summary = loop.score_dev() if loop.score_dev else (0.0, {}, {})
        row = {
            "epoch": epoch,
            "loss": round(loss_sum / max(1, n_batches), 5),
            "train_s": round(train_s, 1),
            "eval_s": round(time.time() - t0 - train_s, 1),
            "dev_f1": round(f1, 5),
            "dev": summary,
        }
        history.append(row)
        logger.info(
            f"epoch {epoch} done: dev F1 {f1:.4f} {json.dumps(summary)}",
            extra={"epoch": epoch, "dev_f1": f1},
        )
        if f1 > best_f1 or loop.score_dev is None:
            best_f1, best_epoch, bad, best_scores = f1, epoch, 0, scores
            version = save_model(
                model,
                tokenizer,
                out_dir,
                task=task,
                kind=kind,
                labels=list(labels),
                recipe=recipe,
                base=base,
                config=cfg.model_dump(),
                metrics={
                    "best_epoch": epoch,
                    "selection_f1": f1,
                    "summary": summary,
                    "dev": scores,
                    "history": history,
                },
                data=data,
                rebuild_command=rebuild_command,
                weight_format=cfg.weight_format,
            )
        else:
            bad += 1
        if on_epoch is not None:
            on_epoch(epoch, f1)
        if bad >= cfg.patience:
            logger.info("early stop", extra={"epoch": epoch})
            break
    return {
        "best_epoch": best_epoch,
        "best_f1": best_f1,
        "history": history,
        "dev": best_scores,
        "version": version,
        "out_dir": str(out_dir),
        "weights_mb": round((out_dir / WEIGHTS).stat().st_size / 1e6, 3) if version else 0.0,
    }


def train_token_classifier(
    train: Sequence[Example],
    dev: Sequence[Example],
    labels: Sequence[str],
    cfg: TrainConfig,
    out_dir: Path | str,
    task: str,
    base: Path | str | None = None,
    *,
    rebuild_command: str = "",
    on_epoch: EpochCallback | None = None,
) -> dict[str, Any]:
    """Fine-tune a BIO tagger over character spans; checkpoint the best dev epoch to ``out_dir``.

    Returns ``{"best_epoch", "best_f1", "history", "dev", "version", "out_dir", "weights_mb"}``.
    """
    base_path, device, ac_dtype = _setup(cfg, base)
    tags = bio_tags(labels)
    model_labels = head_labels(tags, cfg.corpus_heads)
    train = _subsample(train, cfg.max_train_examples, cfg.seed, cfg.sample_part)
    dev = _subsample(dev, cfg.max_dev_examples, cfg.seed + 1)
    tokenizer = load_tokenizer(base_path)
    model = build_model(base_path, "token", model_labels)
    recipe = Recipe(cfg.trainable, cfg.lora_rank, cfg.lora_alpha, cfg.top_layers)
    prepare_trainable(model, recipe)
    if cfg.init_from:
        _init_from(model, cfg.init_from)
    model.to(device)
    docs, wins, targets, o_allowed = _token_train_windows(train, tokenizer, tags, labels, cfg)
    logger.info(
        "training token classifier",
        extra={
            "task": task,
            "windows": len(wins),
            "examples": len(train),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "device": str(device),
        },
    )
    clf = TokenClassifier(
        model,
        tokenizer,
        model_labels,
        max_tokens=cfg.eval_max_length,
        stride=cfg.stride,
        batch_size=32,
        device=str(device),
        bf16=ac_dtype == torch.bfloat16,
        first_subtoken=not cfg.label_all_subtokens,
    )
    o_allowed_t = torch.from_numpy(o_allowed)
    # Which head besides the shared one each example also trains (0: none).
    own_head = torch.tensor(
        [1 + cfg.corpus_heads.index(c) if c in cfg.corpus_heads else 0 for c in
         (e.meta.get("corpus", "") for e in train)],
        dtype=torch.long,
    )  # fmt: skip
    n_tags = len(tags)
    tok = tokenizer

    def batch_loss(bidx: list[int]) -> tuple[torch.Tensor, int]:
        chunk = [wins[i] for i in bidx]
        ids, mask = batch_windows(
            docs, chunk, tok.cls_token_id, tok.sep_token_id, tok.pad_token_id or 0
        )
        target = torch.full(ids.shape, -100, dtype=torch.long)
        for r, w in enumerate(chunk):
            target[r, 1 : 1 + w.end - w.start] = torch.from_numpy(targets[w.doc][w.start : w.end])
        oa = o_allowed_t[[w.doc for w in chunk]].to(device)
        ids, mask, target = ids.to(device), mask.to(device), target.to(device)
        logits = model(input_ids=ids, attention_mask=mask).logits
        loss = partial_label_loss(logits[..., :n_tags], target, oa)
        if cfg.corpus_heads:
            heads = own_head[[w.doc for w in chunk]].to(device)
            by_head = logits.view(*logits.shape[:2], -1, n_tags)
            own = by_head[torch.arange(len(chunk), device=device), :, heads]
            loss = loss + partial_label_loss(
                own, target.masked_fill((heads == 0)[:, None], -100), oa
            )
        return loss, int(mask.sum())

    def score_dev() -> tuple[float, dict[str, Any], dict[str, Any]]:
        scores = evaluate_token_model(clf, dev, labels)
        return _selection_f1(scores), scores, _summary(scores)

    loop = _Loop([w.end - w.start for w in wins], batch_loss, score_dev if dev else None)
    return _fit(
        model,
        tokenizer,
        cfg,
        loop,
        out_dir=Path(out_dir),
        task=task,
        kind="token",
        labels=model_labels,
        recipe=recipe,
        base=base,
        data=_data_summary(train, dev),
        rebuild_command=rebuild_command,
        on_epoch=on_epoch,
        ac_dtype=ac_dtype,
        device=device,
    )


# ------------------------------------------------------------------------ sequence classification


def sequence_scores(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str], negative: str | None
) -> dict[str, Any]:
    """Accuracy, per-label P/R/F1, macro F1, and the F1 used for model selection."""
    from streamproc.evaluate.metrics import prf

    per = {}
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == lab and p != lab)
        per[lab] = prf(tp, fp, fn)
    pos = [lab for lab in labels if lab != negative]
    tp = sum(int(per[lab]["tp"]) for lab in pos)
    fp = sum(int(per[lab]["fp"]) for lab in pos)
    fn = sum(int(per[lab]["fn"]) for lab in pos)
    micro = prf(tp, fp, fn)
    macro = sum(float(per[lab]["f1"]) for lab in labels) / max(1, len(labels))
    acc = sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / max(1, len(gold))
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    return {
        "accuracy": round(acc, 6),
        "per_label": per,
        "micro": micro,
        "macro_f1": round(macro, 6),
        "selection_f1": micro["f1"] if negative else round(macro, 6),
        "confusion": {g: dict(c) for g, c in confusion.items()},
    }


def train_sequence_classifier(
    train: Sequence[Example],
    dev: Sequence[Example],
    labels: Sequence[str],
    cfg: TrainConfig,
    out_dir: Path | str,
    task: str,
    base: Path | str | None = None,
    *,
    rebuild_command: str = "",
    on_epoch: EpochCallback | None = None,
) -> dict[str, Any]:
    """Fine-tune a text classifier on ``Example.label``. Marker tokens the caller inserted
    (``cfg.added_tokens``) become special tokens whose new embedding rows train and ship."""
    from streamproc.nlp.sequence_classifier import SequenceClassifier, pad_batch

    base_path, device, ac_dtype = _setup(cfg, base)
    labels = list(labels)
    train = [e for e in _subsample(train, cfg.max_train_examples, cfg.seed) if e.label is not None]
    dev = [e for e in _subsample(dev, cfg.max_dev_examples, cfg.seed + 1) if e.label is not None]
    unknown = {e.label for e in [*train, *dev]} - set(labels)
    if unknown:
        raise ValueError(
            f"examples carry labels not in the label list: {sorted(map(str, unknown))}"
        )
    tokenizer = load_tokenizer(base_path)
    base_vocab = len(tokenizer)
    if cfg.added_tokens:
        tokenizer.add_special_tokens({"additional_special_tokens": list(cfg.added_tokens)})
    model = build_model(base_path, "sequence", labels)
    if cfg.added_tokens:
        model.resize_token_embeddings(len(tokenizer))  # type: ignore[operator]
    recipe = Recipe(
        cfg.trainable,
        cfg.lora_rank,
        cfg.lora_alpha,
        cfg.top_layers,
        list(cfg.added_tokens),
        base_vocab,
    )
    prepare_trainable(model, recipe)
    model.to(device)
    lab_index = {lab: i for i, lab in enumerate(labels)}
    ids_all = tokenizer([e.text for e in train], truncation=True, max_length=cfg.max_length)[
        "input_ids"
    ]
    y_all = [lab_index[str(e.label)] for e in train]
    clf = SequenceClassifier(
        model,
        tokenizer,
        labels,
        max_tokens=cfg.max_length,
        batch_size=32,
        device=str(device),
        bf16=ac_dtype == torch.bfloat16,
    )
    pad = tokenizer.pad_token_id or 0

    def batch_loss(bidx: list[int]) -> tuple[torch.Tensor, int]:
        ids, mask = pad_batch([ids_all[i] for i in bidx], pad)
        y = torch.tensor([y_all[i] for i in bidx]).to(device)
        ids, mask = ids.to(device), mask.to(device)
        logits = model(input_ids=ids, attention_mask=mask).logits
        return torch.nn.functional.cross_entropy(logits.float(), y), int(mask.sum())

    def score_dev() -> tuple[float, dict[str, Any], dict[str, Any]]:
        probs = clf.predict_proba([e.text for e in dev])
        pred = [labels[int(np.argmax(p))] for p in probs]
        scores = sequence_scores([str(e.label) for e in dev], pred, labels, cfg.negative_label)
        return float(scores["selection_f1"]), scores, {"dev": scores.get("micro", {})}

    loop = _Loop([len(x) for x in ids_all], batch_loss, score_dev if dev else None)
    return _fit(
        model,
        tokenizer,
        cfg,
        loop,
        out_dir=Path(out_dir),
        task=task,
        kind="sequence",
        labels=labels,
        recipe=recipe,
        base=base,
        data=_data_summary(train, dev),
        rebuild_command=rebuild_command,
        on_epoch=on_epoch,
        ac_dtype=ac_dtype,
        device=device,
    )
