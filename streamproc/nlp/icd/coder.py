"""ICD-10-CM coding of problem mentions: normalise -> expand abbreviations -> lexical candidates
-> aggregate per code -> descend to a billable code -> top-k with scores.

Billable preference: when the best match is a category ("I50 Heart failure"), the mention has
told us nothing more specific, so we descend to the child a coder would pick for an unspecific
mention: the best-scoring billable descendant, ties broken towards "unspecified" / ".9".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from streamproc.nlp.icd import burns
from streamproc.nlp.icd.cancer import site_code, tumor_site_code
from streamproc.nlp.icd.index import IcdIndex, american, load_index, query_tokens
from streamproc.nlp.icd.perinatal import preterm_code
from streamproc.nlp.types import CodeCandidate

# bump when query-side logic changes (part of the cache key); 3: organ + cancer word -> the
# site's code; external causes never, perinatal codes only with a perinatal cue; 5: a code row
# wins over "every word is a fragment" ("brain death" with "brain" and "death" both alone none);
# 6: a category named exactly descends to its "unspecified" child, "unspecified site" wins ties,
# a synonym row never hides the mention's own wording; function words do not make a body part
# codable ("in sacrum"), a trailing slash is no part of a mention ("HR/"); 7: a body site of the
# neoplasm codes alone ("uvula", "tongue", "pancreas") names no condition
CODER_VERSION = "coder-18"
# peptic ulcers (gastric, duodenal, peptic, gastrojejunal) without hemorrhage or perforation, and
# the fourth character of their "with hemorrhage" twin
_ULCER_WITHOUT = re.compile(r"(K2[5-8])\.([379])")
_WITH_HEMORRHAGE = {"3": "0", "7": "4", "9": "4"}
# what a drug-induced code's description says (``IcdCoder.drug_induced``)
_DRUG_CAUSE = re.compile(r"\b(?:drugs?|medicaments?|induced)\b", re.IGNORECASE)
_CAUSE_COMPOUND = re.compile(r"^.*?-(?:induced|associated|related)\s+", re.IGNORECASE)
_DIABETES_CODES = ("E08", "E09", "E10", "E11", "E13")
# "UTIs", "DVTs", "PEs": a short form in capitals with a plural "s" (one the rows know)
_ABBREVIATION_PLURAL = re.compile(r"\b([A-Z][A-Z0-9]{1,5})s\b")
# "in remission", "in partial remission"; not "not having achieved remission" nor "in relapse"
_IN_REMISSION = re.compile(r"\bin (?:full |partial )?remission\b", re.IGNORECASE)
_UNSPECIFIED = re.compile(
    r"unspecified|without complications|status unknown|\bNOS\b", re.IGNORECASE
)
# ICD-10-CM guideline I.C.4.a.2: diabetes of unstated type is coded as type 2.
_DIABETES = re.compile(r"\bdiabet", re.IGNORECASE)
_DIABETES_TYPED = re.compile(
    r"type\s*(?:1|2|i|ii|one|two)\b|insipidus|gestational|juvenile|secondary|drug|steroid|"
    r"neonatal|pre-?existing|other specified|due to underlying",
    re.IGNORECASE,
)
# The index: "Diabetes, poorly controlled — code to Diabetes, by type, with hyperglycemia" (so
# "out of control", "inadequately controlled", and "uncontrolled" meaning hyperglycemia)
_POORLY_CONTROLLED = re.compile(
    r"[ \t]*,?[ \t]*\b(?:(?:poorly|inadequately|not[ \t]+well)[ \t]+controlled|uncontrolled"
    r"|out[ \t]+of[ \t]+control)\b[ \t]*,?",
    re.IGNORECASE,
)
# Chapter priors: pregnancy (O), perinatal (P), congenital (Q) codes and encounter-for-exam Z
# codes only when the mention says so; otherwise they lose ties against the general code.
_CHAPTER_CUES: dict[str, re.Pattern[str]] = {
    "O": re.compile(
        r"pregnan|gestation|obstetric|labou?r|deliver|postpartum|puerper|lactat|trimester|abortion"
        r"|miscarriage|ectopic|fetal|fetus|maternal|eclampsia|hellp|hyperemesis|placent|amnio"
        r"|hydramnios|chorio|gravid|cesarean|c-section|preterm|breech|antepartum|intrapartum"
        r"|peripartum|perineal|episiotomy|rupture\s+of\s+(?:the\s+)?membranes|abruption"
        r"|intrauterine|cervical\s+insufficiency|incompetent\s+cervix|molar",
        re.I,
    ),
    "P": re.compile(r"newborn|neonat|perinatal|fetal|fetus|infant|birth", re.I),
    "Q": re.compile(r"congenital|hereditary|inherited|familial|syndrome", re.I),
}
_CHAPTER_PENALTY = 0.85
# A perinatal code for a mention with no newborn cue is always wrong in an adult's note ("blood
# loss anemia" -> P61.3 congenital anemia from fetal blood loss), so is a pregnancy code for a
# mention that names no pregnancy (ICU nursing notes: "decrease in hr" as maternal care for the
# fetal heart rate O36.83x0, "prolapsed rectum" as an obstructed labor O64.4), and an external
# cause (V00-Y99, "scratched by cat") is never the condition itself: out, not just behind. (A
# synonym row is taken whatever its chapter.)
_EXCLUDED_WITHOUT_CUE = frozenset({"P", "O"})
_NEVER = frozenset({"V", "W", "X", "Y"})
# Injury codes (chapter S, T00-T14, and "traumatic" conditions such as T79.5 traumatic anuria)
# only when the mention says trauma; otherwise the nontraumatic condition wins a tie
# ("subarachnoid hemorrhage" is I60.9, "anuria" R34).
_INJURY_PENALTY = 0.7
_INJURY_CUE = re.compile(
    r"\b(?:injur|trauma|fractur|wound|lacerat|contusi|sprain|strain(?:s|ed)?\b|burn|falls?\b|"
    r"fell\b|fallen\b|accident|crush|dislocat|abrasion|bites?\b|bitten\b|hit\b|struck\b|assault|"
    r"gunshot|stab(?:bed|bing|s)?\b|mva\b|mvc\b|concuss|fx\b|tears?\b|torn\b|ruptur|avuls|"
    r"amputat|puncture|foreign body|hematoma)",
    re.I,
)
# "Encounter for screening/examination..." codes describe a visit, not a problem.
_ENCOUNTER_CUE = re.compile(r"encounter|screening|exam|visit|vaccin|immuniz|counsel|follow", re.I)
_SIDE = re.compile(r"^(?:left|right|bilateral|bilat|b/l|l|r)\.?\s+")
# "Malignant neoplasm of uvula", "Benign neoplasm of tongue, unspecified": the site alone.
_NEOPLASM_SITE = re.compile(
    r"^(?:malignant|benign) neoplasm of (?:external )?(.+?)(?:, unspecified)?$", re.I
)
# "liver and lung metastases", "bone, brain and adrenal metastases": one-word sites, then the
# finding they share
_COORDINATED_SITES = re.compile(
    r"^(?P<sites>[a-z]+(?:[ \t]*,[ \t]*[a-z]+)*[ \t]*,?[ \t]*(?:and|&|/)[ \t]*[a-z]+)[ \t]+"
    r"(?P<finding>[a-z]+(?:[ \t]+[a-z]+)?)$",
    re.IGNORECASE,
)
_WORD_FOR_WORD = 0.95
# below this a mention codes to nothing a Condition publishes (``fhir`` takes 0.5)
_CAUSED_MIN = 0.5
# a cause of a word or two compounded before the finding: "Stimulant-related", "ACE
# inhibitor-induced" (not "1. Grade 3 immune-related": a list item's number and grade)
_NAMED_CAUSE = re.compile(
    r"^[A-Za-z][\w/]*(?:[ \t]+[A-Za-z][\w/]*)?-(?:induced|associated|related)[ \t]+", re.I
)
# Cellulitis is coded by limb, not by the part of it a note names (the index: "Cellulitis, foot -
# see Cellulitis, lower limb"): "cellulitis of the right foot" had read as L03.011, the right
# *finger*. Fingers and toes keep codes of their own.
_CELLULITIS = re.compile(r"\bcellulitis\b", re.IGNORECASE)
_LIMB_PART = re.compile(
    r"\b(?:(?P<lower>foot|feet|lower\s+legs?|legs?|ankles?|thighs?|knees?|calf|calves|shins?"
    r"|heels?|lower\s+extremit(?:y|ies)|le)|(?P<upper>hands?|forearms?|upper\s+arms?|arms?"
    r"|wrists?|elbows?|upper\s+extremit(?:y|ies)|ue)|(?P<short>[rl][lu]e))\b",
    re.IGNORECASE,
)


# "Prematurity, 35 weeks", "preterm infant born at 32 weeks": the gestational age picks P07.3x
_PRETERM_WEEKS = re.compile(
    r"^(?:prematurity|preterm(?:[ \t]+(?:birth|infant|newborn|baby))?|premature[ \t]+(?:birth|infant))"
    r"[ \t]*,?[ \t]*(?:born[ \t]+)?(?:at[ \t]+)?(\d{2})[ \t]*(?:weeks|wks?)"
    r"(?:[ \t]+(?:gestation|gestational[ \t]+age|ga))?$",
    re.IGNORECASE,
)


_ONE_SIDE = re.compile(r"\b(?:right|left)\b", re.IGNORECASE)
_BOTH_SIDES = re.compile(r"\b(?:bilateral|bilat|both|b/l)\b[ \t]*", re.IGNORECASE)


def _limb(part: re.Match[str]) -> str:
    """The limb a part of it belongs to ("foot" -> "lower limb", "RLE" -> "right lower limb")."""
    short = (part.group("short") or "").lower()
    if short:
        side = "right" if short[0] == "r" else "left"
        return f"{side} {'lower' if short[1] == 'l' else 'upper'} limb"
    return "lower limb" if part.group("lower") else "upper limb"


def _preterm_weeks(mention: str) -> str | None:
    found = _PRETERM_WEEKS.match(mention)
    return preterm_code(int(found.group(1))) if found else None


def _best_score(codes: tuple[CodeCandidate, ...]) -> float:
    return codes[0].score if codes else 0.0


_HISTORY_PREFIX = re.compile(r"^(?:history of|h/o|hx of|past history of)\s+", re.IGNORECASE)
# "pt anxious", "patient remains hypotensive": the subject is not part of the finding. Used for
# the direct rows only: "patient education" stripped would match "sex counseling" lexically.
_PATIENT_PREFIX = re.compile(r"^(?:pt\.?|patient)(?:\s+(?:is|was|remains|became))?\s+", re.I)


@dataclass(frozen=True)
class SynonymTable:
    abbreviations: tuple[tuple[re.Pattern[str], str], ...]
    direct: dict[str, str]
    version: str
    uncodable: frozenset[str] = frozenset()  # mentions that alone name no condition
    # Short forms that are also ICU shorthand ("MS:" mental status, "on RA" room air, "CA"
    # calcium, "PAD 22" pulmonary artery diastolic): a problem only in a history list.
    ambiguous: frozenset[str] = frozenset()
    short_forms: frozenset[str] = frozenset()  # one-word abbr / code rows ("uti", "oud")
    # A newborn's reading of a mention ("sepsis" is P36.9 in a NICU note): ``newborn`` rows,
    # used only where the note is a newborn's record (``IcdCoder.for_newborn``).
    newborn: dict[str, str] = field(default_factory=dict)

    def is_ambiguous(self, mention: str) -> bool:
        return _normal(mention) in self.ambiguous

    def is_direct(self, mention: str) -> bool:
        """Whether a ``code`` row names this whole mention ("old mi" -> I25.2)."""
        return _normal(mention) in self.direct

    def expansion(self, mention: str) -> str | None:
        """What an ``abbr`` row spells the whole mention out as ("MS" -> "multiple sclerosis");
        None where no row names it whole."""
        normal = _normal(mention)
        return next((value for p, value in self.abbreviations if p.fullmatch(normal)), None)


_FUNCTION_WORDS = frozenset({"in", "on", "of", "at", "to", "the", "a", "an", "and", "with", "from"})


def _words(mention: str) -> frozenset[str]:
    """The mention's words, function words left out ("in sacrum" is the body part alone)."""
    return frozenset(re.findall(r"[a-z0-9/']+", mention)) - _FUNCTION_WORDS


