"""The built-in datasets: MNIST-format files, CIFAR-10's binary files, image folders and procedural shapes.

The file-based loaders read small fake files written here in the real formats, so no download is needed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo import GanzooError
from ganzoo.build import load_dataset
from ganzoo.classifier import accuracy, train_classifier
from ganzoo.config import DataConfig
from ganzoo.datasets import cifar
from ganzoo.datasets.cifar import load_cifar10
from ganzoo.datasets.folder import load_image_folder
from ganzoo.datasets.mnist import FASHION_CLASSES, MNIST_FILES, load_fashion_mnist, load_mnist
from ganzoo.datasets.shapes import load_shapes
from ganzoo.plugins import get_registries


def test_all_datasets_are_registered():
    datasets = get_registries().datasets
    for name in ("mnist", "fashion_mnist", "cifar10", "imagefolder", "shapes"):
        assert name in datasets


# --- MNIST and Fashion-MNIST ------------------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes: magic 0x0000 08 NDIM, big-endian sizes, then the data."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_fake_mnist(raw: Path, train: int = 20, test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (train, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(train) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, 28, 28)),
        "t10k-labels-idx1-ubyte": (np.arange(test) * 3) % 10,
    }
    raw.mkdir(parents=True)
    for name, array in arrays.items():
        write_idx(raw / name, array)
    return arrays


@pytest.mark.parametrize("loader, folder", [(load_fashion_mnist, "FashionMNIST"), (load_mnist, "MNIST")])
def test_idx_datasets_read_torchvision_layout(tmp_path, loader, folder):
    written = write_fake_mnist(tmp_path / folder / "raw")
    data = loader(tmp_path, image_size=28, download=False)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    assert data.train_images.shape == (20, 1, 28, 28) and data.test_images.shape == (10, 1, 28, 28)
    assert torch.equal(data.train_images[:, 0], torch.from_numpy(written["train-images-idx3-ubyte"]).to(torch.uint8))
    assert data.train_labels.tolist() == written["train-labels-idx1-ubyte"].tolist()
    assert data.test_labels.tolist() == written["t10k-labels-idx1-ubyte"].tolist()
    assert data.num_classes == 10 and len(data.class_names) == 10

    resized = loader(tmp_path, image_size=32, download=False)
    assert resized.train_images.shape == (20, 1, 32, 32) and resized.train_images.dtype == torch.uint8
    assert torch.equal(resized.train_labels, data.train_labels)


def test_fashion_mnist_has_its_own_name_and_classes(tmp_path):
    write_fake_mnist(tmp_path / "FashionMNIST" / "raw")
    data = load_fashion_mnist(tmp_path, image_size=28, download=False)
    assert data.name == "fashion_mnist"
    assert data.class_names == FASHION_CLASSES and data.class_names[0] == "T-shirt/top"


def test_fashion_mnist_missing_files_name_the_folder(tmp_path):
    with pytest.raises(GanzooError, match="downloading is off") as error:
        load_fashion_mnist(tmp_path, image_size=28, download=False)
    assert str(tmp_path / "FashionMNIST" / "raw") in str(error.value)
    assert all(name in str(error.value) for name in MNIST_FILES)


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    write_fake_mnist(raw)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(GanzooError, match="Fashion-MNIST could not be loaded"):
        load_fashion_mnist(tmp_path, image_size=28, download=False)


# --- CIFAR-10 ----------------------------------------------------------------------------------------------


def write_cifar_batch(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    records = np.concatenate([labels.reshape(-1, 1), images.reshape(len(labels), -1)], axis=1).astype(np.uint8)
    path.write_bytes(records.tobytes())


@pytest.fixture
def fake_cifar(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    """Five train batches of 3 images and a test batch of 4; train image 0 is pure red-ish (255, 0, 128)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (19, 3, 32, 32)).astype(np.uint8)
    images[0] = np.array([255, 0, 128], dtype=np.uint8).reshape(3, 1, 1)
    labels = np.arange(19) % 10
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for k, name in enumerate(cifar.TRAIN_FILES):
        write_cifar_batch(folder / name, images[3 * k : 3 * k + 3], labels[3 * k : 3 * k + 3])
    write_cifar_batch(folder / "test_batch.bin", images[15:], labels[15:])
    return tmp_path, images, labels


