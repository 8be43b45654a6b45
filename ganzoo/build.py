"""Assembles a run from its recipe: the resolved recipe, the loss strategy, G and D."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from ganzoo.checkpoint import load_checkpoint, load_module
from ganzoo.config import (
    AdversarialConfig,
    DataConfig,
    Recipe,
    apply_override,
    build_dataclass,
    read_toml,
    recipe_from_dict,
)
from ganzoo.data import ImageData, resolve_data_root
from ganzoo.errors import GanzooError, UnknownNameError
from ganzoo.losses import LossStrategy
from ganzoo.registry import Registries
from ganzoo.rundir import RunDir


def find_recipe(registries: Registries, variant: str, dataset: str) -> Any | None:
    """The first ``VARIANT-DATASET.toml`` in the recipe directories, or None."""
    for directory in registries.recipe_dirs:
        candidate = directory / f"{variant}-{dataset}.toml"
        if candidate.is_file():
            return candidate
    return None


def recipe_names(registries: Registries) -> list[str]:
    return sorted(
        {
            path.name.removesuffix(".toml")
            for directory in registries.recipe_dirs
            for path in directory.iterdir()
            if path.name.endswith(".toml")
        }
    )


def named_recipe(registries: Registries, recipe: Path | str) -> Any:
    """A recipe file given by path, or by name (``sgan-mnist-seed``): a ``NAME.toml`` in the recipe directories."""
    path = Path(recipe)
    if path.suffix or len(path.parts) > 1 or path.exists():
        return path
    for directory in registries.recipe_dirs:
        if (directory / f"{path.name}.toml").is_file():
            return directory / f"{path.name}.toml"
    raise UnknownNameError("recipe", str(recipe), recipe_names(registries), "Or pass the path of a .toml file.")


def recipe_variant(registries: Registries, recipe: Path | str) -> str:
    """The variant a recipe file names (its ``variant`` key): ``ganzoo run --recipe FILE`` needs no VARIANT."""
    path = named_recipe(registries, recipe)
    variant = read_toml(Path(str(path))).get("variant")
    if not isinstance(variant, str) or not variant:
        raise GanzooError(
            f'recipe {path} names no variant. Add a line `variant = "NAME"` at its top (see `ganzoo list`), '
            f"or name it: `ganzoo run NAME --recipe {path}`."
        )
    return variant


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
        recipe_file = named_recipe(registries, recipe_file)
        file_values, source = read_toml(Path(str(recipe_file))), str(recipe_file)
        if file_values.get("variant", variant) != variant:
            raise GanzooError(f"recipe {recipe_file} is for variant {file_values['variant']!r}, not {variant!r}.")
    else:
        found = find_recipe(registries, variant, dataset or "mnist")
        file_values, source = (read_toml(Path(str(found))), str(found)) if found else ({}, "defaults")
    data_table = file_values.get("data") if isinstance(file_values.get("data"), dict) else {}
    dataset_name = dataset or data_table.get("name") or "mnist"
    dataset_entry = registries.datasets.entry(dataset_name)
    values: dict[str, Any] = {}
    for key, value in [*variant_entry.defaults.items(), *dataset_entry.recipe_defaults.items()]:
        apply_override(values, key.split("."), value)
    merge_into(values, file_values)
    values["variant"] = variant
    apply_override(values, ["data", "name"], dataset_name)
    for path, value in overrides:
        if path == ["variant"]:
            raise GanzooError(
                "an override cannot change the variant (--set variant=...): name it instead, e.g. `ganzoo run cgan`."
            )
        apply_override(values, path, value)
    recipe = recipe_from_dict(values, source)
    check_components(registries, recipe)
    return recipe, source


def check_components(registries: Registries, recipe: Recipe) -> None:
    """Every name in ``recipe`` is registered and every value fits it; ``recipe.loss`` gets every option filled in."""
    registries.datasets.entry(recipe.data.name)
    registries.generators.entry(recipe.model.generator)
    registries.discriminators.entry(recipe.model.discriminator)
    train = recipe.train
    metrics = [
        registries.metrics.entry(name)
        for name in dict.fromkeys([*train.eval_metrics, *([train.keep_best] if train.keep_best else [])])
    ]
    if train.keep_best and registries.metrics.entry(train.keep_best).higher_is_better is None:
        raise GanzooError(
            f"train.keep_best: metric {train.keep_best!r} has no direction (better when higher or lower?), "
            f"so it cannot pick the best checkpoint. Use e.g. fid or conditional_accuracy."
        )
    needed = max((entry.min_samples for entry in metrics), default=1)
    if metrics and train.eval_samples < needed:
        raise GanzooError(
            f"train.eval_samples {train.eval_samples} is too few for "
            f"{', '.join(e.name for e in metrics if e.min_samples > train.eval_samples)}: use at least {needed}."
        )
    adversarial, options = loss_options(loss_strategy_class(registries, recipe.variant), recipe.loss)
    registries.adversarial.entry(adversarial.adversarial)
    recipe.loss = {**dataclasses.asdict(adversarial), **dataclasses.asdict(options)}


def loss_options(strategy_cls: type[LossStrategy], values: dict[str, Any]) -> tuple[AdversarialConfig, Any]:
    """Split the recipe's ``[loss]`` table into the adversarial flavour's keys and the strategy's ``Options``."""
    common = {field.name for field in dataclasses.fields(AdversarialConfig)}
    own = {field.name for field in dataclasses.fields(strategy_cls.Options)}
    if common & own:
        raise GanzooError(
            f"loss strategy {strategy_cls.__name__}'s Options may not define {', '.join(sorted(common & own))}: "
            f"those [loss] keys choose the adversarial flavour for every variant."
        )
    adversarial = build_dataclass(AdversarialConfig, values, "loss", also_known=own)
    if adversarial.gp_weight < 0:
        raise GanzooError(f"loss.gp_weight must be 0 or more, got {adversarial.gp_weight!r}.")
    return adversarial, build_dataclass(strategy_cls.Options, values, "loss", also_known=common)


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
    adversarial, options = loss_options(strategy_cls, recipe.loss)
    flavour = registries.adversarial.create(adversarial.adversarial, gp_weight=adversarial.gp_weight)
    return strategy_cls(options, num_classes, flavour)


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


