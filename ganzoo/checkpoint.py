"""Checkpoints as safetensors (never pickle), written atomically, with the recipe in the metadata.

A training checkpoint holds everything needed to resume bit for bit: every module's weights and buffers,
both optimizers' state, the RNG states and the position in the data order. Tensors are named
``{group}.{key}``; JSON-able values go in the metadata. A SHA-256 of the tensors *and* the metadata,
stored beside them, catches flipped bytes and edited values that the safetensors format alone would load
silently. Every way a file can be wrong (missing, truncated, altered, from another program, malformed)
is a ``GanzooError`` that says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ganzoo.errors import GanzooError, first_line

FORMAT = "2"  # 2: the checksum covers the metadata too (ganzoo 0.1's covered the tensors only)
RUN_METADATA = {
    "variant": str,
    "recipe": dict,
    "num_classes": int,
    "image_shape": list,
}  # what a run's checkpoint holds


def content_hash(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> str:
    """SHA-256 of the tensors (names and bytes) and, when given, the encoded metadata."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        digest.update(name.encode())
        digest.update(tensors[name].contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    for key in sorted(metadata or {}):
        digest.update(f"\0{key}\0{metadata[key]}".encode())
    return digest.hexdigest()


def user_file_mode() -> int:
    """The permissions the user's umask gives a new file (safetensors writes 0600, unreadable to a team)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def save_checkpoint(
    path: Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, Any], shared: bool = False
) -> None:
    """Write atomically: a temp file, fsync, then rename, so ``path`` is never half written.

    Only the process holding the run's lock writes its checkpoints, so their temp file's name is fixed (a kill's
    leftover is overwritten by the next write). ``shared``: other processes may write ``path`` at the same time
    (a cache), so the temp file's name is unique to this process.
    """
    tensors = {name: value.detach().to("cpu").contiguous() for name, value in tensors.items()}
    encoded = {key: json.dumps(value) for key, value in metadata.items()}
    encoded["format"] = FORMAT
    encoded["sha256"] = content_hash(tensors, encoded)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp" if shared else path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(temporary), metadata=encoded)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(temporary, user_file_mode())
        os.replace(temporary, path)
    except (OSError, SafetensorError) as error:
        temporary.unlink(missing_ok=True)
        reason = getattr(error, "strerror", None) or first_line(error)
        raise GanzooError(
            f"cannot write checkpoint {path} ({reason}). Free disk space or make the folder writable; "
            f"the previous checkpoint, if any, is intact."
        ) from None
    except BaseException:  # a second Ctrl-C in mid-write: no half-written file left behind
        temporary.unlink(missing_ok=True)
        raise


def load_checkpoint(
    path: Path, required: Mapping[str, type] = RUN_METADATA
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and decoded metadata; a missing, truncated, altered or foreign file is a clear error, and so is
    metadata without the ``required`` keys (by default, those of a run's checkpoint)."""
    if not path.is_file():
        raise GanzooError(
            f"no checkpoint at {path}. Is this a ganzoo run directory (it has checkpoints/last.safetensors)?"
        )
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            raw = dict(handle.metadata() or {})
        expected = raw.pop("sha256", None)
        covered = dict(raw) if raw.get("format") == FORMAT else None
        raw.pop("format", None)
        metadata = {key: json.loads(value) for key, value in raw.items()}
    except (SafetensorError, OSError, ValueError) as error:
        raise GanzooError(
            f"checkpoint {path} is corrupt or truncated ({first_line(error)}). Use another checkpoint "
            f"or re-run training."
        ) from None
    if expected is None or "recipe" not in metadata:
        raise GanzooError(f"{path} is not a ganzoo checkpoint (no recipe or checksum in its metadata).")
    if content_hash(tensors, covered) != expected:
        raise GanzooError(
            f"checkpoint {path} is corrupt: its tensors or metadata do not match the checksum written "
            f"with them (was the file edited?). Use another checkpoint or re-run training."
        )
    for key, kind in required.items():
        if not isinstance(metadata.get(key), kind):
            raise GanzooError(f"checkpoint {path} is malformed: its metadata has no valid {key!r}.")
    shape = metadata.get("image_shape", [1, 1, 1])
    if len(shape) != 3 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise GanzooError(f"checkpoint {path} is malformed: image_shape {shape!r} is not (C, H, W).")
    return tensors, metadata


def module_tensors(name: str, module: nn.Module) -> dict[str, torch.Tensor]:
    return {f"{name}.{key}": value for key, value in module.state_dict().items()}


def load_module(module: nn.Module, tensors: Mapping[str, torch.Tensor], name: str, path: Path) -> None:
    state = with_prefix(tensors, f"{name}.")
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, TypeError) as error:
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


def load_optimizer(
    optimizer: torch.optim.Optimizer, name: str, tensors: Mapping[str, torch.Tensor], saved: dict[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in with_prefix(tensors, f"{name}.").items():
        index, field = key.split(".", 1)
        state.setdefault(int(index), {})[field] = value
    for key, value in saved["scalars"].items():
        index, field = key.split(".", 1)
        state.setdefault(int(index), {})[field] = value
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    # Saved tensors come back contiguous. The fused Adam kernel walks a weight and its moments as flat memory, so
    # a channels-last weight with contiguous moments would be updated with another element's moments, silently.
    for parameter, values in optimizer.state.items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor) and value.shape == parameter.shape:
                if value.stride() != parameter.stride():
                    values[key] = torch.empty_like(parameter).copy_(value)


def with_prefix(tensors: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}


def rng_tensors() -> dict[str, torch.Tensor]:
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        tensors.update({f"rng.cuda.{i}": state for i, state in enumerate(torch.cuda.get_rng_state_all())})
    return tensors


def host_rng_metadata() -> dict[str, Any]:
    numpy_state = np.random.get_state()
    return {"python_rng": random.getstate(), "numpy_rng": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]]}


def restore_rngs(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, Any]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [tensors[key] for key in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states)
    version, internal, gauss = metadata["python_rng"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, *rest = metadata["numpy_rng"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