def _normal(text: str) -> str:
    """Lower case, American spelling, no SNOMED semantic tag: the key of rows and the cache."""
    text = re.sub(
        r"\((?:disorder|finding|situation|procedure|morphologic abnormality|event)\)",
        " ",
        american(text.lower()),
    )
    return re.sub(r"\s+", " ", text).strip(" .,;:/")


def load_synonyms(raw: str | None = None) -> SynonymTable:
    """Parse ``synonyms.tsv`` (packaged by default)."""
    if raw is None:
        raw = resources.files("streamproc.nlp.icd").joinpath("synonyms.tsv").read_text("utf-8")
    abbreviations: list[tuple[str, str]] = []
    direct: dict[str, str] = {}
    uncodable: set[str] = set()
    ambiguous: set[str] = set()
    newborn: dict[str, str] = {}
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, term, value = line.split("\t")[:3]
        if kind == "abbr":
            abbreviations.append((term.lower(), value))
        elif kind == "code":
            direct[_normal(term)] = value.strip()
        elif kind == "none":
            uncodable.add(_normal(term))
        elif kind == "ambiguous":
            ambiguous.add(_normal(term))
        elif kind == "newborn":
            newborn[_normal(term)] = value.strip()
        else:
            raise ValueError(f"unknown synonym kind {kind!r}")
    abbreviations.sort(key=lambda item: -len(item[0]))  # "dm ii" before "dm"
    compiled = tuple(
        (re.compile(rf"(?<![\w/-]){re.escape(term)}(?![\w/-])", re.IGNORECASE), value)
        for term, value in abbreviations
    )
    import hashlib

    version = "syn-" + hashlib.sha256(raw.encode()).hexdigest()[:8]
    short_forms = frozenset(
        term
        for term in (*(t for t, _ in abbreviations), *direct)
        if re.fullmatch(r"[a-z0-9]+", term)
    )
    return SynonymTable(
        compiled,
        direct,
        version,
        frozenset(uncodable),
        frozenset(ambiguous),
        short_forms,
        newborn,
    )


