"""`streamproc replay`: score today's pipeline on notes re-read from a topic or from files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)


def replay(
    ctx: typer.Context,
    gold: Annotated[Path, typer.Option("--gold", help="JSON-lines gold labels per document")],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.json and report.html")],
    topic: Annotated[str, typer.Option("--topic", help="Topic of raw notes to re-read")] = "raw",
    from_offset: Annotated[
        int | None, typer.Option("--from-offset", help="Start offset in every partition", min=0)
    ] = None,
    from_time: Annotated[
        datetime | None, typer.Option("--from-time", help="Start at this time (ISO 8601)")
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option("--files", help="Replay these files/folders instead of a topic"),
    ] = None,
    max_messages: Annotated[int | None, typer.Option("--max", min=1)] = None,
    idle_timeout: Annotated[float, typer.Option("--idle-timeout", min=0.1)] = 5.0,
) -> None:
    """Re-read raw notes (topic from an offset/time, or files), run the pipeline in-process
    with a fresh in-memory store, and score Conditions/alerts against gold labels."""
    from streamproc import cli
    from streamproc.evaluate.replay import load_gold, read_files, read_topic, run_replay, score
    from streamproc.evaluate.report import render_html
    from streamproc.state import MemoryStore
    from streamproc.stream.security import kafka_security
    from streamproc.stream.wiring import StageUnavailable, build_pipeline

    settings = cli.settings_of(ctx)
    if from_offset is not None and from_time is not None:
        cli.fail(cli.Exit.USAGE, "give --from-offset or --from-time, not both")
    if not gold.is_file():
        cli.fail(cli.Exit.INPUT_NOT_FOUND, f"gold file not found: {gold}")
    try:
        labels = load_gold(gold)
    except ValueError as err:
        cli.fail(cli.Exit.USAGE, str(err))
    if files:
        source = f"files: {', '.join(map(str, files))}"
        messages = read_files(files)
    else:
        name = cli.resolve_topic(settings, topic)
        source = f"topic {name} from " + (
            f"offset {from_offset}"
            if from_offset is not None
            else f"time {from_time.isoformat()}"
            if from_time
            else "the beginning"
        )
        messages = read_topic(
            cli.resolve_brokers(settings),
            name,
            from_offset=from_offset,
            from_time=from_time,
            max_messages=max_messages,
            idle_timeout_s=idle_timeout,
            security=kafka_security(settings),
        )
    try:
        pipeline = build_pipeline(settings, MemoryStore())
    except StageUnavailable as err:
        cli.fail(cli.Exit.CONFIG, str(err))
    result = score(run_replay(pipeline, messages), labels)
    result["run"] = {"source": source, "gold": str(gold), "at": datetime.now().isoformat()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (out / "report.html").write_text(render_html(result), encoding="utf-8")
    summary = {k: result[k] for k in ("documents", "conditions", "adverse_events", "latency_ms")}
    typer.echo(json.dumps(summary, indent=2))
    typer.echo(f"report: {out / 'report.html'}", err=True)
