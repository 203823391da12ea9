"""CLI behaviour without a broker: `process`, exit codes, `--help`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamproc.cli import Exit, app

runner = CliRunner()


def mdm(i: int) -> str:
    txa = ["TXA", "1", "CN", "TX", "20240101120000"] + [""] * 7 + [f"DOC{i}"]
    return "\r".join(
        [
            f"MSH|^~\\&|EHR|HOSP|NLP|HOSP|20240101120000||MDM^T02|C{i}|P|2.5",
            f"PID|1||{500 + i}^^^HOSP^MR||TEST^PATIENT{i}",
            "|".join(txa),
            f"OBX|1|TX|11506-3^Progress note^LN||Visit {i}: cough for two days.||||||F",
        ]
    )


def write_inputs(folder: Path) -> None:
    folder.mkdir()
    (folder / "a.hl7").write_text(mdm(1))
    (folder / "b.hl7").write_text(mdm(2))
    (folder / "bad.hl7").write_bytes(b"\xff\xfe not utf-8")
    (folder / "ignored.txt").write_text("not an input suffix")
    doc = {
        "resourceType": "DocumentReference",
        "id": "doc-7",
        "status": "current",
        "subject": {"reference": "Patient/7"},
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(b"Denies fever. Takes aspirin daily.").decode(),
                }
            }
        ],
    }
    lines = [json.dumps(doc), "", '{"resourceType": "Patient", "id": "p1"}', "{broken"]
    (folder / "docs.ndjson").write_text("\n".join(lines) + "\n")


def run_process(args: list[str]) -> tuple[int, list[dict], str]:
    # ingest only: this checks the CLI and stream wiring, not the NLP models (another area's).
    result = runner.invoke(app, ["process", "--agents", "ingest", *args])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines, result.stderr


def test_process_emits_every_message_tagged_with_its_topic(tmp_path: Path) -> None:
    write_inputs(tmp_path / "in")
    code, lines, err = run_process([str(tmp_path / "in")])
    assert code == 0, err
    by_topic: dict[str, list[dict]] = {}
    for line in lines:
        assert set(line) == {"topic", "key", "value"}
        by_topic.setdefault(line["topic"], []).append(line)
    notes = by_topic["notes.deid"]
    assert len(notes) == 3  # two MDM + one DocumentReference; the Patient is skipped
    assert {n["value"]["message_format"] for n in notes} == {"hl7v2", "fhir"}
    assert all(n["key"] == n["value"]["event_id"] for n in notes)
    dlq = by_topic["notes.dlq"]
    assert len(dlq) == 2  # non-UTF-8 HL7 and the broken JSON line
    assert {d["value"]["stage"] for d in dlq} == {"ingest"}
    assert {d["value"]["source"]["topic"].rsplit("/", 1)[-1] for d in dlq} == {
        "bad.hl7",
        "docs.ndjson",
    }
    summary = json.loads(err.strip().splitlines()[-1])
    assert summary["inputs"] == 6 and summary["notes.deid"] == 3 and summary["notes.dlq"] == 2


def test_process_out_file_and_redelivery_dedup(tmp_path: Path) -> None:
    (tmp_path / "a.hl7").write_text(mdm(1))
    (tmp_path / "a_copy.hl7").write_text(mdm(1))  # same document again: deduplicated
    out = tmp_path / "out.jsonl"
    code, stdout_lines, err = run_process(
        [str(tmp_path / "a.hl7"), str(tmp_path / "a_copy.hl7"), "--out", str(out)]
    )
    assert code == 0, err
    assert stdout_lines == []
    written = [json.loads(x) for x in out.read_text().splitlines()]
    assert [w["topic"] for w in written] == ["notes.deid"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["process", "/nonexistent/input.hl7"], Exit.INPUT_NOT_FOUND),
        (["--config", "/nonexistent/settings.toml", "process", "x"], Exit.CONFIG),
        (["tail"], Exit.USAGE),
        (["worker", "--agents", "ingest"], Exit.CONFIG),  # no brokers configured
    ],
)
def test_exit_codes(args: list[str], code: int, monkeypatch, state_dir) -> None:  # noqa: ANN001
    monkeypatch.delenv("STREAMPROC_KAFKA_BROKERS", raising=False)
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output


def test_bad_setting_value_is_a_config_error(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("STREAMPROC_PARTITIONS", "zero")
    (tmp_path / "a.hl7").write_text(mdm(1))
    result = runner.invoke(app, ["process", str(tmp_path / "a.hl7")])
    assert result.exit_code == Exit.CONFIG
    assert "invalid configuration" in result.stderr


def test_client_commands_without_broker_exit_4(tmp_path: Path, monkeypatch, state_dir) -> None:  # noqa: ANN001
    monkeypatch.delenv("STREAMPROC_KAFKA_BROKERS", raising=False)
    (tmp_path / "a.hl7").write_text(mdm(1))
    for args in (["send", str(tmp_path / "a.hl7")], ["tail", "dlq"], ["topics"]):
        result = runner.invoke(app, args)
        assert result.exit_code == Exit.UNREACHABLE, (args, result.output)
        assert "streamproc up" in result.stderr


def test_send_missing_input_exit_5(monkeypatch, state_dir) -> None:  # noqa: ANN001
    result = runner.invoke(app, ["send", "/nonexistent/folder"])
    assert result.exit_code == Exit.INPUT_NOT_FOUND


@pytest.mark.parametrize(
    "command", [[], ["up"], ["worker"], ["send"], ["tail"], ["process"], ["topics"], ["schemas"]]
)
def test_help_everywhere(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_bench_in_process_reports_stage_timings(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = runner.invoke(app, ["bench", "-n", "6", "--agents", "ingest", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    run = report["in_process"]
    assert run["messages"] == 6 and run["notes"] == 6  # 3 HL7 MDM + 3 FHIR DocumentReference
    assert run["outputs"] == {"deid": 6}
    assert run["stage_calls"]["ingest"]["count"] == 6  # the 4 warm-up messages are not timed
    assert run["warmup"]["messages"] == 4 and run["warmup"]["seconds"] > 0
    assert run["throughput_msgs_per_s"] > 0
    assert report["environment"]["cpus"] >= 1
