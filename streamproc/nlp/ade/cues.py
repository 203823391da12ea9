"""Negation / hypothetical cues around an effect mention, so "no rash after penicillin" is not an ADE.

A small local cue list (NegEx-style, pre-cues in the effect's clause plus a few post-cues); the
shared assertion rules (``streamproc.nlp.assertion``) were not available when this was written. When
the NER stage gives an overlapping problem entity, its ``assertion`` is used first (see extractor).
"""

from __future__ import annotations

import re
from typing import Literal

from streamproc.nlp.assertion.history import TRIED_CLAUSE
from streamproc.nlp.entities import RECORDED_AS

Actuality = Literal["actual", "potential", "absent"]

NEGATION_PRE = (
    "no",
    "not",
    "without",
    "denies",
    "denied",
    "negative for",
    "free of",
    "absence of",
    "no evidence of",
    "no signs of",
    "ruled out",
    "did not develop",
    "did not experience",
    "never developed",
    "resolution of",
)
NEGATION_POST = (
    "was ruled out",
    "were ruled out",
    "was not observed",
    "were not observed",
    "did not occur",
    "was absent",
    "not seen",
)
HYPOTHETICAL_PRE = (
    "may cause",
    "may induce",
    "may lead to",
    "can cause",
    "could cause",
    "might cause",
    "may result in",
    "risk of",
    "risk for",
    "at risk",
    "watch for",
    "monitor for",
    "monitoring for",
    "observe for",
    "warned about",
    "counseled on",
    "counselled on",
    "to prevent",
    "prevention of",
    "prophylaxis",
    "if",
    "in case of",
    "potential",
    "potentially",
)  # "possible X" is not here: a suspected reaction is still reported as actual
HYPOTHETICAL_POST = ("may occur", "can occur", "could occur", "is possible", "is a risk")
# A clause boundary ends a cue's scope ("no fever but rash after penicillin": rash is actual).
_BOUNDARY = re.compile(
    r"\b(?:but|however|although|though|except|yet|which|who)\b|[;:]|, and\b", re.I
)
_WINDOW_WORDS = 6


def _has_cue(fragment: str, cues: tuple[str, ...], at_end: bool) -> str | None:
    low = " " + " ".join(fragment.lower().split()) + " "
    for cue in cues:
        pat = rf"(?<![\w-]){re.escape(cue)}(?![\w-])"
        if re.search(pat, low):
            return cue
    return None


def actuality(sentence: str, start: int, end: int) -> tuple[Actuality, str | None]:
    """Actuality of the effect at ``sentence[start:end]`` and the cue that decided it."""
    before = sentence[:start]
    cut = list(_BOUNDARY.finditer(before))
    if cut:
        before = before[cut[-1].end() :]
    before = " ".join(before.split()[-_WINDOW_WORDS:])
    after = sentence[end:]
    stop = _BOUNDARY.search(after)
    if stop:
        after = after[: stop.start()]
    after = " ".join(after.split()[:_WINDOW_WORDS])
    cue = _has_cue(before, NEGATION_PRE, True) or _has_cue(after, NEGATION_POST, False)
    if cue:
        return "absent", cue
    cue = _has_cue(before, HYPOTHETICAL_PRE, True) or _has_cue(after, HYPOTHETICAL_POST, False)
    if cue:
        return "potential", cue
    return "actual", None


# ---- indications: the problem a drug treats is not its adverse effect ----------------------------
# A model trained on case reports (every drug-disease pair in a sentence is a candidate) reads
# "hypertension on lisinopril" as lisinopril -> hypertension. In notes that wording names the
# indication. Post-patterns: "<problem> (is|was|well controlled) on|treated with|managed with <...>";
# pre-patterns: "for|to treat|treatment of|indicated for <problem>". A causal cue just before the
# problem ("developed", "induced", "new") keeps the pair: "developed hypotension on lisinopril".
_INDICATION_AFTER = re.compile(
    r"^\s*,?\s*(?:(?:is|was|are|were|being|been|well|poorly|currently|now|also|still)\s+)*"
    r"(?:on|treated\s+with|managed\s+with|controlled\s+(?:on|with)|maintained\s+on|started\s+on"
    r"|receiving|taking|for\s+which\s+\w+\s+(?:takes|took|is\s+on|was\s+on|receives))\b",
    re.I,
)
_INDICATION_BEFORE = re.compile(
    r"\b(?:for|to\s+treat|treatment\s+of|therapy\s+for|indicated\s+for|prescribed\s+for"
    r"|given\s+for|started\s+for)\s+(?:(?:his|her|their|the|a|an|known|chronic|presumed)\s+)*$",
    re.I,
)
_CAUSAL_BEFORE = re.compile(
    r"\b(?:developed|develops|developing|experienced|new|new-onset|onset\s+of|induced|caused"
    r"|suffered|complicated\s+by|watch\s+for|monitor(?:ing)?\s+for|observe\s+for|risk\s+of"
    r"|signs\s+of)\s+(?:\w+\s+){0,2}$",
    re.I,
)
# Words that name a harm, never a treated condition.
_HARM_WORDS = re.compile(r"toxic|induced|reaction|allerg|intoleran|overdose|poisoning", re.I)


def is_indication(sentence: str, start: int, end: int, drug: tuple[int, int] | None = None) -> bool:
    """True when the problem at ``sentence[start:end]`` is worded as what a drug treats.

    With the ``drug`` span: a causal cue between the two ("rash on chest after starting
    amoxicillin") is no indication, and "<problem> on …" counts only when the drug follows
    within a few words ("hypertension on lisinopril", not "rash on the trunk … penicillin").
    """
    before = sentence[max(0, start - 60) : start]
    if _CAUSAL_BEFORE.search(before) or _HARM_WORDS.search(sentence[start:end]):
        return False
    if drug is not None and stopped_for(sentence, drug, (start, end)):
        return False  # "doxycycline was discontinued for rash": why it was stopped
    if drug is not None and drug[0] >= end and _CAUSE_BETWEEN.search(sentence[end : drug[0]]):
        return False
    after = _INDICATION_AFTER.match(sentence[end:])
    if after and drug is not None and not 0 <= drug[0] - (end + after.end()) <= _NEAR_CHARS:
        after = None
    return bool(after or _INDICATION_BEFORE.search(before))


# A documented allergy is a record, not an event happening now: "she has an allergy to sulfa
# drugs according to her son" alerted as sulfa -> "allergy"; "Allergies: PCN (hives)" lists a
# reaction from the past. "Developed an allergic reaction to vancomycin" still reads as an event.
_ALLERGY_WORD = re.compile(r"(?:drug\s+|medication\s+)?allerg(?:y|ies|ic)", re.I)
_TO = re.compile(r"\s*to\b", re.I)
_HEADING = re.compile(r"\b[A-Za-z][A-Za-z /]{1,24}:")
_ALLERGY_LIST = re.compile(
    r"^\W*(?:drug\s+|medication\s+)?allerg(?:y|ies)\s*(?:[:\-]|list\b)", re.I
)


def is_allergy_record(sentence: str, start: int, end: int) -> bool:
    """True when the effect at ``sentence[start:end]`` is an allergy on record, not a new
    reaction: "allergy to" / "allergic to" a drug, or any finding in an "Allergies:" list."""
    effect = sentence[start:end].strip(" .,;:()")
    if _ALLERGY_WORD.fullmatch(effect) and _TO.match(sentence, end):
        return True  # "an allergy to sulfa", "allergic to codeine"; not "allergic [reaction]"
    if RECORDED_AS.search(sentence, max(0, start - 60), start):
        return True  # "Allopurinol listed as allergy", "document as adverse reaction"
    gloss = _RECORD_GLOSS.search(sentence, max(0, start - 40), start)
    if gloss is not None and RECORDED_AS.search(
        sentence, max(0, gloss.start() - 60), gloss.start()
    ):
        return True  # "document amoxicillin as allergy (urticaria)": the reaction on record
    if _DRUG_ALLERGY_GLOSS.search(sentence, max(0, start - 40), start):
        return True  # "penicillin allergy (hives as a child)": what the allergy was
    if _ALLERGY_WORD.fullmatch(effect) and _NAMED_BEFORE.search(
        sentence, max(0, start - 30), start
    ):
        return True  # "penicillin allergy": an allergy on record, named by its drug
    listed = _ALLERGY_LIST.match(sentence)
    # ... unless another heading opens between the list and the finding ("Allergies: NKDA
    # PRESENT HX: hypotensive after lasix" read as one sentence).
    return listed is not None and not _HEADING.search(sentence[listed.end() : start])


