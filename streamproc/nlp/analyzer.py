"""The clinical analyzer: sentences -> entities -> assertion -> ICD coding -> ADE relations.

One :meth:`ClinicalAnalyzer.analyze_batch` call looks every note up in the inference cache, runs
the NER model once over all misses, one sentence at a time by default (the token classifier
windows and length-sorts them itself),
then does the cheap per-note work in Python: sentence and section splitting, ConText assertion
for every entity, ICD-10-CM coding of problems (memoised per mention string) and the ADE stage.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from streamproc.nlp.assertion import ContextAssertion
from streamproc.nlp.assertion.context import AssertionResult
from streamproc.nlp.assertion.course import clinical_course, resolved_past_drug
from streamproc.nlp.assertion.history import historical
from streamproc.nlp.cache import InferenceCache
from streamproc.nlp.drugs import DrugLexicon
from streamproc.nlp.entities import (
    ProblemAbbreviations,
    assessment_item_heads,
    cancer_sites,
    chief_complaint_items,
    ending_at_delimiters,
    join_glosses,
    join_subtypes,
    outside,
    overlaps_any,
    split_drug_toxicity,
    split_joined_problems,
    split_status_post,
    to_entities,
    with_burns,
    with_coded_cause,
    with_coded_finding,
    with_coded_modifier,
    with_diabetes_type,
    with_qualifiers,
    without_compound_word,
    without_dose_qualifier,
    without_inline_headings,
    without_non_findings,
)
from streamproc.nlp.icd import IcdCoder
from streamproc.nlp.icd.perinatal import gestational_weeks, newborn_record, pregnancy_trimester
from streamproc.nlp.sections import SectionIndex
from streamproc.nlp.sentences import Sentence, sentence_index, split_sentences
from streamproc.nlp.token_classifier import ScoredSpan
from streamproc.nlp.types import AdeRelation, CodeCandidate, Entity, NoteAnalysis
from streamproc.records import NoteEvent
from streamproc.state import StateStore

log = logging.getLogger(__name__)

# 2: problem abbreviations written in capitals are entities; 3: constrained BIO decoding, spans
# never leave a parenthesis open, a problem takes the "stage 3" written after it; 4: the NER model
# reads one sentence (or list item) at a time, a short chief-complaint list item it left empty is a
# problem; 5: nothing is an entity where the de-identifier put a surrogate; 6: "A (B)" with both
# problems is one problem; 7: a disease named as what a vaccine is for is no problem; 8: also when
# the model left "(B)" untagged and B codes to A's category; 9: problems of the patient's history
# are marked (Condition category problem-list-item); 10: a one-word piece of a hyphenated word is no
# entity; 11: lower-case notes split into sentences ("no basal rate. pt states pain…"); 12: a
# short form that is also ICU shorthand ("MS", "RA", "CA", "PAD") is coded only in a history list;
# 13: "a 24h history of X" is this illness's course, not past history; 14: drugs the dictionary
# names are entities where the model found nothing, every drug carries its concept, and
# "hx (+) for" / "history significant for" open a history list; "returned to normal BP after
# dextrose" is a recovery, no reaction; 15: a bare "CA" takes the organ before it ("OVARIAN CA"),
# pain as a neuro-exam stimulus ("withdraws to pain") and "cough and gag" (reflexes) are no
# problems, "PRESENT HX:" is no history; 16: an allergy on record ("an allergy to sulfa", an
# "Allergies:" list) is no reaction to alert; an inline system heading ("Cv- Hypotensive") is cut
# off the problem it was read with; 17: an ICU short form followed by a colon ("MS: alert") or a
# value ("PAD 14-18") is a heading or a measurement even where a history cue came before it; 18: a
# problem read across a list separator whose parts code on their own and better than the whole is
# split ("SEPTIC SHOCK- HYPOTENSION": R65.21 + I95.9, not postprocedural septic shock); 19: words
# after an ICU short form that do not change its code leave it ambiguous ("MS waxing and waning");
# 20: "old" / "remote" / "prior" before a problem joins it where the coder has a row for the whole
# ("OLD STROKE" -> I69.30 sequelae, "old MI" -> I25.2, not the acute codes); 21: "VT" in a
# ventilator report is the tidal volume, no problem (the coder now reads VT as I47.20); 22: "VT
# req. shock", "shocked x2 with 200J": the defibrillator's shock, no circulatory shock; 23: the
# case-report wordings of a reaction link drug and effect ("in patients taking metformin", "while
# being treated with", "complicating", "hepatotoxicity of"), and an effect the entity stage
# missed is alerted when its own wording names a harm ("vasomotor reactions after gold"), a
# dechallenge links ("resolved once erlotinib was discontinued"), and so does "a patient receiving
# X … had Y"; an effect the coder reads by its own words ("vitiligo") counts as the entity stage's
# 24: a stage written before a problem joins it when the staged wording codes to another code
# of its category ("Stage 2 chronic kidney disease" N18.2, "stage IV CKD" N18.4, not N18.9), and
# so does "acute on" ("acute on chronic systolic heart failure" I50.23, not I50.22); a word
# naming a list ("allergy list") is no problem, nor a reaction in an "Allergies:" section
# 25: a "# problem" line is assessment text, not a header; the words before a problem join it
# when the coder has a row for the whole ("C. difficile colitis"), a subtype after a comma when
# the whole refines the code ("schizoaffective disorder, bipolar type"); a service in the note's
# title is no finding; a span ends on no preposition; ADE: a compound names only its own first
# half, a class compound with the drug in a gloss is a stated pair, a drug read into the effect
# ("doxorubicin cardiotoxicity") is its cause; a test with the words after it is a problem when
# the coder has a row for the whole ("QTc prolonged", "C. difficile toxin positive"); 26-31: see
# git log; 32: the head of an assessment item the model read nothing in is a problem when the
# coder reads it as one by its own words ("6. Constipation: senna"); a problem takes the cause
# written after it when the whole is a row for a more specific code ("Anemia due to chemotherapy"),
# and a bare stage or a course after a comma likewise ("CKD 3a", "Atrial fibrillation, chronic");
# a treatment with the words after it is a problem when a row names the whole ("Liver transplant
# recipient"); "refer to allergy" is a service; "…<drug>, which resolved" resolves the problem
# before the drug; ADE: an aside after a harm word ("statin intolerant (myalgias with
# atorvastatin)") names the drug's own reaction, a drug compound ending the phrase right after
# the effect links them ("Hypomagnesemia, tacrolimus-related"), "stopped X 3 months ago due to";
# a peptic ulcer whose sentence affirms a bleed is coded with hemorrhage (K26.4); an onset
# sentence ("Within 10 minutes she developed …") pairs with the drug given the sentence before;
# 35-40: a newborn's record codes as a newborn's; codes that combine what a note names apart
# (hypertensive CKD, diabetic CKD, Hb-SS crises, Parkinson's with dyskinesia); a drug class
# named as the cause is the note's drug of that class (docs/clinical-nlp.md, seventeenth landing);
# 53: a cause told in a sentence of its own after the item ("Precipitated by clindamycin."), a
# contributors' list ("multifactorial: … (oxybutynin)"), a bare "History:" opening with an age is
# this illness (docs/clinical-nlp.md, twentieth landing)
# 55: "now healed" / "now resolved" after a problem is its course, a drug read with its
# toxicity is split ("tacrolimus nephrotoxicity"); 56: a drug span run into a compound's first
# half is the drug ("oxaliplatin cold-induced"); 57: so is one opening with a level word
# ("supratherapeutic voriconazole"); 58: a pregnancy code of no trimester takes the note's
# (docs/clinical-nlp.md, twenty-second landing)
ANALYZER_VERSION = "analyzer-58"
# the coder's score for an effect's own words to stand in for the entity stage ("apnoea" 1.0,
# "weight loss" 0.7; "Pt asleep most of shift" 0.19, "urine" 0.52)
_CODED_EFFECT_MIN = 0.7
# "MS:", "MS- alert", "PAD 14-18", "CA 8.9", "RA 94%": a heading or a reading, never a diagnosis
# ("MS - on copaxone" in a history list, spaced, stays a diagnosis)
_HEAD_WORD = re.compile(r"(\S+)\s+\S")  # the first word of a mention of several
_HEADING_OR_VALUE = re.compile(r"(?:\s*[:=]|-\s|\s*\d|\.\.\.?\s*\d)")
# ICD-10-CM Z00-Z53: encounters (examination, screening, immunization, contraception, aftercare),
# which say why the patient came, not what they have
_ENCOUNTER_CODE = re.compile(r"Z(?:[0-4]\d|5[0-3])")
# a sentence that says a peptic ulcer bled, and the unspecified GI bleeding codes it stands for
_BLEEDING = re.compile(
    r"\b(?:bleed\w*|bled|hemorrhag\w*|haemorrhag\w*|melena|hematemesis|coffee[ -]ground)", re.I
)
_GI_BLEEDING_CODES = frozenset({"K92.0", "K92.1", "K92.2"})
# neurodegenerative diseases of F02's "code first" list whose dementia a note's bare "dementia"
# is: Alzheimer's, frontotemporal and Pick's, Lewy bodies, Parkinson's, Huntington's, prion
# disease (not the list's hypothyroidism, epilepsy or intoxications, which a note names beside
# another dementia)
_DEMENTING_DISEASES = ("G30", "G31.0", "G31.83", "G20", "G10", "A81")
_DYSKINESIA = re.compile(r"dyskines", re.IGNORECASE)
_REMISSION_INSIDE = re.compile(r"[ ,(]+in\s+(?:[a-z-]+\s+){0,2}remission\b", re.IGNORECASE)
# a sickle-cell genotype other than Hb-SS (Hb-SC, sickle-thalassemia, Hb-SD / SE)
_OTHER_SICKLE_GENOTYPE = re.compile(
    r"\bHb[ -]?S[CDE]\b|\bS[CDE] disease\b|\bsickle[- ](?:cell[- ])?(?:beta|\u03b2)|thalass"
    r"|\bsickle[- ]cell[- ](?:trait|hemoglobin[- ]C)",
    re.IGNORECASE,
)


def _first_codes_in_order(entities: Sequence[Entity]) -> list[str]:
    """The present problems' first codes, in the order the note names them."""
    return [
        e.codes[0].code
        for e in sorted(entities, key=lambda e: (e.start, e.end))
        if e.label == "problem" and e.codes and e.assertion in ("present", None)
    ]


