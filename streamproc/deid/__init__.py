"""De-identification stage (issue 4): detect PHI (rules + PHI model), replace it with surrogates.

Layout, Presidio-style: ``detect/`` (one recognizer per file, YAML registry, the PHI model as a
thin recognizer, the analyzer that merges spans) and ``transform/`` (codebook, operators by name),
joined only by :class:`streamproc.deid.types.PhiSpan`. The pipeline only needs
:func:`build_deidentifier`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamproc.config import Settings
    from streamproc.deid.deidentifier import Deidentifier
    from streamproc.state import StateStore

DEID_VERSION = "deid-1"
_DEFAULT_SECRET = "change-me-in-production"

log = logging.getLogger(__name__)


def build_deidentifier(
    settings: Settings,
    store: StateStore,
    *,
    mode: str = "merged",
    operators: Mapping[str, str] | None = None,
    default_operator: str = "surrogate",
) -> Deidentifier:
    """The pipeline's Deidentifier, wired from settings.

    ``mode``: ``rules`` | ``model`` | ``merged`` (default; falls back to rules when no PHI model
    weights are shipped/configured). ``operators`` maps PHI types to operator names
    (``surrogate``, ``mask``, ``redact``) to override ``default_operator``.
    """
    from streamproc.deid.deidentifier import Deidentifier
    from streamproc.deid.detect.lexicons import load_lexicons
    from streamproc.deid.engine import build_analyzer
    from streamproc.deid.transform.anonymizer import Anonymizer
    from streamproc.deid.transform.codebook import Codebook
    from streamproc.deid.transform.fakes import NamePool
    from streamproc.deid.transform.operators.factory import build_operators

    secret = settings.deid_secret.get_secret_value()
    if secret == _DEFAULT_SECRET:
        log.warning("deid secret is the built-in default: set STREAMPROC_DEID_SECRET in production")
    analyzer, detector_version = build_analyzer(
        mode=mode,
        model_dir=settings.models.deid,
        base_encoder=settings.models.base_encoder,
        threads=settings.inference_threads,
        max_len=settings.max_window_tokens,
        stride=settings.window_stride,
        device=settings.device,
    )
    default, per_type = build_operators(operators, default_operator)
    codebook = Codebook(
        store,
        secret,
        date_shift_max_days=settings.date_shift_max_days,
        reversible=settings.deid_reversible,
    )
    lex = load_lexicons()
    return Deidentifier(
        analyzer=analyzer,
        anonymizer=Anonymizer(default, per_type),
        codebook=codebook,
        names=NamePool.from_faker(),
        first_names=lex.first_names,
        version=f"{DEID_VERSION}+{detector_version}",
    )


__all__ = ["DEID_VERSION", "build_deidentifier"]
