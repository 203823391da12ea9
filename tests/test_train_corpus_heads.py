"""Corpus heads: one tag set per corpus beside the shared one, so corpora that disagree on span
edges each keep their convention (tiny random BERT, fast)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from streamproc.nlp.token_classifier import TokenClassifier, head_labels, split_heads
from streamproc.train.core import TrainConfig, evaluate_token_model, train_token_classifier
from streamproc.train.examples import Example, Span
from streamproc.train.testing import tiny_base


def test_head_labels_split_back_into_shared_tags_and_columns() -> None:
    tags = ["O", "B-problem", "I-problem"]
    labels = head_labels(tags, ["bc5cdr", "chia"])
    assert labels[3:6] == ["bc5cdr:O", "bc5cdr:B-problem", "bc5cdr:I-problem"]
    shared, cols = split_heads(labels)
    assert shared == tags
    assert cols == {"": (0, 3), "bc5cdr": (3, 6), "chia": (6, 9)}
    assert split_heads(tags) == (tags, {"": (0, 3)})
    # labels that merely contain the separator (a foreign checkpoint) stay one flat tag set
    odd = [*tags, "x:O", "x:B-drug", "x:I-drug"]
    assert split_heads(odd) == (odd, {"": (0, 6)})


def conventions(n: int, seed: int) -> list[Example]:
    """Corpus "wide" annotates "acute <problem>", corpus "narrow" only "<problem>"."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        corpus = "wide" if i % 2 else "narrow"
        p = rng.choice(["hypertension", "pneumonia", "asthma", "gout"])
        text = f"He has acute {p} today."
        start = text.index("acute") if corpus == "wide" else text.index(p)
        span = Span(start, text.index(p) + len(p), "problem")
        meta = {"corpus": corpus, "annotated_labels": "problem"}
        out.append(Example(f"{corpus}{i}", text, (span,), meta=meta))
    return out


def test_each_corpus_head_learns_its_own_span_edges(tmp_path: Path) -> None:
    base = tiny_base(tmp_path / "base")
    cfg = TrainConfig(
        epochs=12, lr=3e-3, batch_size=8, max_length=16, stride=4, trainable="full",
        corpus_heads=["wide", "narrow"], patience=20,
    )  # fmt: skip
    train_token_classifier(
        conventions(64, 0), conventions(16, 1), ["problem"], cfg, tmp_path / "m", "ner", base=base
    )
    clf = TokenClassifier.from_path(tmp_path / "m")
    assert set(clf.heads) == {"", "wide", "narrow"} and clf.tags == ["O", "B-problem", "I-problem"]
    text = "He has acute asthma today."
    wide = [text[s.start : s.end] for s in clf.with_head("wide").predict([text])[0]]
    narrow = [text[s.start : s.end] for s in clf.with_head("narrow").predict([text])[0]]
    assert wide == ["acute asthma"] and narrow == ["asthma"]
    scores = evaluate_token_model(clf, conventions(16, 2), ["problem"])
    assert scores["wide"]["strict"]["micro"]["f1"] == 1.0
    assert scores["narrow"]["strict"]["micro"]["f1"] == 1.0
    # the shared head cannot follow both conventions: one of them loses strict matches
    shared = [scores[f"{c}@shared"]["strict"]["micro"]["f1"] for c in ("wide", "narrow")]
    assert min(shared) < 1.0
    with pytest.raises(ValueError, match="no head"):
        clf.with_head("mimic")
