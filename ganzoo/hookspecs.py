"""The plugin author's reference: every hook ganzoo calls.

A plugin is a module (or object) with functions decorated by `ganzoo.hookimpl` whose names match the
specs below. Packaged plugins register an entry point in the ``ganzoo`` group::

    [project.entry-points.ganzoo]
    myvariant = "my_package.my_module"

ganzoo's own architectures and datasets, and its five built-in variants (``plugins/``), are implemented
through these same hooks. Each hook returns new entries; a name already taken by another plugin is an
error that names both plugins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from torch import nn

    from ganzoo.data import ImageData
    from ganzoo.losses import LossStrategy
    from ganzoo.variant import Variant

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


@hookspec
def ganzoo_generators() -> Mapping[str, Callable[..., nn.Module]]:
    """Return generator constructors by name.

    Each constructor is called with keyword arguments
    ``latent_dim: int, num_classes: int, image_shape: tuple[int, int, int], conditioning: str, width: int``
    and returns an ``nn.Module`` whose ``forward(z, labels=None)`` maps noise ``(B, latent_dim)`` (and,
    when ``conditioning != "none"``, int64 labels ``(B,)``) to images ``(B, C, H, W)`` in ``[-1, 1]``.
    ``conditioning`` is ``"none"``, ``"input"`` (label joined to the noise) or ``"hidden"`` (label
    embedded into a hidden layer); ``width`` scales the layers. Raise ``ganzoo.GanzooError`` for an
    image size the architecture cannot produce. Subclassing ``ganzoo.models.Generator`` gives the
    conditioning for free. The constructor's docstring's first line is its description.
    """


@hookspec
def ganzoo_discriminators() -> Mapping[str, Callable[..., nn.Module]]:
    """Return discriminator constructors by name.

    Each constructor is called with keyword arguments
    ``image_shape: tuple[int, int, int], out_features: int, num_classes: int, conditioning: str,
    width: int`` and returns an ``nn.Module`` whose ``forward(x, labels=None)`` returns raw logits
    ``(B, out_features)`` (never probabilities: losses apply the sigmoid/softmax themselves).
    ``out_features`` is chosen by the loss strategy (1 for real/fake, N for SGAN, 1 + N for ACGAN).
    Modules built on ``ganzoo.models.Discriminator`` also accept ``return_features=True`` and then
    return ``(logits, features)``, which feature matching needs.
    """


@hookspec
def ganzoo_losses() -> Mapping[str, type[LossStrategy]]:
    """Return loss strategies (subclasses of ``ganzoo.LossStrategy``) by name.

    A loss strategy computes the discriminator's and the generator's losses for one step and the
    numbers to log; the training loop owns backward passes, optimizers, devices and logging. Options
    come from the recipe's ``[loss]`` table and are validated against the strategy's ``Options``
    dataclass. See ``ganzoo.losses.LossStrategy`` for the methods to implement.
    """


@hookspec
def ganzoo_datasets() -> Mapping[str, Callable[..., ImageData]]:
    """Return dataset loaders by name.

    Each loader is called as ``loader(root: pathlib.Path, image_size: int, download: bool)`` and
    returns a ``ganzoo.data.ImageData``: uint8 train/test images ``(N, C, H, W)`` at ``image_size``
    and int64 labels. Raise ``ganzoo.GanzooError`` saying where to put the files when they are
    missing and cannot be downloaded.
    """


@hookspec
def ganzoo_metrics() -> Mapping[str, Callable[..., float | None]]:
    """Return sample-quality metrics by name.

    Each metric is called with a ``ganzoo.metrics.EvalSet`` (evaluator features and class probabilities
    of the evaluated images, the requested labels for conditional samples, the real test split's
    features) and returns a float, or ``None`` where it does not apply. Its docstring's first line is
    its description in ``ganzoo list metrics``.
    """


@hookspec
def ganzoo_variants() -> Iterable[Variant]:
    """Return the GAN variants this plugin adds (``ganzoo.Variant`` objects).

    A variant names its loss strategy; ``ganzoo run NAME`` trains it with the recipe
    ``NAME-DATASET.toml`` found in a recipe directory (see ``ganzoo_recipe_dirs``), or with the
    defaults when there is none.
    """


@hookspec
def ganzoo_recipe_dirs() -> Iterable[Path | Any]:
    """Return directories (``pathlib.Path`` or ``importlib.resources`` traversables) that hold recipes.

    Recipes are TOML files named ``VARIANT-DATASET.toml``; the first directory that has the file wins,
    with ganzoo's own ``recipes/`` searched first.
    """
