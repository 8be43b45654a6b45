"""The Python API: what the ``ganzoo`` command does, as functions (``docs/python-api.md`` is the guide).

    import ganzoo
    run = ganzoo.train("acgan", dataset="mnist", steps=2000, overrides={"train.ema_decay": 0.999})
    images = run.sample(100, labels=7)                  # float tensor (100, C, H, W) in [-1, 1]
    scores = ganzoo.evaluate(run, metrics=["fid", "conditional_accuracy"])
    report = ganzoo.compare(["gan", run.path], dataset="mnist", steps=2000)   # ganzoo.comparison

The command line is a thin layer over these functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch import nn

from ganzoo.build import load_dataset, load_trained_generator, recipe_variant, resolve_recipe
from ganzoo.checkpoint import load_checkpoint
from ganzoo.config import Recipe, apply_override, recipe_from_dict
from ganzoo.device import out_of_memory_is_an_error, resolve_device
from ganzoo.errors import GanzooError
from ganzoo.evaluator import EVALUATOR_IMAGE_SIZE, Evaluator, Scorer, load_evaluator
from ganzoo.losses import LossStrategy
from ganzoo.plugins import get_registries
from ganzoo.registry import Registries
from ganzoo.rundir import RunDir
from ganzoo.sampling import Latent, generate
from ganzoo.sinks import make_console

REAL_ROW = "real data (train vs test)"
Progress = Callable[[str, int, int], None]


@dataclass
class Overrides:
    """What a caller changes in a recipe: the common settings by name, any key by dotted path."""

    steps: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    seed: int | None = None
    device: str | None = None
    precision: str | None = None
    compile: bool | None = None
    data_root: str | os.PathLike | None = None
    keys: Sequence[tuple[list[str], Any]] = ()  # (["train", "lr_generator"], 1e-4), ...

    def __post_init__(self) -> None:
        if self.epochs is not None and self.steps is not None:
            raise GanzooError("pass either --epochs or --steps, not both.")
        if self.steps == 0:  # in a recipe, steps = 0 means "count epochs"; asked for on its own, it is a mistake
            raise GanzooError("--steps must be greater than 0 (to train by epochs, use --epochs).")

    @classmethod
    def of(cls, mapping: Mapping[str, Any] | None = None, **settings: Any) -> Overrides:
        """From keyword settings and a mapping of dotted keys (``{"train.lr_generator": 1e-4}``)."""
        return cls(**settings, keys=[(key.split("."), value) for key, value in (mapping or {}).items()])

    def as_list(self) -> list[tuple[list[str], Any]]:
        """The dotted-key overrides first, then the named settings (which win)."""
        named = {
            "train.epochs": self.epochs,
            "train.steps": self.steps,
            "train.batch_size": self.batch_size,
            "train.seed": self.seed,
            "train.device": self.device,
            "train.precision": self.precision,
            "train.compile": self.compile,
            "data.root": str(self.data_root) if self.data_root is not None else None,
        }
        overrides = [*self.keys, *((key.split("."), value) for key, value in named.items() if value is not None)]
        if self.epochs is not None:
            overrides.append((["train", "steps"], 0))  # epochs only count when steps is 0
        return overrides

    def changed(self) -> list[str]:
        """The settings given, by name (for the "cannot change when resuming" error)."""
        return [name for name in ("batch_size", "seed", "precision", "compile") if getattr(self, name) is not None] + (
            ["keys"] if self.keys else []
        )


class Run:
    """A trained (or training) run directory: its recipe, log, generator and samples."""

    images_per_sec: float | None = None  # set by ``train``: the average over the steps it trained
    steps: int | None = None

    def __init__(
        self,
        path: str | os.PathLike,
        checkpoint: str = "last",
        registries: Registries | None = None,
        device: str | torch.device = "auto",
    ):
        self.dir = RunDir(path)
        self.checkpoint = checkpoint
        self.registries = registries or get_registries()
        self.device = resolve_device(str(device)) if not isinstance(device, torch.device) else device
        self.dir.require_checkpoint(checkpoint)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r}, checkpoint={self.checkpoint!r})"

    @property
    def path(self) -> Path:
        return self.dir.path

    @cached_property
    def _loaded(self) -> tuple[Recipe, LossStrategy, nn.Module, dict[str, Any]]:
        return load_trained_generator(self.registries, self.path, self.device, self.checkpoint)

    @property
    def recipe(self) -> Recipe:
        return self._loaded[0]

    @property
    def variant(self) -> str:
        return self.recipe.variant

    @property
    def generator(self) -> nn.Module:
        """G (its moving average when the run kept one), in eval mode: ``generator(z, labels)`` -> images in [-1, 1]."""
        return self._loaded[2]

    @property
    def conditional(self) -> bool:
        return self._loaded[1].generator_conditional

    @property
    def num_classes(self) -> int:
        return self._loaded[3]["num_classes"]

    @property
    def step(self) -> int:
        return self._loaded[3].get("step", 0)

    @property
    def budget(self) -> dict[str, int]:
        """What the run trained: steps so far, batch size, the recipe's epochs (0 when it counts steps) and seed."""
        train = self.recipe.train
        return {
            "steps": self.step,
            "batch_size": train.batch_size,
            "epochs": train.epochs if not train.steps else 0,
            "seed": train.seed,
        }

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """The records of metrics.jsonl ("train", "eval", "end", ...)."""
        return self.dir.records()

    @property
    def final(self) -> dict[str, Any]:
        """The "end" record: the run's average images/s and its final evaluation ({} while it trains)."""
        return self.dir.end_record() or {}

    def labels_for(self, n: int | None, labels: int | Sequence[int] | torch.Tensor | None) -> torch.Tensor | None:
        """Labels for ``n`` conditional samples: as given (one int for all), else cycling through the classes."""
        if not self.conditional:
            if labels is not None:
                raise GanzooError(f"variant {self.variant!r} is unconditional: labels do not apply.")
            return None
        if labels is None:
            return torch.arange(n or 100) % self.num_classes
        labels = torch.full((n or 100,), labels) if isinstance(labels, int) else torch.as_tensor(labels).long()
        if labels.numel() and not (0 <= int(labels.min()) and int(labels.max()) < self.num_classes):
            raise GanzooError(
                f"labels must be between 0 and {self.num_classes - 1}, got "
                + (f"{labels.min()}." if labels.min() == labels.max() else f"{labels.min()}..{labels.max()}.")
            )
        return labels.flatten()

    def class_rows(self, per_class: int, label: int | None = None) -> torch.Tensor:
        """Labels for a grid with one row per class (``per_class`` images each), or one row of ``label``."""
        if label is not None:
            return self.labels_for(per_class, label)
        return torch.arange(self.num_classes).repeat_interleave(per_class)

    def sample(
        self, n: int | None = None, labels: int | Sequence[int] | torch.Tensor | None = None, seed: int = 0
    ) -> torch.Tensor:
        """``n`` images (float, (n, C, H, W), in [-1, 1]) from seeded noise; for a conditional run, of the given
        ``labels`` (a class for all, or one per image), else cycling through the classes."""
        labels = self.labels_for(n, labels)
        count = labels.numel() if labels is not None else (n or 100)
        if count <= 0:
            raise GanzooError(f"the number of samples must be greater than 0, got {count}.")
        with out_of_memory_is_an_error(self.device, min(count, 500)):
            return generate(self.generator, count, Latent.of(self.recipe.model), labels, seed, self.device)

    def evaluate(
        self, metrics: Sequence[str] | None = None, n: int = 10000, seed: int = 0, **kwargs: Any
    ) -> Evaluation:
        return evaluate(self, metrics=metrics, n=n, seed=seed, **kwargs)


