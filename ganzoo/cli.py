"""The ``ganzoo`` command: list, run and sample."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import torch
from rich.console import Console
from rich.table import Table

from ganzoo.build import load_dataset, load_trained_generator, resolve_recipe
from ganzoo.checkpoint import load_checkpoint
from ganzoo.config import DataConfig, Recipe, apply_override, parse_override, recipe_from_dict
from ganzoo.errors import GanzooError
from ganzoo.plugins import get_registries
from ganzoo.data import to_unit_range
from ganzoo.sampling import generate, grid_labels, save_grid, save_npz

KINDS = ("variants", "generators", "discriminators", "losses", "adversarial", "datasets", "metrics")


class GanzooGroup(click.Group):
    """Turns GanzooError into a one-paragraph message and exit code 2 (a traceback only with --debug)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanzooError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Error: {error}", err=True)
            sys.exit(getattr(error, "exit_code", 2))
        except KeyboardInterrupt:
            click.echo("Aborted at once; the last checkpoint written, if any, is intact.", err=True)
            sys.exit(130)


@click.group(cls=GanzooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--plugin", "plugin_paths", multiple=True, type=click.Path(exists=True, dir_okay=True),
              help="A single-file plugin (FILE.py) or a folder of them to load (repeatable); also $GANZOO_PLUGINS_DIR.")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, plugin_paths: tuple[str, ...], debug: bool) -> None:
    """ganzoo: train, sample, evaluate, compare and benchmark GAN variants through one training loop.

    \b
    Examples:
      ganzoo list variants
      ganzoo run acgan --dataset mnist --data-root ../shared/datasets
      ganzoo run cgan --steps 500 --set model.conditioning=hidden --set loss.matching_aware=true
      ganzoo run --resume runs/acgan-mnist-20261122-101500 --steps 20000
      ganzoo sample runs/acgan-mnist-20261122-101500 --per-class 10 --out grid.png
      ganzoo compare gan cgan sgan acgan mogan --dataset mnist --steps 300
      ganzoo bench acgan gan --steps 50
      torchrun --nproc-per-node 2 -m ganzoo run acgan
      ganzoo new-variant myvariant --dir my_plugins   # then: ganzoo --plugin my_plugins/myvariant.py run myvariant
    """
    ctx.obj = {"debug": debug, "plugins": tuple(str(Path(p).resolve()) for p in plugin_paths)}