_NAMED_BEFORE = re.compile(r"\b[A-Za-z][\w-]{3,}[ \t]+\Z")
_RECORD_GLOSS = re.compile(
    r"\b(?:allerg\w*|adverse\s+(?:drug\s+)?reactions?|intoleran\w*)[ \t]*\([ \t]*\Z", re.I
)
# "penicillin allergy (hives as a child)": a drug's allergy glossed by what it was is the record
_DRUG_ALLERGY_GLOSS = re.compile(r"\b[A-Za-z][\w-]+[ \t]+allerg(?:y|ies)[ \t]*\([ \t]*\Z", re.I)
_CAUSE_BETWEEN = re.compile(r"\b(?:after|following|since|due\s+to|induced|caused\s+by)\b", re.I)
_NEAR_CHARS = 25  # "on lisinopril", "treated with daily low-dose lisinopril"


# ---- a causal or temporal link between the drug and the effect ---------------------------------
# The model, trained on case-report sentences, scores almost any drug/problem pair in a nursing
# note at 1.0 ("NEURO: sedated on propofol", "PMHX: COPD, asthma"): in that text nearly every
# sentence names a drug and a finding. A note that reports a reaction says how the two are
# linked ("hypotensive after receiving captopril", "rash due to vancomycin", "lithium toxicity").
# what a drug was when it is said to have gone for a reason ("… because of", "stopped for")
_STOP_VERBS = r"stopped|discontinued|held|switched|changed|reduced|tapered"
# up to four words between "stopped" and its reason, none a verb of its own: "carbamazepine was
# discontinued and had been prescribed for bipolar disorder" names no reason for stopping
_FILLER = r"(?:(?!(?:and|but|had|has|was|prescribed|given|started|used|taken|treated|initiated)\b)[\w/-]+\s+){0,4}?"
_LINK = re.compile(
    # not what the patient went through ("seen after passing a ureteral stone … with
    # tamsulosin": the stone is what the drug treated)
    # nor an operation after the drug ("on metformin and empagliflozin, admitted after an
    # elective laparoscopic cholecystectomy with nausea": the operation's course)
    r"\b(?:after(?!\s+(?:passing|undergoing|completing)\b)(?!\s+(?:an?\s+|the\s+|his\s+|her\s+)?"
    r"(?:(?!(?:treated|with|and|by|of|for)\b)[\w-]+\s+){0,3}?(?:surgery|\w+ectomy|\w+otomy|\w+plasty|operation|procedure|repair"
    r"|transplant(?:ation)?|delivery|c-section|cesarean)\b)"
    r"|following|post|since|upon|s/p|during"
    # "while she was taking", "while being treated with", "when receiving"
    r"|while\s+(?:\w+\s+){0,3}?(?:on|receiving|taking|treated|given|using)"
    r"|when\s+(?:\w+\s+){0,2}?(?:receiving|taking|treated|given|administered|started|resumed)"
    r"|(?:was|were|is|been)\s+followed\s+by"
    r"|followed\s+(?:the\s+)?(?:\w+\s+){0,2}?(?:administration|use|ingestion|injection|infusion)"
    r"|subsequent\s+to|in\s+relation\s+to"
    r"|responsible\s+for|relationship\s+(?:of|between|with|to)|implicated|incriminated"
    r"|exposed\s+to|exposure\s+to|complicat(?:e|es|ing)|(?:role|course)\s+of|hypersensitivity"
    # "treated with ibuprofen, course complicated by oliguria" (not "diabetes complicated by")
    r"|(?:course|therapy|treatment|infusion|administration)\s+(?:was\s+)?complicated\s+by"
    # "hyperglycemia worse on dexamethasone"
    r"|worse\s+(?:on|with|after|since)"
    r"|within\s+\w+\s+(?:minutes|hours|days|weeks)\s+of|induc\w*|produc(?:e|es|ed|ing)|caus(?:e|ed|es|ing)"
    r"|due\s+to|d/t|2/2|r/t|(?:af|ef)fected\s+by|secondary\s+to|attribut(?:ed|able)\s+to|related\s+to|associated\s+with"
    r"|association|consequence\s+of|complications?\s+of|reactions?|allerg(?:y|ic|ies)"
    r"|intoleran(?:ce|t)|\w*toxicity|toxic|overdose|poisoning|intoxication|led\s+to"
    r"|lead(?:s|ing)?\s+to|result(?:ed|ing|s)?\s+(?:in|from)|precipitat\w*|trigger\w*|provok\w*"
    r"|worsen\w*|aggravat\w*|exacerbat\w*|contribut\w*|develop(?:ed|s|ing)"
    r"|side[\s-]effects?|adverse"
    # "nifedipine was stopped at 10 weeks because of severe headaches", "… was discontinued for
    # rash" (not "dose reduced for CKD", nor "held for hypotension": a hold parameter)
    r"|(?:" + _STOP_VERBS + r")\s+(?:[\w/-]+\s+){0,4}?"
    r"because\s+of|(?:stopped|discontinued)\s+" + _FILLER + r"(?:for|given))\b"
    r"|-(?:induced|associated|related|treated|attributed)\b",
    re.I,
)
# The case-report wording of a reaction: "<effect> in a patient (with …) treated with / receiving /
# taking / on <drug>" ("Eye movement disorders in bone marrow transplant patients on
# cyclosporin"). A named person noun is required: "hypotensive, pt on levophed" is a nursing
# note's indication, and "pt" is not in the list.
_PERSON_NOUN = (
    r"patients?|wom[ae]n|m[ae]n|child(?:ren)?|infants?|neonates?|boys?|girls?|adults?"
    r"|adolescents?|individuals?|persons?|recipients?|subjects?"
)
_IN_A_PATIENT_ON = re.compile(
    rf"\b(?:in|among)\s+(?:\S+\s+){{0,8}}?(?:{_PERSON_NOUN}|cases?)\b.*?"
    r"\b(?:treated\s+with|receiving|received|taking|on|given|using|under|undergoing)"
    r"\s+(?:\S+\s+){0,3}$",
    re.I,
)
# The same told the other way round: "a patient receiving vancomycin for a staphylococcal
# infection had a lupus-like syndrome", "in a man receiving amiodarone an interstitial
# pneumopathy was observed"; again never "pt".
_PERSON_ON_BEFORE = re.compile(
    rf"\b(?:{_PERSON_NOUN})\s+(?:\w+\s+){{0,2}}?"
    r"(?:receiving|taking|on|treated\s+with|given|undergoing|under)\s+(?:\S+\s+){0,3}$",
    re.I,
)
_PRESENTED = re.compile(
    r"\b(?:had|developed|presented|experienced|showed|exhibited|suffered|(?:was|were)\s+observed)\b",
    re.I,
)
_OBSERVED_AFTER = re.compile(
    r"\s*(?:(?:was|were)\s+(?:observed|noted|seen|found|diagnosed|reported)|occurred|developed)\b",
    re.I,
)
# A dechallenge: the effect went away when the drug was stopped ("hepatotoxicity resolved once
# erlotinib was discontinued", "parkinsonism improved on discontinuation of metoclopramide").
_STOPPED_BEFORE = re.compile(
    r"\b(?:discontinu\w*|withdraw\w*|cessation|stopp\w*|withheld|reduc\w*)\s+(?:of\s+)?(?:\S+\s+){0,2}$",
    re.I,
)
_STOPPED_AFTER = re.compile(
    r"\s*(?:\S+\s+){0,2}?(?:was|were)\s+(?:\w+\s+)?(?:discontinued|stopped|withdrawn|withheld)\b",
    re.I,
)
# "from" names the cause only when the drug follows within two words: "bleeding, hypothermia
# from o.r., multiple blood products & protamine given" is not the protamine's
_FROM_DRUG = re.compile(
    r"\bfrom\s+(?:[^\s:;]+\s+){0,2}$"
    # "from vomiting and the diuretic": another cause first
    r"|\bfrom\s+[^\s:;,]+\s+(?:and|plus)\s+(?:(?:the|his|her)\s+)?$",
    re.I,
)
# A compound that names the drug as the cause: the drug needs no entity of its own (the entity
# stage reads "vancomycin-induced" as part of the problem, or not at all).
COMPOUND_CUES = frozenset(
    ["-induced", "-associated", "-related", "-treated", "-attributed", "adjacent"]
)
# An effect that names a harm by its own wording ("vasomotor reactions", "cardiotoxicity",
# "intoxication") is one even when the entity stage did not call it a problem. Widening that to
# any effect a causal cue links ("due to", "r/t") was measured on the 1,770 nursing notes and
# not kept: six new alerts, four wrong ("Neuro: pt asleep … probably due to oxycodone").
_HARM_WORDING = re.compile(
    r"reaction|toxic|adverse|side[\s-]effect|intoleran|overdose|poisoning", re.I
)


