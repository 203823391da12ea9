"""PhysioNet-format reader, patient-grouped split, scoring, synthetic notes and the PHI model
code path (on a tiny random encoder). Fixtures are written here; synthetic PHI only."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamproc.deid.evaluation import evaluate_corpus, score
from streamproc.deid.synth import SyntheticNotes
from streamproc.deid.types import PhiSpan
from streamproc.train.datasets.physionet_deid import read_corpus
from streamproc.train.examples import Example, Span

BODIES = {
    ("1", "1"): "Pt seen by Dr. Quilling on 5/13.\n",
    ("1", "2"): "No events overnight.\n",
    ("2", "1"): "Daughter Ottoline called from Towson.\n",
    ("3", "1"): "DAN A FORMAN-LYONS, RRT\n",
}


def write_corpus(folder: Path, n_patients: int = 10) -> Path:
    text, phi = [], []
    bodies = dict(BODIES)
    for p in range(4, n_patients + 1):
        bodies[(str(p), "1")] = f"Seen 8/{p}/2001.\n"
    for (patient, note), body in bodies.items():
        text.append(f"START_OF_RECORD={patient}||||{note}||||\n{body}||||END_OF_RECORD\n")
        for label, phrase in (("HCPName", "Quilling"), ("Date", "5/13"), ("RelativeProxyName", "Ottoline"),
                              ("Location", "Towson"), ("HCPName", "DAN"), ("HCPName", "A"),
                              ("HCPName", "FORMAN-LYONS")):  # fmt: skip
            at = body.find(" A ") + 1 if phrase == "A" else body.find(phrase)
            if at > 0 or (at == 0 and phrase != "A"):
                phi.append(f"{patient} {note} {at} {at + len(phrase)} {label} {phrase}")
        if patient not in ("1", "2", "3"):
            at = body.find("8/")
            phi.append(f"{patient} {note} {at} {at + len(body.split()[1]) - 1} Date x")
    (folder / "id.text").write_text("".join(text))
    (folder / "id-phi.phrase").write_text("\n".join(phi) + "\n")
    return folder


def test_reader_offsets_groups_and_split(tmp_path: Path) -> None:
    examples = read_corpus(write_corpus(tmp_path))
    by_id = {e.id: e for e in examples}
    first = by_id["1-1"]
    assert [first.text[s.start : s.end] for s in first.spans] == ["Quilling", "5/13"]
    assert first.group == "1"
    # fragments of one name join into one span
    assert [by_id["3-1"].text[s.start : s.end] for s in by_id["3-1"].spans] == [
        "DAN A FORMAN-LYONS"
    ]
    # split: grouped by patient, deterministic, both splits present
    split_of = {e.group: e.split for e in examples}
    assert all(e.split == split_of[e.group] for e in examples)
    assert set(split_of.values()) == {"train", "dev"}
    assert [e.split for e in read_corpus(tmp_path)] == [e.split for e in examples]
    assert all(e.split == "dev" for e in read_corpus(tmp_path, split="dev"))


def test_score_token_and_span_levels() -> None:
    ex = Example(id="x", text="Dr Quilling saw Ottoline Brannagh 5/13", spans=(
        Span(3, 11, "HCPName"), Span(16, 33, "RelativeProxyName"), Span(34, 38, "Date")))  # fmt: skip
    preds = [[PhiSpan(3, 11, "NAME"), PhiSpan(16, 24, "NAME"), PhiSpan(0, 2, "NAME")]]
    result = score([ex], preds)
    tok = result["token"]["overall"]
    assert tok["recall"] == pytest.approx(
        2 / 5, abs=1e-4
    )  # 3 name tokens of 4 gold, 0 of 2 date tokens
    assert tok["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["recall_dates"] == 0.0
    assert result["span_exact"]["overall"]["recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["span_overlap"]["overall"]["recall"] == pytest.approx(2 / 3, abs=1e-4)


def test_evaluate_corpus_rules(tmp_path: Path) -> None:
    result = evaluate_corpus(write_corpus(tmp_path), split="all", modes=("rules",))
    assert result["mode"] == "rules" and result["notes"] == 11
    assert result["token"]["overall"]["recall"] > 0.5
    assert result["stage_notes_per_s"] > 0


def test_synthetic_notes_are_seeded_and_aligned() -> None:
    a = SyntheticNotes(seed=5).notes(20)
    b = SyntheticNotes(seed=5).notes(20)
    assert [e.text for e in a] == [e.text for e in b]
    labels = {s.label for e in a for s in e.spans}
    assert {"NAME", "DATE", "PHONE"} <= labels
    for e in a:
        for s in e.spans:
            assert e.text[s.start : s.end].strip() == e.text[s.start : s.end]


@pytest.mark.slow
def test_phi_model_train_and_predict_on_tiny_encoder(tmp_path: Path) -> None:
    from streamproc.deid.detect import phi_model
    from streamproc.train.testing import tiny_base

    base = tiny_base(tmp_path / "tiny")
    notes = SyntheticNotes(seed=1).notes(8)
    info = phi_model.train(notes, tmp_path / "m", epochs=1, batch_size=4, max_len=64, base=base)
    assert info["steps"] > 0 and (tmp_path / "m" / phi_model.WEIGHTS_FILE).exists()
    model = phi_model.PhiModel(tmp_path / "m", base=base, max_len=64, stride=16)
    spans = model.predict(notes[0].text)
    assert all(0 <= s.start < s.end <= len(notes[0].text) for s in spans)