_HB_SS_CRISES = {"D57.811": "D57.01", "D57.812": "D57.02", "D57.818": "D57.09", "D57.819": "D57.00"}
# "motor fluctuations", "wearing off before each dose", "on-off periods"
_FLUCTUATIONS = re.compile(
    r"\bfluctuations?\b|\bwear(?:s|ing)?[- ]off\b|\bon[- ]off\b|\boff[- ](?:periods?|episodes?)\b",
    re.IGNORECASE,
)
_NEGATED_BEFORE = re.compile(r"\b(?:no|without|denies|not)\b[\w ]*\Z", re.IGNORECASE)
EntityUnit = Literal["sentence", "note"]


class EntitySource(Protocol):
    """What the analyzer needs from an NER model (``TokenClassifier`` satisfies it)."""

    version: str

    def predict(self, texts: Sequence[str]) -> Sequence[Sequence[Any]]: ...


def predict_by_sentence(source: EntitySource, texts: Sequence[str]) -> list[list[ScoredSpan]]:
    """NER spans of each text, the model reading every sentence or list item on its own.

    Why: a note's lists ("- Hunger / - Thirst / - Frequent urination", comma-separated histories)
    read as one run-on phrase to a model trained on sentences; sentence by sentence, problem recall
    on Synthea notes rose from 0.44 to 0.64 (strict) for the shipped model (docs/training.md).
    Offsets are the note's.
    """
    pieces: list[str] = []
    owners: list[tuple[int, int]] = []  # (text index, offset of the sentence in it)
    for i, text in enumerate(texts):
        for sentence in split_sentences(text):
            pieces.append(sentence.text(text))
            owners.append((i, sentence.start))
    out: list[list[ScoredSpan]] = [[] for _ in texts]
    for (i, offset), spans in zip(owners, source.predict(pieces) if pieces else [], strict=True):
        out[i] += [
            ScoredSpan(s.start + offset, s.end + offset, s.label, float(s.score)) for s in spans
        ]
    return out


