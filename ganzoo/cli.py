"""The ``ganzoo`` command: list, run, sample, eval, compare, bench, new-variant and plugins.

A thin layer over the Python API (``ganzoo.api``, ``ganzoo.comparison``): options become arguments, results
become tables. Plugins add commands through the ``ganzoo_commands`` hook. Nothing here imports torch when
the module loads, so ``ganzoo --help`` and ``ganzoo --version`` answer at once.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ganzoo.config import CHOICES, parse_override
from ganzoo.errors import GanzooError, cut_long_words, first_line, shorten
from ganzoo.registry import KIND_NAMES
from ganzoo.version import __version__

PRECISIONS = CHOICES["train.precision"]
HELP = {"help_option_names": ["-h", "--help"]}


def echo_error(message: str) -> None:
    click.echo(f"Error: {cut_long_words(message)}", err=True)


class GanzooGroup(click.Group):
    """Loads plugin commands on demand, and turns errors into one paragraph and an exit code (2 for bad input;
    130/143 for a stop the user asked for), with a traceback only under ``--debug``."""

    builtin: dict[str, click.Command] = {}
    loaded_for: object = None  # the registries whose plugins' commands are loaded
    command_plugins: dict[str, str] = {}  # plugin command -> the plugin that added it
    command_failures: dict[str, str] = {}  # plugin -> why its ganzoo_commands hook failed

    def load_plugin_commands(self, ctx: click.Context) -> None:
        """Call every plugin's ``ganzoo_commands`` hook, one plugin at a time, noting which command came from which."""
        registries = cli_registries(ctx)
        if self.loaded_for is registries:
            return
        self.builtin = self.builtin or dict(self.commands)
        self.commands = dict(self.builtin)
        self.loaded_for, self.command_plugins, self.command_failures = registries, {}, {}
        if registries.manager is None:
            return
        for impl in registries.manager.hook.ganzoo_commands.get_hookimpls():
            before = dict(self.commands)
            try:
                impl.function(cli=self)
                replaced = [name for name, command in before.items() if self.commands.get(name) is not command]
                if replaced:
                    raise GanzooError(f"it replaces the command(s) {', '.join(replaced)}")
            except Exception as error:  # noqa: BLE001 - a broken plugin command must not break ganzoo
                self.commands = before
                self.command_failures[impl.plugin_name] = f"{type(error).__name__}: {first_line(error)}"
                continue
            self.command_plugins.update({name: impl.plugin_name for name in self.commands if name not in before})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The built-in commands (what ``ganzoo --help`` lists without importing plugins; ``ganzoo plugins``
        lists the plugins' commands)."""
        return sorted(self.builtin or self.commands)

    def get_command(self, ctx: click.Context, name: str):
        command = super().get_command(ctx, name)
        if command is None and not ctx.resilient_parsing:
            self.load_plugin_commands(ctx)
            command = super().get_command(ctx, name)
        return command

    def invoke(self, ctx: click.Context):
        from ganzoo.signals import Interrupted

        debug = bool(ctx.params.get("debug")) or bool(ctx.obj and ctx.obj.get("debug"))
        try:
            return super().invoke(ctx)
        except Interrupted as stopped:  # asked for: not an error
            click.echo(cut_long_words(str(stopped)), err=True)
            sys.exit(stopped.exit_code)
        except GanzooError as error:
            if debug:
                raise
            echo_error(str(error))
            sys.exit(getattr(error, "exit_code", 2))
        except OSError as error:  # paths that cannot be read or written, too long, full disks, ...
            if debug:
                raise
            where = f" ({shorten(str(error.filename))})" if error.filename else ""
            echo_error(f"{error.strerror or first_line(error)}{where}. Check the path and the free disk space.")
            sys.exit(2)
        except MemoryError:
            if debug:
                raise
            echo_error("out of memory. Ask for fewer images at once, a smaller batch or a smaller model.")
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("Aborted at once; the last checkpoint written, if any, is intact.", err=True)
            sys.exit(130)


def cli_registries(ctx: click.Context | None = None):
    """The registries, with the plugin files given to ``ganzoo --plugin`` loaded."""
    from ganzoo.plugins import get_registries

    ctx = ctx or click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return get_registries(root.obj["plugins"] if root and root.obj else ())


def plugin_paths(ctx: click.Context | None = None) -> tuple[str, ...]:
    ctx = ctx or click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return root.obj["plugins"] if root and root.obj else ()


def complete_names(kind: str) -> Callable[..., list]:
    """Shell completion of registered names (variants, datasets): ``eval "$(_GANZOO_COMPLETE=bash_source ganzoo)"``."""

    def complete(ctx, param, incomplete: str) -> list:
        try:
            return [name for name in cli_registries().by_kind[kind].names() if name.startswith(incomplete)]
        except Exception:  # noqa: BLE001 - completion must never print a traceback into the user's shell
            return []

    return complete


def warn_if_busy(console) -> None:
    """Warn when other processes already load every core: threads then fight, and training slows down a lot.
    Not when the user has chosen a thread count (``ganzoo --threads N``): that is what the warning suggests."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    if root and root.obj and root.obj.get("threads"):
        return
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
    except (OSError, AttributeError):
        return
    if load >= cores:
        console.print(
            f"[yellow]note[/]: the machine is busy (load average {load:.1f} on {cores} cores). If this "
            f"runs slowly, give each job fewer threads: ganzoo --threads 1 ..."
        )


def console(stderr: bool = True):
    from ganzoo.sinks import make_console

    return make_console(stderr)


def print_table(title: str, columns: list[str], rows: list[list[str]], right_from: int = 1) -> None:
    """A table that fits the terminal (cells wrap); piped to a file or a program, each row stays on one line.
    Every cell is plain text, never rich markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title))
    for index, column in enumerate(columns):
        table.add_column(column, justify="right" if index >= right_from else "left")
    for row in rows:
        table.add_row(*(Text(str(cell)) for cell in row))
    out = Console(highlight=False)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(highlight=False, width=1000)
    out.print(table)


