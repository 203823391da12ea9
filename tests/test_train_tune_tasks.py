"""`tune` over the tasks with their own trainers (deid, ade): 2 Optuna trials each on tiny corpora
written here, on a tiny random encoder; the study is stored in SQLite and the best config written."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from streamproc.train.tasks_ade import TASK as ADE
from streamproc.train.tasks_deid import TASK as DEID
from streamproc.train.testing import tiny_base
from streamproc.train.tune import tune

DRUGS = ["aspirin", "warfarin", "lisinopril", "metformin", "heparin", "amoxicillin"]
EFFECTS = ["rash", "bleeding", "cough", "nausea", "thrombocytopenia", "fever"]


PHEE_TXT = "Clozapine-induced agranulocytosis was seen in a 40-year-old man."
PHEE_ANN = """T1\tTreatment 0 9\tClozapine
T2\tEffect 18 33\tagranulocytosis
T3\tAdverse_event 10 17\tinduced
T5\tDrug 0 9\tClozapine
E1\tAdverse_event:T3 arg:T1 arg2:T2
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_base(tmp_path_factory.mktemp("tiny_base"))


def write_deid(folder: Path, n_patients: int = 12) -> Path:
    """PhysioNet format: records in ``id.text``, PHI phrases (patient note start end type)."""
    text, phi = [], []
    for p in range(1, n_patients + 1):
        body = f"Seen by Dr. Quill{p} on 5/{p}/2001 at Towson.\n"
        text.append(f"START_OF_RECORD={p}||||1||||\n{body}||||END_OF_RECORD\n")
        for label, phrase in (
            ("HCPName", f"Quill{p}"),
            ("Date", f"5/{p}/2001"),
            ("Location", "Towson"),
        ):
            at = body.find(phrase)
            phi.append(f"{p} 1 {at} {at + len(phrase)} {label} {phrase}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "id.text").write_text("".join(text))
    (folder / "id-phi.phrase").write_text("\n".join(phi) + "\n")
    return folder


def write_ade(root: Path, n_pmids: int = 24) -> Path:
    """ADE-Corpus-V2 format: ``DRUG-AE.rel`` (pmid|sentence|effect|s|e|drug|s|e) and ADE-NEG."""
    folder = root / "ade"
    folder.mkdir(parents=True)
    rel, neg = [], []
    for i in range(n_pmids):
        drug, effect = DRUGS[i % len(DRUGS)], EFFECTS[(i * 5) % len(EFFECTS)]
        sent = f"Patient {i} developed {effect} after {drug} was started."
        d, e = sent.index(drug), sent.index(effect)
        rel.append(f"{100 + i}|{sent}|{effect}|{e}|{e + len(effect)}|{drug}|{d}|{d + len(drug)}")
        neg.append(f"{100 + i} NEG Patient {i} tolerated {drug} well.")
    (folder / "DRUG-AE.rel").write_text("\n".join(rel) + "\n", encoding="utf-8")
    (folder / "ADE-NEG.txt").write_text("\n".join(neg) + "\n", encoding="utf-8")
    for split in ("train", "dev"):  # PHEE (BRAT events): the trainer scores its dev split too
        phee = root / "phee" / "data" / "clean" / split
        phee.mkdir(parents=True)
        (phee / f"9{split == 'dev'}_1.txt").write_text(PHEE_TXT, encoding="utf-8")
        (phee / f"9{split == 'dev'}_1.ann").write_text(PHEE_ANN, encoding="utf-8")
    return root


def _check(result: dict[str, object], db: Path, name: str, out: Path) -> None:
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
    done = [
        t
        for t in study.trials
        if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    ]
    assert len(done) == 2
    written = json.loads(out.read_text())
    assert written["n_trials"] == 2
    assert written["best_params"] == study.best_trial.params
    assert 0.0 <= float(written["best_value"]) <= 1.0
    assert written["config"]
    assert result["best_value"] == written["best_value"]


def test_tune_deid_two_trials(tmp_path: Path, base: Path) -> None:
    data = write_deid(tmp_path / "deid")
    db, out = tmp_path / "tune.db", tmp_path / "best.json"
    result = tune(DEID, data, trials=2, storage=f"sqlite:///{db}", out=out, study_name="t-deid",
                  max_examples=16, max_epochs=2, base=base, work_dir=tmp_path / "work")  # fmt: skip
    _check(result, db, "t-deid", out)
    assert {"lr", "epochs", "batch_size", "trainable_layers"} <= set(result["best_params"])  # type: ignore[arg-type]
    assert (tmp_path / "work" / "trial-0" / "weights.safetensors").is_file()


def test_tune_ade_two_trials(tmp_path: Path, base: Path) -> None:
    data = write_ade(tmp_path / "data")
    db, out = tmp_path / "tune.db", tmp_path / "best.json"
    result = tune(ADE, data, trials=2, storage=f"sqlite:///{db}", out=out, study_name="t-ade",
                  max_examples=20, max_epochs=2, base=base, work_dir=tmp_path / "work")  # fmt: skip
    _check(result, db, "t-ade", out)
    assert {"lr_encoder", "lr_heads", "epochs", "batch_size", "split_layer"} <= set(
        result["best_params"]  # type: ignore[arg-type]
    )
