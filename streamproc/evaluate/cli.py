"""`streamproc` subcommands of the evaluate area (registered explicitly by streamproc.cli)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level CLI."""
