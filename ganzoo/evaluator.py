"""The evaluator, and the one place where samples meet metrics (``Scorer``).

The evaluator is a classifier of the dataset's real images. Its class probabilities and penultimate
features (128 units) are the spaces in which ``ganzoo.metrics`` compares generated and real images, so
evaluation needs no downloaded weights. MNIST's ships with ganzoo (``ganzoo/evaluators``, made by
``scripts/build_evaluators.py``), so every user's FID of the same samples is the same number; other
datasets get one trained on first use and cached (``$GANZOO_CACHE``, default ``~/.cache/ganzoo``). Both
are keyed by a hash of the training data, so another folder of images never reuses a cached evaluator.
The real-data row (training images scored against the test split: the ceiling) is cached beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from ganzoo.checkpoint import content_hash, load_checkpoint, load_module, module_tensors, save_checkpoint
from ganzoo.classifier import ConvClassifier, accuracy, fits, train_classifier
from ganzoo.data import ImageData, to_uint8, to_unit_range
from ganzoo.device import uses_bf16
from ganzoo.errors import GanzooError
from ganzoo.metrics import EvalSet
from ganzoo.registry import Entry
from ganzoo.rundir import write_atomically
from ganzoo.sampling import Latent, generate

CACHE_ENV = "GANZOO_CACHE"
# Samples are judged at MNIST's native size whatever size a variant trains at (ACGAN's seed recipe: 32x32),
# so that every variant is scored in one feature space.
EVALUATOR_IMAGE_SIZE = 28
VERSION = 2
# Training budget: ``epochs`` passes over the training split, kept within [min_steps, steps].
SETTINGS = {
    "epochs": 4,
    "min_steps": 300,
    "steps": 3000,
    "batch_size": 128,
    "lr": 2e-3,
    "width": 32,
    "shift": 2,
    "seed": 0,
}
CAS_SETTINGS = {"steps": 1000, "batch_size": 128, "lr": 2e-3, "width": 16}
SCORING_BATCH = 2000  # images per forward pass on a GPU; see scoring_batch

Progress = Callable[[str, int, int], None]  # (what, done, total)


def scoring_batch(device: torch.device | str) -> int:
    """Images per forward pass when scoring: a GPU wants large batches; a CPU is faster with batches whose
    activations stay in its caches (the evaluator embedded MNIST's test split 2x faster with 256 than with 2,000
    on a 2-core CPU, and the generators sample faster too)."""
    return SCORING_BATCH if torch.device(device).type == "cuda" else 256


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "ganzoo")


def data_fingerprint(data: ImageData) -> str:
    """A short hash of the training split (images and labels): what an evaluator was trained on."""
    return content_hash({"images": data.train_images.cpu(), "labels": data.train_labels.cpu()})[:16]


def evaluator_name(data: ImageData) -> str:
    return f"{data.name}-{data.image_shape[-1]}px-v{VERSION}-{data_fingerprint(data)}"


def shipped_evaluator_dir() -> Any:
    return resources.files("ganzoo") / "evaluators"


@dataclass
class Evaluator:
    model: nn.Module
    test_accuracy: float
    sha256: str = ""  # of the weights: which evaluator scored a report
    path: Path | None = None  # where it was loaded from (None: built in memory, e.g. a toy's exact one)
    _test_features: torch.Tensor | None = field(default=None, repr=False)

    @property
    def image_size(self) -> int:
        return self.model.image_shape[-1]

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Features and class probabilities of float images in [-1, 1], resized to the evaluator's size."""
        batch_size = batch_size or scoring_batch(images.device)
        on_cpu = images.device.type == "cpu"
        self.model.eval()
        if on_cpu:  # oneDNN's NHWC convolutions: with small batches, twice as fast as NCHW with 2,000
            self.model.to(memory_format=torch.channels_last)
        features, probabilities = [], []
        for start in range(0, images.shape[0], batch_size):
            batch = images[start : start + batch_size].float()
            if on_cpu:
                batch = batch.contiguous(memory_format=torch.channels_last)
            if batch.shape[-1] != self.image_size:
                batch = F.interpolate(
                    batch, size=(self.image_size,) * 2, mode="bilinear", antialias=True, align_corners=False
                )
            hidden = self.model.features(batch)
            features.append(hidden)
            probabilities.append(F.softmax(self.model.head(hidden), dim=1))
        return torch.cat(features), torch.cat(probabilities)

    def test_features(self, data: ImageData) -> torch.Tensor:
        """The real test split's features: computed once, and kept beside the evaluator (its file name holds the
        training data's hash; the test split's size is checked)."""
        if self._test_features is None:
            cache = cache_path_for(self.path.with_suffix(".test-features.safetensors")) if self.path else None
            if cache is not None and cache.is_file():
                try:
                    features = load_file(str(cache))["features"].to(data.test_images.device)
                    if features.shape[0] == data.test_images.shape[0]:
                        self._test_features = features
                except (SafetensorError, OSError, KeyError):
                    pass  # damaged: computed again below
            if self._test_features is None:
                self._test_features = self.embed(to_unit_range(data.test_images))[0]
                if cache is not None:
                    try:
                        cache.parent.mkdir(parents=True, exist_ok=True)
                        write_atomically(cache, save({"features": self._test_features.cpu().contiguous()}))
                    except OSError:
                        pass  # an unwritable cache: computed again next time
        return self._test_features


