"""Metrics against hand-computed figures and against seqeval on the same tags."""

from __future__ import annotations

import json

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score

from streamproc.evaluate.metrics import entity_scores, iob_entity_scores, iob_to_spans, token_scores
from streamproc.train.examples import Span


def test_strict_and_relaxed_hand_computed() -> None:
    gold = [[Span(0, 5, "problem"), Span(10, 15, "drug")], [Span(0, 4, "test")]]
    pred = [
        [Span(0, 5, "problem"), Span(10, 13, "drug"), Span(20, 22, "drug")],
        [Span(0, 4, "problem")],
    ]
    r = entity_scores(gold, pred)
    s = r["strict"]
    # strict: tp=1 (problem 0-5); fp=3 (drug 10-13, drug 20-22, problem 0-4); fn=2 (drug 10-15, test)
    assert s["micro"]["tp"] == 1 and s["micro"]["fp"] == 3 and s["micro"]["fn"] == 2
    assert s["micro"]["precision"] == pytest.approx(0.25)
    assert s["micro"]["recall"] == pytest.approx(1 / 3)
    assert s["micro"]["f1"] == pytest.approx(2 * 0.25 * (1 / 3) / (0.25 + 1 / 3), abs=1e-6)
    assert s["per_label"]["problem"]["precision"] == pytest.approx(0.5)
    assert s["per_label"]["problem"]["recall"] == pytest.approx(1.0)
    assert s["per_label"]["test"]["f1"] == 0.0
    # macro over drug (0), problem (2/3), test (0)
    assert s["macro"]["f1"] == pytest.approx((2 / 3) / 3, abs=1e-6)
    # relaxed: drug 10-13 overlaps gold drug -> counts; drug 20-22 does not
    rel = r["relaxed"]["per_label"]["drug"]
    assert rel["precision"] == pytest.approx(0.5) and rel["recall"] == pytest.approx(1.0)
    # confusion: gold test predicted as problem; spurious drug at 20-22
    assert r["confusion"]["test"] == {"problem": 1}
    assert r["confusion"]["O"] == {"drug": 1}
    json.dumps(r)  # serialisable


def test_label_restriction_ignores_other_labels() -> None:
    gold = [[Span(0, 3, "problem")]]
    pred = [[Span(0, 3, "problem"), Span(5, 8, "test")]]
    r = entity_scores(gold, pred, labels=["problem"])
    assert r["strict"]["micro"]["f1"] == 1.0
    assert r["labels"] == ["problem"]


def test_iob_chunking_matches_seqeval() -> None:
    gold = [
        ["B-Disease", "I-Disease", "O", "B-Chemical", "O"],
        ["O", "I-Disease", "I-Disease", "B-Chemical", "I-Chemical"],
    ]
    pred = [
        ["B-Disease", "I-Disease", "O", "B-Disease", "O"],
        ["O", "B-Disease", "I-Disease", "B-Chemical", "I-Disease"],
    ]
    assert iob_to_spans(gold[1]) == [(1, 3, "Disease"), (3, 5, "Chemical")]
    assert iob_to_spans(pred[1]) == [(1, 3, "Disease"), (3, 4, "Chemical"), (4, 5, "Disease")]
    r = iob_entity_scores(gold, pred)["strict"]["micro"]
    assert r["precision"] == pytest.approx(precision_score(gold, pred))
    assert r["recall"] == pytest.approx(recall_score(gold, pred))
    assert r["f1"] == pytest.approx(f1_score(gold, pred), abs=1e-6)


def test_token_scores() -> None:
    text = "John Smith saw Dr Jones today"
    gold = [[Span(0, 10, "NAME"), Span(18, 23, "NAME")]]
    pred = [[Span(0, 4, "NAME"), Span(24, 29, "DATE")]]
    r = token_scores([text], gold, pred)
    # NAME tokens: John (tp), Smith (fn), Jones (fn); DATE: today (fp)
    assert r["per_label"]["NAME"]["tp"] == 1 and r["per_label"]["NAME"]["fn"] == 2
    assert r["per_label"]["DATE"]["fp"] == 1
    # label-agnostic: John tp, Smith fn, Jones fn, today fp
    assert r["any"]["precision"] == pytest.approx(0.5)
    assert r["any"]["recall"] == pytest.approx(1 / 3)


def test_length_mismatch_raises() -> None:
    with pytest.raises(ValueError):
        entity_scores([[]], [])