def names_a_harm(effect: str) -> bool:
    """True when an effect's own wording says it is a harm."""
    return bool(_HARM_WORDING.search(effect))


# Worded as what the drug is given against: "hypotensive despite levophed".
# "for two months" is a duration, not an indication.
_AGAINST = re.compile(
    r"\b(?:despite|in\s+spite\s+of|for(?!\s+(?:\S+\s+){0,2}?(?:hours?|days?|weeks?|months?|years?)\b))\b",
    re.I,
)
# the effect came first and the drug treated it: "discomfort in chest from incision - treated
# with morphine"; after a clause break or a copula only: "hepatitis in a patient treated with
# methotrexate" is the case-report wording of a reaction
_TREATED_WITH = re.compile(
    r"(?:[-,;]|\b(?:and|was|were|is|are|been|being))\s*"
    # "Chemotherapy-induced nausea - controlled with ondansetron" (round 51)
    r"(?:treated|tx'?d?|rx'?e?d?|medicated|managed|relieved|controlled)\s+(?:with|w/|by|on)\b",
    re.I,
)
# "… in a patient who was being treated with dofetilide": the case-report wording of a reaction
_WHO_WAS_TREATED = re.compile(
    r"\b(?:who|that|which|patients?|wom[ae]n|m[ae]n|child(?:ren)?|boy|girl|subjects?)\b", re.I
)
# What a drug is given to do, not a harm: "brisk diuresis after lasix", "sedated on propofol".
_INTENDED = re.compile(
    # (not "daytime sedation", "excessive sedation": a harm)
    r"\b(?:diuresis|diuresed|diuresing|(?<!daytime )(?<!excessive )(?<!excess )(?<!undue )sedation"
    r"|sedated|relief|relieved|analgesia|comfortable"
    r"|bowel\s+movements?|bm)\b",
    re.I,
)
# What the drug was given to do: "the infant was given indomethacin to induce constriction of
# the PDA", "ativan to help sleep"; "known / reported to induce" states a reaction.
_PURPOSE = re.compile(
    r"(?<!known )(?<!shown )(?<!reported )(?<!likely )(?<!thought )(?<!found )"
    r"\b(?:to|in\s+order\s+to)\s+(?:induce|produce|achieve|help)\b",
    re.I,
)
# The effect got better after the drug: a response, not a reaction.
_RESPONSE = re.compile(
    r"\b(?:decreas\w*|improv\w*|resolv\w*|better|reliev\w*|subsid\w*|clear(?:ed|ing)|less(?!\s+than)"
    # "hypotensive when hypoglycemic and returned to a normal BP after dextrose"
    r"|normali[sz]\w*|(?:return\w*|back)\s+to\s+(?:a\s+)?(?:normal|baseline))\b",
    re.I,
)
# The same response named before the effect ("control of dyskinesias after treatment with
# tetrabenazine", "improvement of tremor after use of metoprolol") or right after it ("after
# ciprofloxacin treatment, the ulcer healed"; unless the drug was stopped: a dechallenge).
_RESPONSE_BEFORE = re.compile(
    r"\b(?:control|improvement|reduction|relief|resolution|remission)\s+(?:of|in)\s+(?:\w+\s+)?$",
    re.I,
)
_RESPONSE_AFTER = re.compile(
    r"\s*(?:(?:was|were|had|has|have)\s+)?(?:\w+\s+)?"
    r"(?:healed|resolved|improved|disappeared|subsided|cleared|regressed|remitted)\b",
    re.I,
)
# The drug that replaced the suspect: "rash … attributed to vancomycin, which was switched to
# linezolid" (a discharge summary alerted linezolid too).
_REPLACEMENT = re.compile(
    r"\b(?:(?:switched|changed|converted|transitioned)\s+(?:over\s+)?to"
    r"|replaced\s+(?:by|with)|substituted\s+(?:by|with))\s+(?:\S+\s+){0,2}$",
    re.I,
)
# "worsening dyspnea", "aggravated pain": the word describes the effect; it links no drug named
# far before it ("DOBUTAMINE INCREASED TO 6MCG/KG->WORSENING AFLUTTER" still links)
# a bracket opening (or closing) a gloss, spaces beside it
GLOSS_OPEN = re.compile(r"[ \t]*\([ \t]*")
GLOSS_CLOSE = re.compile(r"[ \t]*\)")
# the cause the effect is "from", glossed by the drug behind it
_CAUSE_GLOSSED_BY_DRUG = re.compile(
    r"[ \t]+(?:from|due[ \t]+to|secondary[ \t]+to|caused[ \t]+by)[ \t]+[\w -]{3,40}?[ \t]*\([ \t]*",
    re.I,
)


def cause_glossed_by(sentence: str, effect_end: int, drug: tuple[int, int]) -> bool:
    """Whether the drug alone glosses the cause the effect is "from"."""
    return bool(
        _CAUSE_GLOSSED_BY_DRUG.fullmatch(sentence, effect_end, drug[0])
        and GLOSS_CLOSE.match(sentence, drug[1])
    )


# a gloss after an effect naming what caused it
# (not a gloss naming the kind of harm: "hepatotoxicity (drug-induced hepatitis with jaundice)")
_OWN_CAUSE_GLOSS = re.compile(
    r"[ \t]*\([^()]*(?:\b(?:contributing|due[ \t]+to|from)\b"
    r"|(?<!drug)(?<!medication)-(?:induced|related|associated)\b)[^()]*\)",
    re.I,
)
# a new "on <drug>" phrase after a comma ends what a time cue before it linked
_ANOTHER_ON_PHRASE = re.compile(r",\s*(?:and\s+|while\s+|now\s+)?on\s+\Z", re.I)
# "after 3 days of <effect>": a duration, not the drug's time (before the drug it is the
# exposure: "melena after two weeks of ibuprofen")
_HOW_LONG = re.compile(
    r"after\s+(?:\d+|an?|one|two|three|four|five|several|few|many)\s+(?:\w+\s+)?"
    r"(?:minutes?|hours?|days?|weeks?|months?|years?)\s+of\b",
    re.I,
)
# the drug's compound right before the effect names it a harm ("lorazepam-associated sedation")
_COMPOUND_BETWEEN = re.compile(r"\s*-(?:induced|associated|related)\s+", re.I)
_MODIFIER_CUE = re.compile(r"(?:worsen|exacerbat|aggravat)ing", re.I)
# The drug started after the effect, to treat it: "amiodarone-induced hypothyroidism, will start
# levothyroxine", "Seizure on day 2, started levetiracetam".
_STARTED_FOR_IT = re.compile(
    r"[,;:]\s*(?:(?:will|to|then|and)\s+)?(?:start|started|begin|began|initiate[ds]?)\s+(?:on\s+)?"
    r"(?:\S+\s+){0,1}$",
    re.I,
)
# A sentence end the splitter missed ("…tracheal malacia.Pt. on ac … propofol").
_CLAUSE_GAP = re.compile(
    r"(?:^|[a-z]{2})\.[A-Z][a-z]"
)  # at the start: right after the first mention
# "sleeping in short naps after ativan but awakens with recurrent vomiting": a turn of the clause
# between the mentions ends what an opening "after" links
_CONTRAST = re.compile(r"\b(?:but|however|although|though|yet|whereas)\b", re.I)
_LEAD_IN_CHARS = 30  # "After receiving lasix x2, decreased BP": the cue may open the clause
_NEAR_WORDS = 8  # at most this many words between two mentions linked by such a cue


# "received methadone for cancer pain (and) developed myoclonus": "for" names the indication,
# the effect still came after; "… while being treated with" is how a case report words a reaction
_CAUSAL_BETWEEN = re.compile(r"induc|caus|due|after|following|develop|manifest|\bwhile\b|\bwhen\b")


def treats(sentence: str, drug: tuple[int, int], effect: tuple[int, int]) -> bool:
    """True when the sentence words ``drug`` as given for ``effect`` (despite or for it, treated
    with, started or switched to after it) rather than as its cause."""
    first, second = sorted((drug, effect))
    between = sentence[first[1] : second[0]]
    if stopped_for(sentence, drug, effect):
        return False  # "doxycycline was discontinued for rash": the reason it was stopped
    causal = _CAUSAL_BETWEEN.search(between)
    if _AGAINST.search(between) and not causal:
        return True
    if effect > drug:
        return False
    if _TREATED_WITH.search(between) and not causal and not _WHO_WAS_TREATED.search(between):
        return True
    return bool(_REPLACEMENT.search(between) or _STARTED_FOR_IT.search(between))


