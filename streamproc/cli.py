"""The ``streamproc`` command line (typer).

Exit codes: 0 ok, 1 failure (e.g. schema drift), 2 usage error, 3 configuration error,
4 broker/Redis unreachable, 5 input not found. Settings come from ``--config FILE`` /
``STREAMPROC_*`` variables; nothing here writes module globals (one ``Settings`` object is
passed down). Area subcommands are registered by explicit calls at the bottom.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
import time
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from streamproc.config import Settings, load_settings
from streamproc.stream.security import client_options, kafka_security

log = logging.getLogger("streamproc.cli")


class Exit(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    CONFIG = 3
    UNREACHABLE = 4
    INPUT_NOT_FOUND = 5


app = typer.Typer(
    name="streamproc",
    help="Streaming clinical-NLP processor: HL7 v2 / FHIR notes in, de-identified, coded FHIR out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def fail(code: Exit, message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(int(code))


def settings_of(ctx: typer.Context) -> Settings:
    """Load settings once per invocation (exit 3 on a bad file or value)."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        from pydantic import ValidationError

        try:
            obj["settings"] = load_settings(obj.get("config"))
        except ValidationError as err:
            fail(Exit.CONFIG, f"invalid configuration: {describe_invalid(err)}")
        except (FileNotFoundError, ValueError) as err:
            fail(Exit.CONFIG, f"invalid configuration: {err}")
    settings: Settings = obj["settings"]
    return settings


def describe_invalid(err: Any) -> str:
    """A settings error without the values: pydantic quotes its input, which can hold the
    SASL password or the de-id secret ("input_value={'sasl_password': 'hunter...'")."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
        for e in err.errors(include_input=False, include_url=False)
    ]
    return "; ".join(parts)


def without_password(url: str) -> str:
    """``rediss://:pw@host:6380/0`` -> ``rediss://:***@host:6380/0``, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def setup(settings: Settings, level: str | None = None) -> None:
    from streamproc.logging import setup_logging

    setup_logging(level or settings.log_level, settings.log_format)


@app.callback()
def main_callback(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML or YAML settings file", envvar=None),
    ] = None,
) -> None:
    """Settings: --config FILE, then STREAMPROC_* variables override it."""
    ctx.ensure_object(dict)["config"] = config
    if config is not None and not config.is_file():
        fail(Exit.CONFIG, f"settings file not found: {config}")


# ---- broker resolution --------------------------------------------------------------------------


def resolve_brokers(settings: Settings) -> str:
    """Configured brokers, else the embedded broker of a running ``streamproc up``."""
    if settings.kafka_brokers:
        return settings.kafka_brokers
    from streamproc.embedded import read_state, state_file

    state = read_state()
    if state is None:
        fail(
            Exit.UNREACHABLE,
            "no broker configured (STREAMPROC_KAFKA_BROKERS) and no `streamproc up` running "
            f"(no live {state_file()})",
        )
    return str(state["kafka_brokers"])


def resolve_topic(settings: Settings, name: str) -> str:
    """Accept a topic name or its logical name (raw, deid, conditions, adverse_events, dlq)."""
    logical = name.replace("-", "_")
    if logical in type(settings.topics).model_fields:
        return str(getattr(settings.topics, logical))
    return name


# ---- worker commands ------------------------------------------------------------------------------


def parse_agents(agents: str) -> list[str]:
    selected = [a.strip() for a in agents.split(",") if a.strip()]
    if not selected or set(selected) - {"ingest", "analyze"}:
        fail(Exit.USAGE, f"--agents takes ingest, analyze or both, got {agents!r}")
    return selected


def _run_worker(
    settings: Settings,
    brokers: str,
    redis_url: str,
    max_runtime: float | None,
    host: str,
    agents: str,
) -> int:
    from streamproc.stream.app import run_worker
    from streamproc.stream.topics import BrokerUnreachable
    from streamproc.stream.wiring import StageUnavailable

    selected = parse_agents(agents)
    try:
        return run_worker(
            settings,
            brokers,
            redis_url,
            max_runtime_s=max_runtime,
            metrics_host=host,
            agents=selected,
        )
    except BrokerUnreachable as err:
        fail(Exit.UNREACHABLE, str(err))
    except StageUnavailable as err:
        fail(Exit.CONFIG, f"{err} (`--agents ingest` runs without the NLP stage)")


MaxRuntime = Annotated[
    float | None, typer.Option("--max-runtime", help="Stop cleanly after S seconds", min=0.1)
]
MetricsPort = Annotated[
    int | None, typer.Option("--metrics-port", help="Serve /metrics and /health (0: off)", min=0)
]
MetricsHost = Annotated[
    str, typer.Option("--metrics-host", help="Bind address of /metrics and /health")
]
Agents = Annotated[
    str,
    typer.Option(
        "--agents",
        help="Which agents this worker runs: ingest (raw -> deid/dlq), analyze (deid -> FHIR), "
        "or both; run NLP workers apart on GPU nodes",
    ),
]


