"""The drug-name dictionary shared by the de-identification and NLP stages.

Why a room of its own: the NLP stage finds and names drugs with it (``streamproc.nlp.drugs``),
and the de-identification stage, which runs first, must not take a rare drug for a person or a
place ("glucagon" as a town). Both read this one table, loaded once per process, and neither
stage imports the other.

The dictionary is the one the `drug-named-entity-recognition` package ships (DrugBank, MeSH,
MedlinePlus and NHS names, brands and synonyms; MIT), kept to entries that name a medicinal
substance (a DrugBank, MedlinePlus or NHS entry, not a MeSH class such as "analgesics", nor a
microorganism DrugBank lists for its allergenic extract), plus
:file:`shorthand.tsv` (ICU short forms it lacks, entries that name no drug mention). Each name
maps to its canonical name and DrugBank id, so "lasix" and "furosemide" are one drug. (The
dictionary's MeSH ids are not used: they name the drug's pharmacological action, e.g.
furosemide -> a symporter-inhibitor heading, not the substance.)
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.util
import logging
import pickle
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SHORTHAND = Path(__file__).with_name("shorthand.tsv")
DICTIONARY_PACKAGE = "drug_named_entity_recognition"
DICTIONARY_FILE = "drug_ner_dictionary.pkl.bz2"
_WORD = re.compile(r"[A-Za-z0-9]+")


def normalise(text: str) -> str:
    """Lower-case words joined by one space: "Piperacillin/Tazobactam" -> "piperacillin tazobactam"."""
    return " ".join(_WORD.findall(text.lower()))


@dataclass(frozen=True)
class DrugName:
    """What a name in the table stands for: the canonical name and its DrugBank id."""

    name: str
    drugbank: str | None


@dataclass(frozen=True)
class NameTable:
    names: dict[str, DrugName]  # normalised name -> the drug it names
    short_forms: frozenset[str]  # shorthand-table keys (matched whatever their length)
    version: str  # part of the inference-cache key


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


# DrugBank lists allergenic extracts under the organism's name ("Pseudomonas aeruginosa",
# "Candida albicans", "Trichophyton rubrum"): in a note such a name is an infection's cause
# ("pneumonia due to Pseudomonas aeruginosa"), never a suspect drug.
_MICROBE_GENERA = re.compile(
    r"(?:pseudomonas|candida|aspergillus|trichophyton|epidermophyton|microsporum|staphylococcus"
    r"|streptococcus|enterococcus|escherichia|klebsiella|enterobacter|acinetobacter|proteus"
    r"|serratia|haemophilus|neisseria|moraxella|bordetella|salmonella|shigella|helicobacter"
    r"|clostridium|clostridioides|mycobacterium|mycoplasma|chlamydia|legionella|listeria"
    r"|bacteroides|penicillium|alternaria|cladosporium|mucor|rhizopus|fusarium|cryptococcus"
    r"|histoplasma|malassezia|curvularia|helminthosporium|botrytis|epicoccum|aureobasidium"
    r"|stemphylium|trichoderma|phoma|chaetomium|puccinia)\s",
    re.I,
)


def _medicinal(data: dict[str, Any]) -> bool:
    if _MICROBE_GENERA.match(str(data.get("name") or "")):
        return False
    return bool(data.get("drugbank_id") or data.get("medline_plus_id") or data.get("nhs_url"))


def build_table(dictionary: dict[str, Any], shorthand: Path = SHORTHAND) -> NameTable:
    aliases, excluded = read_shorthand(shorthand)
    canon = dictionary["drug_canonical_to_data"]
    names: dict[str, DrugName] = {}
    for variant, canonicals in dictionary["drug_variant_to_canonical"].items():
        key = normalise(variant)
        if not key or key in excluded or key in names:
            continue
        for c in canonicals:
            data = canon.get(c) or {}
            if _medicinal(data):
                names[key] = DrugName(
                    name=str(data.get("name") or c).strip(" ,;"),
                    drugbank=data.get("drugbank_id") or None,
                )
                break
    for short, target in aliases.items():
        if target not in names:
            raise ValueError(f"{shorthand.name}: alias {short!r} -> {target!r} names no drug")
        names[short] = names[target]
    digest = hashlib.sha256(shorthand.read_bytes()).hexdigest()[:8]
    # drugs-2: microorganisms' allergenic extracts are no drug names
    return NameTable(names, frozenset(aliases), f"drugs-2+{digest}")


@lru_cache(maxsize=1)
def packaged_table() -> NameTable:
    """The installed dictionary's table (about 0.8 s, once per process); RuntimeError when the
    dictionary package is not installed."""
    table = build_table(read_dictionary())
    log.info("drug names loaded", extra={"names": len(table.names)})
    return table