def train_evaluator(data: ImageData, progress: Progress | None = None) -> tuple[ConvClassifier, float]:
    """Train the evaluator on ``data``'s training split with ``SETTINGS``; returns it and its test accuracy.

    Deterministic for a given machine type and thread count (``scripts/build_evaluators.py`` pins both).
    """
    report = (lambda done, total: progress("training the evaluator", done, total)) if progress else None
    model = train_classifier(
        data.train_images,
        data.train_labels,
        data.num_classes,
        evaluator_steps(data),
        batch_size=SETTINGS["batch_size"],
        lr=SETTINGS["lr"],
        width=SETTINGS["width"],
        seed=SETTINGS["seed"],
        shift=SETTINGS["shift"],
        progress=report,
    )
    return model, accuracy(model, data.test_images, data.test_labels)


def evaluator_steps(data: ImageData) -> int:
    epochs = SETTINGS["epochs"] * data.train_images.shape[0] // SETTINGS["batch_size"]
    return max(SETTINGS["min_steps"], min(SETTINGS["steps"], epochs))


def load_evaluator(data: ImageData, log: Callable[[str], None] = print, progress: Progress | None = None) -> Evaluator:
    """The evaluator for ``data``: its exact one (toy mixtures), else the shipped one, else the cached one,
    else one trained now (about a minute on a CPU) and cached."""
    exact = data.exact_evaluator()
    if exact is not None:
        return exact
    name = evaluator_name(data)
    shipped = shipped_evaluator_dir() / f"{name}.safetensors"
    cached = cache_dir() / "evaluators" / f"{name}.safetensors"
    for candidate in (shipped, cached):
        if candidate.is_file():
            return read_evaluator(Path(str(candidate)), data)
    check_writable(cached.parent)
    log(f"training the {data.name} evaluator once ({evaluator_steps(data)} steps); it is cached at {cached}")
    model, test_accuracy = train_evaluator(data, progress)
    write_evaluator(cached, model, test_accuracy, data)
    log(f"{data.name} evaluator test accuracy: {test_accuracy:.4f}")
    return read_evaluator(cached, data)


load_or_train_evaluator = load_evaluator  # the name ganzoo 0.1 used


def write_evaluator(path: Path, model: nn.Module, test_accuracy: float, data: ImageData) -> None:
    save_checkpoint(
        path,
        module_tensors("C", model),
        {
            "recipe": {"evaluator": SETTINGS},
            "test_accuracy": test_accuracy,
            "dataset": data.name,
            "image_shape": list(data.image_shape),
            "num_classes": data.num_classes,
            "data_fingerprint": data_fingerprint(data),
        },
        shared=True,  # two processes may train the same evaluator at once
    )


