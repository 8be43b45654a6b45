"""Datasets as in-memory tensors: decoded once, kept on the training device, batches drawn by index."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo.errors import GanzooError
from ganzoo.hookspecs import hookimpl

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

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train_images.shape[1:])  # type: ignore[return-value]

    def to(self, device: torch.device | str) -> ImageData:
        return ImageData(
            self.name,
            self.train_images.to(device),
            self.train_labels.to(device),
            self.test_images.to(device),
            self.test_labels.to(device),
            self.num_classes,
        )


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1], the generators' Tanh range."""
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


MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def load_mnist(root: Path, image_size: int = 28, download: bool = True) -> ImageData:
    """MNIST handwritten digits: 60,000 train / 10,000 test, 10 classes, 1x28x28 (torchvision layout)."""
    from torchvision.datasets import MNIST

    raw = root / "MNIST" / "raw"
    missing = [name for name in MNIST_FILES if not (raw / name).exists() and not (raw / f"{name}.gz").exists()]
    if missing and not download:
        raise GanzooError(_mnist_missing(root, raw, "downloading is off"))
    try:
        train = MNIST(str(root), train=True, download=bool(missing))
        test = MNIST(str(root), train=False, download=False)
    except (OSError, RuntimeError) as error:
        raise GanzooError(_mnist_missing(root, raw, str(error).strip().splitlines()[0] if str(error) else type(error).__name__)) from error
    return ImageData(
        name="mnist",
        train_images=resize_uint8(train.data.unsqueeze(1), image_size),
        train_labels=train.targets.long(),
        test_images=resize_uint8(test.data.unsqueeze(1), image_size),
        test_labels=test.targets.long(),
        num_classes=10,
    )


def _mnist_missing(root: Path, raw: Path, reason: str) -> str:
    return (
        f"MNIST could not be loaded from data root {root} ({reason}). Put the four complete IDX files "
        f"({', '.join(MNIST_FILES)}) in {raw}/, or point --data-root / ${DATA_ROOT_ENV} at a folder that "
        f"has MNIST/raw/ inside it, or run once with network access so torchvision can download them."
    )


@hookimpl
def ganzoo_datasets():
    return {"mnist": load_mnist}
