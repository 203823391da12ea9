"""End-to-end benchmarks: the in-process pipeline (per-stage timings, one run) and, optionally,
the real worker on the embedded broker (ready time, throughput). Results are plain dicts (JSON)."""

from __future__ import annotations

import json
import logging
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from streamproc import __version__
from streamproc.config import Settings
from streamproc.records import NoteEvent, SourceRef
from streamproc.state import MemoryStore
from streamproc.stream.wiring import build_pipeline, instrument, stages_for

log = logging.getLogger(__name__)


def _summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"count": 0, "total_s": 0.0}
    ordered = sorted(samples)
    return {
        "count": len(samples),
        "total_s": round(sum(samples), 4),
        "mean_ms": round(statistics.fmean(samples) * 1e3, 3),
        "p50_ms": round(ordered[len(ordered) // 2] * 1e3, 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1e3, 3),
    }


def environment() -> dict[str, Any]:
    info: dict[str, Any] = {
        "streamproc": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.is_available()
    except ImportError:
        pass
    return info


def bench_in_process(
    settings: Settings,
    messages: list[bytes],
    agents: Collection[str] = ("ingest", "analyze"),
    warmup: Sequence[bytes] = (),
) -> dict[str, Any]:
    """Run every message through ``Pipeline.ingest`` then ``analyze`` in batches of
    ``settings.batch_size``, timing each stage call. ``parse`` = ingest minus de-id.

    ``warmup`` messages (others than ``messages``: dedup would drop a repeat) go through every
    stage first, untimed: the first GPU batch pays for CUDA start-up and kernel selection
    (5.1 s against 0.5 s on an H200), which is start-up cost, not cost per note."""
    samples: dict[str, list[float]] = defaultdict(list)
    built = time.perf_counter()
    pipeline = instrument(
        build_pipeline(settings, MemoryStore(), stages=stages_for(agents)),
        lambda stage, seconds: samples[stage].append(seconds),
    )
    build_s = time.perf_counter() - built
    warm_started = time.perf_counter()
    warm_notes: list[NoteEvent] = []
    for offset, raw in enumerate(warmup):
        outcome = pipeline.ingest(raw, SourceRef(topic="bench-warmup", offset=offset))
        pipeline.mark_done(outcome.dedup_keys)
        warm_notes += [
            NoteEvent.model_validate(o.value) for o in outcome.outputs if o.topic == "deid"
        ]
    if warm_notes and "analyze" in agents:
        pipeline.analyze(warm_notes)
    warmup_s = time.perf_counter() - warm_started
    samples.clear()
    counts: dict[str, int] = defaultdict(int)
    notes: list[NoteEvent] = []
    started = time.perf_counter()
    for offset, raw in enumerate(messages):
        t0 = time.perf_counter()
        deid_before = sum(samples["deid"])
        outcome = pipeline.ingest(raw, SourceRef(topic="bench", offset=offset))
        samples["ingest"].append(time.perf_counter() - t0)
        samples["parse"].append(samples["ingest"][-1] - (sum(samples["deid"]) - deid_before))
        pipeline.mark_done(outcome.dedup_keys)
        for out in outcome.outputs:
            counts[out.topic] += 1
            if out.topic == "deid":
                notes.append(NoteEvent.model_validate(out.value))
    ingest_wall = time.perf_counter() - started
    nlp_started = time.perf_counter()
    if "analyze" in agents:
        for i in range(0, len(notes), settings.batch_size):
            for out in pipeline.analyze(notes[i : i + settings.batch_size]):
                counts[out.topic] += 1
    nlp_wall = time.perf_counter() - nlp_started
    total = time.perf_counter() - started
    n = len(messages)
    stages = {name: _summary(values) for name, values in sorted(samples.items())}
    per_note = {
        stage: round(sum(samples[stage]) / max(1, len(notes)) * 1e3, 3)
        for stage in ("parse", "deid", "nlp", "fhir")
        if samples[stage]
    }
    ratios: dict[str, float] = {}
    if per_note.get("nlp"):
        for stage in ("parse", "deid", "fhir"):
            if stage in per_note:
                ratios[f"{stage}_over_nlp"] = round(per_note[stage] / per_note["nlp"], 4)
    avg_chars = statistics.fmean(len(n_.text) for n_ in notes) if notes else 0.0
    return {
        "mode": "in_process",
        "messages": n,
        "notes": len(notes),
        "avg_note_chars": round(avg_chars, 1),
        "batch_size": settings.batch_size,
        "agents": sorted(agents),
        "pipeline_build_s": round(build_s, 3),
        "warmup": {"messages": len(warmup), "seconds": round(warmup_s, 3)},
        "wall_s": {
            "ingest_deid": round(ingest_wall, 3),
            "nlp_fhir": round(nlp_wall, 3),
            "total": round(total, 3),
        },
        "throughput_msgs_per_s": round(n / total, 2) if total else None,
        "stage_calls": stages,  # nlp: one sample per batch
        "per_note_ms": per_note,
        "ratios": ratios,
        "outputs": dict(counts),
        "stages_present": {
            "deid": pipeline.deidentifier is not None,
            "nlp": pipeline.analyzer is not None,
            "fhir": bool(pipeline.builders),
        },
    }


def bench_broker(
    settings: Settings,
    messages: list[bytes],
    agents: Collection[str] = ("ingest", "analyze"),
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """Run ``streamproc worker`` (a child process) on the embedded broker and Redis, publish the
    messages, and time until every raw message came out on notes.deid or notes.dlq."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    from streamproc.embedded import EmbeddedStack

    prefix = f"bench{uuid.uuid4().hex[:6]}"
    names = {
        "raw": f"{prefix}.raw",
        "deid": f"{prefix}.deid",
        "conditions": f"{prefix}.conditions",
        "adverse_events": f"{prefix}.ae",
        "dlq": f"{prefix}.dlq",
    }
    with EmbeddedStack() as stack, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "STREAMPROC_KAFKA_BROKERS": stack.kafka_brokers,
            "STREAMPROC_REDIS_URL": stack.redis_url,
            "STREAMPROC_APP_ID": prefix,
            "STREAMPROC_PARTITIONS": str(settings.partitions),
            "STREAMPROC_BATCH_SIZE": str(settings.batch_size),
            "STREAMPROC_BATCH_WINDOW_S": str(settings.batch_window_s),
            **{f"STREAMPROC_TOPICS__{k.upper()}": v for k, v in names.items()},
        }
        log_path = Path(tmp) / "worker.log"
        started = time.monotonic()
        with log_path.open("wb") as log_file:
            worker = subprocess.Popen(
                [sys.executable, "-m", "streamproc.cli", "worker", "--agents", ",".join(agents)],
                env=env,
                stdout=log_file,
                stderr=log_file,
            )
        try:
            ready_s = _wait_ready(worker, log_path, started, timeout_s=120)
            consumer = KafkaConsumer(bootstrap_servers=[stack.kafka_brokers], group_id=None)
            tps = [
                TopicPartition(names[t], p)
                for t in ("deid", "dlq", "conditions", "adverse_events")
                for p in range(settings.partitions)
            ]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            producer = KafkaProducer(bootstrap_servers=[stack.kafka_brokers], linger_ms=5)
            sent_at = time.monotonic()
            for raw in messages:
                producer.send(names["raw"], raw)
            producer.flush()
            produce_s = time.monotonic() - sent_at
            counts: dict[str, int] = defaultdict(int)
            first_stage_done: float | None = None
            last_output = sent_at
            expected_notes = None
            while time.monotonic() - sent_at < timeout_s:
                for tp, records in consumer.poll(timeout_ms=200).items():
                    counts[tp.topic] += len(records)
                    last_output = time.monotonic()
                stage1 = counts[names["deid"]] + counts[names["dlq"]]
                if first_stage_done is None and stage1 >= len(messages):
                    first_stage_done = time.monotonic()
                    expected_notes = counts[names["deid"]]
                if first_stage_done is not None and (
                    "analyze" not in agents or time.monotonic() - last_output > 3.0
                ):
                    break
            consumer.close()
            producer.close()
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)
    if first_stage_done is None:
        raise TimeoutError(f"worker did not finish {len(messages)} messages in {timeout_s}s")
    stage1_s = first_stage_done - sent_at
    return {
        "mode": "embedded_broker",
        "messages": len(messages),
        "agents": sorted(agents),
        "worker_ready_s": round(ready_s, 2),
        "produce_s": round(produce_s, 3),
        "raw_to_deid_s": round(stage1_s, 3),
        "raw_to_deid_msgs_per_s": round(len(messages) / stage1_s, 2) if stage1_s else None,
        "notes": expected_notes,
        "outputs": {k.removeprefix(prefix + "."): v for k, v in counts.items()},
        "last_output_after_s": round(last_output - sent_at, 3),
    }


def _wait_ready(
    worker: subprocess.Popen[bytes], log_path: Path, started: float, timeout_s: float
) -> float:
    while time.monotonic() - started < timeout_s:
        text = log_path.read_text(errors="replace")
        if '"msg": "worker ready"' in text:
            return time.monotonic() - started
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited with {worker.returncode}: {text[-1500:]}")
        time.sleep(0.1)
    raise TimeoutError("worker not ready")


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2)
