"""Your own images: a folder with one subfolder of images per class (``--set data.path=FOLDER``).

::

    FOLDER/cats/001.jpg            FOLDER/train/cats/001.jpg
    FOLDER/cats/002.png     or     FOLDER/train/dogs/...
    FOLDER/dogs/...                FOLDER/test/cats/...  (the same class subfolders as train/)

A class is a subfolder's name (classes sorted by name). Without ``train/`` and ``test/``, a fixed ~10 %
of each class is held out as the test split. Images are center-cropped to a square and resized to
``data.image_size``; they load as 1 channel when every image is grayscale, else as 3 channels (RGB,
alpha dropped).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ganzoo.data import ImageData
from ganzoo.errors import GanzooError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
GRAYSCALE_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
SIXTEEN_BIT_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N"}  # Pillow would clip these to 8 bits, not scale them
TEST_SHARE = 0.1
SPLIT_SEED = 0


def load_image_folder(root: Path, image_size: int = 28, download: bool = True, path: Path | None = None) -> ImageData:
    """Your own images, one subfolder per class (set data.path); optional train/ and test/ splits."""
    if path is None:
        raise GanzooError(
            "dataset 'imagefolder' reads your own images: name their folder with "
            "--set data.path=FOLDER (a folder with one subfolder of images per class)."
        )
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise GanzooError(f"image folder {folder} (data.path) does not exist or is not a folder.")
    class_names, train_files, test_files = _split_files(folder)
    every_file = [file for files in (*train_files.values(), *test_files.values()) for file in files]
    grayscale = all(_is_grayscale(file) for file in every_file)
    train_images, train_labels = _load_split(train_files, class_names, image_size, grayscale)
    test_images, test_labels = _load_split(test_files, class_names, image_size, grayscale)
    return ImageData(
        name="imagefolder",
        train_images=train_images,
        train_labels=train_labels,
        test_images=test_images,
        test_labels=test_labels,
        num_classes=len(class_names),
        class_names=tuple(class_names),
    )


def _split_files(folder: Path) -> tuple[list[str], dict[str, list[Path]], dict[str, list[Path]]]:
    """The class names and each class's train and test files: from train/ and test/, else held out."""
    if not ((folder / "train").is_dir() and (folder / "test").is_dir()):
        class_names = _class_names(folder)
        splits = {name: hold_out(image_files(folder / name)) for name in class_names}
        train = {name: files for name, (files, _) in splits.items()}
        test = {name: files for name, (_, files) in splits.items()}
        return class_names, train, test
    class_names, test_names = _class_names(folder / "train"), _class_names(folder / "test")
    if test_names != class_names:
        raise GanzooError(
            f"{folder}/train/ and {folder}/test/ must have the same class subfolders; they have "
            f"{', '.join(class_names)} and {', '.join(test_names)}."
        )
    return (
        class_names,
        {name: image_files(folder / "train" / name) for name in class_names},
        {name: image_files(folder / "test" / name) for name in class_names},
    )


def image_files(class_folder: Path) -> list[Path]:
    """A class's image files, in subfolders too, sorted; hidden files (macOS's ``._*`` and the like) are skipped."""
    files = sorted(
        file
        for file in class_folder.rglob("*")
        if file.suffix.lower() in IMAGE_SUFFIXES
        and file.is_file()
        and not any(part.startswith(".") for part in file.relative_to(class_folder).parts)
    )
    if not files:
        raise GanzooError(
            f"class folder {class_folder} has no images: put {', '.join(IMAGE_SUFFIXES)} files in it, or remove it."
        )
    return files


def hold_out(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """Split one class's files into (train, test): ~10 % for test, at least one when there are two or more.

    The choice is a seeded shuffle of the sorted names, so it is the same on every run and machine.
    """
    count = max(1, round(TEST_SHARE * len(files))) if len(files) >= 2 else 0
    chosen = set(torch.randperm(len(files), generator=torch.Generator().manual_seed(SPLIT_SEED))[:count].tolist())
    return (
        [file for k, file in enumerate(files) if k not in chosen],
        [file for k, file in enumerate(files) if k in chosen],
    )


def _class_names(folder: Path) -> list[str]:
    names = sorted(child.name for child in folder.iterdir() if child.is_dir() and not child.name.startswith("."))
    if not names:
        raise GanzooError(
            f"{folder} has no class subfolders: put each class's images in a subfolder named after "
            f"the class, e.g. {folder}/cats/*.jpg and {folder}/dogs/*.jpg."
        )
    return names


def _is_grayscale(file: Path) -> bool:
    with _open(file) as image:  # reads the header only
        return image.mode in GRAYSCALE_MODES


def _load_split(
    files: dict[str, list[Path]], class_names: list[str], image_size: int, grayscale: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    images = [_read_image(file, image_size, grayscale) for name in class_names for file in files[name]]
    labels = [label for label, name in enumerate(class_names) for _ in files[name]]
    channels = 1 if grayscale else 3
    if not images:  # a test split held out from classes of one image each
        return torch.empty(0, channels, image_size, image_size, dtype=torch.uint8), torch.empty(0, dtype=torch.int64)
    stacked = torch.from_numpy(np.stack(images)).reshape(len(images), image_size, image_size, channels)
    return stacked.permute(0, 3, 1, 2).contiguous(), torch.tensor(labels, dtype=torch.int64)


def _read_image(file: Path, image_size: int, grayscale: bool) -> np.ndarray:
    """One image as uint8 (image_size, image_size[, 3]): 8-bit L or RGB, center-cropped and resized."""
    with _open(file) as image:
        image.draft(None, (image_size, image_size))  # JPEGs decode at a reduced scale that is still large enough
        try:
            image.load()
        except (OSError, ValueError, Image.DecompressionBombError) as error:  # truncated, corrupt, or a bomb
            raise GanzooError(f"cannot read image {file}: {error}. Replace or remove the file.") from error
        image = ImageOps.exif_transpose(image)  # photos stored sideways with an orientation tag
        if grayscale:
            image = _to_8bit_gray(image)
        else:
            image = (image.convert("RGBA") if image.mode == "P" else image).convert("RGB")
        square = _center_square(image).resize((image_size, image_size), Image.Resampling.BILINEAR)
        return np.asarray(square, dtype=np.uint8)


def _center_square(image: Image.Image) -> Image.Image:
    # Cropped before resizing: resizing a region of the whole image would blur in pixels from outside it.
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    if image.mode in SIXTEEN_BIT_MODES:
        scaled = np.asarray(image, dtype=np.float32) * (255 / 65535)
        return Image.fromarray(scaled.round().clip(0, 255).astype(np.uint8))
    return image.convert("L")


def _open(file: Path) -> Image.Image:
    try:
        return Image.open(file)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise GanzooError(f"cannot read image {file}: {error}. Replace or remove the file.") from error
