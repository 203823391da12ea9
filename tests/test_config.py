"""Settings come from defaults, a TOML/YAML file, and STREAMPROC_* variables, in that order."""

from pathlib import Path

import pytest

from streamproc.config import Settings, load_settings, read_config_file


def test_defaults_mean_embedded_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMPROC_CONFIG", raising=False)
    settings = Settings()
    assert settings.embedded
    assert settings.topics.all() == [
        "notes.raw",
        "notes.deid",
        "fhir.conditions",
        "alerts.adverse-events",
        "notes.dlq",
    ]
    assert settings.max_message_bytes == 1_000_000


def test_env_overrides_file_and_nested_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "streamproc.toml"
    cfg.write_text('kafka_brokers = "k1:9092"\npartitions = 6\n[topics]\nraw = "emr.notes"\n')
    monkeypatch.setenv("STREAMPROC_PARTITIONS", "12")
    monkeypatch.setenv("STREAMPROC_TOPICS__DLQ", "emr.dlq")
    settings = load_settings(cfg)
    assert settings.kafka_brokers == "k1:9092"
    assert not settings.embedded
    assert settings.partitions == 12  # env beats file
    assert settings.topics.raw == "emr.notes"
    assert settings.topics.dlq == "emr.dlq"


def test_yaml_file_with_streamproc_section(tmp_path: Path) -> None:
    cfg = tmp_path / "s.yaml"
    cfg.write_text("streamproc:\n  redis_url: redis://r:6379/0\n  batch_size: 8\n")
    assert read_config_file(cfg) == {"redis_url": "redis://r:6379/0", "batch_size": 8}


def test_secret_is_masked_in_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMPROC_CONFIG", raising=False)
    monkeypatch.setenv("STREAMPROC_DEID_SECRET", "s3cr3t-value")
    settings = Settings()
    assert settings.deid_secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in str(settings.masked())
    assert "s3cr3t-value" not in repr(settings)


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMPROC_CONFIG", raising=False)
    monkeypatch.setenv("STREAMPROC_PARTITIONS", "0")
    with pytest.raises(ValueError):
        Settings()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="settings file not found"):
        read_config_file(tmp_path / "nope.toml")