def cli_registries():
    """The registries, with the plugin files given to ``ganzoo --plugin`` loaded."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return get_registries(root.obj["plugins"] if root and root.obj else ())


@main.command("list")
@click.argument("kind", type=click.Choice(KINDS), default="variants")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(kind: str, as_json: bool) -> None:
    """List registered variants, generators, discriminators, losses, adversarial loss flavours, datasets or metrics."""
    registries = cli_registries()
    registry = registries.kinds()[kind]
    if registries.failures:
        names = ", ".join(report.name for report in registries.failures)
        click.echo(f"warning: plugin(s) {names} failed to load; see `ganzoo plugins`.", err=True)
    rows = [{"name": e.name, "description": e.description, "plugin": e.plugin} for e in registry]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"ganzoo {kind}")
    for column in ("name", "description", "plugin"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], row["description"], row["plugin"])
    Console().print(table)


@main.command()
@click.argument("variant", required=False)
@click.option("--resume", "resume_dir", type=click.Path(path_type=Path), help="Continue the run in this directory from its last checkpoint.")
@click.option("--dataset", default=None, help="Dataset name (see `ganzoo list datasets`); picks the recipe VARIANT-DATASET.toml.  [default: mnist]")
@click.option("--recipe", "recipe_file", type=click.Path(path_type=Path), help="A recipe TOML file instead of the built-in one.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override a recipe value, e.g. --set train.lr_generator=1e-4 (repeatable).")
@click.option("--epochs", type=int, help="Train this many epochs.")
@click.option("--steps", type=int, help="Train this many steps instead of epochs.")
@click.option("--batch-size", type=int, help="Images per step.")
@click.option("--seed", type=int, help="Seed for weights, noise and data order.")
@click.option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), help="bf16 autocast; auto = bf16 where it is native (CUDA, CPUs with AMX), else fp32.")
@click.option("--compile/--no-compile", "compile_", default=None, help="torch.compile G and D.")
@click.option("--data-root", help="Folder holding datasets (MNIST/raw/...); else $GANZOO_DATA, else ~/.cache/ganzoo/datasets.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Run directory.  [default: runs/VARIANT-DATASET-YYYYmmdd-HHMMSS]")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(variant, resume_dir, dataset, recipe_file, assignments, epochs, steps, batch_size, seed, device, precision,
        compile_, data_root, out_dir, quiet) -> None:
    """Train VARIANT and write a run directory, or continue one with --resume RUN_DIR.

    The run directory gets recipe.toml (fully resolved), metrics.jsonl, samples/ (fixed-noise grids;
    one row per class for conditional variants) and checkpoints/last.safetensors.
    Flags override the recipe; --set reaches every key, e.g. --set loss.class_loss_on_fakes=false.
    Ctrl-C (or SIGTERM) stops after the current step and saves a checkpoint; a second Ctrl-C aborts.
    When resuming, only --steps/--epochs (to train longer), --device and --data-root may change.

    \b
    Several GPUs or machines: launch through torchrun, e.g.
      torchrun --nproc-per-node 4 -m ganzoo run acgan --dataset mnist
    (--batch-size is per process; rank 0 writes the run directory).
    """
    from ganzoo.train import train

    overrides = cli_overrides(assignments, epochs, steps, batch_size, seed, device, precision, compile_, data_root)
    registries = cli_registries()
    if resume_dir is not None:
        fixed = {"--dataset": dataset, "--recipe": recipe_file, "--set": assignments or None, "--batch-size": batch_size,
                 "--seed": seed, "--out": out_dir, "--precision": precision, "--compile": compile_}
        changed = [flag for flag, value in fixed.items() if value is not None]
        if changed:
            raise GanzooError(f"{', '.join(changed)} cannot change when resuming: the run continues with its own recipe.")
        recipe = resumed_recipe(registries, resume_dir, variant, overrides)
        out_dir, source = resume_dir, f"{resume_dir} (resumed)"
    elif variant is None:
        raise GanzooError("name a variant to train (see `ganzoo list`), e.g. `ganzoo run acgan`, or pass --resume RUN_DIR.")
    else:
        recipe, source = resolve_recipe(registries, variant, dataset, recipe_file, overrides)
    if out_dir is None:
        from datetime import datetime

        out_dir = Path("runs") / f"{variant}-{recipe.data.name}-{datetime.now():%Y%m%d-%H%M%S}"
    console = Console(stderr=True, quiet=os.environ.get("RANK", "0") != "0")  # under torchrun, rank 0 speaks
    console.print(f"ganzoo: training [bold]{recipe.variant}[/] on {recipe.data.name} (recipe: {source}) -> {out_dir}")
    result = train(recipe, out_dir, registries, console=console, show_progress=not quiet, resume=resume_dir is not None)
    summary = ", ".join(f"{key} {value:.4f}" for key, value in result.final.items())
    console.print(f"done: {result.steps} steps, {result.images_per_sec:.0f} images/s{', ' + summary if summary else ''}")
    console.print(f"samples: {out_dir / 'samples'}  checkpoint: {out_dir / 'checkpoints' / 'last.safetensors'}")


def cli_overrides(assignments, epochs, steps, batch_size, seed, device, precision, compile_, data_root) -> list:
    """--set assignments, then the dedicated flags, as (key path, value) overrides of the recipe."""
    if epochs is not None and steps is not None:
        raise GanzooError("pass either --epochs or --steps, not both.")
    overrides = [parse_override(assignment) for assignment in assignments]
    flags = {"train.epochs": epochs, "train.steps": steps, "train.batch_size": batch_size, "train.seed": seed,
             "train.device": device, "train.precision": precision, "train.compile": compile_, "data.root": data_root}
    overrides += [(key.split("."), value) for key, value in flags.items() if value is not None]
    if epochs is not None:
        overrides.append((["train", "steps"], 0))
    return overrides


def resumed_recipe(registries, run_dir: Path, variant: str | None, overrides) -> Recipe:
    """The recipe saved in a run's checkpoint, with the budget, device and data root overrides applied."""
    checkpoint = run_dir / "checkpoints" / "last.safetensors"
    _, metadata = load_checkpoint(checkpoint)
    if variant is not None and variant != metadata["variant"]:
        raise GanzooError(f"{checkpoint} is a {metadata['variant']!r} checkpoint, not {variant!r}. "
                          f"Resume it with `ganzoo run --resume {run_dir}`.")
    registries.variants.entry(metadata["variant"])
    values = metadata["recipe"]
    for path, value in overrides:
        apply_override(values, path, value)
    return recipe_from_dict(values, str(checkpoint))