# A compound cue whose first half is a class or a generic word: "drug-induced liver injury,
# probably from amoxicillin-clavulanate" links the drug named beside it, but does not itself name
# it, so the drug needs an entity of its own (``COMPOUND_CUES`` exempt only compounds naming it).
GENERIC_CAUSES = (
    r"(?:drug|medication|medicine|chemotherapy|chemo|treatment|therapy|steroid|corticosteroid"
    r"|opioid|opiate|antibiotic|statin|nsaid|ace\s+inhibitor|anthracycline|taxane|platinum"
    r"|immunotherapy|checkpoint\s+inhibitor|contrast|thiazide|diuretic|benzodiazepine"
    r"|antipsychotic|neuroleptic|anticoagulant|quinolone|fluoroquinolone|sulfonamide"
    r"|antiepileptic|anticonvulsant|antidepressant|ssri|agonist|antagonist|blocker|inhibitor)s?"
)
_GENERIC_CAUSES = re.compile(GENERIC_CAUSES, re.I)
_WORD_BEFORE_HYPHEN = re.compile(r"([\w/]+(?:\s+inhibitor)?)\s*$")
# What may stand between the drug and the hyphen of a compound naming it: a gloss ("Tacrolimus
# (FK506)-induced", or the glossed name's own bracket), a salt or a form ("Imatinib
# mesylate-related", "tobramycin solution-associated", "Risperidone withdrawal-related"), a
# second drug ("Methylphenidate and dextroamphetamine-induced").
_TO_HYPHEN = re.compile(
    r"\)?(?:[ \t]*\([^()]{1,30}\))?(?:[ \t]+(?:and|or|&|/)?[ \t]*[\w/]+){0,2}[ \t]*-?"
)


def _compound_cue(sentence: str, at: int, cue: str, drug: tuple[int, int]) -> str | None:
    """``cue`` found at ``at``, checked when it is a compound ("-induced"): it names this drug
    when the drug stands just before its hyphen ("vancomycin-induced", "Imatinib
    mesylate-related", "Rifampin (RFP) … RFP-induced"), a generic cause when its first half is
    a class or a generic word ("drug-induced", "NSAID-induced"), and none at all when that word
    is something else ("TSH 6.8 … lithium-induced hypothyroidism" is the lithium's)."""
    if not cue.startswith("-"):
        return cue.lower()
    word = _WORD_BEFORE_HYPHEN.search(sentence, max(0, at - 40), at)
    generic = word is not None and bool(_GENERIC_CAUSES.fullmatch(word.group(1)))
    # the drug before the hyphen; before a class word ("X and NSAID-induced") only when
    # nothing but the hyphen lies between
    if (
        drug[1] <= at
        and _TO_HYPHEN.fullmatch(sentence, drug[1], at)
        and (not generic or not sentence[drug[1] : at].strip(" \t-"))
    ):
        return cue.lower()
    if word is None:
        return None
    if drug[0] <= word.start() < drug[1]:
        return cue.lower()
    name = sentence[drug[0] : drug[1]]
    if word.group(1).lower() == name.lower() or re.search(
        rf"{re.escape(name)}\s*\(\s*{re.escape(word.group(1))}\s*\)", sentence, re.I
    ):
        return cue.lower()  # the drug named again, or by the short form it was glossed with
    return "generic" + cue.lower() if generic else None


_HARM_NOUN_CUE = re.compile(
    r"hypersensitivity|reactions?|allerg\w*|intoleran\w*|\w*toxicity|toxic|overdose|poisoning"
    r"|intoxication|side[\s-]effects?|adverse",
    re.I,
)
# "<effect>, likely <drug>:" — a hedge, then the drug alone ending the phrase: the A&P shorthand
# for a suspected cause ("Orthostatic hypotension, likely tamsulosin: stop tamsulosin"; not
# "Pneumonia, likely aspiration", no drug, nor "…, likely lisinopril non-adherence")
HEDGE_WORD = re.compile(r"\b(?:likely|probably|possibly|presumably|presumed)\b", re.I)
_PHRASE_END = re.compile(r"[ \t]*(?:[.,;:)\n]|[ \t][-\u2013][ \t]|$)")


# two drugs named together: "Orthostatic hypotension, likely tamsulosin plus metoprolol."
_JOINER = r"[ \t]*(?:\+|plus|and|&|/)[ \t]*"
_SECOND_DRUG_THEN_END = re.compile(_JOINER + r"[A-Za-z][\w-]*" + _PHRASE_END.pattern, re.I)


def hedged_drug_alone(sentence: str, effect_end: int, drug: tuple[int, int]) -> bool:
    """Whether a hedge word alone stands between the effect and the drug, and the drug ends the
    phrase (or a second drug named with it: "likely tamsulosin plus metoprolol")."""
    between = HEDGE.fullmatch(sentence, effect_end, drug[0]) or _HEDGE_FIRST_OF_TWO.fullmatch(
        sentence, effect_end, drug[0]
    )
    return bool(
        between
        and HEDGE_WORD.search(between.group(0))
        and (
            _PHRASE_END.match(sentence, drug[1])
            or (between.re is HEDGE and _SECOND_DRUG_THEN_END.match(sentence, drug[1]))
        )
    )


# the drug made into a compound right after the effect, the compound ending the phrase
# ("Hypomagnesemia, tacrolimus-related:", "diabetes mellitus, probably tacrolimus-induced."; not
# "toxicities, diphenhydramine-induced cardiotoxicity", which names its own noun)
# the compound that names a drug the cause of what it is joined to: "tacrolimus-induced"
COMPOUND = r"-(?:induced|associated|related)\b"
# the same with a space for the hyphen, after a class: "likely calcineurin inhibitor related"
SPACED_COMPOUND = r"[ \t]+(?:induced|associated|related)\b"
# where the compound ends the phrase: punctuation, or an aside ("Acute kidney injury, likely
# IVIG-related (sucrose-free product used)"), or a preposition or conjunction: not a noun the
# compound would name instead ("PRES, likely tacrolimus-related in the setting of …")
_COMPOUND_ENDS = (
    r"(?=[ \t]*(?:[.,;:()\n\u2013-]|as[ \t]+well\b|$)"
    r"|[ \t]+(?:in|on|with|given|and|or|at|after|from|since|because|but|versus|vs)\b)"
)
_COMPOUND_AFTER_DRUG = re.compile(COMPOUND + _COMPOUND_ENDS, re.I)  # "valproate-related as well;"
_SPACED_COMPOUND_AFTER_DRUG = re.compile(SPACED_COMPOUND + _COMPOUND_ENDS, re.I)
_PLAN_COLON = re.compile(r":(?!\d)")  # not a ratio ("topical 1:1000 epinephrine")
# a disease named "allergic", not an allergic reaction
_ALLERGIC_DISEASE = re.compile(
    r"[ \t]+(?:rhinitis|conjunctivitis|asthma|bronchopulmonary|alveolitis|sinusitis|rhinoconj)",
    re.I,
)
# "Steroid-induced hyperglycemia - start NPH insulin": the drug after a spaced dash and a plan
# verb is the treatment (not "- started amoxicillin 3 days ago", which may be the cause)
_PLAN_AFTER_DASH = re.compile(
    r"(?:[ \t]+[-\u2013]|:)[ \t]*(?:(?:will|to|plan(?:ned)?[ \t]+to)[ \t]+)?(?:start|begin|add|initiate"
    r"|give|increase|titrate|resume|continue|treat[ \t]+with"
    # "- switch HCTZ to amlodipine": the drug switched to
    r"|(?:switch|change)(?:[ \t]+[\w/-]+){0,3}?[ \t]+to)\b"
    # "Iron deficiency anemia after gastric bypass - IV iron sucrose x5": a route, then the drug
    r"|(?:[ \t]+[-\u2013]|:)[ \t]*(?:IV|PO|IM|SQ|SC|subcut\w*|oral|intravenous|inhaled|topical)[ \t]*$",
    re.I,
)


# "<effect>, likely <drug> allergy": a harm the drug is named into (after a hedge at most; the
# stated pairs read the same words)
# the words that name a drug's harm as such: "side effects", "drug effect", "toxicity"
EFFECT_NOUN = r"(?:(?:side|adverse|drug)[ \t-])?effects?"
HARM_NOUN = r"(?:side[ \t-]+effects?|adverse[ \t]+(?:effects?|reactions?)|toxicity|intolerance)"
HARM_NAMED_AFTER = re.compile(
    r"[ \t]+(allerg(?:y|ic[ \t]+reaction)|reaction|intolerance|\w*toxicity|hypersensitivity"
    rf"|{EFFECT_NOUN})\b",
    re.I,
)


