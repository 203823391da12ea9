"""Entities of a note: model spans cleaned into ``nlp.types.Entity``, plus problem abbreviations.

The NER model itself is any ``EntitySource`` (``TokenClassifier`` for the shipped model, see
``streamproc/models/ner``); this module turns what it returns into entities the rest of the
analyzer can trust: labels mapped to problem/test/treatment/drug, edges trimmed, never across a
line break, and the clinical abbreviations the PubMed-trained model misses added as problems.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

from streamproc.nlp.icd.burns import burns
from streamproc.nlp.icd.cancer import ORGAN_AFTER, ORGAN_BEFORE, is_bare_cancer
from streamproc.nlp.icd.coder import SynonymTable
from streamproc.nlp.sections import SectionIndex
from streamproc.nlp.sentences import LIST_ITEM, Sentence, line_bounds
from streamproc.nlp.types import CodeCandidate, Entity, EntityLabel

# Model label -> our label. The NER model is trained on problem/test/treatment/drug; the other
# names let a plain Hugging Face checkpoint (BC5CDR, NCBI, Chia-style labels) be dropped in.
LABEL_MAP: dict[str, EntityLabel] = {
    "problem": "problem",
    "disease": "problem",
    "condition": "problem",
    "test": "test",
    "measurement": "test",
    "treatment": "treatment",
    "procedure": "treatment",
    "drug": "drug",
    "chemical": "drug",
}
_EDGE_JUNK = " \t\r\n,;:.-*#()[]"
_TRAILING_JUNK = " \t\r\n,;:.-*#"
# "(disorder)", also when the model's span stopped before the closing parenthesis
SEMANTIC_TAG = re.compile(r"\s*\((?:disorder|finding|situation|procedure|event)\)?\s*$", re.I)
_LINE = re.compile(r"[^\r\n]+")
# "chronic kidney disease stage 3": the stage decides the code (N18.30, not N18.9) but the model,
# trained on PubMed, ends the problem before it
_STAGE = re.compile(r",? +stage +(?:[0-5]|iv|v|i{1,3})[a-c]?\b", re.IGNORECASE)
# "PE" is as often the physical exam as a pulmonary embolism; the coder still expands it when
# the model found it as a problem.
_AMBIGUOUS_ABBREVIATIONS = frozenset({"pe"})
# never a word or a name, and written in mixed case ("HFrEF")
_ANY_CASE_ABBREVIATIONS = frozenset({"afib", "a-fib", "a fib", "hfref", "hfpef"})
# also an English word: an abbreviation only where its line is not written all in capitals
# ("CONTINUING TO DRESS WOUNDS" in a nursing note is no drug reaction)
_WORD_ABBREVIATIONS = frozenset({"dress"})


# A span the model ended on a preposition or a conjunction ("tingling in", "pain and").
# "rash on the [face]": a preposition, and the article or possessive after it, the tagger ended on
_TRAILING_FUNCTION_WORD = re.compile(
    # ... and an ordinal the span cut from what it counts ("synovitis of the 2nd" of "… the 2nd
    # and 3rd MCPs" had read as a transient synovitis, M67.30)
    r"(?:\s+(?:in|of|on|at|to|for|with|and|or|plus)(?:\s+(?:the|his|her|their|both))?"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th))?)+\Z",
    re.IGNORECASE,
)
# ... or on the word of prevention after it, which ConText reads as a trigger back onto it
_TRAILING_PREVENTION = re.compile(r"\s+(?:prophylaxis|ppx|proph|precautions)\Z", re.IGNORECASE)


# a dash with space on both sides is a note's delimiter between a finding and what follows
# ("AKI - improving", "nivolumab - start levothyroxine"), never inside a name ("anti-PD-1")
_SPACED_DASH = re.compile(r"[ \t]+[-\u2013\u2014][ \t]+")


def ending_at_delimiters(
    text: str, entities: Sequence[Entity], is_drug: Callable[[str], bool] | None = None
) -> list[Entity]:
    """Drug and problem entities end at a spaced dash, the note's delimiter between a finding
    and what follows ("nivolumab - start levothyroxine", "SOFT OB - STOOL"), and a treatment
    read across one is two (the item's words, then the plan's treatment; a cause before the
    dash that ``is_drug`` does not name is a problem); an inline system
    heading before one ("Skin - Yeast infection") is left to ``without_inline_headings``. Run
    after ``assessment_item_heads``, which reads a span across an item's delimiter as the
    model's misreading of the head."""
    out: list[Entity] = []
    for e in entities:
        heading = _INLINE_HEADING.match(text, e.start, e.end)
        after = heading.end() if heading else e.start
        dash = _SPACED_DASH.search(text, after, e.end) if e.label != "test" else None
        if dash is None or dash.start() <= after:
            out.append(e)
            continue
        out.append(e.model_copy(update={"end": dash.start(), "text": text[e.start : dash.start()]}))
        if e.label == "treatment" and dash.end() < e.end:
            # "Iron deficiency anemia due to malabsorption - IV iron sucrose infusions": the
            # plan's treatment after the dash, and before it the cause the item names (no
            # treatment: as one treatment it had alerted malabsorption as the anemia's drug)
            if (
                is_drug is not None
                and _CAUSE_BEFORE.search(text, max(0, e.start - 24), e.start)
                and not is_drug(out[-1].text)  # "due to mycophenolate mofetil - switch to …"
            ):
                out[-1] = out[-1].model_copy(update={"label": "problem"})
            rest = {"start": dash.end(), "text": text[dash.end() : e.end]}
            out.append(e.model_copy(update=rest))
    return out


_CAUSE_BEFORE = re.compile(
    r"\b(?:due[ \t]+to|secondary[ \t]+to|caused[ \t]+by|because[ \t]+of|from)[ \t]+\Z", re.I
)


_FULL_STOP = re.compile(r"(?<=[a-z]{3})\.[ \t]+(?=[A-Z])")
_DIABETES_TYPE = re.compile(r"type[ \t]*(?:1|2|i|ii)", re.I)
_DIABETES_AFTER = re.compile(r"[ \t]+(?:diabetes(?:[ \t]+mellitus)?|dm)\b", re.I)


