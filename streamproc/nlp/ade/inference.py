"""Batched prediction from encoder output: spans per head, scored drug/effect pairs, sentence prob.

Kept apart from the extractor so training-time evaluation (on cached hidden states) and the
streaming extractor decode exactly the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from streamproc.nlp.ade.encoding import Encoded, decode_words
from streamproc.nlp.ade.model import HEADS, AdeNet
from streamproc.nlp.token_classifier import bio_constraints, viterbi_tags

CharSpan = tuple[int, int]


@dataclass
class SentencePrediction:
    spans: dict[str, list[CharSpan]] = field(default_factory=dict)  # head -> char spans
    pairs: list[tuple[CharSpan, CharSpan, float]] = field(default_factory=list)
    sentence_prob: float = 0.0

    def scored(self, gate: bool = False) -> list[tuple[CharSpan, CharSpan, float]]:
        """Pairs with their final score: the pair probability, times the sentence-head
        probability when ``gate`` (the pair scorer only ever saw gold spans of ADE sentences,
        so on sentences without an ADE its scores run high)."""
        if not gate:
            return list(self.pairs)
        return [(d, e, p * self.sentence_prob) for d, e, p in self.pairs]


_BIO = ("O", "B-x", "I-x")  # the taggers' O/B/I, named so bio_constraints can read them


def best_word_tags(probs: np.ndarray) -> list[int]:
    """O/B/I per word: the most probable path in which I only continues a span."""
    if len(probs) == 0:
        return []
    return [int(t) for t in viterbi_tags(probs, *bio_constraints(_BIO))]


def candidate_pairs(
    drugs: Sequence[tuple[int, int]], effects: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Every (drug, effect) index pair except a span paired with itself."""
    return [(i, j) for i, d in enumerate(drugs) for j, e in enumerate(effects) if d != e]


@torch.no_grad()
def predict_hidden(
    net: AdeNet, hidden: torch.Tensor, attention: torch.Tensor, encs: Sequence[Encoded]
) -> list[SentencePrediction]:
    """Decode a padded batch of final hidden states (rows aligned with ``encs``)."""
    tag_probs = torch.softmax(net.tag_logits(hidden).float(), -1).cpu().numpy()  # (B, L, H, T)
    sent = torch.sigmoid(net.sent_logits(hidden, attention)).float().cpu()
    preds: list[SentencePrediction] = []
    rows: list[tuple[int, int, int, int, int]] = []
    owners: list[tuple[int, CharSpan, CharSpan]] = []
    for b, enc in enumerate(encs):
        pred = SentencePrediction(sentence_prob=float(sent[b]))
        word_ranges: dict[str, list[tuple[int, int]]] = {}
        for h, head in enumerate(HEADS):
            word_tags = best_word_tags(tag_probs[b, enc.word_first, h])
            word_ranges[head] = decode_words(word_tags)
            pred.spans[head] = [enc.chars_of(*r) for r in word_ranges[head]]
        drugs, effects = word_ranges["ade_drug"], word_ranges["ade_effect"]
        for i, j in candidate_pairs(drugs, effects):
            ds, de = enc.tokens_of(*drugs[i])
            es, ee = enc.tokens_of(*effects[j])
            rows.append((b, ds, de, es, ee))
            owners.append((b, enc.chars_of(*drugs[i]), enc.chars_of(*effects[j])))
        preds.append(pred)
    if rows:
        pairs = torch.tensor(rows, dtype=torch.long, device=hidden.device)
        logits = net.pair_logits(hidden, attention, pairs)
        probs = torch.sigmoid(logits.float()).cpu().tolist()
        for (b, d, e), p in zip(owners, probs, strict=True):
            preds[b].pairs.append((d, e, float(p)))
    return preds


def pad(encs: Sequence[Encoded]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(e.input_ids) for e in encs)
    ids = torch.zeros((len(encs), width), dtype=torch.long)
    mask = torch.zeros((len(encs), width), dtype=torch.long)
    for i, e in enumerate(encs):
        ids[i, : len(e.input_ids)] = torch.tensor(e.input_ids)
        mask[i, : len(e.input_ids)] = 1
    return ids, mask


@torch.no_grad()
def predict_texts(
    net: AdeNet, tokenizer: object, texts: Sequence[str], batch_size: int = 16
) -> list[SentencePrediction]:
    """Full forward on raw sentences, length-sorted batches, results in input order."""
    from streamproc.nlp.ade.encoding import encode

    if not texts:
        return []
    encs = encode(tokenizer, texts, net.cfg.max_len)
    order = sorted(range(len(encs)), key=lambda i: len(encs[i].input_ids))
    out: dict[int, SentencePrediction] = {}
    for k in range(0, len(order), batch_size):
        idx = order[k : k + batch_size]
        batch = [encs[i] for i in idx]
        ids, mask = pad(batch)
        ids, mask = ids.to(net.device), mask.to(net.device)
        hidden = net.forward_hidden(ids, mask)
        for i, p in zip(idx, predict_hidden(net, hidden, mask, batch), strict=True):
            out[i] = p
    return [out[i] for i in range(len(texts))]
