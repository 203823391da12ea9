"""FHIR R4 resources from analysed notes: ``Condition`` and ``AdverseEvent``.

``build_resource_builders(settings, store)`` returns the builders the pipeline runs per note,
in a fixed order (conditions first, then adverse events).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamproc.fhir.adverse_event import AdverseEventBuilder
from streamproc.fhir.condition import ConditionBuilder
from streamproc.state import MemoryStore

if TYPE_CHECKING:
    from streamproc.config import Settings
    from streamproc.pipeline import ResourceBuilder
    from streamproc.state import StateStore

__all__ = ["AdverseEventBuilder", "ConditionBuilder", "build_resource_builders"]


def build_resource_builders(settings: Settings, store: StateStore | None) -> list[ResourceBuilder]:
    """Condition builder, then the AdverseEvent builder (which keeps dedup state in ``store``)."""
    return [ConditionBuilder(), AdverseEventBuilder(settings, store or MemoryStore())]