def with_diabetes_type(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """A problem that is only "type 2" takes the "diabetes" written after it, which the tagger
    read apart (as a drug, once, in "type 2 diabetes - metformin stopped"); a bare "type 2" names
    nothing ("thyrotoxicosis, type 2 likely")."""
    extended: list[tuple[int, int]] = []
    out: list[Entity] = []
    for e in entities:
        after = _DIABETES_AFTER.match(text, e.end) if e.label == "problem" else None
        if after is not None and _DIABETES_TYPE.fullmatch(e.text):
            e = e.model_copy(update={"end": after.end(), "text": text[e.start : after.end()]})
            extended.append((e.start, e.end))
        out.append(e)
    if not extended:
        return out
    kept: list[Entity] = []
    for e in out:
        inside = next(
            ((a, b) for a, b in extended if a <= e.start < b and (a, b) != (e.start, e.end)), None
        )
        if inside is None:
            kept.append(e)
        elif e.end > inside[1]:  # "diabetes - metformin": the rest after it
            rest = text[inside[1] : e.end]
            start = inside[1] + len(rest) - len(rest.lstrip(_EDGE_JUNK))
            if e.end - start >= 2:
                kept.append(e.model_copy(update={"start": start, "text": text[start : e.end]}))
    return kept


def with_burns(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """Each burn written with its depth and site ("partial-thickness burns to the right forearm
    and hand") one problem over those words, in place of what the tagger read there
    ("partial-thickness burns" without its sites, or nothing at all); a test there stays."""
    found = [(b.start, b.end) for b in burns(text)]
    if not found:
        return list(entities)
    kept = [
        e
        for e in entities
        if e.label == "test" or not any(e.start < end and start < e.end for start, end in found)
    ]
    added = [
        Entity(label="problem", start=start, end=end, text=text[start:end], score=1.0)
        for start, end in found
    ]
    return sorted([*kept, *added], key=lambda e: (e.start, e.end))


_TRAILING_NEGATIVE = re.compile(
    r"[ \t]+(?:negative|neg|non-?reactive|not[ \t]+detected|undetectable)$", re.I
)


def to_entities(text: str, spans: Sequence[Any], min_score: float = 0.0) -> list[Entity]:
    """Model spans (``start, end, label, score``) as entities with clean edges.

    A finding never crosses a line break: the model sometimes joins two list items
    ("Hunger\\n- Thirst"); each line becomes its own entity. List markers, punctuation,
    SNOMED-style semantic tags ("(finding)") and a trailing preposition or conjunction are
    trimmed off the edges.
    """
    out: list[Entity] = []
    for span in spans:
        label = LABEL_MAP.get(str(span.label).lower())
        if label is None or float(span.score) < min_score:
            continue
        for line in _LINE.finditer(text, int(span.start), int(span.end)):
            start, end = line.span()
            while start < end and text[start] in _EDGE_JUNK:
                start += 1
            while end > start and text[end - 1] in _TRAILING_JUNK:
                end -= 1
            m = SEMANTIC_TAG.search(text, start, end)
            if m and m.end() == end:
                end = m.start()
            trailing = _TRAILING_FUNCTION_WORD.search(text, start, end)
            if trailing and trailing.start() > start:
                end = trailing.start()  # "numbness and tingling in both feet": "tingling"
            # a problem ends before a word of prevention ("for seizure prophylaxis": the seizure
            # it prevents) and before its test's negative result ("HIV negative" had been B20):
            # the cue stays after it, for ConText to read
            for after in (_TRAILING_PREVENTION, _TRAILING_NEGATIVE) if label == "problem" else ():
                cut = after.search(text, start, end)
                if cut and cut.start() > start:
                    end = cut.start()
            end = _close_parenthesis(text, start, end)
            stage = _STAGE.match(text, end) if label == "problem" else None
            if stage:  # spaces and a comma only: never past the line
                end = stage.end()
            while end > start and text[end - 1] in _EDGE_JUNK and not _balanced(text[start:end]):
                end -= 1
            if end - start < 2 or _word_fragment(text, start, end):
                continue
            score = round(float(span.score), 4)
            out.append(Entity(label=label, start=start, end=end, text=text[start:end], score=score))
    return out


_HYPHEN_WORD_AFTER = re.compile(r"-[A-Za-z]")


def _word_fragment(text: str, start: int, end: int) -> bool:
    """A one-word span that is only part of a hyphenated word: "part" of "part-time employment"
    coded as a head laceration (S01.91XA) in a model's output. "COVID-19" (digits) and spans of
    several words ("small cell lung cancer" in "non-small cell lung cancer") are kept."""
    if " " in text[start:end]:
        return False
    before = start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()
    return before or bool(_HYPHEN_WORD_AFTER.match(text, end))


class ProblemAbbreviations:
    """The problem abbreviations of the ICD synonym table ("HTN", "DM2", "CHF"), found in notes.

    The NER model, trained on PubMed prose, misses or mislabels them ("HTN" as a test). Only
    forms written in capitals count (a lower-case "dm" or a name "Tia" does not).
    """

    def __init__(self, synonyms: SynonymTable) -> None:
        self.synonyms = synonyms
        patterns = [p.pattern for p, _ in synonyms.abbreviations]
        self._regex = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def add(self, text: str, entities: Sequence[Entity]) -> list[Entity]:
        """``entities`` plus a problem for each abbreviation no model problem already covers
        (a model entity of another label on it is replaced)."""
        out = list(entities)
        if self._regex is None:
            return out
        for m in self._regex.finditer(text):
            word, (start, end) = m.group(), m.span()
            low = word.lower()
            if low in _AMBIGUOUS_ABBREVIATIONS or (
                any(c.islower() for c in word) and low not in _ANY_CASE_ABBREVIATIONS
            ):
                continue
            if low in _WORD_ABBREVIATIONS and not any(c.islower() for c in _line(text, start)):
                continue
            if text[max(0, start - 4) : start].lower() == "s/p " and (
                f"s/p {low}" in self.synonyms.direct
            ):
                start -= 4  # "s/p MI" is a past infarction (I25.2), not an acute one
            overlapping = [e for e in out if e.start < end and start < e.end]
            if any(e.label == "problem" for e in overlapping):
                continue
            out = [e for e in out if e not in overlapping]
            out.append(
                Entity(label="problem", start=start, end=end, text=text[start:end], score=0.9)
            )
        return sorted(out, key=lambda e: (e.start, e.end))


def _line(text: str, at: int) -> str:
    """The line of ``text`` that holds offset ``at``."""
    start, end = line_bounds(text, at)
    return text[start:end]


_COMPLAINT_MAX_WORDS = 6
_JOINED = re.compile(r",|/|&|\b(?:and|or|with|without|after|from)\b", re.IGNORECASE)


def chief_complaint_items(
    text: str, sentences: Sequence[Sentence], sections: SectionIndex, entities: Sequence[Entity]
) -> list[Entity]:
    """``entities`` with each short chief-complaint list item read as one problem.

    A chief complaint is by definition the patient's problem, and EMR notes write it as a bare
    list ("# Chief Complaint / - Hunger / - Thirst / - Frequent Urination"); a tagger trained on
    PubMed sentences often finds nothing in a two-word line, or only part of it ("Urination").
    A list item of at most six words becomes one problem when the model found nothing on it, or a
    single problem inside it and nothing else (not when it joins several: "cough and fever"). The
    ICD coder still decides whether the item names a condition (an uncodable one publishes none).
    """
    out = list(entities)
    for sentence in sentences:
        if sections.section_at(sentence.start) != "chief_complaint":
            continue
        marker = LIST_ITEM.match(text, sentence.start, sentence.end)
        if marker is None:
            continue
        start, end = marker.end(), sentence.end
        while end > start and text[end - 1] in ".;,:":
            end -= 1
        item = text[start:end]
        if not item.strip() or len(item.split()) > _COMPLAINT_MAX_WORDS:
            continue
        on_item = [e for e in out if e.start < end and start < e.end]
        if on_item and (
            len(on_item) > 1
            or on_item[0].label != "problem"
            or _JOINED.search(item)
            or (on_item[0].start, on_item[0].end) == (start, end)
        ):
            continue
        out = [e for e in out if e not in on_item]
        score = on_item[0].score if on_item else 0.5
        out.append(Entity(label="problem", start=start, end=end, text=item, score=score))
    return sorted(out, key=lambda e: (e.start, e.end))


# An assessment item's head: "6. Constipation: senna", "#2 Hyperkalemia - kayexalate given",
# "3. Hypertension, well controlled", "- AKI" (the marker, then words up to ":", " - ", "," or the end)
_ITEM_HEAD = re.compile(
    r"(?:#[ \t]*\d{0,2}[.)]?|\d{1,2}[.)]|[-*\u2022])[ \t]*([A-Za-z][^:,\n]*?)[ \t]*"
    r"(?::|[ \t][-\u2013\u2014][ \t]|,|$)"
)


# what after an item's head says the head is not the patient's now
_DENIED_AFTER_HEAD = re.compile(
    r"[ \t]*(?:quit|former|none|no\b|denies|denied|never|negative|resolved|remote)", re.I
)
# where each list item names one problem: the assessment, and a problem or history list
_PROBLEM_LIST_SECTIONS = frozenset({"assessment_plan", "past_medical_history"})


def assessment_item_heads(
    text: str,
    sentences: Sequence[Sentence],
    sections: SectionIndex,
    entities: Sequence[Entity],
    codes_as_problem: Callable[[str], bool],
) -> list[Entity]:
    """``entities`` with the head of each assessment item the model read nothing in, when the
    coder reads that head as a condition by its own words.

    Why: a numbered assessment is the note's problem list, one problem per item (so is a
    "Problem list:" or history list: "# Macrocytosis - methotrexate effect"), and the tagger
    misses some heads that a list marker opens ("6. Constipation: senna" gave nothing, the bare
    "Constipation: senna" a problem); the item's principal problem went unpublished. Only heads
    of at most six words the model left untouched; "Dispo:", "Code status:" code to nothing."""
    out = list(entities)
    for sentence in sentences:
        if sections.section_at(sentence.start) not in _PROBLEM_LIST_SECTIONS:
            continue
        m = _ITEM_HEAD.match(text, sentence.start, sentence.end)
        if m is None:
            continue
        start, end = m.span(1)
        head = text[start:end]
        on_head = [e for e in out if e.start < end and start < e.end]
        # a span the model read across the head's own delimiter ("Urinary retention - bladder
        # scan q6h" one test, "Hyponatremia - hypervolemic" one problem coded 0.24) is no
        # reading of the head
        across = [e for e in on_head if e.end > end and (e.label != "problem" or e.start >= start)]
        if len(head.split()) > _COMPLAINT_MAX_WORDS or len(across) < len(on_head):
            continue
        if _DENIED_AFTER_HEAD.match(text, m.end(), sentence.end):
            continue  # "Tobacco: quit 2010", "Alcohol: none": the item says it is not so
        if codes_as_problem(head):
            out = [e for e in out if e not in across]
            out.append(Entity(label="problem", start=start, end=end, text=head, score=0.5))
    return sorted(out, key=lambda e: (e.start, e.end))


def _close_parenthesis(text: str, start: int, end: int) -> int:
    """A span that opens a parenthesis ends after its ")" when that comes right after the span
    ("severe anxiety (panic" -> "... (panic)"), else before the "(" it left open."""
    if text.count("(", start, end) <= text.count(")", start, end):
        return end
    if text.startswith(")", end):
        return end + 1
    end = text.rindex("(", start, end)
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _balanced(span: str) -> bool:
    """True when the span ends with a closing bracket that closes one inside it."""
    return span.endswith(")") and span.count("(") == span.count(")") and "(" in span


_GLOSS_OPEN = re.compile(r"[ \t]*\([ \t]*$")
_GLOSS_CLOSE = re.compile(r"[ \t]*\)")


# a short parenthesis right after a problem that the model left untagged: "anxiety (panic)"
_PAREN_GLOSS = re.compile(r"[ \t]*\(([^()\n]{2,40})\)")
_COURSE_GLOSS = re.compile(r"(?:acute|subacute|chronic|acute[ \t]+on[ \t]+chronic)", re.I)


def join_glosses(
    text: str, entities: Sequence[Entity], same_finding: Callable[[str, str], bool]
) -> list[Entity]:
    """A problem written as "A (B)" where ``same_finding(A, B)`` says B names the same finding
    is one problem: the parenthesis names or narrows A ("severe anxiety (panic)", "heart failure
    (HFrEF)", "CKD (chronic kidney disease)"). B is a problem the model found or, when it found
    nothing inside the parenthesis, its text (up to four words; not a SNOMED tag such as
    "(finding)"). Two entities would publish two Conditions for one finding, one of them the
    less specific code (F41.9 beside F41.0 in a quarter of the Synthea notes), and A alone the
    less specific code. "sepsis (pneumonia)" names two findings and stays two."""
    ordered = sorted(entities, key=lambda e: (e.start, e.end))
    out: list[Entity] = []
    i = 0
    while i < len(ordered):
        a = ordered[i]
        b = ordered[i + 1] if i + 1 < len(ordered) else None
        if a.label == "problem":
            if (
                b is not None
                and b.label == "problem"
                and a.end <= b.start
                and _GLOSS_OPEN.fullmatch(text, a.end, b.start)
                and (close := _GLOSS_CLOSE.match(text, b.end))
                and (same_finding(a.text, b.text) or _COURSE_GLOSS.fullmatch(b.text) is not None)
            ):
                out.append(_extended(text, a, close.end(), min(a.score, b.score)))
                i += 2
                continue
            paren = _PAREN_GLOSS.match(text, a.end)
            if (
                paren
                and (b is None or b.start >= paren.end())  # nothing found inside it
                and len(paren.group(1).split()) <= 4
                and not SEMANTIC_TAG.fullmatch(paren.group(0))
                and (
                    same_finding(a.text, paren.group(1).strip())
                    # its course: "eosinophilic pneumonia (acute)" J82.82, not the NOS J82.81
                    or _COURSE_GLOSS.fullmatch(paren.group(1).strip()) is not None
                )
            ):
                out.append(_extended(text, a, paren.end(), a.score))
                i += 1
                continue
        out.append(a)
        i += 1
    return out


def _extended(text: str, entity: Entity, end: int, score: float) -> Entity:
    return entity.model_copy(update={"end": end, "text": text[entity.start : end], "score": score})


def cancer_sites(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """A bare "CA" / "cancer" problem takes the organ word written right before it ("OVARIAN
    CA", "laryngeal CA w/p XRT") or after it ("Squamous cell carcinoma of the oropharynx", which
    had coded as a skin cancer): the model, trained on PubMed prose, tagged only the "CA", which
    codes to C80.1 (primary site unknown), and a bare "CA" outside a history list is read as
    calcium. What the organ word overlapped (the model may have tagged it alone) is replaced."""
    out = list(entities)
    for e in entities:
        if e.label != "problem" or not is_bare_cancer(e.text):
            continue
        line_start, _ = line_bounds(text, e.start)
        organ = ORGAN_BEFORE.search(text, line_start, e.start)
        after = ORGAN_AFTER.match(text, e.end) if organ is None else None
        if organ is None and after is None:
            continue
        start = organ.start(1) if organ else e.start
        end = after.end() if after else e.end
        joined = e.model_copy(update={"start": start, "end": end, "text": text[start:end]})
        out = [
            x
            for x in out
            if x is not e
            and not (x.start < e.start and start < x.end)
            and not (e.end <= x.start < end)
        ]
        out.append(joined)
    return sorted(out, key=lambda x: (x.start, x.end))


_VACCINE = (
    r"(?:vaccines?|vaccinations?|vaccinated|immuni[sz]ations?|immuni[sz]ed|toxoids?|antitoxin"
    r"|boosters?)"
)
# "diphtheria, pertussis, and tetanus vaccine": at most six words, no clause punctuation, then the
# vaccine word; "pneumonia despite pneumococcal vaccination" is a finding, so a gap holding a verb
# or preposition of its own does not count
_VACCINE_AFTER = re.compile(r"(?:[ \t,/-]+[\w()'-]+){0,6}?[ \t,/-]*" + _VACCINE + r"\b", re.I)
_NOT_A_VACCINE_NAME = re.compile(
    r"\b(?:after|before|despite|with|without|on|since|from|due|following|post|s/p|received|"
    r"given|got|had|has|have|was|were|is|are|needs?|needed|declined|refused|no|not)\b",
    re.I,
)
# "vaccinated against hepatitis B", "immunizations: influenza, seasonal, ..."
_VACCINE_BEFORE = re.compile(
    _VACCINE + r"(?:[ \t]+(?:against|for)[ \t]+(?:[\w()'-]+[ \t,/-]+){0,5}|[ \t]*:[^.;:\n]*)$", re.I
)


def is_vaccine_target(text: str, e: Entity) -> bool:
    """A problem named as what a vaccine is for: "administration of diphtheria, pertussis, and
    tetanus vaccine" coded A36.9 / A37.00 as present Conditions, and so would "hepatitis B
    vaccine" or "vaccinated against influenza"."""
    if e.label != "problem":
        return False
    after = _VACCINE_AFTER.match(text, e.end)
    if after and not _NOT_A_VACCINE_NAME.search(text, e.end, after.end()):
        return True
    line_start, _ = line_bounds(text, e.start)
    return bool(_VACCINE_BEFORE.search(text, line_start, e.start))


# "withdraws to pain", "responsive only to deep pain", "localizes to painful stimuli": the neuro
# exam's stimulus, not the patient's pain
_STIMULUS_BEFORE = re.compile(
    r"\b(?:respon\w*|withdr[ae]w\w*|localiz\w*|grimac\w*|reacts?|moan\w*|opens?\s+eyes|"
    r"flex\w*|extend\w*|moves?)\s+(?:\w+\s+){0,2}?to\s+(?:deep\s+|noxious\s+|painful\s+|"
    r"central\s+|sternal\s+|nail\s*bed\s+)?$",
    re.I,
)


_PAIN_TREATED = re.compile(
    r"\s*(?:med|meds|medications?|medicines?|regimen|relief|control)\b", re.I
)


# "HAS A COUGH AND GAG", "+cough/gag", "cough reflex intact": the airway reflexes of a neuro exam
_GAG = re.compile(r"\bgag\b", re.I)
_REFLEX_AFTER = re.compile(r"\s*reflex", re.I)


def _reflex(text: str, e: Entity) -> bool:
    around = text[max(0, e.start - 12) : e.start] + " " + text[e.end : e.end + 12]
    return bool(_GAG.search(around) or _REFLEX_AFTER.match(text, e.end))


def is_exam_stimulus(text: str, e: Entity) -> bool:
    """A neuro-exam stimulus or reflex: "responsive only to deep pain" and "withdraws to pain"
    published R52 Conditions for comatose patients in ICU nursing notes, and "has a cough and
    gag" (the airway reflexes) a cough R05.9."""
    if e.label != "problem":
        return False
    word = e.text.lower()
    if word.startswith("pain"):
        line_start, _ = line_bounds(text, e.start)
        return bool(
            _STIMULUS_BEFORE.search(text, max(line_start, e.start - 60), e.start)
            and not _PAIN_TREATED.match(text, e.end)
        )
    return word in ("cough", "coughs") and _reflex(text, e)


# "VT" is ventricular tachycardia in a rhythm report ("runs of VT 3-7 beats", "sustained VT") and
# the tidal volume in a ventilator report ("PS 10/PEEP 5, VT 400cc", "VT's 4-600", "VT DOWN TO
# 330"), about half of each in ICU nursing notes. Rhythm words nearby decide first; then
# ventilator words nearby, or a value right after the letters, make it a measurement.
_VT = re.compile(r"v-?t(?:'?s)?", re.IGNORECASE)
_RHYTHM_NEAR = re.compile(
    r"\b(?:runs?|beats?|bts?|sustained|episodes?|bursts?|ectopy|pvcs?|vea|amio\w*|lido\w*|"
    r"defib\w*|cdv|cardiovert\w*|syncope|arrest)\b",
    re.IGNORECASE,
)
_VENT_NEAR = re.compile(
    r"\b(?:peep|ps|psv|ips|cpap|bipap|fio2|vent\w*|a/c|ac|simv|rr|resp|rsbi|wean\w*|extubat\w*|"
    r"intubat\w*|mech\w*|spont\w*|cc|ml|tidal|exhaled|inspired|trach\w*|cuff)\b|\d\s*cc\b",
    re.IGNORECASE,
)
_VALUE_AFTER = re.compile(r"\s*(?:[:=<>~]|of\s+\d|\d)")


def is_tidal_volume(text: str, e: Entity) -> bool:
    """A "VT" problem that is a ventilator's tidal volume, not ventricular tachycardia."""
    if e.label != "problem" or not _VT.fullmatch(e.text.strip()):
        return False
    window = text[max(0, e.start - 60) : e.end + 40]
    return not _RHYTHM_NEAR.search(window) and bool(
        _VENT_NEAR.search(window) or _VALUE_AFTER.match(text, e.end)
    )


# "VT req. shock", "shocked x2 with 200J", "sync shock 100 J": the defibrillator's shock, not
# circulatory shock (a seventh unread ICU sample had published R57.9 for "cath c/b VT req. shock").
_ELECTRIC_BEFORE = re.compile(
    r"(?:\breq(?:uired|uiring|\.)?|\bneeded|\bgiven|\breceived|\bdelivered|\bsync(?:hronized)?|"
    r"\bdefib\w*|\bcardiovert\w*|\bicd|\baicd|\bfired|\b\d+\s*j(?:oules?)?)\W{0,3}$",
    re.IGNORECASE,
)
_ELECTRIC_AFTER = re.compile(
    r"\s*(?:x\s*\d|with\s+\d+\s*j|@?\s*\d+\s*j(?:oules?)?\b)", re.IGNORECASE
)


def is_electrical_shock(text: str, e: Entity) -> bool:
    """A bare "shock" problem that is a defibrillator's shock ("VT req. shock")."""
    if e.label != "problem" or e.text.strip().lower() not in ("shock", "shocks"):
        return False
    before = text[max(0, e.start - 20) : e.start]
    return bool(_ELECTRIC_BEFORE.search(before) or _ELECTRIC_AFTER.match(text, e.end))


_LIST_AFTER = re.compile(r"(?:/[\w-]+)?[ \t]+list\b", re.I)  # "allergy/intolerance list"
# what a list records, glossed after it: "documented in allergy list (tendon rupture)", "add to
# allergy list: pancreatitis" (the reaction on record; the ADE stage reads the event itself)
_LIST_GLOSS_BEFORE = re.compile(
    r"\b(?:allerg(?:y|ies)|intoleran(?:ce|ces)|adverse[ \t]+(?:drug[ \t]+)?reactions?)(?:/[\w-]+)?"
    r"[ \t]+list[ \t]*(?:\(|:)[ \t]*\Z",
    re.I,
)


# The record of a finding, not the finding: "listed as allergy", "document as adverse reaction",
# "document amoxicillin as allergy (urticaria)" (the ADE stage reads the same words as no new
# reaction).
RECORDED_AS = re.compile(
    r"\b(?:list(?:ed)?|document(?:ed)?|record(?:ed)?|add(?:ed)?|flag(?:ged)?)\s+"
    # "document as severe allergy": a severity may stand before the record's word
    r"(?:[\w/-]+\s+){0,3}?as\s+(?:an?\s+)?(?:(?:severe|serious|mild|moderate|drug)\s+)?\Z",
    re.I,
)


# A test named by what it looks for: "pending allergy testing", "baseline preeclampsia labs
# normal"; not one with its finding ("strep test positive", "HIV test reactive").
_TEST_AFTER = re.compile(
    r"(?:/\w{1,3})?[ \t]+(?:labs?|lab[ \t]+work|bloodwork|test(?:s|ing)?|panel|screen(?:ing)?|serolog(?:y|ies))\b"
    r"(?![ \t]*(?:(?:was|were|is|came[ \t]+back|returned)[ \t]+)?"
    r"(?:\+|positive|pos\b|reactive|detected|showed|shows|revealed|consistent|c/w|confirm))",
    re.I,
)


# An allergy's evaluation or label names the work-up or the record, not a reaction: "referred for
# penicillin allergy evaluation", "Penicillin allergy label removed"
_ALLERGY_WORD = re.compile(r"(?:drug[ \t]+)?allerg(?:y|ies)", re.I)
_ALLERGY_WORKUP_AFTER = re.compile(
    r"[ \t]+(?:evaluation|work-?up|consult(?:ation)?|referral|label|clinic|history)\b", re.I
)


# where a field label may open: the line's start, or after a sentence or clause ends
_FIELD_OPENS = re.compile(r"(?:\A|\n|[.;][ \t]+)[ \t]*\Z")


# the allergy service a patient is sent to: "refer to allergy for testing", "seen by allergy"
_TO_THE_SERVICE = re.compile(
    r"\b(?:refer(?:red|ral)?|sen[dt]|seen[ \t]+by|see|consult(?:ed)?|f/u|follow(?:-|[ \t])?up)"
    r"[ \t]+(?:(?:to|with|by|in)[ \t]+)?(?:the[ \t]+)?\Z",
    re.I,
)


# "the seizure medication": what a drug is for, named as its kind
_MEDICATION_AFTER = re.compile(r"[ \t]+(?:medications?|meds|drugs)\b", re.I)
_SEIZURE = re.compile(r"seizures?|convulsions?", re.I)


def is_medication_kind(text: str, e: Entity) -> bool:
    """A seizure naming a kind of drug: "new since starting the seizure medication" published a
    seizure the patient never had (an antiepileptic is often prophylaxis). Not a chronic
    disease's drugs: "HTN meds held during CVVHD" still says the patient has hypertension."""
    return (
        e.label == "problem"
        and _SEIZURE.fullmatch(e.text) is not None
        and _MEDICATION_AFTER.match(text, e.end) is not None
    )


# "TBI left 0.12", "ABI: right 0.82": a short form with a decimal value (a side at most between)
_DECIMAL_VALUE = re.compile(
    r"[ \t]*:?[ \t]*(?:(?:left|right|l|r|bilat\w*)[ \t]*:?[ \t]*)?\d*\.\d+\b", re.I
)
_SHORT_FORM = re.compile(r"[A-Z]{2,5}")


def is_measured_index(text: str, e: Entity) -> bool:
    """A short form written with a decimal value is an index measured, not a disease: "TBI left
    0.12" (the toe-brachial index) had become a traumatic brain injury, S06.9XAA. A stage
    ("CKD 3a", "DM 2") has no decimal point and stays."""
    return (
        e.label == "problem"
        and _SHORT_FORM.fullmatch(e.text) is not None
        and _DECIMAL_VALUE.match(text, e.end) is not None
    )


# a dose's frequency, route or unit alone: "Oxybutynin 5 mg TID causes dry mouth"
_DOSING_WORD = re.compile(
    r"(?:q[ .]?\d{0,2}[ .]?h(?:rs?|ours?)?|q\.?(?:d|am|pm|hs|od|id)|b\.?i\.?d|t\.?i\.?d|q\.?i\.?d"
    r"|qhs|prn|po|iv|im|sq|sc|mg|mcg|units?|tabs?|caps?)\.?",
    re.I,
)


def is_dosing_word(text: str, e: Entity) -> bool:
    """A "drug" that is only a dose's frequency, route or unit ("TID" of "5 mg TID"): it had
    been paired with the dry mouth and constipation its oxybutynin caused."""
    return e.label in ("drug", "treatment") and _DOSING_WORD.fullmatch(e.text) is not None


_PAST_PREGNANCY = re.compile(
    r"\b(?:previous|prior|last|earlier|first|second|third|other)[ \t]+\Z", re.I
)


def is_past_pregnancy(text: str, e: Entity) -> bool:
    """A pregnancy the note counts among the past ones ("Previous pregnancy: preeclampsia at 35
    weeks"): the heading of an obstetric history, no pregnant state (it published Z33.1)."""
    return (
        e.label == "problem"
        and e.text.lower() in ("pregnancy", "pregnancies")
        and _PAST_PREGNANCY.search(text, max(0, e.start - 12), e.start) is not None
    )


def is_list_name(text: str, e: Entity) -> bool:
    """A problem word naming a list, a record or a test: "add amoxicillin to allergy list"
    published an allergy T78.40XA, "problem list reviewed" would publish a problem, "stop
    empagliflozin; document as adverse reaction" published T88.7XXA, "baseline preeclampsia labs
    normal" a pre-eclampsia."""
    return e.label == "problem" and bool(
        _LIST_AFTER.match(text, e.end)
        or _TEST_AFTER.match(text, e.end)
        # a field label inside a line: "PMH: Asthma, eczema. Allergies: peanut (…)" (not the
        # finding heading its reaction: "Penicillin allergy: hives")
        or (
            _ALLERGY_WORD.fullmatch(e.text) is not None
            and text.startswith(":", e.end)
            and _FIELD_OPENS.search(text, max(0, e.start - 4), e.start) is not None
        )
        or (
            _ALLERGY_WORD.fullmatch(e.text) is not None
            and (
                _ALLERGY_WORKUP_AFTER.match(text, e.end) is not None
                or _TO_THE_SERVICE.search(text, max(0, e.start - 30), e.start) is not None
            )
        )
        or RECORDED_AS.search(text, max(0, e.start - 60), e.start)
        or _LIST_GLOSS_BEFORE.search(text, max(0, e.start - 40), e.start)
    )


# A note's title line, upper case and naming the kind of note: "INFECTIOUS DISEASES FOLLOW-UP",
# "NEPHROLOGY CONSULT", "PULMONARY CLINIC NOTE".
_TITLE_LINE = re.compile(
    r"[ \t]*[A-Z][A-Z0-9 &/,'-]*\b(?:NOTE|CONSULT|CONSULTATION|FOLLOW-UP|FOLLOW UP|FOLLOWUP"
    r"|VISIT|CLINIC|EVALUATION|SUMMARY|ADMISSION|H&P|PROGRESS)\b[A-Z0-9 &/,'-]*[ \t]*"
)


# ... or in title case, naming the clinic or service: "Movement Disorders Clinic", "TB Clinic
# Follow-up", "Anticoagulation Clinic / Vascular Medicine", "Palliative Care Consult"; only
# capitalised words after it (not "Consult for sepsis")
_SERVICE_TITLE_LINE = re.compile(
    r"[ \t]*(?:[\w/&.'-]+[ \t]+){0,5}?(?:Clinic|Service|Consult(?:ation)?|Department|Program"
    r"|Center|Centre)\b(?:[ \t]*[-/\u2013]?[ \t]*[A-Z][\w-]*)*[ \t]*"
)


def is_note_title(text: str, e: Entity) -> bool:
    """A service named in the note's title: "INFECTIOUS DISEASES FOLLOW-UP" published an
    unspecified infectious disease, B99.9; "TB Clinic Follow-up" active tuberculosis A18.89."""
    line_start, line_end = line_bounds(text, e.start, e.end)
    return e.label == "problem" and any(
        title.fullmatch(text, line_start, line_end) for title in (_TITLE_LINE, _SERVICE_TITLE_LINE)
    )


# a disease naming a program or a team in a sentence: "Reported to state TB program" published
# active tuberculosis A18.89 for a latent infection; "the heart failure clinic", "stroke team"
_SERVICE_AFTER = re.compile(
    r"[ \t]+(?:programs?|clinic|service|team|registry|coordinator|educator|navigator)\b", re.I
)


def is_service_name(text: str, e: Entity) -> bool:
    """A problem that is the name of the service that treats it, not a finding of the note."""
    return e.label == "problem" and _SERVICE_AFTER.match(text, e.end) is not None


# Problems the tagger finds that name no finding of the patient's, each learned from a note
# that published one as a Condition.
NOT_FINDINGS: tuple[Callable[[str, Entity], bool], ...] = (
    is_vaccine_target,
    is_exam_stimulus,
    is_tidal_volume,
    is_electrical_shock,
    is_list_name,
    is_note_title,
    is_service_name,
    is_medication_kind,
    is_measured_index,
    is_dosing_word,
    is_past_pregnancy,
)


def without_non_findings(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """The entities none of :data:`NOT_FINDINGS` rules out (each rule names the labels it
    judges)."""
    return [e for e in entities if not any(rule(text, e) for rule in NOT_FINDINGS)]


# A nursing note's system heading written inline with a dash: "Cv- Hypotensive", "Neuro - Pt
# anxious", "Skin - Yeast infection", "A- s/p cardiac arrest" (SOAP). The NER took heading and
# finding as one problem, which then coded to nothing or to the wrong thing ("Cv- Hypotensive"
# -> O26.50, pregnancy). The heading is cut off; what is left is the finding.
_INLINE_HEADING = re.compile(
    r"(?:neuro|neurologic|cv|c-v|cardiac|cardio|cardiovascular|hemodynamics|resp|respiratory"
    r"|pulm|pulmonary|gi|gu|gi/gu|id|skin|integ|integument|endo|heme|renal|psych|social|ms"
    r"|access|lines|ext|extremities|plan|assessment|pmh|pmhx|events|[soap])\s*-+\s+",
    # "A-fib" is no heading
    re.IGNORECASE,
)


def without_inline_headings(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """Problem entities that begin with an inline system heading keep only the finding after
    it; one that is nothing but a heading ("gi- ") is dropped."""
    out: list[Entity] = []
    for e in entities:
        heading = _INLINE_HEADING.match(e.text) if e.label == "problem" else None
        if heading is None:
            out.append(e)
            continue
        start = e.start + heading.end()
        if start >= e.end or not any(c.isalpha() for c in text[start : e.end]):
            continue
        out.append(e.model_copy(update={"start": start, "text": text[start : e.end]}))
    return out


# Up to three words right before a span on its line ("C. difficile", "drug-induced", "old").
# (A word may hold hyphens but not end with one: "A- blood loss anemia" opens with a heading.)
_WORDS_BEFORE = re.compile(r"(?:[\w.'/-]*[\w.'/][ \t]+){1,3}\Z")
_WORD_BEFORE = re.compile(r"[\w.'/-]*[\w.'/][ \t]+")


def with_coded_modifier(
    text: str,
    entities: Sequence[Entity],
    is_direct: Callable[[str], bool],
    code: Callable[[str], Sequence[CodeCandidate]] | None = None,
) -> list[Entity]:
    """A problem the model read without the words before it takes them when the coder has a row
    for the whole (the longest such, at most three words): "FROM OLD STROKE" ("STROKE" alone is
    an acute infarction, I63.9; "old stroke" its sequelae, I69.30), "C. difficile colitis" A04.72
    (not a noninfective colitis, K52.9), "drug-induced liver injury" K71.9 (not a traumatic
    laceration, S36.119A). With ``code``, so does a whole the tabular list names exactly (score
    1.0) as a more specific code of the problem's own category: "persistent atrial
    fibrillation" I48.19, not I48.91; "mild intermittent asthma" J45.20, not J45.909 ("family
    history of asthma", Z82.5, leaves the category and stays apart). Only such wholes join, so
    an unrelated word before a problem never does; a problem inside the joined span is the same
    finding and is dropped."""
    out: list[Entity] = []
    grown: set[int] = set()
    for i, e in enumerate(entities):
        found = _WORDS_BEFORE.search(text, max(0, e.start - 48), e.start)
        if e.label == "problem" and found is not None:
            starts = [found.start() + m.start() for m in _WORD_BEFORE.finditer(found.group())]
            for start in starts:  # the longest first
                if not _opens_word(text, start) or _FULL_STOP.search(text[start : e.start + 1]):
                    continue  # the window cut a word, or the "word" is a full stop, or the
                    # words are the sentence before ("remission. Type 2 diabetes")
                if is_direct(text[start : e.end]) or _refines(text[start : e.end], e.text, code):
                    e = e.model_copy(update={"start": start, "text": text[start : e.end]})
                    grown.add(i)
                    break
        out.append(e)
    return _without_swallowed(out, grown, labels=("problem",))


# Up to three words right after a span on its line ("prolonged", "toxin positive").
_WORDS_AFTER = re.compile(r"(?:[ \t]+[\w.'/-]*[\w'/]){1,3}")


_NOT_A_QUALIFIER = frozenset(
    [
        "with",
        "of",
        "on",
        "in",
        "for",
        "and",
        "or",
        "the",
        "a",
        "an",
        "to",
        "from",
        "at",
        "by",
        "as",
        "has",
        "had",
        "have",
        "is",
        "was",
        "were",
        "no",
        "not",
        "h/o",
        "hx",
        "history",
        "s/p",
        "denies",
        "other",  # "no complaints other than muscle pain" is no M79.18
        "than",
        "except",
    ]
)


def _refines(whole: str, part: str, code: Callable[[str], Sequence[CodeCandidate]] | None) -> bool:
    """``whole`` is a tabular term exactly (score 1.0) for a more specific code of the category
    ``part`` codes to."""
    if code is None or whole.split(maxsplit=1)[0].lower() in _NOT_A_QUALIFIER:
        return False  # "with persistent atrial fibrillation" codes as without the "with"
    mine = code(whole)
    return bool(mine) and mine[0].score >= 1.0 and _finer_in_category(mine, code(part))


def _finer_in_category(mine: Sequence[CodeCandidate], theirs: Sequence[CodeCandidate]) -> bool:
    """``mine``'s best code is another code of the category ``theirs``'s best is in."""
    return bool(
        mine
        and theirs
        and mine[0].code != theirs[0].code
        and mine[0].code[:3] == theirs[0].code[:3]
    )


# "due to chemotherapy", "of chemotherapy": the cause written right after a problem
_CAUSE_AFTER = re.compile(
    r"[ \t]+(?:due[ \t]+to|secondary[ \t]+to|of|from|induced[ \t]+by|related[ \t]+to|with|(in))[ \t]+",
    re.I,
)
_NEXT_WORD = re.compile(r"[ \t]*([\w'/-]*[\w'/])")


def with_coded_cause(
    text: str,
    entities: Sequence[Entity],
    is_direct: Callable[[str], bool],
    code: Callable[[str], Sequence[CodeCandidate]],
) -> list[Entity]:
    """A problem takes the cause written after it (up to three words) when the coder has a row
    for the whole that is another code of the problem's own category: "Anemia due to
    chemotherapy" is D64.81, not the D64.9 of "Anemia" the model tagged beside "chemotherapy" (a
    treatment). A cause that leaves the category ("anemia due to blood loss" is D50.0, an iron
    deficiency) stays apart unless a row names the whole ("Anemia in CKD" D63.1, "proteinuria
    due to type 2 diabetes mellitus" E11.29); entities inside the joined span are the same
    finding and go."""
    out: list[Entity] = []
    grown: set[int] = set()
    for i, e in enumerate(entities):
        cue = _CAUSE_AFTER.match(text, e.end) if e.label == "problem" else None
        ends: list[int] = []
        pos = cue.end() if cue else -1
        while cue is not None and len(ends) < 3:
            word = _NEXT_WORD.match(text, pos)
            if word is None:
                break
            ends.append(pos := word.end())
        for end in reversed(ends):  # the longest first
            whole = text[e.start : end]
            mine = code(whole)
            # a row for the whole joins, even leaving the category ("Anemia in CKD" is D63.1,
            # not the D64.9 of "Anemia"); after "in" only a row ("pain in the knee" is none)
            exact = not (cue is not None and cue.group(1)) and bool(mine) and mine[0].score >= 1.0
            if is_direct(whole) or (exact and _finer_in_category(mine, code(e.text))):
                e = e.model_copy(update={"end": end, "text": whole})
                grown.add(i)
                break
        out.append(e)
    return _without_swallowed(out, grown)


def with_coded_finding(
    text: str,
    entities: Sequence[Entity],
    is_direct: Callable[[str], bool],
    code: Callable[[str], Sequence[CodeCandidate]] | None = None,
) -> list[Entity]:
    """A test (or a lab the tagger called a drug) with the words after it is a problem when the
    coder has a row for the whole (the longest such, at most three words): "QTc prolonged to 520
    ms on azithromycin" (QTc was tagged a drug) is R94.31, "C. difficile toxin positive,
    attributed to ceftriaxone" (tagged a drug) is A04.72 — findings the ADE stage can then pair
    with their cause; so is a "drug" no dictionary names whose own words are a row ("Telogen
    effluvium"). Only curated rows make a finding; "QTc 460" stays a test."""
    out: list[Entity] = []
    problems = {(e.start, e.end) for e in entities if e.label == "problem"}
    for e in entities:
        finding = _finding_read_as_drug(text, e, is_direct, code)
        if finding is not None:
            out.append(finding)
            continue
        if e.label not in ("test", "drug", "treatment"):
            out.append(e)
            continue
        found = _WORDS_AFTER.match(text, e.end)
        ends = [e.end]
        if found is not None:
            ends += [e.end + m.end() for m in re.finditer(r"[\w'/](?=[ \t]|$)", found.group())]
        before = _WORDS_BEFORE.search(text, max(0, e.start - 24), e.start)
        starts = [e.start]
        if before is not None:  # the tagger may have left a word out: "[C.] difficile toxin",
            # "[an infected] right knee prosthesis"
            starts += [before.start() + m.start() for m in _WORD_BEFORE.finditer(before.group())]
        own = _own_span_a_finding(text, e, is_direct, code)
        spans = sorted(
            ((a, b) for a in starts for b in ends if own or (a, b) != (e.start, e.end)),
            key=lambda ab: ab[0] - ab[1],
        )
        for start, end in spans:  # the longest first
            if (start, end) in problems:
                break  # the problem is read already ("Chronic lithium toxicity"): the drug stays
            if _opens_word(text, start) and (
                is_direct(text[start:end]) or ((start, end) == (e.start, e.end) and own)
            ):
                update = {"label": "problem", "start": start, "end": end, "text": text[start:end]}
                e = e.model_copy(update=update)
                break
        out.append(e)
    return out


# a word that goes on the noun phrase ("lung cancer screening", "wound care"), not a preposition,
# conjunction or verb after a finding ("hemolytic transfusion reaction in 2020")
_NOUN_GOES_ON = re.compile(
    r"[ \t]+(?!(?:in|on|of|with|after|since|and|or|due|from|secondary|was|is|were|has|had|"
    r"that|which|while|when|but|s/p|status|likely|probably|possibly)\b)[A-Za-z]",
    re.I,
)
_ACTION = re.compile(r"[A-Za-z]+ing", re.I)
# a test the writer called abnormal: "Mild transaminase elevation" is R74.01, not a lab name
_ABNORMAL_WORD = re.compile(
    r"\b(?:elevat\w*|raised|high|low|abnormal|deranged|prolong\w*|gain|loss)\b", re.I
)


def _own_span_a_finding(
    text: str,
    e: Entity,
    is_direct: Callable[[str], bool],
    code: Callable[[str], Sequence[CodeCandidate]] | None,
) -> bool:
    """Whether the tagger's own test or treatment span is a finding: a test that says it is
    abnormal and a row names ("transaminase elevation"), or a treatment the tabular list names
    word for word as a disease ("nasal polyps" J33.9; no status or substance code: "colostomy",
    "dialysis" and "oxygen" score below 1.0 anyway). Not where a noun goes on after it ("lung
    cancer screening CT", "wound care") or it is a heading or a test sent for."""
    # the cheap word tests first, the coder (a lexical search for a new mention) last
    if e.label == "test":
        if _ABNORMAL_WORD.search(e.text) is None:
            return False
    elif e.label != "treatment" or _ACTION.fullmatch(e.text):
        return False  # "both patent and FLUSHING": the nurse's action, not a symptom
    if _NOUN_GOES_ON.match(text, e.end) or _no_finding_here(text, e):
        return False
    if e.label == "test":
        return _names_a_finding(e.text, is_direct, code)
    return _tabular_finding(e.text, code, excluded=_SUBSTANCE + ("Z",))


def _finding_read_as_drug(
    text: str,
    e: Entity,
    is_direct: Callable[[str], bool],
    code: Callable[[str], Sequence[CodeCandidate]] | None,
) -> Entity | None:
    """``e`` as the problem it is where the tagger called a finding a drug that no dictionary
    names and a curated row or the tabular list word for word calls a finding ("Telogen
    effluvium, likely from rapid weight loss", "hypokalemia" between "hypomagnesemia and" and
    "- IV phosphate"); None otherwise."""
    if e.label != "drug" or e.concept is not None or not _names_a_finding(e.text, is_direct, code):
        return None
    return None if _no_finding_here(text, e) else e.model_copy(update={"label": "problem"})


def _no_finding_here(text: str, e: Entity) -> bool:
    """Where the words of ``e`` name no finding of the patient's even if a row names them: a
    :data:`NOT_FINDINGS` case ("influenza vaccine"), a system heading ("ENDOCRINE: RISS"), a
    test sent for it ("2nd stool sample sent for c-diff", "C-diff sent x 2")."""
    as_problem = e.model_copy(update={"label": "problem"})
    return bool(
        any(rule(text, as_problem) for rule in NOT_FINDINGS)
        or _COLON_AFTER.match(text, e.end)
        or _ORDERED_BEFORE.search(text, max(0, e.start - 30), e.start)
        or _ORDERED_AFTER.match(text, e.end)
    )


def _names_a_finding(
    mention: str,
    is_direct: Callable[[str], bool],
    code: Callable[[str], Sequence[CodeCandidate]] | None,
) -> bool:
    """Whether a curated row names ``mention``, or the tabular list word for word with a code
    that is no substance's use or poisoning ("opioids", "alcohol" are the drugs they say)."""
    return is_direct(mention) or _tabular_finding(mention, code, excluded=_SUBSTANCE)


def _tabular_finding(
    mention: str,
    code: Callable[[str], Sequence[CodeCandidate]] | None,
    excluded: tuple[str, ...],
) -> bool:
    """Whether the tabular list names ``mention`` word for word (score 1.0) with a code outside
    ``excluded`` (a substance's use or poisoning; for a treatment also a status, Z)."""
    found = code(mention) if code is not None else ()
    return bool(found) and found[0].score >= 1.0 and not found[0].code.startswith(excluded)


_ORDERED_BEFORE = re.compile(
    r"\b(?:sent|send|sending|for|needs?|check(?:ed)?|r/o|rule[ \t]+out|pending|awaiting)"
    r"[ \t]+(?:(?:one|a|another|more|the|\d+(?:st|nd|rd|th)?)[ \t]+){0,2}\Z"
    # a numbered sample alone: "after 3rd cdiff"
    r"|\b\d+(?:st|nd|rd|th)[ \t]+\Z",
    re.I,
)
_ORDERED_AFTER = re.compile(
    r"[ \t]+(?:sent|pending|cx|cultures?|specs?|specimens?|toxins?|assay|tests?|x[ \t]*\d)\b", re.I
)
_COLON_AFTER = re.compile(r"[ \t]*:")  # not a dash: "Oral thrush - nystatin" is an item's head
# substance use (F10-F19), tobacco use, poisoning: what a drug word codes to, not a finding
_SUBSTANCE = ("F1", "Z72.0", "T3", "T4", "T5", "T6")


def _opens_word(text: str, start: int) -> bool:
    """``start`` opens a whole word: not a piece the look-back window cut ("…ld stroke"), nor a
    full stop read as a word."""
    return text[start].isalnum() and (
        start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "._'/-")
    )


# "Stage 2 chronic kidney disease", "CKD stage IV", "stage 3 pressure ulcer": the tagger leaves
# the stage out, and the code loses what the writer said (N18.9 instead of N18.2). (A stage
# right after a span the model tagged is joined in ``to_entities``; this also takes one before
# it, and one after a problem the abbreviation or drug rules added.)
_STAGE_WORDS = r"stage\s+(?:[0-5]|iv|v|i{1,3})[a-c]?"
_QUALIFIER_BEFORE = re.compile(rf"\b(?:{_STAGE_WORDS}|acute\s+on)[ \t]+$", re.I)
# "recurrent": "Major depressive disorder, recurrent" is F33.9, not the single episode F32.9 (the
# one qualifier whose code leaves the category: F32 and F33 are the single and recurrent MDD)
# also a bare stage right after ("CKD 3a", "CKD 4"): the whole must still code to another code
# of the category, so "Hgb 9" or "pain 8" never joins
_STAGE_AFTER = re.compile(
    rf"[ \t]*,?[ \t]*(?:{_STAGE_WORDS}|recurrent\b|(?<=[ \t])[1-5][ab]?(?![\w%/]|\.\d)"
    # a course written after a comma: "Atrial fibrillation, chronic" is I48.20, not I48.91
    r"|(?<=,)[ \t]*(?:chronic|acute|paroxysmal|persistent|permanent)\b"
    # "major depressive disorder, recurrent, severe without psychotic features" is F33.2
    # "Asthma, mild persistent" is J45.30, not J45.909
    r"|(?<=,)[ \t]*(?:mild|moderate|severe)[ \t]+(?:intermittent|persistent)\b"
    r"|(?<=,)[ \t]*(?:mild|moderate|severe)(?:[ \t]+(?:with|without)[ \t]+psychotic[ \t]+features)?\b"
    # "Acute anterior uveitis, right eye" is H20.021, not H20.029 (an eye or an ear's side picks
    # the code within the category)
    r"|(?<=,)[ \t]*(?:right|left|both|bilateral)[ \t]+(?:eyes?|ears?)\b"
    # "Prematurity, 35 weeks" is P07.38, not P07.30
    r"|(?<=,)[ \t]*\d{2}[ \t]*(?:weeks|wks)\b"
    # "dyspnea on exertion" is R06.09, a symptom the patient has, not a conditional R06.00
    r"|(?<=[ \t])(?:on|with)[ \t]+exertion\b"
    # "dizziness on standing": an orthostatic symptom the patient has
    r"|(?<=[ \t])(?:on|upon|with)[ \t]+standing\b"
    # "Type 2 diabetes, poorly controlled" is E11.65 (with hyperglycemia), not E11.9
    r"|(?<=,)[ \t]*(?:(?:poorly|inadequately|not[ \t]+well)[ \t]+controlled|uncontrolled)\b"
    # "ADHD, combined type" / "combined presentation" (DSM-5's word) is F90.2, not F90.9
    r"|(?<=,)[ \t]*(?:[a-z-]+[ \t]+){1,2}?(?:type|presentation)\b"
    # "Migraine without aura" is G43.009, not G43.909
    r"|(?<=[ \t])(?:with|without)[ \t]+aura\b)",
    re.I,
)
STAGED_MIN_SCORE = 0.7


def with_qualifiers(
    text: str, entities: Sequence[Entity], code: Callable[[str], Sequence[CodeCandidate]]
) -> list[Entity]:
    """A problem takes the stage written next to it, or an "acute on" before it, when the whole
    codes confidently (best score >= ``STAGED_MIN_SCORE``) to another code of the same category:
    "stage 2 chronic kidney disease" N18.2, not N18.9; "acute on chronic systolic heart failure"
    I50.23, not I50.22. One that changes nothing or leaves the category ("stage 2 hypertension"
    is no pressure ulcer, "acute on chronic pancreatitis" no acute pancreatitis) is left out."""
    out = [_qualified(text, e, code) for e in entities]
    grown = {i for i, (q, e) in enumerate(zip(out, entities, strict=True)) if q is not e}
    # a problem the qualifier held is part of the whole now ("paranoid" of "schizophrenia,
    # paranoid type" is no shared psychotic disorder F24 of its own)
    return _without_swallowed(out, grown, labels=("problem",))


def _without_swallowed(
    entities: Sequence[Entity], grown: Collection[int], labels: Collection[str] | None = None
) -> list[Entity]:
    """``entities`` less those (of ``labels``; any, when None) lying wholly inside one of the
    ``grown`` ones (indices into ``entities``): a span that grew over them reads them as part of
    its one finding now."""
    spans = [(entities[i].start, entities[i].end) for i in grown]
    return [
        e
        for j, e in enumerate(entities)
        if j in grown
        or (labels is not None and e.label not in labels)
        or not any(a <= e.start and e.end <= b for a, b in spans)
    ]


def _qualified(
    text: str, e: Entity, code: Callable[[str], Sequence[CodeCandidate]], rounds: int = 3
) -> Entity:
    """``e`` with the qualifiers beside it that refine its code, one after another ("major
    depressive disorder" + ", recurrent" + ", severe without psychotic features": F33.2)."""
    for _ in range(rounds):
        before = _QUALIFIER_BEFORE.search(text, max(0, e.start - 14), e.start)
        after = _STAGE_AFTER.match(text, e.end)
        if not (e.label == "problem" and (before or after)):
            break
        start = before.start() if before else e.start
        end = after.end() if after else e.end
        alone, staged = code(e.text), code(text[start:end])
        if not (
            alone
            and staged
            and staged[0].score >= STAGED_MIN_SCORE
            and staged[0].code != alone[0].code
            and (
                staged[0].code[:3] == alone[0].code[:3]
                or {staged[0].code[:3], alone[0].code[:3]} == {"F32", "F33"}
            )
        ):
            break
        e = e.model_copy(update={"start": start, "end": end, "text": text[start:end]})
    return e


_SUBTYPE_COMMA = re.compile(r"[ \t]*,[ \t]*")
_ADJACENT = re.compile(r"[ \t]+")


def join_subtypes(
    text: str,
    entities: Sequence[Entity],
    code: Callable[[str], Sequence[CodeCandidate]],
    min_score: float = 0.9,
) -> list[Entity]:
    """Two problems written "X, Y" are one finding when the whole codes confidently (best score
    >= ``min_score``) to a more specific code of X's own category: "schizoaffective disorder,
    bipolar type" is F25.0, not F25.9 beside a bipolar II disorder (F31.81) read from "bipolar
    type". A list ("DM, HTN", "CHF, COPD") codes no better whole, and stays two. Two problems
    side by side ("hypersensitivity" "pneumonitis") are one when the whole is a tabular term
    exactly (score 1.0) and codes to neither part's code (J67.9, not an allergy and a
    pneumonia)."""
    out: list[Entity] = []
    ordered = sorted(entities, key=lambda e: (e.start, e.end))
    i = 0
    while i < len(ordered):
        e = ordered[i]
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        if nxt is not None and e.label == nxt.label == "problem":
            comma = _SUBTYPE_COMMA.fullmatch(text, e.end, nxt.start)
            adjacent = _ADJACENT.fullmatch(text, e.end, nxt.start)
            whole = code(text[e.start : nxt.end]) if comma or adjacent else ()
            alone = code(e.text) if whole else ()
            if whole and (
                # "schizoaffective disorder, bipolar type": a refinement of the first
                (
                    comma
                    and alone
                    and whole[0].score >= min_score
                    and whole[0].code != alone[0].code
                    and whole[0].code[:3] == alone[0].code[:3]
                )
                # "hypersensitivity" + "pneumonitis": one term the tagger cut in two, whose
                # whole the tabular list names exactly
                or (
                    adjacent
                    and whole[0].score >= 1.0
                    and all(whole[0].code != c[0].code for c in (alone, code(nxt.text)) if c)
                )
            ):
                out.append(e.model_copy(update={"end": nxt.end, "text": text[e.start : nxt.end]}))
                i += 2
                continue
        out.append(e)
        i += 1
    return out


# Where a list goes on inside one span: "SEPTIC SHOCK- HYPOTENSION", "CHF, COPD", "HTN / DM"
_LIST_SEPARATOR = re.compile(r"\s*[,;/]\s+|-\s+|\s+-\s+")
SPLIT_MIN_SCORE = 0.9


def split_joined_problems(
    entities: Sequence[Entity],
    code: Callable[[str], Sequence[CodeCandidate]],
    min_score: float = SPLIT_MIN_SCORE,
) -> list[Entity]:
    """A problem span the model read across a list separator is several problems when every
    part codes on its own (best score >= ``min_score``) and the whole codes worse than each part:
    one code for "SEPTIC SHOCK- HYPOTENSION" (it was postprocedural septic shock, T81.12XA) names
    neither. "Diabetes, uncontrolled" or "anemia, iron deficiency" stay whole: a qualifier does
    not code alone, and a whole that codes as well as its parts is one problem."""
    out: list[Entity] = []
    for e in entities:
        cuts = list(_LIST_SEPARATOR.finditer(e.text)) if e.label == "problem" else []
        if not cuts:
            out.append(e)
            continue
        bounds = [0, *(x for m in cuts for x in m.span()), len(e.text)]
        parts = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
        scores = [_best(code(e.text[a:b])) for a, b in parts]
        if min(scores) < min_score or _best(code(e.text)) >= min(scores):
            out.append(e)
            continue
        for a, b in parts:
            part = e.text[a:b]
            out.append(
                e.model_copy(update={"start": e.start + a, "end": e.start + b, "text": part})
            )
    return out


_STATUS_POST = re.compile(r"[ \t,]+(?:s/p|status[ \t]+post)[ \t]+", re.I)


# a drug and its harm read as one drug: "secondary to tacrolimus nephrotoxicity" had paired the
# acute kidney injury with a drug named "tacrolimus nephrotoxicity"
_TOXICITY_TAIL = re.compile(r"[ \t]+((?:[a-z]+)?toxicit(?:y|ies))\Z", re.I)


# "Acute oxaliplatin cold-induced laryngopharyngeal dysesthesia": the tagger's drug "oxaliplatin
# cold" ran into the compound's first half
_COMPOUND_NEXT = re.compile(r"-(?:induced|related|associated)\b", re.I)
# a word of the text, not a letter, number or Greek letter of a drug's name ("cyclosporine
# A-induced nephrotoxicity", "interferon alpha-induced")
_PLAIN_WORD = re.compile(r"(?!(?:alpha|beta|gamma|delta|kappa|lambda)\b)[a-z]{3,}", re.I)


def without_compound_word(
    text: str, entities: Sequence[Entity], names_a_drug: Callable[[str], bool]
) -> list[Entity]:
    """A drug span whose last word opens a compound ("cold-induced") and is no drug, where the
    words before it are one: the drug alone."""
    out: list[Entity] = []
    for e in entities:
        head, _, last = e.text.rpartition(" ")
        if (
            e.label == "drug"
            and head
            and _COMPOUND_NEXT.match(text, e.end)
            and _PLAIN_WORD.fullmatch(last) is not None
            and names_a_drug(head)
            and not names_a_drug(last)
        ):
            e = e.model_copy(update={"end": e.start + len(head), "text": head})
        out.append(e)
    return out


# a level or dose word the tagger took into the drug: "Visual hallucinations from
# supratherapeutic voriconazole" had alerted a drug named "supratherapeutic voriconazole"
_DOSE_QUALIFIER = re.compile(
    r"(?:supratherapeutic|subtherapeutic|therapeutic|toxic|high-dose|low-dose|excess(?:ive)?)[ \t]+",
    re.I,
)


def without_dose_qualifier(
    entities: Sequence[Entity], names_a_drug: Callable[[str], bool]
) -> list[Entity]:
    """A drug span opening with a level or dose word, the rest a drug: the drug alone."""
    out: list[Entity] = []
    for e in entities:
        lead = _DOSE_QUALIFIER.match(e.text) if e.label == "drug" else None
        if lead is not None and names_a_drug(e.text[lead.end() :]):
            e = e.model_copy(update={"start": e.start + lead.end(), "text": e.text[lead.end() :]})
        out.append(e)
    return out


def split_drug_toxicity(entities: Sequence[Entity]) -> list[Entity]:
    """A "drug" ending in a toxicity word is the drug, then a problem: its toxicity."""
    out: list[Entity] = []
    for e in entities:
        tail = _TOXICITY_TAIL.search(e.text) if e.label == "drug" else None
        if tail is None or tail.start() < 3:
            out.append(e)
            continue
        out.append(
            e.model_copy(update={"end": e.start + tail.start(), "text": e.text[: tail.start()]})
        )
        harm = e.start + tail.start(1)
        out.append(
            Entity(label="problem", start=harm, end=e.end, text=tail.group(1), score=e.score)
        )
    return out


def split_status_post(
    entities: Sequence[Entity],
    code: Callable[[str], Sequence[CodeCandidate]],
    min_score: float = SPLIT_MIN_SCORE,
) -> list[Entity]:
    """ "Left femoral neck fracture s/p hemiarthroplasty" (one span, 0.22) is the fracture
    (S72.002A) and the procedure that treated it ("s/p CABG" has its own status code, Z95.1):
    a problem the model read across "s/p" is cut there when the part before codes confidently
    and better than the whole."""
    out: list[Entity] = []
    for e in entities:
        cut = _STATUS_POST.search(e.text) if e.label == "problem" else None
        if cut is None or cut.start() == 0:
            out.append(e)
            continue
        before = _best(code(e.text[: cut.start()]))
        if before < min_score or before <= _best(code(e.text)):
            out.append(e)
            continue
        after = cut.start() + len(cut.group()) - len(cut.group().lstrip(" \t,"))
        for a, b in ((0, cut.start()), (after, len(e.text))):
            out.append(
                e.model_copy(update={"start": e.start + a, "end": e.start + b, "text": e.text[a:b]})
            )
    return out


def _best(codes: Sequence[CodeCandidate]) -> float:
    return codes[0].score if codes else 0.0


def overlaps_any(entity: Entity, marks: Sequence[tuple[int, int]]) -> bool:
    """Whether the entity overlaps one of ``marks`` (character ranges, end exclusive)."""
    return any(entity.start < end and start < entity.end for start, end in marks)


def outside(entities: Sequence[Entity], marks: Sequence[tuple[int, int]]) -> list[Entity]:
    """The entities that overlap none of ``marks``."""
    return [e for e in entities if not overlaps_any(e, marks)]
