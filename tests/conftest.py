"""Shared fixtures. MNIST comes from $GANZOO_DATA, else ../shared/datasets beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from ganzoo.datasets.mnist import MNIST_FILES

REPO = Path(__file__).resolve().parents[1]

if "PYTEST_XDIST_WORKER_COUNT" in os.environ:  # pytest -n N: share the cores instead of oversubscribing them
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))


@pytest.fixture(autouse=True)
def terminal_width_of_a_pipe(monkeypatch):
    """pytest-xdist's workers export COLUMNS=80 and LINES=24; ganzoo reads COLUMNS as the user's chosen width, so
    without this the tests would see tables wrapped as on an 80-column terminal only when run in parallel."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


def mnist_root() -> Path | None:
    candidates = [os.environ.get("GANZOO_DATA"), REPO.parent / "shared" / "datasets"]
    for candidate in candidates:
        if candidate and all((Path(candidate) / "MNIST" / "raw" / name).exists() for name in MNIST_FILES):
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = mnist_root()
    if root is None:
        pytest.skip("MNIST not found: set GANZOO_DATA to a folder with MNIST/raw/ (the four IDX files)")
    return root


@pytest.fixture(scope="session")
def mnist(data_root):
    from ganzoo.datasets.mnist import load_mnist

    return load_mnist(data_root, image_size=28, download=False)


@pytest.fixture(scope="session")
def mnist_judge(mnist):
    """An MNIST classifier that no GAN under test ever sees, to judge samples: the evaluator that ships with ganzoo
    (trained on the real training split by scripts/build_evaluators.py), so no test session trains one."""
    from ganzoo.classifier import accuracy
    from ganzoo.evaluator import load_evaluator

    model = load_evaluator(mnist).model
    test_accuracy = accuracy(model, mnist.test_images, mnist.test_labels)
    assert test_accuracy >= 0.97, f"the judge classifier is too weak to judge samples: {test_accuracy:.4f}"
    return model


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)


@pytest.fixture(scope="session", autouse=True)
def _shared_cache(tmp_path_factory):
    """One cache folder for the whole session (evaluators trained once, shared by every test and subprocess);
    never the user's ~/.cache."""
    os.environ["GANZOO_CACHE"] = str(tmp_path_factory.mktemp("ganzoo-cache"))
    yield
