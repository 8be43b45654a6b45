"""Registers ganzoo's datasets, and the metrics that only the 2-D toy mixtures have."""

from ganzoo.datasets import cifar, mixture
from ganzoo.datasets.folder import load_image_folder
from ganzoo.datasets.mnist import load_fashion_mnist, load_mnist
from ganzoo.datasets.shapes import load_shapes
from ganzoo.hookspecs import hookimpl
from ganzoo.registry import Component


@hookimpl
def ganzoo_datasets():
    return {
        "mnist": load_mnist,
        "fashion_mnist": load_fashion_mnist,
        "cifar10": Component(cifar.load_cifar10, recipe_defaults=cifar.RECIPE_DEFAULTS),
        "imagefolder": load_image_folder,
        "shapes": load_shapes,
        "ring8": Component(mixture.load_ring8, recipe_defaults=mixture.RECIPE_DEFAULTS),
        "grid25": Component(mixture.load_grid25, recipe_defaults=mixture.RECIPE_DEFAULTS),
    }


@hookimpl
def ganzoo_metrics():
    return {
        "modes_covered": Component(mixture.modes_covered, higher_is_better=True),
        "high_quality_share": Component(mixture.high_quality_share, higher_is_better=True),
    }
