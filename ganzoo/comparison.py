"""``ganzoo compare`` and ``ganzoo.compare``: variants trained on the same data, budget and seeds, scored identically.

Writes report.md / report.json (each metric as mean ± std over seeds, training images/s, wall time, the
evaluator that scored them and each run's budget), grid.png (the variants' samples side by side from the
same noise), curves.png (losses against steps; needs matplotlib) and progress-VARIANT.gif (the
fixed-noise grid over training). A run that fails is reported with its error and the others still
finish; SIGINT/SIGTERM stops the whole comparison, keeping the finished runs and a partial report.
"""

from __future__ import annotations

import os
import re
import statistics
import time
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from ganzoo.api import REAL_ROW, Overrides, Progress, Run, as_overrides, evaluator_info, registries_with, scorer_for
from ganzoo.build import resolve_recipe
from ganzoo.config import DataConfig, Recipe
from ganzoo.device import out_of_memory_is_an_error, resolve_device
from ganzoo.errors import GanzooError, first_line
from ganzoo.loop import train
from ganzoo.registry import Registries
from ganzoo.report import (
    curves,
    markdown_table,
    progress_gif,
    sample_panels,
    side_by_side,
    split_applicable,
    write_html,
    write_json,
)
from ganzoo.rundir import RunDir, write_atomically
from ganzoo.sampling import Latent
from ganzoo.schedule import Budget
from ganzoo.signals import Interrupted, StopOnSignal
from ganzoo.sinks import make_console

GRIDS_PER_RUN = 10


@dataclass
class CompareSpec:
    """What to compare and how: variant names or run directories, the shared dataset, budget and seeds."""

    names: list[str]
    dataset: str | None = None  # None: the reused runs' dataset, else mnist
    seeds: int = 1
    count: int = 10000  # samples per run for the metrics
    metric_names: list[str] = field(default_factory=list)  # empty: every registered metric
    out_dir: Path = Path("runs/compare")
    overrides: Overrides = field(default_factory=Overrides)

    def __post_init__(self) -> None:
        if not self.names:
            raise GanzooError("name at least one variant (or run directory) to compare.")
        if self.seeds <= 0 or self.count <= 1:
            raise GanzooError("--seeds must be at least 1 and --n at least 2.")


@dataclass
class VariantRow:
    label: str  # unique in the report
    name: str  # a variant name, or a run directory to reuse
    runs: list[Path] = field(default_factory=list)
    metrics: list[dict[str, float | None]] = field(default_factory=list)
    images_per_sec: list[float] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    budgets: list[dict[str, int]] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"runs": [str(r) for r in self.runs], "error": self.error, "budget": self.budgets}
        out["per_run"] = [dict(metrics) for metrics in self.metrics]  # each seed's own values, in the order of "runs"
        for name in self.metrics[0] if self.metrics else {}:
            out[name] = mean_std([m[name] for m in self.metrics if m[name] is not None])
        out["images_per_sec"] = mean_std(self.images_per_sec)
        out["wall_seconds"] = mean_std(self.wall_seconds)
        return out


def mean_std(values: list[float]) -> dict[str, float] | None:
    values = [v for v in values if v == v]  # NaN: not measured (a reused run's wall time)
    if not values:
        return None
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def existing_runs(name: str) -> list[Path]:
    """The finished runs a compare name stands for: the run directory itself, or every run directory in a folder
    of them (one per seed, in name order); none when the name is a variant to train."""
    folder = RunDir(name)
    if folder.has_checkpoint():
        return [folder.path]
    if folder.path.is_dir():
        return [child for child in sorted(folder.path.iterdir()) if RunDir(child).has_checkpoint()]
    return []


def file_name(label: str) -> str:
    """A row label as a safe file name part: ``gan (2)`` -> ``gan_2_``."""
    return re.sub(r"[^\w.-]+", "_", label)


