"""train -> save -> load -> predict with a tiny random BERT (fast), token and sequence tasks."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from streamproc.nlp.modeling import load_model
from streamproc.nlp.sequence_classifier import SequenceClassifier
from streamproc.nlp.token_classifier import TokenClassifier
from streamproc.train.core import (
    TrainConfig,
    partial_label_loss,
    train_sequence_classifier,
    train_token_classifier,
)
from streamproc.train.examples import Example, Span
from streamproc.train.testing import tiny_base


def synthetic(n: int, seed: int = 0) -> list[Example]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        p = rng.choice(["hypertension", "atrial fibrillation", "diabetes"])
        d = rng.choice(["insulin", "metoprolol", "warfarin"])
        text = f"Patient with {p} was given {d} daily."
        a, b = text.index(p), text.index(d)
        out.append(
            Example(f"s{i}", text, (Span(a, a + len(p), "problem"), Span(b, b + len(d), "drug")))
        )
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_base(tmp_path_factory.mktemp("tiny") / "base")


@pytest.mark.parametrize("trainable", ["lora", "top_layers"])
def test_token_round_trip(base: Path, tmp_path: Path, trainable: str) -> None:
    data = synthetic(40)
    cfg = TrainConfig(
        epochs=1, lr=5e-3, batch_size=8, max_length=16, stride=4, trainable=trainable, top_layers=1
    )
    res = train_token_classifier(
        data[:32], data[32:], ["problem", "drug"], cfg, tmp_path / "m", "ner", base=base
    )
    folder = tmp_path / "m"
    assert {"weights.safetensors", "label_map.json", "meta.json", "model_card.md"} <= {
        p.name for p in folder.iterdir()
    }
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["version"] == res["version"] and len(res["version"]) == 12
    assert meta["task"] == "ner" and meta["config"]["seed"] == cfg.seed
    assert res["version"] in (folder / "model_card.md").read_text()
    lm = load_model(folder)
    assert lm.labels == ["O", "B-problem", "I-problem", "B-drug", "I-drug"]
    # the loaded (fp16, adapters merged) model scores like the in-memory model
    texts = [d.text for d in data[32:]] + ["word " * 300]
    loaded = TokenClassifier(
        lm.model, lm.tokenizer, lm.labels, max_tokens=64, stride=8, device="cpu"
    )
    from streamproc.nlp.token_classifier import tokenize_docs

    docs = tokenize_docs(lm.tokenizer, texts)
    p_loaded = loaded.predict_probs(docs)
    assert all(p.shape == (len(d.ids), 5) for p, d in zip(p_loaded, docs, strict=True))
    spans = TokenClassifier.from_path(folder).predict(texts)
    assert len(spans) == len(texts)
    # the version depends on the weights: a second identical run reproduces it (fixed seeds)
    res2 = train_token_classifier(
        data[:32], data[32:], ["problem", "drug"], cfg, tmp_path / "m2", "ner", base=base
    )
    assert res2["version"] == res["version"]


def test_saved_weights_match_training_model(base: Path, tmp_path: Path) -> None:
    data = synthetic(24)
    cfg = TrainConfig(
        epochs=1, lr=5e-3, batch_size=8, max_length=16, stride=4, trainable="lora", top_layers=1
    )
    train_token_classifier(data, [], ["problem", "drug"], cfg, tmp_path / "m", "ner", base=base)
    lm = load_model(tmp_path / "m")
    # rebuild the trained model from scratch through load twice: deterministic and equal
    lm2 = load_model(tmp_path / "m")
    ids = torch.tensor(
        [lm.tokenizer("Patient with diabetes was given insulin daily.")["input_ids"]]
    )
    with torch.inference_mode():
        a = lm.model(input_ids=ids).logits
        b = lm2.model(input_ids=ids).logits
    assert torch.allclose(a, b)


def test_int8_weights_load_close_to_fp16_and_take_about_half_the_bytes(
    base: Path, tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    from streamproc.nlp.modeling import INT8_MIN_ELEMENTS, SCALE_SUFFIX

    del base  # its 32-wide matrices are below the int8 size floor; 64 wide reach it
    base = tiny_base(tmp_path / "base64", hidden=64)
    assert INT8_MIN_ELEMENTS <= 64 * 64
    data = synthetic(24)
    folders = {}
    for fmt in ("fp16", "int8"):
        cfg = TrainConfig(
            epochs=1, lr=5e-3, batch_size=8, max_length=16, stride=4, trainable="top_layers",
            top_layers=2, weight_format=fmt,
        )  # fmt: skip
        res = train_token_classifier(
            data, [], ["problem", "drug"], cfg, tmp_path / fmt, "ner", base=base
        )
        folders[fmt] = tmp_path / fmt
        meta = json.loads((tmp_path / fmt / "meta.json").read_text())
        assert meta["weight_format"] == fmt and res["weights_mb"] == meta["weights_mb"]
    stored = load_file(str(folders["int8"] / "weights.safetensors"))
    int8 = [k for k, v in stored.items() if v.dtype == torch.int8]
    assert int8 and all(k + SCALE_SUFFIX in stored for k in int8)
    size = {f: (p / "weights.safetensors").stat().st_size for f, p in folders.items()}
    assert size["int8"] < 0.65 * size["fp16"]
    ids = torch.tensor([[101, 5776, 2007, 14671, 2001, 2445, 22597, 3679, 1012, 102]])
    with torch.inference_mode():
        a = load_model(folders["fp16"]).model(input_ids=ids).logits
        b = load_model(folders["int8"]).model(input_ids=ids).logits
    assert torch.allclose(a, b, atol=0.05), (a - b).abs().max()
    assert "int8 weight-only" in (folders["int8"] / "model_card.md").read_text()


def test_an_fp16_checkpoint_loads_and_trains_in_float32(base: Path, tmp_path: Path) -> None:
    """transformers 5 keeps a checkpoint's dtype; a half-precision base must not give a
    half-precision model (AdamW on fp16 weights, dtype clashes with float32 heads)."""
    from transformers import AutoModel

    from streamproc.nlp.ade.model import AdeConfig, build
    from streamproc.nlp.modeling import build_model

    half = tmp_path / "half"
    AutoModel.from_pretrained(str(base), dtype=torch.float32).half().save_pretrained(str(half))
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (base / name).is_file():
            (half / name).write_bytes((base / name).read_bytes())
    assert AutoModel.from_pretrained(str(half)).dtype == torch.float16  # what we guard against
    assert build_model(half, "token", ["O", "B-x", "I-x"]).dtype == torch.float32
    assert next(build(AdeConfig(split_layer=1), half).parameters()).dtype == torch.float32
    data = synthetic(16)
    cfg = TrainConfig(epochs=1, lr=5e-3, batch_size=8, max_length=16, trainable="top_layers",
                      top_layers=1)  # fmt: skip
    train_token_classifier(data, [], ["problem", "drug"], cfg, tmp_path / "m", "ner", base=half)
    assert load_model(tmp_path / "m").model.dtype == torch.float32


def test_sequence_round_trip_with_markers(base: Path, tmp_path: Path) -> None:
    rng = random.Random(1)
    exs = []
    for i in range(40):
        pos = rng.random() < 0.5
        text = (
            "[E1] warfarin [/E1] caused [E2] bleeding [/E2]"
            if pos
            else "[E1] warfarin [/E1] and [E2] rash [/E2] unrelated"
        )
        exs.append(Example(f"r{i}", text, label="ade" if pos else "none"))
    cfg = TrainConfig(epochs=1, lr=5e-3, batch_size=8, max_length=32, added_tokens=["[E1]", "[/E1]", "[E2]", "[/E2]"],
                      negative_label="none")  # fmt: skip
    res = train_sequence_classifier(
        exs[:32], exs[32:], ["none", "ade"], cfg, tmp_path / "s", "ade", base=base
    )
    assert res["version"]
    clf = SequenceClassifier.from_path(tmp_path / "s")
    assert "[E1]" in clf.tokenizer.tokenize("[E1] warfarin")  # marker is one special token
    probs = clf.predict_proba([e.text for e in exs[32:]])
    assert probs.shape == (8, 2) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    assert set(clf.predict(["[E1] x [/E1] y"])[0]) == {"none", "ade"}


def test_plain_hf_checkpoint_and_missing_files(tmp_path: Path, base: Path) -> None:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    m = AutoModelForTokenClassification.from_pretrained(
        str(base), num_labels=3, id2label={0: "O", 1: "B-x", 2: "I-x"}
    )
    m.save_pretrained(str(tmp_path / "hf"))
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(tmp_path / "hf"))
    lm = load_model(tmp_path / "hf")
    assert lm.labels == ["O", "B-x", "I-x"] and lm.kind == "token" and len(lm.version) == 12
    (tmp_path / "hf" / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_model(tmp_path / "hf")


def test_partial_label_loss_is_cross_entropy_when_fully_annotated() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5)
    target = torch.tensor([[0, 1, 2, -100], [0, 0, 3, 4]])
    none = torch.zeros(2, 5, dtype=torch.bool)
    none[:, 0] = True
    ce = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 5), target.reshape(-1), ignore_index=-100
    )
    assert torch.allclose(partial_label_loss(logits, target, none), ce, atol=1e-6)
    # with drug (tags 3, 4) unannotated, an O token may be a drug: the loss can only go down
    partial = none.clone()
    partial[:, 3:] = True
    assert partial_label_loss(logits, target, partial) < ce


def test_sample_and_rest_partition_the_data() -> None:
    from streamproc.train.core import _subsample

    data = synthetic(30)
    a = _subsample(data, 12, seed=5)
    b = _subsample(data, 12, seed=5, part="rest")
    assert len(a) == 12 and len(b) == 18
    assert {e.id for e in a} | {e.id for e in b} == {e.id for e in data}
    assert not {e.id for e in a} & {e.id for e in b}
    assert [e.id for e in _subsample(data, 12, seed=5)] == [e.id for e in a]


def test_continue_training_from_folder(base: Path, tmp_path: Path) -> None:
    data = synthetic(24)
    cfg = TrainConfig(
        epochs=1, lr=5e-3, batch_size=8, max_length=16, trainable="lora", top_layers=1
    )
    train_token_classifier(data, [], ["problem", "drug"], cfg, tmp_path / "a", "ner", base=base)
    cont = cfg.model_copy(
        update={"init_from": str(tmp_path / "a"), "lr": 1e-12, "warmup_ratio": 0.0}
    )
    train_token_classifier(data, [], ["problem", "drug"], cont, tmp_path / "b", "ner", base=base)
    la, lb = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    ids = torch.tensor(
        [la.tokenizer("Patient with diabetes was given insulin daily.")["input_ids"]]
    )
    with torch.inference_mode():
        assert torch.allclose(
            la.model(input_ids=ids).logits, lb.model(input_ids=ids).logits, atol=1e-2
        )
