"""Clinical NLP stage: entities, assertion, ICD-10-CM coding and ADE relations.

``build_analyzer(settings, store)`` returns the :class:`~streamproc.pipeline.ClinicalAnalyzer`
the pipeline uses. Imports are lazy so that ``streamproc.nlp.types`` stays cheap to import.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamproc.config import Settings
    from streamproc.nlp.analyzer import Analyzer
    from streamproc.nlp.token_classifier import TokenClassifier
    from streamproc.state import StateStore

log = logging.getLogger(__name__)

__all__ = ["build_analyzer", "load_ner", "ner_model_folder", "packaged_ner_path"]


def packaged_ner_path() -> Path:
    """Where the shipped NER model folder lives (``streamproc/models/ner``)."""
    return Path(str(resources.files("streamproc.models"))) / "ner"


def ner_model_folder(settings: Settings | None, folder: Path | None = None) -> Path:
    """The NER model folder: ``folder``, else ``settings.models.ner``, else the packaged one."""
    chosen = Path(
        folder or (settings.models.ner if settings is not None else None) or packaged_ner_path()
    )
    if not chosen.is_dir():
        raise FileNotFoundError(
            f"NER model folder not found: {chosen} (set STREAMPROC_MODELS__NER or ship "
            "streamproc/models/ner)"
        )
    return chosen


def load_ner(settings: Settings | None, folder: Path | None = None) -> TokenClassifier:
    """The NER classifier the pipeline and the eval commands use, reading the configured head."""
    from streamproc.nlp.token_classifier import TokenClassifier

    clf = TokenClassifier.from_path(ner_model_folder(settings, folder), settings)
    return clf.with_head(settings.ner_head) if settings is not None else clf


def build_analyzer(settings: Settings, store: StateStore | None) -> Analyzer:
    """NER model (``settings.models.ner`` or the packaged one), ConText rules, the ICD coder
    (index cached on disk) and the ADE extractor, with results cached in ``store``."""
    import torch

    from streamproc.nlp.analyzer import Analyzer
    from streamproc.nlp.assertion import ContextAssertion
    from streamproc.nlp.icd import IcdCoder

    torch.set_num_threads(settings.inference_threads)
    ner = load_ner(settings)
    relations = None
    try:
        from streamproc.nlp.ade import AdeExtractor

        relations = AdeExtractor.from_settings(settings)
    except (FileNotFoundError, ImportError) as err:
        # Conditions do not depend on ADE; say loudly that alerts are off rather than fail.
        log.warning("ADE model unavailable; no adverse-event relations", extra={"error": str(err)})
    drugs = None
    if settings.drug_lexicon:
        from streamproc.nlp.drugs import packaged_lexicon

        try:
            drugs = packaged_lexicon()
        except (RuntimeError, OSError, KeyError, ValueError) as err:
            # Entities and Conditions do not need it; say loudly that drugs go unnamed.
            log.warning("drug dictionary unavailable; drugs unnamed", extra={"error": str(err)})
    return Analyzer(
        entities=ner,
        assertion=ContextAssertion(),
        coder=IcdCoder(),
        relations=relations,
        store=store,
        cache_ttl_s=settings.inference_cache_ttl_s,
        entity_unit=settings.ner_unit,
        drugs=drugs,
    )
