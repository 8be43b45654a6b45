"""Checkpoints as safetensors (never pickle), written atomically, with the recipe in the metadata.

A checkpoint holds everything needed to resume bit for bit: every module's weights and buffers, both
optimizers' state, the RNG states and the position in the data order. Tensors are named
``{group}.{key}``; JSON-able values go in the metadata. A SHA-256 of the tensor bytes in the metadata
catches flipped bytes that the safetensors format alone would load silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ganzoo.errors import GanzooError, first_line


def content_hash(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
    """Write atomically: a temp file, fsync, then rename, so ``path`` is never half written."""
    tensors = {name: value.detach().to("cpu").contiguous() for name, value in tensors.items()}
    encoded = {key: json.dumps(value) for key, value in metadata.items()}
    encoded["sha256"] = content_hash(tensors)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    save_file(tensors, str(temporary), metadata=encoded)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and decoded metadata; a missing, truncated or altered file is a clear error."""
    if not path.is_file():
        raise GanzooError(f"no checkpoint at {path}. Is this a ganzoo run directory (it has checkpoints/last.safetensors)?")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            raw = handle.metadata() or {}
        expected = raw.pop("sha256", None)
        metadata = {key: json.loads(value) for key, value in raw.items()}
    except (SafetensorError, OSError, ValueError) as error:
        raise GanzooError(f"checkpoint {path} is corrupt or truncated ({error}). Use another checkpoint or re-run training.") from None
    if expected is None or "recipe" not in metadata:
        raise GanzooError(f"{path} is not a ganzoo checkpoint (no recipe or checksum in its metadata).")
    if content_hash(tensors) != expected:
        raise GanzooError(f"checkpoint {path} is corrupt: its tensors do not match the checksum written with them.")
    return tensors, metadata


def module_tensors(name: str, module: nn.Module) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value for key, value in module.state_dict().items()}


def load_module(module: nn.Module, tensors: dict[str, torch.Tensor], name: str, path: Path) -> None:
    state = _with_prefix(tensors, f"{name}.")
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        raise GanzooError(f"checkpoint {path} does not fit this model's {name} ({first_line(error)}).") from None


def optimizer_state(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer's state as tensors plus JSON (its param groups and any non-tensor state)."""
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{name}.{index}.{key}"] = value
            else:
                scalars[f"{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def load_optimizer(optimizer: torch.optim.Optimizer, name: str, tensors: dict[str, torch.Tensor], saved: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in _with_prefix(tensors, f"{name}.").items():
        index, field = key.split(".", 1)
        state.setdefault(int(index), {})[field] = value
    for key, value in saved["scalars"].items():
        index, field = key.split(".", 1)
        state.setdefault(int(index), {})[field] = value
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


def _with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}


def rng_tensors(order_source: torch.Generator) -> dict[str, torch.Tensor]:
    tensors = {"rng.torch": torch.get_rng_state(), "rng.order": order_source.get_state()}
    if torch.cuda.is_available():
        tensors.update({f"rng.cuda.{i}": state for i, state in enumerate(torch.cuda.get_rng_state_all())})
    return tensors


def restore_training_state(saved, path: Path, modules, optimizers, order_source: torch.Generator, device: torch.device) -> tuple[int, torch.Tensor]:
    """Load weights, optimizer state and RNG states from a checkpoint; returns (step, data order)."""
    tensors, metadata = saved
    for name, module in modules.items():
        load_module(module, tensors, name, path)
    for name, optimizer in optimizers.items():
        load_optimizer(optimizer, name, tensors, metadata["optimizers"][name])
    torch.set_rng_state(tensors["rng.torch"])
    order_source.set_state(tensors["rng.order"])
    cuda_states = [tensors[key] for key in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    version, internal, gauss = metadata["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, *rest = metadata["numpy_rng"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    return metadata["step"], tensors["data.order"].to(device)
