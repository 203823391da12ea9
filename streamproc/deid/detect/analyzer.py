"""Analyzer: run the recognizers (and the PHI model), then merge their spans into one set.

Merge rules: drop spans under the threshold; overlapping spans resolve to the higher type
priority (then higher score, then longer span), the winner stretching to cover the union so no
part of an identifier is left in clear; same-type spans that touch or are separated only by
spaces/punctuation join into one, and so do a LOCATION and an ADDRESS separated by spaces only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from streamproc.deid.types import ADDRESS, LOCATION, TYPE_PRIORITY, PhiSpan

_JOINABLE_GAP = re.compile(r"[ \t.,'’-]{0,2}")
_PLACE_TYPES = frozenset({LOCATION, ADDRESS})


class SpanSource(Protocol):
    def analyze(self, text: str) -> list[PhiSpan]: ...


class Refiner(Protocol):
    """A note-level step on merged spans (e.g. name propagation); returns the new span list."""

    def refine(self, text: str, spans: Sequence[PhiSpan]) -> list[PhiSpan]: ...


class Analyzer:
    def __init__(
        self,
        sources: Sequence[SpanSource],
        threshold: float = 0.5,
        refiners: Sequence[Refiner] = (),
    ) -> None:
        self.sources = list(sources)
        self.threshold = threshold
        self.refiners = list(refiners)

    def collect(self, text: str) -> list[PhiSpan]:
        """Every source's spans at or above the threshold, unmerged."""
        raw: list[PhiSpan] = []
        for source in self.sources:
            raw.extend(s for s in source.analyze(text) if s.score >= self.threshold)
        return raw

    def resolve(self, text: str, raw: Sequence[PhiSpan]) -> list[PhiSpan]:
        """Merge raw spans (of any sources), apply the note-level refiners, merge again."""
        spans = merge_spans(text, raw)
        if not self.refiners:
            return spans
        for refiner in self.refiners:
            spans = refiner.refine(text, spans)
        return merge_spans(text, spans)

    def analyze(self, text: str) -> list[PhiSpan]:
        return self.resolve(text, self.collect(text))


def _rank(span: PhiSpan) -> tuple[int, float, int]:
    return (TYPE_PRIORITY.get(span.entity_type, 0), span.score, span.length)


def merge_spans(text: str, spans: Sequence[PhiSpan]) -> list[PhiSpan]:
    """Resolve overlaps by priority, then join adjacent same-type spans."""
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    clusters: list[list[PhiSpan]] = []
    cluster_end = -1
    for span in ordered:
        if clusters and span.start < cluster_end:
            clusters[-1].append(span)
            cluster_end = max(cluster_end, span.end)
        else:
            clusters.append([span])
            cluster_end = span.end
    resolved: list[PhiSpan] = []
    for cluster in clusters:
        best = max(cluster, key=_rank)
        start = min(s.start for s in cluster)
        end = max(s.end for s in cluster)
        resolved.append(PhiSpan(start, end, best.entity_type, best.score, best.source))
    joined: list[PhiSpan] = []
    for span in resolved:
        if joined:
            last = joined[-1]
            gap = text[last.end : span.start]
            same = last.entity_type == span.entity_type and _JOINABLE_GAP.fullmatch(gap)
            one_place = {last.entity_type, span.entity_type} <= _PLACE_TYPES and gap.isspace()
            if same or one_place:
                # "quarry[LOCATION] hollow[ADDRESS]": one phrase gets one surrogate
                top = max(last, span, key=_rank)
                joined[-1] = PhiSpan(
                    last.start, span.end, top.entity_type, max(last.score, span.score), top.source
                )
                continue
        joined.append(span)
    return joined
