"""Hyper-parameter search with Optuna over the generic trainers.

Search space: learning rate (log 1e-5..2e-3), epochs (1..max_epochs), warm-up ratio (0..0.2),
batch size (8/16/32), what trains (LoRA rank 4..32, or fully trained top layers 1..2, each
optionally with one fully trained top layer for LoRA). Each epoch reports dev F1 to the trial
and a ``MedianPruner`` stops trials that trail the median. The study lives in the given storage
(SQLite), so a search can be resumed, and the best config is written as JSON or YAML.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import yaml

from streamproc.train.core import TrainConfig, train_sequence_classifier, train_token_classifier

logger = logging.getLogger(__name__)


def suggest(trial: Any, base_cfg: dict[str, Any], max_epochs: int) -> dict[str, Any]:
    cfg = dict(base_cfg)
    cfg["lr"] = trial.suggest_float("lr", 1e-5, 2e-3, log=True)
    cfg["epochs"] = trial.suggest_int("epochs", 1, max(1, max_epochs))
    cfg["warmup_ratio"] = trial.suggest_float("warmup_ratio", 0.0, 0.2)
    cfg["batch_size"] = trial.suggest_categorical("batch_size", [8, 16, 32])
    cfg["trainable"] = trial.suggest_categorical("trainable", ["lora", "top_layers"])
    if cfg["trainable"] == "lora":
        cfg["lora_rank"] = trial.suggest_categorical("lora_rank", [4, 8, 16, 32])
        cfg["top_layers"] = trial.suggest_int("lora_top_layers", 0, 1)
    else:
        cfg["top_layers"] = trial.suggest_int("top_layers", 1, 2)
    cfg["patience"] = max(1, cfg["epochs"])
    return cfg


def tune(
    spec: Any,
    data: Path,
    *,
    trials: int,
    storage: str,
    out: Path | None = None,
    study_name: str = "streamproc",
    max_examples: int | None = None,
    max_epochs: int = 4,
    base: Path | None = None,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    import optuna

    setup = spec.tune_setup(Path(data))
    base_cfg = dict(setup.config)
    if max_examples is not None:
        base_cfg["max_train_examples"] = max_examples
        base_cfg["max_dev_examples"] = max_examples
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="maximize",
        load_if_exists=True,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
        sampler=optuna.samplers.TPESampler(seed=int(base_cfg.get("seed", 13))),
    )
    trainer = train_token_classifier if setup.kind == "token" else train_sequence_classifier
    root = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="streamproc-tune-"))

    def objective(trial: optuna.Trial) -> float:
        cfg = TrainConfig(**suggest(trial, base_cfg, max_epochs))

        def report(epoch: int, f1: float) -> None:
            trial.report(f1, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        res = trainer(setup.train, setup.dev, setup.labels, cfg, root / f"trial-{trial.number}", spec.name, base,
                      on_epoch=report)  # fmt: skip
        trial.set_user_attr("config", cfg.model_dump())
        return float(res["best_f1"])

    study.optimize(objective, n_trials=trials)
    best = study.best_trial
    best_cfg = best.user_attrs.get("config", {})
    result = {"task": spec.name, "best_value": best.value, "best_trial": best.number, "best_params": best.params,
              "config": best_cfg, "n_trials": len(study.trials),
              "pruned": sum(1 for t in study.trials if t.state == optuna.trial.TrialState.PRUNED)}  # fmt: skip
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        text = (
            json.dumps(result, indent=1, default=str)
            if out.suffix == ".json"
            else yaml.safe_dump(result)
        )
        out.write_text(text)
    return result
