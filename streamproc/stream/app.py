"""Faust app factory and the in-process worker runner.

Settings known to work with both Apache Kafka and the embedded tansu broker are applied here
(../shared/notes/embedded-kafka.md): 6 s session / 2 s heartbeat (Ready in ~4-5 s instead of 31 s),
``memory://`` store (no tables), at-least-once (tansu breaks aiokafka's idempotent producer), and
Faust's own web server disabled (we serve ``/metrics`` and ``/health`` ourselves).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

import faust

from streamproc.config import Settings
from streamproc.logging import logging_config
from streamproc.metrics import Metrics, MetricsServer, redis_check, tcp_check
from streamproc.state import RedisStore
from streamproc.stream.agents import StreamContext, install_agents
from streamproc.stream.topics import bootstrap_servers, ensure_topics
from streamproc.stream.wiring import build_pipeline

log = logging.getLogger(__name__)


def build_app(settings: Settings, brokers: str) -> faust.App:
    """A configured Faust app with no agents (``install_agents`` adds them)."""
    session = settings.broker_session_timeout_s
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{b}" for b in bootstrap_servers(brokers)],
        store="memory://",
        autodiscover=False,
        broker_session_timeout=session,
        broker_heartbeat_interval=min(2.0, session / 3),
        # Our own /metrics endpoint; Faust's aiohttp server would otherwise bind 0.0.0.0:6066.
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        producer_max_request_size=max(settings.max_message_bytes * 2, 1_048_576),
        consumer_max_fetch_size=max(settings.max_message_bytes * 2, 4 * 1024**2),
        processing_guarantee="at_least_once",
    )


@dataclass
class WorkerHandle:
    app: faust.App
    ctx: StreamContext
    metrics_server: MetricsServer | None


def build_worker(
    settings: Settings,
    brokers: str,
    redis_url: str,
    metrics: Metrics | None = None,
    on_ready: Callable[[float], None] | None = None,
) -> WorkerHandle:
    """App + pipeline (Redis dedup store) + agents + metrics endpoint, ready to run."""
    metrics = metrics or Metrics()
    store = RedisStore(redis_url)
    pipeline = build_pipeline(settings, store)
    app = build_app(settings, brokers)
    ctx = StreamContext(settings=settings, pipeline=pipeline, metrics=metrics)
    install_agents(app, ctx)
    server = None
    if settings.metrics_port:
        server = MetricsServer(
            metrics,
            settings.metrics_port,
            host=os.environ.get("STREAMPROC_METRICS_HOST", "127.0.0.1"),
            checks={"broker": tcp_check(brokers), "redis": redis_check(redis_url)},
        )
    created = time.monotonic()

    async def ready() -> None:
        seconds = time.monotonic() - created
        metrics.up.set(1)
        log.info("worker ready", extra={"seconds": round(seconds, 2)})
        if on_ready is not None:
            on_ready(seconds)

    app.on_startup_finished = ready  # type: ignore[assignment]
    return WorkerHandle(app=app, ctx=ctx, metrics_server=server)


def run_worker(
    settings: Settings,
    brokers: str,
    redis_url: str,
    max_runtime_s: float | None = None,
    on_ready: Callable[[float], None] | None = None,
) -> int:
    """Create topics, then run the worker in this process until SIGINT/SIGTERM (or max runtime)."""
    ensure_topics(settings, brokers)
    handle = build_worker(settings, brokers, redis_url, on_ready=on_ready)
    if handle.metrics_server is not None:
        handle.metrics_server.start()
    worker = faust.Worker(
        handle.app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level, settings.log_format),
        quiet=True,
        redirect_stdouts=False,
    )
    if max_runtime_s:
        worker.loop.call_later(max_runtime_s, os.kill, os.getpid(), signal.SIGTERM)
    try:
        worker.execute_from_commandline()
    except SystemExit as done:
        return int(done.code or 0)
    finally:
        handle.ctx.shutdown()
        if handle.metrics_server is not None:
            handle.metrics_server.stop()
    return 0