@app.command()
def up(
    ctx: typer.Context,
    max_runtime: MaxRuntime = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
    agents: Agents = "ingest,analyze",
) -> None:
    """Run the worker; with no brokers/Redis configured, start embedded ones first.

    Prints the addresses, writes them to the state file that `send`/`tail`/`topics` read,
    and stops everything on Ctrl-C / SIGTERM.
    """
    settings = settings_of(ctx)
    if metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    setup(settings)
    from streamproc.embedded import (
        EmbeddedError,
        EmbeddedStack,
        clear_state,
        state_file,
        write_state,
    )

    if not settings.embedded and settings.redis_url:
        raise typer.Exit(
            _run_worker(
                settings,
                settings.kafka_brokers,
                settings.redis_url,
                max_runtime,
                metrics_host,
                agents,
            )
        )
    try:
        stack = EmbeddedStack(broker=settings.embedded, redis=not settings.redis_url).start()
    except EmbeddedError as err:
        fail(Exit.CONFIG, f"embedded stack failed to start: {err}")
    try:
        brokers = settings.kafka_brokers or stack.kafka_brokers
        redis_url = settings.redis_url or stack.redis_url
        from streamproc.stream.topics import BrokerUnreachable, ensure_topics

        try:
            ensure_topics(settings, brokers)
        except BrokerUnreachable as err:
            fail(Exit.UNREACHABLE, str(err))
        metrics = (
            f"http://{metrics_host}:{settings.metrics_port}/metrics"
            if settings.metrics_port
            else "off"
        )
        write_state(stack.addresses(brokers, redis_url), metrics=metrics)
        typer.echo(f"broker:  {brokers}")
        typer.echo(f"redis:   {without_password(redis_url)}")
        typer.echo(f"metrics: {metrics}")
        typer.echo(f"state:   {state_file()}  (send/tail/topics find the broker here)")
        typer.echo("Ctrl-C to stop.", err=True)
        sys.stdout.flush()
        code = _run_worker(settings, brokers, redis_url, max_runtime, metrics_host, agents)
    finally:
        clear_state(owner_pid=stack.owner_pid)
        stack.stop()
    raise typer.Exit(code)


@app.command()
def worker(
    ctx: typer.Context,
    max_runtime: MaxRuntime = None,
    metrics_port: MetricsPort = None,
    metrics_host: MetricsHost = "127.0.0.1",
    agents: Agents = "ingest,analyze",
) -> None:
    """Run the worker against the configured Kafka and Redis only (production)."""
    settings = settings_of(ctx)
    if metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    if not settings.kafka_brokers or not settings.redis_url:
        fail(
            Exit.CONFIG,
            "`worker` needs STREAMPROC_KAFKA_BROKERS and STREAMPROC_REDIS_URL "
            "(use `streamproc up` for the embedded stack)",
        )
    setup(settings)
    raise typer.Exit(
        _run_worker(
            settings, settings.kafka_brokers, settings.redis_url, max_runtime, metrics_host, agents
        )
    )


# ---- client commands ------------------------------------------------------------------------------


@app.command()
def send(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help=".hl7/.json files (one event each), .ndjson (one per line), or folders"
        ),
    ],
    topic: Annotated[str, typer.Option(help="Topic (name or logical name)")] = "raw",
) -> None:
    """Publish files to notes.raw; prints counts as JSON."""
    settings = settings_of(ctx)
    from streamproc.stream.inputs import InputNotFound, collect_files, iter_inputs
    from streamproc.stream.topics import bootstrap_servers

    try:
        files = collect_files(paths)
    except InputNotFound as err:
        fail(Exit.INPUT_NOT_FOUND, str(err))
    brokers = resolve_brokers(settings)
    name = resolve_topic(settings, topic)
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    started = time.monotonic()
    try:
        producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers(brokers),
            acks="all",
            linger_ms=5,
            max_request_size=max(settings.max_message_bytes * 2, 1_048_576),
            request_timeout_ms=15000,
            **client_options(kafka_security(settings)),
        )
    except (KafkaError, OSError) as err:
        fail(Exit.UNREACHABLE, f"no Kafka broker at {brokers}: {type(err).__name__}")
    futures = [producer.send(name, value=item.data) for item in iter_inputs(files)]
    try:
        producer.flush(timeout=60)
        for fut in futures:
            fut.get(timeout=10)
    except KafkaError as err:
        fail(Exit.UNREACHABLE, f"publish to {name} failed: {type(err).__name__}: {err}")
    finally:
        producer.close(timeout=5)
    typer.echo(
        json.dumps(
            {
                "topic": name,
                "files": len(files),
                "sent": len(futures),
                "seconds": round(time.monotonic() - started, 3),
            }
        )
    )


def _decode_value(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}


