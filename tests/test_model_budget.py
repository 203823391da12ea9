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


def test_the_rebuild_commands_default_recipes_are_the_shipped_ones() -> None:
    """The card's one-line rebuild (no --config) must train what ships: the task defaults are the
    recipes recorded beside the weights."""
    import json

    import yaml

    from streamproc.train.tasks_ade import AdeTrainConfig
    from streamproc.train.tasks_ner import TASK as NER

    ner_meta = json.loads((MODELS / "ner" / "meta.json").read_text(encoding="utf-8"))
    assert NER.config().model_dump() == ner_meta["config"]
    # The shipped NER is a soup of two runs: the default recipe, and the default recipe with the
    # overrides of the committed file its rebuild line passes with --config.
    first, second = ner_meta["soup_of"]
    assert first["config"] == NER.config().model_dump()
    part_file = MODELS / "ner" / "soup-part-lr2e-4.yaml"
    overrides = yaml.safe_load(part_file.read_text(encoding="utf-8"))
    assert second["config"] == NER.config(overrides).model_dump()
    command = ner_meta["rebuild_command"]
    assert command.count("streamproc train ner") == 2 and "streamproc soup ner" in command
    assert "--config streamproc/models/ner/soup-part-lr2e-4.yaml" in command
    ade = json.loads((MODELS / "ade" / "ade_config.json").read_text(encoding="utf-8"))
    assert AdeTrainConfig().__dict__ == ade["extra"]["recipe"]