# "<effect>, (most) likely …": the hedge a cause named right after the effect may carry
def _hedge_words(any_qualifier: bool) -> str:
    """The wording between an effect and the cause named after it (``HEDGE_WORDS``); with
    ``any_qualifier``, any word or two a comma closes may qualify the effect first, and a hedge
    word must then follow."""
    other = (
        # any other word or two a comma closes, an aside after it: "Acute pancreatitis,
        # interstitial edematous, mild (no organ failure), most likely azathioprine-induced"
        # (not a preposition's phrase: "Hyponatremia from SIADH, most likely sertraline-induced")
        r"|(?!(?:from|due|secondary|with|without|on|in|after|and|or|of|to|for|by)\b)"
        r"[a-z][a-z-]{2,}(?:[ \t]+[a-z][a-z-]{2,})?(?=[ \t]*,)"
        if any_qualifier
        else ""
    )
    hedge = (
        r"(?:(?:likely|probably|possibly|presumably|presumed|felt|thought|expected|known"
        r"|typical)[ \t]+(?:to[ \t]+be[ \t]+)?)"
    )
    return (
        # a comma or a spaced dash, and the severity a problem-list item may state first:
        # "Thrombocytopenia, mild - probably valproate-related"
        # ("Hypocalcemia, symptomatic, secondary to cinacalcet"), after an aside listing what it
        # was ("Behavioral change (agitation, irritability), likely levetiracetam-related")
        r"(?:[ \t]*\([^()\n]{1,60}\))?"
        r"(?:[ \t]*,|[ \t]+[-\u2013])?[ \t]*(?:(?:mild|moderate|severe|symptomatic|asymptomatic"
        r"|acute|chronic|recurrent|persistent|worsening|new|decompensated|exacerbated"
        # when in its course: "Insomnia - initial, likely stimulant-related"
        r"|initial|early|late|intermittent|transient|nocturnal|sleep-onset"
        # a kidney injury's kind: "Acute kidney injury, prerenal, from vomiting and the diuretic"
        r"|prerenal|pre-renal|intrinsic|postrenal"
        # a CTCAE grade: "Diarrhea, grade 2, capecitabine-related"; a stage and a side ("MRONJ,
        # stage 2, right mandible, due to zoledronic acid")
        r"|grade[ \t]*(?:[1-5]|iv|v|i{1,3})\b|stage[ \t]*(?:[0-4][a-c]?|iv|i{1,3})\b"
        # ("Rectus sheath hematoma, right - anticoagulant-associated")
        r"|(?:left|right|bilateral)(?:[ \t]+[a-z]+)?"
        + other
        + r")(?:[ \t]*\([^()\n]{1,60}\))?[ \t]*(?:,|[-\u2013])?[ \t]+){0,3}"
        r"(?:(?:most|more|very)[ \t]+)?"
        + (hedge if any_qualifier else hedge + "?")
        # "Right Achilles tendinopathy, likely also fluoroquinolone-related"
        + r"(?:also[ \t]+)?"
    )


HEDGE_WORDS = _hedge_words(any_qualifier=False)
HEDGE = re.compile(HEDGE_WORDS, re.I)
# qualifiers of any words, then a hedge word: what the effect's kind and course may say first
QUALIFIED_HEDGE = re.compile(_hedge_words(any_qualifier=True), re.I)
# the word "effect" after a drug, and a second drug before it: " and TMP-SMX effect" (not a
# "nephrotoxicity", a finding of its own the toxicity reading pairs)
_EFFECT_WORD = rf"[ \t]+{EFFECT_NOUN}\b"
_EFFECT_WORD_AFTER = re.compile(_EFFECT_WORD, re.I)
TWO_DRUGS_EFFECT = re.compile(
    r"[ \t]*(?:,|and|&|/|plus)[ \t]*[A-Za-z][\w-]*(?:[ \t]+[A-Za-z][\w-]*)?" + _EFFECT_WORD, re.I
)
_HEDGE_FIRST_OF_TWO = re.compile(HEDGE_WORDS + r"[A-Za-z][\w-]*" + _JOINER, re.I)
# "Hypomagnesemia and hyperkalemia, tacrolimus effect": the first of coordinated findings (a few
# words each) takes the cause named after the last, as a problem-list item means it
COORDINATED_HEDGE = re.compile(
    r"(?:[ \t]*(?:,|,?[ \t]+(?:and|or|&))[ \t]+[A-Za-z][\w'/-]*(?:[ \t]+[A-Za-z][\w'/-]*){0,3}?)+"
    # the cause set off after the last ("acute renal failure and concurrent lithium toxicity"
    # names two findings, not one's cause)
    + r"[ \t]*(?=,|[ \t][-\u2013])"
    + HEDGE_WORDS,
    re.I,
)
# "stop lisinopril given cough", "she stopped morphine for intractable vomiting", "doxycycline was
# discontinued for rash": the drug stopped, then the reason, then the problem within two words
_STOP_BEFORE = re.compile(
    r"\b(?:stop|stopped|discontinue|discontinued|d/c|d/c'd|dc'd)[ \t]+(?:(?:the|her|his)[ \t]+)?\Z",
    re.I,
)
_REASON = r"(?:for|given|because[ \t]+of|due[ \t]+to|secondary[ \t]+to)[ \t]+(?:[\w-]+[ \t]+){0,2}"
# when it was stopped may stand between: "in March", "3 months ago", "last year"
_STOPPED_WHEN = (
    r"(?:(?:in|on|at)[ \t]+[\w/-]+[ \t]+|(?:[\w-]+[ \t]+){1,2}ago[ \t]+"
    # "He stopped tamsulosin after 4 days because of dizziness on standing"
    r"|after[ \t]+(?:\d+|one|two|three|a[ \t]+few)[ \t]+(?:days?|weeks?|months?|doses?)[ \t]+"
    r"|(?:last|this)[ \t]+(?:week|month|year)[ \t]+)?"
)
_STOPPED_FOR = re.compile(r"[ \t]*(?:\([^()]*\)[ \t]*)?" + _STOPPED_WHEN + _REASON, re.I)
_WAS_STOPPED_FOR = re.compile(
    # "sotalol stopped in 2021 for QT prolongation": the auxiliary may be left out
    r"[ \t]+(?:(?:was|were|has[ \t]+been|had[ \t]+been)[ \t]+)?(?:stopped|discontinued)[ \t]+"
    + _FILLER
    + _REASON,
    re.I,
)

# "Insulin glargine reduced from 20 to 14 units given hypoglycemia": the dose lowered for what
# the drug did (a chronic disease it would worsen is a contraindication, filtered as for a stop)
_WAS_REDUCED_FOR = re.compile(
    r"[ \t]+(?:(?:was|were|has[ \t]+been|had[ \t]+been)[ \t]+)?(?:dose[ \t]+)?"
    r"(?:reduced|decreased|lowered|cut[ \t]+back|tapered)[ \t]+"
    r"(?:(?:from[ \t]+[\d.]+[ \t]*(?:[a-z]+[ \t]+)?)?to[ \t]+[\d.]+[ \t]*(?:[a-z]+[ \t]+)?"
    r"|by[ \t]+[\d.]+[ \t]*%?[ \t]*(?:[a-z]+[ \t]+)?)?" + _REASON,
    re.I,
)


# "Failed risperidone (galactorrhea) and olanzapine (weight gain …)": the drug in a tried clause,
# earlier drugs' glosses closed before it; then its gloss, which is no indication
_TRIED_CLAUSE = re.compile(TRIED_CLAUSE + r"\Z", re.I)
_TRIED_GLOSS_OPEN = re.compile(r"(?:/[\w-]+)*[ \t]*\([ \t]*(?!(?:for|as|given|to)\b)", re.I)


# "Anaphylaxis to iodinated contrast (iohexol)", "allergic reaction to cefazolin": a reaction
# named with what it was to (a new event; a record in a history or an allergy list is not)
REACTION_NOUN = re.compile(
    r"(?:anaphyla\w*|(?:anaphylactic|anaphylactoid|allergic|hypersensitivity|infusion)"
    r"[ \t]+reactions?|angioedema)",
    re.I,
)
REACTION_TO = re.compile(
    r"[ \t]+to[ \t]+(?:(?:the|an?|iv|intravenous|oral|iodinated)[ \t]+)*"
    r"(?:[\w-]+[ \t]*\([ \t]*)?",  # the class, then the drug's gloss: "contrast (iohexol"
    re.I,
)


