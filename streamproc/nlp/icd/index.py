"""Lexical candidate index over the ICD-10-CM tabular list (``simple-icd-10-cm``).

Each code contributes documents: its description and each inclusion term. ICD writes
nonessential modifiers in parentheses ("Hypertension (arterial) (benign) (essential)") and
"unspecified"/"NOS" words that a clinician never says, so those tokens are *optional*: they count
when the mention has them and cost nothing when it does not. A mention scores against a document
by idf-weighted Jaccard over tokens, treating optional tokens as free:

    score = w(q ∩ doc) / (w(q) + w(required) - w(q ∩ required))

Building takes a few seconds (parsing the package's XML dominates), so the matrices are cached on
disk keyed by the package version and :data:`INDEX_VERSION`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import re
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import scipy.sparse as sp

log = logging.getLogger(__name__)

INDEX_VERSION = "icd-lex-12"
# the 7th characters kept (see ``build_index``)
_KEPT_EXTENSION = re.compile(r"(?:A|0|^M1A\..*1)$")

_SEMANTIC_TAG = re.compile(
    r"\((?:disorder|finding|situation|procedure|morphologic abnormality|qualifier value|event|"
    r"observable entity|person|regime/therapy|body structure|navigational concept)\)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[+'][a-z0-9]*)?")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "of",
        "the",
        "in",
        "on",
        "to",
        "for",
        "with",
        "by",
        "at",
        "as",
        "from",
        "into",
        "is",
        "are",
        "be",
        "due",
        "its",
        "their",
        "his",
        "her",
        "this",
        "that",
        "these",
        "those",
        "which",
        "than",
        "use",
    ]
)
# Words in a tabular description that a clinical mention does not need to repeat.
_FREE = frozenset(
    [
        "unspecified",
        "nos",
        "nec",
        "specified",
        "site",
        "mellitus",
        "initial",
        "encounter",
        "closed",
        "primary",
        "essential",
        "disease",
        "disorder",
        "condition",
        "organism",
        "pectoris",
        "nonrheumatic",
    ]
)
# Light lemmatisation: adjective and plural forms clinicians use -> the tabular noun.
_LEMMA = {
    "diabetic": "diabetes",
    "hypertensive": "hypertension",
    "renal": "kidney",
    "nephric": "kidney",
    "cardiac": "heart",
    "pulmonary": "lung",
    "hepatic": "liver",
    "gastric": "stomach",
    "cerebral": "brain",
    "pneumonitis": "pneumonia",
    "hypoxic": "hypoxia",
    "hypercapnic": "hypercapnia",
    "carcinoma": "malignant",
    "cancer": "malignant",
    "cancers": "malignant",
    "malignancy": "malignant",
    "tumor": "neoplasm",
    "tumour": "neoplasm",
    "neoplasms": "neoplasm",
    "ii": "2",
    "i": "1",
    "iii": "3",
    "iv": "4",
    "two": "2",
    "one": "1",
    "anaemia": "anemia",
    "diabetes": "diabetes",
    "infectious": "infection",
    "obese": "obesity",
    "psychiatric": "mental",
    "hypertriglyceridemia": "hyperglyceridemia",
    "facial": "face",
    "oesophageal": "esophageal",
    "haemorrhage": "hemorrhage",
    "fractures": "fracture",
    "injuries": "injury",
    "infections": "infection",
    "urinary": "urinary",
    "lacerations": "laceration",
    "sprains": "sprain",
    "arthritis": "arthritis",
}
_NO_PLURAL = ("ss", "us", "is", "ys", "as", "os")


def lemma(token: str) -> str:
    """Light lemma: possessive dropped ("Huntington's" = "Huntington"), plural to singular."""
    if token.endswith("'s"):
        token = token[:-2]
    if token in _LEMMA:
        return _LEMMA[token]
    if len(token) > 5 and token.endswith(("ias", "omas", "oses")):  # dyskinesias, lipomas
        token = token[:-2] + "is" if token.endswith("oses") else token[:-1]  # stenoses
    elif (
        len(token) > 5
        and token.endswith(("sses", "shes", "ches", "xes"))
        and not token.endswith("aches")
    ):  # abscesses, rashes, stitches (headaches keep their "e")
        token = token[:-2]
    elif len(token) > 4 and token.endswith("ies"):
        token = token[:-3] + "y"
    elif len(token) > 4 and token.endswith("s") and not token.endswith(_NO_PLURAL):
        token = token[:-1]
    return _LEMMA.get(token, token)


_NEGATED = re.compile(r"\b(?:without|with no|no|not|w/o)\s+([a-z][a-z ]*?)(?=,|$| and | with |\()")


def negated_tokens(phrase: str) -> list[str]:
    """``without loss of consciousness`` -> ``no_loss``, ``no_consciousness``."""
    phrase = re.sub(r"^\s*(?:without|with no|no|not|w/o)\s+", "", phrase.lower())
    return ["no_" + t for t in tokens(phrase)]


def query_tokens(text: str) -> list[str]:
    """Tokens of a mention, with negated phrases ("no loss of consciousness") marked."""
    text = _SEMANTIC_TAG.sub(" ", text.lower())
    out: list[str] = []
    for phrase in _NEGATED.findall(text):
        out.extend(negated_tokens(phrase))
    return out + tokens(_NEGATED.sub(" ", text))


# British spellings -> the tabular list's American ones ("oedema", "haematuria", "hypokalaemia",
# "diarrhoea", "apnoea", "paediatric", "tumour"); the list below is patterns, not words.
_BRITISH = (
    (re.compile(r"\boe(?=[dsn])"), "e"),  # oedema, oesophagus, oestrogen
    (re.compile(r"(?<=[rnh])oea\b"), "ea"),  # diarrhoea, apnoea, dyspnoea, gonorrhoea
    (re.compile(r"\bcoel"), "cel"),  # coeliac
    (re.compile(r"\bfoet"), "fet"),  # foetal
    (re.compile(r"aem"), "em"),  # haem-, -aemia, anaemia, leukaemia
    (re.compile(r"(?<=p)aed|(?<=[cn])aec|(?<=[cn])aes"), lambda m: m.group(0)[1:]),
    (re.compile(r"\btumour"), "tumor"),
)


def american(text: str) -> str:
    """``text`` (lower case) in American spelling, as the tabular list and the rows are written."""
    for pattern, repl in _BRITISH:
        text = pattern.sub(repl, text)
    return text


def tokens(text: str) -> list[str]:
    """Normalised content tokens of a mention or description."""
    text = _SEMANTIC_TAG.sub(" ", american(text.lower().replace("\u2019", "'")))
    return [lemma(t) for t in _TOKEN.findall(text.replace("-", " ")) if t not in _STOP]


# Phrases that say what a code does *not* specify or include: free when the mention is silent.
_FREE_PHRASES = re.compile(
    r"not elsewhere classified|not intractable|single episode|age-related|"
    r"with loss of consciousness status unknown|not otherwise specified|of unspecified behavior|"
    r"unspecified as acute or chronic|"
    r"unspecified (?:ear|eye|side|lower leg|upper arm|forearm|hand|foot|thigh|knee|hip|ankle|"
    r"shoulder|wrist|elbow|finger|toe|lung|breast|female breast|male breast|kidney|ovary|"
    r"part of|bronchus or lung|site|region|organism|type|trimester)|,\s*uncomplicated",
    re.IGNORECASE,
)


_WITHOUT = re.compile(r"\bwithout [a-z ]+?(?=,|$| and | in |\()", re.IGNORECASE)


def description_tokens(text: str) -> tuple[list[str], list[str]]:
    """(required, optional) tokens: parenthesised words and ICD filler words are optional."""
    optional: list[str] = []
    for inner in re.findall(r"\(([^)]*)\)|\[([^\]]*)\]", text):
        optional.extend(tokens(" ".join(inner)))
    for phrase in _FREE_PHRASES.findall(text):
        optional.extend(tokens(phrase))
    text = _FREE_PHRASES.sub(" ", text)
    # "without X" says X is absent: X is neither required nor matched by a mention of X, but a
    # mention that also says "no X" / "without X" matches the negated tokens.
    for phrase in _WITHOUT.findall(text):
        optional.extend(negated_tokens(phrase))
    text = _WITHOUT.sub(" ", text)
    bare = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text)
    required: list[str] = []
    for tok in tokens(bare):
        (optional if tok in _FREE else required).append(tok)
    return required, optional


@dataclass
class CodeInfo:
    code: str
    description: str
    billable: bool
    parent: str | None


class IcdIndex:
    """Sparse lexical index; :meth:`score` returns a score per document."""

    def __init__(
        self,
        codes: list[CodeInfo],
        doc_code: np.ndarray,
        vocab: dict[str, int],
        idf: np.ndarray,
        required: sp.csc_matrix,
        optional: sp.csc_matrix,
        version: str,
    ) -> None:
        self.codes = codes
        self.code_pos = {c.code: i for i, c in enumerate(codes)}
        self.doc_code = doc_code  # doc -> index into codes
        self.vocab = vocab
        self.idf = idf
        self.required = required
        self.optional = optional
        self.required_weight = np.asarray(required.sum(axis=1)).ravel()
        self.version = version
        children: dict[str, list[str]] = {}
        for c in codes:
            if c.parent:
                children.setdefault(c.parent, []).append(c.code)
        self.children = children

    # ---- scoring -----------------------------------------------------------------------------
    def query_ids(self, toks: list[str]) -> list[int]:
        return sorted({self.vocab[t] for t in toks if t in self.vocab})

    def score(self, toks: list[str]) -> np.ndarray:
        """Weighted-Jaccard score of every document for the query tokens (0 where no overlap)."""
        ids = self.query_ids(toks)
        n_docs = self.required.shape[0]
        if not ids:
            return np.zeros(n_docs, dtype=np.float32)
        # Unknown query words still cost weight: "pancake kidney" is not "kidney".
        unknown = sum(1 for t in set(toks) if t not in self.vocab) * float(self.idf.max())
        w_query = float(self.idf[ids].sum()) + unknown
        m_req = np.asarray(self.required[:, ids].sum(axis=1)).ravel()
        m_opt = np.asarray(self.optional[:, ids].sum(axis=1)).ravel()
        denom = w_query + self.required_weight - m_req
        return ((m_req + m_opt) / np.maximum(denom, 1e-9)).astype(np.float32)

    def descendants(self, code: str) -> list[str]:
        out, stack = [], list(self.children.get(code, ()))
        while stack:
            c = stack.pop()
            out.append(c)
            stack.extend(self.children.get(c, ()))
        return out


def _package_version() -> str:
    try:
        return metadata.version("simple_icd_10_cm")
    except metadata.PackageNotFoundError:  # pragma: no cover - dependency is declared
        return "unknown"


def cache_dir() -> Path:
    base = os.environ.get("STREAMPROC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "streamproc"
    )
    return Path(base)


def build_index() -> IcdIndex:
    """Build from the tabular list (seconds). Codes with a 7th character keep only the
    initial encounter ("A": a note mention carries no episode-of-care information), the
    "not applicable or unspecified" one ("0": the fetus of a pregnancy code, a glaucoma's
    stage), and chronic gout's "with tophus" ("M1A.9XX1"), so a billable code is there to
    choose where the category alone is not."""
    import simple_icd_10_cm as cm

    started = time.perf_counter()
    codes: list[CodeInfo] = []
    docs: list[tuple[int, list[str], list[str]]] = []
    seen: set[str] = set()
    for code in cm.get_all_codes(True):
        # Some categories share their name with a one-category block ("B20"): keep the category.
        if code in seen or not (
            cm.is_category_or_subcategory(code) or cm.is_extended_subcategory(code)
        ):
            continue
        seen.add(code)
        if cm.is_extended_subcategory(code) and not _KEPT_EXTENSION.search(code):
            continue
        parent = cm.get_parent(code)
        if (
            not parent
            or parent == code
            or cm.is_chapter(parent)
            or not cm.is_category_or_subcategory(parent)
        ):
            parent = None
        desc = cm.get_description(code)
        idx = len(codes)
        codes.append(CodeInfo(code, desc, cm.is_leaf(code), parent))
        req, opt = description_tokens(desc)
        docs.append((idx, req, opt))
        for term in cm.get_inclusion_term(code):
            req, opt = description_tokens(term)
            if req or opt:
                docs.append((idx, req, opt))
    vocab: dict[str, int] = {}
    df: dict[int, int] = {}
    for _, req, opt in docs:
        for t in set(req) | set(opt):
            tid = vocab.setdefault(t, len(vocab))
            df[tid] = df.get(tid, 0) + 1
    n = len(docs)
    idf = np.zeros(len(vocab), dtype=np.float32)
    for tid, count in df.items():
        idf[tid] = math.log(1.0 + n / count)
    rows_r, cols_r, rows_o, cols_o = [], [], [], []
    for d, (_, req, opt) in enumerate(docs):
        req_ids = {vocab[t] for t in req}
        for tid in req_ids:
            rows_r.append(d)
            cols_r.append(tid)
        for tid in {vocab[t] for t in opt} - req_ids:
            rows_o.append(d)
            cols_o.append(tid)
    shape = (n, len(vocab))
    required = sp.csc_matrix((idf[cols_r], (rows_r, cols_r)), shape=shape, dtype=np.float32)
    optional = sp.csc_matrix((idf[cols_o], (rows_o, cols_o)), shape=shape, dtype=np.float32)
    doc_code = np.array([c for c, _, _ in docs], dtype=np.int32)
    version = f"{INDEX_VERSION}+icd10cm-{_package_version()}"
    log.info(
        "icd index built",
        extra={"codes": len(codes), "docs": n, "s": round(time.perf_counter() - started, 2)},
    )
    return IcdIndex(codes, doc_code, vocab, idf, required, optional, version)


def load_index(use_cache: bool = True) -> IcdIndex:
    """The index from the disk cache, building (and caching) it on a miss."""
    version = f"{INDEX_VERSION}+icd10cm-{_package_version()}"
    digest = hashlib.sha256(version.encode()).hexdigest()[:12]
    path = cache_dir() / f"icd-index-{digest}.pkl"
    if use_cache and path.is_file():
        try:
            with path.open("rb") as fh:
                index = pickle.load(fh)  # our own cache file, written below
            if isinstance(index, IcdIndex) and index.version == version:
                return index
        except Exception:  # a corrupt or stale cache is rebuilt, never fatal
            log.warning("icd index cache unreadable; rebuilding")
    index = build_index()
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
        except OSError:
            log.warning("icd index cache not writable")
    return index
