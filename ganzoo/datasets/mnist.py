"""MNIST and Fashion-MNIST: the same four IDX files each, in torchvision's layout under the data root.

MNIST lives in ``ROOT/MNIST/raw/`` and Fashion-MNIST in ``ROOT/FashionMNIST/raw/``, as the files or as the
official ``.gz`` downloads of them. ganzoo reads the IDX format itself and checks every header: it never
takes torchvision's ``processed/*.pt`` path, which unpickles whatever file it finds there.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from ganzoo.data import DATA_ROOT_ENV, ImageData, resize_uint8
from ganzoo.errors import GanzooError, first_line

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)  # Fashion-MNIST's have the same names
DIGITS = tuple("0123456789")
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
UNSIGNED_BYTE = 0x08  # the IDX type code of uint8 data, the only one MNIST-format files use
MIRRORS = {
    "MNIST": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    "FashionMNIST": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}


def load_mnist(root: Path, image_size: int = 28, download: bool = True) -> ImageData:
    """MNIST handwritten digits: 60,000 train / 10,000 test, 10 classes, 1x28x28 (torchvision layout)."""
    return load_idx_dataset("MNIST", "mnist", "MNIST", DIGITS, root, image_size, download)


def load_fashion_mnist(root: Path, image_size: int = 28, download: bool = True) -> ImageData:
    """Fashion-MNIST clothing: 60,000 train / 10,000 test, 10 classes, 1x28x28 (torchvision layout)."""
    return load_idx_dataset(
        "FashionMNIST", "fashion_mnist", "Fashion-MNIST", FASHION_CLASSES, root, image_size, download
    )


def load_idx_dataset(
    folder: str, name: str, title: str, class_names: tuple[str, ...], root: Path, image_size: int, download: bool
) -> ImageData:
    """Load an MNIST-format dataset from ``ROOT/FOLDER/raw/`` (downloading the .gz files when allowed)."""
    raw = root / folder / "raw"
    absent = [file for file in MNIST_FILES if not (raw / file).exists() and not (raw / f"{file}.gz").exists()]
    if absent and not download:
        found = "not found" if len(absent) == len(MNIST_FILES) else f"{', '.join(absent)} missing"
        raise GanzooError(_missing_message(title, root, raw, f"{found} and downloading is off"))
    if absent:
        _download(folder, raw, absent, title, root)
    try:
        train_images, train_labels = read_split(raw, "train", len(class_names))
        test_images, test_labels = read_split(raw, "t10k", len(class_names))
    except OSError as error:
        raise GanzooError(
            _missing_message(title, root, raw, f"cannot read: {error.strerror or first_line(error)}")
        ) from None
    except IdxError as error:
        raise GanzooError(_missing_message(title, root, raw, str(error))) from None
    return ImageData(
        name=name,
        train_images=resize_uint8(train_images.unsqueeze(1), image_size),
        train_labels=train_labels,
        test_images=resize_uint8(test_images.unsqueeze(1), image_size),
        test_labels=test_labels,
        num_classes=len(class_names),
        class_names=class_names,
    )


class IdxError(ValueError):
    """An IDX file that is not what it should be (the message names it and says how)."""


def read_split(raw: Path, prefix: str, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One split's images (N, 28, 28) uint8 and labels (N,) int64, checked against each other."""
    images = read_idx(raw, f"{prefix}-images-idx3-ubyte", dims=3)
    labels = read_idx(raw, f"{prefix}-labels-idx1-ubyte", dims=1)
    if images.shape[0] != labels.shape[0]:
        raise IdxError(
            f"{prefix}-images has {images.shape[0]:,} images but {prefix}-labels has {labels.shape[0]:,} labels"
        )
    if labels.size and labels.max() >= num_classes:
        raise IdxError(
            f"{prefix}-labels has label {int(labels.max())}, but the dataset has only labels 0-{num_classes - 1}"
        )
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def read_idx(raw: Path, name: str, dims: int) -> np.ndarray:
    """An IDX file of unsigned bytes with ``dims`` dimensions (or its .gz), header checked against the size."""
    path = raw / name
    if path.exists():
        data = path.read_bytes()
    else:
        try:
            data = gzip.decompress((raw / f"{name}.gz").read_bytes())
        except (OSError, EOFError) as error:
            raise IdxError(f"{name}.gz is not a complete gzip file ({first_line(error)})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IdxError(f"{name} is not an IDX file (bad magic number)")
    if data[2] != UNSIGNED_BYTE:
        raise IdxError(
            f"{name} holds IDX type code 0x{data[2]:02x}, not unsigned bytes (0x08) as MNIST-format files do"
        )
    if data[3] != dims:
        raise IdxError(f"{name} has {data[3]} dimensions, not {dims}")
    header = 4 + 4 * dims
    if len(data) < header:
        raise IdxError(f"{name} is truncated (its header is incomplete)")
    shape = struct.unpack(f">{dims}I", data[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != expected:
        raise IdxError(
            f"{name} is truncated or padded: its header promises {expected:,} bytes of data, it has "
            f"{len(data) - header:,}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _download(folder: str, raw: Path, files: list[str], title: str, root: Path) -> None:
    from torchvision.datasets.utils import download_url

    for file in files:
        for mirror in MIRRORS[folder]:
            try:
                download_url(mirror + file + ".gz", str(raw), filename=file + ".gz")
                break
            except (OSError, RuntimeError, ValueError) as error:  # no network, a mirror down, a bad response
                reason = first_line(error)
        else:
            raise GanzooError(_missing_message(title, root, raw, f"download failed: {reason}"))


def _missing_message(title: str, root: Path, raw: Path, reason: str) -> str:
    return (
        f"{title} could not be loaded from data root {root} ({reason}). Put the four complete IDX files "
        f"({', '.join(MNIST_FILES)}, or the official .gz downloads of them) in {raw}/, or point --data-root / "
        f"${DATA_ROOT_ENV} at a folder that has {raw.parent.name}/raw/ inside it, or run once with network "
        f"access so ganzoo can download them."
    )
