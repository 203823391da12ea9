"""The real Faust worker (``streamproc worker`` as a subprocess) against the embedded broker and
Redis: N valid + M invalid raw messages -> exactly N notes and M dead letters, also across a
SIGKILL and restart of the worker mid-stream (no loss, no duplicate)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streamproc.embedded import EmbeddedStack

pytestmark = pytest.mark.integration

N_VALID = 30
# The backbone under test is raw -> notes.deid / notes.dlq; the analyze agent would also load the
# NLP models, which are another area's (and slow on 2 shared cores).
INGEST_ONLY = ("--agents", "ingest")
INVALID = [
    b"\xff\xfe\x00 not utf-8 \xc3\x28",
    b"PID|1||123^^^HOSP^MR||DOE^JANE",  # truncated HL7: no MSH
    b"{this is not json",
    b'{"just": "json", "not": "a resource"}',
    b"hello world",
]


def mdm(i: int) -> bytes:
    """A minimal valid HL7 v2 MDM^T02 with a unique document number and text."""
    txa = ["TXA", "1", "CN", "TX", "20240101120000"] + [""] * 7 + [f"DOC{i:05d}"]
    txa += [""] * 4 + ["AU"]
    segments = [
        f"MSH|^~\\&|EHR|HOSP|NLP|HOSP|20240101120000||MDM^T02|CTRL{i:05d}|P|2.5",
        "EVN|T02|20240101120000",
        f"PID|1||{100000 + i}^^^HOSP^MR||TESTPATIENT^NUMBER{i}||19700101|F",
        "|".join(txa),
        f"OBX|1|TX|11506-3^Progress note^LN||Follow-up visit {i}: stable, no chest pain.||||||F",
    ]
    return ("\r".join(segments) + "\r").encode("utf-8")


def topic_env(prefix: str) -> dict[str, str]:
    return {
        "STREAMPROC_APP_ID": f"{prefix}-app",
        "STREAMPROC_TOPICS__RAW": f"{prefix}.raw",
        "STREAMPROC_TOPICS__DEID": f"{prefix}.deid",
        "STREAMPROC_TOPICS__CONDITIONS": f"{prefix}.conditions",
        "STREAMPROC_TOPICS__ADVERSE_EVENTS": f"{prefix}.ae",
        "STREAMPROC_TOPICS__DLQ": f"{prefix}.dlq",
        "STREAMPROC_PARTITIONS": "3",
    }


class Worker:
    """`streamproc worker` in a subprocess, with its log in a file."""

    def __init__(
        self,
        stack: EmbeddedStack,
        prefix: str,
        log_path: Path,
        args: tuple[str, ...] = (),
        argv: list[str] | None = None,
    ) -> None:
        self.argv = argv or [
            sys.executable,
            "-m",
            "streamproc.cli",
            "worker",
            "--max-runtime",
            "120",
            *args,
        ]
        self.env = {
            **os.environ,
            **topic_env(prefix),
            "STREAMPROC_KAFKA_BROKERS": stack.kafka_brokers,
            "STREAMPROC_REDIS_URL": stack.redis_url,
            "STREAMPROC_LOG_LEVEL": "INFO",
            "STREAMPROC_STATE_DIR": str(log_path.parent / "state"),  # Faust's datadir too
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 40.0) -> float:
        started = time.monotonic()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        log.close()
        runs = self.log_path.read_text(errors="replace").count('"msg": "worker ready"')
        while time.monotonic() - started < timeout_s:
            text = self.log_path.read_text(errors="replace")
            if text.count('"msg": "worker ready"') > runs:
                return time.monotonic() - started
            assert self.proc.poll() is None, f"worker exited early:\n{text[-3000:]}"
            time.sleep(0.1)
        raise AssertionError(
            f"worker not ready in {timeout_s}s:\n{self.log_path.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("worker did not stop on SIGTERM") from None
        return int(self.proc.returncode)


class Collector:
    """Reads output topics from the beginning (no consumer group) in a background thread."""

    def __init__(self, brokers: str, topics: list[str]) -> None:
        self.keys: dict[str, Counter[str]] = {t: Counter() for t in topics}
        self.values: dict[str, list[dict]] = {t: [] for t in topics}
        self._stop = threading.Event()
        self._consumer = KafkaConsumer(bootstrap_servers=[brokers], group_id=None)
        self._topics = topics
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def start(self) -> Collector:
        deadline = time.monotonic() + 10
        tps: list[TopicPartition] = []
        while time.monotonic() < deadline:
            tps = []
            for topic in self._topics:
                parts = self._consumer.partitions_for_topic(topic) or set()
                tps += [TopicPartition(topic, p) for p in parts]
            if len(tps) == 3 * len(self._topics):
                break
            time.sleep(0.2)
        self._consumer.assign(tps)
        self._consumer.seek_to_beginning(*tps)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            for records in self._consumer.poll(timeout_ms=100).values():
                with self._lock:
                    for rec in records:
                        self.keys[rec.topic][rec.key.decode()] += 1
                        self.values[rec.topic].append(json.loads(rec.value))

    def count(self, topic: str) -> int:
        with self._lock:
            return sum(self.keys[topic].values())

    def wait_for(self, expected: dict[str, int], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(self.count(t) >= n for t, n in expected.items()):
                return
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._consumer.close()


def produce(brokers: str, topic: str, messages: list[bytes], interval_s: float = 0.0) -> None:
    producer = KafkaProducer(bootstrap_servers=[brokers], acks="all", linger_ms=2)
    for msg in messages:
        producer.send(topic, msg)
        if interval_s:
            producer.flush()
            time.sleep(interval_s)
    producer.flush()
    producer.close()


def wait_for_topics(brokers: str, topics: list[str], timeout_s: float = 10) -> None:
    consumer = KafkaConsumer(bootstrap_servers=[brokers])
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(consumer.partitions_for_topic(t) for t in topics):
                return
            time.sleep(0.1)
        raise AssertionError(f"topics not created: {topics}")
    finally:
        consumer.close()


def test_worker_valid_and_invalid(embedded_stack: EmbeddedStack, unique_prefix, tmp_path) -> None:
    brokers = embedded_stack.kafka_brokers
    worker = Worker(embedded_stack, unique_prefix, tmp_path / "worker.log", INGEST_ONLY)
    ready_s = worker.start()
    deid, dlq = f"{unique_prefix}.deid", f"{unique_prefix}.dlq"
    collector = Collector(brokers, [deid, dlq]).start()
    try:
        started = time.monotonic()
        messages = [mdm(i) for i in range(N_VALID)] + INVALID
        produce(brokers, f"{unique_prefix}.raw", messages)
        collector.wait_for({deid: N_VALID, dlq: len(INVALID)}, timeout_s=30)
        took = time.monotonic() - started
        time.sleep(1.5)  # anything extra would show up now
        assert collector.count(deid) == N_VALID, collector.keys[deid]
        assert collector.count(dlq) == len(INVALID), collector.values[dlq]
        assert len(collector.keys[deid]) == N_VALID  # distinct keys: one note per document
        codes = Counter(v["error_code"] for v in collector.values[dlq])
        assert all(v["stage"] == "ingest" and v["payload_b64"] for v in collector.values[dlq])
        assert {v["source"]["topic"] for v in collector.values[dlq]} == {f"{unique_prefix}.raw"}
        print(
            f"\nready {ready_s:.1f}s; {len(messages)} messages in {took:.2f}s; dlq codes {dict(codes)}"
        )
    finally:
        collector.close()
        assert worker.stop() == 0


def test_worker_sigkill_restart_no_loss_no_duplicate(
    embedded_stack: EmbeddedStack, unique_prefix, tmp_path
) -> None:
    brokers = embedded_stack.kafka_brokers
    worker = Worker(embedded_stack, unique_prefix, tmp_path / "worker.log", INGEST_ONLY)
    worker.start()
    deid, dlq, raw = f"{unique_prefix}.deid", f"{unique_prefix}.dlq", f"{unique_prefix}.raw"
    wait_for_topics(brokers, [raw, deid, dlq])
    collector = Collector(brokers, [deid, dlq]).start()
    n_valid = 60
    messages = [mdm(1000 + i) for i in range(n_valid)]
    for j, bad in enumerate(INVALID):  # spread the invalid ones through the stream
        messages.insert(10 * j + 5, bad)
    # Produce steadily so the worker is busy when it is killed.
    sender = threading.Thread(target=produce, args=(brokers, raw, messages, 0.01), daemon=True)
    try:
        sender.start()
        collector.wait_for({deid: n_valid // 3}, timeout_s=30)
        assert collector.count(deid) >= n_valid // 3, "worker produced nothing before the kill"
        worker.kill()
        killed_at = collector.count(deid)
        sender.join(30)
        restart_s = worker.start()
        collector.wait_for({deid: n_valid, dlq: len(INVALID)}, timeout_s=40)
        time.sleep(1.5)
        dupes = {k: c for k, c in collector.keys[deid].items() if c > 1}
        assert not dupes, f"duplicates on {deid}: {dupes}"
        assert len(collector.keys[deid]) == n_valid, (
            f"lost notes: {n_valid - len(collector.keys[deid])}"
        )
        dlq_dupes = {k: c for k, c in collector.keys[dlq].items() if c > 1}
        assert not dlq_dupes, f"duplicates on {dlq}: {dlq_dupes}"
        assert len(collector.keys[dlq]) == len(INVALID)
        print(f"\nkilled after {killed_at} notes; restart ready in {restart_s:.1f}s")
    finally:
        collector.close()
        worker.stop()


FAKE_STAGES_WORKER = """
import sys
from streamproc.config import Settings
from streamproc.logging import setup_logging
from streamproc.nlp.types import NoteAnalysis
from streamproc.pipeline import Pipeline
from streamproc.records import OutMessage
from streamproc.stream.app import run_worker
import logging

