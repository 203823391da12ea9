"""Weak note gold from a Synthea export: the patient's own Condition names found in the notes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from streamproc.train.datasets.synthea_notes import read_synthea_notes


def _write(folder: Path, name: str, rows: list[dict[str, object]]) -> None:
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def _condition(patient: str, text: str) -> dict[str, object]:
    return {"resourceType": "Condition", "subject": {"reference": f"Patient/{patient}"},
            "code": {"text": text}}  # fmt: skip


def _note(note_id: str, patient: str, text: str) -> dict[str, object]:
    data = base64.b64encode(text.encode()).decode()
    return {"resourceType": "DocumentReference", "id": note_id, "status": "current",
            "subject": {"reference": f"Patient/{patient}"},
            "content": [{"attachment": {"contentType": "text/plain", "data": data}}]}  # fmt: skip


def test_patient_conditions_become_problem_spans_in_their_notes(tmp_path: Path) -> None:
    _write(tmp_path, "Condition.ndjson", [
        _condition("a", "Chronic kidney disease stage 3 (disorder)"),
        _condition("a", "Chronic kidney disease (disorder)"),
        _condition("a", "Stress (finding)"),
        _condition("a", "Full-time employment (finding)"),  # a social finding, no problem
        _condition("b", "Asthma (disorder)"),
    ])  # fmt: skip
    text = (
        "Patient has a history of chronic kidney disease stage 3 (disorder), stress (finding), "
        "full-time employment (finding). Distress noted. Asthma denied."
    )
    _write(
        tmp_path, "DocumentReference.ndjson", [_note("n1", "a", text), _note("n2", "b", "Asthma.")]
    )
    first, second = read_synthea_notes(tmp_path)
    assert first.meta == {"corpus": "synthea-notes", "annotated_labels": "problem"}
    # the longest name wins, words are whole ("Distress" is not "stress"), another patient's
    # condition ("asthma") is not this patient's gold
    assert [text[s.start : s.end] for s in first.spans] == [
        "chronic kidney disease stage 3",
        "stress",
    ]
    assert {s.label for s in first.spans} == {"problem"} and first.group == "Patient/a"
    assert [second.text[s.start : s.end] for s in second.spans] == ["Asthma"]
    assert len(read_synthea_notes(tmp_path, limit=1)) == 1


def test_eval_ner_notes_scores_the_shipped_model_on_recorded_conditions(tmp_path: Path) -> None:
    from streamproc.train.tasks import get_task

    _write(tmp_path, "Condition.ndjson", [
        _condition("a", "Chronic kidney disease stage 3 (disorder)"),
        _condition("a", "Acute bronchitis (disorder)"),
    ])  # fmt: skip
    text = (
        "Patient has a history of chronic kidney disease stage 3 (disorder).\n"
        "# Assessment and Plan\nPatient is presenting with acute bronchitis (disorder)."
    )
    _write(tmp_path, "DocumentReference.ndjson", [_note("n1", "a", text)])
    res = get_task("ner-notes").evaluate(tmp_path)
    assert res["task"] == "ner-notes" and res["notes"] == 1 and res["gold_mentions"] == 2
    # the analyzer's entities (stage kept, "(disorder)" trimmed) match both mentions exactly
    assert res["summary"]["problem_recall_strict"] == 1.0
