"""Adverse drug event extraction: drug -> effect relations with actuality and severity."""

from streamproc.nlp.ade.extractor import AdeExtractor, normalise
from streamproc.nlp.ade.severity import SeverityRules

__all__ = ["AdeExtractor", "SeverityRules", "normalise"]
