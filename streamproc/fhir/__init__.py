"""FHIR R4 resources from analysed notes: ``Condition`` and ``AdverseEvent``.

``build_resource_builders(settings, store)`` returns the builders the pipeline runs per note,
in a fixed order (conditions first, then adverse events); ``build_lifecycle`` what withdraws
them when a document is retracted or replaced (``fhir.lifecycle``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from streamproc.fhir.adverse_event import DEFAULT_TTL_S, AdverseEventBuilder
from streamproc.fhir.condition import ConditionBuilder
from streamproc.fhir.lifecycle import DocumentLifecycle
from streamproc.state import MemoryStore

if TYPE_CHECKING:
    from streamproc.config import Settings
    from streamproc.pipeline import ResourceBuilder
    from streamproc.state import StateStore

__all__ = [
    "AdverseEventBuilder",
    "ConditionBuilder",
    "DocumentLifecycle",
    "build_lifecycle",
    "build_resource_builders",
]


def build_resource_builders(settings: Settings, store: StateStore | None) -> list[ResourceBuilder]:
    """Condition builder, then the AdverseEvent builder (which keeps dedup state in ``store``)."""
    return [ConditionBuilder(), AdverseEventBuilder(settings, store or MemoryStore())]


def build_lifecycle(
    builders: Sequence[ResourceBuilder], store: StateStore | None
) -> DocumentLifecycle:
    """The lifecycle of the documents these builders publish for (it asks the AdverseEvent
    builder which alerts a note supports), with the alert dedup's retention."""
    alerts = next((b for b in builders if isinstance(b, AdverseEventBuilder)), None)
    ttl_s = alerts.ttl_s if alerts is not None else DEFAULT_TTL_S
    return DocumentLifecycle(store or MemoryStore(), alerts, ttl_s)
