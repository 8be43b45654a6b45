"""Datasets as in-memory tensors: decoded once, kept on the training device, batches drawn by index."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

DATA_ROOT_ENV = "GANZOO_DATA"
DEFAULT_DATA_ROOT = Path.home() / ".cache" / "ganzoo" / "datasets"


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: an explicit value, else $GANZOO_DATA, else ~/.cache/ganzoo/datasets."""
    if root:
        return Path(root).expanduser()
    if os.environ.get(DATA_ROOT_ENV):
        return Path(os.environ[DATA_ROOT_ENV]).expanduser()
    return DEFAULT_DATA_ROOT


@dataclass
class ImageData:
    """A labelled image dataset held as uint8 tensors of shape (N, C, H, W), labels int64 (N,)."""

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    num_classes: int
    class_names: tuple[str, ...] | None = None  # for datasets whose classes have names (image folders)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])  # type: ignore[return-value]

    def exact_evaluator(self):
        """An evaluator known in closed form (the 2-D toy mixtures), or None: ganzoo then trains one."""
        return None

    def to(self, device: torch.device | str) -> ImageData:
        tensors = ("train_images", "train_labels", "test_images", "test_labels")
        return dataclasses.replace(self, **{name: getattr(self, name).to(device) for name in tensors})


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1], the generators' Tanh range. Float data (toy points) is already there."""
    if images.is_floating_point():
        return images.float()
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] -> uint8 [0, 255]."""
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize (N, C, H, W) uint8 images once at load time (bilinear, antialiased, like torchvision's Resize)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    resized = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized.round().clamp(0, 255).to(torch.uint8)
