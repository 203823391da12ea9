"""The two Faust agents: only wiring between topics and :class:`~streamproc.pipeline.Pipeline`.

* ``ingest``:  ``notes.raw``  -> ``Pipeline.ingest``  -> ``notes.deid`` / ``notes.dlq``
* ``analyze``: ``notes.deid`` -> batches -> ``Pipeline.analyze`` -> FHIR topics / ``notes.dlq``

Delivery is at-least-once: an event's offset is committed only after the agent moved past it, and
it moves past it only after every output was acked by the broker. Redelivered raw messages are
dropped by the pipeline's Redis dedup keys, which are written right after the acks. Every topic is
consumed and produced as raw bytes; JSON is encoded/decoded here so that a malformed message is
dead-lettered instead of being skipped inside Faust's deserializer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.types import TP

from streamproc.config import Settings
from streamproc.fhir.lifecycle import is_withdrawal
from streamproc.metrics import Metrics
from streamproc.pipeline import IngestOutcome, Pipeline
from streamproc.records import DeadLetter, NoteEvent, OutMessage, SourceRef
from streamproc.stream.ledger import DONE, Ledger, find_published
from streamproc.stream.security import kafka_security
from streamproc.stream.topics import LOGICAL_TOPICS, topic_name

log = logging.getLogger(__name__)

AGENTS = ("ingest", "analyze")
PUBLISH_RETRY_S = (0.5, 1.0, 2.0, 5.0)
LEDGER_SLACK_MS = 60_000  # clock skew between the worker that claimed and the one that resolves


def encode_value(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class StreamContext:
    """Everything the agents need, injected (no module globals)."""

    settings: Settings
    pipeline: Pipeline
    metrics: Metrics
    topics: dict[str, faust.TopicT] = field(default_factory=dict)
    brokers: list[str] = field(default_factory=list)
    ledger: Ledger | None = None
    ingest_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="ingest")
    )
    nlp_executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="nlp")
    )

    def shutdown(self) -> None:
        self.ingest_executor.shutdown(wait=False, cancel_futures=True)
        self.nlp_executor.shutdown(wait=False, cancel_futures=True)


def declare_topics(app: faust.App, settings: Settings) -> dict[str, faust.TopicT]:
    """One Faust topic per logical name; bytes in and out (see module docstring)."""
    return {
        logical: app.topic(
            topic_name(settings, logical),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
            replicas=settings.replication_factor,
        )
        for logical in LOGICAL_TOPICS
    }


async def publish(ctx: StreamContext, outputs: Sequence[OutMessage]) -> None:
    """Send every output and wait until the broker acked all of them."""
    futures = []
    for out in outputs:
        fut = await ctx.topics[out.topic].send(
            key=out.key.encode("utf-8"), value=encode_value(out.value), force=True
        )
        futures.append(fut)
    await asyncio.gather(*futures)
    ctx.pipeline.mark_published(outputs)
    for out in outputs:
        name = topic_name(ctx.settings, out.topic)
        ctx.metrics.messages_out.labels(topic=name).inc()
        if is_withdrawal(out.value):
            ctx.metrics.resources_withdrawn.labels(topic=name).inc()


async def publish_or_dead_letter(
    ctx: StreamContext,
    outputs: Sequence[OutMessage],
    source: SourceRef,
    payload: bytes,
) -> bool:
    """Publish; if that fails, dead-letter the input (stage ``publish``). Retries while even the
    DLQ is unreachable, so the offset is never committed for a message that went nowhere.
    Returns True when the outputs themselves were published."""
    started = time.perf_counter()
    try:
        await publish(ctx, outputs)
        ctx.metrics.latency.labels(stage="publish").observe(time.perf_counter() - started)
        return True
    except asyncio.CancelledError:
        raise
    except Exception as err:
        log.exception("publish failed", extra={"source": source.dedup_key()})
        reason = type(err).__name__
    dead = DeadLetter.build("publish_failed", reason, source, payload, stage="publish")
    envelope = OutMessage(topic="dlq", key=source.dedup_key(), value=dead.model_dump(mode="json"))
    attempt = 0
    while True:
        try:
            await publish(ctx, [envelope])
            count_dead_letter(ctx, source.topic, "publish_failed")
            return False
        except asyncio.CancelledError:
            raise
        except Exception:
            delay = PUBLISH_RETRY_S[min(attempt, len(PUBLISH_RETRY_S) - 1)]
            log.error("dead-letter publish failed, retrying", extra={"seconds": delay})
            attempt += 1
            await asyncio.sleep(delay)


def count_dead_letter(ctx: StreamContext, source_topic: str, reason: str) -> None:
    ctx.metrics.messages_dead_lettered.labels(topic=source_topic, reason=reason).inc()


def count_outcome(ctx: StreamContext, source_topic: str, outputs: Sequence[OutMessage]) -> None:
    for out in outputs:
        if out.topic == "dlq":
            count_dead_letter(ctx, source_topic, str(out.value.get("error_code", "unknown")))


def update_lag(ctx: StreamContext, app: faust.App, topic: str, partition: int, offset: int) -> None:
    """Lag = partition high watermark (from fetch responses, exact on tansu) - next offset."""
    try:
        high = app.consumer.highwater(TP(topic, partition))
    except Exception:  # consumer not started / partition revoked meanwhile
        return
    if high is not None and high >= 0:
        ctx.metrics.consumer_lag.labels(topic=topic, partition=str(partition)).set(
            max(0, high - offset - 1)
        )


async def drop_already_published(
    ctx: StreamContext, outputs: list[OutMessage], claimed_ms: int, source_topic: str
) -> list[OutMessage]:
    """Outputs of a crashed attempt that did not reach the broker (see ``ledger``)."""
    named = [(topic_name(ctx.settings, o.topic), o) for o in outputs]
    present = await find_published(
        ctx.brokers,
        named,
        claimed_ms - LEDGER_SLACK_MS,
        security=kafka_security(ctx.settings),
    )
    if present:
        ctx.metrics.messages_skipped.labels(topic=source_topic, reason="already_published").inc(
            len(present)
        )
    log.info(
        "resolved pending publication",
        extra={"outputs": len(outputs), "count": len(present)},
    )
    return [o for i, o in enumerate(outputs) if i not in present]


def internal_dead_letter(
    source: SourceRef, payload: bytes, err: BaseException, stage: str
) -> OutMessage:
    dead = DeadLetter.build("internal_error", type(err).__name__, source, payload, stage=stage)
    return OutMessage(topic="dlq", key=source.dedup_key(), value=dead.model_dump(mode="json"))


def install_agents(app: faust.App, ctx: StreamContext, agents: Collection[str] = AGENTS) -> None:
    """Attach the selected agents (default both) to ``app``."""
    unknown = set(agents) - set(AGENTS)
    if unknown or not agents:
        raise ValueError(f"agents must be a non-empty subset of {AGENTS}, got {sorted(agents)}")
    ctx.topics = declare_topics(app, ctx.settings)
    raw_topic = ctx.topics["raw"]
    deid_topic = ctx.topics["deid"]

    async def ingest(stream: faust.StreamT) -> None:
        loop = asyncio.get_running_loop()
        async for event in stream.events():
            msg = event.message
            raw = msg.value if isinstance(msg.value, bytes) else bytes(msg.value or b"")
            key = msg.key.decode("utf-8", "replace") if isinstance(msg.key, bytes) else None
            source = SourceRef(topic=msg.topic, partition=msg.partition, offset=msg.offset, key=key)
            ctx.metrics.messages_in.labels(topic=msg.topic).inc()
            state = ctx.ledger.state(source) if ctx.ledger is not None else None
            if state is not None and state[0] == DONE:  # redelivered after a crash: all published
                ctx.metrics.messages_skipped.labels(topic=msg.topic, reason="redelivered").inc()
                update_lag(ctx, app, msg.topic, msg.partition, msg.offset)
                continue
            started = time.perf_counter()
            try:
                outcome: IngestOutcome = await loop.run_in_executor(
                    ctx.ingest_executor, ctx.pipeline.ingest, raw, source
                )
            except asyncio.CancelledError:
                raise
            except Exception as err:  # Pipeline.ingest never raises; guard anyway
                log.exception("ingest agent error", extra={"source": source.dedup_key()})
                outcome = IngestOutcome(outputs=[internal_dead_letter(source, raw, err, "ingest")])
            ctx.metrics.latency.labels(stage="ingest").observe(time.perf_counter() - started)
            if outcome.skipped:
                ctx.metrics.messages_skipped.labels(topic=msg.topic, reason=outcome.skipped).inc()
            outputs = list(outcome.outputs)
            if outputs and state is not None:  # the last attempt died mid-publish
                outputs = await drop_already_published(ctx, outputs, state[1], msg.topic)
            published = True
            if outputs:
                if ctx.ledger is not None:
                    ctx.ledger.claim(source)
                published = await publish_or_dead_letter(ctx, outputs, source, raw)
                if published:
                    count_outcome(ctx, msg.topic, outputs)
            try:
                if published:
                    ctx.pipeline.mark_done(outcome.dedup_keys)
                if ctx.ledger is not None:
                    ctx.ledger.done(source)
            except Exception:  # Redis down: redelivery may duplicate, never lose
                log.exception("dedup mark failed", extra={"source": source.dedup_key()})
            update_lag(ctx, app, msg.topic, msg.partition, msg.offset)

    async def analyze(stream: faust.StreamT) -> None:
        loop = asyncio.get_running_loop()
        batch_size, window = ctx.settings.batch_size, ctx.settings.batch_window_s
        async for events in stream.take_events(  # type: ignore[attr-defined]
            batch_size, within=window or 0.001
        ):
            notes: list[NoteEvent] = []
            bad: list[OutMessage] = []
            last: dict[tuple[str, int], int] = {}
            sources: list[SourceRef] = []
            for event in events:
                msg = event.message
                ctx.metrics.messages_in.labels(topic=msg.topic).inc()
                last[(msg.topic, msg.partition)] = msg.offset
                payload = msg.value if isinstance(msg.value, bytes) else b""
                source = SourceRef(topic=msg.topic, partition=msg.partition, offset=msg.offset)
                # Redelivered after a crash: skip what is known done. (FHIR ids are
                # deterministic, so a resource published twice is an idempotent upsert.)
                if ctx.ledger is not None and ctx.ledger.state(source) == (DONE, 0):
                    ctx.metrics.messages_skipped.labels(topic=msg.topic, reason="redelivered").inc()
                    continue
                sources.append(source)
                try:
                    notes.append(NoteEvent.model_validate_json(payload))
                except ValueError:
                    dead = DeadLetter.build(
                        "invalid_note", "not a NoteEvent", source, payload, stage="nlp"
                    )
                    bad.append(
                        OutMessage(
                            topic="dlq", key=source.dedup_key(), value=dead.model_dump(mode="json")
                        )
                    )
            ctx.metrics.batch_size.observe(len(notes))
            started = time.perf_counter()
            try:
                outputs = await loop.run_in_executor(ctx.nlp_executor, ctx.pipeline.analyze, notes)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # Pipeline.analyze never raises; guard anyway
                log.exception("analyze agent error", extra={"notes": len(notes)})
                outputs = [
                    internal_dead_letter(n.source, n.model_dump_json().encode(), err, "nlp")
                    for n in notes
                ]
            ctx.metrics.latency.labels(stage="batch").observe(time.perf_counter() - started)
            outputs = bad + list(outputs)
            if outputs:
                first = events[0].message
                batch_source = SourceRef(
                    topic=first.topic, partition=first.partition, offset=first.offset
                )
                payload = encode_value({"batch_notes": [n.event_id for n in notes]})
                if await publish_or_dead_letter(ctx, outputs, batch_source, payload):
                    count_outcome(ctx, deid_topic.get_topic_name(), outputs)
            if ctx.ledger is not None:
                try:
                    for source in sources:
                        ctx.ledger.done(source)
                except Exception:
                    log.exception("ledger mark failed", extra={"notes": len(sources)})
            for (topic, partition), offset in last.items():
                update_lag(ctx, app, topic, partition, offset)

    if "ingest" in agents:
        app.agent(raw_topic, name="streamproc.ingest")(ingest)
    if "analyze" in agents:
        app.agent(deid_topic, name="streamproc.analyze")(analyze)
