"""ADE-Corpus-V2 and PHEE readers on tiny fixture files written here."""

from __future__ import annotations

from pathlib import Path

from streamproc.train.datasets import ade as ade_mod
from streamproc.train.datasets.ade import read_ade
from streamproc.train.datasets.phee import read_phee

# Offsets are document-level (title + abstract), as in the real file: the sentence below starts at
# document offset 100, so "rash" (the second one) is at 100 + 33.
S1 = "Penicillin was stopped; a rash and a rash-like fever followed amoxicillin."
S2 = "Rifampicin caused hepatitis and lisinopril caused angioedema."


def _rel_lines() -> list[str]:
    d = 100
    s2 = 300
    return [
        # second "rash" of S1 on purpose: offset says 37 -> must not take the first one at 26
        f"111|{S1}|rash|{d + 37}|{d + 41}|amoxicillin|{d + 62}|{d + 73}",
        f"222|{S2}|hepatitis|{s2 + 18}|{s2 + 27}|Rifampicin|{s2}|{s2 + 10}",
        f"222|{S2}|angioedema|{s2 + 50}|{s2 + 60}|lisinopril|{s2 + 32}|{s2 + 42}",
    ]


def write_ade(root: Path, n_neg_pmids: int = 30) -> Path:
    folder = root / "ade"
    folder.mkdir(parents=True)
    (folder / "DRUG-AE.rel").write_text("\n".join(_rel_lines()) + "\n", encoding="utf-8")
    neg = [f"{1000 + i} NEG Sentence number {i} mentions aspirin only." for i in range(n_neg_pmids)]
    neg.append(f"222 NEG {S2}")  # also positive: must not become a negative example
    neg.append("222 NEG Background sentence of the same abstract.")
    (folder / "ADE-NEG.txt").write_text("\n".join(neg) + "\n", encoding="utf-8")
    return root


def test_offsets_relocated_inside_sentence_with_repeated_words(tmp_path: Path) -> None:
    examples = {e.text: e for e in read_ade(write_ade(tmp_path))}
    ex = examples[S1]
    spans = {(s.label, ex.text[s.start : s.end], s.start) for s in ex.spans}
    assert ("effect", "rash", 37) in spans  # the occurrence the document offset points to
    assert ("drug", "amoxicillin", 62) in spans
    assert ex.label == "ade" and ex.group == "111"


def test_several_pairs_in_one_sentence_are_one_example(tmp_path: Path) -> None:
    examples = [e for e in read_ade(write_ade(tmp_path)) if e.text == S2]
    assert len(examples) == 1
    ex = examples[0]
    assert len(ex.spans) == 4 and len(ex.relations) == 2
    pairs = {
        (
            ex.text[ex.spans[r.head].start : ex.spans[r.head].end],
            ex.text[ex.spans[r.tail].start : ex.spans[r.tail].end],
        )
        for r in ex.relations
    }
    assert pairs == {("Rifampicin", "hepatitis"), ("lisinopril", "angioedema")}
    for r in ex.relations:
        assert ex.spans[r.head].label == "drug" and ex.spans[r.tail].label == "effect"


def test_negatives_and_grouped_split(tmp_path: Path) -> None:
    examples = read_ade(write_ade(tmp_path))
    negatives = [e for e in examples if e.label == "none"]
    assert len(negatives) == 31  # 30 + the background sentence; the duplicate of S2 is dropped
    assert all(not e.spans for e in negatives)
    sides: dict[str, set[str]] = {}
    for e in examples:
        sides.setdefault(e.group, set()).add(e.split)
    assert all(len(s) == 1 for s in sides.values())  # no abstract on both sides
    assert {e.split for e in examples} == {"train", "dev"}
    again = read_ade(tmp_path)
    assert [e.split for e in again] == [e.split for e in examples]  # seeded, stable


def test_locate_falls_back_to_case_insensitive() -> None:
    spans = ade_mod.locate(
        "ASPIRIN induced Ulcer.",
        [ade_mod._Mention("aspirin", 10, "drug"), ade_mod._Mention("ulcer", 26, "effect")],
    )
    assert spans[0] is not None and (spans[0].start, spans[0].end) == (0, 7)
    assert spans[1] is not None and (spans[1].start, spans[1].end) == (16, 21)


PHEE_TXT = "Clozapine-induced agranulocytosis was seen in a 40-year-old man given a single dose of lorcainide."
PHEE_ANN = """T1\tTreatment 0 9\tClozapine
T2\tEffect 18 33\tagranulocytosis
T3\tAdverse_event 10 17\tinduced
T4\tSubject 46 59\ta 40-year-old
T5\tDrug 0 9\tClozapine
E1\tAdverse_event:T3 arg:T1 arg2:T2
A1\tSpeculated E1
"""


def test_phee_brat(tmp_path: Path) -> None:
    for split in ("train", "dev"):
        folder = tmp_path / "phee" / "data" / "clean" / split
        folder.mkdir(parents=True)
        (folder / f"123{split == 'dev'}_1.txt").write_text(PHEE_TXT, encoding="utf-8")
        (folder / f"123{split == 'dev'}_1.ann").write_text(PHEE_ANN, encoding="utf-8")
    examples = read_phee(tmp_path)
    assert {e.split for e in examples} == {"train", "dev"}
    ex = examples[0]
    got = {(s.label, ex.text[s.start : s.end]) for s in ex.spans}
    assert ("treatment", "Clozapine") in got and ("effect", "agranulocytosis") in got
    assert ("drug", "Clozapine") in got
    assert len(ex.relations) == 1
    rel = ex.relations[0]
    assert ex.spans[rel.head].label == "treatment" and ex.spans[rel.tail].label == "effect"
    assert ex.label == "adverse_event" and ex.meta["modality"] == "Speculated"
