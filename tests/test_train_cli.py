"""`train`, `tune` and `eval` commands end to end on tiny fixtures (tiny random base model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import typer
import yaml
from typer.testing import CliRunner

from streamproc.evaluate.cli import register as register_eval
from streamproc.train.cli import register as register_train
from streamproc.train.tasks import TASK_MODULES, UnknownTask, get_task
from streamproc.train.testing import tiny_base

SENTS = [
    ("Aspirin induced asthma in a patient .", [(0, 1, "Chemical"), (2, 3, "Disease")]),
    ("Cisplatin nephrotoxicity was observed .", [(0, 1, "Chemical"), (1, 2, "Disease")]),
    ("No renal failure after insulin .", [(1, 3, "Disease"), (4, 5, "Chemical")]),
    ("Heparin caused thrombocytopenia .", [(0, 1, "Chemical"), (2, 3, "Disease")]),
]


def _tsv(sents: list[tuple[str, list[tuple[int, int, str]]]], repeat: int) -> str:
    lines = []
    for _ in range(repeat):
        for text, chunks in sents:
            toks = text.split()
            tags = ["O"] * len(toks)
            for a, b, lab in chunks:
                tags[a] = f"B-{lab}"
                for i in range(a + 1, b):
                    tags[i] = f"I-{lab}"
            lines += [f"{t}\t{g}" for t, g in zip(toks, tags, strict=True)] + [""]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    data = root / "ner"
    for corpus in ("bc5cdr", "ncbi"):
        (data / corpus).mkdir(parents=True)
        (data / corpus / "train.tsv").write_text(_tsv(SENTS, 4))
        (data / corpus / "devel.tsv").write_text(_tsv(SENTS, 1))
    return {"root": root, "data": data, "base": tiny_base(root / "base")}


def _app() -> typer.Typer:
    app = typer.Typer()
    register_train(app)
    register_eval(app)
    return app


def test_task_table() -> None:
    assert TASK_MODULES["ner"] == "streamproc.train.tasks_ner"
    assert get_task("ner").name == "ner"
    with pytest.raises(UnknownTask):
        get_task("nope")


def test_train_then_eval_json(env: dict[str, Path]) -> None:
    runner = CliRunner()
    cfg = env["root"] / "recipe.yaml"
    cfg.write_text(
        yaml.safe_dump({"lr": 5e-3, "batch_size": 8, "max_length": 32, "log_every": 1000})
    )
    out = env["root"] / "model"
    r = runner.invoke(
        _app(),
        ["train", "ner", "--data", str(env["data"]), "--out", str(out), "--config", str(cfg), "--epochs", "1",
         "--base", str(env["base"])],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["config"]["lr"] == 5e-3 and meta["config"]["epochs"] == 1
    assert "streamproc train" in meta["rebuild_command"]
    r = runner.invoke(
        _app(), ["eval", "ner", "--model", str(out), "--data", str(env["data"]), "--split", "dev"]
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert (
        res["task"] == "ner" and res["split"] == "dev" and res["model_version"] == meta["version"]
    )
    assert set(res["corpora"]) == {"bc5cdr", "ncbi"}
    ncbi = res["corpora"]["ncbi"]
    assert ncbi["labels"] == ["problem"]  # NCBI is scored on what it annotates
    assert ncbi["strict"]["micro"]["support"] == 4  # one Disease per dev sentence
    assert set(ncbi["strict"]["micro"]) >= {"precision", "recall", "f1"}
    assert "confusion" in ncbi and "relaxed" in ncbi
    assert res["summary"]["ncbi"] == ncbi["strict"]["micro"]["f1"]
    # a bad split or missing data are usage / input errors, not tracebacks
    assert (
        runner.invoke(_app(), ["eval", "ner", "--data", str(env["data"]), "--split", "x"]).exit_code
        == 2
    )
    assert (
        runner.invoke(_app(), ["eval", "ner", "--data", str(env["root"] / "nope")]).exit_code == 5
    )


def test_tune_two_trials(env: dict[str, Path]) -> None:
    runner = CliRunner()
    out = env["root"] / "best.json"
    db = env["root"] / "study.db"
    r = runner.invoke(
        _app(),
        ["tune", "ner", "--data", str(env["data"]), "--trials", "2", "--study-db", f"sqlite:///{db}",
         "--out", str(out), "--max-epochs", "2", "--base", str(env["base"]), "--work-dir", str(env["root"] / "trials")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    best = json.loads(out.read_text())
    assert best["n_trials"] == 2 and db.is_file()
    assert {"lr", "epochs", "batch_size", "trainable"} <= set(best["best_params"])
    assert best["config"]["lr"] == best["best_params"]["lr"]


def test_soup_averages_two_runs_and_scores_the_average(env: dict[str, Path]) -> None:
    from safetensors.torch import load_file

    from streamproc.nlp.modeling import WEIGHTS, dequantized

    runner = CliRunner()
    parts = []
    for lr in ("5e-3", "1e-2"):
        cfg = env["root"] / f"soup-{lr}.yaml"
        cfg.write_text(yaml.safe_dump({"lr": float(lr), "batch_size": 8, "max_length": 32}))
        out = env["root"] / f"part-{lr}"
        r = runner.invoke(
            _app(),
            ["train", "ner", "--data", str(env["data"]), "--out", str(out), "--config", str(cfg),
             "--epochs", "1", "--base", str(env["base"])],
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        parts.append(out)
    soup = env["root"] / "soup"
    r = runner.invoke(
        _app(), ["soup", "ner", *map(str, parts), "--out", str(soup), "--data", str(env["data"])]
    )
    assert r.exit_code == 0, r.output
    meta = json.loads((soup / "meta.json").read_text())
    versions = [json.loads((p / "meta.json").read_text())["version"] for p in parts]
    assert [p["version"] for p in meta["soup_of"]] == versions
    assert meta["version"] not in versions and meta["rebuild_command"].startswith("streamproc soup")
    # weights: the mean of the parts' (within fp16 storage)
    a, b, s = (dequantized(load_file(str(p / WEIGHTS))) for p in (*parts, soup))
    key = next(k for k in s if k.endswith("classifier.weight"))
    assert torch.allclose(s[key].float(), (a[key].float() + b[key].float()) / 2, atol=2e-3)
    # scored on dev: the card's table is the soup's own full-dev result, not a part's
    assert set(meta["metrics"]["summary"]) == {"bc5cdr", "ncbi"}
    card = (soup / "model_card.md").read_text()
    assert "model soup" in card and versions[0] in card
    r2 = runner.invoke(_app(), ["eval", "ner", "--model", str(soup), "--data", str(env["data"])])
    assert json.loads(r2.stdout)["summary"]["ncbi"] == meta["metrics"]["summary"]["ncbi"]["f1"]
    # a soup given with more runs stands for its parts: the result is the uniform mean of all runs
    grown = env["root"] / "grown"
    r3 = runner.invoke(_app(), ["soup", "ner", str(soup), str(parts[0]), "--out", str(grown)])
    assert r3.exit_code == 0, r3.output
    g = dequantized(load_file(str(grown / WEIGHTS)))
    assert torch.allclose(g[key].float(), (2 * a[key].float() + b[key].float()) / 3, atol=3e-3)
    grown_meta = json.loads((grown / "meta.json").read_text())
    assert [p["version"] for p in grown_meta["soup_of"]] == [*versions, versions[0]]
    # a folder of another task or shape is refused, not averaged
    other = env["root"] / "other"
    other.mkdir(exist_ok=True)
    (other / "meta.json").write_text(json.dumps({**meta, "task": "deid"}))
    bad = runner.invoke(
        _app(), ["soup", "ner", str(parts[0]), str(other), "--out", str(env["root"] / "x")]
    )
    assert bad.exit_code == 2 and "task" in bad.output