# how well "<mention> of newborn" must read for its perinatal code to lead in a newborn's record
# ("sepsis of newborn" P36.9 reads 0.63, as does "polycythemia" -> P58.3 *jaundice due to*
# polycythemia: such mentions have ``newborn`` rows instead)
_NEWBORN_MIN = 0.7
# how near-exact the mention as written must read to stand beside its synonym expansion
_WRITTEN_MIN = 0.9
# a parenthesised gloss after a term the analyzer joined to it: "acute myeloid leukemia (AML)"
_TRAILING_GLOSS = re.compile(r"\s*\([^()]*\)$")
# a stage the analyzer joined to a finding whose code has none: "Classic Hodgkin lymphoma stage
# IIB" (read 0.30 as a whole; a kidney disease's stage codes, and reads well, whole)
_TRAILING_STAGE = re.compile(r",?[ \t]+stage[ \t]+(?:[0-5]|iv|v|i{1,3})[a-c]?$", re.I)
# a bone or digit site after a disease: "of the 5th metatarsal", "of the left great toe"
_TRAILING_SITE = re.compile(
    r"[ \t]+(?:of|in|involving)[ \t]+(?:the[ \t]+)?(?:(?:left|right|l|r|bilateral)[ \t]+)?"
    r"(?:\d(?:st|nd|rd|th)[ \t]+|(?:first|second|third|fourth|fifth|great|big)[ \t]+)?"
    r"(?:metatarsals?|metacarpals?|toes?|fingers?|phalanx|phalanges|digits?|calcaneus|heel"
    r"|talus|tibia|fibula|femur|humerus|radius|ulna|sternum|ribs?|vertebrae?|mandible|foot|feet"
    # or the skin's sites, one or two: "phototoxicity of the face and hands"
    r"|face|hands?|arms?|forearms?|legs?|trunk|scalp|neck)"
    r"(?:[ \t]+and[ \t]+(?:the[ \t]+)?(?:face|hands?|arms?|forearms?|legs?|trunk|scalp|neck|feet))?$",
    re.I,
)


