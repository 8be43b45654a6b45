"""Drawing images from a generator, and writing them as grids (.png) or arrays (.npz)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchvision.utils import save_image

from ganzoo.data import to_uint8


def grid_labels(num_classes: int, per_class: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Labels for a grid with one row per class: 0,0,..,0, 1,1,..,1, ..."""
    return torch.arange(num_classes, device=device).repeat_interleave(per_class)


@torch.no_grad()
def generate(
    generator: nn.Module,
    count: int,
    latent_dim: int,
    labels: torch.Tensor | None,
    seed: int,
    device: torch.device | str,
    batch_size: int = 500,
) -> torch.Tensor:
    """``count`` images in [-1, 1] from seeded noise, in eval mode (BatchNorm uses running statistics)."""
    noise_source = torch.Generator(device="cpu").manual_seed(seed)
    noise = torch.randn(count, latent_dim, generator=noise_source)
    was_training = generator.training
    generator.eval()
    try:
        chunks = []
        for start in range(0, count, batch_size):
            z = noise[start : start + batch_size].to(device)
            if labels is None:
                chunks.append(generator(z).float())
            else:
                chunks.append(generator(z, labels[start : start + batch_size].to(device)).float())
        return torch.cat(chunks)
    finally:
        generator.train(was_training)


def save_grid(images: torch.Tensor, path: Path, columns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().cpu(), str(path), nrow=columns, normalize=True, value_range=(-1.0, 1.0), padding=2)


def save_npz(images: torch.Tensor, labels: torch.Tensor, path: Path) -> None:
    """``images`` uint8 (N, C, H, W) in 0..255 and ``labels`` int64 (-1 for unconditional samples)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, images=to_uint8(images).cpu().numpy(), labels=labels.to(torch.int64).cpu().numpy())
