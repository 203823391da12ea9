"""The explicit task table behind ``streamproc train|tune|eval TASK``.

Each task lives in its own module ``streamproc.train.tasks_<name>`` that defines ``TASK``, an
object with this shape (see :class:`TaskSpec`)::

    name: str
    description: str
    def train(self, data: Path, out: Path, **kw) -> dict       # kw: epochs, max_examples, config, base, rebuild_command
    def evaluate(self, data: Path, split: str = "dev", **kw) -> dict   # kw: model_dir, settings
    def tune_setup(self, data: Path, **kw) -> TuneSetup         # optional: only for `streamproc tune`

To add a task: write the module, then add one line to ``TASK_MODULES`` below. Modules are
imported lazily, so a task whose module is not written yet only fails when it is asked for.
Keyword arguments the CLI did not receive are not passed, so a task may ignore the ones it does
not support by not declaring them (use ``**kw``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from streamproc.train.examples import Example

# name -> module defining TASK. One line per task; order is the order shown in help.
TASK_MODULES: dict[str, str] = {
    "dapt": "streamproc.train.tasks_dapt",  # build step: masked-LM adaptation of the encoder
    "ner": "streamproc.train.tasks_ner",
    "ner-notes": "streamproc.train.tasks_ner_notes",  # eval only: problem recall on Synthea notes
    "deid": "streamproc.train.tasks_deid",
    "ade": "streamproc.train.tasks_ade",
    "ade-pipeline": "streamproc.nlp.ade.pipeline_eval",  # eval only: what alerts on ADE-Corpus
    "icd": "streamproc.nlp.icd.task",  # eval only: top-1/top-5 on the shipped gold set
    "negation": "streamproc.nlp.assertion.task",  # eval only: Chia negation cues
    "assertion-notes": "streamproc.nlp.assertion.notes_gold",  # eval only: nursing-note gold
    "condition-status": "streamproc.evaluate.condition_status",  # eval only: Synthea episodes
}


@dataclass
class TuneSetup:
    """What ``streamproc tune`` needs to run trials of the generic trainer."""

    train: Sequence[Example]
    dev: Sequence[Example]
    labels: Sequence[str]
    kind: Literal["token", "sequence"]
    config: dict[str, Any] = field(default_factory=dict)  # the task's default recipe


class TaskSpec(Protocol):
    name: str
    description: str

    def train(self, data: Path, out: Path, **kw: Any) -> dict[str, Any]: ...

    def evaluate(self, data: Path, split: str = "dev", **kw: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class EvalOnlyTask:
    """A registered task that only evaluates (rules or a gold set, nothing to train)."""

    name: str
    description: str
    run: Callable[..., dict[str, Any]]  # (data, split, **kw) -> metrics
    train_hint: str  # what to do instead of training

    def train(self, data: Path, out: Path, **kw: Any) -> dict[str, Any]:
        raise NotImplementedError(self.train_hint)

    def evaluate(self, data: Path, split: str = "dev", **kw: Any) -> dict[str, Any]:
        return self.run(Path(data), split, **kw)


class UnknownTask(LookupError):
    pass


def get_task(name: str) -> Any:
    """The ``TASK`` object of a registered task."""
    if name not in TASK_MODULES:
        raise UnknownTask(f"unknown task {name!r}; known: {', '.join(TASK_MODULES)}")
    try:
        module = importlib.import_module(TASK_MODULES[name])
    except ModuleNotFoundError as err:
        if err.name == TASK_MODULES[name]:
            raise UnknownTask(
                f"task {name!r} is registered but {TASK_MODULES[name]} is not installed"
            ) from err
        raise
    return module.TASK


def available_tasks() -> list[str]:
    out = []
    for name, mod in TASK_MODULES.items():
        if importlib.util.find_spec(mod) is not None:
            out.append(name)
    return out
