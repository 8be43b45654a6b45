"""Drawing images from a generator, and writing them as grids (.png) or arrays (.npz).

2-D points (the toy mixtures' "images" of shape (2, 1, 1)) are drawn as scatter plots instead of grids.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from ganzoo.data import to_uint8
from ganzoo.rundir import write_atomically

GRID_COLUMNS = 10
UNCONDITIONAL_GRID_SIZE = 100
SCATTER_POINTS = 2000
SCATTER_SIZE = 256


def is_points(image_shape) -> bool:
    """Whether samples of this shape (C, H, W) are 2-D points rather than images."""
    return tuple(image_shape) == (2, 1, 1)


def preview_labels(
    num_classes: int, conditional: bool, image_shape, device: torch.device | str = "cpu"
) -> tuple[int, torch.Tensor | None]:
    """How many samples a preview shows and their labels: one row per class for a conditional G, else
    100 images; 2,000 points for 2-D toy data (labels cycling over the classes when conditional)."""
    if is_points(image_shape):
        labels = torch.arange(SCATTER_POINTS, device=device) % num_classes if conditional else None
        return SCATTER_POINTS, labels
    if conditional:
        labels = grid_labels(num_classes, GRID_COLUMNS, device)
        return labels.numel(), labels
    return UNCONDITIONAL_GRID_SIZE, None


@dataclass(frozen=True)
class Latent:
    """G's input noise: ``dim`` numbers per image from the recipe's prior (``model.noise``)."""

    dim: int
    prior: str = "normal"

    @classmethod
    def of(cls, model) -> Latent:
        """From a recipe's ``[model]`` (``ganzoo.config.ModelConfig``)."""
        return cls(model.latent_dim, model.noise)

    def sample(self, count: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"):
        if self.prior == "uniform":
            return torch.rand(count, self.dim, generator=generator, device=device)
        return torch.randn(count, self.dim, generator=generator, device=device)


def grid_labels(num_classes: int, per_class: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Labels for a grid with one row per class: 0,0,..,0, 1,1,..,1, ..."""
    return torch.arange(num_classes, device=device).repeat_interleave(per_class)


@torch.no_grad()
def generate(
    generator: nn.Module,
    count: int,
    latent: Latent | int,
    labels: torch.Tensor | None,
    seed: int,
    device: torch.device | str,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """``count`` images in [-1, 1] from seeded noise, in eval mode (BatchNorm uses running statistics).

    ``progress(done, count)`` is called after each batch.
    """
    noise_source = torch.Generator(device="cpu").manual_seed(seed)
    latent = latent if isinstance(latent, Latent) else Latent(latent)  # an int: that many N(0, 1) numbers
    noise = latent.sample(count, generator=noise_source)
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
            if progress is not None:
                progress(min(start + batch_size, count), count)
        return torch.cat(chunks)
    finally:
        generator.train(was_training)


def scatter(points: torch.Tensor, size: int = SCATTER_SIZE) -> torch.Tensor:
    """A (3, size, size) picture in [0, 1] of points in [-1, 1]²: dark dots on white, with the axes in grey."""
    canvas = torch.ones(3, size, size)
    canvas[:, size // 2, :] = canvas[:, :, size // 2] = 0.85
    xy = ((points.detach().float().cpu().flatten(1)[:, :2] + 1) / 2 * (size - 1)).round().long()
    inside = ((xy >= 0) & (xy < size)).all(dim=1)
    x, y = xy[inside, 0], (size - 1) - xy[inside, 1]  # y grows upwards
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):  # 2x2 dots
        canvas[:, (y + dy).clamp(max=size - 1), (x + dx).clamp(max=size - 1)] = torch.tensor([[0.1], [0.2], [0.6]])
    return canvas


def tile(images: torch.Tensor, columns: int, padding: int = 2) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] as one (3, H', W') picture in [0, 1]: ``columns`` per row, black lines
    between them (the layout of torchvision's ``make_grid``, which ganzoo does not import: torchvision's
    import costs every command seconds)."""
    images = ((images.detach().float().cpu().clamp(-1.0, 1.0) + 1.0) / 2.0).expand(-1, 3, -1, -1)
    count, _, height, width = images.shape
    columns = min(columns, count)
    rows = -(-count // columns)
    picture = torch.zeros(3, rows * (height + padding) + padding, columns * (width + padding) + padding)
    for index, image in enumerate(images):
        top, left = padding + (index // columns) * (height + padding), padding + (index % columns) * (width + padding)
        picture[:, top : top + height, left : left + width] = image
    return picture


def render(images: torch.Tensor, columns: int) -> torch.Tensor:
    """A (3, H, W) picture in [0, 1]: a grid of images in [-1, 1], or a scatter plot of 2-D points."""
    if is_points(images.shape[1:]):
        return scatter(images)
    return tile(images, columns)


def png_bytes(picture: torch.Tensor) -> bytes:
    """A (3, H, W) picture in [0, 1] as PNG bytes."""
    pixels = picture.mul(255).add(0.5).clamp(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png")
    return buffer.getvalue()


def save_grid(images: torch.Tensor, path: Path, columns: int) -> None:
    """A PNG grid, written atomically (an interrupted write never leaves a broken file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, png_bytes(render(images, columns)))


def save_npz(images: torch.Tensor, labels: torch.Tensor, path: Path) -> None:
    """``images`` uint8 (N, C, H, W) in 0..255 (2-D points: float32 (N, 2)); ``labels`` int64 (-1: unconditional)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_points(images.shape[1:]):
        arrays = {"points": images.detach().float().flatten(1).cpu().numpy()}
    else:
        arrays = {"images": to_uint8(images).cpu().numpy()}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays, labels=labels.to(torch.int64).cpu().numpy())
    write_atomically(path, buffer.getvalue())