def predict_spans(
    source: EntitySource, texts: Sequence[str], unit: EntityUnit = "sentence"
) -> Sequence[Sequence[Any]]:
    """The NER model's spans per note, read by sentence (default) or whole note (``unit``)."""
    return predict_by_sentence(source, texts) if unit == "sentence" else source.predict(texts)


class RelationExtractor(Protocol):
    version: str

    def extract(
        self,
        text: str,
        sentences: Sequence[tuple[int, int]],
        entities: Sequence[Entity],
        names_a_problem: Callable[[str], bool] | None = None,
    ) -> list[AdeRelation]: ...


_DELIRIUM = re.compile(r"\bdelirium\b", re.I)
_DELIRIUM_CAUSE = re.compile(
    r"[ \t]*,?[ \t]*(?:(?:likely|probably|possibly|most[ \t]+likely)[ \t]+)?"
    r"(?:secondary[ \t]+to|due[ \t]+to|from|caused[ \t]+by|in[ \t]+the[ \t]+setting[ \t]+of"
    r"|superimposed[ \t]+on)[ \t]+(?:(?:the|his|her|a|an)[ \t]+)?",
    re.I,
)
_EXTENT_BEFORE = re.compile(r"(?:an?[ \t]+)?(?:local|localized|localised|slight|faint)[ \t]+", re.I)
_ASBESTOS = re.compile(r"\basbestos", re.I)
_TYPE_2 = re.compile(r"type[ \t-]*(?:2|ii)\b|\bt2|\bdm[ \t-]*(?:2|ii)\b|niddm", re.I)


