"""The ``dapt`` task: domain-adaptive masked-LM pre-training of the base encoder's layers.

all-MiniLM-L6-v2 was tuned for sentence similarity on web text; before any task fine-tune, a
short masked-LM run on the *training* text of the open corpora (PubMed abstracts of BC5CDR /
NCBI / ADE / PHEE, Chia criteria, PhysioNet nursing notes with their PHI replaced by type
placeholders) adapts its layers to clinical and biomedical language. A site's own notes are read
too, from ``*.jsonl`` files of de-identified notes in the data folder (``streamproc process -o``
output); text that is not marked de-identified is never read. The word, position and
type embeddings stay frozen, so a task model that trains every encoder layer on top of this
encoder still loads on the wheel's embeddings: the adapted encoder is a build step, never
shipped (``nlp.modeling.shipped_base_id`` records the wheel as the base of such models).

No dev or held-out text is read for training: every text unit equal to
a unit of any dev split is dropped (letters and digits compared), ADE / PHEE by abstract as the ADE task splits them, the
de-id notes by patient, and the Synthea notes (the ``ner-notes`` check) are not used at all.
A seeded 2 % of the packed blocks is held out for the masked-token accuracy the card reports.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from safetensors.torch import load_file, save_file

from streamproc.devices import resolve_device
from streamproc.nlp.modeling import DAPT_FILE, compute_version
from streamproc.train.core import autocast_dtype, command_line, linear_schedule, seed_everything

logger = logging.getLogger(__name__)

NAME = "dapt"
MLM_HEAD = "mlm_head.safetensors"  # the masked-LM head, for `streamproc eval dapt` only


class DaptConfig(BaseModel):
    """Masked-LM recipe, stored in ``dapt.json``."""

    model_config = ConfigDict(extra="forbid")

    lr: float = Field(1e-4, gt=0)
    epochs: int = Field(4, ge=1)
    batch_size: int = Field(128, ge=1)
    max_length: int = Field(128, ge=16, le=512)  # tokens per packed block incl. [CLS]/[SEP]
    mlm_probability: float = Field(0.15, gt=0, lt=1)
    warmup_ratio: float = Field(0.06, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0)
    max_grad_norm: float = 1.0
    heldout_fraction: float = Field(0.02, ge=0, lt=0.5)
    seed: int = 13
    threads: int = Field(1, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = "auto"
    max_units: int | None = None  # a seeded sample of text units (tests, quick runs)
    log_every: int = Field(100, ge=1)


@dataclass(frozen=True)
class TextUnit:
    source: str
    text: str


_NOT_WORD = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """Compare texts without case, spacing or punctuation: BC5CDR's tokenised
    "Parkinson ' s disease :" is ADE's "Parkinson's disease:"."""
    return _NOT_WORD.sub("", text.lower())


_BLANK_LINES = re.compile(r"\n\s*\n")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in _BLANK_LINES.split(text) if p.strip()]


def _without_phi(text: str, spans: Any) -> str:
    """Each PHI span replaced by its type in brackets ('[date]'), so no identifier is learned."""
    out, last = [], 0
    for s in sorted(spans, key=lambda s: s.start):
        if s.start < last:
            continue
        out += [text[last : s.start], f"[{s.label.lower()}]"]
        last = s.end
    return "".join(out + [text[last:]])


def corpus_texts(data: Path) -> tuple[list[TextUnit], list[TextUnit]]:
    """(train, dev) text units of every corpus found under ``data`` (the shared data root);
    missing corpora are skipped. De-id notes: train patients only, PHI replaced by its type."""
    from streamproc.train.datasets.ade import read_ade
    from streamproc.train.datasets.ner_corpora import read_ner_corpora
    from streamproc.train.datasets.phee import read_phee
    from streamproc.train.datasets.physionet_deid import read_corpus

    data = Path(data)
    train: list[TextUnit] = []
    dev: list[TextUnit] = []
    ner_dir = data / "ner"
    if ner_dir.is_dir():
        train += [
            TextUnit(e.meta.get("corpus", "ner"), e.text)
            for e in read_ner_corpora(ner_dir, "train")
        ]
        dev += [
            TextUnit(e.meta.get("corpus", "ner"), e.text) for e in read_ner_corpora(ner_dir, "dev")
        ]
    ade_groups_dev: set[str] = set()
    if (data / "ade" / "DRUG-AE.rel").is_file():
        ade = read_ade(data)
        ade_groups_dev = {e.group for e in ade if e.split == "dev"}
        train += [TextUnit("ade", e.text) for e in ade if e.split == "train"]
        dev += [TextUnit("ade", e.text) for e in ade if e.split == "dev"]
    if (data / "phee").is_dir():
        phee = read_phee(data)
        train += [TextUnit("phee", e.text) for e in phee
                  if e.split == "train" and e.group not in ade_groups_dev]  # fmt: skip
        dev += [TextUnit("phee", e.text) for e in phee if e.split == "dev"]
    if (data / "deid" / "id.text").is_file():
        for e in read_corpus(data / "deid", "train"):
            train += [
                TextUnit("physionet-notes", p) for p in _paragraphs(_without_phi(e.text, e.spans))
            ]
    for path in sorted(data.glob("*.jsonl")):
        train += [
            TextUnit("deid-notes", p)
            for text in deidentified_texts(path)
            for p in _paragraphs(text)
        ]
    return train, dev