def read_evaluator(path: Path, data: ImageData) -> Evaluator:
    tensors, metadata = load_checkpoint(path, required={"test_accuracy": float})
    model = ConvClassifier(data.image_shape, data.num_classes, SETTINGS["width"]).to(data.train_images.device)
    load_module(model, tensors, "C", path)
    return Evaluator(model.eval(), metadata["test_accuracy"], sha256=file_sha256(path), path=path)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_writable(folder: Path) -> None:
    """Fail before minutes of work if the cache cannot be written (``$GANZOO_CACHE`` a file, read-only, ...)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise GanzooError(
            f"cannot write ganzoo's cache folder {folder} ({error.strerror or error}). Point "
            f"${CACHE_ENV} at a writable folder."
        ) from None


class Scorer:
    """Scores images, generators and the real data with one evaluator and one set of metrics.

    ``metrics`` maps names to registry entries (``registries.metrics.entry(name)``).
    """

    def __init__(
        self,
        evaluator: Evaluator,
        data: ImageData,
        metrics: Mapping[str, Entry],
        progress: Progress | None = None,
        cas_steps: int = CAS_SETTINGS["steps"],
    ):
        self.evaluator, self.data, self.metrics, self.progress = evaluator, data, dict(metrics), progress
        self.cas_steps = cas_steps

    @property
    def min_samples(self) -> int:
        return max((entry.min_samples for entry in self.metrics.values()), default=1)

    def check_count(self, count: int, what: str = "--n") -> None:
        if count < self.min_samples:
            needy = [name for name, entry in self.metrics.items() if entry.min_samples > count]
            raise GanzooError(
                f"{what} {count} is too few samples for {', '.join(needy)}: use at least {self.min_samples}."
            )

    def eval_set(self, images: torch.Tensor, labels: torch.Tensor | None) -> EvalSet:
        """What the metrics read for ``images`` (float, [-1, 1]) judged against the real test split."""
        features, probabilities = self.evaluator.embed(images)
        data = self.data

        def classification_accuracy_score() -> float:
            resized = (
                images
                if images.shape[-1] == data.image_shape[-1]
                else F.interpolate(
                    images.float(), size=data.image_shape[1:], mode="bilinear", antialias=True, align_corners=False
                )
            )
            report = (
                (lambda done, total: self.progress("training the CAS classifier", done, total))
                if self.progress
                else None
            )
            model = train_classifier(
                to_uint8(resized),
                labels,
                data.num_classes,
                self.cas_steps,
                batch_size=CAS_SETTINGS["batch_size"],
                lr=CAS_SETTINGS["lr"],
                width=CAS_SETTINGS["width"],
                progress=report,
                fast=True,
            )
            return accuracy(model, data.test_images, data.test_labels)

        cas = classification_accuracy_score if fits(images.shape[1:]) and labels is not None else None
        return EvalSet(features, probabilities, labels, self.evaluator.test_features(data), data.num_classes, cas, data)

    def score(self, images: torch.Tensor, labels: torch.Tensor | None) -> dict[str, float | None]:
        evaluated = self.eval_set(images, labels)
        return {name: entry.value(evaluated) for name, entry in self.metrics.items()}

    def score_generator(
        self,
        generator: nn.Module,
        latent: Latent | int,
        conditional: bool,
        count: int,
        seed: int,
        device: torch.device | str,
    ) -> dict[str, float | None]:
        """``count`` fresh samples (labels cycling through the classes for a conditional G), scored."""
        self.check_count(count)
        labels = torch.arange(count, device=device) % self.data.num_classes if conditional else None
        report = (lambda done, total: self.progress("sampling", done, total)) if self.progress else None
        samples = generate(
            generator, count, latent, labels, seed, device, batch_size=scoring_batch(device), progress=report
        )
        return self.score(samples, labels)

    def score_real(self, count: int, seed: int = 0) -> dict[str, float | None]:
        """The real-data row: ``count`` training images scored like samples. Cached beside the evaluator."""
        self.check_count(count)
        cache = cache_path_for(self.evaluator.path.with_suffix(".real.json")) if self.evaluator.path else None
        # CAS trains in bf16 where bf16 is native: a row cached by another precision is not reused
        cas_precision = "bf16" if uses_bf16("auto", self.data.train_images.device) else "fp32"
        key = f"n={count} seed={seed} cas={cas_precision}"
        stored = json.loads(cache.read_text()) if cache is not None and cache.is_file() else {}
        known = stored.get(key, {})
        missing = {name: entry for name, entry in self.metrics.items() if name not in known}
        if missing:
            pick = torch.randperm(self.data.train_images.shape[0], generator=torch.Generator().manual_seed(seed))[
                :count
            ]
            pick = pick.to(self.data.train_images.device)
            evaluated = self.eval_set(to_unit_range(self.data.train_images[pick]), self.data.train_labels[pick])
            known.update({name: entry.value(evaluated) for name, entry in missing.items()})
            stored[key] = known
            if cache is not None:
                try:
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    write_atomically(cache, json.dumps(stored, indent=1).encode())
                except OSError:
                    pass  # an unwritable cache: the row is recomputed next time
        return {name: known[name] for name in self.metrics}


def cache_path_for(path: Path) -> Path:
    """Where to write a file that belongs beside ``path``: there, or in the cache when ``path`` is shipped."""
    shipped = Path(str(shipped_evaluator_dir()))
    return cache_dir() / "evaluators" / path.name if shipped in path.parents else path
