"""Sample-quality metrics in the feature space of ganzoo's own evaluator (no downloaded Inception weights).

Each metric reads an ``EvalSet``: features and class probabilities of generated images (and of the real
test split) from the evaluator. Metrics are registered through the ``ganzoo_metrics`` hook like every
other component; one returns ``None`` where it does not apply (conditional accuracy of an
unconditional variant).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ganzoo.data import ImageData

NEIGHBOURS = 3  # k of the k-nearest-neighbour balls of precision and recall (Kynkäänniemi et al. 2019)


@dataclass
class EvalSet:
    """What the metrics read. ``labels`` are the requested classes of conditional samples, else None."""

    features: torch.Tensor  # (N, F) evaluator features of the evaluated images
    probabilities: torch.Tensor  # (N, C) evaluator class probabilities
    labels: torch.Tensor | None
    real_features: torch.Tensor  # (M, F) features of the real test split
    num_classes: int
    cas: Callable[[], float] | None = None  # trains a classifier on the evaluated images, tests on real data
    data: ImageData | None = None  # the dataset, for metrics that know its structure (e.g. a toy's modes)


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets, in float64.

    tr(sqrt(C_a C_b)) is computed as the sum of the square roots of the eigenvalues of the symmetric
    matrix sqrt(C_a) C_b sqrt(C_a), which has the same eigenvalues and is numerically stable.
    """
    a, b = a.double(), b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    values, vectors = torch.linalg.eigh(cov_a)
    sqrt_a = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
    trace_sqrt = torch.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a).clamp_min(0).sqrt().sum()
    return float((mean_a - mean_b).pow(2).sum() + cov_a.trace() + cov_b.trace() - 2 * trace_sqrt)


def inception_score(probabilities: torch.Tensor) -> float:
    """exp(E_x KL(p(y|x) || p(y))): high when each sample is confidently one class and all classes occur."""
    p = probabilities.double().clamp_min(1e-12)
    marginal = p.mean(0, keepdim=True)
    return math.exp(float((p * (p.log() - marginal.log())).sum(1).mean()))


def _kth_neighbour_radius(points: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    radii = []
    for start in range(0, points.shape[0], chunk):
        distances = torch.cdist(points[start : start + chunk], points)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # +1: the point itself is at distance 0
    return torch.cat(radii)


def _share_inside(queries: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 2048) -> float:
    inside = []
    for start in range(0, queries.shape[0], chunk):
        distances = torch.cdist(queries[start : start + chunk], centres)
        inside.append((distances <= radii[None, :]).any(dim=1))
    return float(torch.cat(inside).float().mean())


def manifold_share(queries: torch.Tensor, reference: torch.Tensor, k: int = NEIGHBOURS) -> float | None:
    """Share of ``queries`` inside the union of k-nearest-neighbour balls around ``reference`` points.

    Improved precision (Kynkäänniemi et al. 2019) is manifold_share(fake, real); recall is
    manifold_share(real, fake). None when ``reference`` has no more than k points (no k-th neighbour).
    """
    if reference.shape[0] <= k:
        return None
    reference = reference.float()
    return _share_inside(queries.float(), reference, _kth_neighbour_radius(reference, k))


def class_histogram_entropy(predictions: torch.Tensor, num_classes: int) -> float:
    counts = torch.bincount(predictions, minlength=num_classes).double()
    share = counts / counts.sum()
    return float(-(share[share > 0] * share[share > 0].log()).sum())


def fid(s: EvalSet) -> float:
    """FID in the evaluator's feature space (generated vs real test split; lower is better)."""
    return frechet_distance(s.features, s.real_features)


def inception(s: EvalSet) -> float:
    """Inception-style score from the evaluator's class probabilities (higher is better; at most N)."""
    return inception_score(s.probabilities)


def conditional_accuracy(s: EvalSet) -> float | None:
    """Share of conditional samples the evaluator assigns to their requested class."""
    if s.labels is None:
        return None
    return float((s.probabilities.argmax(1) == s.labels).float().mean())


def precision(s: EvalSet) -> float | None:
    """Improved precision (k = 3): share of samples inside the real data's manifold."""
    return manifold_share(s.features, s.real_features)


def recall(s: EvalSet) -> float | None:
    """Improved recall (k = 3): share of real test images inside the samples' manifold."""
    return manifold_share(s.real_features, s.features)


def class_coverage(s: EvalSet) -> float:
    """Share of classes the evaluator finds among the samples."""
    return float((torch.bincount(s.probabilities.argmax(1), minlength=s.num_classes) > 0).float().mean())


def class_entropy(s: EvalSet) -> float:
    """Entropy (nats) of the samples' predicted-class histogram; ln N when every class is equally common."""
    return class_histogram_entropy(s.probabilities.argmax(1), s.num_classes)


def cas(s: EvalSet) -> float | None:
    """Classification accuracy score (Ravuri & Vinyals 2019): a classifier trained on samples, tested on real data."""
    return s.cas() if s.cas is not None and s.labels is not None else None
