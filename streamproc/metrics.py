"""Prometheus metrics and the ``/metrics`` + ``/health`` HTTP endpoint.

Labels are topic names, stage names and machine-readable reason codes only: never identifiers,
keys or note text (PHI). Metrics live in their own ``CollectorRegistry`` (not the global one), so
tests and several apps in one process do not collide.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger(__name__)

STAGES = ("ingest", "deid", "nlp", "fhir", "publish", "batch")


class Metrics:
    """Every metric the worker exports."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages_in = Counter(
            "streamproc_messages_in", "Messages consumed", ["topic"], registry=r
        )
        self.messages_out = Counter(
            "streamproc_messages_out", "Messages published (acked)", ["topic"], registry=r
        )
        self.resources_withdrawn = Counter(
            "streamproc_resources_withdrawn",
            "Published Conditions and alerts withdrawn (their document retracted or replaced)",
            ["topic"],
            registry=r,
        )
        self.messages_skipped = Counter(
            "streamproc_messages_skipped",
            "Valid messages that produced no output (no note, duplicate)",
            ["topic", "reason"],
            registry=r,
        )
        self.messages_dead_lettered = Counter(
            "streamproc_messages_dead_lettered",
            "Messages sent to the dead-letter topic",
            ["topic", "reason"],
            registry=r,
        )
        self.latency = Histogram(
            "streamproc_stage_seconds",
            "Processing latency per stage",
            ["stage"],
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.batch_size = Histogram(
            "streamproc_nlp_batch_notes",
            "Notes per NLP batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=r,
        )
        self.consumer_lag = Gauge(
            "streamproc_consumer_lag",
            "Messages behind the partition high watermark",
            ["topic", "partition"],
            registry=r,
        )
        self.up = Gauge("streamproc_worker_ready", "1 once the worker consumes", registry=r)

    def pipeline_event(self, kind: str, topic: str) -> None:
        """Hook for ``Pipeline.on_event`` (kind: in/out/skipped/dlq; reason codes only)."""
        if kind == "in":
            self.messages_in.labels(topic=topic).inc()
        elif kind == "out":
            self.messages_out.labels(topic=topic).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


HealthCheck = Callable[[], bool]


def tcp_check(hostports: str, timeout_s: float = 1.0) -> HealthCheck:
    """Reachability of any of ``host:port[,host:port]`` (bootstrap servers)."""

    def check() -> bool:
        for item in hostports.split(","):
            host, _, port = item.strip().rpartition(":")
            if not host:
                continue
            try:
                with socket.create_connection((host, int(port)), timeout=timeout_s):
                    return True
            except (OSError, ValueError):
                continue
        return False

    return check


def redis_check(redis_url: str, timeout_s: float = 1.0) -> HealthCheck:
    def check() -> bool:
        import redis

        try:
            client = redis.Redis.from_url(
                redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
            )
            try:
                return bool(client.ping())
            finally:
                client.close()
        except Exception:  # any failure means "not reachable"
            return False

    return check


class MetricsServer:
    """Serves ``/metrics`` (Prometheus text) and ``/health`` (JSON) from a daemon thread.

    ``/health`` is 200 when the process is alive and every dependency check passes, else 503;
    checks are cached for ``cache_s`` so a tight probe loop does not hammer the broker.
    """

    def __init__(
        self,
        metrics: Metrics,
        port: int,
        host: str = "127.0.0.1",
        checks: dict[str, HealthCheck] | None = None,
        cache_s: float = 2.0,
    ) -> None:
        self.metrics = metrics
        self.checks = checks or {}
        self.cache_s = cache_s
        self._cached: tuple[float, dict[str, bool]] = (0.0, {})
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = urlparse(self.path).path
                if path == "/metrics":
                    self._reply(200, CONTENT_TYPE_LATEST, server.metrics.render())
                elif path in ("/health", "/healthz"):
                    status = server.health()
                    code = 200 if status["ok"] else 503
                    self._reply(code, "application/json", json.dumps(status).encode())
                else:
                    self._reply(404, "text/plain", b"not found\n")

            def _reply(self, code: int, ctype: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return  # access logs are noise here

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def health(self) -> dict[str, object]:
        with self._lock:
            at, results = self._cached
            if time.monotonic() - at > self.cache_s:
                results = {name: bool(check()) for name, check in self.checks.items()}
                self._cached = (time.monotonic(), results)
        return {"ok": all(results.values()), "alive": True, "checks": results}

    def start(self) -> MetricsServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="metrics-http", daemon=True
        )
        self._thread.start()
        log.info("metrics endpoint up", extra={"address": self.address})
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
