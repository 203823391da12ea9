"""Replay evaluation: raw notes in, pipeline run in-process, outputs scored against gold labels."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamproc.config import Settings
from streamproc.evaluate.replay import load_gold, read_files, run_replay, score
from streamproc.evaluate.report import render_html
from streamproc.nlp.types import NoteAnalysis
from streamproc.pipeline import Pipeline
from streamproc.records import NoteEvent, OutMessage
from streamproc.state import MemoryStore

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
LEXICON = {"hypertension": "I10", "diabetes": "E11.9", "asthma": "J45.909"}


class LexiconAnalyzer:
    """Finds problems by word lookup: a transparent analyzer so the scoring maths is checkable."""

    def analyze_batch(self, notes: Sequence[NoteEvent]) -> list[NoteAnalysis]:
        return [NoteAnalysis(model_versions={"lexicon": "1"}) for _ in notes]


class LexiconConditions:
    def build(self, note: NoteEvent, analysis: NoteAnalysis) -> list[OutMessage]:
        out = []
        for word, code in LEXICON.items():
            if word in note.text.lower():
                value = {
                    "resourceType": "Condition",
                    "code": {"coding": [{"system": ICD, "code": code}]},
                }
                out.append(
                    OutMessage(topic="conditions", key=f"{note.event_id}-{code}", value=value)
                )
        if "rash after amoxicillin" in note.text.lower():
            ae = {
                "resourceType": "AdverseEvent",
                "event": {"text": "Rash"},
                "contained": [{"resourceType": "Medication", "code": {"text": "Amoxicillin"}}],
            }
            out.append(OutMessage(topic="adverse_events", key=f"{note.event_id}-ae", value=ae))
        return out


def _hl7(doc_id: str, text: str) -> bytes:
    return (
        "MSH|^~\\&|EMR|HOSP|SP|SP|20240101120000||MDM^T02|CTRL-" + doc_id + "|P|2.5\r"
        "PID|1||12345^^^HOSP^MR||Doe^Jane\r"
        "TXA|1|CN|TX|20240101120000||||||||" + doc_id + "||||||AU\r"
        "OBX|1|TX|11506-3^Progress note^LN||" + text + "\r"
    ).encode()


def _docref(doc_id: str, text: str) -> bytes:
    resource = {
        "resourceType": "DocumentReference",
        "id": doc_id,
        "status": "current",
        "subject": {"reference": "Patient/p1"},
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(text.encode()).decode(),
                }
            }
        ],
    }
    return json.dumps(resource).encode()


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.hl7").write_bytes(_hl7("DOC1", "Known hypertension. Rash after amoxicillin."))
    (notes / "b.json").write_bytes(_docref("doc-2", "Type 2 diabetes, well controlled."))
    (notes / "c.json").write_bytes(b'{"resourceType": "DocumentReference", "content": "oops"')
    gold = tmp_path / "gold.jsonl"
    rows = [
        {
            "document_id": "DOC1",
            "conditions": ["I10"],
            "adverse_events": [{"drug": "amoxicillin", "effect": "rash"}],
        },
        {"document_id": "doc-2", "conditions": ["E11.9", "J45.909"]},
        {"document_id": "never-sent", "conditions": ["I10"]},
    ]
    gold.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return notes, gold


def _pipeline() -> Pipeline:
    return Pipeline(
        Settings(),
        MemoryStore(),
        analyzer=LexiconAnalyzer(),
        builders=[LexiconConditions()],
    )


def test_replay_scores_codes_pairs_and_latency(corpus: tuple[Path, Path]) -> None:
    notes, gold_path = corpus
    results = run_replay(_pipeline(), read_files([notes]))
    result = score(results, load_gold(gold_path))

    assert result["documents"] == {
        "replayed": 3,
        "dead_lettered": 1,
        "with_gold": 2,
        "gold_not_replayed": 1,
    }
    exact = result["conditions"]["exact"]
    assert (exact["tp"], exact["fp"], exact["fn"]) == (2, 0, 1)
    assert exact["precision"] == 1.0
    assert exact["recall"] == pytest.approx(2 / 3, abs=1e-6)
    ade = result["adverse_events"]["strict"]
    assert (ade["tp"], ade["fp"], ade["fn"]) == (1, 0, 0)
    assert result["latency_ms"]["p50"] > 0
    assert result["latency_ms"]["max"] >= result["latency_ms"]["p50"]


def test_category_level_credits_a_sibling_code(tmp_path: Path, corpus: tuple[Path, Path]) -> None:
    notes, _ = corpus
    gold = tmp_path / "g.jsonl"
    gold.write_text(json.dumps({"document_id": "doc-2", "conditions": ["E11.65"]}) + "\n")
    result = score(run_replay(_pipeline(), read_files([notes / "b.json"])), load_gold(gold))
    assert result["conditions"]["exact"]["tp"] == 0
    assert result["conditions"]["category"]["tp"] == 1


def test_bad_gold_line_names_the_line(tmp_path: Path) -> None:
    gold = tmp_path / "g.jsonl"
    gold.write_text('{"document_id": "a"}\n{"conditions": []}\n')
    with pytest.raises(ValueError, match=r"g.jsonl:2"):
        load_gold(gold)


def test_html_report_shows_scores_and_misses(corpus: tuple[Path, Path]) -> None:
    notes, gold_path = corpus
    result = score(run_replay(_pipeline(), read_files([notes])), load_gold(gold_path))
    page = render_html(result)
    assert page.startswith("<!doctype html>")
    assert "J45.909" in page  # the missed code is listed
    assert "doc-2" in page


def test_replay_command_writes_reports(corpus: tuple[Path, Path], tmp_path: Path) -> None:
    from streamproc.cli import app

    notes, gold_path = corpus
    out = tmp_path / "report"
    run = CliRunner().invoke(
        app, ["replay", "--files", str(notes), "--gold", str(gold_path), "--out", str(out)]
    )
    assert run.exit_code == 0, (run.output, run.exception)
    saved = json.loads((out / "report.json").read_text())
    assert saved["documents"]["replayed"] == 3
    assert (out / "report.html").read_text().count("<table>") >= 3
