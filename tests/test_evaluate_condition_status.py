"""Condition clinicalStatus scored against recorded episodes (Synthea export layout)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from streamproc.evaluate.condition_status import evaluate_status, recorded_episodes, status_at
from streamproc.nlp.analyzer import Analyzer
from streamproc.nlp.icd.coder import IcdCoder

NOTE = (
    "Patient has a history of acute bronchitis (disorder), essential hypertension (disorder).\n"
    "Today: sprain of ankle."
)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_status_at_a_date() -> None:
    ended = [(_at("2010-01-01T00:00:00+00:00"), _at("2010-02-01T00:00:00+00:00"))]
    ongoing = [(_at("2005-01-01T00:00:00+00:00"), None)]
    when = _at("2012-06-01T00:00:00+00:00")
    assert status_at(ended, when) == "inactive"
    assert status_at(ongoing, when) == "active"
    assert status_at(ended + ongoing, when) == "active"  # a new episode is running
    assert status_at(ended, _at("2009-01-01T00:00:00+00:00")) is None  # not yet recorded


def _export(folder: Path) -> None:
    folder.mkdir()
    conditions = [
        ("Acute bronchitis (disorder)", "2010-01-01T00:00:00Z", "2010-01-20T00:00:00Z"),
        ("Essential hypertension (disorder)", "2001-01-01T00:00:00Z", None),
        ("Sprain of ankle", "2012-05-30T00:00:00Z", "2012-07-01T00:00:00Z"),
    ]
    with (folder / "Condition.ndjson").open("w") as f:
        for text, onset, end in conditions:
            res = {"resourceType": "Condition", "subject": {"reference": "Patient/p1"},
                   "code": {"text": text}, "onsetDateTime": onset}  # fmt: skip
            if end:
                res["abatementDateTime"] = end
            f.write(json.dumps(res) + "\n")
    doc = {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "subject": {"reference": "Patient/p1"},
        "date": "2012-06-01T00:00:00Z",
        "content": [{"attachment": {"contentType": "text/plain",
                                    "data": base64.b64encode(NOTE.encode()).decode()}}],
    }  # fmt: skip
    (folder / "DocumentReference.ndjson").write_text(json.dumps(doc) + "\n")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    label: str = "problem"
    score: float = 0.9


class _Words:
    version = "words-1"

    def predict(self, texts: Sequence[str]) -> list[list[_Span]]:
        words = ("acute bronchitis", "essential hypertension", "sprain of ankle")
        return [
            sorted((_Span(m.start(), m.end()) for w in words for m in re.finditer(w, t)),
                   key=lambda sp: sp.start)
            for t in texts
        ]  # fmt: skip


def test_evaluate_status_on_a_tiny_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _export(tmp_path / "fhir")
    assert len(recorded_episodes(tmp_path / "fhir")) == 3
    analyzer = Analyzer(_Words(), coder=IcdCoder())
    monkeypatch.setattr("streamproc.nlp.build_analyzer", lambda settings, store: analyzer)
    out = evaluate_status(tmp_path)
    # bronchitis: a past episode in the history list -> inactive (gold inactive); hypertension:
    # chronic -> active (gold active); the sprain is today's problem -> active (gold active)
    assert out["matched_to_recorded"] == 3
    assert out["agreement"] == 1.0
    assert out["agreement_if_all_active"] == round(2 / 3, 4)
    assert out["confusion"]["problem-list-item gold=inactive ours=inactive"] == 1
