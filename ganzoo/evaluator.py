"""The evaluator: a classifier ganzoo trains once on a dataset's real training split, then caches.

Its class probabilities and penultimate features (128 units) are the spaces in which the metrics of
``ganzoo.metrics`` compare generated and real images, so evaluation needs no downloaded weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ganzoo.checkpoint import load_checkpoint, load_module, module_tensors, save_checkpoint
from ganzoo.classifier import ConvClassifier, accuracy, fits, train_classifier
from ganzoo.data import ImageData, to_uint8, to_unit_range
from ganzoo.metrics import EvalSet

CACHE_ENV = "GANZOO_CACHE"
# Samples are judged at MNIST's native size whatever size a variant trains at (ACGAN's recipe: 32x32), so
# that every variant is scored in one feature space.
EVALUATOR_IMAGE_SIZE = 28
SETTINGS = {"steps": 2000, "batch_size": 128, "lr": 2e-3, "width": 32}


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "ganzoo")


@dataclass
class Evaluator:
    model: ConvClassifier
    test_accuracy: float

    @property
    def image_size(self) -> int:
        return self.model.image_shape[-1]

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
        """Features and class probabilities of float images in [-1, 1], resized to the evaluator's size."""
        self.model.eval()
        features, probabilities = [], []
        for start in range(0, images.shape[0], batch_size):
            batch = images[start : start + batch_size].float()
            if batch.shape[-1] != self.image_size:
                batch = F.interpolate(batch, size=(self.image_size,) * 2, mode="bilinear", antialias=True, align_corners=False)
            hidden = self.model.features(batch)
            features.append(hidden)
            probabilities.append(F.softmax(self.model.net[-1](hidden), dim=1))
        return torch.cat(features), torch.cat(probabilities)


def load_or_train_evaluator(data: ImageData, log=print) -> Evaluator:
    """The cached evaluator for ``data`` (trained on its training split on first use, about 2 minutes on CPU).

    Datasets whose evaluator is known in closed form (the toy mixtures) supply it instead.
    """
    exact = data.exact_evaluator()
    if exact is not None:
        return exact
    path = cache_dir() / "evaluators" / f"{data.name}-{data.image_shape[-1]}px-v1.safetensors"
    model = ConvClassifier(data.image_shape, data.num_classes, SETTINGS["width"]).to(data.train_images.device)
    if path.is_file():
        tensors, metadata = load_checkpoint(path)
        load_module(model, tensors, "C", path)
        return Evaluator(model.eval(), metadata["test_accuracy"])
    log(f"training the {data.name} evaluator once ({SETTINGS['steps']} steps); it is cached at {path}")
    model = train_classifier(data.train_images, data.train_labels, data.num_classes, SETTINGS["steps"],
                             batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"], width=SETTINGS["width"])
    test_accuracy = accuracy(model, data.test_images, data.test_labels)
    save_checkpoint(path, module_tensors("C", model), {"recipe": {"evaluator": SETTINGS}, "test_accuracy": test_accuracy})
    log(f"{data.name} evaluator test accuracy: {test_accuracy:.4f}")
    return Evaluator(model, test_accuracy)


def eval_set(evaluator: Evaluator, images: torch.Tensor, labels: torch.Tensor | None, data: ImageData,
             cas_steps: int = 1000) -> EvalSet:
    """What the metrics read for ``images`` (float, [-1, 1]) judged against ``data``'s real test split."""
    features, probabilities = evaluator.embed(images)
    real_features, _ = evaluator.embed(to_unit_range(data.test_images))

    def classification_accuracy_score() -> float:
        resized = images if images.shape[-1] == data.image_shape[-1] else F.interpolate(
            images.float(), size=data.image_shape[1:], mode="bilinear", antialias=True, align_corners=False)
        model = train_classifier(to_uint8(resized), labels, data.num_classes, cas_steps, batch_size=128, lr=2e-3, width=16)
        return accuracy(model, data.test_images, data.test_labels)

    return EvalSet(features, probabilities, labels, real_features, data.num_classes,
                   classification_accuracy_score if fits(images.shape[1:]) else None, data)
