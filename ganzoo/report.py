"""A comparison's report files: report.json, report.md, report.html and the pictures they show.

``report.html`` is one self-contained page (every picture inlined): the table, each variant's samples
with its name under them, the loss curves and the progress animations, whose frames carry their step.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from ganzoo.build import load_trained_generator
from ganzoo.registry import Registries
from ganzoo.rundir import RunDir, write_atomically
from ganzoo.sampling import GRID_COLUMNS, Latent, generate, grid_labels, is_points, png_bytes, preview_labels, render

GAP = 8  # pixels between panels in grid.png


@dataclass
class Panel:
    """One variant's samples in the report."""

    label: str
    run: Path
    path: Path  # panel-LABEL.png


def split_applicable(rows: Iterable[dict[str, Any]], names: list[str]) -> tuple[list[str], list[str]]:
    """(metrics with a value in some row, metrics with none): a metric returns None where it does not apply,
    like ``modes_covered`` on images, and a column of dashes would only hide the ones that do."""
    rows = list(rows)
    applicable = [name for name in names if any(row.get(name) is not None for row in rows)]
    return applicable, [name for name in names if name not in applicable]


def format_mean_std(value: dict[str, float] | None) -> str:
    if not value:
        return "-"
    if value["std"]:
        return f"{value['mean']:.4g} ± {value['std']:.2g}"
    return f"{value['mean']:.4g}"


def table_rows(summary: dict[str, dict[str, Any]], metric_names: list[str]) -> list[list[str]]:
    """One row of cells per variant (the real-data row included): metrics, then images/s and wall time."""
    rows = []
    for name, row in summary.items():
        if row.get("error"):
            rows.append([name, f"failed: {row['error']}", *[""] * (len(metric_names) + 1)])
        else:
            rows.append(
                [name, *(format_mean_std(row.get(m)) for m in (*metric_names, "images_per_sec", "wall_seconds"))]
            )
    return rows


def markdown_table(summary: dict[str, dict[str, Any]], metric_names: list[str]) -> str:
    header = ["variant", *metric_names, "images/s", "wall s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(summary, metric_names)]
    return "\n".join(lines) + "\n"


def sample_panels(
    registries: Registries,
    runs: list[tuple[str, Path]],
    num_classes: int,
    size: int,
    seed: int,
    device: torch.device,
    folder: Path,
) -> list[Panel]:
    """Each variant's samples from the same noise, as panel-LABEL.png: one row per class (conditional) or as many
    samples (unconditional); a scatter plot for 2-D toy data."""
    panels = []
    for label, run_dir in runs:
        recipe, strategy, generator, metadata = load_trained_generator(registries, run_dir, device)
        if is_points(metadata["image_shape"]):
            count, labels = preview_labels(num_classes, strategy.generator_conditional, metadata["image_shape"], device)
        else:
            count = num_classes * GRID_COLUMNS  # the same panel height for conditional and unconditional variants
            labels = grid_labels(num_classes, GRID_COLUMNS, device) if strategy.generator_conditional else None
        images = generate(generator, count, Latent.of(recipe.model), labels, seed, device)
        if not is_points(images.shape[1:]) and images.shape[-1] != size:
            images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        path = folder / f"panel-{label}.png"
        write_atomically(path, png_bytes(render(images, GRID_COLUMNS)))
        panels.append(Panel(label, run_dir, path))
    return panels


def side_by_side(panels: list[Panel], path: Path) -> None:
    """grid.png: the panels side by side, left to right in the table's order."""
    images = [Image.open(panel.path).convert("RGB") for panel in panels]
    if not images:
        return
    width = sum(image.width for image in images) + GAP * (len(images) - 1)
    joined = Image.new("RGB", (width, max(image.height for image in images)), "white")
    x = 0
    for image in images:
        joined.paste(image, (x, 0))
        x += image.width + GAP
    joined.save(path)


def progress_gif(run_dir: Path, path: Path) -> None:
    """The run's fixed-noise grids over training as an animation, each frame labelled with its step."""
    frames = []
    for grid in RunDir(run_dir).sample_grids():
        frame = Image.open(grid).convert("RGB")
        labelled = Image.new("RGB", (frame.width, frame.height + 16), "white")
        labelled.paste(frame, (0, 16))
        ImageDraw.Draw(labelled).text((4, 2), f"step {int(grid.stem.split('_')[1]):,}", fill="black")
        frames.append(labelled.convert("P"))
    if frames:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=400, loop=0)


