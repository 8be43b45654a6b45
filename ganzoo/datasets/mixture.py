"""2-D Gaussian mixtures: the toy on which mode collapse is visible and can be counted.

``ring8`` has 8 modes on a circle and ``grid25`` 25 modes on a 5x5 grid (the benchmarks of Metz et al.
2017 and Srivastava et al. 2017), scaled into the generators' [-1, 1] range. The points are held as
float "images" of shape (N, 2, 1, 1), so every architecture that accepts any shape (``mlp``,
``mlp-sn``) trains on them through the ordinary loop; the label of a point is its mode, so conditional
variants work too. Sample previews are scatter plots.

The mixture's density is known, so evaluation needs no trained classifier: the evaluator's class
probabilities are the exact posterior over modes, its features are the points themselves. Two metrics
read the mixture directly: ``modes_covered`` and ``high_quality_share``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from ganzoo.data import ImageData
from ganzoo.metrics import EvalSet

TRAIN_POINTS, TEST_POINTS = 50_000, 10_000
HIGH_QUALITY_STDS = 3.0  # a sample within 3 standard deviations of a mode is "high quality"
COVERED_SHARE = 0.2  # a mode is covered by at least 20 % of its fair share (N / K) of high-quality samples
RECIPE_DEFAULTS = {
    "data.image_size": 1,  # unused: points have no size
    "model.generator": "mlp",
    "model.discriminator": "mlp",
    "model.latent_dim": 16,
    "model.generator_width": 32,
    "model.discriminator_width": 128,
    "train.batch_size": 256,
    "train.steps": 3000,
    "train.lr_generator": 1e-3,
    "train.lr_discriminator": 1e-3,
    "train.log_every": 100,
    "train.sample_every": 500,
    "train.eval_metrics": ["modes_covered", "high_quality_share"],  # exact on a known mixture, and cheap
}


@dataclass
class MixtureData(ImageData):
    """Points of a Gaussian mixture with equal weights: ``centres`` (K, 2) and one isotropic ``std``."""

    centres: torch.Tensor | None = None
    std: float = 0.02

    def exact_evaluator(self) -> MixtureEvaluator:
        return MixtureEvaluator(self.centres, self.std, self.test_images, self.test_labels)


class MixtureEvaluator:
    """The evaluator for a mixture: features are the points, probabilities the exact posterior over modes."""

    path = None  # nothing on disk: it is exact
    sha256 = "exact"

    def __init__(self, centres: torch.Tensor, std: float, test_points: torch.Tensor, test_labels: torch.Tensor):
        self.centres, self.std = centres, std
        _, posterior = self.embed(test_points)
        self.test_accuracy = float((posterior.argmax(1) == test_labels).float().mean())  # the Bayes accuracy

    def test_features(self, data: ImageData) -> torch.Tensor:
        return data.test_images.float().flatten(1)

    @torch.no_grad()
    def embed(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = points.float().flatten(1)
        distances = torch.cdist(flat, self.centres.to(flat.device))
        return flat, torch.softmax(-distances.pow(2) / (2 * self.std**2), dim=1)


def sample_mixture(
    centres: torch.Tensor, std: float, count: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.randint(centres.shape[0], (count,), generator=generator)
    points = centres[labels] + std * torch.randn(count, 2, generator=generator)
    return points.view(count, 2, 1, 1), labels


def make_mixture(name: str, centres: torch.Tensor, std: float, seed: int) -> MixtureData:
    generator = torch.Generator().manual_seed(seed)
    train_points, train_labels = sample_mixture(centres, std, TRAIN_POINTS, generator)
    test_points, test_labels = sample_mixture(centres, std, TEST_POINTS, generator)
    return MixtureData(
        name,
        train_points,
        train_labels,
        test_points,
        test_labels,
        centres.shape[0],
        class_names=tuple(f"mode {k}" for k in range(centres.shape[0])),
        centres=centres,
        std=std,
    )


def load_ring8(root: Path, image_size: int = 1, download: bool = True) -> MixtureData:
    """8 Gaussians on a ring of radius 0.8 (std 0.02): 2-D toy for mode collapse; no download."""
    angles = torch.arange(8) * (2 * math.pi / 8)
    return make_mixture("ring8", 0.8 * torch.stack([angles.cos(), angles.sin()], dim=1), 0.02, seed=8)


def load_grid25(root: Path, image_size: int = 1, download: bool = True) -> MixtureData:
    """25 Gaussians on a 5x5 grid over [-0.8, 0.8]² (std 0.02): 2-D toy for mode collapse; no download."""
    ticks = torch.linspace(-0.8, 0.8, 5)
    return make_mixture("grid25", torch.cartesian_prod(ticks, ticks), 0.02, seed=25)


def high_quality_modes(points: torch.Tensor, centres: torch.Tensor, std: float) -> torch.Tensor:
    """For each point, the index of the mode it is a high-quality sample of, or -1."""
    distances = torch.cdist(points.float().flatten(1), centres.to(points.device))
    nearest, mode = distances.min(dim=1)
    return torch.where(nearest <= HIGH_QUALITY_STDS * std, mode, torch.full_like(mode, -1))


def modes_covered(s: EvalSet) -> float | None:
    """Gaussian-mixture toys: modes with at least 20 % of their fair share of high-quality samples."""
    if not isinstance(s.data, MixtureData):
        return None
    centres = s.data.centres
    modes = high_quality_modes(s.features, centres, s.data.std)
    counts = torch.bincount(modes[modes >= 0], minlength=centres.shape[0])
    return float((counts >= COVERED_SHARE * modes.numel() / centres.shape[0]).sum())


def high_quality_share(s: EvalSet) -> float | None:
    """Gaussian-mixture toys: share of samples within 3 standard deviations of some mode."""
    if not isinstance(s.data, MixtureData):
        return None
    return float((high_quality_modes(s.features, s.data.centres, s.data.std) >= 0).float().mean())
