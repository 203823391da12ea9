"""Publication ledger: state transitions and the post-crash scan of the output topics."""

from __future__ import annotations

import asyncio
import json
import time

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from streamproc.records import OutMessage, SourceRef
from streamproc.state import MemoryStore
from streamproc.stream.ledger import DONE, Ledger, find_published


def test_ledger_states() -> None:
    ledger = Ledger(MemoryStore(), "app", ttl_s=60)
    src = SourceRef(topic="notes.raw", partition=1, offset=42)
    assert ledger.state(src) is None
    before = int(time.time() * 1000)
    ledger.claim(src)
    state = ledger.state(src)
    assert state is not None and state[0] == "pending" and state[1] >= before
    ledger.done(src)
    assert ledger.state(src) == (DONE, 0)
    assert ledger.state(SourceRef(topic="notes.raw", partition=1, offset=43)) is None


def test_find_published_matches_key_and_content_hash(embedded_stack, unique_prefix) -> None:  # noqa: ANN001
    brokers = embedded_stack.kafka_brokers
    deid, dlq = f"{unique_prefix}.deid", f"{unique_prefix}.dlq"
    admin = KafkaAdminClient(bootstrap_servers=[brokers])
    admin.create_topics([NewTopic(deid, 3, 1), NewTopic(dlq, 3, 1)])
    admin.close()
    since = int(time.time() * 1000)
    producer = KafkaProducer(bootstrap_servers=[brokers])
    producer.send(deid, key=b"e1", value=json.dumps({"content_hash": "h1"}).encode())
    producer.send(deid, key=b"e2", value=json.dumps({"content_hash": "OLD"}).encode())
    producer.send(dlq, key=b"notes.raw/0/7", value=json.dumps({"error_code": "x"}).encode())
    producer.flush()
    producer.close()
    outputs = [
        (deid, OutMessage(topic="deid", key="e1", value={"content_hash": "h1"})),  # present
        (deid, OutMessage(topic="deid", key="e2", value={"content_hash": "h2"})),  # other content
        (deid, OutMessage(topic="deid", key="e3", value={"content_hash": "h3"})),  # absent
        (dlq, OutMessage(topic="dlq", key="notes.raw/0/7", value={"error_code": "x"})),  # present
    ]
    found = asyncio.run(find_published([brokers], outputs, since - 1000))
    assert found == {0, 3}
    # Records older than the claim window are not looked at.
    assert (
        asyncio.run(find_published([brokers], outputs, int(time.time() * 1000) + 60_000)) == set()
    )
