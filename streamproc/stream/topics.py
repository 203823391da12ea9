"""Topic names and administration (kafka-python admin client: works on tansu and Kafka)."""

from __future__ import annotations

import logging
from typing import Literal

from streamproc.config import KafkaSecurity, Settings
from streamproc.stream.security import client_options, kafka_security

log = logging.getLogger(__name__)

LogicalTopic = Literal["raw", "deid", "conditions", "adverse_events", "dlq"]
LOGICAL_TOPICS: tuple[LogicalTopic, ...] = ("raw", "deid", "conditions", "adverse_events", "dlq")


class BrokerUnreachable(RuntimeError):
    """No broker answered at the configured bootstrap servers."""


def topic_name(settings: Settings, logical: str) -> str:
    """Map an ``OutMessage.topic`` logical name to the configured topic name."""
    return str(getattr(settings.topics, logical))


def bootstrap_servers(brokers: str) -> list[str]:
    """``kafka://h:p;h2:p2`` or ``h:p,h2:p2`` -> ``["h:p", "h2:p2"]``."""
    items = brokers.replace(";", ",").split(",")
    return [i.strip().removeprefix("kafka://") for i in items if i.strip()]


def _admin(brokers: str, timeout_s: float, security: KafkaSecurity):  # noqa: ANN202 - KafkaAdminClient
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        return KafkaAdminClient(
            bootstrap_servers=bootstrap_servers(brokers),
            client_id="streamproc-admin",
            request_timeout_ms=int(timeout_s * 1000),
            **client_options(security),
        )
    except (KafkaError, OSError, ValueError) as err:
        raise BrokerUnreachable(f"no Kafka broker at {brokers}: {type(err).__name__}") from err


def ensure_topics(settings: Settings, brokers: str, timeout_s: float = 10.0) -> list[str]:
    """Create every configured topic that does not exist yet; returns the names created."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = _admin(brokers, timeout_s, kafka_security(settings))
    try:
        existing = set(admin.list_topics())
        missing = [t for t in settings.topics.all() if t not in existing]
        created: list[str] = []
        for name in missing:  # one by one: a concurrent creator only costs us that one topic
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            name,
                            num_partitions=settings.partitions,
                            replication_factor=settings.replication_factor,
                        )
                    ]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        if created:
            log.info("topics created", extra={"topics": ",".join(created)})
        return created
    finally:
        admin.close()


def describe_topics(
    brokers: str, timeout_s: float = 10.0, security: KafkaSecurity | None = None
) -> dict[str, int]:
    """``{topic: partition count}`` for every non-internal topic."""
    admin = _admin(brokers, timeout_s, security or KafkaSecurity())
    try:
        names = [n for n in admin.list_topics() if not n.startswith("__")]
        out: dict[str, int] = {}
        for desc in admin.describe_topics(names):
            name = desc.get("topic") or desc.get("name")  # key differs across kafka-python versions
            out[str(name)] = len(desc.get("partitions") or [])
        return dict(sorted(out.items()))
    finally:
        admin.close()
