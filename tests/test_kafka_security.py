"""Kafka TLS / SASL settings: validation, the options every client gets, no secret in errors."""

from __future__ import annotations

import ssl
from pathlib import Path

import faust
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from streamproc.cli import app as cli_app
from streamproc.cli import without_password
from streamproc.config import KafkaSecurity, Settings
from streamproc.stream.security import client_options, faust_credentials, kafka_security


def test_plaintext_adds_nothing() -> None:
    assert client_options(KafkaSecurity()) == {}
    assert faust_credentials(KafkaSecurity()) is None


def test_ssl_options_trust_the_given_ca_and_check_the_hostname(
    tls_certificate: tuple[Path, Path],
) -> None:
    ca = tls_certificate[0]
    options = client_options(KafkaSecurity(protocol="SSL", ssl_cafile=ca))
    assert options["security_protocol"] == "SSL"
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "sasl_mechanism" not in options
    credentials = faust_credentials(KafkaSecurity(protocol="SSL", ssl_cafile=ca))
    assert isinstance(credentials, faust.SSLCredentials)


def test_sasl_ssl_carries_mechanism_user_password_and_tls() -> None:
    security = KafkaSecurity(
        protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username="streamproc",
        sasl_password="s3cret",  # type: ignore[arg-type]
    )
    options = client_options(security)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "streamproc",
        "s3cret",
    )
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    credentials = faust_credentials(security)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-256"


def test_sasl_plaintext_has_no_tls_context() -> None:
    security = KafkaSecurity(
        protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="u",
        sasl_password="p",  # type: ignore[arg-type]
    )
    assert "ssl_context" not in client_options(security)
    credentials = faust_credentials(security)
    assert credentials.protocol.value == "SASL_PLAINTEXT"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"protocol": "SASL_SSL"}, "needs sasl_username and sasl_password"),
        ({"protocol": "SSL", "ssl_cafile": "/no/such/ca.pem"}, "ssl_cafile: no such file"),
        ({"protocol": "SSL", "ssl_keyfile": "KEY"}, "ssl_keyfile needs ssl_certfile"),
        ({"protocol": "TLS"}, "Input should be"),
    ],
)
def test_half_configured_security_is_refused_at_start(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        KafkaSecurity(**fields)


def test_embedded_broker_stays_plaintext(tls_certificate: tuple[Path, Path]) -> None:
    ca = tls_certificate[0]
    secured = KafkaSecurity(protocol="SSL", ssl_cafile=ca)
    assert kafka_security(Settings(kafka_security=secured)).protocol == "PLAINTEXT"
    configured = Settings(kafka_brokers="kafka:9093", kafka_security=secured)
    assert kafka_security(configured) is secured


def test_settings_from_environment_and_masked() -> None:
    env = {
        "STREAMPROC_KAFKA_SECURITY__PROTOCOL": "SASL_SSL",
        "STREAMPROC_KAFKA_SECURITY__SASL_USERNAME": "svc-nlp",
        "STREAMPROC_KAFKA_SECURITY__SASL_PASSWORD": "hunter2-very-secret",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        settings = Settings()
    assert settings.kafka_security.sasl_username == "svc-nlp"
    assert "hunter2" not in str(settings.masked())


def test_invalid_settings_error_does_not_print_the_password() -> None:
    # pydantic quotes the input of a failed model ("input_value={'sasl_password': 'hunter...'").
    env = {
        "STREAMPROC_KAFKA_BROKERS": "127.0.0.1:9",
        "STREAMPROC_KAFKA_SECURITY__PROTOCOL": "SASL_SSL",
        "STREAMPROC_KAFKA_SECURITY__SASL_USERNAME": "svc-nlp",
        "STREAMPROC_KAFKA_SECURITY__SASL_PASSWORD": "hunter2-very-secret",
        "STREAMPROC_KAFKA_SECURITY__SSL_CAFILE": "/no/such/ca.pem",
    }
    result = CliRunner().invoke(cli_app, ["topics"], env=env)
    assert result.exit_code == 3
    assert "ssl_cafile: no such file" in result.output
    assert "hunt" not in result.output and "svc-nlp" not in result.output


@pytest.mark.parametrize(
    "url, shown",
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (
            "rediss://:pw@r.example.org:6380/0?ssl_ca_certs=/ca.pem",
            "rediss://:***@r.example.org:6380/0?ssl_ca_certs=/ca.pem",
        ),
        ("redis://svc:p%40ss@h:1/2", "redis://svc:***@h:1/2"),
    ],
)
def test_printed_redis_url_hides_the_password(url: str, shown: str) -> None:
    assert without_password(url) == shown
