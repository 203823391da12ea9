"""Drug names by dictionary: finds the medications the NER model missed and names each drug.

Why: the NER model was trained on PubMed abstracts and trial criteria; in ICU nursing notes it
misses much of what nurses write ("lasix x2", "levophed gtt", "MSO4 2mg"), and the ADE stage only
alerts on a drug the entity stage found. The dictionary is the one the `drug-named-entity-recognition`
package ships (DrugBank, MeSH, MedlinePlus and NHS names, brands and synonyms; MIT), kept to
entries that name a medicinal substance (a DrugBank, MedlinePlus or NHS entry, not a MeSH class
such as "analgesics"), plus :file:`shorthand.tsv` (ICU short forms it lacks, entries that name no
drug mention). Every drug entity gets a :class:`DrugConcept`: the canonical name and its DrugBank id,
which the AdverseEvent's Medication carries and the alert's identity uses, so "lasix" and
"furosemide" are one suspect drug. (The dictionary's MeSH ids are not used: they name the drug's
pharmacological action, e.g. furosemide -> a symporter-inhibitor heading, not the substance.)
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.util
import logging
import pickle
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from streamproc.nlp.types import DrugConcept, Entity

log = logging.getLogger(__name__)

SHORTHAND = Path(__file__).with_name("shorthand.tsv")
DICTIONARY_PACKAGE = "drug_named_entity_recognition"
DICTIONARY_FILE = "drug_ner_dictionary.pkl.bz2"
MAX_WORDS = 6
_WORD = re.compile(r"[A-Za-z0-9]+")


def normalise(text: str) -> str:
    """Lower-case words joined by one space: "Piperacillin/Tazobactam" -> "piperacillin tazobactam"."""
    return " ".join(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class DrugMatch:
    start: int
    end: int
    concept: DrugConcept


def _medicinal(data: dict[str, Any]) -> bool:
    return bool(data.get("drugbank_id") or data.get("medline_plus_id") or data.get("nhs_url"))


def _concept(name: str, data: dict[str, Any]) -> DrugConcept:
    return DrugConcept(
        name=str(data.get("name") or name).strip(" ,;"),
        drugbank=data.get("drugbank_id") or None,
    )


def read_dictionary(path: Path | None = None) -> dict[str, Any]:
    """The package's dictionary file, read directly: importing the package also builds a fuzzy
    n-gram index and imports HTTP clients the product does not use (2 s, hundreds of MB)."""
    if path is None:
        spec = importlib.util.find_spec(DICTIONARY_PACKAGE)
        if spec is None or spec.origin is None:
            raise RuntimeError("drug-named-entity-recognition is not installed")
        path = Path(spec.origin).with_name(DICTIONARY_FILE)
    with bz2.open(path, "rb") as fh:
        data: dict[str, Any] = pickle.load(fh)  # noqa: S301 - the installed package's own file
    return data


def read_shorthand(path: Path = SHORTHAND) -> tuple[dict[str, str], set[str]]:
    aliases: dict[str, str] = {}
    excluded: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, term, *rest = line.split("\t")
        if kind == "alias":
            aliases[normalise(term)] = normalise(rest[0])
        elif kind == "exclude":
            excluded.add(normalise(term))
        else:
            raise ValueError(f"{path.name}: unknown kind {kind!r}")
    return aliases, excluded


class DrugLexicon:
    """``find(text)`` -> drug mentions (longest match, whole words); ``lookup(mention)``."""

    def __init__(
        self,
        names: dict[str, DrugConcept],
        short_forms: frozenset[str] = frozenset(),
        version: str = "drugs-1",
    ) -> None:
        self.names = names
        self.short_forms = short_forms  # shorthand-table keys, matched whatever their length
        self.version = version  # part of the inference-cache key

    @classmethod
    def from_dictionary(
        cls, dictionary: dict[str, Any], shorthand: Path = SHORTHAND
    ) -> DrugLexicon:
        aliases, excluded = read_shorthand(shorthand)
        canon = dictionary["drug_canonical_to_data"]
        names: dict[str, DrugConcept] = {}
        for variant, canonicals in dictionary["drug_variant_to_canonical"].items():
            key = normalise(variant)
            if not key or key in excluded or key in names:
                continue
            for c in canonicals:
                data = canon.get(c) or {}
                if _medicinal(data):
                    names[key] = _concept(c, data)
                    break
        for short, target in aliases.items():
            if target not in names:
                raise ValueError(f"{shorthand.name}: alias {short!r} -> {target!r} names no drug")
            names[short] = names[target]
        digest = hashlib.sha256(shorthand.read_bytes()).hexdigest()[:8]
        return cls(names, frozenset(aliases), f"drugs-1+{digest}")

    def lookup(self, mention: str) -> DrugConcept | None:
        """The drug a whole mention names, else the one drug named inside it ("IV lasix")."""
        key = normalise(mention)
        if key in self.names:
            return self.names[key]
        found = {m.concept for m in self.find(mention)}
        return found.pop() if len(found) == 1 else None

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

    def annotate(self, text: str, entities: Sequence[Entity]) -> list[Entity]:
        """Names the drug of every drug/treatment entity, and adds a drug entity for each
        dictionary match no entity overlaps (a test such as "vanco trough" or a problem such as
        "digoxin toxicity" keeps its span and label)."""
        out: list[Entity] = []
        for ent in entities:
            concept = self.lookup(ent.text) if ent.label in ("drug", "treatment") else None
            out.append(ent.model_copy(update={"concept": concept}) if concept else ent)
        for m in self.find(text):
            if not any(e.start < m.end and m.start < e.end for e in entities):
                out.append(
                    Entity(
                        label="drug",
                        start=m.start,
                        end=m.end,
                        text=text[m.start : m.end],
                        concept=m.concept,
                    )
                )
        return sorted(out, key=lambda e: (e.start, e.end))


def _long_enough(key: str) -> bool:
    """A dictionary name needs a word of three letters or more: shorter ones and codes are mostly
    something else in notes ("ace", "sat", "pt 9", "po 12", the "2-3" of "q 2-3 hrs"); short
    forms that are drugs ("5-FU", "KCL") come from the shorthand table."""
    return any(len(w) >= 3 and w.isalpha() for w in key.split()) and (len(key) >= 4 or " " in key)


@lru_cache(maxsize=1)
def packaged_lexicon() -> DrugLexicon:
    lexicon = DrugLexicon.from_dictionary(read_dictionary())
    log.info("drug lexicon loaded", extra={"names": len(lexicon.names)})
    return lexicon
