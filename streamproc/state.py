"""Key-value state (Redis in production, memory for in-process runs and unit tests).

Every key is namespaced and built from HMACs or hashes, never from raw identifiers or text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Protocol


class StateStore(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None: ...

    def set_if_absent(self, key: str, value: str, ttl_s: int | None = None) -> bool:
        """Atomically set ``key`` unless present; True when this call set it."""
        ...

    def delete(self, key: str) -> None: ...


def apply_marks(store: StateStore, marks: Iterable[tuple[str, str | None, int]]) -> None:
    """Record ``(key, value, ttl_s)`` marks (``OutMessage.marks``); a value of None deletes."""
    for key, value, ttl_s in marks:
        if value is None:
            store.delete(key)
        else:
            store.set(key, value, ttl_s=ttl_s)


class MemoryStore:
    """Thread-safe in-process store with TTLs, for `streamproc process` and tests."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires < time.monotonic():
            del self._data[key]
            return None
        return value

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._live(key)

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None:
        with self._lock:
            self._data[key] = (value, time.monotonic() + ttl_s if ttl_s else None)

    def set_if_absent(self, key: str, value: str, ttl_s: int | None = None) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._data[key] = (value, time.monotonic() + ttl_s if ttl_s else None)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._data)


class RedisStore:
    """StateStore over a redis-py client (sync; calls are sub-millisecond on a local server)."""

    def __init__(self, url: str, prefix: str = "streamproc:") -> None:
        import redis

        self._client = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    @property
    def client(self):  # noqa: ANN201 - redis.Redis
        return self._client

    def get(self, key: str) -> str | None:
        value = self._client.get(self._prefix + key)
        return value if value is None else str(value)

    def set(self, key: str, value: str, ttl_s: int | None = None) -> None:
        self._client.set(self._prefix + key, value, ex=ttl_s)

    def set_if_absent(self, key: str, value: str, ttl_s: int | None = None) -> bool:
        return bool(self._client.set(self._prefix + key, value, ex=ttl_s, nx=True))

    def delete(self, key: str) -> None:
        self._client.delete(self._prefix + key)

    def ping(self) -> bool:
        return bool(self._client.ping())
