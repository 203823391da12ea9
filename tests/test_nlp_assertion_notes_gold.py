"""The nursing-note assertion gold set: the packaged file is well-formed, and the scorer reads
notes by patient/note id, checks each span against the text and scores every label."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from streamproc.nlp.assertion.notes_gold import LABELS, evaluate_notes, read_gold, score


def test_packaged_gold_is_well_formed() -> None:
    rows = read_gold()
    assert len(rows) == 800
    assert {r.label for r in rows} <= {*LABELS, "not_problem"}
    halves = Counter(r.half for r in rows)
    assert halves == {"tuning": 400, "heldout": 400}
    # the halves come from different patients, so the held-out figure is not read on notes
    # whose wording tuned the rules
    tuning = {r.patient for r in rows if r.half == "tuning"}
    assert not tuning & {r.patient for r in rows if r.half == "heldout"}
    assert all(0 <= r.start < r.end and r.end - r.start == len(r.mention) for r in rows)


NOTES = {
    ("7", "1"): "Pt denies pain. ? yeast infection in groin.\nFamily hx: mother with lupus.",
    ("8", "2"): "no further bleeding. monitor for hematoma. obese.",
}


def _corpus(folder: Path) -> None:
    folder.mkdir()
    (folder / "id.text").write_text(
        "".join(
            f"START_OF_RECORD={p}||||{n}||||\n{body}||||END_OF_RECORD\n"
            for (p, n), body in NOTES.items()
        )
    )


def _gold(path: Path, rows: list[tuple[str, str, str, str, str]]) -> None:
    lines = ["# test gold", "patient\tnote\tstart\tend\tmention\tlabel\thalf\titem"]
    for i, (p, n, mention, label, half) in enumerate(rows):
        start = NOTES[(p, n)].index(mention)
        lines.append(f"{p}\t{n}\t{start}\t{start + len(mention)}\t{mention}\t{label}\t{half}\t{i}")
    path.write_text("\n".join(lines) + "\n")


def test_evaluate_notes_scores_each_label(tmp_path: Path) -> None:
    _corpus(tmp_path / "deid")
    gold = tmp_path / "gold.tsv"
    _gold(
        gold,
        [
            ("7", "1", "pain", "absent", "tuning"),
            ("7", "1", "yeast infection", "possible", "tuning"),
            ("7", "1", "lupus", "family", "tuning"),
            ("8", "2", "bleeding", "absent", "heldout"),
            ("8", "2", "hematoma", "hypothetical", "heldout"),
            ("8", "2", "obese", "absent", "heldout"),  # a wrong gold label: one miss
            ("8", "2", "monitor", "not_problem", "heldout"),  # left out of every score
        ],
    )
    out = evaluate_notes(tmp_path, "test", gold=gold)
    assert out["tuning"]["accuracy"] == 1.0 and out["tuning"]["mentions"] == 3
    held = out["heldout"]
    assert held["mentions"] == 3
    assert held["negation"]["tp"] == 1 and held["negation"]["fn"] == 1
    assert held["confusion"]["absent->present"] == 1
    assert out["headline"] == held["negation"]
    assert out["all"]["per_label"]["family"]["recall"] == 1.0


def test_evaluate_notes_refuses_a_span_off_the_text(tmp_path: Path) -> None:
    _corpus(tmp_path / "deid")
    gold = tmp_path / "gold.tsv"
    gold.write_text(
        "patient\tnote\tstart\tend\tmention\tlabel\thalf\titem\n7\t1\t0\t4\tpain\tabsent\ttuning\t0\n"
    )
    with pytest.raises(ValueError, match="does not match"):
        evaluate_notes(tmp_path, gold=gold)


def test_score_counts_negation_against_every_other_label() -> None:
    out = score([("absent", "absent"), ("present", "absent"), ("absent", "possible")])
    assert out["negation"] == {
        "gold": 2, "precision": 0.5, "recall": 0.5, "f1": 0.5, "tp": 1, "fp": 1, "fn": 1
    }  # fmt: skip
    assert out["accuracy"] == round(1 / 3, 4)
