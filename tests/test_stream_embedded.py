"""Embedded broker + Redis: start, serve, stop, and leave no process behind (even on SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import redis

from streamproc.embedded import (
    EmbeddedStack,
    clear_state,
    port_open,
    read_state,
    write_state,
)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"  # a zombie is dead, only not reaped yet
    except FileNotFoundError:
        return False


def wait_dead(pids: list[int], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_start_serve_stop_leaves_nothing() -> None:
    with EmbeddedStack() as stack:
        pids = stack.pids()
        assert len(pids) == 2 and all(alive(p) for p in pids)
        host, port = stack.kafka_brokers.split(":")
        assert host == "127.0.0.1" and port_open(host, int(port))
        client = redis.Redis.from_url(stack.redis_url)
        assert client.ping()
        client.set("k", "v")
        assert client.get("k") == b"v"
        client.close()
    assert wait_dead(pids), "embedded children still running after stop()"


def test_children_die_with_a_sigkilled_parent() -> None:
    script = (
        "import json, time\n"
        "from streamproc.embedded import EmbeddedStack\n"
        "s = EmbeddedStack().start()\n"
        "print(json.dumps(s.pids()), flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = json.loads(parent.stdout.readline())
        assert all(alive(p) for p in pids)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    assert wait_dead(pids), "children outlived their SIGKILLed parent"


def test_state_file_only_for_a_live_owner(state_dir) -> None:  # noqa: ANN001
    with EmbeddedStack(redis=False) as stack:
        assert stack.pids() and len(stack.pids()) == 1
        write_state(stack.addresses(redis_url="redis://elsewhere:6379/0"))
        state = read_state()
        assert state is not None
        assert state["kafka_brokers"] == stack.kafka_brokers
        assert state["redis_url"] == "redis://elsewhere:6379/0"
        assert state["owner_pid"] == os.getpid()
        clear_state(owner_pid=os.getpid() + 1)  # someone else's: kept
        assert read_state() is not None
        clear_state(owner_pid=os.getpid())
        assert read_state() is None
    # A file left by a dead `up` is ignored.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with EmbeddedStack(redis=False) as stack:
        addresses = stack.addresses()
    write_state(type(addresses)(**{**addresses.__dict__, "owner_pid": dead.pid}))
    assert read_state() is None
