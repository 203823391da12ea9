"""Committed schemas/ must match what `streamproc schemas` generates from the code."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from streamproc.cli import app
from streamproc.config import TopicNames
from streamproc.records import DeadLetter, NoteEvent, SourceRef
from streamproc.schemas import DEFAULT_DIR, build_schemas, check_schemas, write_schemas


def test_committed_schemas_do_not_drift() -> None:
    drifted = check_schemas(DEFAULT_DIR)
    assert not drifted, f"run `streamproc schemas` and commit: {drifted}"


def test_every_topic_has_a_schema() -> None:
    names = set(build_schemas())
    assert names == {f"{t}.schema.json" for t in TopicNames().all()}
    for name in names:
        schema = json.loads((DEFAULT_DIR / name).read_text(encoding="utf-8"))
        assert schema["$schema"].startswith("https://json-schema.org/")
        assert schema["x-topic"] == name.removesuffix(".schema.json")


def test_record_schemas_follow_the_models() -> None:
    schemas = build_schemas()
    deid = schemas["notes.deid.schema.json"]
    assert set(NoteEvent.model_fields) <= set(deid["properties"])
    assert "text" in deid["required"] and "event_id" in deid["required"]
    dlq = schemas["notes.dlq.schema.json"]
    assert set(DeadLetter.model_fields) <= set(dlq["properties"])
    dead = DeadLetter.build("too_large", "over limit", SourceRef(topic="notes.raw"), b"x")
    assert set(dead.model_dump(mode="json")) <= set(dlq["properties"])


def test_fhir_schemas_require_resource_type() -> None:
    schemas = build_schemas()
    cond = schemas["fhir.conditions.schema.json"]
    assert cond["properties"]["resourceType"] == {"const": "Condition"}
    assert {"resourceType", "id", "subject", "code"} <= set(cond["required"])
    assert "clinicalStatus" in cond["properties"]  # element list comes from fhir.resources
    alert = schemas["alerts.adverse-events.schema.json"]
    assert alert["properties"]["resourceType"] == {"const": "AdverseEvent"}
    assert {"resourceType", "id", "actuality", "subject"} <= set(alert["required"])


def test_cli_schemas_check_detects_drift(tmp_path: Path) -> None:
    runner = CliRunner()
    write_schemas(tmp_path)
    ok = runner.invoke(app, ["schemas", "--check", "--dir", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    target = tmp_path / "notes.deid.schema.json"
    target.write_text(target.read_text().replace("event_id", "eventId"))
    bad = runner.invoke(app, ["schemas", "--check", "--dir", str(tmp_path)])
    assert bad.exit_code == 1
    assert "notes.deid.schema.json" in bad.output
