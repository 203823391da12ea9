"""Metrics endpoint, health checks, PHI-free JSON logs, topic mapping, input collection."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from streamproc.config import Settings
from streamproc.embedded import free_port
from streamproc.logging import JsonFormatter
from streamproc.metrics import Metrics, MetricsServer, redis_check, tcp_check
from streamproc.stream.inputs import InputNotFound, collect_files, iter_inputs
from streamproc.stream.topics import bootstrap_servers, topic_name


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_and_health_endpoint() -> None:
    metrics = Metrics()
    metrics.messages_in.labels(topic="notes.raw").inc(3)
    metrics.messages_dead_lettered.labels(topic="notes.raw", reason="too_large").inc()
    metrics.resources_withdrawn.labels(topic="fhir.conditions").inc(2)
    metrics.latency.labels(stage="ingest").observe(0.01)
    metrics.consumer_lag.labels(topic="notes.raw", partition="0").set(7)
    flags = {"broker": True, "redis": True}
    server = MetricsServer(
        metrics,
        free_port(),
        checks={name: (lambda n=name: flags[n]) for name in flags},
        cache_s=0,
    ).start()
    try:
        code, body = get(server.address + "/metrics")
        assert code == 200
        assert 'streamproc_messages_in_total{topic="notes.raw"} 3.0' in body
        assert (
            'streamproc_messages_dead_lettered_total{reason="too_large",topic="notes.raw"} 1.0'
            in body
        )
        assert 'streamproc_consumer_lag{partition="0",topic="notes.raw"} 7.0' in body
        assert 'streamproc_resources_withdrawn_total{topic="fhir.conditions"} 2.0' in body
        assert "streamproc_stage_seconds_bucket" in body
        code, body = get(server.address + "/health")
        assert code == 200 and json.loads(body)["ok"] is True
        flags["redis"] = False
        code, body = get(server.address + "/health")
        assert code == 503
        assert json.loads(body)["checks"] == {"broker": True, "redis": False}
        assert get(server.address + "/nope")[0] == 404
    finally:
        server.stop()


def test_reachability_checks(embedded_stack) -> None:  # noqa: ANN001
    assert tcp_check(embedded_stack.kafka_brokers)()
    assert redis_check(embedded_stack.redis_url)()
    closed = free_port()
    assert not tcp_check(f"127.0.0.1:{closed}", timeout_s=0.2)()
    assert not redis_check(f"redis://127.0.0.1:{closed}/0", timeout_s=0.2)()


def test_json_logs_drop_unknown_fields_and_exception_messages() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord(
        "streamproc.x", logging.ERROR, __file__, 1, "ingest failed", None, None
    )
    record.code = "not_utf8"
    record.text = "Patient John Smith MRN 12345"  # must never reach the log
    record.patient_ref = "Patient/12345"
    try:
        raise ValueError("cannot parse 'John Smith'")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    data = json.loads(line)
    assert data["msg"] == "ingest failed" and data["code"] == "not_utf8"
    assert data["error_type"] == "ValueError"
    assert "John" not in line and "12345" not in line


def test_topic_mapping_and_bootstrap_parsing() -> None:
    settings = Settings(topics={"dlq": "custom.dlq"})
    assert topic_name(settings, "dlq") == "custom.dlq"
    assert topic_name(settings, "adverse_events") == "alerts.adverse-events"
    assert bootstrap_servers("kafka://a:1;b:2, c:3") == ["a:1", "b:2", "c:3"]


def test_inputs_one_event_per_file_or_line(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.hl7").write_bytes(b"MSH|a\rPID|1")
    (tmp_path / "y.ndjson").write_bytes(b'{"a":1}\n\n{"b":2}\n')
    (tmp_path / "z.txt").write_bytes(b"ignored")
    items = list(iter_inputs([tmp_path]))
    assert [(i.path.name, i.index) for i in items] == [
        ("x.hl7", 0),
        ("y.ndjson", 1),
        ("y.ndjson", 3),
    ]
    assert collect_files([tmp_path / "y.ndjson"]) == [tmp_path / "y.ndjson"]
    with pytest.raises(InputNotFound):
        collect_files([tmp_path / "missing.hl7"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputNotFound):
        collect_files([tmp_path / "empty"])


def test_publish_counts_withdrawals_apart() -> None:
    """What the worker's publish step exports once the broker acked: every output, and the
    withdrawals (a retracted document's Conditions) also on their own counter."""
    import asyncio
    from types import SimpleNamespace

    from streamproc.records import OutMessage
    from streamproc.stream.agents import publish

    class Topic:
        def __init__(self) -> None:
            self.sent: list[bytes] = []

        async def send(self, key: bytes, value: bytes, force: bool) -> asyncio.Future[None]:
            self.sent.append(key)
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

    withdrawn = {
        "resourceType": "Condition",
        "id": "c-1",
        "verificationStatus": {"coding": [{"code": "entered-in-error"}]},
    }
    outputs = [
        OutMessage(topic="conditions", key="c-1", value=withdrawn),
        OutMessage(topic="conditions", key="c-2", value={"resourceType": "Condition", "id": "c-2"}),
    ]
    metrics, marked = Metrics(), []
    ctx = SimpleNamespace(
        topics={"conditions": Topic()},
        settings=Settings(),
        metrics=metrics,
        pipeline=SimpleNamespace(mark_published=marked.append),
    )
    asyncio.run(publish(ctx, outputs))  # type: ignore[arg-type]
    assert marked == [outputs] and ctx.topics["conditions"].sent == [b"c-1", b"c-2"]
    body = metrics.render().decode()
    assert 'streamproc_messages_out_total{topic="fhir.conditions"} 2.0' in body
    assert 'streamproc_resources_withdrawn_total{topic="fhir.conditions"} 1.0' in body
