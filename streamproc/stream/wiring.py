"""The one place that assembles a :class:`~streamproc.pipeline.Pipeline` from settings.

The worker, ``streamproc process``, ``streamproc replay`` and ``streamproc bench`` all call
:func:`build_pipeline`, so they run the same stages. Each area package provides one factory,
imported only when its stage is asked for (an ingest-only worker never imports torch models).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Any

from streamproc.config import Settings
from streamproc.pipeline import Pipeline
from streamproc.state import StateStore

log = logging.getLogger(__name__)

ALL_STAGES = ("deid", "nlp", "fhir")


class StageUnavailable(RuntimeError):
    """A stage's factory exists but could not build it (e.g. model folder missing)."""


def _build(stage: str, factory: Callable[..., Any], settings: Settings, store: StateStore) -> Any:
    try:
        return factory(settings, store)
    except (FileNotFoundError, OSError, ValueError, ImportError) as err:
        raise StageUnavailable(f"{stage} stage could not start: {err}") from err


def stages_for(agents: Collection[str]) -> set[str]:
    """Pipeline stages an agent set needs: ingest -> deid; analyze -> nlp + fhir."""
    stages = {"deid"} if "ingest" in agents else set()
    if "analyze" in agents:
        stages |= {"nlp", "fhir"}
    return stages


def build_pipeline(
    settings: Settings,
    store: StateStore,
    stages: Collection[str] = ALL_STAGES,
    **hooks: Any,
) -> Pipeline:
    """Construct the de-identifier, analyzer and FHIR builders their packages provide.

    ``stages`` limits what is built: an ingest-only worker (``--agents ingest``) needs neither
    the NLP models nor the FHIR builders, so it starts fast and scales apart from GPU workers.
    """
    deid = nlp = lifecycle = None
    builders: tuple[Any, ...] = ()
    if "deid" in stages:
        from streamproc.deid import build_deidentifier

        deid = _build("deid", build_deidentifier, settings, store)
    if "nlp" in stages:
        from streamproc.nlp import build_analyzer

        nlp = _build("nlp", build_analyzer, settings, store)
    if "fhir" in stages:
        from streamproc.fhir import build_lifecycle, build_resource_builders

        builders = tuple(_build("fhir", build_resource_builders, settings, store))
        lifecycle = build_lifecycle(builders, store)
    return Pipeline(
        settings=settings,
        store=store,
        deidentifier=deid,
        analyzer=nlp,
        builders=builders,
        lifecycle=lifecycle,
        **hooks,
    )


# ---- per-stage timing (worker metrics and `streamproc bench`) ------------------------------------

Observe = Callable[[str, float], None]


class _TimedDeidentifier:
    def __init__(self, inner: Any, observe: Observe) -> None:
        self.inner, self.observe = inner, observe
        self.version = getattr(inner, "version", "unknown")

    def deidentify(self, note: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.deidentify(note)
        finally:
            self.observe("deid", time.perf_counter() - started)


class _TimedAnalyzer:
    def __init__(self, inner: Any, observe: Observe) -> None:
        self.inner, self.observe = inner, observe

    def analyze_batch(self, notes: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.analyze_batch(notes)
        finally:
            self.observe("nlp", time.perf_counter() - started)


class _TimedBuilder:
    def __init__(self, inner: Any, observe: Observe) -> None:
        self.inner, self.observe = inner, observe

    def build(self, note: Any, analysis: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.build(note, analysis)
        finally:
            self.observe("fhir", time.perf_counter() - started)


class _TimedLifecycle:
    """Settling a note against its document's earlier versions is part of the fhir stage."""

    def __init__(self, inner: Any, observe: Observe) -> None:
        self.inner, self.observe = inner, observe

    def settle(self, note: Any, analysis: Any, built: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.settle(note, analysis, built)
        finally:
            self.observe("fhir", time.perf_counter() - started)


def instrument(pipeline: Pipeline, observe: Observe) -> Pipeline:
    """Time each stage object in place: ``observe(stage, seconds)`` for deid/nlp/fhir calls."""
    if pipeline.deidentifier is not None:
        pipeline.deidentifier = _TimedDeidentifier(pipeline.deidentifier, observe)
    if pipeline.analyzer is not None:
        pipeline.analyzer = _TimedAnalyzer(pipeline.analyzer, observe)
    pipeline.builders = tuple(_TimedBuilder(b, observe) for b in pipeline.builders)
    if pipeline.lifecycle is not None:
        pipeline.lifecycle = _TimedLifecycle(pipeline.lifecycle, observe)
    return pipeline