log = logging.getLogger("fake")


class FakeAnalyzer:
    def analyze_batch(self, notes):
        log.info("fake batch", extra={"notes": len(notes)})
        return [NoteAnalysis() for _ in notes]


class FakeBuilder:
    def build(self, note, analysis):
        if "FAILBUILD" in note.text:
            raise ValueError("resource failed validation")
        rid = "cond-" + note.event_id
        value = {"resourceType": "Condition", "id": rid, "content_hash": note.content_hash}
        return [OutMessage(topic="conditions", key=rid, value=value)]


def factory(settings, store, stages):
    return Pipeline(settings=settings, store=store, analyzer=FakeAnalyzer(), builders=(FakeBuilder(),))


settings = Settings()
setup_logging("INFO")
sys.exit(run_worker(settings, settings.kafka_brokers, settings.redis_url, max_runtime_s=90,
                    pipeline_factory=factory))
"""


def test_analyze_agent_batches_and_dead_letters(
    embedded_stack: EmbeddedStack, unique_prefix, tmp_path
) -> None:
    """notes.deid -> batches -> analyzer (a stand-in: the models are another area's) ->
    fhir.conditions, a failing builder -> notes.dlq with stage fhir, both agents in one worker."""
    brokers = embedded_stack.kafka_brokers
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_STAGES_WORKER)
    worker = Worker(
        embedded_stack, unique_prefix, tmp_path / "worker.log", argv=[sys.executable, str(script)]
    )
    worker.env["STREAMPROC_BATCH_SIZE"] = "8"
    worker.env["STREAMPROC_BATCH_WINDOW_S"] = "0.3"
    worker.start()
    deid, dlq, cond = (f"{unique_prefix}.{t}" for t in ("deid", "dlq", "conditions"))
    wait_for_topics(brokers, [deid, dlq, cond])
    collector = Collector(brokers, [deid, dlq, cond]).start()
    n = 20
    messages = [mdm(2000 + i) for i in range(n - 1)]
    messages.append(mdm(2999).replace(b"stable", b"FAILBUILD"))
    messages += INVALID[:2]
    try:
        produce(brokers, f"{unique_prefix}.raw", messages)
        collector.wait_for({deid: n, cond: n - 1, dlq: 3}, timeout_s=30)
        time.sleep(1.0)
        assert collector.count(deid) == n
        assert collector.count(cond) == n - 1
        assert len(collector.keys[cond]) == n - 1
        stages = Counter(v["stage"] for v in collector.values[dlq])
        assert stages == {"ingest": 2, "fhir": 1}, collector.values[dlq]
        fhir_dead = next(v for v in collector.values[dlq] if v["stage"] == "fhir")
        assert fhir_dead["error_code"] == "fhir_invalid"
        assert fhir_dead["source"]["topic"] == f"{unique_prefix}.raw"  # points at the origin
        log_text = (tmp_path / "worker.log").read_text()
        sizes = [
            json.loads(line)["notes"] for line in log_text.splitlines() if '"fake batch"' in line
        ]
        assert sum(sizes) == n and max(sizes) <= 8 and len(sizes) >= 3
    finally:
        collector.close()
        assert worker.stop() == 0
