"""Checkpoints as safetensors (never pickle), written atomically, with the recipe in the metadata."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ganzoo.errors import GanzooError


def save_checkpoint(path: Path, modules: dict[str, nn.Module], metadata: dict[str, Any]) -> None:
    """Write ``{module_name}.{parameter}`` tensors; a temp file + rename so ``path`` is never half written."""
    tensors = {
        f"{name}.{key}": value.detach().to("cpu").contiguous()
        for name, module in modules.items()
        for key, value in module.state_dict().items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    save_file(tensors, str(temporary), metadata={key: json.dumps(value) for key, value in metadata.items()})
    os.replace(temporary, path)


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and decoded metadata; a missing or corrupt file is a clear error."""
    if not path.is_file():
        raise GanzooError(f"no checkpoint at {path}. Is this a ganzoo run directory (it has checkpoints/last.safetensors)?")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
        metadata = {key: json.loads(value) for key, value in raw.items()}
    except (SafetensorError, OSError, ValueError) as error:
        raise GanzooError(f"checkpoint {path} is corrupt or truncated ({error}). Use another checkpoint or re-run training.") from None
    return tensors, metadata


def load_module(module: nn.Module, tensors: dict[str, torch.Tensor], name: str, path: Path) -> None:
    prefix = f"{name}."
    state = {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise GanzooError(f"checkpoint {path} does not fit this model's {name} ({first}).") from None
