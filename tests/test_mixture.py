"""The 2-D Gaussian-mixture toys: the mode-coverage metric tells a collapsed generator from a good one."""

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from torch import nn

from ganzoo.build import load_trained_generator, resolve_recipe
from ganzoo.cli import main
from ganzoo.datasets.mixture import load_grid25, load_ring8
from ganzoo.evaluator import Scorer, load_evaluator
from ganzoo.loop import train
from ganzoo.plugins import get_registries
from ganzoo.sampling import generate

REGISTRIES = get_registries()
RING = load_ring8(root=None)


class CollapsedGenerator(nn.Module):
    """Every sample lands on one mode: the textbook mode collapse (and each sample is of high quality)."""

    def __init__(self, centre):
        super().__init__()
        self.register_buffer("centre", centre)

    def forward(self, z, labels=None):
        return (self.centre + 0.01 * z[:, :2]).view(-1, 2, 1, 1)


class SmearedGenerator(nn.Module):
    """Samples spread evenly over the square: every mode gets some, none is of high quality."""

    def forward(self, z, labels=None):
        return (torch.rand(z.shape[0], 2) * 2 - 1).view(-1, 2, 1, 1)


def score(samples, data=RING):
    evaluated = Scorer(load_evaluator(data), data, {}).eval_set(samples, None)
    return {
        name: REGISTRIES.metrics.get(name)(evaluated)
        for name in ("modes_covered", "high_quality_share", "class_coverage")
    }


def test_real_points_cover_every_mode_with_high_quality():
    real = score(RING.test_images)
    assert real["modes_covered"] == 8 and real["high_quality_share"] > 0.98  # 3 std in 2-D: 98.9 %
    grid = load_grid25(root=None)
    assert score(grid.test_images, grid)["modes_covered"] == 25
    assert load_evaluator(RING).test_accuracy > 0.99  # the exact posterior: modes barely overlap


def test_mode_coverage_separates_a_collapsed_generator_from_a_trained_one(tmp_path):
    collapsed = score(generate(CollapsedGenerator(RING.centres[3]), 2000, 16, None, seed=0, device="cpu"))
    assert collapsed["modes_covered"] == 1 and collapsed["high_quality_share"] > 0.95
    smeared = score(generate(SmearedGenerator(), 2000, 16, None, seed=0, device="cpu"))
    assert smeared["high_quality_share"] < 0.1 and smeared["modes_covered"] == 0
    assert smeared["class_coverage"] == 1.0  # what a coverage count without a quality bar would miss

    recipe, _ = resolve_recipe(
        REGISTRIES, "gan", "ring8", None, [(["train", "steps"], 2000), (["train", "device"], "cpu")]
    )
    train(recipe, tmp_path / "gan", REGISTRIES, show_progress=False)
    _, _, generator, _ = load_trained_generator(REGISTRIES, tmp_path / "gan", "cpu")
    trained = score(generate(generator, 2000, recipe.model.latent_dim, None, seed=0, device="cpu"))
    assert trained["modes_covered"] >= 6, trained  # measured: 7 (8 of 8 by step 3,000)
    assert trained["high_quality_share"] > 0.4, trained  # measured: 0.70

    # Points are drawn as scatter plots and saved as float arrays.
    grid = Image.open(sorted((tmp_path / "gan" / "samples").glob("*.png"))[-1])
    assert grid.size == (256, 256)
    result = CliRunner().invoke(main, ["sample", str(tmp_path / "gan"), "--n", "50", "--out", str(tmp_path / "p.npz")])
    assert result.exit_code == 0, result.output
    points = np.load(tmp_path / "p.npz")["points"]
    assert points.shape == (50, 2) and points.dtype == np.float32


def test_mixture_metrics_do_not_apply_to_image_datasets():
    shapes = REGISTRIES.datasets.get("shapes")(root=None, image_size=28, download=False)
    evaluated = Scorer(load_evaluator(RING), RING, {}).eval_set(RING.test_images[:100], None)
    evaluated.data = shapes
    assert REGISTRIES.metrics.get("modes_covered")(evaluated) is None
    assert REGISTRIES.metrics.get("high_quality_share")(evaluated) is None


@pytest.mark.parametrize("variant", ["gan", "cgan"])
def test_compare_on_the_toy_reports_modes(variant, tmp_path):
    out = tmp_path / "compare"
    args = [
        "compare",
        variant,
        "--dataset",
        "ring8",
        "--steps",
        "50",
        "--n",
        "500",
        "--out",
        str(out),
        "--metrics",
        "modes_covered,high_quality_share,fid",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text()
    assert "modes_covered" in report and "| real data (train vs test) | 8 |" in report
    assert Image.open(out / "grid.png").size[1] == 256  # one scatter plot per variant
