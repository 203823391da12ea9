"""Shared fixtures. ``embedded_stack``: one tansu broker + redis-server for the whole session
(child processes of the test run; stopped at the end, and killed with it if pytest dies)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from streamproc.embedded import EmbeddedStack


@pytest.fixture(scope="session")
def embedded_stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack() as stack:
        yield stack


@pytest.fixture
def unique_prefix() -> str:
    """A fresh topic/app-id prefix so tests sharing the broker never see each other's data."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> str:  # noqa: ANN001 - pytest fixtures
    """Isolate the `streamproc up` state file from the user's ~/.streamproc."""
    path = str(tmp_path / "state")
    monkeypatch.setenv("STREAMPROC_STATE_DIR", path)
    os.makedirs(path, exist_ok=True)
    return path
