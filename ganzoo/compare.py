"""``ganzoo compare``: several variants trained on the same data, budget and seeds, evaluated identically.

Writes report.md / report.json (each metric as mean ± std over seeds, training images/s, wall time),
grid.png (the variants' samples side by side from the same noise), curves.png (losses against steps;
needs matplotlib) and progress-VARIANT.gif (the fixed-noise grid over training).
"""

from __future__ import annotations

import json
import statistics
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.utils import save_image

from ganzoo.build import load_trained_generator
from ganzoo.config import Recipe
from ganzoo.data import ImageData, to_unit_range
from ganzoo.evaluator import Evaluator, eval_set
from ganzoo.plugins import Registries
from ganzoo.sampling import GRID_COLUMNS, generate, grid_labels, is_points, preview_labels, render

REAL_ROW = "real data (train vs test)"


@dataclass
class VariantRow:
    name: str
    runs: list[Path] = field(default_factory=list)
    metrics: list[dict[str, float | None]] = field(default_factory=list)
    images_per_sec: list[float] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"runs": [str(r) for r in self.runs], "error": self.error}
        for name in self.metrics[0] if self.metrics else {}:
            values = [m[name] for m in self.metrics if m[name] is not None]
            out[name] = mean_std(values)
        out["images_per_sec"] = mean_std(self.images_per_sec)
        out["wall_seconds"] = mean_std(self.wall_seconds)
        return out


def mean_std(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def evaluate_run(registries: Registries, run_dir: Path, evaluator: Evaluator, data: ImageData, metrics: dict,
                 count: int, seed: int, device: torch.device) -> dict[str, float | None]:
    recipe, strategy, generator, _ = load_trained_generator(registries, run_dir, device)
    labels = torch.arange(count, device=device) % data.num_classes if strategy.generator_conditional else None
    samples = generate(generator, count, recipe.model.latent_dim, labels, seed, device)
    evaluated = eval_set(evaluator, samples, labels, data)
    return {name: metric(evaluated) for name, metric in metrics.items()}


def real_row(evaluator: Evaluator, data: ImageData, metrics: dict, count: int, seed: int) -> dict[str, float | None]:
    pick = torch.randperm(data.train_images.shape[0], generator=torch.Generator().manual_seed(seed))[:count]
    pick = pick.to(data.train_images.device)
    evaluated = eval_set(evaluator, to_unit_range(data.train_images[pick]), data.train_labels[pick], data)
    return {name: metric(evaluated) for name, metric in metrics.items()}


def train_or_reuse(name: str, seed: int, out_dir: Path, make_recipe, train_fn) -> tuple[Path, float, float]:
    """A variant name trains a new run; an existing run directory is reused. Returns (run, images/s, seconds)."""
    given = Path(name)
    if (given / "checkpoints" / "last.safetensors").is_file():
        end = [json.loads(line) for line in (given / "metrics.jsonl").read_text().splitlines() if '"end"' in line]
        return given, (end[-1]["images_per_sec"] if end else float("nan")), float("nan")
    run_dir = out_dir / "runs" / f"{name}-seed{seed}"
    started = time.perf_counter()
    result = train_fn(make_recipe(name, seed), run_dir)
    return run_dir, result.images_per_sec, time.perf_counter() - started


def side_by_side_grid(registries: Registries, rows: list[VariantRow], num_classes: int, size: int, seed: int,
                      device: torch.device, path: Path) -> None:
    """Each variant's first run: one row per class (conditional) or as many samples, all from the same noise.

    2-D toy data gets a scatter plot per variant instead.
    """
    panels = []
    for row in rows:
        if row.error or not row.runs:
            continue
        recipe, strategy, generator, metadata = load_trained_generator(registries, row.runs[0], device)
        if is_points(metadata["image_shape"]):
            count, labels = preview_labels(num_classes, strategy.generator_conditional, metadata["image_shape"], device)
        else:
            count = num_classes * GRID_COLUMNS  # the same panel height for conditional and unconditional variants
            labels = grid_labels(num_classes, GRID_COLUMNS, device) if strategy.generator_conditional else None
        images = generate(generator, count, recipe.model.latent_dim, labels, seed, device)
        if not is_points(images.shape[1:]) and images.shape[-1] != size:
            images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        panels.append(render(images, GRID_COLUMNS))
    if panels:
        gap = torch.ones(panels[0].shape[0], panels[0].shape[1], 8)
        joined = [item for panel in panels for item in (panel, gap)][:-1]
        save_image(torch.cat(joined, dim=2), str(path))


def progress_gif(run_dir: Path, path: Path) -> None:
    frames = [Image.open(p).convert("P") for p in sorted((run_dir / "samples").glob("step_*.png"))]
    if frames:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=400, loop=0)


