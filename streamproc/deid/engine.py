"""Wiring: recognizers + (optional) PHI model -> Analyzer. One place, explicit, no globals."""

from __future__ import annotations

import logging
from pathlib import Path

from streamproc.deid.detect.analyzer import Analyzer, Refiner, SpanSource
from streamproc.deid.detect.eponyms import EponymFilter
from streamproc.deid.detect.lexicons import load_lexicons
from streamproc.deid.detect.refine import ModelSpanFilter, NamePropagation
from streamproc.deid.detect.registry import build_recognizers, read_config

log = logging.getLogger(__name__)

RULES_VERSION = "rules-12"  # 6: eponyms are no names ("Stevens-Johnson syndrome"); 7: named criteria ("Hunter criteria"); 8: more eponyms ("Graves disease"), a specialty is no name; 9: note-title, clinic and ethnicity words are no names, a date list is shifted date by date; 10: an ordinal counting a thing, a test (OCT, a 10-2 field), a scale's scores are no dates, a specialty ends a list of names; 11: a header field names its person ("Client: …"), a role or field label is no name, a name span ends at a gap of spaces, an eponym after a qualifier ("Classic Hodgkin"), coordinated ordinals counting a thing, a chart or accession number, what a relative owns ("father's barn"), a day written like a ratio after a dating word ("Since 12/12"), a credential then the next header field ("MD   Accompanied by:"), a service acronym before "CLINIC" ("OPAT"), a date without its year shifted in the note's year, a color-plate score ("Ishihara 3/14") no date, a case number without its "#", a model date of 7+ bare digits no calendar reads is an identifier; 12: "OCT" in capitals before a numeric date is the test, then its date


def build_analyzer(
    mode: str = "merged",
    model_dir: Path | None = None,
    base_encoder: Path | None = None,
    threads: int = 1,
    max_len: int = 256,
    stride: int = 64,
    device: str = "auto",
) -> tuple[Analyzer, str]:
    """``mode``: rules | model | merged. Returns the analyzer and a detector version string.

    When the model has no weights (not trained/shipped), ``merged`` falls back to rules alone
    and says so in the version (``rules-1``) and in a log line.
    """
    if mode not in ("rules", "model", "merged"):
        raise ValueError(f"unknown deid mode {mode!r}")
    config = read_config()
    lexicons = load_lexicons()
    sources: list[SpanSource] = []
    parts: list[str] = []
    if mode in ("rules", "merged"):
        sources.extend(build_recognizers(config, lexicons))
        parts.append(RULES_VERSION)
    if mode in ("model", "merged"):
        from streamproc.deid.detect.phi_model import (
            PhiModel,
            PhiModelRecognizer,
            model_version,
            shipped_model_dir,
        )

        directory = Path(model_dir) if model_dir else shipped_model_dir()
        version = model_version(directory)
        if version is None:
            if mode == "model":
                raise FileNotFoundError(f"no PHI model weights in {directory}")
            log.warning("deid model weights missing; rules only", extra={"mode": mode})
        else:
            model = PhiModel(
                directory,
                base=base_encoder,
                threads=threads,
                max_len=max_len,
                stride=stride,
                device=device,
            )
            sources.append(PhiModelRecognizer(model, span_filter=ModelSpanFilter(lexicons)))
            parts.append(f"phi-{version}")
    # an eponym neither seeds name propagation nor is propagated to
    eponyms = EponymFilter()
    refiners: list[Refiner] = [eponyms]
    if config.propagate_names:
        refiners += [NamePropagation(lexicons), eponyms]
    return Analyzer(sources, config.threshold, refiners), "+".join(parts)