def deidentified_texts(path: Path) -> list[str]:
    """Note texts of a JSON-lines file of de-identified notes: ``streamproc process -o`` output
    (``notes.deid`` records) or ``NoteEvent`` lines. A site adapts the encoder to its own notes
    this way, and only after de-identification: a note not marked ``deidentified`` is skipped."""
    texts: list[str] = []
    skipped = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        if not isinstance(record, dict):
            skipped += 1
            continue
        if "topic" in record and "value" in record:
            if record["topic"] != "notes.deid":
                continue
            record = record["value"]
        if isinstance(record, dict) and record.get("deidentified") is True and record.get("text"):
            texts.append(str(record["text"]))
        else:
            skipped += 1
    if skipped:
        logger.warning(
            "lines skipped (not de-identified notes)", extra={"file": path.name, "lines": skipped}
        )
    return texts


def _unique(units: list[TextUnit]) -> list[TextUnit]:
    seen: set[str] = set()
    out: list[TextUnit] = []
    for unit in units:
        key = _fold(unit.text)
        if key and key not in seen:
            seen.add(key)
            out.append(unit)
    return out


def collect_texts(data: Path) -> tuple[list[TextUnit], dict[str, Any]]:
    """Training-side text units, each once, minus any unit that equals a dev unit."""
    train, dev = corpus_texts(data)
    dev_keys = {_fold(u.text) for u in dev}
    unique = _unique(train)
    kept = [u for u in unique if _fold(u.text) not in dev_keys]
    by_source: dict[str, int] = {}
    for unit in kept:
        by_source[unit.source] = by_source.get(unit.source, 0) + 1
    summary = {"units": len(kept), "by_source": dict(sorted(by_source.items())),
               "dropped_as_dev_text": len(unique) - len(kept)}  # fmt: skip
    return kept, summary


