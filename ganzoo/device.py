"""Where and in which precision training runs: device choice and bf16 autocast."""

from __future__ import annotations

import contextlib
import functools

import torch

from ganzoo.errors import GanzooError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GanzooError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanzooError("--device cuda was asked for, but PyTorch sees no CUDA GPU here. Use --device cpu (or auto).")
    return device


@functools.lru_cache(maxsize=None)
def bf16_is_native(device: torch.device) -> bool:
    """Whether bf16 matmuls run on dedicated hardware here (CUDA bf16 support, or CPU AMX tiles)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private in torch 2.x: absent means no
    return device.type == "cpu" and bool(amx and amx())


def uses_bf16(precision: str, device: torch.device) -> bool:
    """``bf16`` always; ``auto`` where bf16 is native (CUDA, CPUs with AMX: several times faster); else fp32."""
    return precision == "bf16" or (precision == "auto" and bf16_is_native(device))


def autocast_for(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast (weights, optimizer state and losses stay fp32; bf16 needs no loss scaling) or nothing."""
    if uses_bf16(precision, device):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
