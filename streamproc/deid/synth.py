"""Synthetic clinical notes with injected surrogate PHI of every type (seeded, faker-based).

Used to widen the PHI model's coverage past the nursing-note corpus (emails, SSNs, addresses,
ISO and written-out dates…) and by tests. Every value comes from ``faker`` with a fixed seed, so the
same seed gives the same notes. Filler lines (PHI-free clinical sentences) can be passed in, e.g.
non-PHI lines of the training split, to keep the text clinical.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from faker import Faker

from streamproc.train.examples import Example, Span

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip
_RELATIONS = ["wife", "husband", "son", "daughter", "mother", "father", "sister", "brother",
              "niece", "nephew", "friend", "HCP", "proxy", "grandson", "granddaughter"]  # fmt: skip
_TITLES = ["Dr.", "Dr", "DR.", "dr", "Mr.", "Mrs.", "Ms.", "NP", "Doctor"]
_CREDS = ["RN", "RRT", "NP", "MD", "PA-C", "LICSW", "SN", "RN, BSN"]
_FACILITY_SUFFIX = ["Hospital", "Hosp.", "Medical Center", "Rehab", "Nursing Home", "Clinic",
                    "Health Center", "VAMC"]  # fmt: skip
_FILLER = [
    "Pt resting comfortably, no acute distress.",
    "Lungs with crackles at bases, sats 96% on 2L NC.",
    "HR 80s SR, BP stable on current drips.",
    "Foley draining clear yellow urine, UOP adequate.",
    "Tolerating tube feeds at goal, +BS, no stool this shift.",
    "Will continue to monitor and update team as needed.",
    "Skin intact, turned q2h.",
    "Afebrile, WBC trending down, cont abx per ID.",
]


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class SyntheticNotes:
    """Generates ``Example``s whose spans carry canonical PHI types (NAME, DATE, …)."""

    def __init__(self, seed: int = 13, filler: Sequence[str] = ()) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker(["en_US", "en_GB", "es_MX", "it_IT", "de_DE", "pl_PL"])
        self.fake.seed_instance(seed)
        self.us = self.fake["en_US"]
        self.filler = list(filler) or _FILLER

    # ---- PHI values --------------------------------------------------------------------
    def _person(self) -> tuple[str, str]:
        loc = self.fake[self.rng.choice(self.fake.locales)]
        return loc.first_name(), loc.last_name()

    def date_text(self) -> str:
        d = date(2000, 1, 1) + timedelta(days=self.rng.randrange(0, 9000))
        yy = d.year % 100
        mon = _MONTHS[d.month - 1]
        fmts: list[Callable[[], str]] = [
            lambda: f"{d.month}/{d.day}",
            lambda: f"{d.month}/{d.day}/{yy:02d}",
            lambda: f"{d.month}/{d.day}/{d.year}",
            lambda: f"{d.month:02d}/{d.day:02d}/{d.year}",
            lambda: f"{d.month}-{d.day}-{yy:02d}",
            lambda: d.isoformat(),
            lambda: f"{mon[:3]} {d.day} {d.year}",
            lambda: f"{mon[:3]}. {d.day}",
            lambda: f"{mon} {d.day}, {d.year}",
            lambda: f"{mon} {_ordinal(d.day)}",
            lambda: f"{d.day}-{mon[:3]}-{yy:02d}",
            lambda: f"{d.day} {mon} {d.year}",
            lambda: f"the {_ordinal(d.day)} of {mon}",
            lambda: f"{mon} {d.year}",
        ]
        return self.rng.choice(fmts)()

    def phone_text(self) -> str:
        n = self.us.numerify
        return self.rng.choice(
            [
                lambda: n("(###) ###-####"),
                lambda: n("###-###-####"),
                lambda: n("###.###.####"),
                lambda: n("###-####"),
                lambda: n("###/###/####"),
                lambda: n("###-###-#### x###"),
            ]
        )()

    def id_text(self) -> tuple[str, str]:
        n = self.us.numerify
        kind = self.rng.choice(["MRN", "MRN:", "MR#", "Acct #", "account", "Unit No", "lic #",
                                "plate", "serial #", "member ID", "Policy #", "DEA #"])  # fmt: skip
        value = self.rng.choice(
            [n("#######"), n("########"), n("###-##-###"), self.us.bothify("??######").upper()]
        )
        return kind, value

    # ---- sentences -------------------------------------------------------------------------
    def _sentence(self) -> list[tuple[str, str | None]]:
        """One sentence as (piece, type-or-None) parts."""
        first, last = self._person()
        r = self.rng
        choice = r.randrange(20)
        if choice == 0:
            return [(r.choice(_TITLES) + " ", None), (last, "NAME"), (" notified of ", None),
                    ("changes.", None)]  # fmt: skip
        if choice == 1:
            return [(f"{first} {last}", "NAME"), (f", {r.choice(_CREDS)}", None)]
        if choice == 2:
            return [(f"Pt's {r.choice(_RELATIONS)} ", None), (first, "NAME"),
                    (" called and was updated.", None)]  # fmt: skip
        if choice == 3:
            return [(f"{first[0]}. {last}", "NAME"), (" aware of plan.", None)]
        if choice == 4:
            return [("Admitted ", None), (self.date_text(), "DATE"), (" from ", None),
                    (self.us.city(), "LOCATION"), (".", None)]  # fmt: skip
        if choice == 5:
            return [("Follow up with ", None), (f"{last}", "LOCATION"),
                    (f" {r.choice(_FACILITY_SUFFIX)} on ", None), (self.date_text(), "DATE"),
                    (".", None)]  # fmt: skip
        if choice == 6:
            return [("Call ", None), (self.phone_text(), "PHONE"), (" with questions.", None)]
        if choice == 7:
            return [("Pager #", None), (self.us.numerify("#####"), "PHONE")]
        if choice == 8:
            kind, value = self.id_text()
            return [(f"{kind} ", None), (value, "ID")]
        if choice == 9:
            return [("Lives at ", None), (self.us.street_address(), "ADDRESS"), (", ", None),
                    (self.us.city(), "LOCATION"), (f", {self.us.state_abbr()} ", None),
                    (self.us.zipcode(), "ZIP")]  # fmt: skip
        if choice == 10:
            return [("SSN ", None), (self.us.ssn(), "SSN")]
        if choice == 11:
            return [("Email ", None), (self.us.email(), "EMAIL"), (" for records.", None)]
        if choice == 12:
            return [("Portal ", None), (self.us.url(), "URL"), (" from ", None),
                    (self.us.ipv4_public(), "IP")]  # fmt: skip
        if choice == 13:
            return [(str(r.randrange(90, 106)), "AGE"), (r.choice([" yo", " y/o", " year old",
                    " YO"]) + " " + r.choice(["woman", "man", "female", "male"]), None)]  # fmt: skip
        if choice == 14:
            return [("Transferred from ", None), (f"St. {first}'s", "LOCATION"),
                    (" on ", None), (self.date_text(), "DATE"), (".", None)]  # fmt: skip
        if choice == 15:
            return [(f"{r.choice(['Mr.', 'Mrs.', 'Ms.'])} ", None), (last, "NAME"),
                    (" seen by ", None), (f"Dr. {first} {last}", None)][:2] + [
                    (" seen by Dr. ", None), (last + "-" + self._person()[1], "NAME"), (".", None)]  # fmt: skip
        if choice == 16:
            return [("PMH: MI ", None), (str(r.randrange(1960, 2020)), "DATE"), (", CABG in ", None),
                    (str(r.randrange(1960, 2020)), "DATE"), (".", None)]  # fmt: skip
        if choice == 17:
            return [("Family (", None), (first, "NAME"), (" and ", None), (self._person()[0], "NAME"),
                    (") in to visit.", None)]  # fmt: skip
        if choice == 18:
            return [("Pt from ", None), (self.us.city(), "LOCATION"), (", ", None),
                    (self.us.state(), "LOCATION"), (".", None)]  # fmt: skip
        return [(r.choice(self.filler), None)]

    def note(self, idx: int) -> Example:
        parts: list[tuple[str, str | None]] = []
        for _ in range(self.rng.randrange(4, 10)):
            parts.extend(self._sentence())
            parts.append((self.rng.choice([" ", "\n", " \n \n", "  "]), None))
            if self.rng.random() < 0.5:
                parts.append((self.rng.choice(self.filler) + " ", None))
        case = self.rng.random()
        text, spans = "", []
        for piece, label in parts:
            if case < 0.25:
                piece = piece.upper()
            elif case < 0.35:
                piece = piece.lower()
            if label:
                spans.append(Span(len(text), len(text) + len(piece), label))
            text += piece
        return Example(id=f"synth-{idx}", text=text, spans=tuple(spans), group=f"synth-{idx}",
                       meta={"corpus": "synthetic"})  # fmt: skip

    def notes(self, n: int) -> list[Example]:
        return [self.note(i) for i in range(n)]