def curves(runs: list[tuple[str, Path]], path: Path) -> str | None:
    """Losses against steps for all variants; returns a note when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "curves.png needs matplotlib: pip install matplotlib (or pip install 'ganzoo[plots]')"
    series = ["d_loss", "g_loss"]
    figure, axes = plt.subplots(1, len(series), figsize=(6 * len(series), 4))
    for label, run_dir in runs:
        train_records = [r for r in RunDir(run_dir).records() if r.get("kind") == "train"]
        for axis, key in zip(axes, series):
            axis.plot([r["step"] for r in train_records], [r.get(key) for r in train_records], label=label)
    for axis, key in zip(axes, series):
        axis.set_xlabel("step")
        axis.set_title(key)
        if runs:
            axis.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return None


def data_uri(path: Path) -> str:
    kind = {".png": "image/png", ".gif": "image/gif"}[path.suffix]
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
tr.real {{ color: #666; font-style: italic; }}
.panels {{ display: flex; flex-wrap: wrap; gap: 16px; }}
figure {{ margin: 0; text-align: center; }}
img {{ max-width: 100%; height: auto; }}  /* wide curves shrink to the window instead of scrolling */
figcaption {{ font-weight: bold; margin-top: 4px; }}
.note {{ color: #555; }}
</style></head>
<body data-broken-images="unknown">
<h1>{title}</h1>
<p class="note">{note}</p>
<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>
<h2>Samples (same noise for every variant)</h2>
<div class="panels">{panels}</div>
<h2>Losses</h2>
{curves}
<h2>Training progress</h2>
<div class="panels">{animations}</div>
<script>
window.addEventListener("load", function () {{
  var broken = Array.prototype.filter.call(document.images, function (image) {{
    return !image.complete || image.naturalWidth === 0;
  }});
  document.body.setAttribute("data-broken-images", String(broken.length));
}});
</script>
</body></html>
"""


def write_html(
    path: Path,
    title: str,
    note: str,
    summary: dict[str, dict[str, Any]],
    metric_names: list[str],
    real_row: str,
    panels: list[Panel],
    curves_png: Path | None,
    animations: dict[str, Path],
) -> None:
    """report.html: the whole report in one file (pictures inlined as data URIs)."""
    header = "".join(f"<th>{html.escape(cell)}</th>" for cell in ["variant", *metric_names, "images/s", "wall s"])
    rows = "".join(
        ('<tr class="real">' if cells[0] == real_row else "<tr>")
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
        + "</tr>"
        for cells in table_rows(summary, metric_names)
    )
    figures = "".join(
        f'<figure><img src="{data_uri(panel.path)}" alt="samples of {html.escape(panel.label)}">'
        f"<figcaption>{html.escape(panel.label)}</figcaption></figure>"
        for panel in panels
    )
    curve = (
        f'<img src="{data_uri(curves_png)}" alt="losses against steps">'
        if curves_png and curves_png.is_file()
        else '<p class="note">no curves (matplotlib is not installed)</p>'
    )
    gifs = "".join(
        f'<figure><img src="{data_uri(gif)}" alt="{html.escape(label)} over training">'
        f"<figcaption>{html.escape(label)}</figcaption></figure>"
        for label, gif in animations.items()
    )
    page = PAGE.format(
        title=html.escape(title),
        note=html.escape(note),
        header=header,
        rows=rows,
        panels=figures,
        curves=curve,
        animations=gifs,
    )
    write_atomically(path, page.encode("utf-8"))


def write_json(path: Path, report: dict[str, Any]) -> None:
    write_atomically(path, json.dumps(report, indent=2).encode())