def components(kind: str = "variants", plugins: Sequence[str | os.PathLike] = ()) -> list[dict[str, str]]:
    """What is registered: one dict (name, description, plugin) per entry of ``kind`` (``ganzoo list KIND``)."""
    registry = registries_with(plugins).by_kind.get(kind)
    if registry is None:
        from ganzoo.registry import KIND_NAMES

        raise GanzooError(f"unknown kind {kind!r}; use one of {', '.join(KIND_NAMES)}.")
    return [{"name": e.name, "description": e.description, "plugin": e.plugin} for e in registry]


def as_overrides(overrides: Mapping[str, Any] | Overrides | None, settings: dict[str, Any]) -> Overrides:
    if isinstance(overrides, Overrides):
        if settings:
            raise TypeError(f"pass settings ({', '.join(settings)}) inside the Overrides object, not beside it")
        return overrides
    return Overrides.of(overrides, **settings)


def load_run(
    path: str | os.PathLike, checkpoint: str = "last", device: str = "auto", plugins: Sequence[str | os.PathLike] = ()
) -> Run:
    """A finished (or checkpointed) run; ``checkpoint="best"`` picks the best evaluation's weights."""
    return Run(path, checkpoint, registries_with(plugins), device)


def registries_with(plugins: Sequence[str | os.PathLike] = ()) -> Registries:
    return get_registries(tuple(str(Path(p).resolve()) for p in plugins))