def curves(rows: list[VariantRow], path: Path) -> str | None:
    """Losses against steps for all variants; returns a note when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "curves.png needs matplotlib: pip install matplotlib (or pip install 'ganzoo[plots]')"
    series = ["d_loss", "g_loss"]
    figure, axes = plt.subplots(1, len(series), figsize=(6 * len(series), 4))
    for row in rows:
        if row.error or not row.runs:
            continue
        records = [json.loads(line) for line in (row.runs[0] / "metrics.jsonl").read_text().splitlines()]
        train_records = [r for r in records if r.get("kind") == "train"]
        for axis, key in zip(axes, series):
            axis.plot([r["step"] for r in train_records], [r.get(key) for r in train_records], label=row.name)
    for axis, key in zip(axes, series):
        axis.set_xlabel("step")
        axis.set_title(key)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return None


def split_applicable(rows: Iterable[dict[str, Any]], names: list[str]) -> tuple[list[str], list[str]]:
    """(metrics with a value in some row, metrics with none): a metric returns None where it does not apply,
    like ``modes_covered`` on images, and a column of dashes would only hide the ones that do."""
    rows = list(rows)
    applicable = [name for name in names if any(row.get(name) is not None for row in rows)]
    return applicable, [name for name in names if name not in applicable]


def markdown_table(summary: dict[str, dict[str, Any]], metric_names: list[str]) -> str:
    header = ["variant", *metric_names, "images/s", "wall s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, row in summary.items():
        if row.get("error"):
            lines.append(f"| {name} | failed: {row['error']} |" + " |" * (len(header) - 2))
            continue
        cells = [format_mean_std(row.get(m)) for m in (*metric_names, "images_per_sec", "wall_seconds")]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines) + "\n"


def format_mean_std(value: dict[str, float] | None) -> str:
    if not value:
        return "-"
    if value["std"]:
        return f"{value['mean']:.4g} ± {value['std']:.2g}"
    return f"{value['mean']:.4g}"


def compare(names: list[str], seeds: int, out_dir: Path, make_recipe, train_fn, registries: Registries,
            evaluator: Evaluator, data: ImageData, metrics: dict, count: int, device: torch.device, log=print
            ) -> dict[str, dict[str, Any]]:
    """Train (or reuse) every run, evaluate them identically, write the report files; returns the summary."""
    rows = []
    for name in names:
        row = VariantRow(Path(name).name)
        for seed in range(seeds):
            try:
                run_dir, images_per_sec, seconds = train_or_reuse(name, seed, out_dir, make_recipe, train_fn)
                row.runs.append(run_dir)
                row.images_per_sec.append(images_per_sec)
                row.wall_seconds.append(seconds)
                row.metrics.append(evaluate_run(registries, run_dir, evaluator, data, metrics, count, seed, device))
            except Exception as error:  # one failed run must not sink the comparison
                row.error = f"{type(error).__name__}: {error}".splitlines()[0]
                log(f"compare: {name} (seed {seed}) failed: {row.error}")
                (out_dir / f"error-{row.name}-seed{seed}.txt").write_text(traceback.format_exc())
                break
        rows.append(row)
    summary = {row.name: row.summary() for row in rows}
    real = real_row(evaluator, data, metrics, count, seed=0)
    summary[REAL_ROW] = {name: mean_std([v]) if v is not None else None for name, v in real.items()}
    summary[REAL_ROW]["error"] = None
    (out_dir / "report.json").write_text(json.dumps({"evaluator_test_accuracy": evaluator.test_accuracy, "n": count,
                                                     "seeds": seeds, "rows": summary}, indent=2))
    applicable, not_applicable = split_applicable(summary.values(), list(metrics))
    skipped = f" Not applicable to this dataset: {', '.join(not_applicable)}." if not_applicable else ""
    (out_dir / "report.md").write_text(
        f"# ganzoo compare\n\nEvaluator test accuracy {evaluator.test_accuracy:.4f}; {count} samples per run; "
        f"{seeds} seed(s).{skipped}\n\n" + markdown_table(summary, applicable) + "\n![samples](grid.png)\n")
    side_by_side_grid(registries, rows, data.num_classes, data.image_shape[-1], 0, device, out_dir / "grid.png")
    for row in rows:
        if row.runs:
            progress_gif(row.runs[0], out_dir / f"progress-{row.name}.gif")
    note = curves(rows, out_dir / "curves.png")
    if note:
        log(note)
    return summary


def compare_recipe_factory(registries: Registries, dataset: str, overrides: list, resolve, num_train: int) -> Any:
    """Recipes for compare runs: the variant's recipe, the shared budget/overrides, the seed, ~10 grids per run."""

    def make(name: str, seed: int) -> Recipe:
        recipe, _ = resolve(registries, name, dataset, None, [*overrides, (["train", "seed"], seed)])
        steps_per_epoch = num_train // recipe.train.batch_size
        total = recipe.train.steps or recipe.train.epochs * steps_per_epoch
        recipe.train.sample_every = max(total // 10, 1)
        return recipe

    return make