# a reaction on record, not this encounter's: "History of anaphylaxis to penicillin"
_RECORDED_BEFORE = re.compile(
    r"\b(?:history[ \t]+of|h/o|hx[ \t]+of|prior|previous|known|remote)[ \t]+(?:[\w-]+[ \t]+){0,2}\Z",
    re.I,
)


def tried_gloss(text: str, drug: tuple[int, int], lo: int, hi: int) -> int | None:
    """Where the gloss of a drug tried before opens ("Tried doxycycline (vaginal candidiasis
    each course)", "clindamycin/rifampin (severe diarrhea)": what it did), or None; not a gloss
    saying what it was for ("tried lisinopril (for hypertension)")."""
    if not _TRIED_CLAUSE.search(text, max(lo, drug[0] - 160), drug[0]):
        return None
    opened = _TRIED_GLOSS_OPEN.match(text, drug[1], hi)
    return opened.end() if opened else None


def stopped_for(sentence: str, drug: tuple[int, int], effect: tuple[int, int]) -> bool:
    """Whether ``sentence`` says the drug was stopped for the effect (a dechallenge's reason,
    not what the drug treats): "stop lisinopril given cough", "doxycycline was discontinued for
    rash"; not "stopped warfarin and started apixaban for atrial fibrillation"."""
    if not drug[1] <= effect[0]:
        return False
    if _WAS_STOPPED_FOR.fullmatch(sentence, drug[1], effect[0]) or _WAS_REDUCED_FOR.fullmatch(
        sentence, drug[1], effect[0]
    ):
        return True
    return bool(
        _STOP_BEFORE.search(sentence, max(0, drug[0] - 24), drug[0])
        and _STOPPED_FOR.fullmatch(sentence, drug[1], effect[0])
    )


# "stopped … because of" names the drug that was stopped: the subject right before it
_STOPPED_BECAUSE = re.compile(r"(?:" + _STOP_VERBS + r")\s", re.I)


def is_stop_cue(cue: str) -> bool:
    """Whether a :func:`causal_link` cue is the reason a drug was stopped ("stopped for",
    "discontinued … because of"), not a wording of harm."""
    return bool(_STOPPED_BECAUSE.match(cue))


_SUBJECT_GAP = re.compile(r"[ \t]*(?:(?:was|were|is|has[ \t]+been|had[ \t]+been|got)[ \t]+)?", re.I)


def _in_closed_aside(between: str, at: int) -> bool:
    """Whether ``at`` lies in brackets that open and close inside ``between`` (an aside on the
    first mention: "DVT (provoked, during chemotherapy) on apixaban")."""
    opened = between.rfind("(", 0, at)
    return opened >= 0 and between.rfind(")", opened, at) < 0 and between.find(")", at) >= 0


def _clause_breaks(text: str) -> list[int]:
    """Offsets of the semicolons in ``text`` that lie outside brackets ("Bellamine S (belladonna;
    ergotamine; phenobarbital)" is one clause)."""
    depth, out = 0, []
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == ";" and depth == 0:
            out.append(i)
    return out


# "Hyperkalemia on spironolactone - reduce spironolactone to 12.5 mg", "Mild neutropenia on
# clozapine (ANC 1,300) - ...; hold if ANC below 1,000": the item names a finding "on" a drug and
# then lowers or holds that drug, which it would not do to a drug treating the finding
ON_BETWEEN = re.compile(r"[ \t]+on[ \t]+", re.I)
_LOWERED = r"(?:reduce|decrease|lower|hold|stop|discontinue|taper|wean)\w*[ \t]+"


def on_then_lowered(sentence: str, drug: tuple[int, int], effect: tuple[int, int]) -> bool:
    """Whether the effect is named "on" the drug and the sentence then lowers or holds it."""
    if not (effect[1] <= drug[0] and ON_BETWEEN.fullmatch(sentence, effect[1], drug[0])):
        return False
    name = re.escape(sentence[drug[0] : drug[1]])
    lowered = re.compile(
        _LOWERED
        + r"(?:(?:the[ \t]+)?dose[ \t]+of[ \t]+|the[ \t]+)?"
        + name
        + r"\b|\b(?:hold|stop)[ \t]+if\b",
        re.I,
    )
    return lowered.search(sentence, drug[1]) is not None


# "<findings> with each <drug> dose increase", "after every <drug> infusion": a harm that comes
# back with each exposure (a positive rechallenge, in effect)
_WITH_EACH_BEFORE = re.compile(r"[ \t]+(?:with|after)[ \t]+(?:each|every)[ \t]+\Z", re.I)
_DOSE_AFTER = re.compile(
    r"[ \t]+(?:new[ \t]+)?(?:doses?|infusions?|injections?|titration|increase)\b", re.I
)
# the effect and "with each" a few words apart at most ("headaches and jaw pain with each")
_FEW_WORDS_OR_LIST = re.compile(r"(?:[ \t]*,?[ \t]+[\w'/-]+){0,5}")


def each_dose(text: str, drug: tuple[int, int], lo: int = 0, hi: int | None = None) -> int | None:
    """Where "with each" opens before a ``drug`` written as repeated exposure ("with each
    treprostinil dose increase"), searching ``text[lo:hi]``; None when it is not so written."""
    each = _WITH_EACH_BEFORE.search(text, lo, drug[0])
    dose = _DOSE_AFTER.match(text, drug[1], len(text) if hi is None else hi)
    return each.start() if each is not None and dose is not None else None


# "Injection-site reactions (erythema, itching) with emicizumab": a harm word's aside, then the
# drug; the aside's findings are the drug's
HARM_ASIDE_BEFORE_DRUG = re.compile(
    r"(?:reactions?|side[ \t-]+effects?|intoleran\w*|toxicity)[ \t]*\(([^()\n]{1,80})\)"
    r"[ \t]*,?[ \t]*(?:with|from|after|to|on)[ \t]+\Z",
    re.I,
)


# the effect "from (abrupt) withdrawal of" the drug: a withdrawal reaction is the drug's
_WITHDRAWAL_OF = re.compile(
    r"[ \t]*,?[ \t]+(?:(?:likely|probably|possibly)[ \t]+)?(?:from|due[ \t]+to|after|following"
    r"|secondary[ \t]+to|caused[ \t]+by)[ \t]+(?:(?:the|an?|abrupt|sudden|rapid)[ \t]+)*"
    r"(?:withdrawal|discontinuation|cessation|stopping)[ \t]+(?:of[ \t]+)?"
    r"(?:(?:long-term|chronic|high-dose|his|her|the|home)[ \t]+)*",
    re.I,
)


# the problem's contributors listed after it, drugs among them: "Delirium, hypoactive,
# multifactorial: hyponatremia, anticholinergic burden (oxybutynin), sedative-hypnotic (zolpidem)"
MULTIFACTORIAL = re.compile(
    # ("2. Recurrent falls - multifactorial: lorazepam-associated sedation, …")
    r"(?:[ \t]*,[ \t]*[a-z-]+){0,3}[ \t]*(?:,|[ \t][-\u2013])?[ \t]*(?:(?:likely|probably)[ \t]+)?"
    r"multifactorial"
    r"(?:[ \t]+(?:etiology|causes?))?[ \t]*"
    r"(?::|\(|[-\u2013\u2014][ \t]|,[ \t]*(?:including|from|due[ \t]+to)\b)",
    re.I,
)


# "side effects of", "toxicity from" right before a drug, its harms glossed after it:
# "Behavioral side effects of levetiracetam (irritability, aggression)"
HARM_OF_BEFORE = re.compile(rf"\b{HARM_NOUN}[ \t]+(?:of|from|to)[ \t]+(?:the[ \t]+)?\Z", re.I)
_INSIDE_GLOSS = re.compile(r"[ \t]*\([^()]*")


# what ends such a list: its clause, or a plan ("clozapine effect - check troponin … to exclude
# myocarditis" lists nothing)
LIST_BREAK = re.compile(
    r"[.;]|\b(?:check|start|stop|continue|monitor|hold|consider|exclude|rule|repeat|recheck|to|if"
    r"|will|plan)\b",
    re.I,
)
# a drug's harm and then what it was: "Linezolid toxicity: myelosuppression (thrombocytopenia,
# anemia, leukopenia), peripheral neuropathy and possible optic neuropathy"
HARM_THEN_LIST = re.compile(
    rf"[ \t]+(?:\w*toxicity|{EFFECT_NOUN}|reaction)[ \t]*(?::|[ \t][-\u2013])[ \t]*",
    re.I,
)


