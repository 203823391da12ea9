"""Helpers for fast tests of anything built with the training toolkit.

``tiny_base(folder)`` writes a randomly initialised 2-layer, 32-hidden BERT with the real MiniLM
WordPiece tokenizer: training and inference code paths run end to end in about a second.
"""

from __future__ import annotations

from pathlib import Path


def tiny_base(folder: Path, layers: int = 2, hidden: int = 32, max_positions: int = 128) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertModel

    from streamproc.nlp.modeling import default_base_path

    folder = Path(folder)
    if (folder / "config.json").is_file():
        return folder
    tok = AutoTokenizer.from_pretrained(str(default_base_path()), local_files_only=True)
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=max_positions,
    )
    import torch

    torch.manual_seed(0)
    BertModel(cfg).save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder
