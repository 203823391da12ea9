"""Where models run: one rule for every model (NER, ADE, PHI) and every trainer."""

from __future__ import annotations

import torch


def resolve_device(device: str) -> torch.device:
    """``auto``: the GPU when torch sees one, else the CPU; ``cpu`` / ``cuda`` as written."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
