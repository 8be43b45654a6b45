"""Assembles a run from its recipe: the resolved recipe, the loss strategy, G and D."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ganzoo.config import (
    Recipe,
    apply_override,
    build_dataclass,
    read_toml,
    recipe_from_dict,
)
from ganzoo.errors import GanzooError
from ganzoo.losses import LossStrategy
from ganzoo.plugins import Registries


def find_recipe(registries: Registries, variant: str, dataset: str) -> Any | None:
    """The first ``VARIANT-DATASET.toml`` in the recipe directories, or None."""
    for directory in registries.recipe_dirs:
        candidate = directory / f"{variant}-{dataset}.toml"
        if candidate.is_file():
            return candidate
    return None


def resolve_recipe(
    registries: Registries,
    variant: str,
    dataset: str | None = None,
    recipe_file: Path | None = None,
    overrides: Sequence[tuple[list[str], Any]] = (),
) -> tuple[Recipe, str]:
    """Recipe file (explicit, else the variant's for the dataset, else defaults) + overrides, validated.

    Returns the recipe, with the loss options filled in, and where it came from.
    """
    registries.variants.entry(variant)  # unknown variant: fail before anything else
    if recipe_file is not None:
        values, source = read_toml(Path(recipe_file)), str(recipe_file)
        if values.get("variant", variant) != variant:
            raise GanzooError(f"recipe {recipe_file} is for variant {values['variant']!r}, not {variant!r}.")
    else:
        found = find_recipe(registries, variant, dataset or "mnist")
        values, source = (read_toml(Path(str(found))), str(found)) if found else ({}, "defaults")
    values["variant"] = variant
    if dataset is not None:
        apply_override(values, ["data", "name"], dataset)
    for path, value in overrides:
        apply_override(values, path, value)
    recipe = recipe_from_dict(values, source)
    registries.datasets.entry(recipe.data.name)
    registries.generators.entry(recipe.model.generator)
    registries.discriminators.entry(recipe.model.discriminator)
    for metric in recipe.train.eval_metrics:
        registries.metrics.entry(metric)
    strategy_cls = loss_strategy_class(registries, variant)
    recipe.loss = dataclasses.asdict(build_dataclass(strategy_cls.Options, recipe.loss, "loss"))
    return recipe, source


def loss_strategy_class(registries: Registries, variant: str) -> type[LossStrategy]:
    return registries.losses.get(registries.variants.get(variant).loss)


def build_strategy(registries: Registries, recipe: Recipe, num_classes: int) -> LossStrategy:
    strategy_cls = loss_strategy_class(registries, recipe.variant)
    return strategy_cls(build_dataclass(strategy_cls.Options, recipe.loss, "loss"), num_classes)


def build_generator(registries: Registries, recipe: Recipe, strategy: LossStrategy, image_shape) -> nn.Module:
    return registries.create_generator(
        recipe.model.generator,
        latent_dim=recipe.model.latent_dim,
        num_classes=strategy.num_classes,
        image_shape=tuple(image_shape),
        conditioning=recipe.model.conditioning if strategy.generator_conditional else "none",
        width=recipe.model.generator_width,
    )


def build_discriminator(registries: Registries, recipe: Recipe, strategy: LossStrategy, image_shape) -> nn.Module:
    return registries.create_discriminator(
        recipe.model.discriminator,
        image_shape=tuple(image_shape),
        out_features=strategy.discriminator_outputs(),
        num_classes=strategy.num_classes,
        conditioning=recipe.model.conditioning if strategy.discriminator_conditional else "none",
        width=recipe.model.discriminator_width,
    )