def _singular(mention: str) -> str:
    """The mention with its last word singular, for the ``code`` rows ("rashes" -> "rash")."""
    head, _, last = mention.rpartition(" ")
    if (
        len(last) > 4
        and last.endswith(("sses", "shes", "ches", "xes"))
        and not last.endswith("aches")
    ):
        last = last[:-2]
    elif len(last) > 4 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is")):
        last = last[:-1]
    return f"{head} {last}" if head else last


def _adds_nothing(parent: str, child: str) -> bool:
    """Whether ``child`` repeats ``parent`` word for word and then only qualifies it as
    unspecified / unknown / "without ..." ("Polymyositis, organ involvement unspecified")."""
    child = child.lower()
    return child.startswith(parent) and bool(
        re.search(r"\b(?:unspecified|unknown|without|nos)\b", child[len(parent) :])
    )


class IcdCoder:
    """Maps a problem mention to ranked ICD-10-CM candidates."""

    def __init__(
        self, index: IcdIndex | None = None, synonyms: SynonymTable | None = None, top_k: int = 5
    ) -> None:
        self.index = index or load_index()
        self.synonyms = synonyms or load_synonyms()
        self.top_k = top_k
        self.version = f"{CODER_VERSION}+{self.index.version}+{self.synonyms.version}"
        self._penalties: dict[tuple[str, ...], np.ndarray] = {}
        self._sites = body_sites(self.index)
        self._burns = burns.burn_descriptions(
            (c.code, c.description, c.billable) for c in self.index.codes
        )
        self._cached = lru_cache(maxsize=50_000)(self._code_uncached)

    def code(self, mention: str) -> tuple[CodeCandidate, ...]:
        """Ranked candidates (best first); empty when nothing in the tabular list matches."""
        return self._cached(_normal(_ABBREVIATION_PLURAL.sub(self._singular_short_form, mention)))

    def _singular_short_form(self, match: re.Match[str]) -> str:
        """ "UTIs" -> "UTI" for a short form the rows know ("dopplerable PTs" are pulses, not
        prothrombin times)."""
        short = match.group(1)
        return short if short.lower() in self.synonyms.short_forms else match.group(0)

    def expand(self, mention: str) -> str:
        text = _normal(mention)
        for pattern, value in self.synonyms.abbreviations:
            text = pattern.sub(value, text)
        if _DIABETES.search(text) and not _DIABETES_TYPED.search(text):
            text = f"type 2 {text}"
        if _DIABETES.search(text) and _POORLY_CONTROLLED.search(text):
            text = f"{_POORLY_CONTROLLED.sub(' ', text).strip()} with hyperglycemia"
        part = _LIMB_PART.search(text) if _CELLULITIS.search(text) else None
        if part is not None:
            sided = part.group("short") or _ONE_SIDE.search(text)
            # no side, or both: the tabular list's "unspecified part of limb" (L03.119), not
            # whichever side the lexical match ranks first
            limb = _limb(part) if sided else "unspecified part of limb"
            text = text[: part.start()] + limb + text[part.end() :]
            text = text if sided else _BOTH_SIDES.sub("", text).strip()
        return text

    def with_hemorrhage(self, codes: tuple[CodeCandidate, ...]) -> tuple[CodeCandidate, ...]:
        """The candidates with a peptic ulcer "without hemorrhage or perforation" (K25-K28:
        .3 acute, .7 chronic, .9 unspecified) replaced by its "with hemorrhage" twin (.0, .4, .4),
        the code before it kept second: "upper GI bleed secondary to duodenal ulcer" is K26.4,
        not K26.9. Unchanged for any other code."""
        if not codes:
            return codes
        best = codes[0]
        match = _ULCER_WITHOUT.fullmatch(best.code)
        if match is None:
            return codes
        bleeding = self.candidate(
            f"{match.group(1)}.{_WITH_HEMORRHAGE[match.group(2)]}", best.score
        )
        if bleeding is None or "with hemorrhage" not in bleeding.display.lower():
            return codes
        return (bleeding, *codes)

    def dementia_in_disease(self, codes: tuple[CodeCandidate, ...]) -> tuple[CodeCandidate, ...]:
        """The candidates with "unspecified dementia" F03- replaced by "dementia in other
        diseases classified elsewhere" F02- of the same severity and disturbance (F03.90 ->
        F02.80, F03.911 -> F02.811, severe F03.C0 -> F02.C0), the code before it kept second.
        Unchanged otherwise."""
        if not codes or not codes[0].code.startswith("F03."):
            return codes
        best = codes[0]
        digits = best.code[len("F03.") :]  # 9: unspecified severity (F02.8), A-C: mild-severe
        first = self.candidate(
            "F02." + ("8" + digits[1:] if digits.startswith("9") else digits), best.score
        )
        return codes if first is None else (first, *codes)

    def in_remission(
        self, codes: tuple[CodeCandidate, ...], degree: str
    ) -> tuple[CodeCandidate, ...]:
        """The candidates with the best one replaced by its "in remission" twin, when the tabular
        list has exactly one under the same parent for the stated ``degree`` ("full",
        "partial" or "" for not said): F10.20 alcohol dependence -> F10.21, C91.00 ALL not
        having achieved remission -> C91.01, C81.10 -> C81.1A. Unchanged where there is none
        (breast cancer) or the choice is not said (F32.9 -> partial F32.4 or full F32.5)."""
        if not codes or codes[0].code not in self.index.code_pos:
            return codes
        best = codes[0]
        info = self.index.codes[self.index.code_pos[best.code]]
        if _IN_REMISSION.search(info.description) or info.parent is None:
            return codes
        twins: list[tuple[str, set[str]]] = []
        for sibling in self.index.children.get(info.parent, ()):
            # F33.9 (recurrent MDD) has F33.4 "..., in remission" beside it, and its billable
            # children F33.40 / F33.41 / F33.42 under that
            for code in (sibling, *self.index.descendants(sibling)):
                twin = self.index.codes[self.index.code_pos[code]]
                if not twin.billable or not _IN_REMISSION.search(twin.description):
                    continue
                stated = {w for w in ("full", "partial") if w in twin.description.lower()}
                twins.append((code, stated))
        # the degree said, else a twin that names none ("AML in complete remission": C92.01)
        exact = [code for code, stated in twins if stated == ({degree} if degree else set())]
        plain = [code for code, stated in twins if not stated]
        chosen = exact or plain
        if len(chosen) != 1:
            return codes
        first = self.candidate(chosen[0], best.score)
        if first is None:
            return codes
        return (first, *(c for c in codes if c.code != first.code))

    def burn_codes(self, mention: str) -> list[str]:
        """The codes of each site of a burn written with its depth and site ("partial-thickness
        burns to the right forearm and hand": T22.211A, T23.201A); empty for any other mention."""
        burn = burns.parse(_normal(mention))
        return burns.codes_for(burn, self._burns) if burn else []

    def site_codes(self, mention: str) -> list[str]:
        """One code per site where a finding is written once for two or more sites ("liver and
        lung metastases": C78.7, C78.00; "kidney and bladder stones"), each site with the
        finding's words coding word for word on its own and the whole not; else empty."""
        burn = self.burn_codes(mention)
        if burn:
            return burn
        m = _COORDINATED_SITES.match(mention.strip())
        if m is None or _best_score(self.code(mention)) >= _WORD_FOR_WORD:
            return []
        sites = re.split(r"[ \t]*(?:,|\band\b|&|/)[ \t]*", m.group("sites"))
        out: list[str] = []
        for site in filter(None, sites):
            found = self.code(f"{site} {m.group('finding')}")
            if not found or found[0].score < _WORD_FOR_WORD:
                return []
            if found[0].code not in out:
                out.append(found[0].code)
        return out if len(out) >= 2 else []

    def candidate(self, code: str, score: float = 1.0) -> CodeCandidate | None:
        """The tabular list's ``code`` as a candidate; None where the list has no such code."""
        if code not in self.index.code_pos:
            return None
        info = self.index.codes[self.index.code_pos[code]]
        return CodeCandidate(
            code=info.code, display=info.description, score=score, billable=info.billable
        )

    def in_trimester(self, code: str, trimester: int, score: float = 1.0) -> CodeCandidate | None:
        """The sibling of an "unspecified trimester" pregnancy code for the trimester the note's
        gestational age gives (O60.00 at 31 weeks is O60.03, O36.8390 is O36.8330); None where
        ``code`` names no unspecified trimester or the list has no such sibling."""
        import simple_icd_10_cm as cm

        seventh = code[-1] if len(code.replace(".", "")) == 7 else ""
        base = code[:-1] if seventh else code
        if not cm.is_valid_item(base) or "unspecified trimester" not in cm.get_description(base):
            return None
        word = ("first", "second", "third")[trimester - 1]
        wanted = cm.get_description(base).replace("unspecified trimester", f"{word} trimester")
        for sibling in cm.get_children(cm.get_parent(base)):
            if cm.get_description(sibling) == wanted:
                return self.candidate(sibling + seventh, score)
        return None

    def for_newborn(
        self, mention: str, codes: tuple[CodeCandidate, ...], weeks: int | None = None
    ) -> tuple[CodeCandidate, ...]:
        """The candidates of a problem in a newborn's record (``perinatal.newborn_record``):
        none for a pregnancy code (the "preterm labor" of a NICU summary is the mother's,
        guideline I.C.15.a.1); else led by the perinatal code the mention has in a newborn, from
        a ``newborn`` row or from reading it "of newborn" / "neonatal" (respiratory distress
        syndrome P22.0, not ARDS J80; hypoglycemia P70.4; intraventricular hemorrhage P52.3),
        and prematurity by the note's gestational age (``weeks``: 28 weeks is P07.31)."""
        if codes and codes[0].code.startswith("O"):
            return ()
        key = _normal(mention)
        row = self.synonyms.newborn.get(key) or self.synonyms.newborn.get(self.expand(key))
        best = self.candidate(row) if row else None
        if best is None:
            readings = (*self.code(f"{key} of newborn")[:1], *self.code(f"neonatal {key}")[:1])
            perinatal = [c for c in readings if c.code.startswith("P") and c.score >= _NEWBORN_MIN]
            best = max(perinatal, key=lambda c: c.score, default=None)
        if best is None:
            return codes
        preterm = self.candidate(preterm_code(weeks) or "", best.score) if weeks else None
        if preterm and best.code in ("P07.20", "P07.30"):
            best = preterm
        return (best, *(c for c in codes if c.code != best.code))

    def drug_induced(
        self,
        mention: str,
        codes: tuple[CodeCandidate, ...],
        drug: str | None = None,
        min_score: float = 0.7,
    ) -> tuple[CodeCandidate, ...]:
        """The candidates of a problem a drug caused, led by the tabular list's drug-induced
        code for it where there is one: constipation K59.00 -> K59.03, tremor R25.1 -> G25.1,
        pancreatitis K85.90 -> K85.30, rash R21 -> L27.0, hypotension I95.9 -> I95.2,
        "diabetes mellitus" E11.9 -> E09.9 (guideline I.C.4.a.2: drug-induced diabetes).
        Taken only when "drug-induced <mention>" codes confidently to another code that is a
        synonym row or whose description names a drug ("Drug induced", "due to drugs",
        "medicaments"); never a substance-use code (F10-F19) nor a drug-induced diabetes for a
        problem that was no diabetes (hyperglycemia R73.9 is not E09.65). With ``drug``, a code
        for that drug's own reaction comes first: heparin's thrombocytopenia is D75.829
        (heparin-induced), not the drug-induced D69.59."""
        if not codes:
            return codes
        # "lithium-induced hypothyroidism", "Mycophenolate-associated diarrhea": the effect
        effect = _CAUSE_COMPOUND.sub("", mention)
        causes = [f"{drug.lower()}-induced" for drug in (drug,) if drug] + ["drug-induced"]
        for cause in causes:
            phrase = f"{cause} {effect}"
            variant = self.code(phrase)
            if not variant or variant[0].code == codes[0].code or variant[0].score < min_score:
                continue
            best = variant[0]
            named = _DRUG_CAUSE.search(best.display) or self.synonyms.is_direct(phrase)
            if (
                named
                and not best.code.startswith(("F1", "T5", "T6"))
                and not (
                    best.code.startswith("E09") and not codes[0].code.startswith(_DIABETES_CODES)
                )
            ):
                return (best, *(c for c in codes if c.code != best.code))
        return codes

    # ---- internals ---------------------------------------------------------------------------
    def _code_uncached(self, mention: str) -> tuple[CodeCandidate, ...]:
        if mention in self.synonyms.uncodable:
            return ()  # a body part or qualifier alone: a fragment of a longer mention
        bare = _HISTORY_PREFIX.sub("", mention)
        expanded = self.expand(bare)
        if expanded in self.synonyms.uncodable:
            return ()  # "resp" -> "respiratory"
        if (
            _words(mention)
            and _words(mention) <= self.synonyms.uncodable
            and mention not in self.synonyms.direct
        ):
            return ()  # "skin - coccyx", "resp status": body parts and qualifiers only
        if _SIDE.sub("", mention) in self._sites and mention not in self.synonyms.direct:
            return ()  # "uvula normal": the site alone matched "Malignant neoplasm of uvula"
        sites = self.burn_codes(mention)
        if sites:
            return tuple(c for c in map(self.candidate, sites) if c is not None)
        direct = (
            self.synonyms.direct.get(mention)
            or self.synonyms.direct.get(bare)
            or self.synonyms.direct.get(expanded)  # "resp failure" -> "respiratory failure"
            or self.synonyms.direct.get(_SIDE.sub("", expanded))  # "bilateral effusions"
            or self.synonyms.direct.get(self.expand(_PATIENT_PREFIX.sub("", bare)))
            or self.synonyms.direct.get(_singular(expanded))  # "abscesses", "rashes"
            or self.synonyms.direct.get(_TRAILING_GLOSS.sub("", bare))  # "... leukemia (AML)"
            or site_code(expanded)
            or site_code(bare)  # "left breast cancer": the row's expansion loses the side
            or tumor_site_code(bare)
            or _preterm_weeks(bare)
        )
        row = self.candidate(direct) if direct else None
        results: list[CodeCandidate] = [row] if row else []
        for cand in self._lexical_either(bare, expanded):
            if all(c.code != cand.code for c in results):
                results.append(cand)
            if len(results) >= self.top_k:
                break
        glossed = _TRAILING_GLOSS.search(mention) or _TRAILING_STAGE.search(mention)
        if glossed and glossed.start() > 0 and _best_score(tuple(results)) < _CAUSED_MIN:
            # "Postmenopausal bleeding (spotting)" read with its gloss as a menopausal state
            # (Z78.0, 0.32): the finding before the gloss names it
            unglossed = self.code(mention[: glossed.start()])
            if _best_score(unglossed) >= _CAUSED_MIN:
                return unglossed
        sited = _TRAILING_SITE.search(mention)
        if sited and sited.start() > 0 and _best_score(tuple(results)) < _CAUSED_MIN:
            # "osteomyelitis of the 5th metatarsal" (0.25 whole, the metatarsal's words matching
            # nothing): the disease before its site, where that is a disease of bone, joint,
            # skin or an infection (M, L, A, B) — not a symptom, an injury ("fracture" alone is
            # T14.8XXA) nor a word a site makes another thing ("withdrawal of left arm" to pain
            # had become alcohol withdrawal F10.939 on a nursing note)
            head = self.code(mention[: sited.start()])
            if _best_score(head) >= _CAUSED_MIN and head[0].code.startswith(("M", "L", "A", "B")):
                return head
        caused = _NAMED_CAUSE.match(mention)
        if caused and _best_score(tuple(results)) < _CAUSED_MIN and caused.end() < len(mention):
            # "Stimulant-related appetite suppression" read lexically as stimulant *use*
            # (F15.94, 0.34): the finding is what follows its cause (the ADE stage names the
            # drug, and the analyzer takes a drug-induced code where the list has one)
            effect = self.code(mention[caused.end() :])
            if _best_score(effect) >= _CAUSED_MIN:
                return effect
        return tuple(results)

    def _lexical_either(self, bare: str, expanded: str) -> list[CodeCandidate]:
        """Candidates of the expanded mention, and of the mention as written where a synonym row
        changed it: "scleroderma" is a row for systemic sclerosis, but "localized scleroderma"
        has a code of its own (L94.0), which only the written words find. Best score per code."""
        found = self._lexical(expanded)
        if bare == expanded:
            return found
        best = {c.code: c for c in found}
        for cand in self._lexical(bare):
            # only a near-exact reading of the written words: "HR 90" read as written is a
            # hormone-receptor status (0.56), which the expansion to "heart rate" is there to stop
            if cand.score >= _WRITTEN_MIN and (
                cand.code not in best or cand.score > best[cand.code].score
            ):
                best[cand.code] = cand
        return sorted(best.values(), key=lambda c: -c.score)[: self.top_k]

    def _lexical(self, text: str) -> list[CodeCandidate]:
        toks = query_tokens(text)
        if not toks:
            return []
        doc_scores = self.index.score(toks)
        doc_scores = doc_scores * self._chapter_penalty(text)
        n = min(200, len(doc_scores))
        top_docs = np.argpartition(-doc_scores, n - 1)[:n]
        by_code: dict[int, float] = {}
        for d in top_docs:
            s = float(doc_scores[d])
            if s <= 0:
                continue
            c = int(self.index.doc_code[d])
            if s > by_code.get(c, 0.0):
                by_code[c] = s
        if not by_code:
            return []
        codes = self.index.codes

        def rank_key(item: tuple[int, float]) -> tuple[float, int, int, int, int, int, int, str]:
            info = codes[item[0]]
            return (
                -round(item[1], 4),
                1 if "classified elsewhere" in info.description else 0,  # manifestation codes
                0 if info.billable else 1,
                0 if _UNSPECIFIED.search(info.description) else 1,
                len(info.description.split()),
                0 if "unspecified site" in info.description else 1,  # "tumor": D49.9, not kidney
                -len(_UNSPECIFIED.findall(info.description)),
                info.code,
            )

        ranked = sorted(by_code.items(), key=rank_key)
        out: list[CodeCandidate] = []
        seen: set[str] = set()
        for pos, score in ranked:
            info = codes[pos]
            code = info.code if info.billable else self._billable_child(info.code, doc_scores)
            if code in seen:
                continue
            seen.add(code)
            chosen = codes[self.index.code_pos[code]]
            out.append(
                CodeCandidate(
                    code=chosen.code,
                    display=chosen.description,
                    score=round(score, 4),
                    billable=chosen.billable,
                )
            )
            if len(out) >= self.top_k:
                break
        return out

    def _chapter_penalty(self, text: str) -> np.ndarray:
        """Per-document multiplier for chapters the mention gives no cue for (cached)."""
        missing = tuple(ch for ch, cue in _CHAPTER_CUES.items() if not cue.search(text))
        if not _ENCOUNTER_CUE.search(text):
            missing = (*missing, "encounter")
        if not _INJURY_CUE.search(text):
            missing = (*missing, "injury")
        if missing not in self._penalties:
            first = np.array([c.code[0] for c in self.index.codes])[self.index.doc_code]
            mult = np.ones(len(first), dtype=np.float32)
            mult[np.isin(first, list(missing))] = _CHAPTER_PENALTY
            mult[np.isin(first, [ch for ch in missing if ch in _EXCLUDED_WITHOUT_CUE])] = 0.0
            mult[np.isin(first, list(_NEVER))] = 0.0
            if "injury" in missing:
                injury = np.array(
                    [
                        c.code[0] == "S"
                        or (c.code[0] == "T" and c.code[1:3].isdigit() and int(c.code[1:3]) <= 14)
                        or "traumatic" in c.description.lower().replace("nontraumatic", "")
                        for c in self.index.codes
                    ]
                )
                mult[injury[self.index.doc_code]] *= _INJURY_PENALTY
            if "encounter" in missing:
                visit = np.array(
                    [c.description.startswith("Encounter for") for c in self.index.codes]
                )
                mult[visit[self.index.doc_code]] = _CHAPTER_PENALTY
            self._penalties[missing] = mult
        return self._penalties[missing]

    def _billable_child(self, code: str, doc_scores: np.ndarray) -> str:
        leaves = [
            c
            for c in self.index.descendants(code)
            if self.index.codes[self.index.code_pos[c]].billable
        ]
        if not leaves:
            return code
        best_doc: dict[int, float] = {}
        wanted = {self.index.code_pos[c] for c in leaves}
        for d in np.flatnonzero(np.isin(self.index.doc_code, list(wanted))):
            c = int(self.index.doc_code[d])
            best_doc[c] = max(best_doc.get(c, 0.0), float(doc_scores[d]))

        # The mention named the category itself better than any child ("nephrotic syndrome",
        # "polymyositis"): it says nothing more, so the child that repeats the category's words
        # and then says "unspecified" or "without ..." is the coder's default (N04.9 "Nephrotic
        # syndrome with unspecified morphologic changes", not N04.1 "... with focal and segmental
        # glomerular lesions"; I25.10 "... without angina pectoris").
        pos = self.index.code_pos[code]
        own = max(
            (float(doc_scores[d]) for d in np.flatnonzero(self.index.doc_code == pos)), default=0.0
        )
        if own > max(best_doc.values(), default=0.0):
            parent = self.index.codes[pos].description.lower()
            defaults = [
                c
                for c in leaves
                if _adds_nothing(parent, self.index.codes[self.index.code_pos[c]].description)
            ]
            if defaults:  # the nearest such child: N04.9 before N04.20 "... membranous, unsp."
                nearest = min(len(c) for c in defaults)
                leaves = [c for c in defaults if len(c) == nearest]

        def key(c: str) -> tuple[float, int, int, int, str]:
            info = self.index.codes[self.index.code_pos[c]]
            unspecified = len(_UNSPECIFIED.findall(info.description))
            return (
                -round(best_doc.get(self.index.code_pos[c], 0.0), 4),
                0 if "unspecified site" in info.description else 1,
                -unspecified,
                0 if c.replace(".", "").endswith("9") or c.endswith("9A") else 1,
                c,
            )

        return min(leaves, key=key)


def body_sites(index: IcdIndex) -> frozenset[str]:
    """The body sites the neoplasm codes name ("uvula", "tongue", "lower lip", "pancreas"): alone,
    such a mention is the anatomy an exam describes ("uvula normal", "swelling of the tongue"),
    and the lexical match would be the site's cancer (C05.2) or a "disease of" it (K14.9)."""
    sites: set[str] = set()
    for info in index.codes:
        found = _NEOPLASM_SITE.match(info.description) if info.code[:1] in "CD" else None
        if found:
            site = found.group(1).lower()
            sites.update((site, _SIDE.sub("", site), _plural(site)))
    return frozenset(sites)


def _plural(site: str) -> str:
    return site if site.endswith("s") else f"{site}s"
