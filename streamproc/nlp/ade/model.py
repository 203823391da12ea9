"""The ADE network: one MiniLM pass per sentence feeds span taggers, a pair scorer and a sentence head.

Why one joint network: a pair classifier with entity markers costs one encoder pass per candidate
pair; pooling the two spans from a single pass costs one pass per sentence, which is what a 2-core
CPU worker can afford. Heads:

* four BIO taggers (first sub-token of each word): ``ade_drug``/``ade_effect`` (ADE-Corpus-V2
  conventions: bare drug names, effect phrases) and ``phee_treatment``/``phee_effect`` (PHEE
  argument conventions), independent so a drug may sit inside an effect ("digoxin toxicity");
* a pair scorer over ``[drug; effect; drug*effect; sentence]`` mean-pooled vectors;
* a sentence head (auxiliary ADE/no-ADE signal, reported in eval).

Only the top ``len(layers) - split_layer`` encoder layers are fine-tuned: the bottom ones stay the
shipped all-MiniLM-L6-v2 weights, so the package ships ~7 MB (top layers in fp16 + heads) and
training can cache the frozen layers' output once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from streamproc.nlp.modeling import WeightFormat, base_encoder_path, dequantized, storable

HEADS: tuple[str, ...] = ("ade_drug", "ade_effect", "phee_treatment", "phee_effect")
TAGS: tuple[str, ...] = ("O", "B", "I")
WEIGHTS_FILE = "ade_top.safetensors"
CONFIG_FILE = "ade_config.json"


@dataclass
class AdeConfig:
    split_layer: int = 4
    max_len: int = 160
    rel_hidden: int = 256
    version: str = "ade-untrained"
    threshold: float = 0.5
    gate_with_sentence: bool = False  # relation score = pair prob x sentence-head prob
    weight_format: str = "fp16"  # or "int8": per-row absmax int8 for the top layers' matrices
    extra: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: Path) -> None:
        (folder / CONFIG_FILE).write_text(json.dumps(self.__dict__, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> AdeConfig:
        data = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class AdeNet(nn.Module):
    def __init__(self, encoder: nn.Module, cfg: AdeConfig) -> None:
        super().__init__()
        self.encoder = encoder
        self.cfg = cfg
        hidden = int(encoder.config.hidden_size)  # type: ignore[union-attr,arg-type]
        self.dropout = nn.Dropout(0.1)
        self.tagger = nn.Linear(hidden, len(HEADS) * len(TAGS))
        self.rel = nn.Sequential(
            nn.Linear(4 * hidden, cfg.rel_hidden),
            nn.GELU(),
            nn.Dropout(0.1),
            nn.Linear(cfg.rel_hidden, 1),
        )
        self.sent = nn.Linear(hidden, 1)

    # ---- encoder, split in two so the frozen bottom can be cached ----------------------------
    @staticmethod
    def mask4d(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        neg = torch.finfo(dtype).min
        return (1.0 - attention_mask[:, None, None, :].to(dtype)) * neg

    @property
    def device(self) -> torch.device:
        return self.tagger.weight.device

    def _layers(self) -> nn.ModuleList:
        return self.encoder.encoder.layer  # type: ignore[union-attr,return-value]

    def bottom(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder.embeddings(input_ids=input_ids)  # type: ignore[union-attr,operator]
        mask = self.mask4d(attention_mask, hidden.dtype)
        for layer in list(self._layers())[: self.cfg.split_layer]:
            hidden = _as_tensor(layer(hidden, mask))
        return hidden

    def top(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = self.mask4d(attention_mask, hidden.dtype)
        for layer in list(self._layers())[self.cfg.split_layer :]:
            hidden = _as_tensor(layer(hidden, mask))
        return hidden

    def forward_hidden(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.top(self.bottom(input_ids, attention_mask), attention_mask)

    # ---- heads ----------------------------------------------------------------------------------
    def tag_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(batch, length, heads, tags)."""
        out = self.tagger(self.dropout(hidden))
        return out.view(*hidden.shape[:2], len(HEADS), len(TAGS))

    @staticmethod
    def pooled(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)

    def sent_logits(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.sent(self.dropout(self.pooled(hidden, attention_mask))).squeeze(-1)

    def pair_logits(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor, pairs: torch.Tensor
    ) -> torch.Tensor:
        """``pairs``: (n, 5) long = (row, drug_tok_start, drug_tok_end, eff_tok_start, eff_tok_end)."""
        if pairs.numel() == 0:
            return hidden.new_zeros((0,))
        cs = torch.cat([hidden.new_zeros(hidden.shape[0], 1, hidden.shape[2]), hidden.cumsum(1)], 1)
        row = pairs[:, 0]

        def span_mean(s: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
            width = (e - s).clamp(min=1).unsqueeze(-1).to(hidden.dtype)
            return (cs[row, e] - cs[row, s]) / width

        drug = span_mean(pairs[:, 1], pairs[:, 2])
        effect = span_mean(pairs[:, 3], pairs[:, 4])
        sent = self.pooled(hidden, attention_mask)[row]
        feats = torch.cat([drug, effect, drug * effect, sent], -1)
        return self.rel(self.dropout(feats)).squeeze(-1)

    # ---- persistence: only what differs from the base encoder --------------------------------
    def trainable_state(self) -> dict[str, torch.Tensor]:
        keep = {}
        prefixes = tuple(
            f"encoder.encoder.layer.{i}." for i in range(self.cfg.split_layer, len(self._layers()))
        )
        for name, tensor in self.state_dict().items():
            if name.startswith(prefixes) or not name.startswith("encoder."):
                keep[name] = tensor
        # Weight-only int8 lets the fine-tuned layers fit the weights budget.
        fmt: WeightFormat = "int8" if self.cfg.weight_format == "int8" else "fp16"
        return storable(keep, fmt)

    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        save_file(self.trainable_state(), str(folder / WEIGHTS_FILE))
        self.cfg.save(folder)


def _as_tensor(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out


def build(cfg: AdeConfig, base: Path | None = None) -> AdeNet:
    """A network on the base encoder with fresh heads (no fine-tuned weights)."""
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(
        str(base_encoder_path(base)), attn_implementation="sdpa", dtype=torch.float32
    )  # float32 whatever the checkpoint's dtype: the heads and the caches are float32
    return AdeNet(encoder, cfg)


def load(folder: Path, base: Path | None = None) -> AdeNet:
    """Base encoder + the shipped top layers and heads from ``folder``."""
    from safetensors.torch import load_file

    cfg = AdeConfig.load(folder)
    net = build(cfg, base)
    state = dequantized(load_file(str(folder / WEIGHTS_FILE)))
    own = net.state_dict()
    unknown = [k for k in state if k not in own]
    if unknown:
        raise ValueError(f"ADE weights do not fit the network: {unknown[:3]}")
    net.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=False)
    net.eval()
    net.cfg.version = f"{cfg.version}-{content_digest(folder)}"
    return net


def content_digest(folder: Path) -> str:
    """Short hash of the weights and the recipe: the version that goes into outputs and caches,
    so a retrained or edited model never reuses another's cached results."""
    import hashlib

    digest = hashlib.sha256()
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()[:10]
