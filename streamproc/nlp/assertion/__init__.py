"""ConText-style assertion (negated, possible, hypothetical, conditional, family) for entities.

Own implementation rather than medspaCy: medspaCy pulls in spaCy and its global Doc extensions,
while this needs one regex pass per note. Rules are data (``rules.json``, loaded with
``importlib.resources``) so tests and sites can swap them.
"""

from streamproc.nlp.assertion.context import (
    AssertionResult,
    ContextAssertion,
    ContextRule,
    load_rules,
)

__all__ = ["AssertionResult", "ContextAssertion", "ContextRule", "load_rules"]