@main.command()
@click.argument("variants", nargs=-1)
@click.option("--dataset", default="mnist", show_default=True, help="Dataset (picks the recipe VARIANT-DATASET.toml).")
@click.option("--steps", type=int, default=30, show_default=True, help="Timed steps per variant (after the warm-up).")
@click.option("--warmup", type=int, default=5, show_default=True, help="Untimed steps first (compilation, caches).")
@click.option("--batch-size", type=int, help="Images per step.  [default: the recipe's]")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]), help="Precision of ganzoo's loop (the reference loop is fp32).")
@click.option("--compile/--no-compile", "compile_", default=None, help="torch.compile G and D in ganzoo's loop.")
@click.option("--data-root", help="Folder holding datasets; else $GANZOO_DATA.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override a recipe value (repeatable).")
@click.option("--no-reference", is_flag=True, help="Skip the reference loop.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def bench(variants, dataset, steps, warmup, batch_size, device, precision, compile_, data_root, assignments, no_reference, as_json) -> None:
    """Measure training speed: images/s, FLOPs per image, fraction of peak, and the speed-up over a reference loop.

    The reference loop trains the same model and losses the way the seeds' scripts do (DataLoader with
    per-image transforms, a host sync per step, fp32). Default variant: acgan.
    """
    from ganzoo.bench import bench as run_bench

    if steps <= 0 or warmup < 0:
        raise GanzooError("--steps must be greater than 0 and --warmup 0 or more.")
    registries = cli_registries()
    overrides = cli_overrides(assignments, None, None, batch_size, None, device, precision, compile_, data_root)
    console = Console(stderr=True)
    results = []
    for variant in variants or ("acgan",):
        recipe, _ = resolve_recipe(registries, variant, dataset, None, overrides)
        console.print(f"bench: {variant} on {recipe.data.name}, {warmup} warm-up + {steps} timed steps ...")
        results.append(run_bench(recipe, registries, steps, warmup, reference=not no_reference, log=console.print))
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
        return
    table = Table(title="ganzoo bench (training images/s, steady state)")
    for column in ("variant", "device", "precision", "batch", "ganzoo img/s", "reference img/s", "speed-up",
                   "MFLOP/img", "GFLOP/s", "matmul peak GFLOP/s", "of peak"):
        table.add_column(column, justify="right")
    for r in results:
        reference = f"{r.reference_images_per_sec:.0f}" if r.reference_images_per_sec else "-"
        speedup = f"{r.speedup:.2f}x" if r.speedup else "-"
        table.add_row(r.variant, r.device, r.precision, str(r.batch_size), f"{r.images_per_sec:.0f}", reference, speedup,
                      f"{r.flops_per_image / 1e6:.0f}", f"{r.achieved_gflops:.1f}", f"{r.peak_gflops:.0f}",
                      f"{100 * r.fraction_of_peak:.1f}%")
    Console(width=200).print(table)


@main.command("eval")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--metrics", "metric_names", help="Comma-separated metric names (see `ganzoo list metrics`).  [default: all]")
@click.option("--n", "count", type=int, default=10000, show_default=True, help="Generated images to evaluate (and real ones for the ceiling).")
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--data-root", help="Folder holding datasets; else the run's, else $GANZOO_DATA.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def eval_command(run_dir: Path, metric_names, count, seed, device, data_root, as_json) -> None:
    """Score a run's generator with ganzoo's evaluator, beside the same metrics for real data (the ceiling).

    The evaluator is a classifier ganzoo trains on the real training split on first use and caches
    ($GANZOO_CACHE, default ~/.cache/ganzoo). The real-data row scores N training images against the
    test split: no generator can be expected to beat it.
    """
    from ganzoo.device import resolve_device
    from ganzoo.compare import split_applicable
    from ganzoo.evaluator import EVALUATOR_IMAGE_SIZE, eval_set, load_or_train_evaluator

    if count <= 1:
        raise GanzooError(f"--n must be greater than 1, got {count}.")
    registries = cli_registries()
    names = [n.strip() for n in metric_names.split(",")] if metric_names else registries.metrics.names()
    metrics = {name: registries.metrics.get(name) for name in names}
    torch_device = resolve_device(device)
    recipe, strategy, generator, _ = load_trained_generator(registries, run_dir, torch_device)
    console = Console(stderr=True)
    data = load_dataset(registries, recipe.data, image_size=EVALUATOR_IMAGE_SIZE, root=data_root).to(torch_device)
    evaluator = load_or_train_evaluator(data, log=console.print)
    labels = torch.arange(count, device=torch_device) % data.num_classes if strategy.generator_conditional else None
    samples = generate(generator, count, recipe.model.latent_dim, labels, seed, torch_device)
    pick = torch.randperm(data.train_images.shape[0], generator=torch.Generator().manual_seed(seed))[:count].to(torch_device)
    rows = {
        recipe.variant: eval_set(evaluator, samples, labels, data),
        "real data (train vs test)": eval_set(evaluator, to_unit_range(data.train_images[pick]), data.train_labels[pick], data),
    }
    results = {row: {name: metric(evaluated) for name, metric in metrics.items()} for row, evaluated in rows.items()}
    if as_json:
        click.echo(json.dumps({"evaluator_test_accuracy": evaluator.test_accuracy, "n": count, "results": results}, indent=2))
        return
    shown, not_applicable = split_applicable(results.values(), names)
    table = Table(title=f"ganzoo eval {run_dir} (n={count}; evaluator test accuracy {evaluator.test_accuracy:.4f})")
    table.add_column("")
    for name in shown:
        table.add_column(name, justify="right")
    for row, values in results.items():
        table.add_row(row, *("-" if values[name] is None else f"{values[name]:.4f}" for name in shown))
    Console(width=200).print(table)
    if not_applicable:
        console.print(f"not applicable to {recipe.data.name}: {', '.join(not_applicable)}")


@main.command()
@click.argument("variants", nargs=-1, required=True)
@click.option("--dataset", default="mnist", show_default=True, help="Dataset for every variant.")
@click.option("--epochs", type=int, help="Budget per run in epochs.")
@click.option("--steps", type=int, help="Budget per run in steps.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Runs per variant (seeds 0..K-1); metrics as mean ± std.")
@click.option("--batch-size", type=int, help="Images per step for every variant.")
@click.option("--n", "count", type=int, default=10000, show_default=True, help="Samples per run for the metrics.")
@click.option("--metrics", "metric_names", help="Comma-separated metric names.  [default: all]")
@click.option("--device", help="auto, cpu, cuda or cuda:N.")
@click.option("--data-root", help="Folder holding datasets; else $GANZOO_DATA.")
@click.option("--set", "assignments", multiple=True, metavar="KEY=VALUE", help="Override a recipe value for every variant.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Output folder.  [default: runs/compare-YYYYmmdd-HHMMSS]")
def compare(variants, dataset, epochs, steps, seeds, batch_size, count, metric_names, device, data_root, assignments, out_dir) -> None:
    """Train VARIANTS with the same data, budget and seeds, evaluate them identically, and report side by side.

    A name that is an existing run directory is evaluated as it is. Writes report.md, report.json,
    grid.png (samples side by side, same noise), curves.png (with matplotlib) and progress-VARIANT.gif.
    A run that fails is reported with its error; the others still finish.

    \b
    Example: ganzoo compare gan cgan sgan acgan mogan --dataset mnist --steps 300
    """
    from datetime import datetime

    from ganzoo.compare import REAL_ROW, compare_recipe_factory, format_mean_std, split_applicable
    from ganzoo.compare import compare as run_compare
    from ganzoo.device import resolve_device
    from ganzoo.evaluator import EVALUATOR_IMAGE_SIZE, load_or_train_evaluator
    from ganzoo.train import train

    if seeds <= 0 or count <= 1:
        raise GanzooError("--seeds must be at least 1 and --n at least 2.")
    registries = cli_registries()
    names = [n.strip() for n in metric_names.split(",")] if metric_names else registries.metrics.names()
    metrics = {name: registries.metrics.get(name) for name in names}
    overrides = cli_overrides(assignments, epochs, steps, batch_size, None, device, None, None, data_root)
    # Resolve every recipe first: a typo fails now, not after hours of training.
    recipes = [resolve_recipe(registries, name, dataset, None, overrides)[0] for name in variants
               if not (Path(name) / "checkpoints" / "last.safetensors").is_file()]
    out_dir = out_dir or Path("runs") / f"compare-{datetime.now():%Y%m%d-%H%M%S}"
    out_dir.mkdir(parents=True, exist_ok=True)
    console = Console(stderr=True)
    torch_device = resolve_device(device or "auto")
    data_config = recipes[0].data if recipes else DataConfig(name=dataset)
    data = load_dataset(registries, data_config, image_size=EVALUATOR_IMAGE_SIZE, root=data_root).to(torch_device)
    evaluator = load_or_train_evaluator(data, log=console.print)
    make_recipe = compare_recipe_factory(registries, dataset, overrides, resolve_recipe, data.train_images.shape[0])

    def train_run(recipe, run_dir):
        console.print(f"compare: training {recipe.variant} (seed {recipe.train.seed}) -> {run_dir}")
        return train(recipe, run_dir, registries, console=console)

    summary = run_compare(list(variants), seeds, out_dir, make_recipe, train_run, registries, evaluator, data,
                          metrics, count, torch_device, log=console.print)
    names, not_applicable = split_applicable(summary.values(), names)
    table = Table(title=f"ganzoo compare ({dataset}; evaluator test accuracy {evaluator.test_accuracy:.4f}; "
                        f"{count} samples per run; {seeds} seed(s))")
    for column in ("variant", *names, "images/s", "wall s"):
        table.add_column(column, justify="right")
    for variant, row in summary.items():
        if row.get("error"):
            table.add_row(variant, f"[red]failed[/]: {row['error']}", *[""] * (len(names) + 1))
        else:
            style = "dim" if variant == REAL_ROW else None
            cells = [format_mean_std(row.get(m)) for m in (*names, "images_per_sec", "wall_seconds")]
            table.add_row(variant, *cells, style=style)
    Console(width=220).print(table)
    if not_applicable:
        console.print(f"not applicable to {dataset}: {', '.join(not_applicable)}")
    console.print(f"wrote {out_dir}/report.md, report.json, grid.png, curves.png, progress-*.gif")


@main.command("new-variant")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder to write the files into (created if missing).")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def new_variant(name: str, directory: Path, force: bool) -> None:
    """Scaffold a new variant NAME: a single-file plugin, its test and a recipe.

    Writes NAME.py (a working conditional variant to edit: loss strategy, options, hooks),
    test_NAME.py (trains it on the built-in shapes dataset and checks that it learned) and
    NAME-shapes.toml (its recipe). Nothing in ganzoo changes: load the file with --plugin.

    \b
    Example:
      ganzoo new-variant my-gan --dir my_plugins
      ganzoo --plugin my_plugins/my_gan.py run my-gan --dataset shapes
      pytest my_plugins/test_my_gan.py
    """
    from ganzoo.scaffold import scaffold_variant

    files = scaffold_variant(name, directory, cli_registries().variants.names(), overwrite=force)
    plugin = files[0]
    click.echo("wrote " + ", ".join(str(path) for path in files))
    click.echo(f"next: ganzoo --plugin {plugin} run {name} --dataset shapes    (guide: docs/plugins.md)")


@main.command()
def plugins() -> None:
    """List loaded plugins, what each registered, and the ones that failed (with why)."""
    registries = cli_registries()
    table = Table(title="ganzoo plugins")
    for column in ("plugin", "source", "status"):
        table.add_column(column)
    for report in registries.reports:
        status = f"[red]FAILED[/]: {report.error}" if report.error else ", ".join(report.registered) or "(nothing registered)"
        table.add_row(report.name, report.source, status)
    Console(width=200).print(table)
    if registries.failures:
        click.echo(f"{len(registries.failures)} plugin(s) failed: {', '.join(r.name for r in registries.failures)}", err=True)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--n", "count", type=int, help="Number of images (default 100).")
@click.option("--per-class", type=int, help="Images per class (conditional variants); rows of the grid.")
@click.option("--label", type=int, help="Class of every image (conditional variants).")
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True, help=".png (a grid) or .npz (images uint8 NxCxHxW, labels int64).")
def sample(run_dir: Path, count, per_class, label, seed, device, out_file: Path) -> None:
    """Draw images from a trained run's generator."""
    from ganzoo.device import resolve_device

    if out_file.suffix not in (".png", ".npz"):
        raise GanzooError(f"--out must end in .png or .npz, got {out_file.name!r}.")
    if count is not None and per_class is not None:
        raise GanzooError("pass either --n or --per-class, not both.")
    for name, value in (("--n", count), ("--per-class", per_class)):
        if value is not None and value <= 0:
            raise GanzooError(f"{name} must be greater than 0, got {value}.")
    torch_device = resolve_device(device)
    recipe, strategy, generator, metadata = load_trained_generator(cli_registries(), run_dir, torch_device)

    num_classes = metadata["num_classes"]
    if strategy.generator_conditional:
        if label is not None and not 0 <= label < num_classes:
            raise GanzooError(f"--label must be between 0 and {num_classes - 1}, got {label}.")
        if per_class is not None:
            labels = grid_labels(num_classes, per_class) if label is None else torch.full((per_class,), label)
        else:
            n = count or 100
            labels = torch.full((n,), label) if label is not None else torch.arange(n) % num_classes
        columns = per_class or 10
    else:
        if label is not None or per_class is not None:
            raise GanzooError(f"variant {recipe.variant!r} is unconditional: --label and --per-class do not apply; use --n.")
        labels = None
        columns = 10
    n_images = labels.numel() if labels is not None else (count or 100)
    images = generate(generator, n_images, recipe.model.latent_dim, labels, seed, torch_device)
    if out_file.suffix == ".png":
        save_grid(images, out_file, columns)
    else:
        save_npz(images, labels if labels is not None else torch.full((n_images,), -1), out_file)
    click.echo(f"wrote {n_images} images to {out_file}")


if __name__ == "__main__":
    main()
