"""MNIST and Fashion-MNIST: the same four IDX files each, in torchvision's layout under the data root.

MNIST lives in ``ROOT/MNIST/raw/`` and Fashion-MNIST in ``ROOT/FashionMNIST/raw/``; torchvision
downloads, unpacks and decodes both, so one loader serves the two.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo.data import DATA_ROOT_ENV, ImageData, resize_uint8
from ganzoo.errors import GanzooError, first_line
from ganzoo.hookspecs import hookimpl

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")  # Fashion-MNIST's have the same names
DIGITS = tuple("0123456789")
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def load_mnist(root: Path, image_size: int = 28, download: bool = True) -> ImageData:
    """MNIST handwritten digits: 60,000 train / 10,000 test, 10 classes, 1x28x28 (torchvision layout)."""
    from torchvision.datasets import MNIST

    return load_idx_dataset(MNIST, "mnist", "MNIST", DIGITS, root, image_size, download)


def load_fashion_mnist(root: Path, image_size: int = 28, download: bool = True) -> ImageData:
    """Fashion-MNIST clothing: 60,000 train / 10,000 test, 10 classes, 1x28x28 (torchvision layout)."""
    from torchvision.datasets import FashionMNIST

    return load_idx_dataset(FashionMNIST, "fashion_mnist", "Fashion-MNIST", FASHION_CLASSES, root, image_size, download)


def load_idx_dataset(dataset_class: type, name: str, title: str, class_names: tuple[str, ...],
                     root: Path, image_size: int, download: bool) -> ImageData:
    """Load an MNIST-format dataset through its torchvision class (``MNIST``, ``FashionMNIST``, ...)."""
    raw = root / dataset_class.__name__ / "raw"  # torchvision names the folder after the class
    not_unpacked = [file for file in MNIST_FILES if not (raw / file).exists()]
    absent = [file for file in not_unpacked if not (raw / f"{file}.gz").exists()]
    if absent and not download:
        found = "not found" if len(absent) == len(MNIST_FILES) else f"{', '.join(absent)} missing"
        raise GanzooError(_missing_message(title, root, raw, f"{found} and downloading is off"))
    try:
        # torchvision's download step also unpacks the .gz files it finds; intact ones need no network.
        train = dataset_class(str(root), train=True, download=bool(not_unpacked))
        test = dataset_class(str(root), train=False, download=False)
    except (OSError, RuntimeError, ValueError, AssertionError) as error:  # also raised for a truncated or foreign file
        raise GanzooError(_missing_message(title, root, raw, first_line(error))) from error
    return ImageData(
        name=name,
        train_images=resize_uint8(train.data.unsqueeze(1), image_size),
        train_labels=train.targets.long(),
        test_images=resize_uint8(test.data.unsqueeze(1), image_size),
        test_labels=test.targets.long(),
        num_classes=len(class_names),
        class_names=class_names,
    )


def _missing_message(title: str, root: Path, raw: Path, reason: str) -> str:
    return (
        f"{title} could not be loaded from data root {root} ({reason}). Put the four complete IDX files "
        f"({', '.join(MNIST_FILES)}, or the official .gz downloads of them) in {raw}/, or point --data-root / "
        f"${DATA_ROOT_ENV} at a folder that has {raw.parent.name}/raw/ inside it, or run once with network "
        f"access so torchvision can download them."
    )


@hookimpl
def ganzoo_datasets():
    return {"mnist": load_mnist, "fashion_mnist": load_fashion_mnist}
