"""CLI seam of the clinical-NLP area: ``streamproc eval-icd`` and ``streamproc eval-negation``.

Wire with ``from streamproc.nlp.icd import cli as icd_cli; icd_cli.register(app)`` in
``streamproc/cli.py`` (or register the tasks in the eval task table, see ``task.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def eval_icd(
    data: Annotated[
        Path | None, typer.Option("--data", help="gold TSV (default: the packaged gold set)")
    ] = None,
    split: Annotated[str, typer.Option("--split", help="dev | heldout | all")] = "all",
    errors: Annotated[int, typer.Option("--errors", help="list this many misses")] = 0,
) -> None:
    """Top-1 / top-5 accuracy of the ICD-10-CM coder on a mention -> code gold set."""
    from streamproc.nlp.icd.evaluate import evaluate_gold, packaged_gold

    path = data or packaged_gold()
    if not path.exists():
        typer.echo(f"error: gold file not found: {path}", err=True)
        raise typer.Exit(5)
    typer.echo(json.dumps(evaluate_gold(path, split=split, errors=errors), indent=1))


def eval_negation(
    data: Annotated[Path, typer.Option("--data", help="Chia BRAT folder (.txt + .ann)")],
) -> None:
    """Negation precision / recall / F1 of the ConText rules on Chia Condition mentions."""
    from streamproc.nlp.assertion.task import TASK

    if not data.is_dir():
        typer.echo(f"error: data folder not found: {data}", err=True)
        raise typer.Exit(5)
    typer.echo(json.dumps(TASK.evaluate(data), indent=1))


def register(app: typer.Typer) -> None:
    app.command("eval-icd")(eval_icd)
    app.command("eval-negation")(eval_negation)