class TaskProgress:
    """A progress display for work outside training (evaluator, sampling, CAS): a bar on a terminal, else a line
    at the start of each task. Call it as ``progress(what, done, total)``."""

    def __init__(self, out):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.out = out
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=out,
            transient=True,
            disable=not out.is_terminal,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, what: str, done: int, total: int) -> None:
        if what not in self.tasks:
            if not self.out.is_terminal:
                self.out.print(f"{what} ({total})...", markup=False)
            self.tasks[what] = self.progress.add_task(what, total=total)
        self.progress.update(self.tasks[what], completed=done, total=total)
        if done >= total:
            self.progress.remove_task(self.tasks.pop(what))

    def __enter__(self) -> TaskProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.progress.stop()


# -- options shared by the commands that resolve recipes ------------------------------------------------------

RECIPE_FLAGS = {
    "epochs": click.option("--epochs", type=int, help="Train this many epochs."),
    "steps": click.option("--steps", type=int, help="Train this many steps instead of epochs."),
    "batch_size": click.option("--batch-size", type=int, help="Images per step (per process under torchrun)."),
    "seed": click.option("--seed", type=int, help="Seed for weights, noise and data order."),
    "device": click.option("--device", help="auto (CUDA when present), cpu, cuda or cuda:N."),
    "precision": click.option(
        "--precision",
        type=click.Choice(PRECISIONS),
        help="bf16 autocast; auto = bf16 where it is native (CUDA, CPUs with AMX), else fp32.",
    ),
    "compile": click.option("--compile/--no-compile", "compile", default=None, help="torch.compile G and D."),
    "data_root": click.option(
        "--data-root", help="Folder holding datasets (MNIST/raw/...); else $GANZOO_DATA, else ~/.cache/ganzoo/datasets."
    ),
    "assignments": click.option(
        "--set",
        "assignments",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override any recipe value, e.g. --set train.lr_generator=1e-4 (repeatable).",
    ),
}


