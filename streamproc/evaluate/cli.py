"""`streamproc eval` (registered explicitly by streamproc.cli): JSON metrics on stdout.

Scores come from ``streamproc.evaluate.metrics`` — the same code the trainer's dev checks and
the replay evaluation use — through the task's ``evaluate`` in the task table.
"""

from __future__ import annotations

import inspect
import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer


def eval_command(
    task: Annotated[str, typer.Argument(help="task name: ner, deid, ade, ...")],
    data: Annotated[Path, typer.Option("--data", help="corpus folder")],
    model: Annotated[
        Path | None, typer.Option("--model", help="model folder (default: shipped/configured)")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="dev | test | all")] = "dev",
    limit: Annotated[
        int | None, typer.Option("--limit", help="score only the first N examples")
    ] = None,
) -> None:
    """Evaluate TASK's model on --data and print JSON metrics."""
    from streamproc.train.cli import path_or_exit, task_or_exit

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING)
    if split not in ("dev", "test", "all", "train"):
        typer.echo(f"error: --split must be dev, test or all, not {split!r}", err=True)
        raise typer.Exit(2)
    spec = task_or_exit(task)
    path_or_exit(data, "data folder")
    kw: dict[str, Any] = {}
    if model is not None:
        path_or_exit(model, "model folder")
        kw["model_dir"] = model
    if limit is not None:
        kw["limit"] = limit
    if model is None and "settings" in inspect.signature(spec.evaluate).parameters:
        from streamproc.config import load_settings

        kw["settings"] = load_settings()  # Settings.models.<task> names the model to score
    try:
        result = spec.evaluate(data, split, **kw)
    except FileNotFoundError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(5) from err
    typer.echo(json.dumps(result, indent=1, sort_keys=True, default=str))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level CLI."""
    app.command("eval")(eval_command)


if __name__ == "__main__":
    _app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(_app)
    _app()
