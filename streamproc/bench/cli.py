"""`streamproc bench`: N synthetic notes end to end, per-stage timings and throughput as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the top-level CLI."""
    app.command(name="bench")(bench)
    app.command(name="bench-multitask")(bench_multitask)


def bench(
    ctx: typer.Context,
    notes: Annotated[int, typer.Option("--notes", "-n", help="Synthetic messages", min=1)] = 200,
    chars: Annotated[
        int, typer.Option(help="Approximate note length in characters", min=100)
    ] = 900,
    broker: Annotated[
        bool, typer.Option("--broker", help="Also run the real worker on the embedded broker")
    ] = False,
    agents: Annotated[
        str, typer.Option("--agents", help="ingest, analyze or both (NLP needs its models)")
    ] = "ingest,analyze",
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic notes")] = 13,
    warmup: Annotated[
        int, typer.Option(help="Extra messages run through every stage first, untimed", min=0)
    ] = 4,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the JSON here")
    ] = None,
) -> None:
    """Benchmark the pipeline: in-process per-stage timings (parse, deid, nlp, fhir), ratios
    measured in the same run, throughput; with --broker also worker ready time and throughput
    through the embedded broker. Prints JSON."""
    from streamproc.bench.run import bench_broker, bench_in_process, environment
    from streamproc.bench.synth import synthetic_messages
    from streamproc.cli import Exit, fail, parse_agents, settings_of, setup
    from streamproc.stream.wiring import StageUnavailable

    settings = settings_of(ctx)
    setup(settings, level="WARNING")
    selected = parse_agents(agents)
    generated = synthetic_messages(notes + warmup, seed=seed, target_chars=chars)
    messages, warm = generated[:notes], generated[notes:]
    result: dict[str, object] = {"environment": environment()}
    try:
        result["in_process"] = bench_in_process(settings, messages, selected, warm)
        if broker:
            result["broker"] = bench_broker(settings, messages, selected)
    except StageUnavailable as err:
        fail(Exit.CONFIG, f"{err} (`--agents ingest` benchmarks without the NLP stage)")
    text = json.dumps(result, indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    typer.echo(text)


def bench_multitask(
    ctx: typer.Context,
    notes: Annotated[int, typer.Option("--notes", "-n", help="Synthetic notes", min=1)] = 20,
    chars: Annotated[
        int, typer.Option(help="Approximate note length in characters", min=100)
    ] = 900,
    rounds: Annotated[int, typer.Option(help="Timing rounds (minimum is kept)", min=1)] = 3,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic notes")] = 13,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the JSON here")
    ] = None,
) -> None:
    """Measure whether a shared encoder pays (issue 3): the three shipped models' separate passes
    vs one shared base pass feeding all heads (cost only) vs shared frozen bottom layers. JSON."""
    from streamproc.bench.multitask import load_shipped, measure, synthetic_texts
    from streamproc.bench.run import environment
    from streamproc.cli import settings_of, setup

    settings = settings_of(ctx)
    setup(settings, level="WARNING")
    models = load_shipped(settings)
    result = measure(
        models,
        synthetic_texts(notes, seed=seed, chars=chars),
        max_tokens=settings.max_window_tokens,
        stride=settings.window_stride,
        rounds=rounds,
        threads=settings.inference_threads,
    )
    result["environment"] = environment()
    text = json.dumps(result, indent=2)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
    typer.echo(text)
