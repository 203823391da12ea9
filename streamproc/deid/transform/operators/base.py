"""The operator contract and the per-note context it receives."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from streamproc.deid.transform.codebook import Codebook
from streamproc.deid.transform.fakes import NamePool
from streamproc.deid.types import PhiSpan


@dataclass(frozen=True)
class OperatorContext:
    """What an operator may use for one note: the codebook, the patient scope, the pools."""

    codebook: Codebook
    patient_key: str  # HMAC of the patient id (scope of name consistency and date shift)
    names: NamePool
    first_names: frozenset[str]  # lexicon, to tell first from last names
    written_on: date | None = None  # the note's date: the year of a date written without one

    @property
    def date_offset(self) -> int:
        return self.codebook.date_offset(self.patient_key)


class Operator(ABC):
    name: ClassVar[str]

    @abstractmethod
    def operate(self, original: str, span: PhiSpan, ctx: OperatorContext) -> str:
        """Replacement text for ``original`` (the PHI text of ``span``)."""
