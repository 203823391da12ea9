"""Inference cache in the StateStore: model versions + sha256 of the de-identified text.

Why: redelivery, replays and identical notes (templates, copies) must not pay for the models
again. Keys hold only hashes (never text or identifiers); raising any model version changes
every key, so a new model never reads an old model's results (cumulus-etl's task_version idea).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from streamproc.nlp.types import NoteAnalysis
from streamproc.records import sha256_hex
from streamproc.state import StateStore

log = logging.getLogger(__name__)


class InferenceCache:
    """Batch look-up / store of :class:`NoteAnalysis` results."""

    def __init__(self, store: StateStore, versions: Mapping[str, str], ttl_s: int) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._namespace = sha256_hex(json.dumps(dict(sorted(versions.items()))))[:16]
        self.hits = 0
        self.misses = 0

    def key(self, text: str) -> str:
        return f"nlp:{self._namespace}:{sha256_hex(text)}"

    def get_many(self, texts: Sequence[str]) -> list[NoteAnalysis | None]:
        """One result per text; ``None`` marks a miss (or an unreadable entry)."""
        out: list[NoteAnalysis | None] = []
        for text in texts:
            raw = self.store.get(self.key(text))
            found: NoteAnalysis | None = None
            if raw is not None:
                try:
                    found = NoteAnalysis.model_validate_json(raw)
                except ValidationError:
                    log.warning("inference cache entry unreadable; recomputing")
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            out.append(found)
        return out

    def put(self, text: str, analysis: NoteAnalysis) -> None:
        self.store.set(self.key(text), analysis.model_dump_json(), ttl_s=self.ttl_s)
