"""Hyper-parameter search with Optuna over the generic trainers.

Search space: learning rate (log 1e-5..2e-3), epochs (1..max_epochs), warm-up ratio (0..0.2),
batch size (8/16/32), what trains (LoRA rank 4..32, or fully trained top layers 1..2, each
optionally with one fully trained top layer for LoRA). Each epoch reports dev F1 to the trial
and a ``MedianPruner`` stops trials that trail the median. The study lives in the given storage
(SQLite), so a search can be resumed, and the best config is written as JSON or YAML.

Tasks with their own trainers (``deid``, ``ade``) define ``tune_objective(data, trial, workdir,
**kw) -> float`` instead of ``tune_setup``: it draws its own knobs from the trial, trains the
shipped model's trainer on ``data`` and returns the dev score to maximise (reporting per-epoch
scores for pruning where the trainer has a hook). Same study, pruner and output file.
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

    if not hasattr(spec, "tune_setup"):
        if not hasattr(spec, "tune_objective"):
            raise ValueError(f"task {spec.name!r} has neither tune_setup() nor tune_objective()")
        return _tune_objective(spec, Path(data), trials=trials, storage=storage, out=out,
                               study_name=study_name, max_examples=max_examples,
                               max_epochs=max_epochs, base=base, work_dir=work_dir)  # fmt: skip
    setup = spec.tune_setup(Path(data))
    base_cfg = dict(setup.config)
    if max_examples is not None:
        base_cfg["max_train_examples"] = max_examples
        base_cfg["max_dev_examples"] = max_examples
    study = _study(storage, study_name, int(base_cfg.get("seed", 13)))
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
    return _write_result(spec.name, study, out)


def _study(storage: str, study_name: str, seed: int) -> Any:
    import optuna

    return optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="maximize",
        load_if_exists=True,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0),
        sampler=optuna.samplers.TPESampler(seed=seed),
    )


def _tune_objective(
    spec: Any,
    data: Path,
    *,
    trials: int,
    storage: str,
    out: Path | None,
    study_name: str,
    max_examples: int | None,
    max_epochs: int,
    base: Path | None,
    work_dir: Path | None,
) -> dict[str, Any]:
    """The same study over a task's own trainer (``spec.tune_objective``)."""
    study = _study(storage, study_name, 13)
    root = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="streamproc-tune-"))
    kw = {"max_examples": max_examples, "max_epochs": max_epochs, "base": base}

    def objective(trial: Any) -> float:
        score = float(spec.tune_objective(data, trial, root / f"trial-{trial.number}", **kw))
        logger.info("trial done", extra={"task": spec.name, "trial": trial.number, "score": score})
        return score

    study.optimize(objective, n_trials=trials)
    return _write_result(spec.name, study, out)


def _write_result(task: str, study: Any, out: Path | None) -> dict[str, Any]:
    """Best trial (value, params, full config) as a dict, also written to ``out`` if given."""
    import optuna

    best = study.best_trial
    best_cfg = best.user_attrs.get("config", {})
    result = {"task": task, "best_value": best.value, "best_trial": best.number, "best_params": best.params,
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
