"""Drug -> adverse-effect relations for one note: the ADE stage the clinical analyzer calls.

Per sentence the joint model (:mod:`streamproc.nlp.ade.model`) tags drug and effect spans and
scores every (drug, effect) pair; pairs at or above ``settings.ade_threshold`` become
:class:`AdeRelation`. The model's own spans are used rather than the NER stage's because they follow
the ADE annotation convention it was measured on; an overlapping NER entity is reused (its label,
codes and assertion) when one exists. Actuality: the NER assertion of the effect, else ConText
(``streamproc.nlp.assertion``), then a small ADE cue list (:mod:`.cues`): negated effects are dropped,
hypothetical ones ("watch for", "may cause", "risk of") are kept with ``actuality="potential"``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, cast

from streamproc.nlp.ade.cues import (
    COMPOUND,
    COMPOUND_CUES,
    CONTRIBUTING,
    COORDINATED_HEDGE,
    GENERIC_CAUSES,
    GLOSS_CLOSE,
    GLOSS_OPEN,
    HARM_ASIDE_BEFORE_DRUG,
    HARM_NAMED_AFTER,
    HARM_NOUN,
    HARM_OF_BEFORE,
    HARM_THEN_LIST,
    HEDGE,
    HEDGE_WORDS,
    LIST_BREAK,
    MULTIFACTORIAL,
    ON_BETWEEN,
    QUALIFIED_HEDGE,
    REACTION_NOUN,
    REACTION_TO,
    SPACED_COMPOUND,
    TWO_DRUGS_EFFECT,
    causal_link,
    cause_glossed_by,
    contributing_in_gloss,
    each_dose,
    hedged_drug_alone,
    in_the_setting_of,
    is_allergy_record,
    is_indication,
    is_stop_cue,
    names_a_harm,
    on_then_lowered,
    potentiated,
    stopped_for,
    treats,
    tried_gloss,
)
from streamproc.nlp.ade.cues import actuality as cue_actuality
from streamproc.nlp.ade.inference import SentencePrediction
from streamproc.nlp.ade.severity import SeverityRules
from streamproc.nlp.assertion.course import remission_after, resolved
from streamproc.nlp.drugs.classes import class_members, class_names
from streamproc.nlp.drugs.lexicon import INTERACTION_AFTER
from streamproc.nlp.entities import is_list_name
from streamproc.nlp.types import AdeRelation, Entity, EntityLabel

log = logging.getLogger(__name__)

Predictor = Callable[[Sequence[str]], list[SentencePrediction]]
PACKAGED_MODEL = Path(__file__).resolve().parents[2] / "models" / "ade"
MAX_SENTENCE_CHARS = 600  # longer "sentences" (lists, run-ons) are cut at line breaks / this size

_NER_DROP = {"absent", "family"}
# Tagger slips seen on notes: a cue word or a bare function word tagged as the effect.
_NOT_AN_EFFECT = frozenset(
    [
        "no",
        "not",
        "none",
        "denies",
        "without",
        "negative",
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "with",
        "after",
        "on",
        "in",
        "to",
        "for",
        # nursing shorthand the entity model took for a finding: "cont" (continues), "VSS"
        "cont",
        "vss",
        "wnl",
        "nad",
        "stable",
        # "Cilostazol intolerance (headache, palpitations)": the record's word, the aside the harm
        "intolerance",
        "intolerant",
        # a qualifier of the finding before it: "Hyponatremia, moderate, hypotonic, most likely
        # from hydrochlorothiazide" had alerted "hypotonic" beside the hyponatremia
        "mild",
        "moderate",
        "severe",
        "acute",
        "chronic",
        "recurrent",
        "hypotonic",
        "hypertonic",
        "isotonic",
        "euvolemic",
        "hypovolemic",
        "hypervolemic",
        "immune-related",
        "immune",
        "related",
    ]
)
_NER_POTENTIAL = {"hypothetical", "conditional"}
# Nursing-note words the drug tagger took for a drug ("bolused with pain med which caused
# hypotension": drug "Pt").
_NOT_A_DRUG = frozenset(
    ["pt", "pts", "pt s", "patient", "patients"]
    # lab analytes the tagger (trained on BC5CDR chemicals) calls drugs: "tachycardia attributed
    # to clozapine; troponin and CRP normal" alerted troponin and CRP
    + ["troponin", "troponins", "crp", "c-reactive protein", "procalcitonin", "bnp", "nt-probnp"]
    + ["lactate", "ferritin", "ck", "cpk", "ldh", "inr", "ptt", "tsh", "a1c", "hba1c", "d-dimer"]
)
_LIST_NUMBER = re.compile(r"[ \t]*\d{1,2}[.)][ \t]")
_LEADING_NEGATION = frozenset(["no", "not", "without", "denies", "denied", "negative"])


def normalise(text: str) -> str:
    """Case/space-folded form used for ids and de-duplication."""
    return " ".join(re.sub(r"[^\w\s-]", " ", text.lower()).split())


def _pieces(start: int, end: int, text: str) -> list[tuple[int, int]]:
    """Cut an over-long sentence at line breaks, then at fixed size (model input is bounded)."""
    if end - start <= MAX_SENTENCE_CHARS:
        return [(start, end)]
    out: list[tuple[int, int]] = []
    pos = start
    for m in re.finditer(r"\n", text[start:end]):
        cut = start + m.end()
        if cut - pos >= 40:
            out.append((pos, cut))
            pos = cut
    out.append((pos, end))
    final: list[tuple[int, int]] = []
    for s, e in out:
        while e - s > MAX_SENTENCE_CHARS:
            space = text.rfind(" ", s, s + MAX_SENTENCE_CHARS)
            cut = space if space > s + 100 else s + MAX_SENTENCE_CHARS
            final.append((s, cut))
            s = cut
        final.append((s, e))
    return final


class AdeExtractor:
    """``extract(text, sentences, entities) -> list[AdeRelation]``; thread-compatible, no state."""

    def __init__(
        self,
        predictor: Predictor,
        threshold: float = 0.5,
        severity: SeverityRules | None = None,
        version: str = "ade-injected",
        assertion: Any | None = None,
        gate: bool = False,
        require_evidence: bool = False,
    ) -> None:
        self.gate = gate
        self.require_evidence = require_evidence
        self.predictor = predictor
        self.threshold = threshold
        self.severity = severity or SeverityRules.load()
        self.version = version
        self.assertion = assertion if assertion is not None else _context_assertion()

    @classmethod
    def from_settings(cls, settings: Any) -> AdeExtractor:
        """Load the packaged model (or ``settings.models.ade``) on the base encoder."""
        import torch

        from streamproc.devices import resolve_device
        from streamproc.nlp.ade.inference import predict_texts
        from streamproc.nlp.ade.model import base_encoder_path, load

        torch.set_num_threads(int(getattr(settings, "inference_threads", 1)))
        models = getattr(settings, "models", None)
        folder = getattr(models, "ade", None) or PACKAGED_MODEL
        base = getattr(models, "base_encoder", None)
        net = load(Path(folder), base).to(resolve_device(str(getattr(settings, "device", "auto"))))
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(base_encoder_path(base)))
        batch = int(getattr(settings, "batch_size", 16))

        def predictor(texts: Sequence[str]) -> list[SentencePrediction]:
            return predict_texts(net, tokenizer, texts, batch_size=batch)

        return cls(
            predictor,
            threshold=float(getattr(settings, "ade_threshold", net.cfg.threshold)),
            version=net.cfg.version,
            gate=net.cfg.gate_with_sentence,
            require_evidence=bool(getattr(settings, "ade_require_evidence", True)),
        )

    # ---- the stage ---------------------------------------------------------------------------
    def extract(
        self,
        text: str,
        sentences: Sequence[tuple[int, int]] | None = None,
        entities: Sequence[Entity] = (),
        names_a_problem: Callable[[str], bool] | None = None,
    ) -> list[AdeRelation]:
        """The drug -> effect pairs of ``text`` worth alerting on.

        ``names_a_problem`` (the analyzer passes its ICD-10-CM coder) vouches for an effect the
        entity stage did not tag, as the entity stage's own problems do under
        ``require_evidence``: "vitiligo", "corneal deposits", "lethargic" read in a case
        report.
        """
        started = time.perf_counter()
        if not sentences:
            sentences = [(m.start(), m.end()) for m in re.finditer(r"[^.!?\n]+[.!?]?", text)]
        windows: list[tuple[int, int, int, int]] = []  # piece start/end, sentence start/end
        for s, e in sentences:
            for ps, pe in _pieces(s, e, text):
                if text[ps:pe].strip():
                    windows.append((ps, pe, s, e))
        preds = self.predictor([text[ps:pe] for ps, pe, _, _ in windows]) if windows else []
        out: list[AdeRelation] = []
        seen: set[tuple[str, int, int]] = set()
        known = {id(ent) for ent in entities}  # spans the entity stage also found
        stated: set[tuple[int, int]] = set()  # sentences whose stated pairs were read
        for (ps, pe, ss, se), pred in zip(windows, preds, strict=True):
            piece = text[ps:pe]
            drug_names = {normalise(piece[a:b]) for a, b in pred.spans.get("ade_drug", [])}
            # the entity stage's spans in piece offsets: a model span read across a spaced dash
            # is cut to the part beside the other mention, and no part of the other kind
            problems = [(x.start - ps, x.end - ps) for x in entities if x.label == "problem"]
            not_problems = [(x.start - ps, x.end - ps) for x in entities if x.label != "problem"]
            for (d0, d1), (e0, e1), score in sorted(pred.scored(self.gate), key=lambda p: -p[2]):
                if score < self.threshold or not _plausible_effect(piece[e0:e1], drug_names):
                    continue
                if (
                    normalise(piece[d0:d1]) in _NOT_A_DRUG
                    or not re.search("[A-Za-z]", piece[d0:d1])
                    or _LIST_NUMBER.match(piece, d0)  # "4. CF-related diabetes": "4. CF"
                ):
                    continue  # "Pt", or a value the model read as a drug ("TSH now 12.4")
                # "malabsorption - IV iron sucrose infusions" is no drug of the anemia before it
                d0, d1 = _piece_toward(piece, d0, d1, (e0 + e1) // 2, problems)
                drug = self._entity(text, ps + d0, ps + d1, "drug", score, entities)
                if drug.concept is None and _modifies_a_problem(text, drug, entities):
                    continue  # "with oliguric acute kidney injury": a word of the finding's
                e0, e1 = _piece_toward(piece, e0, e1, (d0 + d1) // 2, not_problems)
                if not _plausible_effect(piece[e0:e1], drug_names):
                    continue  # "Metformin intolerance - GI side effects": the record's word
                effect = self._entity(text, ps + e0, ps + e1, "problem", score, entities)
                if _inside_procedure(effect, entities) or is_list_name(text, effect):
                    continue  # "pending allergy testing": a test, not an allergy
                if _qualifies_another(text, effect, entities, se):
                    continue  # "Acute pancreatitis, interstitial edematous, mild …": its kind
                effect = _without_drug(text, effect, drug)
                key = (normalise(drug.text), effect.start, effect.end)
                if key in seen or not re.search("[A-Za-z]", drug.text):
                    continue
                relation = self._relation(
                    text, ss, se, drug, effect, score, entities, known, names_a_problem
                )
                if relation is not None:
                    seen.add(key)
                    out.append(relation)
            # A cause the wording states outright that the model did not pair: "ACE
            # inhibitor-induced angioedema (lisinopril)". Read once per sentence, after its
            # first piece (a long sentence is cut into several).
            if (ss, se) in stated:
                continue
            stated.add((ss, se))
            for drug, effect in stated_pairs(text, ss, se, entities):
                key = (normalise(drug.text), effect.start, effect.end)
                if any(d == key[0] and s < effect.end and effect.start < e for d, s, e in seen):
                    continue  # the model's pair already ("Opioid-induced constipation": the
                    # model's "constipation", the stated compound's whole)
                # the entity stage's drug, or a class the wording names read as the note's one
                # drug of that class (``_class_drug``): either is the entity stage's evidence
                known.add(id(drug))
                relation = self._relation(
                    text, ss, se, drug, effect, 1.0, entities, known, names_a_problem
                )
                if relation is not None:
                    seen.add(key)
                    out.append(relation)
        # pairs across two sentences: "…was given IV ceftriaxone. Within 10 minutes she developed
        # diffuse urticaria" (the onset's cause in the sentence before), "…colitis, recurrent.
        # Precipitated by clindamycin." (the cause's effect in the sentence before)
        across = [
            *onset_pairs(text, sentences, entities),
            *trailing_cause_pairs(text, sentences, entities),
        ]
        for drug, effect, span_start, span_end in across:
            key = (normalise(drug.text), effect.start, effect.end)
            act = self._actuality(text, effect, span_start, span_end)
            if key in seen or act == "absent":
                continue
            seen.add(key)
            out.append(self._graded(text, span_start, span_end, drug, effect, 1.0, act))
        out = _with_interacting(text, _without_glossed_classes(text, out), entities)
        out = _classes_as_drugs(out, entities)
        log.debug(
            "ade extracted",
            extra={
                "sentences": len(windows),
                "relations": len(out),
                "ms": round((time.perf_counter() - started) * 1e3, 1),
            },
        )
        return out

    def _relation(
        self,
        text: str,
        ss: int,
        se: int,
        drug: Entity,
        effect: Entity,
        score: float,
        entities: Sequence[Entity],
        known: set[int],
        names_a_problem: Callable[[str], bool] | None,
    ) -> AdeRelation | None:
        """The pair as an alert-worthy relation, or None when the sentence reads it otherwise (an
        indication, an allergy record, no link, a negated effect)."""
        if _named_between(text, drug, effect):
            return None
        aside = _harm_aside(text, ss, se, drug.start)
        if aside is not None and not aside[0] < effect.start < aside[1]:
            return None  # the aside names the drug's own reaction; this problem is not it
        sentence = text[ss:se]
        drug_span = (drug.start - ss, drug.end - ss)
        effect_span = (effect.start - ss, effect.end - ss)
        if is_indication(sentence, *effect_span, drug_span) and not on_then_lowered(
            sentence, drug_span, effect_span
        ):
            return None
        if is_allergy_record(sentence, *effect_span):
            return None
        if remission_after(text, effect.end) is not None:
            return None  # "Follicular lymphoma in PR after R-CHOP": a response, not a harm
        if drug.start > effect.end and _BACKGROUND_BEFORE.search(
            text, max(ss, effect.start - 32), effect.start
        ):
            return None  # "Delirium superimposed on Alzheimer dementia, probably due to X": X's
            # is the delirium, the dementia the ground it arose on
        cue = causal_link(sentence, drug_span, effect_span)
        if (
            cue == "adjacent"
            and effect.end <= drug.start
            and _COMPOUND.match(text, drug.end, se)
            and not _compound_of_this(text, drug.end, se, _coded_findings(entities, ss, se))
        ):
            return None  # "Type 2 diabetes - steroid-induced hyperglycemia expected": the
            # compound names its own finding, not the item's
        if (
            cue is not None
            and cue.startswith("generic")
            and _drug_between(text, drug, effect, entities)
            and not _CLASS_GLOSS_BEFORE.search(text, max(ss, drug.start - 80), drug.start)
        ):
            return None  # "drug-induced liver injury, probably from X (RUCAM 7)": X's
        if (
            cue is not None
            and effect.end <= drug.start
            and _other_drug_between(text, drug, effect, entities)
        ):
            return None  # "hypothyroidism due to nivolumab - start levothyroxine": nivolumab's
        if cue is not None and is_stop_cue(cue) and _contraindication(effect):
            return None  # "metformin was stopped given CKD stage 4": no harm it caused
        if cue == "reaction to" and effect.historical:
            return None  # "Anesthetic history: anaphylaxis to rocuronium in 2018": the allergy
            # list's record, as "penicillin allergy (hives)" is
        if (
            self.require_evidence
            and cue is not None  # the coder is asked only where the sentence links them
            and id(effect) not in known
            and names_a_problem is not None
            and names_a_problem(effect.text)
        ):
            known.add(id(effect))
        adjacent = drug.end <= effect.start and bool(
            _ADJACENT.fullmatch(text, drug.end, effect.start)
        )
        if self.require_evidence and not _evidenced(cue, drug, effect, known, adjacent):
            return None
        if cue == "dechallenge":  # it went away when the drug was stopped: it happened
            act = _dechallenge_actuality(sentence, *effect_span)
        else:
            act = self._actuality(text, effect, ss, se)
        if (
            act == "potential"
            and effect.assertion == "conditional"
            and stopped_for(sentence, drug_span, effect_span)
        ):
            act = "actual"  # "stopped tamsulosin … because of dizziness on standing": it happened
        if act == "absent":
            return None
        return self._graded(text, ss, se, drug, effect, score, act)

    def _graded(
        self, text: str, ss: int, se: int, drug: Entity, effect: Entity, score: float, act: str
    ) -> AdeRelation:
        """The relation with its seriousness and severity read off the sentence ``[ss, se)``."""
        grade = self.severity.grade(effect.text, text[ss:se])
        return AdeRelation(
            drug=drug,
            effect=effect,
            score=round(score, 4),
            actuality=cast(Literal["actual", "potential"], act),
            sentence_start=ss,
            sentence_end=se,
            seriousness="serious" if grade.serious else "non-serious",
            severity=grade.severity,
        )

    # ---- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _entity(
        text: str, start: int, end: int, label: str, score: float, entities: Sequence[Entity]
    ) -> Entity:
        wanted = {"drug": ("drug", "treatment"), "problem": ("problem",)}[label]
        overlapping = [e for e in entities if e.label in wanted and e.start < end and start < e.end]
        if overlapping:  # the most overlapped: "4 - amiodarone" is amiodarone, not the "12.4"
            return max(overlapping, key=lambda e: min(end, e.end) - max(start, e.start))
        while start < end and not text[start].isalnum():
            start += 1  # "- Fluoroquinolone-associated": the list's dash is no part of the drug
        while end > start and not text[end - 1].isalnum():
            end -= 1
        return Entity(
            label=cast(EntityLabel, label),
            start=start,
            end=end,
            text=text[start:end],
            score=round(score, 4),
        )

    def _actuality(self, text: str, effect: Entity, ss: int, se: int) -> str:
        if resolved(effect.assertion, effect.assertion_cue):
            return "actual"  # "Vancomycin-associated AKI, resolved": it happened
        if effect.assertion in _NER_DROP:
            return "absent"
        first = normalise(effect.text).split()[:1]
        if first and first[0] in _LEADING_NEGATION:  # the tagger took the cue in: "No nausea"
            return "absent"
        if effect.assertion in _NER_POTENTIAL:
            return "potential"
        sentence = text[ss:se]
        start, end = effect.start - ss, effect.end - ss
        if self.assertion is not None:
            result = self.assertion.assert_text(sentence, start, end).assertion
            if result in _NER_DROP:
                return "absent"
            if result in _NER_POTENTIAL:
                return "potential"
        return cue_actuality(sentence, start, end)[0]


_ADJACENT = re.compile(r"[ \t]*-?[ \t]*")


def _piece_toward(
    piece: str,
    start: int,
    end: int,
    drug_at: int,
    other_kind: Sequence[tuple[int, int]] = (),
) -> tuple[int, int]:
    """The part of a span cut by a spaced dash that lies toward the other mention: in "MRI
    shows enlarged pituitary - hypophysitis due to ipilimumab" the model's one effect span is
    two findings, and the one the cause is written beside is the effect. A part the entity
    stage read as the other kind (``other_kind``: "insulin sliding scale" of "hyperglycemia -
    insulin sliding scale while on dexamethasone") is none."""
    cuts = [m.span() for m in re.finditer(r"[ \t]+[-–—][ \t]+", piece[start:end])]
    if not cuts:
        return start, end
    bounds = [start] + [start + b for _, b in cuts]
    ends = [start + a for a, _ in cuts] + [end]
    parts = [
        (a, b)
        for a, b in zip(bounds, ends, strict=True)
        if not any(a < y and x < b for x, y in other_kind)
    ]
    if not parts:
        return start, end
    return min(parts, key=lambda p: min(abs(drug_at - p[0]), abs(drug_at - p[1])))


def _inside_procedure(effect: Entity, entities: Sequence[Entity]) -> bool:
    """Whether the model's effect is part of a longer test or treatment the entity stage tagged
    ("allergy" of "allergy testing", "pain" of "pain management") and no problem of its own (a
    finding the tagger called a test, "pigmentation", is still the model's to pair)."""
    return (
        effect.label == "problem"
        and not any(e is effect for e in entities)
        and any(
            e.label in ("test", "treatment")
            and e.start <= effect.start
            and effect.end <= e.end
            and e.end - e.start > effect.end - effect.start
            for e in entities
        )
    )


def _evidenced(
    cue: str | None, drug: Entity, effect: Entity, known: set[int], adjacent: bool = False
) -> bool:
    """``require_evidence``: the sentence links drug and effect (``cue``, from
    :func:`causal_link`), the entity stage found the effect as a problem unless its own
    wording names a harm ("vasomotor reactions after gold", "cardiotoxicity in patients
    receiving pentamidine"; not "urine after lasix", nor "asleep due to oxycodone"), and it
    found the drug too unless the link is a compound naming it ("vancomycin-induced",
    "amoxicillin rash", or the drug right before the effect, ``adjacent``: "doxorubicin
    cardiotoxicity"). Without this, nursing notes alerted on "NEURO: sedated on propofol"
    and "PMHX: COPD, asthma" (docs/adverse-events.md, "On nursing notes").
    """
    if cue is None or (id(effect) not in known and not names_a_harm(effect.text)):
        return False
    return id(drug) in known or cue in COMPOUND_CUES or adjacent


# a spaced dash right after an effect, a grade at most between: "Thrombocytopenia, mild - "
_DASH_AFTER_EFFECT = re.compile(r"[ \t]*,?[ \t]*(?:\w+[ \t]*)?[ \t][-\u2013][ \t]")

# "<effect>, likely precipitated by <drug>"
_CAUSE_THEN_DRUG = re.compile(
    HEDGE_WORDS + r"(?:due[ \t]+to|secondary[ \t]+to|caused[ \t]+by|induced[ \t]+by"
    r"|precipitated[ \t]+by|attributed[ \t]+to|attributable[ \t]+to"
    # the mechanism, then its cause: "Heart failure …, decompensated - fluid retention
    # precipitated by pioglitazone (thiazolidinedione)"
    r"|[a-z]+(?:[ \t]+[a-z]+)?[ \t]+(?:precipitated|caused|triggered)[ \t]+by"
    # "Postoperative delirium, likely from diphenhydramine", "Medication overuse headache from
    # triptan and butalbital use" (only where a dictionary drug or a class follows at once:
    # "bleeding from the IV site" names none)
    r"|from"
    # "Mild transaminase elevation since starting elexacaftor/tezacaftor/ivacaftor"
    r"|since[ \t]+(?:starting|initiating|initiation[ \t]+of|beginning))[ \t]+"
    r"(?:(?:the|his|her|their)[ \t]+)?",
    re.I,
)
_COMPOUND = re.compile(COMPOUND, re.I)
_SPACED_COMPOUND = re.compile(SPACED_COMPOUND, re.I)
_CODED = 0.5  # the Condition threshold: an effect the coder names
# the compound, then the effect at once or after up to two words ("-induced peripheral ...")
_COMPOUND_THEN_WORDS = re.compile(COMPOUND + r"[ \t]+(?:[\w'-]+[ \t]+){0,2}", re.I)
# "<drug> causes constipation", "trazodone caused morning grogginess": the drug the subject of
# "causes" with the effect at once (not "can / may cause": a warning, which ConText reads too)
# "Haloperidol given on days 1-2 caused acute dystonia": a participle phrase may come between
_DRUG_CAUSES = re.compile(
    r"(?:(?:[ \t]+(?:given|started|used|taken|administered)(?:[ \t]+[\w/-]+){0,4}?)?"
    r"[ \t]+(?:causes|caused|induced|precipitated)"
    # "treated with ibuprofen, course complicated by oliguria"
    r"|[ \t]*,[ \t]*(?:the[ \t]+)?(?:course|therapy|treatment)[ \t]+(?:was[ \t]+)?complicated[ \t]+by)"
    r"[ \t]+(?:(?:his|her|an?|the)[ \t]+)?",
    re.I,
)
_ADJECTIVES = re.compile(r"(?:[\w-]+[ \t]+){0,2}")
# "<drug> side effects (headache, jaw pain)", "<drug> intolerance (myalgias)": a harm word after
# the drug glossed by the findings it was (not "allergy (rash)": an allergy is a record, read by
# ``is_allergy_record``)
_HARM_GLOSS_AFTER_DRUG = re.compile(rf"[ \t]+{HARM_NOUN}[ \t]*\([ \t]*", re.I)
_TOXICITY = re.compile(r"\w*toxicity", re.I)
# What a drug is stopped *for* that it did not cause: a contraindication ("metformin was stopped
# given CKD stage 4", "stop lisinopril given pregnancy"), a disease it would worsen.
_CONTRAINDICATIONS = ("N18", "O", "Z", "K70", "K72", "K74", "K76", "I50", "E10", "E11", "C", "F0")


def _contraindication(effect: Entity) -> bool:
    return bool(effect.codes) and effect.codes[0].code.startswith(_CONTRAINDICATIONS)


_ADJACENT_WORDS = re.compile(r"[ \t]+")
_OTHER_CAUSE_AND = re.compile(
    r"(?:[a-z-]+[ \t]+){0,2}?[a-z-]+[ \t]*,?[ \t]+(?:and|plus)[ \t]+(?:(?:the|his|her)[ \t]+)?",
    re.I,
)
_AND_DRUG = re.compile(r"[ \t]*(?:,|and|or|&|/|plus)[ \t]*(?:and[ \t]+)?", re.I)
# "<class>-induced <effect> (<drug>)": the class names the kind of cause, the gloss the drug.
_CLASS_COMPOUND_BEFORE = re.compile(COMPOUND + r"[ \t]+$", re.I)
_HEDGED_CLASS_GLOSS = re.compile(
    HEDGE_WORDS + r"(?:[\w/]+[ \t-]+){0,4}?[\w/]+" + COMPOUND + r"[ \t]*\([ \t]*", re.I
)
# inside the gloss of a class compound: "opioid-related (oxycodone, " before "hydromorphone"
_CLASS_GLOSS_BEFORE = re.compile(COMPOUND + r"[ \t]*\([^()]*\Z", re.I)


# "statin intolerant (myalgias with atorvastatin)", "penicillin reaction (hives after
# amoxicillin)": an aside after a harm word names the reaction and the drug that gave it
_HARM_ASIDE_OPEN = re.compile(
    r"(?:intoleran\w*|allerg\w*|reactions?|side[ \t-]effects?|\w*toxicity)[ \t]*\([ \t]*$", re.I
)
_EFFECT_THEN_DRUG_IN_ASIDE = re.compile(r"[ \t]+(?:with|on|from|after|to)[ \t]+", re.I)


def _harm_aside(text: str, ss: int, se: int, at: int) -> tuple[int, int] | None:
    """The bracketed aside after a harm word that ``at`` lies in, as (open, close)."""
    opened = text.rfind("(", ss, at)
    closed = text.find(")", at, se)
    if opened < 0 or closed < 0 or ")" in text[opened:at] or "(" in text[at:closed]:
        return None
    if not _HARM_ASIDE_OPEN.search(text, max(ss, opened - 40), opened + 1):
        return None
    return opened, closed


# A sentence that opens with the time since a drug was given and says what began: "Within 10
# minutes she developed …", "Two days later, she noted …", "Shortly after, …"
_ONSET_OPENING = re.compile(
    r"[ \t]*(?:(?:within|about|approximately|some)[ \t]+)?"
    r"(?:\d+|a[ \t]+few|few|several|one|two|three|four|an?)[ \t]+(?:minutes?|hours?|days?)"
    r"(?:[ \t]+(?:later|after(?:wards)?))?\b"
    r"|[ \t]*(?:shortly|soon|immediately|minutes|hours)[ \t]+(?:after(?:wards)?|later)\b"
    r"|[ \t]*later[ \t]+that[ \t]+(?:day|night)\b"
    r"|[ \t]*the[ \t]+(?:next|following)[ \t]+(?:day|morning)\b",
    re.I,
)
_ONSET_VERB = re.compile(
    r"\b(?:developed|broke[ \t]+out[ \t]+in|experienced|noted|became|complained[ \t]+of)\b", re.I
)
_GIVEN_BEFORE = re.compile(
    r"\b(?:given|received|started|administered|took|infused|injected|initiated|began)\b", re.I
)


def onset_pairs(
    text: str, sentences: Sequence[tuple[int, int]], entities: Sequence[Entity]
) -> list[tuple[Entity, Entity, int, int]]:
    """(drug, effect, start, end) of the reactions an onset sentence tells after the one drug
    the sentence before says was given: "She was given IV ceftriaxone at urgent care. Within 10
    minutes she developed diffuse urticaria, lip swelling and wheezing." The ADE model reads
    one sentence at a time and cannot pair them. Only one dictionary drug may be given there,
    and only coded problems after the onset verb count; the span is the two sentences."""
    out: list[tuple[Entity, Entity, int, int]] = []
    for (ps, pe), (ss, se) in zip(sentences, sentences[1:], strict=False):
        opening = _ONSET_OPENING.match(text, ss, se)
        verb = _ONSET_VERB.search(text, opening.end(), se) if opening else None
        if verb is None:
            continue
        given = [
            e
            for e in entities
            if e.label == "drug" and e.concept is not None and ps <= e.start and e.end <= pe
        ]
        if len({normalise(d.text) for d in given}) != 1:
            continue
        drug = given[0]
        if not _GIVEN_BEFORE.search(text, ps, drug.start):
            continue
        out += [
            (drug, e, ps, se)
            for e in entities
            if e.label == "problem"
            and e.codes
            and e.codes[0].score >= _CODED
            and verb.end() <= e.start
            and e.end <= se
        ]
    return out


# "Clostridioides difficile colitis, recurrent, severe (WBC > 15). Precipitated by clindamycin.
# Proton pump inhibitor likely contributing.": the cause told in sentences of their own after the
# problem that opens the item
_CAUSE_SENTENCE = re.compile(
    r"[ \t]*(?:(?:most[ \t]+)?(?:likely|probably|possibly|presumably|presumed|suspected|felt)"
    r"[ \t]+(?:to[ \t]+be[ \t]+)?)?(?:(?:precipitated|caused|induced|triggered|provoked)[ \t]+by"
    r"|(?:due|secondary|attributed|attributable)[ \t]+to)[ \t]+(?:the[ \t]+|his[ \t]+|her[ \t]+)?",
    re.I,
)
# "Acetaminophen and alcohol likely contributing.": the contributors, drugs or not, then the cue
_CAUSE_WORDS = r"[A-Za-z][\w/-]*(?:[ \t]+[A-Za-z][\w/-]*){0,2}"
_CONTRIBUTORS = re.compile(
    rf"[ \t\n]*{_CAUSE_WORDS}(?:[ \t]*(?:,|and|&|/|plus)[ \t]*(?:and[ \t]+)?{_CAUSE_WORDS}){{0,3}}"
    + CONTRIBUTING,
    re.I,
)
_CONTRIBUTOR_JOINER = re.compile(r"[ \t]*(?:,|\band\b|&|/|\bplus\b)[ \t]*(?:and[ \t]+)?", re.I)
# a problem that opens its sentence: after a list number or bullet, nothing else before it
_OPENS = re.compile(
    r"[ \t\n]*(?:(?:#?\d{1,2}[.)]|[-*\u2022])[ \t]*)?"
    # its cause compounded before it: "1. Isoniazid-induced hepatotoxicity"
    r"(?:[A-Za-z][\w/]*(?:[ \t]+[A-Za-z][\w/]*)?-(?:induced|associated|related)[ \t]+)?",
    re.I,
)


def _cause_sentence_drugs(text: str, ss: int, se: int, entities: Sequence[Entity]) -> list[Entity]:
    """The drugs a sentence of its own names as a cause ("Precipitated by clindamycin.",
    "Proton pump inhibitor likely contributing."): each dictionary drug, or the class as the
    note's one drug of that class; empty for any other sentence."""
    drugs = {
        e.start: e
        for e in entities
        if e.label in ("drug", "treatment") and e.concept is not None and ss <= e.start < se
    }
    cause = _CAUSE_SENTENCE.match(text, ss, se)
    if cause is not None:  # "Precipitated by clindamycin and omeprazole."
        return _drugs_listed_at(text, cause.end(), se, drugs, entities)
    listed = _CONTRIBUTORS.match(text, ss, se)
    if listed is None:
        return []
    starts = [ss + len(text[ss:se]) - len(text[ss:se].lstrip())]
    starts += [m.end() for m in _CONTRIBUTOR_JOINER.finditer(text, starts[0], listed.end())]
    out: list[Entity] = []
    for at in starts:
        drug = None if out and at < out[-1].end else _drug_at(text, at, se, drugs, entities)
        if drug is not None:  # (not "sulfamethoxazole" of "trimethoprim/sulfamethoxazole")
            out.append(drug)
    return out


def _clauses(text: str, sentences: Sequence[tuple[int, int]]) -> list[tuple[int, int, bool]]:
    """The sentences cut at their semicolons: (start, end, whether the sentence's first)."""
    out = []
    for ss, se in sentences:
        cuts = [m.start() for m in re.finditer(";", text[ss:se])]
        starts = [ss] + [ss + c + 1 for c in cuts]
        ends = [ss + c for c in cuts] + [se]
        out += [(cs, ce, cs == ss) for cs, ce in zip(starts, ends, strict=True)]
    return out


def trailing_cause_pairs(
    text: str, sentences: Sequence[tuple[int, int]], entities: Sequence[Entity]
) -> list[tuple[Entity, Entity, int, int]]:
    """(drug, effect, start, end) where sentences of their own name the cause of the problem
    that opens the sentence before them: "1. Clostridioides difficile colitis, recurrent,
    severe (…), not fulminant (…). Precipitated by clindamycin. Proton pump inhibitor likely
    contributing." The ADE model reads one sentence at a time and cannot pair them. Only a
    coded problem opening its item counts; the span runs from its sentence to the cause's."""
    out: list[tuple[Entity, Entity, int, int]] = []
    head: tuple[Entity, int] | None = None
    # a clause after a semicolon reads as a sentence of its own: "…, with additive risk from
    # piperacillin-tazobactam co-administration; ACE inhibitor contributing."
    for ss, se, first_clause in _clauses(text, sentences):
        drugs = _cause_sentence_drugs(text, ss, se, entities)
        if drugs:
            if head is not None:
                out += [(drug, head[0], head[1], se) for drug in drugs]
            continue
        if not first_clause:
            continue  # "… - isoniazid stopped today; not to be rechallenged.": still its item
        opening = _OPENS.match(text, ss, se)
        first = min(
            (e for e in entities if e.label == "problem" and ss <= e.start < se),
            key=lambda e: e.start,
            default=None,
        )
        head = (
            (first, ss)
            if first is not None
            and opening is not None
            and first.start == opening.end()
            and first.codes
            and first.codes[0].score >= _CODED
            else None
        )
    return out


def stated_pairs(
    text: str, ss: int, se: int, entities: Sequence[Entity]
) -> list[tuple[Entity, Entity]]:
    """(drug, effect) pairs of the sentence ``[ss, se)`` whose wording names the drug as the
    effect's cause outright: a class compound and a gloss ("ACE inhibitor-induced angioedema
    (lisinopril)", "NSAID-induced gastritis (ibuprofen)"), a causal phrase right after the
    effect ("Urinary retention, likely precipitated by oxybutynin and opioids"), the drug as
    the subject of "causes" ("ferrous sulfate causes constipation"), or a compound
    of the drug itself before or after the effect ("Mycophenolate-associated diarrhea",
    "diabetes mellitus, probably tacrolimus-induced"). The model, trained on abstracts, left
    such pairs out of EMR-style notes; the usual checks still apply."""
    inside = sorted(
        (e for e in entities if ss <= e.start and e.end <= se), key=lambda e: (e.start, e.end)
    )
    # only a drug the dictionary names: the tagger also calls organisms, procedures and routes
    # drugs ("fungemia due to Trichosporon", "myelopathy due to intrathecal injection"); a
    # treatment it names is a drug given some way ("Hypoglycemia due to insulin infusion")
    drugs = {
        e.start: e for e in inside if e.label in ("drug", "treatment") and e.concept is not None
    }
    pairs: list[tuple[Entity, Entity]] = []
    # an effect the coder names: a fragment ("hand" of "hand and foot deformities", "recall" of
    # "recall pneumonitis") is no finding to alert on
    findings = _coded_findings(inside, ss, se)
    qualifiers = {
        id(g)
        for f in findings
        if (hedge := QUALIFIED_HEDGE.match(text, f.end, se)) is not None
        and _names_a_cause(text, hedge.end(), entities)
        for g in findings
        if f.end <= g.start and g.end <= hedge.end()
    }
    for effect in findings:
        # a spaced dash after the sentence's first finding ends the item's head ("Thrombocytopenia,
        # mild - probably valproate-related"); after a later one it still reads as the head's
        # ("C. difficile colitis … with AKI - likely precipitated by clindamycin")
        head = (
            effect is findings[0]
            or not _DASH_AFTER_EFFECT.match(text, effect.end)
            # "Breast tenderness and bloating - likely estrogen-related": coordinated with it
            or _AND_DRUG.fullmatch(text, findings[0].end, effect.start) is not None
        )

        aside = _harm_aside(text, ss, se, effect.start)
        linked = _EFFECT_THEN_DRUG_IN_ASIDE.match(text, effect.end, se) if aside else None
        drug = drugs.get(linked.end()) if linked else None
        if aside is not None and drug is not None and drug.end <= aside[1]:
            pairs.append((drug, effect))
        if _CLASS_COMPOUND_BEFORE.search(text, max(ss, effect.start - 12), effect.start):
            opened = GLOSS_OPEN.match(text, effect.end)
            drug = drugs.get(opened.end()) if opened else None
            if drug is not None and GLOSS_CLOSE.match(text, drug.end):
                pairs.append((drug, effect))
        # "Acute pancreatitis, probably GLP-1 receptor agonist-associated (semaglutide)": a
        # class compound after the effect, glossed by its drug
        classed = _after(_HEDGED_CLASS_GLOSS, text, effect, se, head)
        # ... and each drug a gloss lists: "Postoperative delirium - likely opioid-related
        # (oxycodone, hydromorphone PCA)"; a gloss that does not close on a drug names none
        in_gloss = drugs.get(classed.end()) if classed else None
        glossed: list[Entity] = []
        while in_gloss is not None:
            glossed.append(in_gloss)
            if GLOSS_CLOSE.match(text, in_gloss.end):
                pairs.extend((d, effect) for d in glossed)
                break
            more = _AND_DRUG.match(text, in_gloss.end, se)
            in_gloss = drugs.get(more.end()) if more else None
        # "Anaphylaxis to iodinated contrast (iohexol)": the reaction and its drug (one on
        # record, in a history, is refused with its cue in ``_relation``)
        to = (
            REACTION_TO.match(text, effect.end, se)
            if REACTION_NOUN.fullmatch(effect.text)
            else None
        )
        if to is not None and to.end() in drugs:
            pairs.append((drugs[to.end()], effect))
        # "likely mycophenolate-related", "likely amoxicillin allergy" after the effect
        # (not a qualifier of the finding before, read as a finding: "Acute pancreatitis,
        # interstitial edematous, mild …, most likely azathioprine-induced")
        named = _after(HEDGE, text, effect, se, head and id(effect) not in qualifiers)
        if named is not None and named.end() not in drugs:
            qualified = _after(
                QUALIFIED_HEDGE, text, effect, se, head and id(effect) not in qualifiers
            )
            named = qualified or named
        drug = drugs.get(named.end()) if named else None
        # "Growth deceleration, likely steroid-related": a class compound, the note's one drug
        # (a gloss after it names the drug itself: ``_HEDGED_CLASS_GLOSS`` above)
        classed_after = class_names().match(text, named.end(), se) if named and not drug else None
        compound = (
            _COMPOUND.match(text, classed_after.end(), se)
            or _SPACED_COMPOUND.match(text, classed_after.end(), se)
            if classed_after
            else None
        )
        one = _class_drug(text, classed_after, entities) if compound and classed_after else None
        if one is not None and compound and not GLOSS_OPEN.match(text, compound.end()):
            pairs.append((one, effect))
        if drug is None and head:  # "Hypomagnesemia and hyperkalemia, tacrolimus effect"
            drug = next(
                (
                    d
                    for d in drugs.values()
                    if effect.end < d.start
                    and COORDINATED_HEDGE.fullmatch(text, effect.end, d.start)
                ),
                None,
            )
        if drug is not None and (
            _compound_of_this(text, drug.end, se, findings)
            or HARM_NAMED_AFTER.match(text, drug.end, se)
            or hedged_drug_alone(text, effect.end, (drug.start, drug.end))
        ):
            pairs.append((drug, effect))
            # "likely tamsulosin plus metoprolol": the second drug named with it too
            more = _AND_DRUG.match(text, drug.end, se)
            second = drugs.get(more.end()) if more else None
            if second is not None and hedged_drug_alone(
                text, effect.end, (second.start, second.end)
            ):
                pairs.append((second, effect))
        # "Hyperkalemia, mild - tacrolimus and TMP-SMX effect": two drugs, then the harm word
        more = _AND_DRUG.match(text, drug.end, se) if drug is not None else None
        second = drugs.get(more.end()) if more else None
        if (
            drug is not None
            and second is not None
            and TWO_DRUGS_EFFECT.match(text, drug.end, se)
            and not HARM_NAMED_AFTER.match(text, drug.end, se)
        ):
            pairs += [(drug, effect), (second, effect)]
        # "Delirium, hypoactive, multifactorial: hyponatremia, anticholinergic burden
        # (oxybutynin), sedative-hypnotic (zolpidem)": each drug of its contributors' list
        listed = _after(MULTIFACTORIAL, text, effect, se, head)
        if listed is not None:
            pairs.extend((d, effect) for d in drugs.values() if d.start >= listed.end())
        # "Hyponatremia due to SIADH, most likely sertraline-induced (SSRI), with thiazide
        # contributing": a contributor later in the item's clause, a drug or the note's one
        # drug of a class
        if head:
            pairs.extend((d, effect) for d in _with_contributors(text, effect, se, drugs, entities))
        # "Hyperkalemia on spironolactone - reduce spironolactone"
        on = _after(ON_BETWEEN, text, effect, se, head)
        drug = drugs.get(on.end()) if on else None
        if drug is not None and on_then_lowered(
            text[ss:se], (drug.start - ss, drug.end - ss), (effect.start - ss, effect.end - ss)
        ):
            pairs.append((drug, effect))
        # "vancomycin and piperacillin-tazobactam nephrotoxicity": the drugs named into a harm
        if _TOXICITY.fullmatch(effect.text):
            drug = next(
                (d for d in drugs.values() if _ADJACENT_WORDS.fullmatch(text, d.end, effect.start)),
                None,
            )
            while drug is not None:
                pairs.append((drug, effect))
                drug = next(
                    (
                        d
                        for d in drugs.values()
                        if d.end < drug.start and _AND_DRUG.fullmatch(text, d.end, drug.start)
                    ),
                    None,
                )
        cause = _after(_CAUSE_THEN_DRUG, text, effect, se, head)
        drug = drugs.get(cause.end()) if cause else None
        # "from vomiting and the diuretic": a cause that is no drug nor class, then the drug
        other = (
            _OTHER_CAUSE_AND.match(text, cause.end(), se)
            if cause and drug is None and not class_names().match(text, cause.end(), se)
            else None
        )
        if other is not None:
            drug = drugs.get(other.end())
        if cause is not None and drug is None:  # "likely from inhaled corticosteroid"
            named = class_names().match(text, (other or cause).end(), se)
            drug = _class_drug(text, named, entities) if named else None
            if drug is not None:
                pairs.append((drug, effect))
                # "from triptan and butalbital use": the drug named with the class too
                more = _AND_DRUG.match(text, drug.end, se)
                drug = drugs.get(more.end()) if more else None
        # "Steroid-induced hyperglycemia": a class compound with no gloss, the note's one drug
        compound = _CLASS_COMPOUND_BEFORE.search(text, max(ss, effect.start - 12), effect.start)
        named = (
            next(
                (
                    m
                    for m in class_names().finditer(
                        text, max(ss, compound.start() - 40), compound.start()
                    )
                    if m.end() == compound.start()
                ),
                None,
            )
            if compound
            else None
        )
        if named is None:  # "Contrast-induced acute kidney injury" read as one problem
            named = class_names().match(text, effect.start, effect.end)
            if named is not None and not _COMPOUND.match(text, named.end(), effect.end):
                named = None
        one_of_class = _class_drug(text, named, entities) if named else None
        if one_of_class is not None and not GLOSS_OPEN.match(text, effect.end):
            pairs.append((one_of_class, effect))
        while drug is not None:  # "precipitated by oxybutynin and opioids": each of them
            pairs.append((drug, effect))
            more = _AND_DRUG.match(text, drug.end, se)
            drug = drugs.get(more.end()) if more else None
    for cause_drug in drugs.values():
        verb = _DRUG_CAUSES.match(text, cause_drug.end, se)
        caused = (
            next(
                (
                    e
                    for e in findings
                    if verb.end() <= e.start and _ADJECTIVES.fullmatch(text, verb.end(), e.start)
                ),
                None,
            )
            if verb
            else None
        )
        if caused is not None:
            pairs.append((cause_drug, caused))
        # "doxycycline was discontinued for rash", "stop lisinopril given cough"
        reason = next(
            (
                e
                for e in findings
                if stopped_for(text, (cause_drug.start, cause_drug.end), (e.start, e.end))
            ),
            None,
        )
        if reason is not None:
            pairs.append((cause_drug, reason))
        # "Treprostinil side effects (headache, jaw pain)": the drug's harm, glossed by findings
        gloss = _HARM_GLOSS_AFTER_DRUG.match(text, cause_drug.end, se)
        closed = text.find(")", gloss.end(), se) if gloss else -1
        pairs.extend(
            (cause_drug, e) for e in findings if gloss and gloss.end() <= e.start < e.end <= closed
        )
        # "Linezolid toxicity: myelosuppression (thrombocytopenia, …), peripheral neuropathy":
        # the drug's harm, then what it was
        harm_list = HARM_THEN_LIST.match(text, cause_drug.end, se)
        pairs.extend(
            (cause_drug, e)
            for e in findings
            if harm_list
            and e.start >= harm_list.end()
            and not LIST_BREAK.search(text, harm_list.end(), e.start)  # its clause, no plan
        )
        # "Behavioral side effects of levetiracetam (irritability, aggression)": the harm named
        # before the drug, glossed after it
        before_harm = HARM_OF_BEFORE.search(text, max(ss, cause_drug.start - 30), cause_drug.start)
        opened = GLOSS_OPEN.match(text, cause_drug.end) if before_harm else None
        closed = text.find(")", opened.end(), se) if opened else -1
        pairs.extend(
            (cause_drug, e)
            for e in findings
            if opened and opened.end() <= e.start < e.end <= closed
        )
        # "Injection-site reactions (erythema, itching) with emicizumab": the aside, then the drug
        before = HARM_ASIDE_BEFORE_DRUG.search(text, ss, cause_drug.start)
        pairs.extend(
            (cause_drug, e)
            for e in findings
            if before and before.start(1) <= e.start < e.end <= before.end(1)
        )
        # "Failed risperidone (galactorrhea)", "Tried … clindamycin/rifampin (severe diarrhea)":
        # a drug tried before, glossed by what it did (not "tried lisinopril (for hypertension)")
        gloss_at = tried_gloss(text, (cause_drug.start, cause_drug.end), ss, se)
        gloss_end = text.find(")", gloss_at, se) if gloss_at is not None else -1
        if gloss_at is not None and gloss_end > 0:
            glossed = [e for e in findings if gloss_at <= e.start < e.end <= gloss_end]
            combined = [
                d
                for d in drugs.values()
                if d.end < cause_drug.start and text[d.end : cause_drug.start] == "/"
            ]  # "clindamycin/rifampin (…)": the combination's
            pairs.extend((d, e) for d in (*combined, cause_drug) for e in glossed)
        # "headaches and jaw pain with each treprostinil dose increase"
        each = each_dose(text, (cause_drug.start, cause_drug.end), ss, se)
        if each is not None:
            pairs.extend((cause_drug, e) for e in _coordinated_before(text, each, findings))
    # "Mycophenolate-associated diarrhea", "Tacrolimus-induced tremor and headache"
    for cause_drug in drugs.values():
        compound = _COMPOUND_THEN_WORDS.match(text, cause_drug.end, se)
        if compound is None or _CLASS.search(cause_drug.text):
            continue  # a class compound names its drug in a gloss (above)
        named_effect = next(
            (e for e in findings if cause_drug.end < e.start <= compound.end()), None
        )
        if named_effect is not None:
            pairs.append((cause_drug, named_effect))
    # wordings that name the cause after its finding, each read by a cue test of (the finding's
    # end, the drug): "Supratherapeutic INR with bleeding - warfarin potentiated by TMP-SMX" (both
    # drugs), "hypercalcemia from milk-alkali syndrome (calcium carbonate)", "orthostatic
    # hypotension (tamsulosin likely contributing)", "Progressive disseminated histoplasmosis (…)
    # in the setting of TNF-alpha inhibitor therapy (infliximab) plus azathioprine"
    for names_the_cause in _CAUSE_AFTER_THE_FINDING:
        pairs += [
            (d, f)
            for d in drugs.values()
            for f in findings
            if f.end <= d.start and names_the_cause(text, f.end, (d.start, d.end))
        ]
    return pairs


_CAUSE_AFTER_THE_FINDING: tuple[Callable[[str, int, tuple[int, int]], bool], ...] = (
    potentiated,
    cause_glossed_by,
    contributing_in_gloss,
    in_the_setting_of,
)


def _qualifies_another(text: str, effect: Entity, entities: Sequence[Entity], end: int) -> bool:
    """``effect`` lies in the qualifiers written after another problem of its sentence, before
    that problem's cause: "interstitial edematous" of "Acute pancreatitis, interstitial
    edematous, mild (no organ failure), most likely azathioprine-induced"."""
    for head in entities:
        if head.label != "problem" or head is effect or head.end > effect.start:
            continue
        if text.count("\n", head.end, effect.start):
            continue
        hedge = QUALIFIED_HEDGE.match(text, head.end, end)
        if (
            hedge is not None
            and effect.end <= hedge.end()
            and _names_a_cause(text, hedge.end(), entities)
        ):
            return True
    return False


def _names_a_cause(text: str, at: int, entities: Sequence[Entity]) -> bool:
    """A drug, or a class, is written at ``at`` (the hedge before it named a cause, not "expected
    to improve")."""
    return any(e.start == at and e.label in ("drug", "treatment") for e in entities) or bool(
        class_names().match(text, at)
    )


def _coded_findings(entities: Sequence[Entity], ss: int, se: int) -> list[Entity]:
    """The problems of ``[ss, se)`` the coder names (fragments are no finding)."""
    return [
        e
        for e in entities
        if e.label == "problem"
        and ss <= e.start
        and e.end <= se
        and e.codes
        and e.codes[0].score >= _CODED
    ]


def _compound_of_this(text: str, at: int, end: int, findings: Sequence[Entity]) -> bool:
    """A compound ("-related", "-associated") at ``at`` that ends the wording, not one that runs
    into the next finding: "Thrombocytopenia, mild - probably valproate-related", but not "ADHD,
    combined type - methylphenidate-associated appetite suppression", whose compound is the
    appetite suppression's."""
    compound = _COMPOUND.match(text, at, end)
    if compound is None:
        return False
    return not any(
        f.start <= compound.end() < f.end
        or (f.start >= compound.end() and not text[compound.end() : f.start].strip())
        for f in findings
    )


def _coordinated_before(text: str, at: int, findings: Sequence[Entity]) -> list[Entity]:
    """The findings written right before ``at``, the last first, joined by "and" or commas
    ("headaches and jaw pain")."""
    out: list[Entity] = []
    for e in sorted(findings, key=lambda e: -e.end):
        if e.end > at:
            continue
        next_to = not text[e.end : at].strip()
        if not (next_to or (out and _AND_DRUG.fullmatch(text, e.end, at))):
            break
        out.append(e)
        at = e.start
    return out


def _drugs_of_class(name: str, entities: Sequence[Entity]) -> list[Entity]:
    """The note's named drugs that belong to the class ``name`` ("Opioid": its hydromorphone);
    none when ``name`` is no class of the table."""
    members = class_members(name)
    return [
        e
        for e in entities
        if e.label == "drug" and e.concept is not None and e.concept.name.lower() in members
    ]


_WITH_CONTRIBUTOR = re.compile(r"\bwith[ \t]+(?:(?:the|his|her)[ \t]+)?", re.I)
_CONTRIBUTING = re.compile(CONTRIBUTING, re.I)


def _with_contributors(
    text: str, effect: Entity, se: int, drugs: dict[int, Entity], entities: Sequence[Entity]
) -> list[Entity]:
    """The drugs of "with <drug> [and <drug>] contributing" after ``effect`` in its clause."""
    ends = [i for i in (text.find(";", effect.end, se), text.find(". ", effect.end, se)) if i >= 0]
    end = min(ends, default=se)
    for opened in _WITH_CONTRIBUTOR.finditer(text, effect.end, end):
        found = _drugs_listed_at(text, opened.end(), end, drugs, entities)
        if found and _CONTRIBUTING.match(text, found[-1].end, end + 1):
            return found
    return []


def _drug_at(
    text: str, at: int, end: int, drugs: dict[int, Entity], entities: Sequence[Entity]
) -> Entity | None:
    """The dictionary drug starting at ``at``, or a class named there read as the note's one
    drug of that class (``_class_drug``)."""
    if at in drugs:
        return drugs[at]
    named = class_names().match(text, at, end)
    return _class_drug(text, named, entities) if named else None


def _drugs_listed_at(
    text: str, at: int, end: int, drugs: dict[int, Entity], entities: Sequence[Entity]
) -> list[Entity]:
    """The drugs (or classes) named from ``at`` on, joined by "and", commas or slashes."""
    out: list[Entity] = []
    drug = _drug_at(text, at, end, drugs, entities)
    while drug is not None:
        out.append(drug)
        more = _AND_DRUG.match(text, drug.end, end)
        drug = _drug_at(text, more.end(), end, drugs, entities) if more else None
    return out


def _class_drug(text: str, named: re.Match[str], entities: Sequence[Entity]) -> Entity | None:
    """The class the note writes at ``named`` as a drug carrying the concept of the one drug of
    that class the note names ("Steroid" in a note on dexamethasone); None when it names none
    or several (the class is then no suspect a subscriber could act on)."""
    concepts = {e.concept for e in _drugs_of_class(named.group(), entities) if e.concept}
    if len(concepts) != 1:
        return None
    return Entity(
        label="drug",
        start=named.start(),
        end=named.end(),
        text=named.group(),
        concept=concepts.pop(),
    )


def _after(
    pattern: re.Pattern[str], text: str, effect: Entity, end: int, head: bool
) -> re.Match[str] | None:
    """``pattern`` right after the effect, where the wording there may speak of it (``head``)."""
    return pattern.match(text, effect.end, end) if head else None


def _without_drug(text: str, effect: Entity, drug: Entity) -> Entity:
    """The effect without the drug the entity stage read into it: "doxorubicin cardiotoxicity"
    is doxorubicin's cardiotoxicity, adjacent to its cause, not a problem that names itself
    (nor is "Chronic lithium toxicity", a word or two before the drug)."""
    lead = text[effect.start : drug.start]
    if not (effect.start <= drug.start and drug.end < effect.end and len(lead.split()) <= 2):
        return effect
    rest = text[drug.end : effect.end]
    start = drug.end + len(rest) - len(rest.lstrip(" -\t"))
    compound = _COMPOUND_WORD.match(text, start, effect.end)  # "Opioid-induced neurotoxicity"
    start = compound.end() if compound else start
    if start >= effect.end:
        return effect
    return Entity(
        label="problem",
        start=start,
        end=effect.end,
        text=text[start : effect.end],
        score=effect.score,
    )


_COMPOUND_WORD = re.compile(r"(?:induced|associated|related)[ \t]+", re.I)
# A drug class: "SGLT2 inhibitor", "calcium channel blocker", "NSAID", "statin" ("sirolimus
# (SR)" and "olanzapine (Zyprexa)" are a drug and its own short or brand name: both stay).
_CLASS = re.compile(
    r"(?:inhibitor|blocker|antagonist|agonist|analog|analogue)s?$|^(?:" + GENERIC_CAUSES + r")$",
    re.I,
)


def _without_glossed_classes(text: str, relations: list[AdeRelation]) -> list[AdeRelation]:
    """One alert per drug: "due to SGLT2 inhibitor (empagliflozin)" pairs both the class and the
    drug its gloss names with the effect; the class's relation goes."""
    glossed = set()
    for r in relations:
        opened = GLOSS_OPEN.match(text, r.drug.end) if _CLASS.search(r.drug.text) else None
        for other in relations:
            if (
                opened is not None
                and other is not r
                and other.drug.start == opened.end()
                and (other.effect.start, other.effect.end) == (r.effect.start, r.effect.end)
            ):
                glossed.add(id(r))
    return [r for r in relations if id(r) not in glossed]


def _classes_as_drugs(
    relations: list[AdeRelation], entities: Sequence[Entity]
) -> list[AdeRelation]:
    """A class named as the cause ("Opioid-induced neurotoxicity … from hydromorphone
    accumulation") is the one drug of that class its sentence names, else the one the note
    names (the class mention then carries that drug's concept); a class the note gives no single
    drug for stays. A class that becomes a drug already paired with the same effect is that
    alert, not a second one."""
    named = {
        (r.drug.concept.name, r.effect.start, r.effect.end) for r in relations if r.drug.concept
    }
    out: list[AdeRelation] = []
    for r in relations:
        of_class = _drugs_of_class(r.drug.text, entities) if r.drug.concept is None else []
        in_sentence = [e for e in of_class if r.sentence_start <= e.start < r.sentence_end]
        for found in (in_sentence, of_class):
            concepts = {e.concept for e in found if e.concept}
            if len(concepts) != 1:
                continue
            (concept,) = concepts
            if (concept.name, r.effect.start, r.effect.end) in named:
                break  # the drug's own relation stands for it
            drug = (
                found[0] if found is in_sentence else r.drug.model_copy(update={"concept": concept})
            )
            out.append(r.model_copy(update={"drug": drug}))
            break
        else:
            out.append(r)
    return out


# what introduces the condition a finding arose on, not the finding itself
_BACKGROUND_BEFORE = re.compile(
    r"\b(?:superimposed[ \t]+on|on[ \t]+top[ \t]+of|in[ \t]+the[ \t]+(?:setting|context)[ \t]+of"
    r"|with[ \t]+underlying|in[ \t]+a[ \t]+patient[ \t]+with)[ \t]+(?:[\w'-]+[ \t]+){0,2}\Z",
    re.I,
)
_INTERACTING_JOIN = re.compile(r"[ \t]*[-/][ \t]*")


def _with_interacting(
    text: str, relations: list[AdeRelation], entities: Sequence[Entity]
) -> list[AdeRelation]:
    """Both drugs of a "warfarin-ciprofloxacin interaction" are suspects of what it caused: the
    drug whose effect rose and the one that raised it, as a pharmacovigilance report lists an
    interacting drug beside the suspect (the lexicon splits such a span into its two drugs)."""
    out = list(relations)
    have = {(normalise(r.drug.text), r.effect.start, r.effect.end) for r in relations}
    named = [e for e in entities if e.label == "drug" and e.concept is not None]
    for r in relations:
        for other in named:
            first, second = (r.drug, other) if r.drug.end <= other.start else (other, r.drug)
            key = (normalise(other.text), r.effect.start, r.effect.end)
            if (
                other is not r.drug
                and key not in have
                and _INTERACTING_JOIN.fullmatch(text, first.end, second.start)
                and INTERACTION_AFTER.match(text, second.end)
            ):
                have.add(key)
                out.append(r.model_copy(update={"drug": other}))
    return out


def _drug_between(text: str, drug: Entity, effect: Entity, entities: Sequence[Entity]) -> bool:
    """Another drug lies between the two: a generic compound ("drug-induced", "NSAID-induced")
    names the cause beside it, the nearest drug, not one further on."""
    lo, hi = min(drug.end, effect.end), max(drug.start, effect.start)
    return any(
        e.label in ("drug", "treatment")
        and not text.startswith("-", e.end)  # not "GLP" of "GLP-1 receptor agonist-associated"
        and lo <= e.start
        and e.end <= hi
        and e is not drug
        for e in entities
    )


def _other_drug_between(
    text: str, drug: Entity, effect: Entity, entities: Sequence[Entity]
) -> bool:
    """The cause wording after the effect names something before a delimiter, and this drug
    comes after it: the cause is what the wording named, the plan follows ("due to nivolumab -
    start levothyroxine", "Delirium, hyperactive, secondary to #1 - haloperidol 0.5 mg prn");
    "from latanoprost to bimatoprost" or "ipilimumab/nivolumab" is left to the cue."""
    return bool(_CAUSE_THEN_PLAN.search(text, effect.end, drug.start))


# a cause wording, what it names, then a delimiter (not the ratio of "topical 1:1000
# epinephrine"): what follows is the plan
_CAUSE_THEN_PLAN = re.compile(
    r"\b(?:due[ \t]+to|secondary[ \t]+to|caused[ \t]+by|induced[ \t]+by|related[ \t]+to"
    r"|attributed[ \t]+to|from)[ \t]+[^ \t\n:;][^\n]*?(?:[ \t][-\u2013][ \t]|:(?!\d))",
    re.I,
)


def _named_between(text: str, drug: Entity, effect: Entity) -> bool:
    """The same drug is named again between the two and that nearer mention is worded as a
    treatment of the effect: "Seizure on day 2, started levetiracetam; … irritability since
    levetiracetam was started" must not pair the seizure with the "since" of the second
    mention. (A nearer mention with no wording at all leaves the pair to the far one.)"""
    lo, hi = sorted(((drug.start, drug.end), (effect.start, effect.end)))
    name = drug.text.strip()
    if not name:
        return False
    found = list(re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text[lo[1] : hi[0]], re.I))
    if not found:
        return False
    near = found[0] if effect.start < drug.start else found[-1]  # the one next to the effect
    span = (lo[1] + near.start(), lo[1] + near.end())
    return treats(text, span, (effect.start, effect.end))