def default_out_dir(variant: str, dataset: str) -> Path:
    return Path("runs") / f"{variant}-{dataset}-{datetime.now():%Y%m%d-%H%M%S}"


def resumed_recipe(registries: Registries, run_dir: Path, variant: str | None, overrides: Overrides) -> Recipe:
    """The recipe saved in a run's checkpoint, with the budget, device and data root overrides applied."""
    fixed = overrides.changed()
    if fixed:
        raise GanzooError(
            f"{', '.join('--set' if name == 'keys' else '--' + name.replace('_', '-') for name in fixed)} "
            f"cannot change when resuming: the run continues with its own recipe."
        )
    checkpoint = RunDir(run_dir).require_checkpoint()
    _, metadata = load_checkpoint(checkpoint)
    if variant is not None and variant != metadata["variant"]:
        raise GanzooError(
            f"{checkpoint} is a {metadata['variant']!r} checkpoint, not {variant!r}. "
            f"Resume it with `ganzoo run --resume {run_dir}`."
        )
    registries.variants.entry(metadata["variant"])
    values = metadata["recipe"]
    for path, value in overrides.as_list():
        apply_override(values, path, value)
    return recipe_from_dict(values, str(checkpoint))


def train(
    variant: str | None = None,
    *,
    dataset: str | None = None,
    recipe: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | Overrides | None = None,
    progress: bool = True,
    console: Console | None = None,
    plugins: Sequence[str | os.PathLike] = (),
    **settings: Any,
) -> Run:
    """Train ``variant`` (or continue the run in ``resume``) and return the finished ``Run``.

    Without ``variant``, the ``recipe`` file's own ``variant`` key says what to train.
    ``settings``: steps, epochs, batch_size, seed, device, precision, compile, data_root. ``overrides``: any
    recipe key by dotted path, e.g. ``{"model.generator_width": 32}``. ``out``: the run directory (default
    runs/VARIANT-DATASET-TIME). ``progress=False``: plain log lines instead of a live bar.
    """
    from ganzoo.loop import train as train_loop

    registries = registries_with(plugins)
    changes = as_overrides(overrides, settings)
    if resume is not None:
        if dataset is not None or recipe is not None or out is not None:
            raise GanzooError(
                "--dataset, --recipe and --out cannot change when resuming: the run continues with its own recipe."
            )
        resolved, out, source = (
            resumed_recipe(registries, Path(resume), variant, changes),
            Path(resume),
            f"{resume} (resumed)",
        )
    elif variant is None and recipe is None:
        raise GanzooError(
            "name a variant to train (see `ganzoo list`), e.g. `ganzoo run acgan`, or pass --resume RUN_DIR."
        )
    else:
        variant = variant or recipe_variant(registries, recipe)
        resolved, source = resolve_recipe(
            registries, variant, dataset, Path(recipe) if recipe else None, changes.as_list()
        )
        out = Path(out) if out is not None else default_out_dir(variant, resolved.data.name)
    console = console or make_console()
    console.print(
        f"ganzoo: training [bold]{resolved.variant}[/] on {resolved.data.name} (recipe: {source}) -> {out}",
        highlight=False,
    )
    result = train_loop(
        resolved, Path(out), registries, console=console, show_progress=progress, resume=resume is not None
    )
    run = Run(out, registries=registries, device=resolved.train.device)
    run.images_per_sec, run.steps, run.result = result.images_per_sec, result.steps, result
    return run


