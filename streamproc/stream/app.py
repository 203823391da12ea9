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
from collections.abc import Callable, Collection
from dataclasses import dataclass

import faust

from streamproc.config import Settings
from streamproc.embedded import state_dir
from streamproc.logging import logging_config
from streamproc.metrics import Metrics, MetricsServer, redis_check, tcp_check
from streamproc.pipeline import Pipeline
from streamproc.state import RedisStore, StateStore
from streamproc.stream.agents import AGENTS, StreamContext, install_agents
from streamproc.stream.ledger import Ledger
from streamproc.stream.security import faust_credentials, kafka_security
from streamproc.stream.topics import bootstrap_servers, ensure_topics
from streamproc.stream.wiring import build_pipeline, instrument, stages_for

log = logging.getLogger(__name__)


def build_app(settings: Settings, brokers: str) -> faust.App:
    """A configured Faust app with no agents (``install_agents`` adds them)."""
    session = settings.broker_session_timeout_s
    # Faust's default datadir is "<app id>-data" in the current directory (a checkout, a
    # container's workdir); keep it with the rest of streamproc's local state instead. Faust
    # creates only the last level.
    datadir = state_dir() / "faust" / settings.app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return faust.App(
        settings.app_id,
        broker=[f"kafka://{b}" for b in bootstrap_servers(brokers)],
        broker_credentials=faust_credentials(kafka_security(settings)),
        store="memory://",
        datadir=str(datadir),
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


PipelineFactory = Callable[[Settings, StateStore, set[str]], Pipeline]


def _default_pipeline(settings: Settings, store: StateStore, stages: set[str]) -> Pipeline:
    return build_pipeline(settings, store, stages=stages)


@dataclass
class WorkerHandle:
    app: faust.App
    ctx: StreamContext
    metrics_server: MetricsServer | None
    on_ready: Callable[[], None]


def build_worker(
    settings: Settings,
    brokers: str,
    redis_url: str,
    metrics: Metrics | None = None,
    on_ready: Callable[[float], None] | None = None,
    metrics_host: str = "127.0.0.1",
    agents: Collection[str] = AGENTS,
    pipeline_factory: PipelineFactory | None = None,
) -> WorkerHandle:
    """App + pipeline (Redis dedup store) + agents + metrics endpoint, ready to run.

    ``pipeline_factory(settings, store, stages)`` replaces :func:`build_pipeline` (tests, tools)."""
    metrics = metrics or Metrics()
    store = RedisStore(redis_url)
    factory = pipeline_factory or _default_pipeline
    pipeline = instrument(
        factory(settings, store, stages_for(agents)),
        lambda stage, seconds: metrics.latency.labels(stage=stage).observe(seconds),
    )
    app = build_app(settings, brokers)
    ctx = StreamContext(
        settings=settings,
        pipeline=pipeline,
        metrics=metrics,
        brokers=bootstrap_servers(brokers),
        ledger=Ledger(store, namespace=settings.app_id, ttl_s=settings.dedup_ttl_s),
    )
    install_agents(app, ctx, agents)
    server = None
    if settings.metrics_port:
        server = MetricsServer(
            metrics,
            settings.metrics_port,
            host=metrics_host,
            checks={"broker": tcp_check(brokers), "redis": redis_check(redis_url)},
        )
    created = time.monotonic()

    def ready() -> None:
        seconds = time.monotonic() - created
        metrics.up.set(1)
        log.info("worker ready", extra={"seconds": round(seconds, 2)})
        if on_ready is not None:
            on_ready(seconds)

    return WorkerHandle(app=app, ctx=ctx, metrics_server=server, on_ready=ready)


class _Worker(faust.Worker):
    """faust.Worker that reports readiness (the Worker owns ``app.on_startup_finished``)."""

    ready_hook: Callable[[], None] | None = None

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        if self.ready_hook is not None:
            self.ready_hook()


def run_worker(
    settings: Settings,
    brokers: str,
    redis_url: str,
    max_runtime_s: float | None = None,
    on_ready: Callable[[float], None] | None = None,
    metrics_host: str = "127.0.0.1",
    agents: Collection[str] = AGENTS,
    pipeline_factory: PipelineFactory | None = None,
) -> int:
    """Create topics, then run the worker in this process until SIGINT/SIGTERM (or max runtime)."""
    ensure_topics(settings, brokers)
    handle = build_worker(
        settings,
        brokers,
        redis_url,
        on_ready=on_ready,
        metrics_host=metrics_host,
        agents=agents,
        pipeline_factory=pipeline_factory,
    )
    if handle.metrics_server is not None:
        handle.metrics_server.start()
    worker = _Worker(
        handle.app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level, settings.log_format),
        quiet=True,
        redirect_stdouts=False,
    )
    worker.ready_hook = handle.on_ready
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
