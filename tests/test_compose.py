"""docker-compose.yml structure (no Docker engine here: parse and check, do not run)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_kafka_runs_kraft_without_zookeeper() -> None:
    compose = load()
    services = compose["services"]
    assert not any("zookeeper" in name.lower() for name in services)
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    for var in (
        "KAFKA_NODE_ID",
        "KAFKA_PROCESS_ROLES",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
        "CLUSTER_ID",
    ):
        assert var in env, var
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "broker" in env["KAFKA_PROCESS_ROLES"]
    assert not any("ZOOKEEPER" in k for k in env)
    assert "healthcheck" in kafka


def test_redis_and_workers_are_wired_with_settings() -> None:
    services = load()["services"]
    assert services["redis"]["image"].startswith("redis:")
    assert "healthcheck" in services["redis"]
    for name in ("worker", "worker-gpu"):
        worker = services[name]
        env = worker["environment"]
        assert env["STREAMPROC_KAFKA_BROKERS"] == "kafka:9092"
        assert env["STREAMPROC_REDIS_URL"].startswith("redis://redis:")
        assert "STREAMPROC_METRICS_PORT" in env
        assert "healthcheck" in worker
        assert worker["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
        assert worker["command"][:2] == ["streamproc", "worker"]
    assert services["worker"]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_gpu_reservation_is_optional() -> None:
    gpu = load()["services"]["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]  # off unless `--profile gpu`
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia"
    assert "gpu" in devices[0]["capabilities"]
    assert gpu["environment"]["STREAMPROC_DEVICE"] == "cuda"


def test_dockerfile_runs_the_worker() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install" in text and "torch==" in text
    assert '"streamproc", "worker"' in text
    assert "USER " in text  # not root
