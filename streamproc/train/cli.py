"""`streamproc train` and `streamproc tune` (registered explicitly by streamproc.cli).

Also runnable alone: ``python -m streamproc.train.cli train ner --data ... --out ...``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from streamproc.config import read_config_file


def _read_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    data = json.loads(path.read_text()) if path.suffix == ".json" else read_config_file(path)
    return dict(data.get("config", data))


def task_or_exit(name: str) -> Any:
    """The task table's entry, or exit 2 (usage) naming the known tasks."""
    from streamproc.train.tasks import UnknownTask, get_task

    try:
        return get_task(name)
    except UnknownTask as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err


def path_or_exit(path: Path, what: str) -> None:
    """Exit 5 (input not found) when a folder the command reads is missing."""
    if not path.exists():
        typer.echo(f"error: {what} not found: {path}", err=True)
        raise typer.Exit(5)


def _logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def train_command(
    task: Annotated[str, typer.Argument(help="task name: ner, deid, ade, ...")],
    data: Annotated[Path, typer.Option("--data", help="corpus folder")],
    out: Annotated[Path, typer.Option("--out", help="model folder to write")],
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML/TOML/JSON training recipe overrides")
    ] = None,
    max_examples: Annotated[
        int | None, typer.Option("--max-examples", help="train on a seeded sample")
    ] = None,
    epochs: Annotated[int | None, typer.Option("--epochs")] = None,
    base: Annotated[
        Path | None, typer.Option("--base", help="base encoder folder (default: MiniLM wheel)")
    ] = None,
) -> None:
    """Fine-tune TASK's model on --data and write a small model folder to --out."""
    _logging()
    spec = task_or_exit(task)
    path_or_exit(data, "data folder")
    kw: dict[str, Any] = {}
    cfg = _read_config(config)
    if cfg is not None:
        kw["config"] = cfg
    if max_examples is not None:
        kw["max_examples"] = max_examples
    if epochs is not None:
        kw["epochs"] = epochs
    if base is not None:
        kw["base"] = base
    result = spec.train(data, out, **kw)
    typer.echo(json.dumps({k: v for k, v in result.items() if k != "dev"}, indent=1, default=str))


def tune_command(
    task: Annotated[str, typer.Argument(help="task name")],
    data: Annotated[Path, typer.Option("--data")],
    trials: Annotated[int, typer.Option("--trials")] = 10,
    study_db: Annotated[
        str, typer.Option("--study-db", help="Optuna storage, e.g. sqlite:///tune.db")
    ] = "sqlite:///tune.db",
    out: Annotated[
        Path | None, typer.Option("--out", help="best config file (.json or .yaml)")
    ] = None,
    study_name: Annotated[str | None, typer.Option("--study-name")] = None,
    max_examples: Annotated[int | None, typer.Option("--max-examples")] = None,
    max_epochs: Annotated[int, typer.Option("--max-epochs")] = 4,
    base: Annotated[Path | None, typer.Option("--base")] = None,
    work_dir: Annotated[
        Path | None, typer.Option("--work-dir", help="where trial models go (default: temp)")
    ] = None,
) -> None:
    """Optuna search over lr, epochs, batch size and trained layers (each task's own knobs)."""
    from streamproc.train.tune import tune

    _logging()
    spec = task_or_exit(task)
    if not hasattr(spec, "tune_setup") and not hasattr(spec, "tune_objective"):
        typer.echo(f"error: task {task!r} has no tune_setup() or tune_objective()", err=True)
        raise typer.Exit(2)
    result = tune(
        spec, data, trials=trials, storage=study_db, out=out, study_name=study_name or f"streamproc-{task}",
        max_examples=max_examples, max_epochs=max_epochs, base=base, work_dir=work_dir,
    )  # fmt: skip
    typer.echo(json.dumps(result, indent=1, default=str))


def soup_command(
    task: Annotated[str, typer.Argument(help="task of the models, e.g. ner")],
    models: Annotated[list[Path], typer.Argument(help="two or more model folders of one recipe")],
    out: Annotated[Path, typer.Option("--out", help="model folder to write")],
    data: Annotated[
        Path | None, typer.Option("--data", help="corpus folder: score the soup on its dev split")
    ] = None,
) -> None:
    """Average the weights of model folders trained from one base with one recipe (a "model
    soup") into a new model folder; with --data, score it on dev and put that in its card."""
    from streamproc.nlp.modeling import average_models, write_meta
    from streamproc.train.core import command_line

    _logging()
    spec = task_or_exit(task)
    for folder in models:
        path_or_exit(folder, "model folder")
    try:
        version = average_models(models, out, rebuild_command=command_line(task, "soup"))
    except (ValueError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    result: dict[str, Any] = {"version": version, "out": str(out)}
    if data is not None:
        path_or_exit(data, "data folder")
        scored = spec.evaluate(data, "dev", model_dir=out)
        meta = json.loads((out / "meta.json").read_text())
        corpora = scored.get("corpora", {})
        meta["metrics"] = {
            "summary": {name: c["strict"]["micro"] for name, c in corpora.items()},
            "corpora": corpora,
            "evaluated_with": f"streamproc eval {task} --split dev (full dev)",
        }
        labels = json.loads((out / "label_map.json").read_text())["labels"]
        write_meta(out, meta, labels)
        result["dev"] = scored.get("summary")
    typer.echo(json.dumps(result, indent=1, default=str))


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level CLI."""
    app.command("train")(train_command)
    app.command("tune")(tune_command)
    app.command("soup")(soup_command)


if __name__ == "__main__":
    _app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(_app)
    _app()
