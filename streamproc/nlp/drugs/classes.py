"""Drug classes a note names as a cause, and which of its drugs each means.

Why: "Opioid-induced neurotoxicity (myoclonus, hallucinations) from hydromorphone accumulation"
and "Acute kidney injury, likely calcineurin inhibitor nephrotoxicity" (in a note on tacrolimus)
name the class where the suspect is one drug. A subscriber looks up the drug, not "Opioid"; and
the alert's identity (patient, drug, effect) should be the drug's, so the class and the drug
are one alert. The members are in :file:`classes.tsv` (canonical dictionary names).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from streamproc.drugnames import normalise


def _singular(name: str) -> str:
    """ "calcineurin inhibitors" -> "calcineurin inhibitor", "NSAIDs" -> "nsaid"."""
    head, _, last = name.rpartition(" ")
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return f"{head} {last}" if head else last


@lru_cache(maxsize=1)
def drug_classes() -> dict[str, frozenset[str]]:
    """Class name (normalised, singular) -> its members' canonical names, lower case."""
    raw = resources.files("streamproc.nlp.drugs").joinpath("classes.tsv").read_text("utf-8")
    table: dict[str, frozenset[str]] = {}
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, members = line.split("\t")
        table[normalise(name)] = frozenset(m.strip() for m in members.split(","))
    return table


def class_members(mention: str) -> frozenset[str]:
    """The members of the class ``mention`` names ("Opioid", "calcineurin inhibitors"); empty
    when it names no class of the table."""
    return drug_classes().get(_singular(normalise(mention)), frozenset())


@lru_cache(maxsize=1)
def class_names() -> re.Pattern[str]:
    """The class names of the table as written in notes (any case, a hyphen or space between
    words, a plural): "Steroid", "inhaled corticosteroids", "GLP-1 receptor agonist"."""
    names = sorted(drug_classes(), key=len, reverse=True)  # the longest first
    alternation = "|".join(r"[ \t-]+".join(map(re.escape, n.split())) + "s?" for n in names)
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w])", re.IGNORECASE)
