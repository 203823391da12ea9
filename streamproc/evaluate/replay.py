"""Replay for evaluation: re-read raw notes from a topic (or files), run today's pipeline on them,
and score what it publishes against gold labels, with per-note latency.

Why in-process: a replay must not disturb production state, so it runs the same ``Pipeline`` code
with a fresh in-memory store (no dedup against live Redis, no alert suppression, no writes to
output topics). Gold labels are keyed by the *source* document id (TXA-12, OBR-3,
DocumentReference.id) or by ``event_id``, because de-identification pseudonymises document ids.

Gold file: JSON lines, one document each::

    {"document_id": "doc-1", "conditions": ["I10", "E11.9"],
     "adverse_events": [{"drug": "amoxicillin", "effect": "rash"}]}
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from streamproc.config import KafkaSecurity
from streamproc.evaluate.metrics import prf
from streamproc.fhir.lifecycle import is_withdrawal
from streamproc.ingest import IngestError, parse_message
from streamproc.pipeline import Pipeline
from streamproc.records import NoteEvent, OutMessage, SourceRef
from streamproc.stream.security import client_options

ICD_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"


@dataclass(frozen=True)
class ReplayMessage:
    source: SourceRef
    data: bytes
    timestamp_ms: int | None = None


@dataclass
class GoldDocument:
    conditions: set[str] = field(default_factory=set)
    adverse_events: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class DocumentResult:
    key: str  # gold key: source document id, else event id
    event_id: str
    conditions: set[str] = field(default_factory=set)
    adverse_events: set[tuple[str, str]] = field(default_factory=set)
    latency_ms: float = 0.0
    dead_lettered: bool = False


def normalise_term(text: str) -> str:
    return " ".join(text.lower().split())


def load_gold(path: Path) -> dict[str, GoldDocument]:
    """Read the JSON-lines gold file; raise ValueError naming the bad line."""
    gold: dict[str, GoldDocument] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key = str(row.get("document_id") or row["event_id"])
            doc = GoldDocument(
                conditions={str(c).upper() for c in row.get("conditions", [])},
                adverse_events={
                    (normalise_term(a["drug"]), normalise_term(a["effect"]))
                    for a in row.get("adverse_events", [])
                },
            )
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path}:{number}: not a gold row ({type(err).__name__})") from err
        gold[key] = doc
    return gold


def read_topic(
    brokers: str,
    topic: str,
    *,
    from_offset: int | None = None,
    from_time: datetime | None = None,
    max_messages: int | None = None,
    idle_timeout_s: float = 5.0,
    security: KafkaSecurity | None = None,
) -> Iterator[ReplayMessage]:
    """Read every partition of ``topic`` from an offset or a time until idle for ``idle_timeout_s``.

    Uses manual assignment (no consumer group), so a replay never moves a production group's
    committed offsets.
    """
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=brokers.split(","),
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=int(idle_timeout_s * 1000),
        **client_options(security or KafkaSecurity()),
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise ValueError(f"topic not found or empty metadata: {topic}")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_time is not None:
            wanted = {tp: int(from_time.timestamp() * 1000) for tp in tps}
            found = consumer.offsets_for_times(wanted)
            for tp in tps:
                hit = found.get(tp)
                if hit is None:
                    consumer.seek_to_end(tp)
                else:
                    consumer.seek(tp, hit.offset)
        elif from_offset is not None:
            for tp in tps:
                consumer.seek(tp, from_offset)
        else:
            consumer.seek_to_beginning(*tps)
        for count, record in enumerate(consumer, start=1):
            yield ReplayMessage(
                source=SourceRef(
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    key=record.key.decode("utf-8", "replace") if record.key else None,
                ),
                data=record.value or b"",
                timestamp_ms=record.timestamp,
            )
            if max_messages is not None and count >= max_messages:
                return
    finally:
        consumer.close()


def read_files(paths: Sequence[Path]) -> Iterator[ReplayMessage]:
    """The same inputs `streamproc send` reads, as replay messages."""
    from streamproc.stream.inputs import iter_inputs

    for item in iter_inputs(paths):
        yield ReplayMessage(
            source=SourceRef(topic=f"file:{item.path}", offset=item.index), data=item.data
        )


def _gold_key(note: NoteEvent) -> str:
    return note.document_id or note.event_id


def run_replay(pipeline: Pipeline, messages: Iterable[ReplayMessage]) -> list[DocumentResult]:
    """Run each raw message through both pipeline stages, timing each note end to end."""
    results: list[DocumentResult] = []
    for message in messages:
        try:  # the source document ids, before de-identification replaces them
            parsed = parse_message(message.data, message.source, pipeline.settings)
            originals = {n.event_id: _gold_key(n) for n in parsed}
        except IngestError:
            originals = {}
        started = time.perf_counter()
        outcome = pipeline.ingest(message.data, message.source)
        pipeline.mark_done(outcome.dedup_keys)
        notes = [NoteEvent.model_validate(m.value) for m in outcome.outputs if m.topic == "deid"]
        if not notes:
            if any(m.topic == "dlq" for m in outcome.outputs):
                key = message.source.dedup_key()
                results.append(DocumentResult(key=key, event_id="", dead_lettered=True))
            continue
        ingest_ms = (time.perf_counter() - started) * 1e3 / len(notes)
        for note in notes:
            started = time.perf_counter()
            outputs = pipeline.analyze([note])
            doc = DocumentResult(
                key=originals.get(note.event_id, note.event_id),
                event_id=note.event_id,
                latency_ms=ingest_ms + (time.perf_counter() - started) * 1e3,
            )
            _collect(outputs, doc)
            results.append(doc)
    return results


def _collect(outputs: Sequence[OutMessage], doc: DocumentResult) -> None:
    """Reduce one note's published resources to comparable codes and drug/effect pairs
    (withdrawals of what an earlier version published are no predictions of this note)."""
    for out in outputs:
        if is_withdrawal(out.value):
            continue
        if out.topic == "conditions":
            codings = out.value.get("code", {}).get("coding", [])
            top = next((c for c in codings if c.get("system") == ICD_SYSTEM), None)
            if top is not None:
                doc.conditions.add(str(top.get("code", "")).upper())
        elif out.topic == "adverse_events" and out.value.get("resourceType") == "AdverseEvent":
            pair = _ade_pair(out.value)
            if pair:
                doc.adverse_events.add(pair)


def _ade_pair(resource: dict[str, Any]) -> tuple[str, str] | None:
    effect = resource.get("event", {}).get("text")
    drug = None
    for contained in resource.get("contained", []):
        if contained.get("resourceType") == "Medication":
            drug = contained.get("code", {}).get("text")
    if not drug or not effect:
        return None
    return normalise_term(drug), normalise_term(effect)


def _codes_match(pred: str, gold: str, level: str) -> bool:
    if level == "category":
        return pred.split(".")[0] == gold.split(".")[0]
    return pred == gold


def _score_sets(pairs: Iterable[tuple[set[Any], set[Any]]], match: Any) -> dict[str, float | int]:
    tp = fp = fn = 0
    for pred, gold in pairs:
        matched_gold: set[Any] = set()
        for p in pred:
            hit = next((g for g in gold if g not in matched_gold and match(p, g)), None)
            if hit is None:
                fp += 1
            else:
                tp += 1
                matched_gold.add(hit)
        fn += len(gold - matched_gold)
    return prf(tp, fp, fn)


def _ade_relaxed(pred: tuple[str, str], gold: tuple[str, str]) -> bool:
    return all(p in g or g in p for p, g in zip(pred, gold, strict=True))


def score(results: Sequence[DocumentResult], gold: dict[str, GoldDocument]) -> dict[str, Any]:
    """P/R/F1 for conditions (exact code and 3-character category) and ADE pairs, plus latency."""
    scored = [(r, gold[r.key]) for r in results if r.key in gold]
    latencies = sorted(r.latency_ms for r in results if not r.dead_lettered)

    def pct(q: float) -> float:
        if not latencies:
            return 0.0
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    return {
        "documents": {
            "replayed": len(results),
            "dead_lettered": sum(r.dead_lettered for r in results),
            "with_gold": len(scored),
            "gold_not_replayed": len(set(gold) - {r.key for r in results}),
        },
        "conditions": {
            "exact": _score_sets(
                ((r.conditions, g.conditions) for r, g in scored),
                lambda p, q: _codes_match(p, q, "exact"),
            ),
            "category": _score_sets(
                ((r.conditions, g.conditions) for r, g in scored),
                lambda p, q: _codes_match(p, q, "category"),
            ),
        },
        "adverse_events": {
            "strict": _score_sets(
                ((r.adverse_events, g.adverse_events) for r, g in scored), lambda p, q: p == q
            ),
            "relaxed": _score_sets(
                ((r.adverse_events, g.adverse_events) for r, g in scored), _ade_relaxed
            ),
        },
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2) if latencies else 0.0,
            "p95": pct(0.95),
            "max": round(latencies[-1], 2) if latencies else 0.0,
            "mean": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        },
        "per_document": [
            {
                "key": r.key,
                "predicted_conditions": sorted(r.conditions),
                "gold_conditions": sorted(g.conditions),
                "predicted_adverse_events": sorted(map(list, r.adverse_events)),
                "gold_adverse_events": sorted(map(list, g.adverse_events)),
                "latency_ms": round(r.latency_ms, 2),
            }
            for r, g in scored
        ],
    }
