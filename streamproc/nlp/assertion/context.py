"""The ConText algorithm over character offsets.

For each sentence: find trigger terms (one compiled regex, longest literal first, so a pseudo
trigger such as "no increase" or "gram negative" consumes its words and blocks the shorter "no"),
give each modifier a scope (forward, backward or both) that stops at the sentence edge, a
terminator term ("but", ";"), another modifier of a different category, or ``max_scope`` words,
then assign each entity the highest-priority category whose scope overlaps it. A problem in the
family-history section is ``family`` whatever its sentence says.

Scope refinements over plain ConText: a trigger that starts a list item (right after a comma,
"history of A, suspected B, C") and rules marked ``"comma": "stop"`` (adjectival hedges such as
"suspected") stop at the next comma; a trigger inside brackets stops at the closing bracket.

Exception cues ("other than", "except", "unless", "... are eligible") have category
``exception``; what they mean depends on the text genre, so it is a constructor choice:
``exceptions="note"`` (default, clinical notes: "no complaints except cough" -- the cue only ends
other scopes) or ``exceptions="criteria"`` (eligibility criteria: "malignancy other than basal
cell carcinoma" -- the excepted problem is excluded, i.e. ``absent``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Literal, cast

from streamproc.nlp.sections import SectionIndex
from streamproc.nlp.sentences import Sentence, sentence_index, split_sentences
from streamproc.nlp.types import Assertion

Category = Literal[
    "absent",
    "possible",
    "hypothetical",
    "conditional",
    "family",
    "terminate",
    "pseudo",
    "exception",
]
ExceptionMode = Literal["note", "criteria"]
Direction = Literal["forward", "backward", "bidirectional", "none"]
_MODIFIERS = ("absent", "possible", "hypothetical", "conditional", "family")
# When scopes overlap, the first listed wins: a negated finding is not asserted even if it is
# also hedged, and a relative's problem is never the patient's.
PRIORITY: tuple[Assertion, ...] = ("absent", "family", "hypothetical", "conditional", "possible")
_WORD = re.compile(r"\S+")
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class ContextRule:
    literal: str
    category: Category
    direction: Direction = "none"
    max_scope: int | None = None
    pattern: str | None = None
    comma_stops: bool = False  # the scope ends at the nearest comma, either way (single items)
    exception: bool = False  # loaded as category "exception" (see ExceptionMode)
    exceptions_only: bool = False  # a terminator that ends only exception scopes ("such as")
    in_notes: Category | None = None  # an exception's category in notes ("unless": hypothetical)


@dataclass(frozen=True, slots=True)
class AssertionResult:
    assertion: Assertion
    cue: str | None = None  # the trigger text that decided it (or "section:<name>")


@dataclass(frozen=True, slots=True)
class _Modifier:
    rule: ContextRule
    start: int
    end: int
    scope_start: int
    scope_end: int


def load_rules(path: Path | str | None = None) -> tuple[str, list[ContextRule]]:
    """Rules from a JSON file, or the packaged default; returns (version, rules)."""
    if path is None:
        raw = resources.files("streamproc.nlp.assertion").joinpath("rules.json").read_text("utf-8")
    else:
        raw = Path(path).read_text(encoding="utf-8")
    data = json.loads(raw)
    default_scope = data.get("defaults", {}).get("max_scope")
    comma_defaults: dict[str, str] = data.get("defaults", {}).get("comma", {})
    rules = []
    for item in data["rules"]:
        category = item["category"]
        if category not in (*_MODIFIERS, "terminate", "pseudo", "exception"):
            raise ValueError(f"unknown ConText category {category!r} for {item['literal']!r}")
        direction = item.get("direction", "forward" if category == "exception" else "none")
        if direction not in ("forward", "backward", "bidirectional", "none"):
            raise ValueError(f"unknown direction {direction!r} for {item['literal']!r}")
        if item.get("in_notes") not in (None, *_MODIFIERS):
            raise ValueError(f"unknown in_notes category for {item['literal']!r}")
        comma = item.get("comma", comma_defaults.get(category, "continue"))
        if comma not in ("stop", "continue"):
            raise ValueError(f"unknown comma mode {comma!r} for {item['literal']!r}")
        rules.append(
            ContextRule(
                literal=item["literal"].lower(),
                category=category,
                direction=direction if category in (*_MODIFIERS, "exception") else "none",
                max_scope=item.get("max_scope", default_scope),
                pattern=item.get("pattern"),
                comma_stops=comma == "stop",
                exception=category == "exception",
                exceptions_only=category == "terminate" and item.get("ends") == "exception",
                in_notes=cast(Category | None, item.get("in_notes")),
            )
        )
    return str(data.get("version", "context-rules")), rules


class ContextAssertion:
    """Assigns an :data:`Assertion` to entity spans of a note."""

    def __init__(
        self,
        rules: Sequence[ContextRule] | None = None,
        version: str | None = None,
        exceptions: ExceptionMode = "note",
    ):
        if rules is None:
            version, rules = load_rules()
        if exceptions not in ("note", "criteria"):
            raise ValueError(f"exceptions must be 'note' or 'criteria', not {exceptions!r}")
        self.exceptions = exceptions
        self.version = version or "context-rules-custom"
        # Exception cues become negations (criteria) or plain terminators (notes).
        rules = [
            replace(
                r,
                category="absent" if exceptions == "criteria" else (r.in_notes or "terminate"),
                exception=exceptions == "criteria" or r.in_notes is None,
            )
            if r.category == "exception"
            else r
            for r in rules
        ]
        # Index the rules by their first token: per sentence we scan tokens once and try only
        # the few rules that can start there (one big alternation was ~5 ms per sentence).
        self._by_first: dict[str, list[tuple[re.Pattern[str], ContextRule]]] = {}
        for rule in rules:
            # A pattern rule is indexed by its literal's first token, which the pattern must
            # also start with ("check ... for" -> "check").
            first = _TOKEN.findall(rule.literal)[0].lower()
            if rule.pattern is not None:
                body = rule.pattern
            else:
                body = r"\s+".join(re.escape(w) for w in rule.literal.split())
                body = rf"{body}(?![\w])" if rule.literal[-1:].isalnum() else body
            self._by_first.setdefault(first, []).append((re.compile(body, re.IGNORECASE), rule))
        for candidates in self._by_first.values():
            candidates.sort(key=lambda item: -len(item[1].literal))  # longest first: pseudo wins

    # ---- public API --------------------------------------------------------------------------
    def assert_spans(
        self,
        text: str,
        spans: Sequence[tuple[int, int]],
        sentences: Sequence[Sentence] | None = None,
        sections: SectionIndex | None = None,
    ) -> list[AssertionResult]:
        """One result per ``(start, end)`` span, in order."""
        if not spans:
            return []
        sents = list(sentences) if sentences is not None else split_sentences(text)
        sections = sections if sections is not None else SectionIndex.of(text)
        cache: dict[int, list[_Modifier]] = {}
        out = []
        deciders: list[_Modifier | None] = []
        for start, end in spans:
            deciders.append(None)
            if sections.section_at(start) == "family_history":
                out.append(AssertionResult("family", "section:family_history"))
                continue
            idx = sentence_index(sents, start)
            if idx < 0 or sents[idx].end <= start:
                out.append(AssertionResult("present"))
                continue
            if idx not in cache:
                cache[idx] = self._modifiers(text, sents[idx])
            deciders[-1] = self._decider(cache[idx], start, end)
            out.append(self._result(text, deciders[-1]))
        _share_trailing_negation(text, spans, out, deciders)
        return out

    def assert_text(self, sentence: str, start: int, end: int) -> AssertionResult:
        """Convenience for one span in a one-sentence text (tests, evaluation)."""
        return self.assert_spans(sentence, [(start, end)], [Sentence(0, len(sentence))])[0]

    # ---- internals ---------------------------------------------------------------------------
    @staticmethod
    def _decider(modifiers: list[_Modifier], start: int, end: int) -> _Modifier | None:
        """The highest-priority modifier whose scope overlaps the span, if any."""
        best: tuple[int, _Modifier] | None = None
        for mod in modifiers:
            # The trigger itself is never in its own scope ("no" is not the negated entity).
            if mod.start < end and start < mod.end:
                continue
            if mod.scope_start < end and start < mod.scope_end:
                rank = PRIORITY.index(mod.rule.category)  # type: ignore[arg-type]
                if best is None or rank < best[0]:
                    best = (rank, mod)
        return best[1] if best else None

    @staticmethod
    def _result(text: str, mod: _Modifier | None) -> AssertionResult:
        if mod is None:
            return AssertionResult("present")
        return AssertionResult(mod.rule.category, text[mod.start : mod.end])  # type: ignore[arg-type]

    def _modifiers(self, text: str, sent: Sentence) -> list[_Modifier]:
        hits: list[tuple[int, int, ContextRule]] = []
        consumed = sent.start
        for tok in _TOKEN.finditer(text, sent.start, sent.end):
            if tok.start() < consumed:
                continue
            candidates = self._by_first.get(tok.group().lower())
            if not candidates:
                continue
            # a literal must start on a word boundary ("no" must not match inside "kno-")
            if tok.start() > 0 and text[tok.start() - 1].isalnum() and tok.group().isalnum():
                continue
            for regex, rule in candidates:
                m = regex.match(text, tok.start(), sent.end)
                if m:
                    hits.append((m.start(), m.end(), rule))
                    consumed = m.end()
                    break
        if not hits:
            return []
        boundaries = [(s, e, r) for s, e, r in hits if r.category in (*_MODIFIERS, "terminate")]
        mods = []
        for s, e, rule in hits:
            if rule.category not in _MODIFIERS:
                continue
            scope_start, scope_end = s, e
            if rule.direction in ("forward", "bidirectional"):
                scope_end = self._limit(text, e, sent.end, rule, boundaries, forward=True)
                scope_end = min(scope_end, _bracket_edge(text, e, scope_end, forward=True))
                if rule.comma_stops or _starts_list_item(text, sent.start, s, e, scope_end):
                    comma = text.find(",", e, scope_end)
                    scope_end = comma if comma >= 0 else scope_end
            if rule.direction in ("backward", "bidirectional"):
                scope_start = self._limit(text, sent.start, s, rule, boundaries, forward=False)
                bracket = _bracket_edge(text, scope_start, s, forward=False)
                if text[bracket - 1 : bracket] == "(" and _CUE_GLOSS.fullmatch(text, bracket, s):
                    # the bracket holds the cue alone, glossing the item before it: "asthma
                    # (resolved)", "migraine, iron deficiency anemia (2019, resolved)"
                    item = max(text.rfind(c, scope_start, bracket - 1) for c in ",;:")
                    scope_start = max(scope_start, item + 1)
                else:
                    scope_start = max(scope_start, bracket)
                if rule.comma_stops:  # "AKI, concern for HRS vs prerenal": not the AKI
                    comma = text.rfind(",", scope_start, s)
                    if (
                        comma >= 0
                        and not text[comma + 1 : s].strip()
                        and _CLAUSE_END.match(text, e)
                    ):
                        # the cue alone after the comma ends its clause: "Pneumonia, possible."
                        # qualifies the item before it
                        comma = text.rfind(",", scope_start, comma)
                    scope_start = comma + 1 if comma >= 0 else scope_start
                    # nor across a spaced dash: "rash with fever - concerning for DRESS vs SJS"
                    dash = max(
                        text.rfind(" - ", scope_start, s), text.rfind(" \u2013 ", scope_start, s)
                    )
                    scope_start = dash + 3 if dash >= 0 else scope_start
            mods.append(_Modifier(rule, s, e, scope_start, scope_end))
        return mods

    @staticmethod
    def _limit(
        text: str,
        lo: int,
        hi: int,
        rule: ContextRule,
        boundaries: list[tuple[int, int, ContextRule]],
        forward: bool,
    ) -> int:
        """Scope edge between ``lo`` and ``hi`` (trigger end / sentence end, or the reverse)."""
        if forward:
            edge = hi
            for s, _e, other in boundaries:
                if lo <= s < edge and _ends(other, rule):
                    if text[s] == ":" and _HEADING_GAP.fullmatch(text, lo, s):
                        continue  # "negative for: fever, chills": the colon opens the scope
                    edge = s
            if rule.max_scope is not None:
                words = list(_WORD.finditer(text, lo, edge))
                if len(words) > rule.max_scope:
                    cut = words[rule.max_scope - 1].end()
                    edge = _list_end(text, lo, cut, edge) if rule.max_scope >= 6 else cut
            return edge
        edge = lo
        for _s, e, other in boundaries:
            if edge < e <= hi and _ends(other, rule):
                edge = e
        if rule.max_scope is not None:
            words = list(_WORD.finditer(text, edge, hi))
            if len(words) > rule.max_scope:
                edge = words[-rule.max_scope].start()
        return edge


# "COVID-19 and respiratory viral panel negative": a negation written after the last of
# coordinated items reached only that one within its word limit; the items before share it
# coordinated items; an item may be a disease named by its assay ("HBc IgM, HCV RNA and HEV IgM
# negative": the tagger's "HCV" ends before "RNA")
_COORDINATED = re.compile(
    r"(?:\s+(?:RNA|DNA|PCR|NAAT|IgM|IgG|Ab|Ag|antibod(?:y|ies)|antigen|serology|titers?))?"
    r"\s*(?:,\s*(?:and|or)?|and|or|/|&)\s*",
    re.IGNORECASE,
)
_BEFORE_TRAILING_CUE = re.compile(r"\s*(?:(?:both|all|were|was|are|is)\s+)*", re.IGNORECASE)


def _share_trailing_negation(
    text: str,
    spans: Sequence[tuple[int, int]],
    out: list[AssertionResult],
    deciders: list[_Modifier | None],
) -> None:
    order = sorted(range(len(spans)), key=lambda i: spans[i])
    for pos in range(len(order) - 1, 0, -1):
        last = order[pos]
        mod = deciders[last]
        if (
            mod is None
            or mod.rule.category != "absent"
            or mod.rule.direction != "backward"
            or not _BEFORE_TRAILING_CUE.fullmatch(text, spans[last][1], mod.start)
        ):
            continue
        listed = False
        for k in range(pos, 0, -1):
            before, item = order[k - 1], order[k]
            joiner = _COORDINATED.fullmatch(text, spans[before][1], spans[item][0])
            listed = listed or bool(joiner and joiner.group().strip(" ,"))
            if joiner is None or not listed:
                break  # "Chest pain, troponin negative": a comma alone joins no list
            if out[before].assertion == "present":
                out[before], deciders[before] = out[last], mod
            elif deciders[before] is not mod:
                break


_LIST_JOINER = re.compile(r"(?:,|;)\s*(?:and|or|and/or)?\s*$", re.IGNORECASE)


# "; no wheezes, rales or rhonchi": after a semicolon a trigger heading a list closed by or/and
# opens a clause of its own, not one item of a semicolon list ("HTN; possible OSA, obesity")
_CLOSED_LIST = re.compile(r"[^;:.]*,[^;:.]*\b(?:or|and|nor)\s+\S", re.IGNORECASE)


def _starts_list_item(
    text: str, sent_start: int, trigger_start: int, trigger_end: int, scope_end: int
) -> bool:
    """True when the trigger opens a comma-separated list item ("A, suspected B, C").

    Such a modifier qualifies its own item only; a trigger heading the list ("no A, B or C")
    keeps the classic ConText scope over the whole list.
    """
    joiner = _LIST_JOINER.search(text, max(sent_start, trigger_start - 12), trigger_start)
    if joiner is None:
        return False
    return not (joiner.group().strip() == ";" and _CLOSED_LIST.match(text, trigger_end, scope_end))


_HEADING_GAP = re.compile(r"\s*(?:the\s+following|any\s+of\s+the\s+following)?\s*", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r",|\bor\b|\band\b|\band/or\b", re.IGNORECASE)
_LIST_ITEM_WORDS = 5


def _list_end(text: str, trigger_end: int, cut: int, edge: int) -> int:
    """Where a forward scope cut at ``max_scope`` words really ends when it runs through a list.

    "denies the following: fever, chills, night sweats, weight loss, chest pain, palpitations,
    or shortness of breath": every item is negated, however long the list. The scope goes on past
    ``cut`` while the text reads as short comma/or/and-separated items (a colon or a comma before
    ``cut`` says a list has begun) and stops at the first item longer than a few words.
    """
    if not re.search(r"[,:]", text[trigger_end:cut]):
        return cut
    sentence_start = max(
        text.rfind("\n", 0, trigger_end), *(text.rfind(c, 0, trigger_end) for c in ".:;")
    )
    if "," in text[sentence_start + 1 : trigger_end]:
        return cut  # "A, B, any not cured C, and D": a trigger inside a list heads no list
    item_start = text.rfind(",", trigger_end, cut)
    pos = item_start + 1 if item_start >= 0 else cut
    for sep in [*_LIST_SEPARATOR.finditer(text, pos, edge), None]:
        end = sep.start() if sep is not None else edge
        if len(_WORD.findall(text, pos, end)) > _LIST_ITEM_WORDS:
            return max(cut, pos)
        if sep is None:
            return edge
        pos = sep.end()
    return edge


# a bracket opened right after the problem holding nothing but a year before the cue
_CUE_GLOSS = re.compile(r"\s*(?:(?:19|20)\d\d\s*,?\s*)?")
# the cue ends its clause: "Pneumonia, possible.", "toxicity, suspected - stop amiodarone"
_CLAUSE_END = re.compile(r"\s*(?:[.;,()]|\s[-\u2013]\s|$)")


def _bracket_edge(text: str, lo: int, hi: int, forward: bool) -> int:
    """First unmatched closing bracket after ``lo`` (forward) or opening one before ``hi``."""
    depth = 0
    if forward:
        for i in range(lo, hi):
            ch = text[i]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                if depth == 0:
                    return i
                depth -= 1
        return hi
    for i in range(hi - 1, lo - 1, -1):
        ch = text[i]
        if ch in ")]":
            depth += 1
        elif ch in "([":
            if depth == 0:
                return i + 1
            depth -= 1
    return lo


def _ends(boundary: ContextRule, rule: ContextRule) -> bool:
    """Whether ``boundary`` (a terminator or another modifier) cuts ``rule``'s scope."""
    if boundary.category == "terminate":
        return rule.exception or not boundary.exceptions_only
    return boundary.category != rule.category
