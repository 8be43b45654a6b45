"""Assembles a run from its recipe: the resolved recipe, the loss strategy, G and D."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ganzoo.checkpoint import load_checkpoint, load_module
from ganzoo.config import (
    DataConfig,
    Recipe,
    apply_override,
    build_dataclass,
    read_toml,
    recipe_from_dict,
)
from ganzoo.data import ImageData, resolve_data_root
from ganzoo.errors import GanzooError
from ganzoo.losses import AdversarialOptions, LossStrategy
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
    """The recipe of a run, validated, from these layers (each overriding the ones before):

    ganzoo's defaults, the variant's ``defaults``, the dataset loader's ``recipe_defaults``, the recipe
    file (explicit, else ``VARIANT-DATASET.toml`` from a recipe directory, if any), the dataset, the
    overrides. Returns the recipe, with the loss options filled in, and where it came from.
    """
    variant_entry = registries.variants.get(variant)  # unknown variant: fail before anything else
    if recipe_file is not None:
        file_values, source = read_toml(Path(recipe_file)), str(recipe_file)
        if file_values.get("variant", variant) != variant:
            raise GanzooError(f"recipe {recipe_file} is for variant {file_values['variant']!r}, not {variant!r}.")
    else:
        found = find_recipe(registries, variant, dataset or "mnist")
        file_values, source = (read_toml(Path(str(found))), str(found)) if found else ({}, "defaults")
    data_table = file_values.get("data") if isinstance(file_values.get("data"), dict) else {}
    dataset_name = dataset or data_table.get("name") or "mnist"
    loader = registries.datasets.get(dataset_name)
    values: dict[str, Any] = {}
    for key, value in [*variant_entry.defaults.items(), *getattr(loader, "recipe_defaults", {}).items()]:
        apply_override(values, key.split("."), value)
    merge_into(values, file_values)
    values["variant"] = variant
    apply_override(values, ["data", "name"], dataset_name)
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
    registries.adversarial.entry(recipe.loss.get("adversarial", AdversarialOptions.adversarial))
    return recipe, source


def merge_into(values: dict[str, Any], other: dict[str, Any]) -> None:
    """Copy ``other`` into ``values``, table by table (a key in ``other`` wins)."""
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            merge_into(values[key], value)
        else:
            values[key] = value


def loss_strategy_class(registries: Registries, variant: str) -> type[LossStrategy]:
    return registries.losses.get(registries.variants.get(variant).loss)


def build_strategy(registries: Registries, recipe: Recipe, num_classes: int) -> LossStrategy:
    strategy_cls = loss_strategy_class(registries, recipe.variant)
    options = build_dataclass(strategy_cls.Options, recipe.loss, "loss")
    # A third-party strategy's Options may not subclass AdversarialOptions: it then gets the defaults.
    defaults = AdversarialOptions()
    adversarial = registries.adversarial.create(getattr(options, "adversarial", defaults.adversarial),
                                                gp_weight=getattr(options, "gp_weight", defaults.gp_weight))
    return strategy_cls(options, num_classes, adversarial)


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


def load_dataset(registries: Registries, data: DataConfig, image_size: int | None = None, root: str | None = None) -> ImageData:
    """Call the dataset's loader with the recipe's ``[data]`` settings (``image_size``/``root`` override them).

    ``data.path`` is passed only when set, so loaders that read no folder of their own need not accept it.
    """
    loader = registries.datasets.get(data.name)
    kwargs = {"path": Path(data.path).expanduser()} if data.path else {}
    try:
        return loader(root=resolve_data_root(root or data.root), image_size=image_size or data.image_size,
                      download=data.download, **kwargs)
    except TypeError as error:
        if kwargs and "path" in str(error):
            raise GanzooError(f"dataset {data.name!r} does not read a folder of its own: remove data.path "
                              f"(--data-root says where datasets live).") from None
        raise


def load_trained_generator(registries: Registries, run_dir: Path, device) -> tuple[Recipe, LossStrategy, nn.Module, dict[str, Any]]:
    """A run's generator from its last checkpoint (its EMA weights when the run kept them), in eval mode.

    Returns the run's recipe, its loss strategy (which says whether G is conditional), G and the metadata.
    """
    checkpoint = Path(run_dir) / "checkpoints" / "last.safetensors"
    tensors, metadata = load_checkpoint(checkpoint)
    recipe = recipe_from_dict(metadata["recipe"], str(checkpoint))
    strategy = build_strategy(registries, recipe, metadata["num_classes"])
    generator = build_generator(registries, recipe, strategy, metadata["image_shape"]).to(device)
    weights = "G_ema" if any(name.startswith("G_ema.") for name in tensors) else "G"
    load_module(generator, tensors, weights, checkpoint)
    return recipe, strategy, generator.eval(), metadata