def _dechallenge_actuality(sentence: str, start: int, end: int) -> str:
    """A dechallenge ("hepatotoxicity resolved once erlotinib was discontinued") states that the
    reaction happened, though the assertion rules read the resolved effect as absent: only an
    explicit negation or a hypothetical cue before it counts."""
    act, cue = cue_actuality(sentence, start, end)
    return "actual" if cue in (None, "resolution of") else act


_ADJECTIVE_FORM = re.compile(r"[A-Za-z]+(?:ic|ous|ive|ary|ed)", re.I)  # "oliguric", "anuric"


def _modifies_a_problem(text: str, drug: Entity, entities: Sequence[Entity]) -> bool:
    """A "drug" no dictionary names, written right before a problem as its adjective: "due to
    magnesium sulfate infusion with oliguric acute kidney injury" had alerted "oliguric"."""
    if not _ADJECTIVE_FORM.fullmatch(drug.text):
        return False
    return any(
        e.label == "problem"
        and e.start > drug.end
        and not text[drug.end : e.start].strip(" \t")
        and not names_a_harm(e.text)  # "Magnesium toxicity" is the drug's
        for e in entities
    )


def _plausible_effect(effect: str, drug_names: set[str]) -> bool:
    """Reject effects that are only function/cue words, one of the drugs, or a lab test's name
    ("WBC now 18.9 ..., likely due to ceftriaxone": the count is no reaction, the colitis is)."""
    words = [w for w in normalise(effect).split() if w not in _NOT_AN_EFFECT]
    if not any(len(w) >= 3 and any(c.isalpha() for c in w) for w in words):
        return False
    return normalise(effect) not in drug_names and not _LAB_NAME.fullmatch(effect.strip())


_LAB_NAME = re.compile(
    r"(?:wbc|rbc|hgb|hb|hct|plts?|platelets?|inr|pt|ptt|cr|creat|creatinine|bun|na|k|glucose"
    r"|alt|ast|alk phos|lipase|troponin|bnp|nt-probnp|tsh|a1c|hba1c|ldh|crp|esr)(?: count| level)?",
    re.IGNORECASE,
)


def _context_assertion() -> Any | None:
    """The shared ConText rules when that package is installed; else local cues only."""
    try:
        from streamproc.nlp.assertion.context import ContextAssertion
    except Exception:  # pragma: no cover - the assertion area is optional for this stage
        return None
    return ContextAssertion()