def pack_blocks(tokenizer: Any, texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids of all texts, joined by [SEP] and cut into blocks of ``max_length``."""
    body = max_length - 2
    stream: list[int] = []
    for start in range(0, len(texts), 1000):
        for ids in tokenizer(texts[start : start + 1000], add_special_tokens=False)["input_ids"]:
            stream += [*ids, tokenizer.sep_token_id]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [[cls, *stream[i : i + body], sep] for i in range(0, len(stream), body)]


def mask_tokens(
    ids: torch.Tensor, tokenizer: Any, probability: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking: of the chosen ``probability`` share of non-special tokens, 80 % [MASK],
    10 % a random token, 10 % unchanged. Returns (inputs, labels with -100 elsewhere)."""
    special = (
        (ids == tokenizer.cls_token_id)
        | (ids == tokenizer.sep_token_id)
        | (ids == tokenizer.pad_token_id)
    )
    chosen = (torch.rand(ids.shape, generator=generator) < probability) & ~special
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    roll = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[chosen & (roll < 0.8)] = tokenizer.mask_token_id
    random_ids = torch.randint(len(tokenizer), ids.shape, generator=generator)
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = random_ids[swap]
    return inputs, labels


def _batch(blocks: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(b) for b in blocks)
    ids = torch.full((len(blocks), width), pad_id, dtype=torch.long)
    att = torch.zeros((len(blocks), width), dtype=torch.long)
    for i, b in enumerate(blocks):
        ids[i, : len(b)] = torch.tensor(b)
        att[i, : len(b)] = 1
    return ids, att


@torch.no_grad()
def masked_accuracy(model: Any, tokenizer: Any, blocks: list[list[int]], cfg: DaptConfig,
                    device: torch.device) -> dict[str, float]:  # fmt: skip
    """Loss and top-1 accuracy on masked tokens of ``blocks`` with a fixed mask (seeded), so
    every encoder is scored on the same positions."""
    model.eval()
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    total_loss, correct, count = 0.0, 0, 0
    for start in range(0, len(blocks), cfg.batch_size):
        ids, att = _batch(blocks[start : start + cfg.batch_size], tokenizer.pad_token_id)
        inputs, labels = mask_tokens(ids, tokenizer, cfg.mlm_probability, gen)
        logits = model(input_ids=inputs.to(device), attention_mask=att.to(device)).logits.float()
        labels = labels.to(device)
        where = labels != -100
        total_loss += float(
            torch.nn.functional.cross_entropy(logits[where], labels[where], reduction="sum")
        )
        correct += int((logits[where].argmax(-1) == labels[where]).sum())
        count += int(where.sum())
    model.train()
    n = max(1, count)
    return {"loss": round(total_loss / n, 4), "accuracy": round(correct / n, 4), "tokens": count}


def _mlm_model(base: Path) -> Any:
    """BertForMaskedLM on the base folder, embeddings frozen (the MLM decoder is tied to them)."""
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(str(base), dtype=torch.float32)
    for p in model.get_input_embeddings().parameters():
        p.requires_grad = False
    encoder = getattr(model, model.base_model_prefix)
    for p in encoder.embeddings.parameters():
        p.requires_grad = False
    return model


def save_encoder(model: Any, encoder: Any, tokenizer: Any, out: Path, info: dict[str, Any]) -> None:
    """The adapted encoder as a plain HF folder: ``encoder`` (the base's own model class, loaded
    once, pooler included) takes the trained layers and is saved with the tokenizer and
    ``dapt.json``."""
    trained = getattr(model, model.base_model_prefix).state_dict()
    missing, unexpected = encoder.load_state_dict(trained, strict=False)
    if unexpected or any(not k.startswith("pooler") for k in missing):
        raise RuntimeError(f"encoder state mismatch: missing {missing}, unexpected {unexpected}")
    out.mkdir(parents=True, exist_ok=True)
    encoder.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    head = {k: v.detach().contiguous() for k, v in model.state_dict().items()
            if not k.startswith(model.base_model_prefix + ".")}  # fmt: skip
    # tied: the decoder's weight is the word embeddings, its bias the head's bias
    head.pop("cls.predictions.decoder.weight", None)
    head.pop("cls.predictions.decoder.bias", None)
    save_file(head, str(out / MLM_HEAD))
    info["version"] = compute_version(out / "model.safetensors", info.get("recipe", {}))
    (out / DAPT_FILE).write_text(json.dumps(info, indent=1, sort_keys=True, default=str) + "\n")


def train_dapt(data: Path, out: Path, cfg: DaptConfig, base: Path | None = None,
               rebuild_command: str = "") -> dict[str, Any]:  # fmt: skip
    from transformers import AutoModel, AutoTokenizer

    from streamproc.nlp.modeling import base_encoder_path, base_id_for

    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    base_path = base_encoder_path(base)
    device = resolve_device(cfg.device)
    tokenizer = AutoTokenizer.from_pretrained(str(base_path))
    units, summary = collect_texts(data)
    if not units:
        raise FileNotFoundError(f"no training text found under {data}")
    rng = random.Random(cfg.seed)
    rng.shuffle(units)
    if cfg.max_units is not None:
        units = units[: cfg.max_units]
    blocks = pack_blocks(tokenizer, [u.text for u in units], cfg.max_length)
    rng.shuffle(blocks)
    n_held = max(1, round(len(blocks) * cfg.heldout_fraction)) if cfg.heldout_fraction else 0
    heldout, train_blocks = blocks[:n_held], blocks[n_held:]
    model = _mlm_model(base_path).to(device)
    encoder = AutoModel.from_pretrained(str(base_path), dtype=torch.float32)  # what is saved
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [
        p
        for n, p in model.named_parameters()
        if p.requires_grad and p.ndim >= 2 and "LayerNorm" not in n
    ]
    no_decay = [p for p in params if all(p is not d for d in decay)]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=cfg.lr,
    )
    steps_per_epoch = math.ceil(len(train_blocks) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    sched = linear_schedule(opt, round(total * cfg.warmup_ratio), total)
    ac_dtype = autocast_dtype(cfg.mixed_precision, device)
    before = masked_accuracy(model, tokenizer, heldout, cfg, device) if heldout else {}
    logger.info("dapt start", extra={"blocks": len(train_blocks), "heldout_blocks": n_held,
                                      "steps": total, "heldout_before": before})  # fmt: skip
    gen = torch.Generator().manual_seed(cfg.seed)
    history: list[dict[str, Any]] = []
    info: dict[str, Any] = {}
    step = 0
    started = time.time()
    model.train()
    for epoch in range(1, cfg.epochs + 1):
        order = list(range(len(train_blocks)))
        rng.shuffle(order)
        t0, running = time.time(), 0.0
        for b in range(steps_per_epoch):
            chunk = [train_blocks[i] for i in order[b * cfg.batch_size : (b + 1) * cfg.batch_size]]
            ids, att = _batch(chunk, tokenizer.pad_token_id)
            inputs, labels = mask_tokens(ids, tokenizer, cfg.mlm_probability, gen)
            with torch.autocast(device.type, dtype=ac_dtype, enabled=ac_dtype is not None):
                loss = model(input_ids=inputs.to(device), attention_mask=att.to(device),
                             labels=labels.to(device)).loss  # fmt: skip
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            running += float(loss.detach())
            step += 1
            if step % cfg.log_every == 0:
                logger.info(
                    "dapt step",
                    extra={"step": step, "of": total, "loss": round(running / (b + 1), 4)},
                )
        held = masked_accuracy(model, tokenizer, heldout, cfg, device) if heldout else {}
        history.append({"epoch": epoch, "train_loss": round(running / max(1, steps_per_epoch), 4),
                        "heldout": held, "seconds": round(time.time() - t0, 1)})  # fmt: skip
        print(json.dumps(history[-1]), flush=True)
        info = {
            "format": "streamproc-dapt-v1",
            "base": base_id_for(base),
            "recipe": cfg.model_dump(),
            "data": {
                **summary,
                "train_blocks": len(train_blocks),
                "heldout_blocks": n_held,
                "tokens_per_epoch": sum(len(b) for b in train_blocks),
            },  # fmt: skip
            "heldout_masked_lm": {"before": before, "after": held},
            "history": history,
            "seconds": round(time.time() - started, 1),
            "device": device.type,
            "rebuild_command": rebuild_command or command_line(NAME),
        }
        save_encoder(
            model, encoder, tokenizer, Path(out), info
        )  # every epoch: a stopped run leaves one
    return info


@dataclass(frozen=True)
class DaptTask:
    name: str = NAME
    description: str = "domain-adaptive masked-LM pre-training of the base encoder (build step)"

    def train(self, data: Path, out: Path, *, config: dict[str, Any] | None = None,
              epochs: int | None = None, max_examples: int | None = None, base: Path | None = None,
              **kw: Any) -> dict[str, Any]:  # fmt: skip
        cfg = dict(config or {})
        if epochs is not None:
            cfg["epochs"] = epochs
        if max_examples is not None:
            cfg["max_units"] = max_examples
        return train_dapt(Path(data), Path(out), DaptConfig(**cfg), base)

    def evaluate(self, data: Path, split: str = "dev", *, model_dir: Path | None = None,
                 limit: int | None = None, **kw: Any) -> dict[str, Any]:  # fmt: skip
        """Masked-token loss and accuracy of an adapted encoder (``--model``, with the head it
        was trained with) on the corpora's dev text units, which it never read."""
        if model_dir is None or not (Path(model_dir) / MLM_HEAD).is_file():
            raise FileNotFoundError(f"an adapted encoder folder with {MLM_HEAD} (--model)")
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        cfg = DaptConfig(**json.loads((Path(model_dir) / DAPT_FILE).read_text())["recipe"])
        device = resolve_device(cfg.device)
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        model = AutoModelForMaskedLM.from_pretrained(str(model_dir), dtype=torch.float32)
        missing = model.load_state_dict(load_file(str(Path(model_dir) / MLM_HEAD)), strict=False)
        if missing.unexpected_keys:
            raise ValueError(f"unexpected MLM head tensors: {missing.unexpected_keys}")
        model.tie_weights()
        train, dev = corpus_texts(Path(data))
        units = dev if split in ("dev", "test") else _unique(train + dev)
        units = _unique(units)[:limit] if limit else _unique(units)
        blocks = pack_blocks(tokenizer, [u.text for u in units], cfg.max_length)
        scores = masked_accuracy(model.to(device), tokenizer, blocks, cfg, device)
        return {"task": NAME, "model": str(model_dir), "split": split, "units": len(units),
                "blocks": len(blocks), "masked_lm": scores}  # fmt: skip


TASK = DaptTask()