def test_cifar10_decodes_binary_records(fake_cifar):
    root, images, labels = fake_cifar
    data = load_cifar10(root, image_size=32, download=False)
    assert data.train_images.shape == (15, 3, 32, 32) and data.test_images.shape == (4, 3, 32, 32)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    assert torch.equal(data.train_images, torch.from_numpy(images[:15]))
    assert torch.equal(data.test_images, torch.from_numpy(images[15:]))
    assert data.train_labels.tolist() == labels[:15].tolist() and data.test_labels.tolist() == labels[15:].tolist()
    # Channel order: the file stores the red plane first.
    assert data.train_images[0, :, 5, 7].tolist() == [255, 0, 128]
    assert data.class_names[0] == "airplane" and data.class_names[9] == "truck" and data.num_classes == 10


def test_cifar10_resizes_and_defaults_to_32(fake_cifar):
    root, _, labels = fake_cifar
    data = load_cifar10(root, image_size=16, download=False)
    assert data.train_images.shape == (15, 3, 16, 16)
    assert (data.train_images[0, 0] == 255).all() and (data.train_images[0, 2] == 128).all()  # flat colour stays flat
    assert get_registries().datasets.entry("cifar10").recipe_defaults == {"data.image_size": 32}  # its registry spec


def test_cifar10_truncated_file_is_a_clear_error(fake_cifar):
    root, _, _ = fake_cifar
    batch = root / "cifar-10-batches-bin" / "data_batch_3.bin"
    batch.write_bytes(batch.read_bytes()[:-1000])
    with pytest.raises(GanzooError, match="truncated") as error:
        load_cifar10(root, image_size=32, download=False)
    assert "data_batch_3.bin" in str(error.value)


def test_cifar10_bad_label_is_a_clear_error(fake_cifar):
    root, images, _ = fake_cifar
    write_cifar_batch(root / "cifar-10-batches-bin" / "test_batch.bin", images[:2], np.array([3, 10]))
    with pytest.raises(GanzooError, match="label 10"):
        load_cifar10(root, image_size=32, download=False)


def test_cifar10_downloads_the_binary_archive_when_missing(tmp_path, monkeypatch):
    import torchvision.datasets.utils as utils

    calls = []

    def fake_download(url, download_root, md5):
        calls.append((url, md5))
        folder = Path(download_root) / "cifar-10-batches-bin"
        folder.mkdir()
        for name in cifar.ALL_FILES:
            write_cifar_batch(folder / name, np.zeros((2, 3, 32, 32)), np.array([1, 2]))

    monkeypatch.setattr(utils, "download_and_extract_archive", fake_download)
    data = load_cifar10(tmp_path, image_size=32, download=True)
    assert calls == [(cifar.URL, "c32a1d4ab5d03f1284b67883e8d87530")] and data.train_images.shape == (10, 3, 32, 32)

    def no_network(url, download_root, md5):
        raise OSError("network unreachable")

    monkeypatch.setattr(utils, "download_and_extract_archive", no_network)
    with pytest.raises(GanzooError, match="download failed: network unreachable"):
        load_cifar10(tmp_path / "elsewhere", image_size=32, download=True)


def test_cifar10_missing_files_name_the_folder(tmp_path):
    with pytest.raises(GanzooError, match="downloading is off") as error:
        load_cifar10(tmp_path, image_size=32, download=False)
    message = str(error.value)
    assert str(tmp_path / "cifar-10-batches-bin") in message and "data_batch_1.bin" in message
    assert "--data-root" in message and "GANZOO_DATA" in message


# --- Image folders -----------------------------------------------------------------------------------------

COLOURS = {"blue": (0, 0, 255), "green": (0, 255, 0), "red": (255, 0, 0)}


