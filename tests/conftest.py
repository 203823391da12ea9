"""Shared fixtures. ``embedded_stack``: one tansu broker + redis-server for the whole session
(child processes of the test run; stopped at the end, and killed with it if pytest dies)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamproc.embedded import EmbeddedStack


@pytest.fixture(scope="session")
def embedded_stack() -> Iterator[EmbeddedStack]:
    with EmbeddedStack() as stack:
        yield stack


@pytest.fixture
def unique_prefix() -> str:
    """A fresh topic/app-id prefix so tests sharing the broker never see each other's data."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> str:  # noqa: ANN001 - pytest fixtures
    """Isolate the `streamproc up` state file from the user's ~/.streamproc."""
    path = str(tmp_path / "state")
    monkeypatch.setenv("STREAMPROC_STATE_DIR", path)
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(certificate, key) PEM files: a self-signed CA for 127.0.0.1, for TLS tests."""
    return write_certificate(tmp_path_factory.mktemp("tls"))


def write_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed CA certificate for 127.0.0.1 and its key (PEM), valid for two days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "streamproc test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