# "Supratherapeutic INR with bleeding - warfarin potentiated by trimethoprim-sulfamethoxazole
# (CYP2C9 inhibition)": the drug whose effect another raised, and the drug that raised it, are
# each a suspect of the item's findings (a pharmacovigilance report lists the interacting drug)
POTENTIATED_BY = (
    r"[ \t]+(?:(?:effect|levels?|action|activity)[ \t]+)?(?:(?:was|were|is)[ \t]+)?"
    r"(?:potentiated|augmented|boosted|increased|raised)[ \t]+by[ \t]+"
)
_POTENTIATED_BY = re.compile(POTENTIATED_BY + r"(?=[A-Za-z])", re.I)  # by a name, not "10%"
_SUSPECT_POTENTIATED = re.compile(rf"(?P<suspect>[A-Za-z][\w/-]*){POTENTIATED_BY}\Z", re.I)
# from the item's finding to the suspect: another finding "with" it, a grade, then the dash
_ITEM_THEN_SUSPECT = re.compile(
    # the rest of an aside the effect is in, or an aside after it: "Phenytoin toxicity
    # (nystagmus, dysarthria, cerebellar ataxia) - phenytoin levels raised by fluconazole"
    r"(?:[^()\n]{0,80}\))?(?:[ \t]*\([^()\n]*\))?"
    r"(?:[ \t]+(?:with|and)[ \t]+[\w -]{1,40}?)?(?:[ \t]*,[ \t]*[\w-]+(?:[ \t]+[\w-]+)?)?"
    r"[ \t]*(?:,|;|[ \t][-\u2013]|:)[ \t]*(?:(?:likely|probably)[ \t]+)?",
    re.I,
)


# the drug the ground an effect arose on: "… in the setting of TNF-alpha inhibitor therapy
# (infliximab) plus azathioprine", "thrombocytopenia in the setting of heparin" (not "delirium in
# the setting of UTI, on ciprofloxacin": the UTI is the setting, the drug treats it)
_IN_THE_SETTING_OF = re.compile(
    r"\s*(?:\([^()]*\)\s*)?,?\s*in\s+the\s+(?:setting|context)\s+of\s+", re.I
)
_DRUG_IN_SETTING = re.compile(
    r"(?:(?:[\w-]+\s+){0,3}(?:therapy|treatment|use|inhibitors?|blockers?|agents?|biologics?)"
    r"\s*\(\s*)?(?:[\w-]+(?:\s*\))?\s*(?:plus|and|with|,)\s*)?",
    re.I,
)


def in_the_setting_of(sentence: str, effect_end: int, drug: tuple[int, int]) -> bool:
    """Whether the effect ending at ``effect_end`` arose "in the setting of" the drug (an aside
    on the effect may come between)."""
    setting = _IN_THE_SETTING_OF.match(sentence, effect_end, drug[0])
    return bool(setting and _DRUG_IN_SETTING.fullmatch(sentence, setting.end(), drug[0]))


# "…, ACE inhibitor contributing.", "with losartan and furosemide contributing;": a drug named
# a contributor, the clause ending there ("amlodipine contributing to edema" names its own effect)
CONTRIBUTING = (
    r"[ \t]+(?:is[ \t]+|are[ \t]+)?(?:(?:also|likely|probably|possibly|may[ \t]+be)[ \t]+)*"
    r"contributing[ \t]*(?=[.;,)\-\u2013]|\n|\Z)"
)
_CONTRIBUTING_AFTER = re.compile(
    r"(?:[ \t]*(?:,|and|&|/|plus)[ \t]*(?:and[ \t]+)?[A-Za-z][\w/-]*(?:[ \t]+[A-Za-z][\w/-]*)?)?"
    + CONTRIBUTING,
    re.I,
)
_CONTRIBUTING_CLOSE = re.compile(CONTRIBUTING + r"[ \t]*\)", re.I)


def contributing_in_gloss(sentence: str, effect_end: int, drug: tuple[int, int]) -> bool:
    """Whether the effect's gloss names the drug a contributor: "orthostatic hypotension
    (tamsulosin likely contributing)"."""
    return bool(
        GLOSS_OPEN.fullmatch(sentence, effect_end, drug[0])
        and _CONTRIBUTING_CLOSE.match(sentence, drug[1])
    )


def potentiated(sentence: str, effect_end: int, drug: tuple[int, int]) -> bool:
    """Whether ``drug`` is the suspect or the raiser of "<effect> - <suspect> potentiated by
    <raiser>", the effect ending at ``effect_end``."""
    if _POTENTIATED_BY.match(sentence, drug[1]):
        return _ITEM_THEN_SUSPECT.fullmatch(sentence, effect_end, drug[0]) is not None
    by = _SUSPECT_POTENTIATED.search(sentence, max(0, drug[0] - 80), drug[0])
    return bool(by and _ITEM_THEN_SUSPECT.fullmatch(sentence, effect_end, by.start("suspect")))


