"""The shared-encoder measurement runs end to end on tiny random models and reports sane JSON."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from streamproc.bench.multitask import (
    TaskModels,
    layers_modified,
    measure,
    shareable_prefix,
    synthetic_texts,
)
from streamproc.train.testing import tiny_base


def _tiny_models(tmp: Path) -> TaskModels:
    from transformers import AutoModel

    from streamproc.deid.detect.phi_model import PhiModel
    from streamproc.nlp.ade.model import AdeConfig, build
    from streamproc.nlp.modeling import build_model, load_tokenizer
    from streamproc.nlp.token_classifier import TokenClassifier, bio_tags

    base_dir = tiny_base(tmp / "base")
    tok = load_tokenizer(base_dir)
    deid = PhiModel(tmp / "no-weights", base=base_dir, threads=1, max_len=64, stride=16)
    tags = bio_tags(["problem", "drug"])
    ner_model = build_model(base_dir, "token", tags).eval()
    with torch.no_grad():  # a "fine-tuned" layer 1, as LoRA merging would leave it
        dense = ner_model.get_submodule("bert.encoder.layer.1.output.dense")
        assert isinstance(dense, torch.nn.Linear)
        dense.bias.add_(0.5)
    ner = TokenClassifier(ner_model, tok, tags, max_tokens=64, stride=16, device="cpu", threads=1)
    ade = build(AdeConfig(split_layer=1, max_len=64), base_dir).eval()
    base = AutoModel.from_pretrained(str(base_dir), local_files_only=True).eval()
    return TaskModels(deid, ner, ade, tok, base)


def test_measure_reports_every_variant(tmp_path: Path) -> None:
    models = _tiny_models(tmp_path)
    result = measure(models, synthetic_texts(2, seed=3, chars=100), max_tokens=64, stride=16,
                     rounds=1, threads=1)  # fmt: skip
    json.dumps(result)  # JSON-ready
    assert result["notes"] == 2
    assert result["windows_per_note"] > 1  # tiny windows: the note is cut
    assert result["layers_modified"] == {"deid": [], "ner": ["layer.1"], "ade": []}
    assert result["shareable_prefix_layers"] == {"all_three": 1, "ner_ade": 1}
    sep = result["separate"]
    for block in (sep["shipped_calls_ms"], sep["encoder_ms"]):
        assert set(block) == {"deid", "ner", "ade", "sum"}
        assert all(v > 0 for v in block.values())
        assert abs(block["sum"] - (block["deid"] + block["ner"] + block["ade"])) < 0.01
    for key in ("all_three_ms", "deid_separate_plus_shared_ner_ade_ms"):
        assert result["shared_full"][key] > 0
    part = result["partial"]
    assert part["k_hypothetical"] == 1
    for key in ("all_three", "deid_separate_plus_ner_ade", "deid_separate_plus_ner_ade_shipped_k"):
        assert part[f"{key}_ms"] > 0
        assert part[f"{key}_ratio"] > 0


def test_shareable_prefix_stops_at_first_changed_block() -> None:
    assert shareable_prefix(["layer.4", "layer.5"], ["layer.2"], n_layers=6) == 2
    assert shareable_prefix(["embeddings", "layer.0"], [], n_layers=6) == 0
    assert shareable_prefix([], n_layers=6) == 6


def test_layers_modified_sees_fp16_round_trip(tmp_path: Path) -> None:
    from transformers import AutoModel

    base_dir = tiny_base(tmp_path / "base")
    base = AutoModel.from_pretrained(str(base_dir), local_files_only=True)
    other = AutoModel.from_pretrained(str(base_dir), local_files_only=True)
    assert layers_modified(other, base) == []
    with torch.no_grad():
        w = other.embeddings.LayerNorm.weight
        w.copy_(w.half().float() + 1e-3)
    assert layers_modified(other, base) == ["embeddings"]