@dataclass
class Evaluation:
    """Scores of one or more runs beside the real-data row, and which evaluator and samples produced them."""

    rows: dict[str, dict[str, float | None]]
    metrics: list[str]
    n: int
    seed: int  # of the sampling noise
    evaluator: dict[str, Any] = field(default_factory=dict)
    budgets: dict[str, dict[str, int]] = field(default_factory=dict)  # row -> Run.budget (training seed included)

    def __getitem__(self, row: str) -> dict[str, float | None]:
        return self.rows[row]

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluator": self.evaluator,
            "n": self.n,
            "seed": self.seed,
            "metrics": self.metrics,
            "budget": self.budgets,
            "results": self.rows,
        }


def evaluator_info(evaluator: Evaluator) -> dict[str, Any]:
    return {
        "sha256": evaluator.sha256,
        "test_accuracy": evaluator.test_accuracy,
        "path": str(evaluator.path) if evaluator.path else None,
    }


def scorer_for(
    registries: Registries,
    recipe: Recipe,
    metric_names: Sequence[str] | None,
    device: torch.device,
    data_root: str | os.PathLike | None = None,
    log=print,
    progress: Progress | None = None,
) -> Scorer:
    """The dataset's evaluator with the named metrics (default: all registered), ready to score."""
    names = list(metric_names) if metric_names else registries.metrics.names()
    metrics = {name: registries.metrics.entry(name) for name in names}
    data = load_dataset(
        registries, recipe.data, image_size=EVALUATOR_IMAGE_SIZE, root=str(data_root) if data_root else None
    ).to(device)
    return Scorer(load_evaluator(data, log=log, progress=progress), data, metrics, progress)


def evaluate(
    run: Run | str | os.PathLike,
    metrics: Sequence[str] | None = None,
    n: int = 10000,
    seed: int = 0,
    checkpoint: str | None = None,
    device: str = "auto",
    data_root: str | os.PathLike | None = None,
    real: bool = True,
    log=print,
    progress: Progress | None = None,
) -> Evaluation:
    """Score a run's generator on ``n`` samples, beside the same metrics for ``n`` real training images (the ceiling).

    ``metrics``: names from ``ganzoo list metrics`` (default: all). A metric that does not apply returns None.
    """
    if not isinstance(run, Run) or (checkpoint is not None and checkpoint != run.checkpoint):
        run = Run(run.path if isinstance(run, Run) else run, checkpoint or "last", device=device)
    scorer = scorer_for(run.registries, run.recipe, metrics, run.device, data_root, log, progress)
    scorer.check_count(n)
    with out_of_memory_is_an_error(run.device):
        rows = {
            run.variant: scorer.score_generator(
                run.generator, Latent.of(run.recipe.model), run.conditional, n, seed, run.device
            )
        }
        if real:
            rows[REAL_ROW] = scorer.score_real(n, seed)
    return Evaluation(rows, list(scorer.metrics), n, seed, evaluator_info(scorer.evaluator), {run.variant: run.budget})