def unique_labels(names: list[str]) -> list[str]:
    """Row labels: the variant's name or the run folder's name, with as many parent folders as tell it apart
    (``gan/seed0``, ``mogan/seed0``), numbered when the same name is given twice (``gan``, ``gan (2)``)."""
    paths = [Path(name).parts or (name,) for name in names]
    labels, seen = [], {}
    for path in paths:
        depth = 1
        while depth < len(path) and any(other[-depth:] == path[-depth:] and other != path for other in paths):
            depth += 1
        base = str(Path(*path[-depth:]))
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return labels


class Comparison:
    """One ``ganzoo compare``: ``run()`` trains or reuses, scores and writes the report; ``summary`` holds the rows."""

    def __init__(self, spec: CompareSpec, registries: Registries, console: Console, progress: Progress | None = None):
        self.spec, self.registries, self.console, self.user_progress = spec, registries, console, progress
        self.rows = [VariantRow(label, name) for label, name in zip(unique_labels(spec.names), spec.names)]
        self.summary: dict[str, dict[str, Any]] = {}
        self.stop = StopOnSignal()
        self.scorer = None

    # -- the steps ------------------------------------------------------------------------------------------

    def recipe(self, name: str, seed: int) -> Recipe:
        """The variant's recipe with the shared overrides and ``seed``, and about 10 sample grids per run.

        compare scores every run itself, so the runs it trains skip the recipe's own evaluations (the tuned
        recipes score 10,000 samples at every epoch and at the end) unless the overrides ask for them.
        """
        given = {".".join(path) for path, _ in self.spec.overrides.keys}
        skipped = [
            (["train", key], value)
            for key, value in (("eval_metrics", []), ("keep_best", ""))
            if f"train.{key}" not in given
        ]
        overrides = [*skipped, *self.spec.overrides.as_list(), (["train", "seed"], seed)]
        recipe, _ = resolve_recipe(self.registries, name, self.spec.dataset, None, overrides)
        budget = Budget.of(recipe, self.scorer.data.train_images.shape[0]) if self.scorer else None
        total = budget.total_steps if budget else recipe.train.steps
        recipe.train.sample_every = max(total // GRIDS_PER_RUN, 1)
        return recipe

    def progress(self, what: str, done: int, total: int) -> None:
        """Progress of evaluation work; also where a stop request ends it."""
        if self.stop.received is not None:
            raise Interrupted(f"{self.stop.name} received while {what}", self.stop.exit_code)
        if self.user_progress is not None:
            self.user_progress(what, done, total)

    def train_or_reuse(self, row: VariantRow, seed: int, existing: Path | None) -> tuple[Path, float, float]:
        if existing is not None:
            end = RunDir(existing).end_record() or {}
            return existing, end.get("images_per_sec", float("nan")), end.get("wall_seconds", float("nan"))
        run_dir = self.spec.out_dir / "runs" / f"{file_name(row.label)}-seed{seed}"
        recipe = self.recipe(row.name, seed)
        self.console.print(f"compare: training {recipe.variant} (seed {seed}) -> {run_dir}", highlight=False)
        started = time.perf_counter()
        result = train(recipe, run_dir, self.registries, console=self.console)
        return run_dir, result.images_per_sec, time.perf_counter() - started

    def score(self, row: VariantRow, run_dir: Path, seed: int) -> dict[str, float | None]:
        run = Run(run_dir, registries=self.registries, device=self.device)
        row.budgets.append(run.budget)
        self.console.print(f"compare: scoring {row.label} (seed {seed}) on {self.spec.count} samples", highlight=False)
        with out_of_memory_is_an_error(self.device):
            return self.scorer.score_generator(
                run.generator, Latent.of(run.recipe.model), run.conditional, self.spec.count, seed, self.device
            )

    def check_out_dir(self) -> None:
        """A report folder is written once: a second comparison into it would replace the first one's report."""
        out = self.spec.out_dir
        if not (out / "report.json").is_file():
            return
        runs = sorted(str(path) for path in (out / "runs").glob("*") if RunDir(path).has_checkpoint())
        again = f" To score its finished runs again, name them: ganzoo compare {' '.join(runs)} --out NEW_DIR." * bool(
            runs
        )
        raise GanzooError(f"{out} already holds a comparison (report.json). Pass another --out DIR.{again}")

    def data_and_variant(self, to_train: list[str]) -> tuple[DataConfig, str]:
        """The comparison's data: the one the variants to train get (``--dataset``, default mnist), or the reused
        runs' own. Every reused run must have been trained on it: scores of runs on other data mean nothing.
        Also the first variant's name, for the scorer."""
        spec = self.spec
        recipes = {
            str(path): Run(path, registries=self.registries).recipe
            for row in self.rows
            for path in existing_runs(row.name)
        }
        reused = {path: recipe.data for path, recipe in recipes.items()}
        if to_train:
            first = self.recipe(to_train[0], 0)
            data = first.data
        else:
            first = next(iter(recipes.values()))
            data = first.data
            if spec.dataset is not None and spec.dataset != data.name:
                data = DataConfig(name=spec.dataset)
        others = [
            f"{path} ({run_data.name})"
            for path, run_data in reused.items()
            if (run_data.name, run_data.path) != (data.name, data.path)
        ]
        if others:
            raise GanzooError(
                f"this comparison is on {data.name}{' ' + data.path if data.path else ''}, but "
                f"{', '.join(others)} {'was' if len(others) == 1 else 'were'} trained on other data. Compare runs "
                f"of one dataset (for variants to train, --dataset names it)."
            )
        spec.dataset = data.name
        return data, first.variant

    def run(self) -> dict[str, dict[str, Any]]:
        spec = self.spec
        to_train = [row.name for row in self.rows if not existing_runs(row.name)]
        for name in to_train:  # a typo fails now, not after hours of training
            resolve_recipe(self.registries, name, spec.dataset, None, spec.overrides.as_list())
        self.check_out_dir()
        data_config, first_variant = self.data_and_variant(to_train)
        spec.out_dir.mkdir(parents=True, exist_ok=True)
        self.device = resolve_device(spec.overrides.device or "auto")
        with self.stop:
            try:
                self.scorer = scorer_for(
                    self.registries,
                    Recipe(first_variant, data=data_config),
                    spec.metric_names,
                    self.device,
                    spec.overrides.data_root,
                    self.console.print,
                    self.progress,
                )
                self.scorer.check_count(spec.count)
                for row in self.rows:
                    self.run_row(row)
                self.summary = self.summarize(real=True)
            except Interrupted as stopped:
                self.summary = self.summarize(real=False)
                self.write_reports(partial=True)
                raise Interrupted(
                    f"compare stopped ({stopped}): the finished runs and a partial report are in {spec.out_dir}.",
                    stopped.exit_code,
                ) from None
        self.write_reports()
        if not any(row.runs for row in self.rows):
            raise GanzooError(f"every run of the comparison failed (the errors are in {spec.out_dir}/report.md).")
        return self.summary

    def run_row(self, row: VariantRow) -> None:
        existing = existing_runs(row.name)
        for seed, reused in enumerate(existing) if existing else ((seed, None) for seed in range(self.spec.seeds)):
            try:
                run_dir, images_per_sec, seconds = self.train_or_reuse(row, seed, reused)
                row.runs.append(run_dir)
                row.images_per_sec.append(images_per_sec)
                row.wall_seconds.append(seconds)
                row.metrics.append(self.score(row, run_dir, seed))
            except Interrupted:
                raise
            except Exception as error:  # noqa: BLE001 - one failed run must not sink the comparison
                row.error = f"{type(error).__name__}: {first_line(error)}"
                self.console.print(
                    f"compare: {row.label} (seed {seed}) failed: {row.error}", highlight=False, markup=False
                )
                write_atomically(
                    self.spec.out_dir / f"error-{file_name(row.label)}-seed{seed}.txt", traceback.format_exc().encode()
                )
                return
            if self.stop.received is not None:
                raise Interrupted(f"{self.stop.name} received", self.stop.exit_code)

    def summarize(self, real: bool) -> dict[str, dict[str, Any]]:
        summary = {row.label: row.summary() for row in self.rows if row.runs or row.error}
        if real:
            with out_of_memory_is_an_error(self.device):
                values = self.scorer.score_real(self.spec.count, seed=0)
            summary[REAL_ROW] = {
                **{name: mean_std([v]) if v is not None else None for name, v in values.items()},
                "error": None,
            }
        return summary

    # -- the report ------------------------------------------------------------------------------------------

    def write_reports(self, partial: bool = False) -> None:
        """report.json, report.md, report.html, grid.png, curves.png and progress-LABEL.gif in the output folder."""
        spec, out = self.spec, self.spec.out_dir
        names = list(self.scorer.metrics) if self.scorer else []
        applicable, not_applicable = split_applicable(self.summary.values(), names)
        evaluator = evaluator_info(self.scorer.evaluator) if self.scorer else {}
        write_json(
            out / "report.json",
            {
                "dataset": spec.dataset,
                "evaluator": evaluator,
                "evaluator_test_accuracy": evaluator.get("test_accuracy"),
                "n": spec.count,
                "seeds": spec.seeds,
                "partial": partial,
                "rows": self.summary,
            },
        )
        accuracy = f"{evaluator['test_accuracy']:.4f}" if evaluator else "-"
        note = (
            ("Stopped before the end: partial results. " if partial else "")
            + f"Dataset {spec.dataset}; evaluator test accuracy {accuracy} "
            + f"(sha256 {evaluator.get('sha256', '-')[:12]}); "
            + f"{spec.count} samples per run; {spec.seeds} seed(s)."
            + (f" Not applicable to this dataset: {', '.join(not_applicable)}." if not_applicable else "")
        )
        write_atomically(
            out / "report.md",
            (
                f"# ganzoo compare\n\n{note}\n\n"
                + markdown_table(self.summary, applicable)
                + "\n![samples](grid.png)\n"
            ).encode(),
        )
        finished = [(row.label, row.runs[0]) for row in self.rows if row.runs and not row.error]
        panels = []
        if self.scorer is not None:
            data = self.scorer.data
            panels = sample_panels(
                self.registries, finished, data.num_classes, data.image_shape[-1], 0, self.device, out
            )
            side_by_side(panels, out / "grid.png")
        animations = {}
        for label, run_dir in finished:
            progress_gif(run_dir, out / f"progress-{label}.gif")
            if (out / f"progress-{label}.gif").is_file():
                animations[label] = out / f"progress-{label}.gif"
        missing_matplotlib = curves(finished, out / "curves.png")
        if missing_matplotlib:
            self.console.print(missing_matplotlib, markup=False)
        write_html(
            out / "report.html",
            "ganzoo compare",
            note,
            self.summary,
            applicable,
            REAL_ROW,
            panels,
            out / "curves.png",
            animations,
        )


def compare(
    variants: Iterable[str | os.PathLike | Run],
    *,
    dataset: str | None = None,
    seeds: int = 1,
    n: int = 10000,
    metrics: Sequence[str] | None = None,
    out: str | os.PathLike | None = None,
    overrides: Mapping[str, Any] | Overrides | None = None,
    console: Console | None = None,
    progress: Progress | None = None,
    plugins: Sequence[str | os.PathLike] = (),
    **settings: Any,
) -> Comparison:
    """Train ``variants`` (names) with the same data, budget and seeds, or reuse finished runs (paths or ``Run``s),
    score them identically, and write a report folder; returns the ``Comparison`` (``.summary``, ``.spec.out_dir``).

    ``dataset``: the variants' data (default mnist); reused runs must have been trained on it (alone, they are
    compared on their own dataset). ``settings``: steps, epochs, batch_size, device, data_root, as for ``train``.
    """
    changes = as_overrides(overrides, settings)
    names = [str(v.path) if isinstance(v, Run) else str(v) for v in variants]
    spec = CompareSpec(
        names=names,
        dataset=dataset,
        seeds=seeds,
        count=n,
        metric_names=list(metrics or []),
        out_dir=Path(out) if out else Path("runs") / f"compare-{datetime.now():%Y%m%d-%H%M%S}",
        overrides=changes,
    )
    comparison = Comparison(spec, registries_with(plugins), console or make_console(), progress)
    comparison.run()
    return comparison