@app.command()
def tail(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="Topic name or logical name (raw, deid, dlq, ...)")],
    max_messages: Annotated[
        int | None, typer.Option("--max", "-n", help="Stop after N", min=1)
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", "-t", help="Stop after S seconds without a new message")
    ] = 5.0,
    from_beginning: Annotated[
        bool,
        typer.Option(
            "--from-beginning/--new-only", help="Read the whole topic, or only new messages"
        ),
    ] = True,
) -> None:
    """Print a topic's messages as JSON lines: topic, partition, offset, key, value."""
    settings = settings_of(ctx)
    brokers = resolve_brokers(settings)
    name = resolve_topic(settings, topic)
    from kafka import KafkaConsumer, TopicPartition
    from kafka.errors import KafkaError

    from streamproc.stream.topics import bootstrap_servers

    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers(brokers),
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=15000,
            **client_options(kafka_security(settings)),
        )
        parts = consumer.partitions_for_topic(name)
    except (KafkaError, OSError) as err:
        fail(Exit.UNREACHABLE, f"no Kafka broker at {brokers}: {type(err).__name__}")
    if not parts:
        consumer.close()
        fail(Exit.INPUT_NOT_FOUND, f"topic not found: {name}")
    tps = [TopicPartition(name, p) for p in sorted(parts)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    # --new-only: tansu's ListOffsets(latest) is short by up to one batch, so filter on the
    # record timestamp instead of seeking to the end offsets.
    since_ms = 0 if from_beginning else int(time.time() * 1000)
    printed = 0
    last_seen = time.monotonic()
    try:
        while time.monotonic() - last_seen < timeout:
            batches = consumer.poll(timeout_ms=200)
            for records in batches.values():
                for rec in records:
                    last_seen = time.monotonic()
                    if rec.timestamp < since_ms:
                        continue
                    line = {
                        "topic": rec.topic,
                        "partition": rec.partition,
                        "offset": rec.offset,
                        "key": rec.key.decode("utf-8", "replace") if rec.key else None,
                        "value": _decode_value(rec.value),
                    }
                    typer.echo(json.dumps(line, ensure_ascii=False))
                    printed += 1
                    if max_messages is not None and printed >= max_messages:
                        return
    finally:
        consumer.close()


@app.command()
def topics(ctx: typer.Context) -> None:
    """List topics with their partition counts (JSON lines)."""
    settings = settings_of(ctx)
    brokers = resolve_brokers(settings)
    from streamproc.stream.topics import BrokerUnreachable, describe_topics

    try:
        listing = describe_topics(brokers, security=kafka_security(settings))
    except BrokerUnreachable as err:
        fail(Exit.UNREACHABLE, str(err))
    for name, partitions in listing.items():
        typer.echo(json.dumps({"topic": name, "partitions": partitions}))


@app.command()
def process(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.hl7/.json/.ndjson)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write JSON lines here")] = None,
    agents: Agents = "ingest,analyze",
) -> None:
    """Run the pipeline in-process (no broker): JSON lines {topic, key, value} of every message
    the worker would publish."""
    settings = settings_of(ctx)
    setup(settings, level="WARNING")
    from streamproc.records import SourceRef
    from streamproc.state import MemoryStore
    from streamproc.stream.inputs import InputNotFound, collect_files, iter_inputs
    from streamproc.stream.topics import topic_name
    from streamproc.stream.wiring import StageUnavailable, build_pipeline, stages_for

    try:
        files = collect_files(paths)
    except InputNotFound as err:
        fail(Exit.INPUT_NOT_FOUND, str(err))
    try:
        pipeline = build_pipeline(settings, MemoryStore(), stages=stages_for(parse_agents(agents)))
    except StageUnavailable as err:
        fail(Exit.CONFIG, str(err))
    counts: dict[str, int] = {"inputs": 0}
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for item in iter_inputs(files):
            counts["inputs"] += 1
            source = SourceRef(topic=f"file:{item.path}", offset=item.index)
            for msg in pipeline.process(item.data, source):
                name = topic_name(settings, msg.topic)
                counts[name] = counts.get(name, 0) + 1
                line = {"topic": name, "key": msg.key, "value": msg.value}
                sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out:
            sink.close()
    typer.echo(json.dumps(counts), err=True)


@app.command()
def schemas(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if schemas/ is out of date")
    ] = False,
    directory: Annotated[Path | None, typer.Option("--dir", help="Schema folder")] = None,
) -> None:
    """Write (or check) schemas/<topic>.schema.json from the code."""
    from streamproc.schemas import DEFAULT_DIR, check_schemas, write_schemas

    target = directory or DEFAULT_DIR
    if check:
        drifted = check_schemas(target)
        if drifted:
            fail(
                Exit.FAILURE,
                f"schemas out of date (run `streamproc schemas`): {', '.join(drifted)}",
            )
        typer.echo("schemas up to date")
        return
    for path in write_schemas(target):
        typer.echo(str(path))


# ---- area subcommands, registered explicitly --------------------------------------------------------


def _register_areas(root: typer.Typer) -> None:
    from streamproc.bench import cli as bench_cli
    from streamproc.evaluate import cli as evaluate_cli
    from streamproc.evaluate import replay_cli
    from streamproc.train import cli as train_cli

    train_cli.register(root)
    evaluate_cli.register(root)
    replay_cli.register(root)
    bench_cli.register(root)


_register_areas(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