class Analyzer:
    """Implements :class:`streamproc.pipeline.ClinicalAnalyzer`."""

    def __init__(
        self,
        entities: EntitySource,
        assertion: ContextAssertion | None = None,
        coder: IcdCoder | None = None,
        relations: RelationExtractor | None = None,
        store: StateStore | None = None,
        cache_ttl_s: int = 30 * 24 * 3600,
        min_entity_score: float = 0.0,
        entity_unit: EntityUnit = "sentence",
        drugs: DrugLexicon | None = None,
    ) -> None:
        self.entities = entities
        self.entity_unit = entity_unit
        self.assertion = assertion or ContextAssertion()
        self.coder = coder or IcdCoder()
        self.relations = relations
        self.min_entity_score = min_entity_score
        self.model_versions = {
            "analyzer": ANALYZER_VERSION + ("" if entity_unit == "sentence" else "+note-ner"),
            "ner": str(getattr(entities, "version", "unknown")),
            "assertion": self.assertion.version,
            "icd": self.coder.version,
        }
        if relations is not None:
            self.model_versions["ade"] = str(getattr(relations, "version", "unknown"))
        self.drugs = drugs
        if drugs is not None:
            self.model_versions["drugs"] = drugs.version
        self.abbreviations = ProblemAbbreviations(self.coder.synonyms)
        self.cache = InferenceCache(store, self.model_versions, cache_ttl_s) if store else None

    # ---- ClinicalAnalyzer ----------------------------------------------------------------------
    def analyze_batch(self, notes: Sequence[NoteEvent]) -> list[NoteAnalysis]:
        texts = [n.text for n in notes]
        # The surrogate marks change what is kept, so they are part of what a result is cached for.
        keys = [
            t + "".join(f"\x00{m.start}:{m.end}" for m in n.phi_marks)
            for t, n in zip(texts, notes, strict=True)
        ]
        cached = self.cache.get_many(keys) if self.cache else [None] * len(texts)
        miss_idx = [i for i, hit in enumerate(cached) if hit is None]
        results: list[NoteAnalysis | None] = list(cached)
        if miss_idx:
            started = time.perf_counter()
            spans = self.predict_entities([texts[i] for i in miss_idx])
            ner_ms = (time.perf_counter() - started) * 1e3 / len(miss_idx)
            for i, note_spans in zip(miss_idx, spans, strict=True):
                t0 = time.perf_counter()
                phi = [(m.start, m.end) for m in notes[i].phi_marks]
                analysis = self.analyze_text(texts[i], note_spans, ner_ms, phi)
                analysis = analysis.model_copy(
                    update={
                        "elapsed_ms": round(
                            analysis.elapsed_ms + (time.perf_counter() - t0) * 1e3, 2
                        )
                    }
                )
                results[i] = analysis
                if self.cache:
                    self.cache.put(keys[i], analysis)
        log.debug(
            "analyzer batch",
            extra={"notes": len(notes), "cache_hits": len(notes) - len(miss_idx)},
        )
        return [r for r in results if r is not None]

    def predict_entities(self, texts: Sequence[str]) -> Sequence[Sequence[Any]]:
        """The NER model's spans per note, read by sentence or whole (``entity_unit``)."""
        return predict_spans(self.entities, texts, self.entity_unit)

    # ---- one note ------------------------------------------------------------------------------
    def analyze_text(
        self,
        text: str,
        spans: Sequence[Any],
        ner_ms: float = 0.0,
        phi: Sequence[tuple[int, int]] = (),
    ) -> NoteAnalysis:
        """Everything after NER for one note (public so evaluation can feed gold spans).

        ``phi``: where the de-identifier put surrogates; nothing found there is clinical (a
        surrogate name such as "Hardin120" read alone looks like a drug to the model)."""
        sentences = split_sentences(text)
        sections = SectionIndex.of(text)
        # A section title ("# Allergies", "Problems:") names a topic, not a finding.
        found = self.abbreviations.add(text, to_entities(text, spans, self.min_entity_score))
        found = with_burns(text, cancer_sites(text, found))
        found = join_glosses(
            text, chief_complaint_items(text, sentences, sections, found), self._same_category
        )
        found = assessment_item_heads(text, sentences, sections, found, self._heads_a_problem)
        found = with_diabetes_type(text, ending_at_delimiters(text, found, self._names_a_drug))
        if self.drugs is not None:
            found = self.drugs.annotate(text, found)
        found = without_compound_word(text, found, self._names_a_drug)
        found = split_drug_toxicity(without_dose_qualifier(found, self._names_a_drug))
        found = without_non_findings(text, without_inline_headings(text, found))
        found = split_status_post(split_joined_problems(found, self.coder.code), self.coder.code)
        found = with_coded_modifier(text, found, self.coder.synonyms.is_direct, self.coder.code)
        found = with_coded_cause(text, found, self.coder.synonyms.is_direct, self.coder.code)
        found = with_coded_finding(text, found, self._clearly_direct, self._clearly_coded)
        found = with_qualifiers(text, found, self.coder.code)
        found = join_subtypes(text, found, self.coder.code)
        found = outside(found, phi)  # after every rule that adds
        raw = [
            e
            for e in found
            if not sections.in_header(e.start, e.end) and not _allergy_reaction(text, sections, e)
        ]
        ranges = [(e.start, e.end) for e in raw]
        results = self.assertion.assert_spans(text, ranges, sentences, sections)
        history = historical(text, ranges, sentences, sections)
        past_drug = resolved_past_drug(text, [(e.start, e.end, e.label) for e in raw])
        entities: list[Entity] = []
        for i, (ent, res, past) in enumerate(zip(raw, results, history, strict=True)):
            if i in past_drug and res.assertion == "present":
                res = AssertionResult("absent", "which resolved")
            update: dict[str, Any] = {"assertion": res.assertion, "assertion_cue": res.cue}
            if ent.label == "problem":
                codes = self.coder.code(ent.text)
                # "Alcohol use disorder in early remission" read whole: the course is inside it
                inside = _REMISSION_INSIDE.search(ent.text)
                course_at = ent.start + inside.start() if inside else ent.end
                course, degree = clinical_course(text, course_at, res.assertion, res.cue)
                if course == "remission":
                    codes = self.coder.in_remission(codes, degree or "")
                update["codes"] = () if self._ambiguous(text, ent, codes, past) else codes
                update["historical"] = past
                update["course"] = course
            entities.append(ent.model_copy(update=update))
        if newborn_record(text):
            entities = self._as_newborn(text, entities)
        relations = [
            self._coded_effect(self._named_drug(r))
            for r in self._relations(text, sentences, entities)
            if not (overlaps_any(r.drug, phi) or overlaps_any(r.effect, phi))
            and not self._disease_short_form(text, r.drug.text)
        ]
        entities = self._delirium_due_to(text, self._site_codes(entities))
        entities = self._in_the_notes_trimester(text, entities)
        entities = self._bleeding_ulcers(text, sentences, entities)
        entities = self._dementia_in_disease(entities)
        entities = self._with_the_notes_diseases(text, entities)
        entities = self._parkinson_course(text, self._drug_induced(entities, relations))
        return NoteAnalysis(
            entities=tuple(entities),
            relations=tuple(relations),
            model_versions=dict(self.model_versions),
            elapsed_ms=round(ner_ms, 2),
        )

    def _in_the_notes_trimester(self, text: str, entities: list[Entity]) -> list[Entity]:
        """A pregnancy code of no trimester takes the trimester of the gestational age the note
        states ("Preterm labor at 31w4d" is O60.03, not O60.00; guideline I.C.15.a.3)."""
        if not any(e.codes and e.codes[0].code.startswith("O") for e in entities):
            return entities
        trimester = pregnancy_trimester(text)
        if trimester is None:
            return entities
        out = []
        for e in entities:
            first = e.codes[0].code if e.label == "problem" and e.codes else ""
            timed = (
                self.coder.in_trimester(first, trimester, e.codes[0].score)
                if first.startswith("O")
                else None
            )
            if timed is not None:
                e = e.model_copy(update={"codes": (timed, *e.codes)})
            out.append(e)
        return out

    def _delirium_due_to(self, text: str, entities: list[Entity]) -> list[Entity]:
        """Delirium written with the condition causing it ("Hyperactive delirium secondary to
        serotonin syndrome", "delirium superimposed on dementia") is F05, delirium due to a
        known physiological condition, not the R41.0 of delirium alone; a drug's delirium is
        left to the drug's own codes."""
        problems = {e.start: e for e in entities if e.label == "problem" and e.codes}
        out = []
        for e in entities:
            cause = (
                _DELIRIUM_CAUSE.match(text, e.end)
                if e.label == "problem" and e.codes and e.codes[0].code == "R41.0"
                else None
            )
            named = problems.get(cause.end()) if cause else None
            due = self.coder.candidate("F05") if named and named.codes[0].code != "R41.0" else None
            if due is not None and _DELIRIUM.search(e.text):
                e = e.model_copy(update={"codes": (due, *e.codes)})
            out.append(e)
        return out

    def _site_codes(self, entities: list[Entity]) -> list[Entity]:
        """A finding written once for several sites is one Condition per site, each with the
        whole mention as its evidence: "partial-thickness burns to the right forearm and hand" is
        T22.211A and T23.201A, "liver and lung metastases" C78.7 and C78.00."""
        out: list[Entity] = []
        for e in entities:
            sites = self.coder.site_codes(e.text) if e.label == "problem" and e.codes else []
            if len(sites) < 2:
                out.append(e)
                continue
            for code in sites:
                site = self.coder.candidate(code)
                out.append(e.model_copy(update={"codes": (site,) if site else e.codes}))
        return out

    def _bleeding_ulcers(
        self, text: str, sentences: list[Sentence], entities: list[Entity]
    ) -> list[Entity]:
        """A peptic ulcer whose sentence says it bled takes its "with hemorrhage" code, and the
        sentence's unspecified GI bleeding mentions are that ulcer ("Upper GI bleed secondary to
        duodenal ulcer" is one Condition, K26.4, not K92.2 beside K26.9 *without* hemorrhage)."""
        out = list(entities)
        for i, ent in enumerate(out):
            if ent.label != "problem" or not ent.codes or ent.assertion == "absent":
                continue
            codes = self.coder.with_hemorrhage(ent.codes)
            k = sentence_index(sentences, ent.start)
            if codes is ent.codes or k < 0:
                continue  # no ulcer "without hemorrhage"
            lo, hi = sentences[k].start, sentences[k].end
            bled = _BLEEDING.search(ent.text) or any(
                other.label == "problem"
                and other.assertion == "present"
                and lo <= other.start < hi
                and _BLEEDING.search(other.text)
                for other in out
            )  # a bleed the sentence affirms: not "no bleeding on EGD"
            if not bled:
                continue
            out[i] = ent.model_copy(update={"codes": codes})
            for j, other in enumerate(out):
                if (
                    j != i
                    and other.label == "problem"
                    and other.codes
                    and other.codes[0].code in _GI_BLEEDING_CODES
                    and lo <= other.start < hi
                ):
                    out[j] = other.model_copy(update={"codes": codes})
        return out

    def _as_newborn(self, text: str, entities: list[Entity]) -> list[Entity]:
        """A newborn's record codes its problems as a newborn's (``IcdCoder.for_newborn``); the
        mother's conditions it names (family-asserted, or pregnancy codes) are not the baby's."""
        weeks = gestational_weeks(text)
        return [
            e.model_copy(update={"codes": self.coder.for_newborn(e.text, e.codes, weeks)})
            if e.label == "problem" and e.assertion != "family"
            else e
            for e in entities
        ]

    def _with_the_notes_diseases(self, text: str, entities: list[Entity]) -> list[Entity]:
        """Codes that combine conditions the note names apart, as the coding guidelines
        presume them linked: hypertension with chronic kidney disease is hypertensive CKD
        (I12.0 / I12.9, guideline I.C.9.a.2), with heart failure hypertensive heart disease
        (I11.0, I.C.9.a.1), with both I13.0 / I13.2; diabetes with CKD is diabetic CKD (E11.22,
        the index's "with"); secondary hyperparathyroidism in CKD is of renal origin (N25.81,
        not E21.1); a sickle-cell crisis in a note naming no other genotype is Hb-SS disease's
        (D57.01 with acute chest syndrome, not D57.811 "other sickle-cell disorders"), and the
        note's "sickle cell disease" (D57.1, *without* crisis) is that crisis's evidence; BPH
        beside lower urinary tract symptoms is BPH with LUTS (N40.1); pleural plaques in a note
        on asbestos are J92.0, not "without asbestos" J92.9; in a note on type 1 diabetes a
        diabetic complication written without its type is type 1's ("DKA" E10.10, not the
        default type 2's E11.10); and a note on a post COVID-19 condition (U09.9) speaks of the
        COVID-19 itself as past, resolved (guideline I.C.1.g.1.m); alcohol withdrawal beside
        alcohol dependence is F10.23x; peripheral arterial disease and polyneuropathy in a
        diabetic note are diabetic (E11.51, E11.42)."""
        in_order = _first_codes_in_order(entities)
        firsts = set(in_order)
        ckd = {c for c in firsts if c.startswith("N18")}
        esrd = bool(ckd & {"N18.5", "N18.6"})
        heart_failure = any(c.startswith(("I50", "I11.0")) for c in firsts)
        replace: dict[str, str] = {}
        if ckd and heart_failure:
            replace["I10"] = "I13.2" if esrd else "I13.0"
        elif ckd:
            replace["I10"] = "I12.0" if esrd else "I12.9"
        elif heart_failure:
            replace["I10"] = "I11.0"
        if ckd:
            replace["E21.1"] = "N25.81"
            # the Alphabetic Index's "Diabetes, with, chronic kidney disease" (the "with"
            # convention, I.A.15): E11.22 / E10.22, not E11.9 or the nephropathy E11.21
            replace.update(
                {"E11.9": "E11.22", "E11.21": "E11.22", "E10.9": "E10.22", "E10.21": "E10.22"}
            )
        if "R39.9" in firsts and "N40.0" in firsts:  # BPH and lower urinary tract symptoms
            replace.update({"N40.0": "N40.1", "R39.9": "N40.1"})
        sickle_cell = any(c.startswith("D57") for c in firsts)
        if sickle_cell and not _OTHER_SICKLE_GENOTYPE.search(text):
            replace.update(_HB_SS_CRISES)
            # in the note's order (a set's order changed from run to run which crisis the
            # "sickle cell disease" mentions joined)
            crises = [
                _HB_SS_CRISES.get(c, c) for c in in_order if c.startswith(("D57.0", "D57.81"))
            ]
            if crises:
                replace["D57.1"] = min(crises, key=lambda c: c == "D57.00")  # a named one first
        if "J92.9" in firsts and _ASBESTOS.search(text):
            replace["J92.9"] = "J92.0"
        # alcohol withdrawal in a note on alcohol dependence (abuse) is the dependence's
        # (abuse's) withdrawal, F10.23x (F10.13x), not the "use, unspecified" F10.93x
        use = next((c[:5] for c in sorted(firsts) if c.startswith(("F10.2", "F10.1"))), "")
        if use:
            replace.update({f"F10.93{k}": f"{use}3{k}" for k in "0129"})
        # the index's "Diabetes, with": peripheral angiopathy E11.51, polyneuropathy E11.42
        # (guideline I.A.15 presumes them linked); a type 1 note makes them E10's below
        if any(c.startswith(("E11", "E10")) for c in firsts):
            replace.update({"I73.9": "E11.51", "G62.9": "E11.42"})
        type_1 = any(c.startswith("E10") for c in firsts)
        post_covid = "U09.9" in firsts
        if not (replace or type_1 or post_covid):
            return entities
        out = []
        for e in entities:
            first = e.codes[0].code if e.label == "problem" and e.codes else ""
            code = replace.get(first, first)
            if type_1 and code.startswith("E11") and not _TYPE_2.search(e.text):
                code = "E10" + code[3:]
            combined = self.coder.candidate(code) if code != first else None
            if combined is not None:
                e = e.model_copy(update={"codes": (combined, *e.codes)})
            if post_covid and first == "U07.1":
                e = e.model_copy(update={"course": "resolved"})
            out.append(e)
        return out

    def _parkinson_course(self, text: str, entities: list[Entity]) -> list[Entity]:
        """Parkinson's disease is coded with its dyskinesia and motor fluctuations (G20.A1 / A2 /
        B1 / B2): "Parkinson disease with motor fluctuations and levodopa-induced dyskinesia" is
        G20.B2, not the default G20.A1 "without dyskinesia, without mention of fluctuations",
        and the note's dyskinesia mentions are that code's evidence (one Condition, not a
        drug-induced dyskinesia G24.0- beside it)."""
        if not any(
            e.label == "problem" and e.codes and e.codes[0].code == "G20.A1" for e in entities
        ):
            return entities
        dyskinesia = [
            i
            for i, e in enumerate(entities)
            if e.label == "problem" and e.assertion == "present" and _DYSKINESIA.search(e.text)
        ]
        fluctuation = [
            i
            for i, e in enumerate(entities)
            if e.label == "problem" and e.assertion == "present" and _FLUCTUATIONS.search(e.text)
        ]
        fluctuating = any(
            not _NEGATED_BEFORE.search(text, max(0, m.start() - 16), m.start())
            for m in _FLUCTUATIONS.finditer(text)
        )
        code = f"G20.{'B' if dyskinesia else 'A'}{2 if fluctuating else 1}"
        course = self.coder.candidate(code)
        if course is None or code == "G20.A1":
            return entities
        out = []
        for i, e in enumerate(entities):
            if i in dyskinesia or i in fluctuation or (e.codes and e.codes[0].code == "G20.A1"):
                e = e.model_copy(update={"codes": (course, *e.codes)})
            out.append(e)
        return out

    def _dementia_in_disease(self, entities: list[Entity]) -> list[Entity]:
        """Dementia in a note that names the neurodegenerative disease causing it is "dementia
        in other diseases classified elsewhere" (F02.8-, with the disease coded first, as F02's
        "code first" note says), not "unspecified dementia" F03.9-: "Major neurocognitive
        disorder, Alzheimer type" is G30.9 and F02.80. Same severity and disturbance digits."""
        if not any(
            e.label == "problem"
            and e.assertion == "present"
            and e.codes
            and e.codes[0].code.startswith(_DEMENTING_DISEASES)
            for e in entities
        ):
            return entities
        return [
            e.model_copy(update={"codes": self.coder.dementia_in_disease(e.codes)})
            if e.label == "problem" and e.codes
            else e
            for e in entities
        ]

    def _drug_induced(
        self, entities: list[Entity], relations: Sequence[AdeRelation]
    ) -> list[Entity]:
        """A problem the ADE stage found a drug caused (an actual reaction) takes its
        drug-induced code where the tabular list has one ("Opioid-induced constipation" K59.03,
        lithium's hypothyroidism E03.2), and so do the note's other mentions of its code (one
        condition: "maculopapular rash … after starting cefepime … rash now fading"): the
        Condition says what a coder would; a code for the drug's own reaction comes first
        (heparin's thrombocytopenia: D75.829). The alert keeps the reaction's own code, which
        also keys its de-duplication (``fhir.adverse_event``)."""
        caused = [r for r in relations if r.actuality == "actual"]
        variants: dict[str, CodeCandidate] = {}
        suspected: dict[str, bool] = {}  # every reaction mention of the code only possible
        for e in entities:
            if e.label != "problem" or not e.codes:
                continue
            for r in caused:
                if e.start <= r.effect.start and r.effect.end <= e.end:
                    drug = r.drug.concept.name if r.drug.concept else r.drug.text
                    best = self.coder.drug_induced(e.text, e.codes, drug)[0]
                    if best.code != e.codes[0].code:
                        variants.setdefault(e.codes[0].code, best)
                        code = e.codes[0].code
                        suspected[code] = suspected.get(code, True) and e.assertion == "possible"
                        break
        out = []
        for e in entities:
            code = e.codes[0].code if e.label == "problem" and e.codes else ""
            variant = variants.get(code)
            if suspected.get(code) and e.assertion == "present":
                variant = None  # "Thrombocytopenia, suspected heparin-induced thrombocytopenia
                # (HIT)": the count is low for certain, the drug's cause only suspected
            if variant is not None:
                codes = (variant, *(c for c in e.codes if c.code != variant.code))
                e = e.model_copy(update={"codes": codes})
            out.append(e)
        return out

    def _ambiguous(
        self, text: str, ent: Entity, codes: Sequence[CodeCandidate], past: bool
    ) -> bool:
        """Whether a problem is only an ICU short form ("MS", "PAD", "CA") that also means
        something else: alone, or leading words that add nothing to its code ("MS waxing and
        waning" codes like "MS"). Coded only in a history list, and never when a colon or a value
        follows the letters ("MS: alert", "PAD 14-18")."""
        synonyms = self.coder.synonyms
        short_end = ent.end
        if not synonyms.is_ambiguous(ent.text):
            head = _HEAD_WORD.match(ent.text)
            if head is None or not synonyms.is_ambiguous(head.group(1)) or not codes:
                return False
            alone = self.coder.code(head.group(1))
            if not alone or alone[0].code != codes[0].code:
                return False  # "CA of the lung": the words after it decide the code
            short_end = ent.start + head.end(1)
        return not past or bool(_HEADING_OR_VALUE.match(text, short_end))

    def _clearly_direct(self, mention: str) -> bool:
        """A row names ``mention`` and it is no ICU short form that also means something else
        ("Ca" a nursing note's calcium, "RA" room air)."""
        return not self.coder.synonyms.is_ambiguous(mention) and self.coder.synonyms.is_direct(
            mention
        )

    def _clearly_coded(self, mention: str) -> tuple[CodeCandidate, ...]:
        """``mention``'s codes, none for an ICU short form that also means something else."""
        return () if self.coder.synonyms.is_ambiguous(mention) else self.coder.code(mention)

    def _disease_short_form(self, text: str, mention: str) -> bool:
        """Whether ``mention`` is the short form of a disease the note names in full: in a
        multiple sclerosis clinic note "MS-related fatigue" is the disease's fatigue, not
        morphine sulfate's (it had alerted)."""
        full = self.coder.synonyms.expansion(mention)
        return full is not None and re.search(rf"\b{re.escape(full)}\b", text, re.I) is not None

    def _names_a_drug(self, mention: str) -> bool:
        """Whether the drug dictionary names ``mention`` (none loaded: every mention may be)."""
        return self.drugs is None or self.drugs.lookup(mention) is not None

    def _named_drug(self, relation: AdeRelation) -> AdeRelation:
        """The ADE model's own drug span (no entity overlapped it) named by the dictionary too."""
        if self.drugs is None or relation.drug.concept is not None:
            return relation
        concept = self.drugs.lookup(relation.drug.text)
        if concept is None:
            return relation
        drug = relation.drug.model_copy(update={"concept": concept})
        return relation.model_copy(update={"drug": drug})

    def _same_category(self, a: str, b: str) -> bool:
        """Whether two problem mentions code to the same ICD-10-CM category (F41.9 / F41.0); a
        drug in the brackets names the cause ("milk-alkali syndrome (calcium carbonate)")."""
        if self.drugs is not None and self.drugs.lookup(b) is not None:
            return False
        codes_a, codes_b = self.coder.code(a), self.coder.code(b)
        return bool(codes_a and codes_b and codes_a[0].code[:3] == codes_b[0].code[:3])

    def _relations(
        self, text: str, sentences: list[Sentence], entities: list[Entity]
    ) -> list[AdeRelation]:
        # ---- ADE seam: streamproc.nlp.ade.AdeExtractor (injected by build_analyzer) ----
        if self.relations is None:
            return []
        return self.relations.extract(
            text, [(s.start, s.end) for s in sentences], entities, self._codes_as_problem
        )

    def _heads_a_problem(self, head: str) -> bool:
        """Whether an assessment item's head names a condition: coded by its own words, and not
        to an encounter code ("Immunizations: flu shot" Z23, "Depression screening" Z13.31)."""
        return self._codes_as_problem(head) and not _ENCOUNTER_CODE.match(
            self.coder.code(head)[0].code
        )

    def _codes_as_problem(self, mention: str) -> bool:
        """Whether the coder reads ``mention`` as a condition by (nearly) its own words: how the
        ADE stage accepts an effect the entity stage missed ("vitiligo" L80, not "urine")."""
        return bool(self._effect_codes(mention))

    def _effect_codes(self, mention: str) -> tuple[CodeCandidate, ...]:
        """The codes of an effect by (nearly) its own words, none where the coder only guesses."""
        codes = self.coder.code(mention)
        if not (codes and codes[0].score >= _CODED_EFFECT_MIN):
            # "caused a local rash": how far it spread does not make it less a rash
            extent = _EXTENT_BEFORE.match(mention)
            codes = self.coder.code(mention[extent.end() :]) if extent else ()
        return codes if codes and codes[0].score >= _CODED_EFFECT_MIN else ()

    def _coded_effect(self, relation: AdeRelation) -> AdeRelation:
        """The ADE stage's own effect span (no problem entity overlapped it) with its codes, so
        the alert's event is coded: "hypophysitis due to ipilimumab" E23.6."""
        if relation.effect.codes:
            return relation
        codes = self._effect_codes(relation.effect.text)
        if not codes:
            return relation
        effect = relation.effect.model_copy(update={"codes": codes})
        return relation.model_copy(update={"effect": effect})


# what ends an allergy list even where no known section header follows: a blank line, or a
# line opening with a heading of any kind ("SOCIAL:", "PRESENT HX:")
_LIST_BREAK = re.compile(r"\n[ \t]*\n|\n[ \t]*[A-Za-z][A-Za-z /]{0,24}:")


def _allergy_reaction(text: str, sections: SectionIndex, entity: Entity) -> bool:
    """A problem in an "Allergies:" list is a reaction on record ("Penicillin (hives)"), which
    belongs to an allergy list, not a Condition: a discharge summary published an active
    encounter diagnosis of hives from it. The list ends at a blank line or the next heading."""
    if entity.label != "problem":
        return False
    section = sections.section_containing(entity.start)
    return (
        section is not None
        and section.name == "allergies"
        and not _LIST_BREAK.search(text, section.start + 1, entity.start)
    )