def recipe_flags(*names: str):
    """Add the named recipe flags to a command and hand them to it as one ``overrides`` (``ganzoo.Overrides``)."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            from ganzoo.api import Overrides

            values = {name: kwargs.pop(name) for name in names}
            keys = [parse_override(assignment) for assignment in values.pop("assignments", None) or ()]
            return command(*args, overrides=Overrides(**values, keys=keys), **kwargs)

        for name in reversed(names):
            wrapper = RECIPE_FLAGS[name](wrapper)
        return wrapper

    return decorate


def print_version(ctx: click.Context, param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"ganzoo {__version__}")
        ctx.exit()


@click.group(
    cls=GanzooGroup,
    context_settings=HELP,
    epilog="Plugins can add commands: `ganzoo plugins` lists them. Shell completion (bash; zsh and fish "
    'likewise): eval "$(_GANZOO_COMPLETE=bash_source ganzoo)"',
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=print_version,
    help="Print ganzoo's version and exit.",
)
@click.option(
    "--plugin",
    "plugin_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=True),
    help="A single-file plugin (FILE.py) or a folder of them to load (repeatable); also $GANZOO_PLUGINS_DIR.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="CPU threads for PyTorch (default: one per core). Give each of several jobs on one machine its share.",
)
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def main(ctx: click.Context, plugin_files: tuple[str, ...], threads: int | None, debug: bool) -> None:
    """ganzoo: train, sample, evaluate, compare and benchmark GAN variants through one training loop.

    \b
    Examples:
      ganzoo list variants
      ganzoo run acgan --dataset mnist --data-root ../shared/datasets
      ganzoo run cgan --steps 500 --set model.conditioning=hidden --set loss.matching_aware=true
      ganzoo run --resume runs/acgan-mnist-20261122-101500 --steps 20000
      ganzoo sample runs/acgan-mnist-20261122-101500 --per-class 10 --out grid.png
      ganzoo eval runs/acgan-mnist-20261122-101500 --checkpoint best
      ganzoo compare gan cgan sgan acgan mogan --dataset mnist --steps 300
      ganzoo bench acgan gan --steps 50
      torchrun --nproc-per-node 2 -m ganzoo run acgan
      ganzoo new-variant myvariant --dir my_plugins   # then: ganzoo --plugin my_plugins/myvariant.py run myvariant
    """
    ctx.obj = {"debug": debug, "plugins": tuple(str(Path(p).resolve()) for p in plugin_files), "threads": threads}
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


@main.command("list")
@click.argument("kind", type=click.Choice(KIND_NAMES), default="variants", metavar="[KIND]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(kind: str, as_json: bool) -> None:
    """List registered variants, generators, discriminators, losses, adversarial loss flavours, datasets or metrics."""
    registries = cli_registries()
    if registries.failures:
        names = ", ".join(report.name for report in registries.failures)
        click.echo(f"warning: plugin(s) {names} failed to load; see `ganzoo plugins`.", err=True)
    rows = [{"name": e.name, "description": e.description, "plugin": e.plugin} for e in registries.by_kind[kind]]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    print_table(f"ganzoo {kind}", ["name", "description", "plugin"], [list(row.values()) for row in rows], right_from=3)


@main.command()
@click.argument("variant", required=False, shell_complete=complete_names("variants"))
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(path_type=Path),
    help="Continue the run in this directory from its last checkpoint.",
)
@click.option(
    "--dataset",
    default=None,
    shell_complete=complete_names("datasets"),
    help="Dataset name (see `ganzoo list datasets`); picks the recipe VARIANT-DATASET.toml.  "
    "[default: the --recipe file's, else mnist]",
)
@click.option(
    "--recipe", "recipe_file", type=click.Path(path_type=Path), help="A recipe TOML file instead of the built-in one."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Run directory.  [default: runs/VARIANT-DATASET-YYYYmmdd-HHMMSS]",
)
@click.option("--quiet", is_flag=True, help="No live progress bar: plain log lines (as when output is not a terminal).")
@recipe_flags("epochs", "steps", "batch_size", "seed", "device", "precision", "compile", "data_root", "assignments")
def run(variant, resume_dir, dataset, recipe_file, out_dir, quiet, overrides) -> None:
    """Train VARIANT (or the variant a --recipe file names) and write a run directory, or continue one
    with --resume RUN_DIR.

    The run directory gets recipe.toml (fully resolved), metrics.jsonl, samples/ (fixed-noise grids;
    one row per class for conditional variants) and checkpoints/last.safetensors (and best.safetensors
    with --set train.keep_best=fid). Flags override the recipe; --set reaches every key, e.g.
    --set loss.class_loss_on_fakes=false. Ctrl-C (or SIGTERM) stops after the current step and saves a
    checkpoint; a second Ctrl-C aborts. When resuming, only --steps/--epochs (to train longer), --device
    and --data-root may change.

    \b
    Several GPUs or machines: launch through torchrun, e.g.
      torchrun --nproc-per-node 4 -m ganzoo run acgan --dataset mnist
    (--batch-size is per process; rank 0 writes the run directory).
    """
    from ganzoo.api import train
    from ganzoo.distributed import is_main_process

    out = console()
    out.quiet = not is_main_process()  # under torchrun, rank 0 speaks
    warn_if_busy(out)
    trained = train(
        variant,
        dataset=dataset,
        recipe=recipe_file,
        out=out_dir,
        resume=resume_dir,
        overrides=overrides,
        progress=not quiet,
        console=out,
        plugins=plugin_paths(),
    )
    summary = ", ".join(f"{key} {value:.4g}" for key, value in trained.result.final.items())
    out.print(
        f"done: {trained.steps} steps, {trained.images_per_sec:.0f} images/s on average"
        + (f", {summary}" if summary else ""),
        markup=False,
    )
    out.print(f"samples: {trained.dir.samples_dir}  checkpoint: {trained.dir.checkpoint()}", markup=False)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--n", "count", type=int, help="Number of images (default 100).")
@click.option("--per-class", type=int, help="Images per class (conditional variants); rows of the grid.")
@click.option("--label", type=int, help="Class of every image (conditional variants).")
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed.")
@click.option(
    "--checkpoint",
    type=click.Choice(["last", "best"]),
    default="last",
    show_default=True,
    help="Which checkpoint's generator (best: the best evaluation's, with train.keep_best).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    required=True,
    help=".png (a grid) or .npz (images uint8 NxCxHxW, labels int64).",
)
def sample(run_dir: Path, count, per_class, label, seed, checkpoint, device, out_file: Path) -> None:
    """Draw images from a trained run's generator into a grid (.png) or an array file (.npz)."""
    from ganzoo.api import load_run
    from ganzoo.sampling import save_grid, save_npz

    if out_file.suffix not in (".png", ".npz"):
        raise GanzooError(f"--out must end in .png or .npz, got {shorten(out_file.name)}.")
    if count is not None and per_class is not None:
        raise GanzooError("pass either --n or --per-class, not both.")
    for name, value in (("--n", count), ("--per-class", per_class)):
        if value is not None and value <= 0:
            raise GanzooError(f"{name} must be greater than 0, got {value}.")
    check_writable_file(out_file)
    trained = load_run(run_dir, checkpoint, device, plugin_paths())
    if not trained.conditional and (label is not None or per_class is not None):
        raise GanzooError(
            f"variant {trained.variant!r} is unconditional: --label and --per-class do not apply; use --n."
        )
    labels = trained.class_rows(per_class, label) if per_class is not None else trained.labels_for(count, label)
    images = trained.sample(count, labels, seed)
    if out_file.suffix == ".png":
        save_grid(images, out_file, per_class or 10)
    else:
        import torch

        save_npz(images, labels if labels is not None else torch.full((images.shape[0],), -1), out_file)
    click.echo(f"wrote {images.shape[0]} images to {out_file}")