def write_images(folder: Path, count: int, colour, mode: str = "RGB", suffix: str = ".png", size=(40, 30)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        Image.new(mode, size, colour).save(folder / f"{k:03d}{suffix}")


def test_image_folder_classes_splits_and_colour(tmp_path):
    write_images(tmp_path / "red", 20, COLOURS["red"], suffix=".jpg")
    write_images(tmp_path / "green", 10, COLOURS["green"])
    write_images(tmp_path / "blue", 5, COLOURS["blue"], mode="RGBA", suffix=".webp")
    (tmp_path / "red" / "notes.txt").write_text("not an image")
    (tmp_path / "red" / "._000.jpg").write_bytes(b"macOS metadata, not an image")

    data = load_image_folder(tmp_path, image_size=16, download=False, path=tmp_path)
    assert data.class_names == ("blue", "green", "red") and data.num_classes == 3
    assert data.train_images.shape[1:] == (3, 16, 16) and data.train_images.dtype == torch.uint8
    assert data.train_labels.dtype == torch.int64
    # ~10 % held out per class: 20 -> 2, 10 -> 1, 5 -> 1 (round(0.5) is 0, but every class gets one).
    assert torch.bincount(data.test_labels, minlength=3).tolist() == [1, 1, 2]
    assert torch.bincount(data.train_labels, minlength=3).tolist() == [4, 9, 18]
    for label, name in enumerate(data.class_names):
        mean_colour = data.train_images[data.train_labels == label].float().mean((0, 2, 3))
        assert mean_colour.argmax().item() == COLOURS[name].index(255), name

    again = load_image_folder(tmp_path, image_size=16, download=False, path=tmp_path)
    assert torch.equal(again.train_images, data.train_images) and torch.equal(again.test_labels, data.test_labels)


def test_image_folder_center_crops_to_square(tmp_path):
    image = Image.new("L", (60, 20), 0)
    image.paste(255, (20, 0, 40, 20))  # only the middle 20x20 square is white
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        image.save(tmp_path / name / "wide.png")
    data = load_image_folder(tmp_path, image_size=8, download=False, path=tmp_path)
    assert data.train_images.shape == (2, 1, 8, 8)
    assert (data.train_images == 255).all()


def test_image_folder_grayscale_only_when_every_image_is(tmp_path):
    write_images(tmp_path / "dark", 4, 40, mode="L")
    Image.fromarray(np.full((30, 30), 65535, dtype=np.uint16)).save(tmp_path / "dark" / "sixteen-bit.png")
    write_images(tmp_path / "light", 4, 200, mode="L", suffix=".bmp")
    gray = load_image_folder(tmp_path, image_size=8, download=False, path=tmp_path)
    assert gray.train_images.shape[1] == 1 and gray.test_images.shape[1] == 1
    assert set(torch.cat([gray.train_images, gray.test_images]).unique().tolist()) == {40, 200, 255}  # 16 bits scaled

    write_images(tmp_path / "light", 1, (200, 10, 10), suffix=".gif")  # one colour image makes the set RGB
    colour = load_image_folder(tmp_path, image_size=8, download=False, path=tmp_path)
    assert colour.train_images.shape[1] == 3


def test_image_folder_train_test_layout(tmp_path):
    for split, count in (("train", 6), ("test", 2)):
        write_images(tmp_path / split / "cats", count, (250, 200, 0))
        write_images(tmp_path / split / "dogs", count + 1, (0, 0, 250))
    data = load_image_folder(tmp_path, image_size=8, download=False, path=tmp_path)
    assert data.class_names == ("cats", "dogs")
    assert data.train_labels.tolist() == [0] * 6 + [1] * 7 and data.test_labels.tolist() == [0] * 2 + [1] * 3

    write_images(tmp_path / "test" / "birds", 1, (0, 0, 0))
    with pytest.raises(GanzooError, match="same class subfolders"):
        load_image_folder(tmp_path, image_size=8, download=False, path=tmp_path)


def test_image_folder_through_recipe_data_path(tmp_path):
    write_images(tmp_path / "one", 3, (10, 20, 30))
    write_images(tmp_path / "two", 3, (30, 20, 10))
    data = load_dataset(get_registries(), DataConfig(name="imagefolder", path=str(tmp_path), image_size=8))
    assert data.class_names == ("one", "two") and data.train_images.shape == (4, 3, 8, 8)


def test_image_folder_class_of_one_image_stays_in_train(tmp_path):
    write_images(tmp_path / "single", 1, (255, 255, 255))
    write_images(tmp_path / "pair", 2, (0, 0, 0))
    data = load_image_folder(tmp_path, image_size=8, download=False, path=tmp_path)
    assert data.train_labels.tolist() == [0, 1] and data.test_labels.tolist() == [0]


def no_class_subfolders(root: Path) -> Path:
    write_images(root / "flat" / ".hidden", 1, 0, mode="L")  # hidden folders are not classes
    Image.new("L", (8, 8)).save(root / "flat" / "loose.png")
    return root / "flat"


def an_empty_class(root: Path) -> Path:
    write_images(root / "full", 2, 0, mode="L")
    (root / "empty").mkdir()
    return root


def a_corrupt_image(root: Path) -> Path:
    write_images(root / "ok", 2, 0, mode="L")
    (root / "ok" / "broken.png").write_bytes(b"not a png")
    return root


@pytest.mark.parametrize(
    "prepare, message",
    [
        (lambda root: None, r"--set data\.path=FOLDER"),
        (lambda root: root / "nowhere", "does not exist"),
        (no_class_subfolders, "no class subfolders"),
        (an_empty_class, "empty has no images"),
        (a_corrupt_image, "broken.png"),
    ],
    ids=["no-path", "missing-folder", "no-classes", "empty-class", "corrupt-image"],
)
def test_image_folder_errors(tmp_path, prepare, message):
    with pytest.raises(GanzooError, match=message):
        load_image_folder(tmp_path, image_size=8, download=False, path=prepare(tmp_path))


def test_image_folder_truncated_image_names_the_file(tmp_path):
    write_images(tmp_path / "cats", 2, (1, 2, 3), suffix=".jpg", size=(64, 64))
    photo = tmp_path / "cats" / "001.jpg"
    photo.write_bytes(photo.read_bytes()[:200])
    with pytest.raises(GanzooError, match="001.jpg"):
        load_image_folder(tmp_path, image_size=8, download=False, path=tmp_path)


# --- Shapes ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shapes28():
    return load_shapes(Path("unused"), image_size=28, download=False)


def test_shapes_sizes_dtypes_and_balance(shapes28):
    data = shapes28
    assert data.train_images.shape == (20_000, 1, 28, 28) and data.test_images.shape == (2_000, 1, 28, 28)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    assert torch.bincount(data.train_labels).tolist() == [2_000] * 10
    assert torch.bincount(data.test_labels).tolist() == [200] * 10
    assert data.num_classes == 10 and len(set(data.class_names)) == 10


def test_shapes_are_deterministic_and_leave_the_global_rng_alone(shapes28):
    torch.manual_seed(123)
    global_state = torch.get_rng_state()
    again = load_shapes(Path("elsewhere"), image_size=28, download=True)
    assert torch.equal(torch.get_rng_state(), global_state)
    for field in ("train_images", "train_labels", "test_images", "test_labels"):
        assert torch.equal(getattr(again, field), getattr(shapes28, field)), field
    assert not torch.equal(shapes28.train_images[:2_000], shapes28.test_images)


@pytest.mark.parametrize("size", [8, 16, 32])
def test_shapes_render_at_the_requested_size(size):
    data = load_shapes(Path("unused"), image_size=size, download=False)
    assert data.train_images.shape == (20_000, 1, size, size) and data.test_images.shape == (2_000, 1, size, size)
    assert data.train_images.flatten(1).amax(1).min() > 50  # every image shows its shape, small ones too


def test_shapes_image_size_below_minimum_is_an_error():
    with pytest.raises(GanzooError, match="image_size >= 8"):
        load_shapes(Path("unused"), image_size=4, download=False)


def test_shapes_classes_differ_and_vary(shapes28):
    images, labels = shapes28.train_images.float(), shapes28.train_labels
    means = torch.stack([images[labels == k].mean(0).flatten() for k in range(10)])
    assert torch.cdist(means, means).add(torch.eye(10) * 1e9).min() > 100  # no two classes look alike on average
    for k in range(10):
        members = shapes28.train_images[labels == k].flatten(1)
        assert torch.unique(members, dim=0).shape[0] == members.shape[0]  # no image repeats within a class
    assert len(shapes28.train_images.unique()) > 200  # anti-aliased edges and varied brightness, not binary masks


def test_shapes_are_learnable(shapes28):
    data = shapes28
    model = train_classifier(data.train_images, data.train_labels, 10, steps=300, batch_size=128, lr=2e-3, width=16)
    test_accuracy = accuracy(model, data.test_images, data.test_labels)
    print(f"shapes classifier test accuracy: {test_accuracy:.4f}")
    assert test_accuracy >= 0.95


@pytest.mark.parametrize("dataset", ["cifar10", "imagefolder"])
def test_a_run_trains_end_to_end_on_colour_data(dataset, fake_cifar, tmp_path):
    """`ganzoo run` on fake CIFAR-10 files (with the built-in acgan-cifar10 recipe) and on a user's image folder."""
    from click.testing import CliRunner

    from ganzoo.cli import main

    root, _, _ = fake_cifar
    args = [
        "run",
        "acgan",
        "--dataset",
        dataset,
        "--data-root",
        str(root),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--out",
        str(tmp_path / "run"),
        "--quiet",
        "--set",
        "model.generator_width=16",
    ]
    if dataset == "imagefolder":
        for name, colour in COLOURS.items():
            write_images(tmp_path / "images" / name, 6, colour)
        args += ["--set", f"data.path={tmp_path / 'images'}", "--set", "data.image_size=32"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    recipe = (tmp_path / "run" / "recipe.toml").read_text()
    assert f'name = "{dataset}"' in recipe and "image_size = 32" in recipe
    assert Image.open(tmp_path / "run" / "samples" / "step_0000002.png").mode == "RGB"
