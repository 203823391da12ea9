"""Recognizer registry: ``conf/recognizers.yaml`` names -> classes through an explicit table.

No subclass discovery: a recognizer exists only if it is listed in :data:`RECOGNIZERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from streamproc.deid.detect.lexicons import Lexicons
from streamproc.deid.detect.recognizer import Recognizer
from streamproc.deid.detect.recognizers.address import AddressRecognizer, ZipRecognizer
from streamproc.deid.detect.recognizers.age import AgeRecognizer
from streamproc.deid.detect.recognizers.date import DateRecognizer
from streamproc.deid.detect.recognizers.email import EmailRecognizer
from streamproc.deid.detect.recognizers.identifier import IdentifierRecognizer
from streamproc.deid.detect.recognizers.ip import IpRecognizer
from streamproc.deid.detect.recognizers.location import LocationRecognizer
from streamproc.deid.detect.recognizers.name import NameRecognizer
from streamproc.deid.detect.recognizers.phone import PhoneRecognizer
from streamproc.deid.detect.recognizers.ssn import SsnRecognizer
from streamproc.deid.detect.recognizers.url import UrlRecognizer

RECOGNIZERS: dict[str, type[Recognizer]] = {
    "date": DateRecognizer,
    "age": AgeRecognizer,
    "phone": PhoneRecognizer,
    "email": EmailRecognizer,
    "url": UrlRecognizer,
    "ip": IpRecognizer,
    "ssn": SsnRecognizer,
    "identifier": IdentifierRecognizer,
    "address": AddressRecognizer,
    "zip": ZipRecognizer,
    "name": NameRecognizer,
    "location": LocationRecognizer,
}
NEEDS_LEXICONS: frozenset[str] = frozenset({"name", "location"})


@dataclass(frozen=True)
class RegistryConfig:
    threshold: float
    entries: tuple[tuple[str, dict[str, Any]], ...]
    propagate_names: bool = True  # a name found once is masked everywhere in its note


def read_config(path: Path | None = None) -> RegistryConfig:
    """Parse and check the YAML (unknown names fail loudly, not silently)."""
    if path is None:
        text = (resources.files("streamproc.deid.conf") / "recognizers.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    data = yaml.safe_load(text) or {}
    entries: list[tuple[str, dict[str, Any]]] = []
    for item in data.get("recognizers", []):
        name = item["name"] if isinstance(item, dict) else str(item)
        if name not in RECOGNIZERS:
            raise ValueError(
                f"unknown recognizer {name!r} in recognizers.yaml; known: {sorted(RECOGNIZERS)}"
            )
        params = dict(item.get("params") or {}) if isinstance(item, dict) else {}
        entries.append((name, params))
    return RegistryConfig(
        float(data.get("threshold", 0.5)),
        tuple(entries),
        bool(data.get("propagate_names", True)),
    )


def build_recognizers(config: RegistryConfig, lexicons: Lexicons) -> list[Recognizer]:
    out: list[Recognizer] = []
    for name, params in config.entries:
        cls = RECOGNIZERS[name]
        if name in NEEDS_LEXICONS:
            out.append(cls(lexicons=lexicons, **params))  # type: ignore[call-arg]
        else:
            out.append(cls(**params))  # type: ignore[call-arg]
    return out
