"""Result types of the NLP stage: the contract between ``nlp`` and ``fhir``.

All offsets are character offsets into the de-identified note text (end exclusive).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EntityLabel = Literal["problem", "test", "treatment", "drug"]
Assertion = Literal["present", "absent", "possible", "hypothetical", "conditional", "family"]
# what the note says of a problem's course (``nlp.assertion.course``); None: nothing said
Course = Literal["resolved", "remission"]


class CodeCandidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(description="ICD-10-CM code with dot, e.g. I50.9")
    display: str
    score: float
    billable: bool = True


class DrugConcept(BaseModel):
    """The medication a drug mention names (``streamproc.nlp.drugs``): canonical name, DrugBank id."""

    model_config = ConfigDict(frozen=True)

    name: str
    drugbank: str | None = None


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: EntityLabel
    start: int
    end: int
    text: str
    score: float = 1.0
    assertion: Assertion = "present"
    assertion_cue: str | None = None
    codes: tuple[CodeCandidate, ...] = ()  # ranked, best first; problems only
    historical: bool = False  # the patient's history (problem list), not this encounter's finding
    course: Course | None = None  # "pneumonia, resolved"; "AML in remission" (problems only)
    concept: DrugConcept | None = None  # drugs and treatments the drug dictionary names


class AdeRelation(BaseModel):
    """A drug -> adverse effect finding in one sentence."""

    model_config = ConfigDict(frozen=True)

    drug: Entity
    effect: Entity
    score: float
    actuality: Literal["actual", "potential"] = "actual"
    sentence_start: int
    sentence_end: int
    seriousness: Literal["serious", "non-serious"] | None = None
    severity: Literal["high", "moderate", "low"] = "moderate"


class NoteAnalysis(BaseModel):
    """Everything the models found in one note, with the versions that found it."""

    model_config = ConfigDict(frozen=True)

    entities: tuple[Entity, ...] = ()
    relations: tuple[AdeRelation, ...] = ()
    model_versions: dict[str, str] = Field(default_factory=dict)  # task -> version string
    elapsed_ms: float = 0.0
