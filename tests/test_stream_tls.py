"""Kafka over mutual TLS, end to end: every client the project makes (admin, ``send``, ``tail``,
the Faust worker and its publish ledger) reaches a broker only through a TLS port.

The embedded broker (tansu) speaks plaintext, so a TLS terminator sits in front of it and the
broker advertises the terminator's port: after bootstrap, metadata sends every connection back
through TLS. The terminator demands a client certificate, so the test also covers
``ssl_certfile`` / ``ssl_keyfile``.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamproc.cli import app as cli_app
from streamproc.config import KafkaSecurity, Settings
from streamproc.embedded import free_port, port_open, tansu_binary
from streamproc.stream.topics import BrokerUnreachable, describe_topics, ensure_topics
from tests.test_stream_integration import topic_env

pytestmark = pytest.mark.integration


class TlsTerminator:
    """Accepts mutual-TLS connections on ``port`` and pipes them to a plaintext broker."""

    def __init__(self, port: int, upstream: int, cert: Path, key: Path) -> None:
        self.port, self.upstream = port, upstream
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(cert))
        self.context.load_cert_chain(str(cert), str(key))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.handshakes = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def start(self) -> TlsTerminator:
        self.thread.start()
        server = asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.context)
        asyncio.run_coroutine_threadsafe(server, self.loop).result(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def tls_broker(
    tls_certificate: tuple[Path, Path],
) -> Iterator[tuple[dict[str, str], TlsTerminator]]:
    cert, key = tls_certificate
    plain, tls = free_port(), free_port()
    broker = subprocess.Popen(
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{plain}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{tls}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    terminator = TlsTerminator(tls, plain, cert, key).start()
    try:
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", plain) and time.monotonic() < deadline:
            time.sleep(0.1)
        env = {
            "STREAMPROC_KAFKA_BROKERS": f"127.0.0.1:{tls}",
            "STREAMPROC_KAFKA_SECURITY__PROTOCOL": "SSL",
            "STREAMPROC_KAFKA_SECURITY__SSL_CAFILE": str(cert),
            "STREAMPROC_KAFKA_SECURITY__SSL_CERTFILE": str(cert),
            "STREAMPROC_KAFKA_SECURITY__SSL_KEYFILE": str(key),
        }
        yield env, terminator
    finally:
        terminator.stop()
        broker.terminate()
        broker.wait(10)


def settings_from(env: dict[str, str], prefix: str) -> Settings:
    return Settings(
        kafka_brokers=env["STREAMPROC_KAFKA_BROKERS"],
        kafka_security=KafkaSecurity(
            protocol="SSL",
            ssl_cafile=Path(env["STREAMPROC_KAFKA_SECURITY__SSL_CAFILE"]),
            ssl_certfile=Path(env["STREAMPROC_KAFKA_SECURITY__SSL_CERTFILE"]),
            ssl_keyfile=Path(env["STREAMPROC_KAFKA_SECURITY__SSL_KEYFILE"]),
        ),
        topics={
            "raw": f"{prefix}.raw",
            "deid": f"{prefix}.deid",
            "conditions": f"{prefix}.conditions",
            "adverse_events": f"{prefix}.ae",
            "dlq": f"{prefix}.dlq",
        },
    )


MDM = (
    "MSH|^~\\&|EHR|HOSP|NLP|HOSP|20240101120000||MDM^T02|CTRL-TLS-{i}|P|2.5\r"
    "PID|1||77{i}^^^HOSP^MR||TESTPATIENT^TLS||19700101|F\r"
    "TXA|1|CN|TX|20240101120000||||||||DOC-TLS-{i}||||AU\r"
    "OBX|1|TX|11506-3^Progress note^LN||Seen over TLS, visit {i}: no chest pain.||||||F\r"
)


def test_admin_send_and_tail_over_mutual_tls(
    tls_broker: tuple[dict[str, str], TlsTerminator], unique_prefix: str, tmp_path: Path
) -> None:
    env, _ = tls_broker
    settings = settings_from(env, unique_prefix)
    created = ensure_topics(settings, settings.kafka_brokers)
    assert f"{unique_prefix}.raw" in created
    assert (
        describe_topics(settings.kafka_brokers, security=settings.kafka_security)[
            f"{unique_prefix}.raw"
        ]
        == settings.partitions
    )

    note = tmp_path / "note.hl7"
    note.write_text(MDM.format(i=1))
    runner = CliRunner()
    run_env = {**env, **topic_env(unique_prefix)}
    sent = runner.invoke(cli_app, ["send", str(note)], env=run_env)
    assert sent.exit_code == 0, sent.output
    tailed = runner.invoke(
        cli_app, ["tail", "raw", "--from-beginning", "--max", "1", "--timeout", "10"], env=run_env
    )
    assert tailed.exit_code == 0, tailed.output
    assert "DOC-TLS-1" in tailed.output


def test_a_client_that_does_not_trust_the_broker_is_refused(
    tls_broker: tuple[dict[str, str], TlsTerminator],
) -> None:
    # Same port, TLS, but the system trust store: the self-signed broker must not be accepted.
    env, _ = tls_broker
    untrusting = KafkaSecurity(protocol="SSL")
    with pytest.raises(BrokerUnreachable):
        describe_topics(env["STREAMPROC_KAFKA_BROKERS"], timeout_s=3, security=untrusting)


def test_worker_reads_and_publishes_over_mutual_tls(
    tls_broker: tuple[dict[str, str], TlsTerminator],
    unique_prefix: str,
    tmp_path: Path,
    embedded_stack,  # noqa: ANN001 - only its Redis is used
) -> None:
    env, terminator = tls_broker
    log_path = tmp_path / "worker.log"
    worker_env = {
        **os.environ,
        **env,
        **topic_env(unique_prefix),
        "STREAMPROC_REDIS_URL": embedded_stack.redis_url,
        "STREAMPROC_STATE_DIR": str(tmp_path / "state"),
    }
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamproc.cli", "worker", "--agents", "ingest",
             "--max-runtime", "90"],
            env=worker_env, stdout=log, stderr=log,
        )  # fmt: skip
    before = terminator.handshakes
    try:
        deadline = time.monotonic() + 60
        while '"msg": "worker ready"' not in log_path.read_text(errors="replace"):
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        assert terminator.handshakes > before  # the worker's own clients came in over TLS
        notes = [tmp_path / f"n{i}.hl7" for i in range(3)]
        for i, path in enumerate(notes):
            path.write_text(MDM.format(i=i))
        runner = CliRunner()
        run_env = {**env, **topic_env(unique_prefix)}
        sent = runner.invoke(cli_app, ["send", *map(str, notes)], env=run_env)
        assert sent.exit_code == 0, sent.output
        tailed = runner.invoke(
            cli_app,
            ["tail", "deid", "--from-beginning", "--max", "3", "--timeout", "30"],
            env=run_env,
        )
        assert tailed.exit_code == 0, tailed.output
        lines = [json.loads(line) for line in tailed.output.splitlines() if line.startswith("{")]
        assert len(lines) == 3
        assert all(line["value"]["deidentified"] for line in lines)
    finally:
        proc.terminate()
        proc.wait(20)
