"""Offset alignment through WordPiece splits, and long documents windowed and merged back."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from streamproc.nlp.modeling import default_base_path, load_tokenizer
from streamproc.nlp.token_classifier import (
    TokenClassifier,
    bio_constraints,
    bio_tags,
    decode_doc,
    plan_windows,
    token_tag_ids,
    tokenize_docs,
    viterbi_tags,
)
from streamproc.train.examples import Span

TAGS = bio_tags(["problem", "drug"])
IDX = {t: i for i, t in enumerate(TAGS)}


@pytest.fixture(scope="module")
def tok():  # type: ignore[no-untyped-def]
    return load_tokenizer(default_base_path())


def _one_hot(tags: np.ndarray) -> np.ndarray:
    probs = np.zeros((len(tags), len(TAGS)), dtype=np.float32)
    probs[np.arange(len(tags)), np.clip(tags, 0, None)] = 1.0
    return probs


def test_wordpiece_split_words_align_and_decode(tok) -> None:  # type: ignore[no-untyped-def]
    text = "Pt with hyperlipidemia, started atorvastatin (Lipitor) for dyslipidaemia."
    spans = [
        Span(8, 22, "problem"),
        Span(32, 44, "drug"),
        Span(46, 53, "drug"),
        Span(59, 72, "problem"),
    ]
    (doc,) = tokenize_docs(tok, [text])
    pieces = tok.convert_ids_to_tokens(doc.ids)
    assert any(p.startswith("##") for p in pieces)  # really split into word pieces
    tags = token_tag_ids(doc, len(text), spans, IDX)
    # every sub-token of a span word is labelled; the first one B, the rest I
    for s in spans:
        inside = [t for t, (a, _) in enumerate(doc.offsets) if s.start <= a < s.end]
        assert TAGS[tags[inside[0]]] == f"B-{s.label}"
        assert all(TAGS[tags[t]] == f"I-{s.label}" for t in inside[1:])
    # decoding the gold tags gives the gold spans back, from first sub-tokens only ...
    first_only = np.where(doc.word_start, tags, 0)
    got = decode_doc(doc, _one_hot(first_only), TAGS, first_subtoken=True)
    assert [(s.start, s.end, s.label) for s in got] == [(s.start, s.end, s.label) for s in spans]
    # ... and from all sub-tokens
    got_all = decode_doc(doc, _one_hot(tags), TAGS, first_subtoken=False)
    assert [(s.start, s.end, s.label) for s in got_all] == [
        (s.start, s.end, s.label) for s in spans
    ]


def test_plan_windows_cover_each_token_once() -> None:
    for n in (1, 30, 31, 95, 400):
        wins = plan_windows(0, n, 30, 8)
        owned = [t for w in wins for t in range(w.own_start, w.own_end)]
        assert owned == list(range(n))
        assert all(
            w.end - w.start <= 30 and w.start <= w.own_start <= w.own_end <= w.end for w in wins
        )


class _LookupModel(torch.nn.Module):
    """Tags each token by its id (B for 'insulin'/'heart', I for 'failure'): context-free, so
    any error in windowing or merging shows up as a wrong span."""

    def __init__(self, tok) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.map = {
            tok.convert_tokens_to_ids("insulin"): IDX["B-drug"],
            tok.convert_tokens_to_ids("heart"): IDX["B-problem"],
            tok.convert_tokens_to_ids("failure"): IDX["I-problem"],
        }
        self.config = SimpleNamespace(max_position_embeddings=512)
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):  # type: ignore[no-untyped-def]
        logits = torch.zeros((*input_ids.shape, len(TAGS)))
        logits[..., 0] = 1.0
        for tid, tag in self.map.items():
            logits[input_ids == tid] = (
                torch.nn.functional.one_hot(torch.tensor(tag), len(TAGS)).float() * 5
            )
        return SimpleNamespace(logits=logits)


def test_long_document_windows_merge_back_to_spans(tok) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    words, spans, pos = [], [], 0
    for _ in range(500):
        w = rng.choice(["the", "patient", "insulin", "heart failure", "denies", "hyperlipidemia"])
        if w == "insulin":
            spans.append(Span(pos, pos + 7, "drug"))
        if w == "heart failure":
            spans.append(Span(pos, pos + 13, "problem"))
        words.append(w)
        pos += len(w) + 1
    text = " ".join(words)
    clf = TokenClassifier(
        _LookupModel(tok), tok, TAGS, max_tokens=24, stride=6, batch_size=7, device="cpu"
    )
    (doc,) = tokenize_docs(tok, [text])
    assert len(doc.ids) > 20 * 22  # many windows
    got = clf.predict([text, "no findings", ""])
    assert [(s.start, s.end, s.label) for s in got[0]] == [(s.start, s.end, s.label) for s in spans]
    assert got[1] == [] and got[2] == []


def test_constrained_decoding_joins_what_argmax_splits(tok) -> None:  # type: ignore[no-untyped-def]
    text = "acute heart failure and insulin"
    (doc,) = tokenize_docs(tok, [text])
    assert doc.word_start.all()  # one token per word: rows are words
    probs = np.full((5, len(TAGS)), 0.01, dtype=np.float32)
    probs[0, IDX["B-problem"]] = 0.9
    probs[1, [IDX["O"], IDX["I-problem"]]] = 0.5, 0.45  # argmax O cuts the span ...
    probs[2, IDX["I-problem"]] = 0.9  # ... and a stray I-problem opens a second one
    probs[3, IDX["O"]] = 0.9
    probs[4, IDX["I-drug"]] = 0.6  # no B before it: the best valid path makes it B-drug
    probs[4, IDX["B-drug"]] = 0.3
    probs /= probs.sum(1, keepdims=True)

    def got(constrained: bool) -> list[tuple[str, str]]:
        spans = decode_doc(doc, probs, TAGS, constrained=constrained)
        return [(text[s.start : s.end], s.label) for s in spans]

    assert got(False) == [("acute", "problem"), ("failure", "problem"), ("insulin", "drug")]
    assert got(True) == [("acute heart failure", "problem"), ("insulin", "drug")]
    # the span score is the mean probability of the tags on the chosen path
    (first, _) = decode_doc(doc, probs, TAGS)
    assert first.score == pytest.approx(float(np.mean([probs[0, 1], probs[1, 2], probs[2, 2]])))


def _full_viterbi(probs: np.ndarray) -> np.ndarray:
    """The textbook dynamic programme, with no shortcut, to check the decoder against."""
    trans, start = bio_constraints(tuple(TAGS))
    logp = np.log(np.maximum(probs.astype(np.float64), 1e-12))
    score, back = start + logp[0], []
    for k in range(1, len(probs)):
        cand = score[:, None] + trans
        back.append(cand.argmax(0))
        score = cand.max(0) + logp[k]
    path = [int(score.argmax())]
    for b in reversed(back):
        path.append(int(b[path[-1]]))
    return np.array(path[::-1])


def test_viterbi_equals_the_full_search_whether_argmax_is_valid_or_not() -> None:
    """A valid per-token argmax is returned as is (the fast exit); it must be what the full
    search finds, and an invalid one must still be repaired by the search."""
    rng = np.random.default_rng(0)
    trans, start = bio_constraints(tuple(TAGS))
    valid_argmax = 0
    for n in [1, 2, 5, 12, 40] * 40:
        logits = rng.normal(size=(n, len(TAGS))) * 3
        logits[:, IDX["O"]] += rng.uniform(0, 4)  # mostly O, as in notes
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        best = probs.argmax(1)
        valid_argmax += bool(
            np.isfinite(start[best[0]]) and np.isfinite(trans[best[:-1], best[1:]]).all()
        )
        assert viterbi_tags(probs, trans, start).tolist() == _full_viterbi(probs).tolist()
    assert 0 < valid_argmax < 200  # both branches were taken
