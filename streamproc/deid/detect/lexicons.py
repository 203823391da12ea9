"""Word lists for the name and location recognizers, loaded once per deidentifier (no globals).

First/last names come from ``faker``'s person providers of several locales; common words from
``conf/common_words.txt``; places, facilities and name-like ordinary words from
``conf/lexicons.yaml``; one-word drug names from the drug dictionary. Everything is lower-cased
into frozensets for O(1) lookups.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

import yaml

NAME_LOCALES: tuple[str, ...] = (
    "en_US", "en_GB", "en_IE", "en_CA", "en_AU", "es_MX", "es_ES", "it_IT", "de_DE", "fr_FR",
    "pl_PL", "pt_BR", "nl_NL", "el_GR", "ru_RU", "ga_IE", "cs_CZ", "hu_HU", "sv_SE",
)  # fmt: skip


@dataclass(frozen=True)
class Lexicons:
    first_names: frozenset[str]
    last_names: frozenset[str]
    common_words: frozenset[str]
    stop_words: frozenset[str]  # never a name, whatever the context
    places: frozenset[str]  # cities and towns (single or multi-word, lower case)
    facilities: frozenset[str]  # facility names/abbreviations (GH, VAMC…)
    facility_suffixes: tuple[str, ...]
    name_credentials: tuple[str, ...]
    relations: tuple[str, ...]
    not_phi_places: frozenset[str] = frozenset()  # states, countries: not Safe Harbor PHI
    drug_names: frozenset[str] = frozenset()  # one-word medication names: no person, no place

    @cached_property
    def names(self) -> frozenset[str]:
        return self.first_names | self.last_names

    def near_common(self, word: str) -> bool:
        """One typo away from an ordinary word ("visted", "famliy"): a misspelling, not a name.

        Words under five letters are left alone: short names sit one edit from many words.
        """
        w = word.lower()
        if len(w) < 5:
            return False
        letters = "abcdefghijklmnopqrstuvwxyz"
        splits = [(w[:i], w[i:]) for i in range(len(w) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
        edits |= {a + c + b for a, b in splits for c in letters}
        return not edits.isdisjoint(self.common_words)


def _ascii_names(values: Any) -> set[str]:
    out: set[str] = set()
    for v in values:
        v = str(v).strip().lower()
        if v.isascii() and v.replace("-", "").replace("'", "").isalpha() and len(v) > 1:
            out.add(v)
    return out


def _faker_names() -> tuple[set[str], set[str]]:
    first: set[str] = set()
    last: set[str] = set()
    for loc in NAME_LOCALES:
        try:
            mod = importlib.import_module(f"faker.providers.person.{loc}")
        except ImportError:
            continue
        prov = mod.Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            first |= _ascii_names(getattr(prov, attr, ()))
        last |= _ascii_names(getattr(prov, "last_names", ()))
    return first, last


def _occupation_words() -> set[str]:
    """The head nouns of faker's job titles ("accountant", "engineer", "surveyor"): an
    occupation is no Safe Harbor identifier ("retired machinist" had become "retired
    glenwood"). Only the last word before a comma or bracket ("Engineer, civil" -> engineer;
    not the "union" of "Trade union research officer", a hospital's name as often). The caller
    drops every word that is also a first or last name ("Mason", "Baker")."""
    try:
        jobs = importlib.import_module("faker.providers.job.en_US").Provider.jobs
    except (ImportError, AttributeError):
        return set()
    heads = set()
    for job in jobs:
        words = re.findall(r"[A-Za-z]+", re.split(r"[,(]", job)[0])
        if words and len(words[-1]) >= 5:
            heads.add(words[-1].lower())
    return heads - {"press"}


def load_lexicons(conf_package: str = "streamproc.deid.conf") -> Lexicons:
    root = resources.files(conf_package)
    # BaseLoader: every entry stays a string ("no", "on", "yes" are words here, not booleans)
    data = yaml.load((root / "lexicons.yaml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    common = {
        line.strip()
        for line in (root / "common_words.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    first, last = _faker_names()
    first |= {w.lower() for w in data.get("extra_first_names", [])}
    last |= {w.lower() for w in data.get("extra_last_names", [])}
    common |= {w.lower() for w in data.get("ordinary_words", [])}
    common |= _occupation_words() - first - last
    stop = {w.lower() for w in data.get("stop_words", [])}
    return Lexicons(
        first_names=frozenset(first - stop),
        last_names=frozenset(last - stop),
        common_words=frozenset(common),
        stop_words=frozenset(stop),
        places=frozenset(w.lower() for w in data.get("places", [])),
        facilities=frozenset(w.lower() for w in data.get("facilities", [])),
        facility_suffixes=tuple(data.get("facility_suffixes", [])),
        name_credentials=tuple(data.get("name_credentials", [])),
        relations=tuple(data.get("relations", [])),
        not_phi_places=frozenset(w.lower() for w in data.get("not_phi_places", [])),
        drug_names=_drug_names(),
    )


def _drug_names() -> frozenset[str]:
    """The one-word names of the drug dictionary the entity stage uses (brands, generics, ICU
    shorthand; four letters or more). The PHI model takes a rare drug for a person or a place
    ("glucagon" as a town); the span filter drops such spans. Loaded once per process: the
    analyzer shares the same cached table (:mod:`streamproc.drugnames`)."""
    from streamproc.drugnames import packaged_table

    try:
        names = packaged_table().names
    except RuntimeError:  # the dictionary package is not installed: no drug names
        return frozenset()
    return frozenset(k for k in names if " " not in k and len(k) >= 4 and k.isalpha())
