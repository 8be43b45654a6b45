"""CIFAR-10 from its official binary version in ``ROOT/cifar-10-batches-bin/``.

The binary files are fixed-size records read straight into tensors; the better-known "python version"
of CIFAR-10 is a set of pickles, which ganzoo never opens (unpickling a file can run code).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganzoo.data import DATA_ROOT_ENV, ImageData, resize_uint8
from ganzoo.errors import GanzooError, first_line

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
MD5 = "c32a1d4ab5d03f1284b67883e8d87530"
FOLDER = "cifar-10-batches-bin"
TRAIN_FILES = tuple(f"data_batch_{k}.bin" for k in range(1, 6))
TEST_FILES = ("test_batch.bin",)
ALL_FILES = TRAIN_FILES + TEST_FILES
RECIPE_DEFAULTS = {"data.image_size": 32}
IMAGE_SHAPE = (3, 32, 32)  # stored channel-major: the red plane, then green, then blue
RECORD_BYTES = 1 + 3 * 32 * 32  # one label byte, then the image
RECORDS_PER_FILE = 10_000
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_cifar10(root: Path, image_size: int = 32, download: bool = True) -> ImageData:
    """CIFAR-10 photos: 50,000 train / 10,000 test, 10 classes, 3x32x32 (official binary version)."""
    folder = root / FOLDER
    if _missing_files(folder) and download:
        _download(root)
    missing = _missing_files(folder)
    if missing:
        found = "not found" if len(missing) == len(ALL_FILES) else f"{', '.join(missing)} missing"
        reason = found if download else f"{found} and downloading is off"
        raise GanzooError(_missing_message(root, reason))
    train_images, train_labels = _read_batches(folder, TRAIN_FILES)
    test_images, test_labels = _read_batches(folder, TEST_FILES)
    return ImageData(
        name="cifar10",
        train_images=resize_uint8(train_images, image_size),
        train_labels=train_labels,
        test_images=resize_uint8(test_images, image_size),
        test_labels=test_labels,
        num_classes=len(CLASS_NAMES),
        class_names=CLASS_NAMES,
    )


def read_batch_file(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One binary batch file as uint8 images (N, 3, 32, 32) and int64 labels (N,)."""
    size = path.stat().st_size
    if size == 0 or size % RECORD_BYTES:
        raise GanzooError(
            f"{path} is {size:,} bytes, not a whole number of {RECORD_BYTES:,}-byte CIFAR-10 records (the official "
            f"files are {RECORDS_PER_FILE * RECORD_BYTES:,} bytes each): it is truncated or not from the binary "
            f"version. Delete {path.parent}/ and run once with network access, or unpack {URL} there again."
        )
    records = torch.from_numpy(np.fromfile(path, dtype=np.uint8).reshape(-1, RECORD_BYTES))
    labels = records[:, 0].long()
    if labels.max() >= len(CLASS_NAMES):
        raise GanzooError(
            f"{path} has label {labels.max().item()}, but CIFAR-10 has only labels 0-9: the file is "
            f"corrupt or not from CIFAR-10's binary version."
        )
    return records[:, 1:].reshape(-1, *IMAGE_SHAPE), labels


def _read_batches(folder: Path, names: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = zip(*(read_batch_file(folder / name) for name in names))
    return torch.cat(images), torch.cat(labels)


def _missing_files(folder: Path) -> list[str]:
    return [name for name in ALL_FILES if not (folder / name).is_file()]


def _download(root: Path) -> None:
    from torchvision.datasets.utils import download_and_extract_archive

    try:
        # An intact archive already in the root is unpacked without being downloaded again.
        download_and_extract_archive(URL, download_root=str(root), md5=MD5)
    except (OSError, RuntimeError) as error:  # no network, a failed checksum, a broken archive
        raise GanzooError(_missing_message(root, f"download failed: {first_line(error)}")) from error


def _missing_message(root: Path, reason: str) -> str:
    return (
        f"CIFAR-10 could not be loaded from data root {root} ({reason}). Put the binary version's six files "
        f"({', '.join(ALL_FILES)}) in {root / FOLDER}/ (unpack {URL} into {root}/), or point "
        f"--data-root / ${DATA_ROOT_ENV} at a folder that has {FOLDER}/ inside it, or run once with network access "
        f"so ganzoo can download them."
    )