def causal_link(sentence: str, drug: tuple[int, int], effect: tuple[int, int]) -> str | None:
    """The cue linking ``drug`` and ``effect`` (offsets in ``sentence``), or None.

    Looked for between the two mentions, in the effect and drug wording themselves ("toxicity",
    "-induced") and just before the first of them; "despite" / "for" between them (with no
    stronger cue) reads as a treatment, not a cause.
    """
    first, second = sorted((drug, effect))
    between = sentence[first[1] : second[0]]
    listed = HARM_THEN_LIST.match(sentence, drug[1]) if drug < effect else None
    if listed is not None and not LIST_BREAK.search(sentence[listed.end() : effect[0]]):
        return "toxicity:"
    if (
        drug < effect
        and HARM_OF_BEFORE.search(sentence, max(0, drug[0] - 30), drug[0])
        and _INSIDE_GLOSS.fullmatch(sentence, drug[1], effect[0])
    ):
        return "side effects of"
    own = _OWN_CAUSE_GLOSS.match(sentence, effect[1]) if drug < effect else None
    if own is not None and sentence[drug[0] : drug[1]].lower() not in own.group().lower():
        return None  # "lorazepam-associated sedation, orthostatic hypotension (tamsulosin likely
        # contributing)": the effect's own gloss names its cause
    if effect < drug and in_the_setting_of(sentence, effect[1], drug):
        return "in the setting of"
    if effect < drug and potentiated(sentence, effect[1], drug):
        return "potentiated by"
    if (
        effect < drug
        and _CONTRIBUTING_AFTER.match(sentence, drug[1])
        and not re.search(r"[.;]", between)
        and len(between.split()) <= 2 * _NEAR_WORDS
    ):
        return "contributing"  # "AKI … - prerenal from gastroenteritis with losartan and
        # furosemide contributing; both held"
    listed = MULTIFACTORIAL.match(sentence, effect[1]) if effect < drug else None
    if listed is not None and not re.search(r"[.;]", sentence[listed.end() : drug[0]]):
        return "multifactorial"
    if (
        effect < drug
        and TWO_DRUGS_EFFECT.match(sentence, drug[1])
        and HEDGE.fullmatch(sentence, effect[1], drug[0])
    ):
        return "effect"  # "Hyperkalemia, mild - tacrolimus and TMP-SMX effect": the first
    if (
        effect < drug
        and _EFFECT_WORD_AFTER.match(sentence, drug[1])
        and _HEDGE_FIRST_OF_TWO.fullmatch(sentence, effect[1], drug[0])
    ):
        return "effect"  # ... and the second
    if (
        drug < effect
        and _PERSON_ON_BEFORE.search(sentence[max(0, drug[0] - 60) : drug[0]])
        and (_PRESENTED.search(between) or _OBSERVED_AFTER.match(sentence, effect[1]))
        and not _CONTRAST.search(between)
    ):
        return "in a patient on"
    if on_then_lowered(sentence, drug, effect):
        return "on, then lowered"
    each = each_dose(sentence, drug) if effect < drug else None
    if each is not None and _FEW_WORDS_OR_LIST.fullmatch(sentence, effect[1], each):
        return "with each dose"  # "headaches and jaw pain with each treprostinil dose increase"
    if treats(sentence, drug, effect):
        return None
    if (
        effect < drug
        and _PLAN_AFTER_DASH.search(between)
        # "Daytime sedation - quetiapine-related": the drug's compound, no plan
        and not re.match(COMPOUND, sentence[drug[1] :], re.I)
    ):
        return None  # the drug is after the plan's dash ("... - continue entecavir through 12
        # months after the last rituximab")
    named_harm = drug < effect and _COMPOUND_BETWEEN.fullmatch(between) is not None
    if (_INTENDED.search(sentence[effect[0] : effect[1]]) and not named_harm) or _CLAUSE_GAP.search(
        between
    ):
        return None  # (but "lorazepam-associated sedation" names a harm: the compound says so)
    if drug < effect and _PURPOSE.search(between):  # "given indomethacin to induce constriction"
        return None
    if _RESPONSE_BEFORE.search(sentence, max(0, effect[0] - 40), effect[0]):
        # "resolution of the rash after discontinuation of X" is a dechallenge again
        return "dechallenge" if effect < drug and _STOPPED_BEFORE.search(between) else None
    if drug < effect and _RESPONSE_AFTER.match(sentence, effect[1]):
        lead_in = sentence[max(0, drug[0] - 40) : drug[0]]
        return "dechallenge" if _STOPPED_BEFORE.search(lead_in) else None
    if effect < drug and _RESPONSE.search(between):  # "wheezes have decreased after lasix"
        stopped = _STOPPED_BEFORE.search(between) or _STOPPED_AFTER.match(sentence, drug[1])
        return "dechallenge" if stopped and not _CONTRAST.search(between) else None
    # A semicolon outside brackets ends a clause: only the cues of the effect's own clause link
    # across it ("… amiodarone pulmonary toxicity …; hypersensitivity pneumonitis less likely"
    # links nothing, "after amiodarone … disappeared; subsequently developed jaundice" does).
    aside = HARM_ASIDE_BEFORE_DRUG.search(sentence, 0, drug[0]) if effect < drug else None
    if aside is not None and aside.start(1) <= effect[0] and effect[1] <= aside.end(1):
        return "reaction (…) with"
    if effect < drug and _WITHDRAWAL_OF.fullmatch(sentence, effect[1], drug[0]):
        return "withdrawal of"  # "Adrenal crisis from abrupt withdrawal of long-term prednisone"
    breaks = _clause_breaks(between)
    lo, hi = 0, len(between)
    if breaks:
        lo, hi = (breaks[-1], hi) if drug < effect else (lo, breaks[0])
    for m in _LINK.finditer(between, lo, hi):
        if _STOPPED_BECAUSE.match(m.group(0)) and not (
            drug < effect and _SUBJECT_GAP.fullmatch(between, 0, m.start())
        ):
            continue  # "labetalol 200 mg BID; nifedipine was stopped because of": nifedipine's
        if (
            effect < drug
            and _ANOTHER_ON_PHRASE.search(between, m.end())
            and m.group(0).lower() in ("after", "following", "since", "post", "upon", "s/p")
        ):
            continue  # "hypothyroidism after radioactive iodine for Graves disease (1998), on
            # levothyroxine": the cue's object is the iodine, the drug another phrase's
        if drug < effect and _HOW_LONG.match(between, m.start()):
            continue  # "on metformin …, brought in by his wife after 3 days of vomiting and
            # diarrhea from a presumed norovirus outbreak": how long the illness had lasted
        if _in_closed_aside(between, m.start()):
            continue  # "DVT (provoked, during chemotherapy) on apixaban", "amiodarone … (after
            # failed flecainide), ischemic cardiomyopathy": the aside's own words
        if (
            drug < effect
            and _MODIFIER_CUE.fullmatch(m.group(0))
            and len(between[: m.start()].split()) > _NEAR_WORDS
        ):
            continue  # "… on apixaban, and COPD who presented with 3 days of worsening dyspnea"
        if breaks and _HARM_NOUN_CUE.fullmatch(m.group(0)):
            continue  # across a clause only a wording of cause links, not a harm noun there
        if breaks and effect < drug and between[m.end() : breaks[0]].strip(" \t,-"):
            continue  # "AD triggered by bladder distension - catheterize; nifedipine PRN": the
            # cue's own clause names what it links, and the drug after the break is the plan
        if effect < drug and _PLAN_COLON.search(between, m.end()):
            continue  # "DKA due to SGLT2 inhibitor (empagliflozin): insulin infusion": the plan's
        if (
            drug < effect
            and not between[: m.start()].strip(" \t-")
            and _PLAN_COLON.search(between, m.end())
        ):
            continue  # "aspirin-exacerbated respiratory disease: asthma, nasal polyps": its own noun
        cue = _compound_cue(sentence, first[1] + m.start(), m.group(0), drug)
        if cue is not None and breaks and cue.startswith("generic"):
            continue  # "Pruritus - likely immunotherapy-related; topical triamcinolone": the
            # class's drug is named in its own clause, not after the semicolon
        if cue is not None:
            return cue
    if effect < drug and cause_glossed_by(sentence, effect[1], drug):
        return "from (…)"  # "hypercalcemia from milk-alkali syndrome (calcium carbonate)", not
        # "AKI from sepsis (vancomycin held)"
    if effect < drug and _FROM_DRUG.search(between):  # "contraction alkalosis from lasix"
        return "from"
    if stopped_for(sentence, drug, effect):
        return "stopped for"  # "she stopped morphine for intractable vomiting"
    if (
        effect < drug
        and REACTION_NOUN.fullmatch(sentence, *effect)
        and REACTION_TO.fullmatch(between)
        and not _RECORDED_BEFORE.search(sentence, max(0, effect[0] - 30), effect[0])
    ):
        return "reaction to"  # "Anaphylaxis to iodinated contrast (iohexol)"
    opened = tried_gloss(sentence, drug, 0, len(sentence)) if drug < effect else None
    if opened is not None and opened <= effect[0] and ")" not in sentence[opened : effect[0]]:
        return "tried (…)"  # "Failed risperidone (galactorrhea)"
    harm = HARM_NAMED_AFTER.match(sentence, drug[1])
    hedged = HEDGE.fullmatch(between) or COORDINATED_HEDGE.fullmatch(between)
    if effect < drug and harm and hedged:
        return harm.group(1).lower()  # "Urticaria, likely amoxicillin allergy"
    compound = _COMPOUND_AFTER_DRUG.match(sentence, drug[1]) or _SPACED_COMPOUND_AFTER_DRUG.match(
        sentence, drug[1]
    )
    if effect < drug and compound and hedged:
        # "Hypomagnesemia, tacrolimus-related"; "Hypertension, likely calcineurin inhibitor
        # related" (the hyphen a space), the same cue
        return "-" + compound.group(0).strip(" \t-").lower()
    if effect < drug and hedged_drug_alone(sentence, effect[1], drug):
        return "likely"  # "Orthostatic hypotension, likely tamsulosin: stop tamsulosin"
    if effect < drug and _IN_A_PATIENT_ON.search(between) and not _CONTRAST.search(between):
        return "in a patient on"
    # A cue in the mentions' own wording or opening the clause links them only when they are
    # close: in a run-on note sentence "?allergic reaction w/ red skin … nystatin powder
    # ordered" the reaction is not the nystatin's.
    if len(between.split()) > _NEAR_WORDS or _CONTRAST.search(between) or breaks:
        return None
    plan = effect < drug and bool(_PLAN_COLON.search(between))
    lead_in = sentence[max(0, first[0] - _LEAD_IN_CHARS) : first[0]]
    lead_in = re.split(r"[.;:]", lead_in)[-1]
    # the first mention inside an aside that closes before the second: the words leading into
    # the aside are its own ("(after failed flecainide), ischemic cardiomyopathy")
    closes = between.find(")")
    aside_first = closes >= 0 and "(" not in between[:closes]
    for lo, hi in (effect, drug, (first[0] - len(lead_in), first[0])):
        if aside_first and hi == first[0]:
            continue
        if plan and hi != first[0]:
            continue  # "Peanut allergy: strict avoidance, epinephrine auto-injector": the plan
        for own in _LINK.finditer(sentence, lo, hi):
            if (
                own.group(0).lower().startswith("provok")
                and not sentence[own.end() : effect[0]].strip()
            ):
                continue  # "Provoked DVT: … apixaban": a DVT with a risk factor, no reaction
            if own.group(0).lower().startswith("allerg") and _ALLERGIC_DISEASE.match(
                sentence, own.end()
            ):
                continue  # "Allergic rhinitis, seasonal - cetirizine": a disease it treats
            cue = _compound_cue(sentence, own.start(), own.group(0), drug)
            if cue is not None and not (plan and cue.startswith("generic")):
                # "Opioid-induced nausea: hydromorphone PCA": the class, then the plan's drugs
                # ("An unusual cause of burn injury: … drugs that contain psoralens" links)
                return cue
    if re.fullmatch(r"\s*-?\s*", between):  # "amoxicillin rash", "digoxin-toxicity"
        return "adjacent"
    return None
