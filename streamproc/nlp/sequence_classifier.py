"""Sequence-classification inference: batch of texts -> label probabilities.

Texts are truncated to ``max_tokens`` (sequence tasks classify sentences or marked entity
pairs, which fit one window), sorted by length to avoid padding, and run under
``torch.inference_mode`` with bf16 autocast on GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from streamproc.devices import resolve_device


def pad_batch(seqs: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id lists -> right-padded ``[n, longest]`` ids and attention mask."""
    width = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for r, x in enumerate(seqs):
        ids[r, : len(x)] = torch.tensor(list(x), dtype=torch.long)
        mask[r, : len(x)] = 1
    return ids, mask


class SequenceClassifier:
    """Any sequence-classification model with its tokenizer and label list."""

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        labels: Sequence[str],
        *,
        max_tokens: int = 256,
        batch_size: int = 16,
        device: str = "auto",
        threads: int | None = None,
        bf16: bool | None = None,
        version: str = "",
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = list(labels)
        limit = getattr(getattr(model, "config", None), "max_position_embeddings", max_tokens)
        self.max_tokens = min(max_tokens, int(limit))
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self.bf16 = (self.device.type == "cuda") if bf16 is None else bf16
        self.version = version
        if threads:
            torch.set_num_threads(threads)
        self.model.to(self.device)

    @classmethod
    def from_path(
        cls, path: Path | str, settings: Any | None = None, **kw: Any
    ) -> SequenceClassifier:
        from streamproc.nlp.modeling import load_model

        override = settings.models.base_encoder if settings is not None else None
        lm = load_model(path, base_override=override, kind="sequence")
        if settings is not None:
            kw.setdefault("max_tokens", settings.max_window_tokens)
            kw.setdefault("batch_size", settings.batch_size)
            kw.setdefault("device", settings.device)
            kw.setdefault("threads", settings.inference_threads)
        return cls(lm.model, lm.tokenizer, lm.labels, version=lm.version, **kw)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """[n_texts, n_labels] probabilities in input order."""
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if not texts:
            return out
        enc = self.tokenizer(list(texts), truncation=True, max_length=self.max_tokens)
        ids_all = enc["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids_all[i]))
        pad = self.tokenizer.pad_token_id or 0
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                idx = order[b : b + self.batch_size]
                ids, mask = pad_batch([ids_all[i] for i in idx], pad)
                ids, mask = ids.to(self.device), mask.to(self.device)
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    logits = self.model(input_ids=ids, attention_mask=mask).logits
                out[idx] = torch.softmax(logits.float(), -1).cpu().numpy()
        if was_training:
            self.model.train()
        return out

    def predict(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Label -> probability for each text."""
        return [
            dict(zip(self.labels, map(float, row), strict=True))
            for row in self.predict_proba(texts)
        ]
