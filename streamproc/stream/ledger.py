"""Publication ledger: no duplicate output when a worker dies between "broker acked" and "offset
committed", without Kafka transactions (aiokafka's are unusable on tansu, and any worker can be
SIGKILLed between two instructions).

Per consumed record (``topic/partition/offset``) the state store holds:

* nothing — never published (or TTL expired);
* ``pending:<ms>`` — written *before* the outputs are sent;
* ``done`` — written after the broker acked every output.

On redelivery, ``done`` means skip; ``pending`` means the previous attempt died mid-publish, so we
read the target topics from ``<ms> - slack`` (``offsets_for_times``) up to the high watermark and
publish only the outputs that are not there yet. Only crashed records pay for that scan.
Keys hold topic/partition/offset only (no PHI).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from streamproc.config import KafkaSecurity
from streamproc.records import OutMessage, SourceRef
from streamproc.state import StateStore
from streamproc.stream.security import client_options

log = logging.getLogger(__name__)

DONE = "done"


class Ledger:
    def __init__(self, store: StateStore, namespace: str, ttl_s: int) -> None:
        self.store = store
        self.namespace = namespace
        self.ttl_s = ttl_s

    def _key(self, source: SourceRef) -> str:
        return f"ledger:{self.namespace}:{source.dedup_key()}"

    def state(self, source: SourceRef) -> tuple[str, int] | None:
        """``("done", 0)``, ``("pending", ms)`` or None."""
        value = self.store.get(self._key(source))
        if value is None:
            return None
        if value == DONE:
            return (DONE, 0)
        _, _, ms = value.partition(":")
        return ("pending", int(ms) if ms.isdigit() else 0)

    def claim(self, source: SourceRef) -> None:
        self.store.set(self._key(source), f"pending:{int(time.time() * 1000)}", ttl_s=self.ttl_s)

    def done(self, source: SourceRef) -> None:
        self.store.set(self._key(source), DONE, ttl_s=self.ttl_s)


def _fingerprint(value: dict) -> object:
    return value.get("content_hash")


async def find_published(
    brokers: Sequence[str],
    outputs: Sequence[tuple[str, OutMessage]],
    since_ms: int,
    timeout_s: float = 15.0,
    security: KafkaSecurity | None = None,
) -> set[int]:
    """Indexes of ``outputs`` ((topic name, message) pairs) already present in their topics at
    or after ``since_ms``: same key and, where the value has one, the same ``content_hash``.
    On timeout returns what it found: republishing (a duplicate) beats losing a message."""
    import json

    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    wanted: dict[tuple[str, bytes], list[int]] = {}
    for i, (topic, msg) in enumerate(outputs):
        wanted.setdefault((topic, msg.key.encode("utf-8")), []).append(i)
    found: set[int] = set()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=list(brokers),
        group_id=None,
        enable_auto_commit=False,
        **client_options(security or KafkaSecurity()),
    )
    await consumer.start()
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in sorted({t for t, _ in outputs})
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(tps)
        # Kafka answers None past the last record; tansu (0.6) answers an earlier offset, so
        # records are also filtered on their timestamp.
        starts = await consumer.offsets_for_times(dict.fromkeys(tps, max(0, since_ms)))
        pending = set()
        for tp in tps:
            hit = starts.get(tp)
            if hit is not None:  # None: no record at/after since_ms in this partition
                consumer.seek(tp, hit.offset)
                pending.add(tp)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            batches = await consumer.getmany(*pending, timeout_ms=300)
            for tp, records in batches.items():
                for rec in records:
                    if rec.timestamp < since_ms:  # tansu may start us early (see below)
                        continue
                    for i in wanted.get((tp.topic, rec.key or b""), []):
                        try:
                            value = json.loads(rec.value or b"null")
                        except ValueError:
                            continue
                        if isinstance(value, dict) and _fingerprint(value) == _fingerprint(
                            outputs[i][1].value
                        ):
                            found.add(i)
            for tp in list(pending):
                high = consumer.highwater(tp)  # from fetch responses: exact on tansu
                if high is not None and await consumer.position(tp) >= high:
                    pending.discard(tp)
        if pending:
            log.warning("ledger scan timed out", extra={"partitions": len(pending)})
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("ledger scan failed; republishing")
    finally:
        await consumer.stop()
    return found
