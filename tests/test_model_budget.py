"""The shipped task weights stay within the brief's budget (30 MB in all) and each has a card."""

from __future__ import annotations

from pathlib import Path

import streamproc.models

MODELS = Path(streamproc.models.__file__).parent
BUDGET_BYTES = 30 * 1000 * 1000


def test_shipped_weights_fit_the_budget() -> None:
    weights = sorted(MODELS.glob("*/*.safetensors"))
    assert {w.parent.name for w in weights} == {"ner", "deid", "ade"}
    assert sum(w.stat().st_size for w in weights) <= BUDGET_BYTES


def test_every_shipped_model_has_a_card_with_a_rebuild_command() -> None:
    for folder in ("ner", "deid", "ade"):
        card = (MODELS / folder / "model_card.md").read_text(encoding="utf-8")
        assert f"streamproc train {folder} --data" in card
        assert "## Rebuild" in card
