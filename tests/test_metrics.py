"""Every metric against a case with a known answer."""

import math

import pytest
import torch

from ganzoo.classifier import accuracy
from ganzoo.data import to_unit_range
from ganzoo.evaluator import Evaluator, Scorer
from ganzoo.metrics import EvalSet, class_histogram_entropy, frechet_distance, inception_score, manifold_share
from ganzoo.plugins import get_registries


def gaussian(n, dim, mean, std, seed):
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * std + mean


def test_fid_of_a_set_with_itself_is_zero():
    features = gaussian(5000, 8, 0.0, 1.0, 0)
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_fid_between_two_gaussians_matches_the_closed_form():
    # N(0, I) vs N(m, s^2 I) in d dims: |m|^2 d + d (1 - s)^2.
    dim, shift, scale = 4, 0.5, 2.0
    a, b = gaussian(200_000, dim, 0.0, 1.0, 1), gaussian(200_000, dim, shift, scale, 2)
    expected = dim * shift**2 + dim * (1 - scale) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_inception_score_bounds():
    one_hot = torch.eye(10).repeat(50, 1)
    assert inception_score(one_hot) == pytest.approx(10.0, rel=1e-6)  # confident and every class: N
    assert inception_score(torch.full((500, 10), 0.1)) == pytest.approx(1.0, rel=1e-6)  # no confidence: 1
    assert inception_score(torch.eye(10)[[3] * 500]) == pytest.approx(1.0, rel=1e-6)  # one class only: 1


def test_precision_and_recall_of_identical_sets_are_one_and_of_disjoint_sets_zero():
    points = gaussian(2000, 16, 0.0, 1.0, 3).float()
    assert manifold_share(points, points) == 1.0
    assert manifold_share(points + 100.0, points) == 0.0
    collapsed = points[:1].repeat(2000, 1) + 1e-3 * gaussian(2000, 16, 0.0, 1.0, 4).float()
    assert manifold_share(collapsed, points) == 1.0  # a collapsed G is precise ...
    assert manifold_share(points, collapsed) < 0.05  # ... and misses most of the data


def test_class_coverage_and_entropy():
    registries = get_registries()
    probabilities = torch.eye(10)[torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])]
    evaluated = EvalSet(torch.zeros(8, 2), probabilities, None, torch.zeros(8, 2), 10)
    assert registries.metrics.get("class_coverage")(evaluated) == pytest.approx(0.4)
    assert registries.metrics.get("class_entropy")(evaluated) == pytest.approx(math.log(4))
    assert class_histogram_entropy(torch.arange(10).repeat(3), 10) == pytest.approx(math.log(10))
    assert registries.metrics.get("conditional_accuracy")(evaluated) is None  # unconditional: not applicable


def test_conditional_accuracy_and_cas_of_real_images_match_the_evaluator(mnist, mnist_judge):
    registries = get_registries()
    evaluator = Evaluator(mnist_judge, accuracy(mnist_judge, mnist.test_images, mnist.test_labels))
    images, labels = to_unit_range(mnist.test_images[:3000]), mnist.test_labels[:3000]
    evaluated = Scorer(evaluator, mnist, {}, cas_steps=300).eval_set(images, labels)
    conditional = registries.metrics.get("conditional_accuracy")(evaluated)
    assert conditional == pytest.approx(accuracy(mnist_judge, mnist.test_images[:3000], labels), abs=1e-6)
    assert conditional >= 0.97
    assert registries.metrics.get("cas")(evaluated) >= 0.9  # trained on 3,000 real "samples"
    noise = Scorer(evaluator, mnist, {}).eval_set(torch.rand(3000, 1, 28, 28) * 2 - 1, labels)
    assert registries.metrics.get("fid")(evaluated) < 0.02 * registries.metrics.get("fid")(
        noise
    )  # vs the whole test split
    assert registries.metrics.get("precision")(evaluated) > 0.9 and registries.metrics.get("recall")(evaluated) > 0.6
