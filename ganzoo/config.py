"""Recipes: every hyper-parameter of a run, as dataclasses read from TOML and overridden from the CLI.

A recipe file has a top-level ``variant`` and tables ``[data]``, ``[model]``, ``[loss]`` and ``[train]``.
``[loss]`` holds the variant's loss-strategy options (validated against the strategy's ``Options``).
Values are data: they are parsed as TOML and never evaluated.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError, UnknownNameError, shorten

MAX_SEED = 2**63 - 1  # seeds are 64-bit; ganzoo adds small offsets (rank, evaluation noise) to them
MAX_RECIPE_BYTES = 1_000_000  # a recipe is settings, not data (and it travels in every checkpoint's header)


@dataclass
class DataConfig:
    name: str = "mnist"
    root: str = ""  # empty: --data-root, else $GANZOO_DATA, else ~/.cache/ganzoo/datasets
    image_size: int = 28
    download: bool = True
    path: str = ""  # a dataset's own folder, for loaders that read one (imagefolder: one subfolder per class)


@dataclass
class ModelConfig:
    generator: str = "dcgan"
    discriminator: str = "dcgan"
    latent_dim: int = 100
    noise: str = "normal"  # G's latent prior: "normal" N(0, 1), or "uniform" U[0, 1) (Salimans et al.'s)
    conditioning: str = (
        "input"  # for conditional variants: "input", "hidden" or "batchnorm" (G: conditional BatchNorm, D: projection)
    )
    generator_width: int = 64
    discriminator_width: int = 64


@dataclass
class TrainConfig:
    batch_size: int = 64
    epochs: int = 10
    steps: int = 0  # > 0: train this many steps instead of `epochs` epochs
    lr_generator: float = 2e-4
    lr_discriminator: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    lr_decay_start: float = (
        1.0  # from this fraction of the budget, both learning rates fall linearly to 0 (1: constant)
    )
    adam_eps: float = 1e-8  # Adam's epsilon (Salimans et al.'s MNIST code behaves like 1e-4: recipes/sgan-mnist.toml)
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "auto"  # auto (bf16 autocast where bf16 is native: CUDA, CPUs with AMX; else fp32) | fp32 | bf16
    compile: bool = False  # torch.compile G and D
    channels_last: bool = True  # NHWC memory format for the conv layers (faster with cuDNN and oneDNN)
    ema_decay: float = (
        0.0  # > 0 (e.g. 0.999): keep an exponential moving average of G's weights for samples and evaluation
    )
    d_steps: int = 1  # discriminator updates per generator update (WGAN-GP's paper: 5)
    d_ema_decay: float = (
        0.0  # > 0: keep a moving average of D's weights for the loss's evaluation (SGAN's test accuracy)
    )
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 1000
    eval_every: int = 0  # 0: evaluate at sample steps and at the end
    eval_metrics: list[str] = field(
        default_factory=list
    )  # e.g. ["fid", "conditional_accuracy"]; see `ganzoo list metrics`
    eval_samples: int = 2000  # generated images per evaluation of eval_metrics
    keep_best: str = (
        ""  # a metric with a direction (e.g. "fid"): also keep checkpoints/best.safetensors, the best evaluation's
    )
    tensorboard: bool = False  # also log to TensorBoard under RUN_DIR/tensorboard (pip install 'ganzoo[tensorboard]')


@dataclass
class AdversarialConfig:
    """The ``[loss]`` keys that every variant has: the adversarial flavour of its real/fake term.

    adversarial: the flavour (``ganzoo list adversarial``: bce, hinge, lsgan, wgan-gp).
    gp_weight: the gradient-penalty weight of flavours with a penalty (wgan-gp).
    """

    adversarial: str = "bce"
    gp_weight: float = 10.0


@dataclass
class Recipe:
    variant: str
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


POSITIVE = {
    "train.batch_size",
    "train.lr_generator",
    "train.lr_discriminator",
    "train.log_every",
    "train.sample_every",
    "train.checkpoint_every",
    "data.image_size",
    "model.latent_dim",
    "model.generator_width",
    "model.discriminator_width",
    "train.eval_samples",
    "train.d_steps",
    "train.adam_eps",
}
UNIT_INTERVAL = {"train.beta1", "train.beta2", "train.ema_decay", "train.d_ema_decay"}  # [0, 1)
NON_NEGATIVE = {"train.epochs", "train.steps", "train.eval_every"}
CHOICES = {
    "model.conditioning": ("input", "hidden", "batchnorm"),
    "train.precision": ("auto", "fp32", "bf16"),
    "model.noise": ("normal", "uniform"),
}


def _check_type(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if annotation is Any or origin is dict:
        if origin is dict and not isinstance(value, dict):
            raise GanzooError(f"{where} must be a table, got {shorten(value)}.")
        return value
    if origin in (types.UnionType, typing.Union):
        return value
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise GanzooError(
                f"{where} must be a list of strings, got {shorten(value)}. In TOML (and in --set) a list is "
                f"written in brackets: --set '{where}=[\"fid\"]'."
            )
        return value
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is bool and not isinstance(value, bool) or annotation is not bool and isinstance(value, bool):
        raise GanzooError(f"{where} must be {annotation.__name__}, got {shorten(value)}.")
    if not isinstance(value, annotation):
        raise GanzooError(f"{where} must be {annotation.__name__}, got {type(value).__name__} {shorten(value)}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise GanzooError(f"{where} must be finite, got {shorten(value)}.")
    return value


def build_dataclass(cls: type, values: dict[str, Any], where: str, also_known: set[str] = frozenset()) -> Any:
    """Make ``cls`` from a dict, rejecting unknown keys (with did-you-mean) and wrong types.

    ``also_known``: keys of the same table that another dataclass takes (they are skipped here).
    """
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    for key in values:
        if key not in known | also_known:
            raise UnknownNameError(f"key in {where}", key, known | also_known, kinds=f"keys in {where}")
    values = {key: value for key, value in values.items() if key in known}
    checked = {key: _check_type(value, hints[key], f"{where}.{key}") for key, value in values.items()}
    try:
        return cls(**checked)
    except TypeError as error:
        raise GanzooError(f"{where}: {error}.") from None


def recipe_from_dict(values: dict[str, Any], source: str = "recipe") -> Recipe:
    values = dict(values)
    sections = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
    unknown = set(values) - {"variant", "loss", *sections}
    if unknown:
        raise UnknownNameError(
            f"key in {source}", sorted(unknown)[0], ["variant", "loss", *sections], kinds=f"keys in {source}"
        )
    if not isinstance(values.get("variant"), str):
        raise GanzooError(f'{source} must set variant = "NAME" (a string).')
    for name in (*sections, "loss"):
        if not isinstance(values.get(name, {}), dict):
            raise GanzooError(f"{source}: {name} must be a table ([{name}] with keys), got {shorten(values[name])}.")
    parts = {name: build_dataclass(cls, values.get(name, {}), name) for name, cls in sections.items()}
    recipe = Recipe(variant=values["variant"], loss=dict(values.get("loss", {})), **parts)
    validate(recipe)
    return recipe


def validate(recipe: Recipe) -> None:
    for section in ("data", "model", "train"):
        for f in fields(getattr(recipe, section)):
            key, value = f"{section}.{f.name}", getattr(getattr(recipe, section), f.name)
            if key in POSITIVE and not value > 0:
                raise GanzooError(f"{key} must be greater than 0, got {shorten(value)}.")
            if key in NON_NEGATIVE and value < 0:
                raise GanzooError(f"{key} must be 0 or more, got {shorten(value)}.")
            if key in UNIT_INTERVAL and not 0.0 <= value < 1.0:
                raise GanzooError(f"{key} must be in [0, 1), got {shorten(value)}.")
            if key in CHOICES and value not in CHOICES[key]:
                close = difflib.get_close_matches(str(value), CHOICES[key], n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise GanzooError(f"{key} must be one of {', '.join(CHOICES[key])}; got {shorten(value)}.{hint}")
    if not 0.0 <= recipe.train.lr_decay_start <= 1.0:
        raise GanzooError(
            f"train.lr_decay_start must be in [0, 1] (a fraction of the budget; 1 keeps the learning rates constant), "
            f"got {shorten(recipe.train.lr_decay_start)}."
        )
    if not 0 <= recipe.train.seed <= MAX_SEED:
        raise GanzooError(f"train.seed must be between 0 and 2**63 - 1, got {shorten(recipe.train.seed)}.")
    if recipe.train.steps == 0 and recipe.train.epochs == 0:
        raise GanzooError(
            "the training budget is zero: set train.epochs or train.steps (--epochs N / --steps N) above 0."
        )
    size = len(dumps_toml(recipe.to_dict()).encode())
    if size > MAX_RECIPE_BYTES:
        raise GanzooError(
            f"the recipe is {size:,} bytes; a recipe holds settings (at most {MAX_RECIPE_BYTES:,} bytes), "
            f"not data. Look for an overlong value passed with --set or in the recipe file."
        )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise GanzooError(f"cannot read recipe {path}: {error.strerror or error}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise GanzooError(f"recipe {path} is not valid TOML: {error}.") from None
    except RecursionError:
        raise GanzooError(f"recipe {path} nests tables or arrays too deeply to be a recipe.") from None


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """``train.lr_generator=1e-4`` -> (["train", "lr_generator"], 0.0001). Bare words are strings."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise GanzooError(f"--set expects KEY=VALUE (e.g. --set train.lr_generator=1e-4), got {shorten(assignment)}.")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise GanzooError(f"--set {key.strip()}: the value nests too deeply.") from None
    return key.strip().split("."), value


def apply_override(values: dict[str, Any], path: list[str], value: Any) -> None:
    target = values
    for part in path[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise GanzooError(f"--set {'.'.join(path)}: {shorten(part)} is not a table.")
    target[path[-1]] = value


def dumps_toml(values: dict[str, Any]) -> str:
    """Write a recipe dict as TOML (scalars and lists at the top, then one table per section)."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in values.items() if not isinstance(value, dict)]
    for key, value in values.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