def check_writable_file(path: Path) -> None:
    """Fail before work when ``path`` cannot be written as a file."""
    if path.is_dir():
        raise GanzooError(f"--out {path} is a folder; name a file in it, e.g. {path / ('samples' + path.suffix)}.")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise GanzooError(f"--out {path}: {parent} is a file, not a folder.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".ganzoo-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise GanzooError(
            f"cannot write {path} ({error.strerror or first_line(error)}). Pass --out with a writable place."
        ) from None


@main.command("eval")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--metrics", "metric_names", help="Comma-separated metric names (see `ganzoo list metrics`).  [default: all]"
)
@click.option(
    "--n",
    "count",
    type=int,
    default=10000,
    show_default=True,
    help="Generated images to evaluate (and real ones for the ceiling).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Noise seed.")
@click.option(
    "--checkpoint", type=click.Choice(["last", "best"]), default="last", show_default=True, help="Which checkpoint."
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--data-root", help="Folder holding datasets; else the run's, else $GANZOO_DATA.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def eval_command(run_dir: Path, metric_names, count, seed, checkpoint, device, data_root, as_json) -> None:
    """Score a run's generator with ganzoo's evaluator, beside the same metrics for real data (the ceiling).

    The evaluator is a classifier of the dataset's real images: MNIST's and shapes' ship with ganzoo;
    others are trained on first use and cached ($GANZOO_CACHE, default ~/.cache/ganzoo). The real-data row scores N
    training images against the test split: no generator can be expected to beat it.
    """
    from ganzoo.api import evaluate, load_run
    from ganzoo.report import split_applicable

    trained = load_run(run_dir, checkpoint, device, plugin_paths())
    out = console()
    with TaskProgress(out) as progress:
        result = evaluate(
            trained,
            metrics=parse_metric_names(metric_names),
            n=count,
            seed=seed,
            data_root=data_root,
            log=lambda text: out.print(text, markup=False),
            progress=progress,
        )
    if as_json:
        click.echo(
            json.dumps({**result.to_dict(), "evaluator_test_accuracy": result.evaluator["test_accuracy"]}, indent=2)
        )
        return
    shown, not_applicable = split_applicable(result.rows.values(), result.metrics)
    rows = [
        [row, *("-" if values[name] is None else f"{values[name]:.4g}" for name in shown)]
        for row, values in result.rows.items()
    ]
    print_table(
        f"ganzoo eval {run_dir} (n={count}; evaluator test accuracy {result.evaluator['test_accuracy']:.4f})",
        ["", *shown],
        rows,
    )
    if not_applicable:
        out.print(f"not applicable to {trained.recipe.data.name}: {', '.join(not_applicable)}", markup=False)


def parse_metric_names(text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    registries = cli_registries()
    for name in names:
        registries.metrics.entry(name)  # unknown: a did-you-mean error now, not after sampling
    return names


@main.command()
@click.argument("variants", nargs=-1, required=True, shell_complete=complete_names("variants"))
@click.option(
    "--dataset",
    shell_complete=complete_names("datasets"),
    help="Dataset for every variant to train; run directories must be of it.  [default: mnist, or the runs' own]",
)
@click.option(
    "--seeds", type=int, default=1, show_default=True, help="Runs per variant (seeds 0..K-1); metrics as mean ± std."
)
@click.option("--n", "count", type=int, default=10000, show_default=True, help="Samples per run for the metrics.")
@click.option("--metrics", "metric_names", help="Comma-separated metric names.  [default: all]")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Output folder.  [default: runs/compare-YYYYmmdd-HHMMSS]"
)
@recipe_flags("epochs", "steps", "batch_size", "device", "data_root", "assignments")
def compare(variants, dataset, seeds, count, metric_names, out_dir, overrides) -> None:
    """Train VARIANTS with the same data, budget and seeds, evaluate them identically, and report side by side.

    A name that is an existing run directory (or a folder of them, one per seed) is evaluated as it is.
    Writes report.html (all of it on one page), report.md, report.json, grid.png (samples side by side,
    same noise; panel-VARIANT.png each), curves.png (with matplotlib) and progress-VARIANT.gif.
    A run that fails is reported with its error; the others still finish. Ctrl-C or SIGTERM stops the
    whole comparison and keeps the finished runs and a partial report.

    \b
    Example: ganzoo compare gan cgan sgan acgan mogan --dataset mnist --steps 300
    """
    from ganzoo.comparison import compare as run_compare
    from ganzoo.report import split_applicable, table_rows

    out = console()
    warn_if_busy(out)
    with TaskProgress(out) as progress:
        comparison = run_compare(
            variants,
            dataset=dataset,
            seeds=seeds,
            n=count,
            metrics=parse_metric_names(metric_names),
            out=out_dir,
            overrides=overrides,
            console=out,
            progress=progress,
            plugins=plugin_paths(),
        )
    summary = comparison.summary
    names, not_applicable = split_applicable(summary.values(), list(comparison.scorer.metrics))
    accuracy = comparison.scorer.evaluator.test_accuracy
    print_table(
        f"ganzoo compare ({comparison.spec.dataset}; evaluator test accuracy {accuracy:.4f}; {count} samples "
        f"per run; {seeds} seed(s))",
        ["variant", *names, "images/s", "wall s"],
        table_rows(summary, names),
    )
    if not_applicable:
        out.print(f"not applicable to {comparison.spec.dataset}: {', '.join(not_applicable)}", markup=False)
    out.print(
        f"wrote {comparison.spec.out_dir}/report.html, report.md, report.json, grid.png, curves.png, progress-*.gif",
        markup=False,
    )


@main.command()
@click.argument("variants", nargs=-1, shell_complete=complete_names("variants"))
@click.option("--dataset", default="mnist", show_default=True, help="Dataset (picks the recipe VARIANT-DATASET.toml).")
@click.option("--steps", type=int, default=30, show_default=True, help="Timed steps per variant (after the warm-up).")
@click.option("--warmup", type=int, default=5, show_default=True, help="Untimed steps first (compilation, caches).")
@click.option(
    "--recipe", "recipe_file", help="A recipe file or name (e.g. acgan-mnist-seed) instead of the variant's own."
)
@click.option("--no-reference", is_flag=True, help="Skip the reference loop.")
@click.option(
    "--seed-script",
    is_flag=True,
    help="Also time PyTorch-GAN's acgan.py as it trains (MNIST, 32x32, batch 64): the code users start from.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@recipe_flags("batch_size", "device", "precision", "compile", "data_root", "assignments")
def bench(variants, dataset, steps, warmup, recipe_file, no_reference, seed_script, as_json, overrides) -> None:
    """Measure training speed: images/s, FLOPs per image, fraction of peak, and the speed-up over a reference loop.

    The reference loop trains the same model and losses the way the seeds' scripts do (DataLoader with
    per-image transforms, a host sync per step, fp32). Default variant: acgan.
    """
    from ganzoo.bench import bench as run_bench
    from ganzoo.build import resolve_recipe

    if steps <= 0 or warmup < 0:
        raise GanzooError("--steps must be greater than 0 and --warmup 0 or more.")
    registries = cli_registries()
    out = console()
    warn_if_busy(out)
    results = []
    for variant in variants or ("acgan",):
        recipe, _ = resolve_recipe(registries, variant, dataset, recipe_file, overrides.as_list())
        out.print(f"bench: {variant} on {recipe.data.name}, {warmup} warm-up + {steps} timed steps ...", markup=False)
        results.append(
            run_bench(
                recipe,
                registries,
                steps,
                warmup,
                reference=not no_reference,
                seed_script=seed_script,
                log=lambda text: out.print(text, markup=False),
            )
        )
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
        return

    def speed(value: float | None, speedup: float | None) -> str:
        return f"{value:.0f} ({speedup:.2f}x)" if value else "-"

    rows = [
        [
            r.variant,
            r.device,
            r.precision,
            r.batch_size,
            f"{r.images_per_sec:.0f}",
            speed(r.reference_images_per_sec, r.speedup),
            speed(r.seed_script_images_per_sec, r.seed_script_speedup),
            f"{r.flops_per_image / 1e6:.0f}",
            f"{r.achieved_gflops:.1f}",
            f"{r.peak_gflops:.0f}",
            f"{100 * r.fraction_of_peak:.1f}%",
        ]
        for r in results
    ]
    columns = [
        "variant",
        "device",
        "precision",
        "batch",
        "ganzoo img/s",
        "reference img/s (ganzoo's speed-up)",
        "seed script img/s (speed-up)",
        "MFLOP/img",
        "GFLOP/s",
        "matmul peak GFLOP/s",
        "of peak",
    ]
    print_table("ganzoo bench (training images/s, steady state)", columns, rows, right_from=3)


@main.command("new-variant")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write the files into (created if missing).",
)
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
    click.echo(f"next: ganzoo --plugin {plugin} run {name} --dataset shapes")
    click.echo(
        "guide: the docstrings of the three files, `python -m pydoc ganzoo.hookspecs` (every hook), and "
        "`ganzoo guide` (the plugin author's guide)"
    )


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List loaded plugins, what each registered (commands included), and the ones that failed (with why)."""
    registries = cli_registries()
    group = ctx.find_root().command
    group.load_plugin_commands(ctx.find_root())
    rows = []
    for report in registries.reports:
        commands = [f"command {name}" for name, plugin in group.command_plugins.items() if plugin == report.name]
        error = report.error or group.command_failures.get(report.name)
        rows.append(
            {
                "plugin": report.name,
                "source": report.source,
                "registered": [*report.registered, *commands],
                "error": error,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        print_table(
            "ganzoo plugins",
            ["plugin", "source", "status"],
            [
                [
                    row["plugin"],
                    row["source"],
                    f"FAILED: {row['error']}"
                    if row["error"]
                    else ", ".join(row["registered"]) or "(nothing registered)",
                ]
                for row in rows
            ],
            right_from=3,
        )
    failed = [row["plugin"] for row in rows if row["error"]]
    if failed and not as_json:
        click.echo(f"{len(failed)} plugin(s) failed: {', '.join(failed)}", err=True)


@main.command()
@click.argument("topic", type=click.Choice(["plugins", "python-api", "architecture"]), default="plugins")
def guide(topic: str) -> None:
    """Print one of ganzoo's guides (they ship with the package): plugins, python-api or architecture."""
    from importlib import resources

    click.echo((resources.files("ganzoo") / "guides" / f"{topic}.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
