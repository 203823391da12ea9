"""The processing pipeline as plain functions: ingest -> deid -> nlp -> fhir.

The streaming layer (``streamproc.stream``) and ``streamproc process`` both call exactly this code;
nothing here knows about Kafka. Two stages map to two agents so the GPU-bound NLP stage can scale
apart from parsing and de-identification:

* :meth:`Pipeline.ingest` — raw bytes -> de-identified ``NoteEvent`` for ``notes.deid`` (or DLQ)
* :meth:`Pipeline.analyze` — de-identified notes -> ``Condition`` / ``AdverseEvent`` resources (or DLQ)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from streamproc.config import Settings
from streamproc.ingest import IngestError, parse_message
from streamproc.nlp.types import NoteAnalysis
from streamproc.records import DeadLetter, NoteEvent, OutMessage, SourceRef, sha256_hex
from streamproc.state import StateStore, apply_marks

log = logging.getLogger(__name__)


class Deidentifier(Protocol):
    """Replaces every Safe Harbor identifier in a note (text, references, dates)."""

    version: str

    def deidentify(self, note: NoteEvent) -> NoteEvent: ...


class ClinicalAnalyzer(Protocol):
    """Runs the clinical models on de-identified notes, batched."""

    def analyze_batch(self, notes: Sequence[NoteEvent]) -> list[NoteAnalysis]: ...


class ResourceBuilder(Protocol):
    """Turns one analysed note into FHIR resources (dicts), each tagged with its topic."""

    def build(self, note: NoteEvent, analysis: NoteAnalysis) -> list[OutMessage]: ...


class Lifecycle(Protocol):
    """Settles a note against what earlier versions of its document published: withdraws what
    no longer holds (retracted or replaced documents), holds back superseded versions."""

    def settle(
        self, note: NoteEvent, analysis: NoteAnalysis | None, built: list[OutMessage]
    ) -> list[OutMessage]: ...


@dataclass
class IngestOutcome:
    outputs: list[OutMessage] = field(default_factory=list)
    skipped: str | None = None  # reason when a valid message carried no note, or was a duplicate
    dedup_keys: list[str] = field(default_factory=list)  # mark these done once outputs are acked


def dedup_key(note: NoteEvent) -> str:
    """Same document, same content -> same key, whatever topic/offset redelivered it."""
    return "dedup:" + sha256_hex(f"{note.event_id}|{note.content_hash}")


@dataclass
class Pipeline:
    settings: Settings
    store: StateStore
    deidentifier: Deidentifier | None = None
    analyzer: ClinicalAnalyzer | None = None
    builders: Sequence[ResourceBuilder] = ()
    lifecycle: Lifecycle | None = None
    on_event: Callable[[str, str], None] = lambda kind, topic: None  # metrics hook

    # ---- stage 1: raw -> notes.deid -------------------------------------------------------
    def ingest(self, raw: bytes, source: SourceRef) -> IngestOutcome:
        """Parse, dedup and de-identify one raw message. Never raises."""
        try:
            notes = parse_message(raw, source, self.settings)
        except IngestError as err:
            log.info("dead-lettered", extra={"code": err.code, "source": source.dedup_key()})
            return IngestOutcome(outputs=[self._dlq(err.code, err.message, source, raw)])
        except Exception as err:  # a parser bug must not kill the worker or lose the message
            log.exception("ingest crashed", extra={"source": source.dedup_key()})
            return IngestOutcome(
                outputs=[self._dlq("internal_error", type(err).__name__, source, raw)]
            )
        if not notes:
            return IngestOutcome(skipped="no_note")

        outcome = IngestOutcome()
        for note in notes:
            key = dedup_key(note)
            if self.store.get(key) is not None:
                continue
            try:
                clean = self.deidentifier.deidentify(note) if self.deidentifier else note
            except Exception as err:
                log.exception("deid failed", extra={"source": source.dedup_key()})
                outcome.outputs.append(
                    self._dlq("deid_failed", type(err).__name__, source, raw, stage="deid")
                )
                continue
            outcome.outputs.append(
                OutMessage(topic="deid", key=clean.event_id, value=clean.model_dump(mode="json"))
            )
            outcome.dedup_keys.append(key)
        if not outcome.outputs:
            outcome.skipped = "duplicate"
        return outcome

    def mark_published(self, outputs: Sequence[OutMessage]) -> None:
        """Record the state the builders asked for, once these outputs were acknowledged."""
        for out in outputs:
            apply_marks(self.store, out.marks)

    def mark_done(self, keys: Sequence[str]) -> None:
        """Record that these notes' outputs were published (call after the broker acked)."""
        for key in keys:
            self.store.set(key, "1", ttl_s=self.settings.dedup_ttl_s)

    # ---- stage 2: notes.deid -> FHIR topics ----------------------------------------------
    def analyze(self, notes: Sequence[NoteEvent]) -> list[OutMessage]:
        """Run the models on a batch of de-identified notes and build resources. Never raises.

        A retracted document (``document_status`` entered-in-error) is not analysed: it only
        withdraws what its earlier versions published (``lifecycle``)."""
        if self.analyzer is None or not notes:
            return []
        started = time.perf_counter()
        current = [n for n in notes if n.document_status == "current"]
        try:
            results = list(self.analyzer.analyze_batch(current)) if current else []
            if len(results) != len(current):
                raise ValueError(f"{len(results)} analyses for {len(current)} notes")
        except Exception as err:
            log.exception("nlp batch failed", extra={"notes": len(notes)})
            return [self._dlq_note("nlp_failed", type(err).__name__, n, "nlp") for n in notes]
        analyses = iter(results)
        outputs: list[OutMessage] = []
        for note in notes:
            analysis = next(analyses) if note.document_status == "current" else None
            built, failed = self._build(note, analysis) if analysis is not None else ([], False)
            if self.lifecycle is not None and not failed:
                built = self._settle(self.lifecycle, note, analysis, built)
            outputs.extend(built)
        log.debug(
            "analyzed",
            extra={"notes": len(notes), "ms": round((time.perf_counter() - started) * 1e3, 1)},
        )
        return outputs

    def _build(self, note: NoteEvent, analysis: NoteAnalysis) -> tuple[list[OutMessage], bool]:
        """Every builder's resources for one note; (outputs, whether a builder failed)."""
        built: list[OutMessage] = []
        failed = False
        for builder in self.builders:
            try:
                built.extend(builder.build(note, analysis))
            except Exception as err:
                log.exception("fhir build failed", extra={"event_id": note.event_id})
                built.append(self._dlq_note("fhir_invalid", str(err)[:500], note, "fhir"))
                failed = True
        return built, failed

    def _settle(
        self,
        lifecycle: Lifecycle,
        note: NoteEvent,
        analysis: NoteAnalysis | None,
        built: list[OutMessage],
    ) -> list[OutMessage]:
        try:
            return lifecycle.settle(note, analysis, built)
        except Exception as err:
            log.exception("lifecycle failed", extra={"event_id": note.event_id})
            return [*built, self._dlq_note("lifecycle_failed", type(err).__name__, note, "fhir")]

    # ---- in-process run: both stages ---------------------------------------------------------
    def process(self, raw: bytes, source: SourceRef) -> list[OutMessage]:
        """Everything the worker would publish for one raw message (used by `streamproc process`)."""
        outcome = self.ingest(raw, source)
        self.mark_done(outcome.dedup_keys)
        notes = [NoteEvent.model_validate(m.value) for m in outcome.outputs if m.topic == "deid"]
        analyzed = self.analyze(notes)
        self.mark_published(analyzed)
        return outcome.outputs + analyzed

    # ---- helpers -----------------------------------------------------------------------------
    def _dlq(
        self, code: str, message: str, source: SourceRef, raw: bytes, stage: str = "ingest"
    ) -> OutMessage:
        dead = DeadLetter.build(code, message, source, raw, stage=stage)
        return OutMessage(topic="dlq", key=source.dedup_key(), value=dead.model_dump(mode="json"))

    def _dlq_note(self, code: str, message: str, note: NoteEvent, stage: str) -> OutMessage:
        # The note on notes.deid is already de-identified, so its JSON is safe to dead-letter.
        payload = note.model_dump_json().encode("utf-8")
        return self._dlq(code, message, note.source, payload, stage=stage)