def load_dataset(
    registries: Registries, data: DataConfig, image_size: int | None = None, root: str | None = None
) -> ImageData:
    """Call the dataset's loader with the recipe's ``[data]`` settings (``image_size``/``root`` override them).

    ``data.path`` is passed only when set, so loaders that read no folder of their own need not accept it.
    """
    loader = registries.datasets.get(data.name)
    kwargs = {"path": Path(data.path).expanduser()} if data.path else {}
    try:
        return loader(
            root=resolve_data_root(root or data.root),
            image_size=image_size or data.image_size,
            download=data.download,
            **kwargs,
        )
    except TypeError as error:
        if kwargs and "path" in str(error):
            raise GanzooError(
                f"dataset {data.name!r} does not read a folder of its own: remove data.path "
                f"(--data-root says where datasets live)."
            ) from None
        raise


def load_trained_generator(
    registries: Registries,
    run_dir: Path,
    device,
    checkpoint: str = "last",
) -> tuple[Recipe, LossStrategy, nn.Module, dict[str, Any]]:
    """A run's generator from its ``checkpoint`` ("last" or "best"; its EMA weights when the run kept them),
    in eval mode. Returns the run's recipe, its loss strategy (which says whether G is conditional), G and
    the checkpoint's metadata.
    """
    path = RunDir(run_dir).require_checkpoint(checkpoint)
    tensors, metadata = load_checkpoint(path)
    recipe = recipe_from_dict(metadata["recipe"], str(path))
    registries.variants.entry(recipe.variant)  # a variant from a plugin that is not loaded: say how to load it
    strategy = build_strategy(registries, recipe, metadata["num_classes"])
    generator = build_generator(registries, recipe, strategy, metadata["image_shape"]).to(device)
    weights = "G_ema" if any(name.startswith("G_ema.") for name in tensors) else "G"
    load_module(generator, tensors, weights, path)
    return recipe, strategy, generator.eval(), metadata
