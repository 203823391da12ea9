"""ICD-10-CM coding of problem mentions (lexical index over the tabular list + synonym table)."""

from streamproc.nlp.icd.coder import IcdCoder, load_synonyms
from streamproc.nlp.icd.index import IcdIndex, build_index, load_index

__all__ = ["IcdCoder", "IcdIndex", "build_index", "load_index", "load_synonyms"]
