"""Deterministic fake values built from a keyed digest (no RNG state, no globals).

Format-preserving: digits stay digits, letters stay letters (same case), punctuation stays.
Names keep case and rough gender; initials stay initials.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cached_property

FAKE_FACILITIES: tuple[str, ...] = (
    "Riverside", "Lakeview", "Fairmont", "Brookside", "Hillcrest", "Oakwood", "Maplewood",
    "Cedar Grove", "Pinecrest", "Westfield", "Northgate", "Elmhurst", "Stonebridge", "Fairview",
    "Greenfield", "Kingsbury", "Ashford", "Briarwood", "Clearwater", "Meadowbrook",
)  # fmt: skip


def rng_from(digest: bytes) -> random.Random:
    return random.Random(int.from_bytes(digest[:16], "big"))


def match_case(template: str, value: str) -> str:
    letters = [c for c in template if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(letters) > 1:
        return value.upper()
    if letters and all(c.islower() for c in letters):
        return value.lower()
    return value[:1].upper() + value[1:].lower() if value else value


def format_preserving(original: str, digest: bytes, keep_prefix: int = 0) -> str:
    """Replace each digit/letter by a keyed pseudo-random one; keep everything else."""
    rng = rng_from(digest)
    out = []
    for i, ch in enumerate(original):
        if i < keep_prefix:
            out.append(ch)
        elif ch.isdigit():
            out.append(str(rng.randrange(10)))
        elif ch.isalpha() and ch.isascii():
            letter = chr(ord("a") + rng.randrange(26))
            out.append(letter.upper() if ch.isupper() else letter)
        else:
            out.append(ch)
    fake = "".join(out)
    if fake == original:  # astronomically rare, but never return the input
        return format_preserving(original + "x", digest[::-1], keep_prefix)[: len(original)]
    return fake


class NamePool:
    """Fake first/last names (faker en_US lists) with gender for first names."""

    def __init__(self, female: Sequence[str], male: Sequence[str], last: Sequence[str]) -> None:
        self.female = tuple(female)
        self.male = tuple(male)
        self.last = tuple(last)
        self.female_set = frozenset(n.lower() for n in female)

    @classmethod
    def from_faker(cls) -> NamePool:
        from faker.providers.person.en_US import Provider

        return cls(
            sorted(Provider.first_names_female),
            sorted(Provider.first_names_male),
            sorted(Provider.last_names),
        )

    @cached_property
    def all_first(self) -> frozenset[str]:
        return frozenset(n.lower() for n in self.female + self.male)

    def fake_token(self, token: str, digest: bytes, is_first: bool) -> str:
        rng = rng_from(digest)
        core = token.rstrip(".")
        if len(core) == 1 and core.isalpha():  # an initial: "J." -> "K."
            letter = chr(ord("A") + rng.randrange(26))
            if letter == core.upper():
                letter = chr(ord("A") + (ord(letter) - 64) % 26)
            return match_case(core, letter) + token[len(core) :]
        low = core.lower()
        gendered = self.female if low in self.female_set else self.male
        pool = gendered if is_first else self.last
        pick = pool[rng.randrange(len(pool))]
        if pick.lower() == low:
            pick = pool[(pool.index(pick) + 1) % len(pool)]
        return match_case(core, pick) + token[len(core) :]
