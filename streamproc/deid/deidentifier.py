"""The pipeline's de-identification stage: text, references and dates of one NoteEvent.

Order: detect spans (rules + PHI model, merged) plus literal occurrences of the note's own
structured ids; replace them (operators); then pseudonymise the structured fields
(``patient_ref``, ``encounter_ref``, ``document_id``, ``source.key``), shift ``authored`` by the
patient's offset and set ``content_hash`` to an HMAC of the new text. ``event_id`` is kept: it
is already a one-way hash of source ids and the dedup/idempotence key downstream (see docs/deid.md
for its residual risk).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from datetime import timedelta

from streamproc.deid.detect.analyzer import Analyzer, merge_spans
from streamproc.deid.transform.anonymizer import Anonymizer
from streamproc.deid.transform.codebook import Codebook
from streamproc.deid.transform.fakes import NamePool
from streamproc.deid.transform.operators.base import OperatorContext
from streamproc.deid.types import ID, PhiSpan
from streamproc.records import NoteEvent, PhiMark, SourceRef

log = logging.getLogger(__name__)

_REF = re.compile(r"^(?P<type>[A-Za-z]+)/(?P<id>.+)$")


def _scoped(value: str, namespace: str | None) -> str:
    """An id within its namespace; a bare id stays as it is (the keys of before namespaces)."""
    return f"{namespace}|{value}" if namespace else value


class Deidentifier:
    """Implements ``streamproc.pipeline.Deidentifier``."""

    def __init__(
        self,
        analyzer: Analyzer,
        anonymizer: Anonymizer,
        codebook: Codebook,
        names: NamePool,
        first_names: frozenset[str],
        version: str,
    ) -> None:
        self.analyzer = analyzer
        self.anonymizer = anonymizer
        self.codebook = codebook
        self.names = names
        self.first_names = first_names
        self.version = version

    # ---- structured identifiers -------------------------------------------------------------
    def pseudonym(self, kind: str, raw: str, namespace: str | None = None) -> str:
        """Keyed pseudonym: same raw id (in the same namespace) -> same pseudonym, across notes
        and wire formats."""
        m = _REF.match(raw)
        rtype, rid = (m.group("type"), m.group("id")) if m else ("", raw)
        rid = _scoped(rid.strip(), namespace)
        fake = self.codebook.hkey("ref", kind, rid)[:24]
        out = f"{rtype}/{fake}" if rtype else fake
        self.codebook.remember("ref", out, _scoped(raw, namespace))
        return out

    def patient_key(self, note: NoteEvent) -> str:
        if note.patient_ref:
            m = _REF.match(note.patient_ref)
            pid = m.group("id") if m else note.patient_ref
            return self.codebook.hkey("patient", _scoped(pid.strip(), note.patient_namespace))
        # no patient: the note is its own scope (consistent within the note only)
        return self.codebook.hkey("note", note.event_id)

    @staticmethod
    def _literal_ids(note: NoteEvent) -> list[str]:
        out = []
        for raw in (note.patient_ref, note.encounter_ref, note.document_id, note.replaces):
            if not raw:
                continue
            m = _REF.match(raw)
            value = (m.group("id") if m else raw).strip()
            if len(value) >= 4 and any(ch.isdigit() for ch in value):
                out.append(value)
        return out

    def detect(self, note: NoteEvent) -> list[PhiSpan]:
        spans = self.analyzer.analyze(note.text)
        extra = []
        for value in self._literal_ids(note):
            for m in re.finditer(rf"(?<![\w]){re.escape(value)}(?![\w])", note.text):
                extra.append(PhiSpan(m.start(), m.end(), ID, 1.0, "structured_id"))
        return merge_spans(note.text, spans + extra) if extra else spans

    # ---- the stage ------------------------------------------------------------------------------
    def deidentify(self, note: NoteEvent) -> NoteEvent:
        started = time.perf_counter()
        pkey = self.patient_key(note)
        ctx = OperatorContext(
            self.codebook,
            pkey,
            self.names,
            self.first_names,
            written_on=note.authored.date() if note.authored else None,
        )
        spans = self.detect(note)
        text, counts, marks = self.anonymizer.anonymize_marked(note.text, spans, ctx)
        offset = ctx.date_offset
        update: dict[str, object] = {
            "text": text,
            "patient_ref": self.pseudonym("patient", note.patient_ref, note.patient_namespace)
            if note.patient_ref
            else None,
            "patient_namespace": None,  # the pseudonym carries it
            "encounter_ref": self.pseudonym(
                "encounter", note.encounter_ref, note.encounter_namespace
            )
            if note.encounter_ref
            else None,
            "encounter_namespace": None,  # the pseudonym carries it
            "document_id": self.pseudonym("document", note.document_id, note.document_namespace)
            if note.document_id
            else None,
            "replaces": self.pseudonym("document", note.replaces, note.document_namespace)
            if note.replaces
            else None,
            "document_namespace": None,  # the pseudonyms carry it
            "authored": note.authored + timedelta(days=offset) if note.authored else None,
            "content_hash": hmac.new(
                self.codebook.digest("content-hash-key"), text.encode("utf-8"), hashlib.sha256
            ).hexdigest(),
            "deidentified": True,
            "deid_version": self.version,
            "phi_marks": tuple(
                PhiMark(start=m.start, end=m.end, type=m.entity_type) for m in marks
            ),
        }
        if note.source.key is not None:
            update["source"] = SourceRef(
                topic=note.source.topic,
                partition=note.source.partition,
                offset=note.source.offset,
                key=self.pseudonym("source-key", note.source.key),
            )
        log.debug(
            "deidentified",
            extra={
                "phi_counts": dict(counts),
                "spans": len(spans),
                "ms": round((time.perf_counter() - started) * 1e3, 2),
            },
        )
        return note.model_copy(update=update)
