"""Kafka client options for TLS and SASL, built from ``Settings.kafka_security``.

kafka-python (admin, ``send``, ``tail``, replay) and aiokafka (the publish ledger) take the same
option names, so one mapping serves both; Faust takes the same facts as ``broker_credentials``.
Every client gets its TLS context from :func:`ssl_context`, so all of them trust the same CAs
and present the same client certificate.
"""

from __future__ import annotations

import ssl
from typing import Any

from streamproc.config import KafkaSecurity, Settings


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext | None:
    """The TLS context for SSL / SASL_SSL; None for plaintext protocols."""
    if not security.uses_tls:
        return None
    cafile = str(security.ssl_cafile) if security.ssl_cafile else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.check_hostname = security.ssl_check_hostname
    if security.ssl_certfile is not None:
        keyfile = str(security.ssl_keyfile) if security.ssl_keyfile else None
        context.load_cert_chain(str(security.ssl_certfile), keyfile)
    return context


def client_options(security: KafkaSecurity) -> dict[str, Any]:
    """Keyword arguments for kafka-python and aiokafka clients (empty for PLAINTEXT)."""
    if security.protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": security.protocol}
    context = ssl_context(security)
    if context is not None:
        options["ssl_context"] = context
    if security.protocol.startswith("SASL"):
        options["sasl_mechanism"] = security.sasl_mechanism
        options["sasl_plain_username"] = security.sasl_username
        options["sasl_plain_password"] = security.sasl_password.get_secret_value()
    return options


def faust_credentials(security: KafkaSecurity) -> Any:
    """``broker_credentials`` for the Faust app; None for PLAINTEXT."""
    import faust

    context = ssl_context(security)
    if security.protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password.get_secret_value(),
            ssl_context=context,
            mechanism=security.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def kafka_security(settings: Settings) -> KafkaSecurity:
    """The security the configured cluster needs; the embedded broker is loopback plaintext."""
    return settings.kafka_security if settings.kafka_brokers else KafkaSecurity()
