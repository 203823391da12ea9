"""Corpus readers on small fixtures written here (never the shared corpora)."""

from __future__ import annotations

from pathlib import Path

from streamproc.train.datasets.brat import read_brat
from streamproc.train.datasets.chia import dev_trials, read_chia, read_chia_negation, split_lines
from streamproc.train.datasets.conll import read_iob_file
from streamproc.train.datasets.ner_corpora import read_ner_corpora

IOB = "Selegiline\tB-Chemical\n-\tO\ninduced\tO\npostural\tB-Disease\nhypotension\tI-Disease\n.\tO\n\n" \
      "Parkinson\tB-Disease\n'\tI-Disease\ns\tI-Disease\ndisease\tI-Disease\n\n\n"  # fmt: skip


def _chia(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # CRLF line ends: Chia offsets count "\r\n" as two characters
    text = "No history of heart failure\r\nTaking warfarin or aspirin\r\nHbA1c > 7%\r\n"
    (folder / "NCT001_exc.txt").write_bytes(text.encode())
    i_hf, i_w, i_a, i_h = (
        text.index("heart failure"),
        text.index("warfarin"),
        text.index("aspirin"),
        text.index("HbA1c"),
    )
    ann = "\n".join(
        [
            f"T1\tCondition {i_hf} {i_hf + 13}\theart failure",
            "T2\tNegation 0 2\tNo",
            f"T3\tDrug {i_w} {i_w + 8}\twarfarin",
            f"T4\tDrug {i_a + 2} {i_a + 9}\taspirin",  # wrong offsets: realigned by search
            f"T5\tMeasurement {i_h} {i_h + 5};{i_h + 6} {i_h + 10}\tHbA1c > 7%",  # discontinuous
            "T6\tObservation 3 10\thistory",
            "R1\tHas_negation Arg1:T1 Arg2:T2\t",
            "*\tOR T3 T4",
        ]
    )
    (folder / "NCT001_exc.ann").write_text(ann + "\n")
    (folder / "NCT002_inc.txt").write_text("Diabetes\n")
    (folder / "NCT002_inc.ann").write_text("T1\tCondition 0 8\tDiabetes\n")
    return folder


def test_iob_reader_rebuilds_text_and_spans(tmp_path: Path) -> None:
    p = tmp_path / "train.tsv"
    p.write_text(IOB)
    exs = read_iob_file(p, label_map=lambda x: {"Chemical": "drug", "Disease": "problem"}.get(x))
    assert len(exs) == 2
    e = exs[0]
    assert e.text == "Selegiline - induced postural hypotension ."
    assert [(e.text[s.start : s.end], s.label) for s in e.spans] == [
        ("Selegiline", "drug"),
        ("postural hypotension", "problem"),
    ]
    assert exs[1].text[exs[1].spans[0].start : exs[1].spans[0].end] == "Parkinson ' s disease"


def test_brat_reader_realigns_and_keeps_fragments(tmp_path: Path) -> None:
    doc = read_brat(_chia(tmp_path / "chia") / "NCT001_exc.txt")
    t4 = doc.entities["T4"]
    assert t4.text == "aspirin" and doc.text[t4.start : t4.end] == "aspirin"
    assert doc.entities["T5"].fragments[1][0] > doc.entities["T5"].fragments[0][1]
    assert doc.entities["T1"].text == "heart failure"
    assert any(r.label == "Has_negation" for r in doc.relations)


def test_chia_mapping_negation_and_split(tmp_path: Path) -> None:
    folder = _chia(tmp_path / "chia")
    exs = read_chia(folder, "all")
    ex = next(e for e in exs if e.id == "NCT001_exc")
    got = [(ex.text[s.start : s.end], s.label) for s in ex.spans]
    assert ("heart failure", "problem") in got
    assert ("warfarin", "drug") in got and ("aspirin", "drug") in got
    assert ("HbA1c", "test") in got  # first fragment of the discontinuous span
    assert all(lab != "Observation" for _, lab in got)
    assert ex.meta["negated"] == str(got.index(("heart failure", "problem")))
    neg = read_chia_negation(folder)
    assert [c.negated for c in neg if c.doc_id == "NCT001_exc" and c.label == "problem"] == [True]
    assert all(not c.negated for c in neg if c.label == "drug")
    # trial-grouped, seeded: same result every time, inc/exc never split
    assert dev_trials(["NCT1", "NCT2", "NCT3"]) == dev_trials(["NCT3", "NCT2", "NCT1"])
    assert {e.split for e in exs if e.group == "NCT001"} in ({"train"}, {"dev"})
    lines = split_lines(ex)
    assert lines[0].text.rstrip("\r") == "No history of heart failure"
    assert lines[0].text[lines[0].spans[0].start : lines[0].spans[0].end] == "heart failure"


def test_ner_corpora_meta(tmp_path: Path) -> None:
    (tmp_path / "bc5cdr").mkdir()
    (tmp_path / "bc5cdr" / "train.tsv").write_text(IOB)
    (tmp_path / "bc5cdr" / "devel.tsv").write_text(IOB)
    (tmp_path / "ncbi").mkdir()
    (tmp_path / "ncbi" / "devel.tsv").write_text(IOB)
    dev = read_ner_corpora(tmp_path, "dev")
    assert {e.meta["corpus"] for e in dev} == {"bc5cdr", "ncbi"}
    ncbi = [e for e in dev if e.meta["corpus"] == "ncbi"]
    assert ncbi[0].meta["annotated_labels"] == "problem"
    assert {s.label for e in dev for s in e.spans} == {"drug", "problem"}
