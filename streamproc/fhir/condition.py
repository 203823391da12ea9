"""FHIR R4 ``Condition`` resources from coded, asserted problem mentions.

Choices (see docs/clinical-nlp.md):

* Only problems asserted ``present`` (-> verificationStatus ``confirmed``) or ``possible``
  (-> ``provisional``) become Conditions. Absent, hypothetical, conditional and family problems
  stay evidence in the analysis: publishing them as Conditions (even ``refuted``) would put a
  negated or a relative's diagnosis on the patient's list. The exception is a problem the note
  says *resolved* ("pneumonia, resolved", "no longer having headaches"): the patient had it, so
  it is a ``confirmed`` Condition with clinicalStatus ``resolved`` (its assertion extension
  still reads ``absent``: it is not there now).
* A problem becomes a Condition only when its best ICD-10-CM candidate scores at least
  ``min_code_score``: an uncodable mention ("full-time employment") is not a diagnosis.
* ``category`` is ``problem-list-item`` when every mention is the patient's history ("has a
  history of …", a past-medical-history section; ``Entity.historical``), else
  ``encounter-diagnosis``. ``clinicalStatus`` is ``inactive`` for a history-only problem whose
  code names a passing episode (an infection, an injury, a pregnancy, a symptom: see
  ``_EPISODIC_PREFIXES``), else ``active``: a note rarely says whether a past problem resolved,
  but "history of E. coli UTI" is not a current infection, while "history of hypertension" is.
  Where the note does say ("resolved"; "in remission", which also picks the code's remission
  twin, F10.21 for F10.20), that wins: ``resolved`` / ``remission`` (``nlp.assertion.course``).
* All mentions of the same code in one note form one Condition (id from the document id + code,
  see ``condition_id``), with every span in a ``note-span`` extension: redelivery, replay and a
  corrected version of the document overwrite, and a note that says "hypertension" three times
  yields one Condition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from streamproc.fhir.common import (
    EXT_ALTERNATIVE_CODES,
    EXT_ASSERTION,
    EXT_CODING_SCORE,
    ICD10CM,
    MIN_CODE_SCORE,
    deterministic_id,
    document_reference,
    iso,
    model_meta,
    note_span_extension,
    reference,
    validate,
)
from streamproc.nlp.icd.integral import includes_symptom
from streamproc.nlp.types import Entity, NoteAnalysis
from streamproc.records import NoteEvent, OutMessage

VERIFICATION = {"present": "confirmed", "possible": "provisional"}


def verification(ent: Entity) -> str | None:
    """The verificationStatus a problem mention supports, None when it is no Condition: a
    problem the note says resolved ("pneumonia, resolved": ConText's absent) was confirmed."""
    if ent.course == "resolved":
        return "confirmed"
    return VERIFICATION.get(ent.assertion)


def _verified(ent: Entity) -> str:
    """:func:`verification` of a mention already grouped into a Condition."""
    status = verification(ent)
    if status is None:
        raise ValueError(f"a {ent.assertion} mention is no Condition's evidence")
    return status


_RANK = {"confirmed": 0, "provisional": 1}


def _rank(mentions: list[Entity]) -> int:
    """The surest verification among a Condition's mentions (confirmed before provisional)."""
    return min(_RANK[_verified(m)] for m in mentions)


# ICD-10-CM codes of conditions that come and go in episodes: infections, acute respiratory
# illness, injuries and poisonings, pregnancy, acute vascular events, neuroleptic malignant
# syndrome, passing symptoms. Named only
# in the patient's history ("has a history of E. coli UTI, fracture of ankle"), such a problem is
# a past episode: clinicalStatus ``inactive`` (no longer active; whether it could recur is not
# said). Chronic conditions in a history list (hypertension, CKD, diabetes) stay ``active``.
# Measured on Synthea notes against the patients' recorded episodes: docs/clinical-nlp.md.
_EPISODIC_PREFIXES = (
    *(f"A{n:02d}" for n in range(100) if not 15 <= n <= 19 and n != 30),  # not TB, leprosy
    *(f"B{n:02d}" for n in range(90) if n not in (18, 19, 20)),  # not chronic hepatitis, HIV
    "J0", "J10", "J11", "J12", "J13", "J14", "J15", "J16", "J17", "J18", "J20", "J21", "J22",
    "H65", "H66", "H10", "N10", "N30.0", "N39.0", "L02", "L03", "K35", "K36", "K37", "K52.9",
    "K85", "K56", "K57.2", "K57.32", "K57.33", "K57.8", "K57.92", "K57.93",  # diverticulitis
    "S", "T", "O", "Z33", "Z34", "U07.1",
    "I21", "I26", "I63", "G45", "I82.4", "G21.0",
    "R05", "R06", "R07", "R10", "R11", "R19.7", "R21", "R50", "R51", "R52", "R53.83", "R68.83",
    "M79.1", "M25.5",
    # a reaction's passing signs ("anaphylaxis in 2019 (hypotension, bronchospasm, urticaria)")
    "I95.9", "J98.01", "L50.0", "L50.9", "R55",
    "L52",  # erythema nodosum: weeks, then gone ("History of erythema nodosum")
    "R94.31",  # a QT prolongation passes with its drug ("sotalol stopped in 2021 for QT …")
    "L55", "L56.0", "L56.8",  # a sunburn, a photosensitivity reaction ("stopped in 2023 after …")
    # a drug's liver injury passes once the drug is stopped ("History of methotrexate
    # hepatotoxicity"); not the chronic forms (K71.3-K71.5 hepatitis, K71.7 cirrhosis)
    "K71.0", "K71.1", "K71.2", "K71.6", "K71.8", "K71.9",
)  # fmt: skip
# Status codes (dependence on a machine, presence of a device or transplant, a history-of): a
# status is or is not; a "possible" one is a plan or a question, never a provisional diagnosis.
_STATUS_CODES = (
    "Z79",
    "Z86",
    "Z87",
    "Z88",
    "Z89",
    "Z90",
    "Z91",
    "Z92",
    "Z93",
    "Z94",
    "Z95",
    "Z96",
    "Z97",
    "Z98",
    "Z99",
)
# allergies and transplant complications persist (an anaphylaxis, T78.0-.2, is an episode)
_NOT_EPISODIC = ("T78.4", "T86")


_UNSPECIFIED = re.compile(r"\bunspecified\b|without complications", re.IGNORECASE)


# Unspecified codes whose specified forms the tabular list puts in other categories, so the
# same-category refinement cannot see them: rheumatoid arthritis M06.9 is the seropositive M05
# or seronegative M06.0 a note also names; "anemia" D64.9 the iron-deficiency, B12, folate,
# hemolytic, aplastic or posthemorrhagic anemia (D50-D63); "pneumonia" J18.9 the organism's
# pneumonia (J12-J17); "depression" F32.A the major depressive disorder (F32.0-F32.9, F33);
# "epilepsy" G40.909 and "generalized tonic-clonic seizures" G40.409 (the tabular list's "grand
# mal seizure NOS") the epilepsy syndrome the note names: juvenile myoclonic epilepsy's seizures
# are that epilepsy's, one Condition
_EPILEPSY_SYNDROMES = ("G40.0", "G40.1", "G40.2", "G40.3", "G40.5", "G40.8", "G40.A", "G40.B")


def _hip_fracture_codes(sides: str) -> tuple[str, ...]:
    """Prefixes of the femoral neck, trochanteric and subtrochanteric fractures (S72.0-S72.2)
    of a side: the laterality digit is the sixth character (1/4 right, 2/5 left, 3/6 not
    said), the fifth in S72.2 (S72.21- displaced right … S72.26-)."""
    neck_and_trochanter = ("01", "02", "03", "04", "05", "06", "09", "10", "11", "12", "13", "14")
    return (
        *(f"S72.{sub}{d}" for sub in neck_and_trochanter for d in sides),
        *(f"S72.2{d}" for d in sides),
    )


# "CKD" N18.9 the stage or end-stage renal disease the note names (ESRD's words are not CKD's);
# "hip fracture" S72.00- (unspecified part of the femoral neck) is the intertrochanteric or
# subtrochanteric fracture of the same side the note names; viral hepatitis B / C unspecified
# (B19.10, B19.20: "HBV", "HCV") the acute or chronic hepatitis named; "impulse disorder" F63.9
# the gambling or other specified impulse disorder
_SPECIFIED_ELSEWHERE: dict[str, tuple[str, ...]] = {
    "S72.001A": _hip_fracture_codes("14"),
    "S72.002A": _hip_fracture_codes("25"),
    "S72.009A": _hip_fracture_codes("123456"),
    "N18.9": ("N18.1", "N18.2", "N18.3", "N18.4", "N18.5", "N18.6"),
    "B19.10": ("B16", "B18.0", "B18.1"),
    "B19.20": ("B17.1", "B18.2"),
    "F63.9": ("F63.0", "F63.1", "F63.2", "F63.3", "F63.8"),
    "R39.9": ("N40.1", "N40.3"),  # lower urinary tract symptoms: the BPH's, "with LUTS"
    "G40.909": _EPILEPSY_SYNDROMES,
    "G40.409": _EPILEPSY_SYNDROMES,
    "M06.9": ("M05", "M06.0"),
    "D64.9": tuple(f"D{n}" for n in range(50, 64)),
    "J18.9": ("J12", "J13", "J14", "J15", "J16", "J17"),
    "B54": ("B50", "B51", "B52", "B53"),  # malaria: the species the note names
    # a drug's dystonia twisting the neck: "Torticollis to the right, oculogyric crisis" in a
    # note on an acute dystonic reaction (G24.02) is that reaction, not M43.6 beside it
    "M43.6": ("G24.0", "G24.3"),
    # diabetes the note does not type, beside the type it names elsewhere ("Diabetes education"
    # in a note on glucocorticoid-induced diabetes had added type 2's E11.9)
    "E11.9": ("E08", "E09", "E13"),
    # liver lesions on imaging in a note on liver metastases or a liver cancer are those
    "R93.2": ("C78.7", "C22"),
    # the index's bare "pulmonary edema" (chronic, J81.1) beside the acute one the note names;
    # "eczema" (dermatitis, unspecified) beside the atopic dermatitis named
    "J81.1": ("J81.0",),
    "L30.9": ("L20",),
    "E03.9": ("E06.3",),  # "Hypothyroidism (Hashimoto)": the thyroiditis's code
    "G61.9": ("G61.0",),  # an inflammatory polyneuropathy beside the Guillain-Barre named
    "G51.0": ("A69.22",),  # a facial palsy in a note on Lyme disease of the nervous system
    "J44.9": ("J43",),  # COPD with emphysema is the emphysema's code (J43 excludes J44)
    # "poorly controlled" diabetes (with hyperglycemia) beside its ketoacidosis or hyperosmolarity
    # in the same note: the crisis's code says the sugar was high
    "E10.65": ("E10.0", "E10.1"),
    "E11.65": ("E11.0", "E11.1"),
    "E13.65": ("E13.0", "E13.1"),
    # "alcohol use disorder ... severe alcohol withdrawal": the dependence with its withdrawal
    "F10.20": tuple(f"F10.2{k}" for k in range(2, 10)),
    "F10.10": tuple(f"F10.1{k}" for k in range(2, 10)),
    "F10.90": ("F10.1", "F10.2"),  # "likely from alcohol" in a note on the dependence
    # "renal failure" beside the acute kidney injury or the chronic kidney disease named
    "N19": ("N17", "N18"),
    # "hepatitis" beside the alcoholic, toxic, autoimmune or viral hepatitis the note names
    "K75.9": ("K70.1", "K71", "K73", "K75.4", "B15", "B16", "B17", "B18", "B19"),
    # an aneurysm of no site said beside the one the note names (coronary, aortic, cerebral)
    "I72.9": (
        "I25.4",
        "I71",
        "I67.1",
        "I72.0",
        "I72.1",
        "I72.2",
        "I72.3",
        "I72.4",
        "I72.5",
        "I72.6",
        "I72.8",
        "I77.7",
    ),
    # rest pain of no side said: the limb's ischemia the note names (with ulceration too)
    "I70.229": ("I70.221", "I70.222", "I70.223", "I70.228", "I70.23", "I70.24", "I70.25"),
    "F32.A": ("F32.0", "F32.1", "F32.2", "F32.3", "F32.4", "F32.5", "F32.9", "F33"),
    # asthma "uncomplicated" (its severity from the history list) beside this visit's
    # exacerbation or status asthmaticus: one asthma, the exacerbation's code
    "J45.20": ("J45.21", "J45.22"),
    "J45.30": ("J45.31", "J45.32"),
    "J45.40": ("J45.41", "J45.42"),
    "J45.50": ("J45.51", "J45.52"),
    "J45.909": ("J45.2", "J45.3", "J45.4", "J45.5", "J45.90"),
    "J45.901": ("J45.21", "J45.31", "J45.41", "J45.51"),
    # "back pain" beside the low back pain, sciatica or thoracic pain the note names (not the
    # neck's cervicalgia)
    "M54.9": ("M54.3", "M54.4", "M54.5", "M54.6"),
    # "colitis" / "pancolitis" (a CT's word) beside the colitis the note names: C. difficile,
    # another infection, inflammatory bowel disease, ischemia
    "K52.9": ("A04", "A08", "A09", "K50", "K51", "K55"),
    # C. difficile "not specified as recurrent" (an earlier episode, the allergy list's word)
    # beside the recurrence the note names
    "A04.72": ("A04.71",),
}


def fold_unspecified(groups: dict[str, list[Entity]]) -> dict[str, list[Entity]]:
    """A note that names a specific code ("CKD stage 3b" N18.32, "type 2 diabetes with diabetic
    nephropathy" E11.21, "schizoaffective disorder, bipolar type" F25.0) and elsewhere the same
    condition unspecified ("AKI on CKD" N18.9, "T2DM" E11.9) has one condition: the unspecified
    code's mentions become evidence of the specific one, as a coder would not list both (E11.9
    even says "without complications"). Only a refinement folds: the specific code lies under
    the unspecified one's parent (N18.30, stage 3 unspecified, takes N18.32 but not stage 2,
    N18.2; "dyspnea, unspecified" R06.00 is not the wheezing R06.2). A specific code asserted
    only "possible" does not take a confirmed unspecified one: that would confirm the
    specificity the note doubts. A "without" default folds into its "with" twin the note names
    ("BPH" N40.0 into "BPH with lower urinary tract symptoms" N40.1), and a few unspecified
    codes into their specified forms in other categories (``_SPECIFIED_ELSEWHERE``)."""

    out = dict(groups)
    for code, mentions in groups.items():
        display = mentions[0].codes[0].display
        unsaid = _default_without(display, mentions)
        if not _UNSPECIFIED.search(display) and not unsaid and code not in _SPECIFIED_ELSEWHERE:
            continue
        targets = [
            other
            for other, theirs in out.items()
            if other != code
            and (
                _refinement(code, display, other, theirs[0].codes[0].display)
                or (unsaid and _with_twin(display, theirs[0].codes[0].display))
                or other.startswith(_SPECIFIED_ELSEWHERE.get(code, ()))
            )
            and _rank(theirs) <= _rank(mentions)
        ]
        if targets:
            target = min(targets, key=lambda c: min(m.start for m in out[c]))
            out[target] = [*out[target], *mentions]
            del out[code]
    return out


def fold_included_symptoms(groups: dict[str, list[Entity]]) -> dict[str, list[Entity]]:
    """A symptom the note's diagnosis includes is that diagnosis's evidence, not a Condition
    beside it: "Seizures" R56.9 in a note on juvenile myoclonic epilepsy G40.B09, "wheezing"
    R06.2 beside asthma, "shock" R57.9 beside septic shock R65.21 (the tabular list's Excludes1
    notes, ``icd.integral``). When several diagnoses include it, the one mentioned nearest takes
    it; a diagnosis asserted only "possible" does not take a confirmed symptom."""

    def distance(theirs: list[Entity], mine: list[Entity]) -> int:
        return min(abs(a.start - b.start) for a in theirs for b in mine)

    out = dict(groups)
    for code, mentions in groups.items():
        if not code.startswith("R"):
            continue
        targets = [
            other
            for other, theirs in out.items()
            if includes_symptom(other, code) and _rank(theirs) <= _rank(mentions)
        ]
        if targets:
            target = min(targets, key=lambda c: distance(out[c], mentions))
            out[target] = [*out[target], *out.pop(code)]
    return out


# a peptic ulcer with hemorrhage (K25-K28 .0 / .4), which ``Analyzer._bleeding_ulcers`` gave a
# mention whose sentence says it bled, the code before it kept second
_BLEEDING_ULCER = re.compile(r"K2[5-8]\.[04]")


def _fold_prior_codes(
    groups: dict[str, list[Entity]], twinned: Callable[[str, Entity], bool]
) -> dict[str, list[Entity]]:
    """Fold into a code's group the groups of the code its ``twinned`` mentions had before a
    twin replaced it (kept as their second candidate): one Condition, not the twin beside the
    code it replaced."""
    out = dict(groups)
    for code, mentions in groups.items():
        before = {
            m.codes[1].code
            for m in mentions
            if len(m.codes) > 1 and m.codes[0].code == code and twinned(code, m)
        }
        for source in before - {code}:
            if source in out and code in out:
                out[code] = [*out[code], *out.pop(source)]
    return out


def fold_bleeding_ulcers(groups: dict[str, list[Entity]]) -> dict[str, list[Entity]]:
    """The ulcer a note says bled is one Condition with its other mentions: "Upper GI bleed
    secondary to duodenal ulcer … EGD showed a clean-based duodenal ulcer" is K26.4 with both,
    not K26.9 (*without* hemorrhage) beside it."""
    return _fold_prior_codes(
        groups,
        lambda code, m: bool(_BLEEDING_ULCER.fullmatch(code)) and m.codes[1].code[:3] == code[:3],
    )


def fold_remission(groups: dict[str, list[Entity]]) -> dict[str, list[Entity]]:
    """A disease the note says is in remission is one Condition with its other mentions: "stage
    III DLBCL diagnosed 2023 … DLBCL, in complete remission" is C83.3A (remission) with both
    spans, not C83.30 active beside it. A remission mention's second candidate is the code it
    had before its remission twin (``IcdCoder.in_remission``); that code's group folds in."""
    return _fold_prior_codes(groups, lambda code, m: m.course == "remission")


def _default_without(display: str, mentions: list[Entity]) -> bool:
    """A "without X" code none of whose mentions says "without": the coder's default for the
    bare term ("BPH" is N40.0, *without* lower urinary tract symptoms)."""
    return " without " in display.lower() and not any("without" in m.text.lower() for m in mentions)


def _with_twin(display: str, other_display: str) -> bool:
    """ "BPH without LUTS" N40.0 and "BPH with LUTS" N40.1: the same words, "with" for "without"
    (the first; "Migraine without aura, …, without status migrainosus" has its "with aura")."""
    return display.lower().replace(" without ", " with ", 1) == other_display.lower()


def _refinement(code: str, display: str, other: str, other_display: str) -> bool:
    """Whether ``other`` refines the unspecified ``code``: same category, a description that
    holds every word the unspecified one names ("Unspecified atrial fibrillation" I48.91:
    "Other persistent atrial fibrillation" I48.19; "Chronic kidney disease, stage 3
    unspecified" N18.30: not stage 2 N18.2; "Dyspnea, unspecified": not "Wheezing"; "Nausea
    with vomiting, unspecified" R11.2: not "Vomiting, unspecified" R11.10), and itself
    specified — or unspecified only at a deeper level: under the code's parent (heart failure
    I50.9: the diastolic I50.30) or naming more (I82.90 of an unspecified vein: I82.402)."""
    head = _words(display) - _QUALIFIER_WORDS
    if other[:3] != code[:3] or not head or not head <= _words(other_display):
        return False
    if not _UNSPECIFIED.search(other_display):
        return True
    # unspecified only deeper: under the code's parent, or naming more than it does ("of
    # unspecified vein" I82.90: "of unspecified deep veins of left lower extremity" I82.402)
    # — not one naming another finding "with" it: vomiting R11.10 is no nausea with vomiting)
    deeper = other.startswith(_parent(code)) and len(other) > len(code)
    more = (_words(other_display) - _QUALIFIER_WORDS) - head
    return deeper or (bool(more) and "with" not in more)


def _words(display: str) -> frozenset[str]:
    """The description's words, a plural as its singular ("veins" of "deep veins of left lower
    extremity" is the "vein" of "thrombosis of unspecified vein")."""
    return frozenset(_singular(w) for w in re.findall(r"[a-z0-9]+", display.lower()))


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


_QUALIFIER_WORDS = _words(
    "unspecified uncomplicated without complications initial encounter other part site"
    " acute"  # "Acute myocardial infarction, unspecified" I21.9: the NSTEMI I21.4
)


def _parent(code: str) -> str:
    """What a refinement of an unspecified code starts with: N18.9 -> N18, N18.30 -> N18.3; a
    category without subdivisions (R17, jaundice) is its own (R18.8, ascites, is no jaundice)."""
    return code[:-1].rstrip(".") if "." in code else code


def is_episodic(code: str) -> bool:
    """Whether an ICD-10-CM code names a condition that passes (see ``_EPISODIC_PREFIXES``)."""
    return code.startswith(_EPISODIC_PREFIXES) and not code.startswith(_NOT_EPISODIC)


@dataclass
class ConditionBuilder:
    """Implements :class:`streamproc.pipeline.ResourceBuilder` for ``fhir.conditions``."""

    min_code_score: float = MIN_CODE_SCORE

    def build(self, note: NoteEvent, analysis: NoteAnalysis) -> list[OutMessage]:
        groups: dict[str, list[Entity]] = {}
        ruled_out = self._ruled_out_later(analysis.entities)
        for ent in analysis.entities:
            if ent.label != "problem" or verification(ent) is None or not ent.codes:
                continue
            if ent.codes[0].score < self.min_code_score or id(ent) in ruled_out:
                continue
            if ent.assertion == "possible" and ent.codes[0].code.startswith(_STATUS_CODES):
                continue  # "nephrology for possible hemodialysis" is no provisional Z99.2
            groups.setdefault(ent.codes[0].code, []).append(ent)
        out = []
        groups = fold_included_symptoms(
            fold_unspecified(fold_bleeding_ulcers(fold_remission(groups)))
        )
        for code, mentions in groups.items():
            mentions.sort(key=lambda e: (e.start, e.end))
            resource = validate(self.resource(note, analysis, code, mentions))
            out.append(OutMessage(topic="conditions", key=resource["id"], value=resource))
        return out

    def _ruled_out_later(self, entities: Sequence[Entity]) -> set[int]:
        """Suspected mentions (``possible``) the note rules out further on: "started amoxicillin
        for presumed streptococcal pharyngitis (culture later negative) … 3. Streptococcal
        pharyngitis - ruled out" had published a provisional J02.0. The conclusion stands."""
        last_absent: dict[str, int] = {}
        for ent in entities:
            if (
                ent.label == "problem"
                and ent.assertion == "absent"
                and ent.course != "resolved"
                and ent.codes
                and ent.codes[0].score >= self.min_code_score
            ):
                code = ent.codes[0].code
                last_absent[code] = max(last_absent.get(code, -1), ent.start)
        return {
            id(ent)
            for ent in entities
            if ent.assertion == "possible"
            and ent.codes
            and last_absent.get(ent.codes[0].code, -1) > ent.start
        }

    def resource(
        self, note: NoteEvent, analysis: NoteAnalysis, code: str, mentions: list[Entity]
    ) -> dict[str, Any]:
        # The mention the code was read from names it (a folded "CKD" before "CKD stage 3b" is
        # evidence, not the Condition's text).
        first = next(m for m in mentions if m.codes[0].code == code)
        status = min((_verified(m) for m in mentions), key=_RANK.__getitem__)
        # The assertion shown is the one that decided the status: "?acute MI … PMH: AMI" is a
        # confirmed Condition whose assertion reads "present", not the first mention's "possible".
        deciding = next(m for m in mentions if _verified(m) == status)
        best = first.codes[0]
        subject = reference(note.patient_ref, "Patient")
        if subject is None:
            raise ValueError("note has no patient reference: a Condition needs a subject")
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "id": condition_id(note, code),
            "meta": model_meta(analysis.model_versions),
            "extension": [
                *(note_span_extension(note, m.start, m.end) for m in mentions),
                {"url": EXT_ASSERTION, "valueCode": deciding.assertion},
                {"url": EXT_CODING_SCORE, "valueDecimal": round(best.score, 4)},
                *(
                    {
                        "url": EXT_ALTERNATIVE_CODES,
                        "extension": [
                            {"url": "rank", "valueInteger": rank},
                            {
                                "url": "coding",
                                "valueCoding": {
                                    "system": ICD10CM,
                                    "code": c.code,
                                    "display": c.display,
                                    "userSelected": False,
                                },
                            },
                            {"url": "score", "valueDecimal": round(c.score, 4)},
                        ],
                    }
                    for rank, c in enumerate(first.codes, start=1)
                ),
            ],
            "clinicalStatus": _clinical_status(_course_mentions(mentions, code), best.code),
            "verificationStatus": _concept(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                status,
                status.capitalize(),
            ),
            "category": [_category(mentions)],
            "code": {
                "coding": [
                    {
                        "system": ICD10CM,
                        "code": best.code,
                        "display": best.display,
                        "userSelected": False,
                    }
                ],
                "text": first.text,
            },
            "subject": subject,
            "evidence": [{"detail": [document_reference(note)]}],
        }
        encounter = reference(note.encounter_ref, "Encounter")
        if encounter is not None:
            resource["encounter"] = encounter
        recorded = iso(note.authored)
        if recorded is not None:
            resource["recordedDate"] = recorded
        return resource


