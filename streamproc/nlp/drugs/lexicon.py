"""Drug names by dictionary: finds the medications the NER model missed and names each drug.

Why: the NER model was trained on PubMed abstracts and trial criteria; in ICU nursing notes it
misses much of what nurses write ("lasix x2", "levophed gtt", "MSO4 2mg"), and the ADE stage only
alerts on a drug the entity stage found. The names come from the shared drug-name table
(:mod:`streamproc.drugnames`: the `drug-named-entity-recognition` dictionary plus ICU
shorthand). Every drug entity gets a :class:`DrugConcept`: the canonical name and its DrugBank id,
which the AdverseEvent's Medication carries and the alert's identity uses, so "lasix" and
"furosemide" are one suspect drug.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from streamproc.drugnames import SHORTHAND, NameTable, build_table, normalise, packaged_table
from streamproc.nlp.types import DrugConcept, Entity

MAX_WORDS = 6
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class DrugMatch:
    start: int
    end: int
    concept: DrugConcept


class DrugLexicon:
    """``find(text)`` -> drug mentions (longest match, whole words); ``lookup(mention)``."""

    def __init__(
        self,
        names: dict[str, DrugConcept],
        short_forms: frozenset[str] = frozenset(),
        version: str = "drugs-2",
    ) -> None:
        self.names = names
        self.short_forms = short_forms  # shorthand-table keys, matched whatever their length
        self.version = version  # part of the inference-cache key

    @classmethod
    def from_dictionary(
        cls, dictionary: dict[str, Any], shorthand: Path = SHORTHAND
    ) -> DrugLexicon:
        return cls.from_table(build_table(dictionary, shorthand))

    @classmethod
    def from_table(cls, table: NameTable) -> DrugLexicon:
        concepts: dict[tuple[str, str | None], DrugConcept] = {}
        names = {
            key: concepts.setdefault(
                (drug.name, drug.drugbank), DrugConcept(name=drug.name, drugbank=drug.drugbank)
            )
            for key, drug in table.names.items()
        }
        # "+lookup-2": combinations written with a hyphen or slash are named (``lookup``);
        # "-3": not in "warfarin-ciprofloxacin interaction" (two drugs, ``annotate``)
        return cls(names, table.short_forms, f"{table.version}+lookup-3")

    def lookup(self, mention: str) -> DrugConcept | None:
        """The drug a whole mention names, else the one drug named inside it ("IV lasix"), else
        the combination it writes with a hyphen or slash ("piperacillin-tazobactam" is the
        dictionary's "Piperacillin and Tazobactam"; "sofosbuvir/velpatasvir", which it lacks,
        is named "Sofosbuvir / Velpatasvir" without a DrugBank id)."""
        key = normalise(mention)
        if key in self.names:
            return self.names[key]
        matches = self.find(mention)
        found = {m.concept for m in matches}
        if len(found) == 1:
            return found.pop()
        if len(found) < 2 or not _combination(mention, matches):
            return None
        parts = [normalise(mention[m.start : m.end]) for m in matches]
        return self.names.get(" and ".join(parts)) or DrugConcept(
            name=" / ".join(m.concept.name for m in matches), drugbank=None
        )

    def find(self, text: str) -> list[DrugMatch]:
        words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
        out: list[DrugMatch] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
                key = " ".join(w for _, _, w in words[i : i + n])
                concept = self.names.get(key)
                if concept is not None and (key in self.short_forms or _long_enough(key)):
                    out.append(DrugMatch(words[i][0], words[i + n - 1][1], concept))
                    i += n
                    break
            else:
                i += 1
        return out

    def _compound_drug(self, ent: Entity) -> Entity | None:
        """The drug of an entity that is nothing but a drug made into a compound
        ("Diarrhea, mycophenolate-associated" read as a problem, "ambrisentan-related" as a
        drug): the compound is the cue, the drug alone the entity."""
        if ent.label not in ("problem", "drug", "treatment"):
            return None
        head = _COMPOUND_ONLY.search(ent.text)
        if head is None or head.end() != len(ent.text):
            return None
        name = ent.text[: head.start()]
        concept = self.lookup(name)
        if concept is None:
            return None
        return Entity(
            label="drug",
            start=ent.start,
            end=ent.start + len(name),
            text=name,
            score=ent.score,
            concept=concept,
        )

    def _before_dash(self, ent: Entity) -> Entity | None:
        """The drug of a drug or treatment span read across a list item's spaced dash
        ("mycophenolate mofetil - switch" of "Diarrhea due to mycophenolate mofetil - switch
        to …"): the words before the dash, where the dictionary names them."""
        dash = _SPACED_DASH.search(ent.text) if ent.label in ("drug", "treatment") else None
        if dash is None:
            return None
        name = ent.text[: dash.start()]
        concept = self.lookup(name)
        if concept is None:
            return None
        return ent.model_copy(
            update={"end": ent.start + len(name), "text": name, "concept": concept}
        )

    def _interacting(self, text: str, ent: Entity) -> list[Entity]:
        """The drugs of a "warfarin-ciprofloxacin interaction": two drugs, not the combination
        product a hyphen otherwise writes ("piperacillin-tazobactam"); else the entity alone."""
        if ent.label not in ("drug", "treatment") or not INTERACTION_AFTER.match(text, ent.end):
            return [ent]
        matches = self.find(ent.text)
        if len({m.concept for m in matches}) < 2 or not _combination(ent.text, matches):
            return [ent]
        return [
            Entity(
                label="drug",
                start=ent.start + m.start,
                end=ent.start + m.end,
                text=ent.text[m.start : m.end],
                score=ent.score,
                concept=m.concept,
            )
            for m in matches
        ]

    def annotate(self, text: str, entities: Sequence[Entity]) -> list[Entity]:
        """Names the drug of every drug/treatment entity, and adds a drug entity for each
        dictionary match no entity overlaps (a test such as "vanco trough" or a problem such as
        "digoxin toxicity" keeps its span and label)."""
        out: list[Entity] = []
        entities = [self._compound_drug(ent) or self._before_dash(ent) or ent for ent in entities]
        entities = [part for ent in entities for part in self._interacting(text, ent)]
        for ent in entities:
            concept = self.lookup(ent.text) if ent.label in ("drug", "treatment") else None
            if ent.label == "problem" and (
                _CAUSE_SLOT.search(text, max(0, ent.start - 30), ent.start)
                # "hypercalcemia from milk-alkali syndrome (calcium carbonate)": the cause's gloss
                or (
                    _CAUSE_GLOSS_SLOT.search(text, max(0, ent.start - 60), ent.start)
                    and _GLOSS_END.match(text, ent.end)
                )
            ):
                # "Neuroleptic malignant syndrome due to haloperidol", "DRESS syndrome (…) due
                # to vancomycin": the tagger read the cause as a problem (vancomycin became
                # "resistance to vancomycin", Z16.21) and no alert named the drug
                whole = self.find(ent.text)
                concept = whole[0].concept if len(whole) == 1 else None
                if concept is not None and (whole[0].start, whole[0].end) == (0, len(ent.text)):
                    ent = ent.model_copy(update={"label": "drug"})
                else:
                    concept = None  # "secondary to serotonin syndrome": a problem after all
            out.append(ent.model_copy(update={"concept": concept}) if concept else ent)
        for m in self.find(text):
            if not any(e.start < m.end and m.start < e.end for e in entities):
                # "nab-paclitaxel", "peg-asparaginase": a formulation prefix is part of the name
                prefix = _FORM_PREFIX.search(text, max(0, m.start - 8), m.start)
                start = prefix.start() if prefix and not self.find(prefix.group(1)) else m.start
                out.append(
                    Entity(
                        label="drug",
                        start=start,
                        end=m.end,
                        text=text[start : m.end],
                        concept=m.concept,
                    )
                )
        return sorted(out, key=lambda e: (e.start, e.end))


_SPACED_DASH = re.compile(r"[ \t]+[-\u2013][ \t]+")
# the slot of a cause right before a mention
_CAUSE_SLOT = re.compile(
    r"\b(?:due[ \t]+to|secondary[ \t]+to|caused[ \t]+by|induced[ \t]+by|attributed[ \t]+to"
    r"|attributable[ \t]+to)[ \t]+(?:the[ \t]+)?\Z",
    re.I,
)
_CAUSE_GLOSS_SLOT = re.compile(
    r"\b(?:from|due[ \t]+to|secondary[ \t]+to)[ \t]+[\w -]{3,40}?[ \t]*\([ \t]*\Z", re.I
)
_GLOSS_END = re.compile(r"[ \t]*\)")
_COMPOUND_ONLY = re.compile(r"-(?:induced|associated|related)", re.I)
INTERACTION_AFTER = re.compile(r"[ \t]+(?:drug[ \t-]+drug[ \t]+)?interactions?\b", re.I)


_FORM_PREFIX = re.compile(r"(?<![\w-])([A-Za-z]{2,5})-\Z")
# written "X and Y" is two drugs (a list), even where the dictionary names a combination so
_JOINER = re.compile(r"[ \t]*[-/+][ \t]*")


def _combination(mention: str, matches: Sequence[DrugMatch]) -> bool:
    """Whether the drugs found cover the mention, joined by "-", "/" or "+" alone."""
    if mention[: matches[0].start].strip() or mention[matches[-1].end :].strip():
        return False
    return all(
        _JOINER.fullmatch(mention, a.end, b.start)
        for a, b in zip(matches, matches[1:], strict=False)
    )


def _long_enough(key: str) -> bool:
    """A dictionary name needs a word of three letters or more: shorter ones and codes are mostly
    something else in notes ("ace", "sat", "pt 9", "po 12", the "2-3" of "q 2-3 hrs"); short
    forms that are drugs ("5-FU", "KCL") come from the shorthand table."""
    return any(len(w) >= 3 and w.isalpha() for w in key.split()) and (len(key) >= 4 or " " in key)


@lru_cache(maxsize=1)
def packaged_lexicon() -> DrugLexicon:
    """The lexicon over the shared table (one load per process, with the de-id stage's)."""
    return DrugLexicon.from_table(packaged_table())
