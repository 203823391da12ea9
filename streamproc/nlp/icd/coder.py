"""ICD-10-CM coding of problem mentions: normalise -> expand abbreviations -> lexical candidates
-> aggregate per code -> descend to a billable code -> top-k with scores.

Billable preference: when the best match is a category ("I50 Heart failure"), the mention has
told us nothing more specific, so we descend to the child a coder would pick for an unspecific
mention: the best-scoring billable descendant, ties broken towards "unspecified" / ".9".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from streamproc.nlp.icd.index import IcdIndex, load_index, query_tokens
from streamproc.nlp.types import CodeCandidate

_UNSPECIFIED = re.compile(r"unspecified|without complications|status unknown|\bNOS\b", re.IGNORECASE)
_HISTORY_PREFIX = re.compile(r"^(?:history of|h/o|hx of|past history of)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class SynonymTable:
    abbreviations: tuple[tuple[re.Pattern[str], str], ...]
    direct: dict[str, str]
    version: str


def _normal(text: str) -> str:
    text = re.sub(
        r"\((?:disorder|finding|situation|procedure|morphologic abnormality|event)\)",
        " ",
        text.lower(),
    )
    return re.sub(r"\s+", " ", text).strip(" .,;:")


def load_synonyms(raw: str | None = None) -> SynonymTable:
    """Parse ``synonyms.tsv`` (packaged by default)."""
    if raw is None:
        raw = resources.files("streamproc.nlp.icd").joinpath("synonyms.tsv").read_text("utf-8")
    abbreviations: list[tuple[str, str]] = []
    direct: dict[str, str] = {}
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, term, value = line.split("\t")[:3]
        if kind == "abbr":
            abbreviations.append((term.lower(), value))
        elif kind == "code":
            direct[_normal(term)] = value.strip()
        else:
            raise ValueError(f"unknown synonym kind {kind!r}")
    abbreviations.sort(key=lambda item: -len(item[0]))  # "dm ii" before "dm"
    compiled = tuple(
        (re.compile(rf"(?<![\w/-]){re.escape(term)}(?![\w/-])", re.IGNORECASE), value)
        for term, value in abbreviations
    )
    import hashlib

    return SynonymTable(compiled, direct, "syn-" + hashlib.sha256(raw.encode()).hexdigest()[:8])


class IcdCoder:
    """Maps a problem mention to ranked ICD-10-CM candidates."""

    def __init__(
        self, index: IcdIndex | None = None, synonyms: SynonymTable | None = None, top_k: int = 5
    ) -> None:
        self.index = index or load_index()
        self.synonyms = synonyms or load_synonyms()
        self.top_k = top_k
        self.version = f"{self.index.version}+{self.synonyms.version}"
        self._cached = lru_cache(maxsize=50_000)(self._code_uncached)

    def code(self, mention: str) -> tuple[CodeCandidate, ...]:
        """Ranked candidates (best first); empty when nothing in the tabular list matches."""
        return self._cached(_normal(mention))

    def expand(self, mention: str) -> str:
        text = _normal(mention)
        for pattern, value in self.synonyms.abbreviations:
            text = pattern.sub(value, text)
        return text

    # ---- internals ---------------------------------------------------------------------------
    def _code_uncached(self, mention: str) -> tuple[CodeCandidate, ...]:
        direct = self.synonyms.direct.get(mention) or self.synonyms.direct.get(
            _HISTORY_PREFIX.sub("", mention)
        )
        results: list[CodeCandidate] = []
        if direct and direct in self.index.code_pos:
            info = self.index.codes[self.index.code_pos[direct]]
            results.append(CodeCandidate(code=info.code, display=info.description, score=1.0,
                                         billable=info.billable))
        for cand in self._lexical(self.expand(_HISTORY_PREFIX.sub("", mention))):
            if all(c.code != cand.code for c in results):
                results.append(cand)
            if len(results) >= self.top_k:
                break
        return tuple(results)

    def _lexical(self, text: str) -> list[CodeCandidate]:
        toks = query_tokens(text)
        if not toks:
            return []
        doc_scores = self.index.score(toks)
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

        def rank_key(item: tuple[int, float]) -> tuple[float, int, int, int, int, str]:
            info = codes[item[0]]
            return (
                -round(item[1], 4),
                1 if "classified elsewhere" in info.description else 0,  # manifestation codes
                0 if info.billable else 1,
                0 if _UNSPECIFIED.search(info.description) else 1,
                len(info.description.split()),
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

    def _billable_child(self, code: str, doc_scores: np.ndarray) -> str:
        leaves = [c for c in self.index.descendants(code) if self.index.codes[self.index.code_pos[c]].billable]
        if not leaves:
            return code
        best_doc: dict[int, float] = {}
        wanted = {self.index.code_pos[c] for c in leaves}
        for d in np.flatnonzero(np.isin(self.index.doc_code, list(wanted))):
            c = int(self.index.doc_code[d])
            best_doc[c] = max(best_doc.get(c, 0.0), float(doc_scores[d]))

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