def condition_id(note: NoteEvent, code: str) -> str:
    """uuid5 of (document, code): a redelivered or replayed note, and a corrected version of the
    same document (FHIR versionId, HL7 MDM^T08 with the same TXA-12), overwrite their Condition
    instead of adding one beside it; a code the new version no longer has is withdrawn
    (``fhir.lifecycle``). A note without a document id is its own document."""
    document = f"document:{note.document_id}" if note.document_id else f"event:{note.event_id}"
    return deterministic_id(document, code)


def _course_mentions(mentions: list[Entity], code: str) -> list[Entity]:
    """The mentions whose course is the Condition's: not a symptom folded in as evidence
    (``fold_included_symptoms``) — "wheezing resolved" does not resolve the asthma."""
    if code.startswith("R"):
        return mentions
    return [m for m in mentions if not m.codes[0].code.startswith("R")] or mentions


def _clinical_status(mentions: list[Entity], code: str) -> dict[str, Any]:
    """What the note says of the course where it says it ("pneumonia, resolved": ``resolved``;
    "AML in remission": ``remission``; a stated course outweighs mentions that say none, as a
    discharge summary names the pneumonia it admitted and later says it resolved), else
    ``inactive`` for a past episode named only in the history, else ``active``."""
    system = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    stated = {m.course for m in mentions if m.course is not None}
    if "remission" in stated:
        return _concept(system, "remission", "Remission")
    if stated:
        return _concept(system, "resolved", "Resolved")
    if all(m.historical for m in mentions) and is_episodic(code):
        return _concept(system, "inactive", "Inactive")
    return _concept(system, "active", "Active")


def _category(mentions: list[Entity]) -> dict[str, Any]:
    """problem-list-item when every mention is the patient's history ("has a history of …", a
    past-medical-history section), encounter-diagnosis when any is this encounter's."""
    system = "http://terminology.hl7.org/CodeSystem/condition-category"
    if all(m.historical for m in mentions):
        return _concept(system, "problem-list-item", "Problem List Item")
    return _concept(system, "encounter-diagnosis", "Encounter Diagnosis")


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}
