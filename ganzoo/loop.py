"""The one training loop, for every variant.

``train`` reads top to bottom: set up (the trainer, the budget, the data order), resume, train (each step
one call to ``Trainer.step``, then the phases that come due: log, samples, evaluation, checkpoint), and
finish (checkpoint first, evaluate after). Its state lives in small named objects: ``DataOrder`` (which
images), ``LogWindow`` (numbers since the last log step; the only host sync), ``Checkpointer`` (the
training state in safetensors, and the best one), ``Evaluation`` (the loss's own numbers and the sample
metrics) and the run's log (metrics.jsonl, the console, plugin sinks).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape
from torch import nn

from ganzoo.checkpoint import (
    host_rng_metadata,
    load_checkpoint,
    load_module,
    load_optimizer,
    module_tensors,
    optimizer_state,
    restore_rngs,
    rng_tensors,
    save_checkpoint,
)
from ganzoo.config import Recipe, dumps_toml
from ganzoo.device import configure_backends, out_of_memory_is_an_error, resolve_device, uses_bf16
from ganzoo.distributed import DistributedContext, init_distributed
from ganzoo.errors import GanzooError, first_line
from ganzoo.plugins import get_registries
from ganzoo.registry import Registries
from ganzoo.rundir import RunDir, write_atomically
from ganzoo.sampling import GRID_COLUMNS, Latent, generate, preview_labels, save_grid
from ganzoo.schedule import Budget, DataOrder
from ganzoo.signals import Interrupted, StopOnSignal
from ganzoo.sinks import ConsoleLog, LogSink, MetricsFile, make_console
from ganzoo.trainer import ExponentialAverage, Trainer, build_trainer  # noqa: F401 - re-exported for tests and plugins
from ganzoo.version import __version__


@dataclass
class RunResult:
    run_dir: Path
    steps: int
    images_per_sec: float  # averaged over the steps this call trained
    final: dict[str, float] = field(default_factory=dict)
    modules: dict[str, nn.Module] = field(default_factory=dict)  # the trained G, D (and extras such as C)


class LogWindow:
    """Sums the step's logged numbers on the device until a log step: the loop's only host sync."""

    def __init__(self, images_per_step: int):
        self.images_per_step = images_per_step
        self.sums: dict[str, torch.Tensor] = {}
        self.steps, self.started = 0, time.perf_counter()
        self.total_steps, self.total_seconds = 0, 0.0

    def add(self, logs: dict[str, torch.Tensor]) -> None:
        for name, value in logs.items():
            self.sums[name] = self.sums[name] + value if name in self.sums else value
        self.steps += 1

    def flush(self) -> dict[str, float]:
        """The means since the last flush and the images/s, as plain floats."""
        means = {name: value.item() / self.steps for name, value in self.sums.items()}
        seconds = time.perf_counter() - self.started
        self.total_steps, self.total_seconds = self.total_steps + self.steps, self.total_seconds + seconds
        means["images_per_sec"] = self.steps * self.images_per_step / seconds
        self.sums, self.steps, self.started = {}, 0, time.perf_counter()
        return means

    def record(
        self, step: int, budget: Budget, distributed: DistributedContext, device: torch.device, log: RunLog, run: RunDir
    ) -> dict[str, Any]:
        """The "train" record of a log step; non-finite numbers (on any rank) stop training as diverged."""
        means = self.flush()
        if distributed.any_rank(not all(math.isfinite(v) for v in means.values()), device):
            log.write({"kind": "diverged", "step": step, "reason": "non-finite loss", **means})
            raise GanzooError(
                f"training diverged at step {step} (non-finite loss: {means}). The last good checkpoint "
                f"({run.checkpoint()}) was kept. Lower the learning rates or change the recipe."
            )
        return {
            "kind": "train",
            "step": step,
            "epoch": budget.epoch(step),
            **{k: round(v, 6) for k, v in means.items()},
        }

    def average(self) -> dict[str, float]:
        return {"images_per_sec": round(self.average_images_per_sec, 1)}

    @property
    def average_images_per_sec(self) -> float:
        return self.total_steps * self.images_per_step / self.total_seconds if self.total_seconds else 0.0


class RunLog:
    """Writes each record to every sink (metrics.jsonl first). Ranks other than 0 have no sinks."""

    def __init__(self, sinks: list[LogSink], console: ConsoleLog | None = None):
        self.sinks, self.console = sinks, console

    def write(self, record: dict[str, Any]) -> None:
        for sink in self.sinks:
            sink.write(record)

    def add_image(self, tag: str, step: int, path: Path) -> None:
        for sink in self.sinks:
            sink.add_image(tag, step, path)

    def advance(self) -> None:
        if self.console is not None:
            self.console.advance()

    def task_progress(self, what: str, done: int, total: int) -> None:
        """Progress of work inside the run (``ganzoo.api.Progress``), shown by the console."""
        if self.console is not None:
            self.console.task_progress(what, done, total)

    def close(self) -> None:
        for sink in reversed(self.sinks):
            sink.close()


class Checkpointer:
    """Saves and restores the whole training state (modules, optimizers, RNGs, data order, step), and keeps
    the best evaluation's state when ``train.keep_best`` names a metric."""

    def __init__(
        self,
        run: RunDir,
        trainer: Trainer,
        order: DataOrder,
        metadata: dict[str, Any],
        writes: bool,
        keep_best: str = "",
        higher_is_better: bool | None = None,
    ):
        self.run, self.trainer, self.order, self.metadata, self.writes = run, trainer, order, metadata, writes
        self.keep_best, self.higher_is_better = keep_best, higher_is_better
        self.best: dict[str, Any] | None = None  # {"metric", "value", "step"} of the best checkpoint
        self.seconds_before, self.started = 0.0, time.perf_counter()  # wall time of the run, over all its resumes

    @classmethod
    def for_run(
        cls, run: RunDir, trainer: Trainer, order: DataOrder, registries: Registries, writes: bool
    ) -> Checkpointer:
        recipe, data = trainer.recipe, trainer.data
        metadata = {
            "ganzoo_version": __version__,
            "variant": recipe.variant,
            "recipe": recipe.to_dict(),
            "num_classes": data.num_classes,
            "image_shape": list(data.image_shape),
        }
        keep_best = recipe.train.keep_best
        direction = registries.metrics.entry(keep_best).higher_is_better if keep_best else None
        return cls(run, trainer, order, metadata, writes, keep_best, direction)

    def check_finite(self, step: int, log: RunLog) -> None:
        # Every rank checks (their weights are identical), so under torchrun all of them stop together.
        if not all(torch.isfinite(p).all() for module in self.trainer.modules.values() for p in module.parameters()):
            log.write({"kind": "diverged", "step": step, "reason": "non-finite weights"})
            raise GanzooError(
                f"training diverged at step {step}: weights are not finite. The last good checkpoint "
                f"({self.run.checkpoint()}) was kept. Lower the learning rates or change the recipe."
            )

    def save(self, step: int, log: RunLog, which: str = "last") -> None:
        self.check_finite(step, log)
        if not self.writes:
            return
        tensors = {
            key: value
            for name, module in self.trainer.modules.items()
            for key, value in module_tensors(name, module).items()
        }
        optimizers = {}
        for name, optimizer in self.trainer.optimizers.items():
            optimizer_tensors, optimizers[name] = optimizer_state(name, optimizer)
            tensors.update(optimizer_tensors)
        tensors.update({**rng_tensors(), **self.order.state()})
        save_checkpoint(
            self.run.checkpoint(which),
            tensors,
            {
                **self.metadata,
                "step": step,
                "optimizers": optimizers,
                "best": self.best,
                "seconds": self.seconds(),
                **host_rng_metadata(),
            },
        )

    def restore(self, saved: tuple[dict[str, torch.Tensor], dict[str, Any]]) -> int:
        """Load a checkpoint into the trainer; returns its step."""
        tensors, metadata = saved
        path = self.run.checkpoint()
        for name, module in self.trainer.modules.items():
            load_module(module, tensors, name, path)
        try:
            for name, optimizer in self.trainer.optimizers.items():
                load_optimizer(optimizer, name, tensors, metadata["optimizers"][name])
            self.order.load_state(tensors)
            restore_rngs(tensors, metadata)
            step = int(metadata["step"])
        except GanzooError:
            raise
        except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as error:
            raise GanzooError(
                f"checkpoint {path} does not hold a valid training state ({type(error).__name__}: "
                f"{first_line(error)}). Start a new run."
            ) from None
        self.best = metadata.get("best")
        self.seconds_before = float(metadata.get("seconds", 0.0))
        return step

    def seconds(self) -> float:
        """Wall seconds the run has taken so far (training, evaluations, checkpoints), over all its resumes."""
        return self.seconds_before + time.perf_counter() - self.started

    def consider(self, step: int, results: dict[str, float], log: RunLog) -> None:
        """Keep ``step``'s state as the best one if its ``keep_best`` metric beats the best so far."""
        value = results.get(self.keep_best)
        if not self.keep_best or value is None or not math.isfinite(value):
            return
        if (
            self.best is None
            or (value > self.best["value"]) == bool(self.higher_is_better)
            and value != self.best["value"]
        ):
            self.best = {"metric": self.keep_best, "value": value, "step": step}
            self.save(step, log, "best")
            log.write({"kind": "best", "step": step, self.keep_best: value})


class Evaluation:
    """What a run reports at evaluation steps: the loss strategy's own numbers (e.g. SGAN's test accuracy, from
    D's average when kept) and ``train.eval_metrics`` of fresh samples (and ``keep_best``'s metric). Each result
    is logged and offered to the checkpointer as a candidate for the best checkpoint."""

    def __init__(
        self,
        trainer: Trainer,
        registries: Registries,
        log: RunLog,
        checkpoints: Checkpointer,
        budget: Budget,
        writes: bool,
        console: Console,
    ):
        self.trainer, self.registries, self.log, self.checkpoints = trainer, registries, log, checkpoints
        self.budget, self.writes, self.console = budget, writes, console
        cfg = trainer.recipe.train
        self.names = list(dict.fromkeys([*cfg.eval_metrics, *([cfg.keep_best] if cfg.keep_best else [])]))
        self._scorer = None
        self.warned = False  # about a keep_best metric that does not apply
        if self.names and writes and trainer.data.exact_evaluator() is None:
            from ganzoo.evaluator import cache_dir, check_writable

            check_writable(cache_dir() / "evaluators")  # now, not after hours of training

    @property
    def scorer(self):
        if self._scorer is None:  # the evaluator loads (or trains) on first use, not at start-up
            from ganzoo.build import load_dataset
            from ganzoo.evaluator import EVALUATOR_IMAGE_SIZE, Scorer, load_evaluator

            recipe = self.trainer.recipe
            data = load_dataset(self.registries, recipe.data, image_size=EVALUATOR_IMAGE_SIZE).to(self.trainer.device)
            metrics = {name: self.registries.metrics.entry(name) for name in self.names}
            progress = self.log.task_progress
            self._scorer = Scorer(
                load_evaluator(data, log=self.console.print, progress=progress), data, metrics, progress
            )
        return self._scorer

    def results(self) -> dict[str, float]:
        trainer = self.trainer
        results = dict(trainer.strategy.evaluate(trainer.evaluated_discriminator, trainer.data))
        if self.names:
            cfg, model = trainer.recipe.train, trainer.recipe.model
            values = self.scorer.score_generator(
                trainer.sampling_generator,
                Latent.of(model),
                trainer.strategy.generator_conditional,
                cfg.eval_samples,
                cfg.seed + 1,
                trainer.device,
            )
            results.update({name: value for name, value in values.items() if value is not None})
        return results

    def __call__(self, step: int) -> dict[str, float]:
        if not self.writes:
            return {}
        try:
            results = self.results()
        except GanzooError:
            raise
        except Exception as error:  # noqa: BLE001 - a failing metric must not end (or lose) a long run
            reason = f"{type(error).__name__}: {first_line(error)}"
            self.console.print(f"[yellow]evaluation at step {step} failed[/]: {escape(reason)}")
            self.log.write({"kind": "eval", "step": step, "error": reason})
            return {}
        if results:
            self.log.write({"kind": "eval", "step": step, "epoch": self.budget.epoch(step), **results})
            self.checkpoints.consider(step, results, self.log)
        keep_best = self.trainer.recipe.train.keep_best
        if keep_best and keep_best not in results and not self.warned:
            self.warned = True
            self.console.print(
                f"[yellow]note[/]: train.keep_best = {escape(repr(keep_best))} does not apply to this run (the metric "
                f"gave no value), so no best checkpoint is kept. Pick a metric that applies: ganzoo list metrics."
            )
        return results


class SampleGrids:
    """The fixed-noise grid of samples (one row per class for a conditional G) at sample steps and at the end."""

    def __init__(self, trainer: Trainer, run: RunDir, log: RunLog, writes: bool):
        data, device = trainer.data, trainer.device
        self.trainer, self.run, self.log, self.writes = trainer, run, log, writes
        self.count, self.labels = preview_labels(
            data.num_classes, trainer.strategy.generator_conditional, data.image_shape, device
        )

    def __call__(self, step: int) -> None:
        if self.writes:
            recipe = self.trainer.recipe
            images = generate(
                self.trainer.sampling_generator,
                self.count,
                Latent.of(recipe.model),
                self.labels,
                seed=recipe.train.seed,
                device=self.trainer.device,
            )
            save_grid(images, self.run.sample_grid(step), GRID_COLUMNS)
            self.log.add_image("samples", step, self.run.sample_grid(step))


def train(
    recipe: Recipe,
    run_dir: Path,
    registries: Registries | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    resume: bool = False,
) -> RunResult:
    """Train ``recipe`` and write the run directory (or continue it, with ``resume``).

    Under torchrun each process calls this; rank 0 alone writes to ``run_dir`` and holds its lock.
    """
    registries = registries or get_registries()
    device = resolve_device(recipe.train.device)
    distributed = init_distributed(device.type)
    if distributed.enabled and device.type == "cuda":
        device = torch.device("cuda", distributed.local_rank)
    run = RunDir(run_dir)
    try:
        with run.locked() if distributed.is_main else contextlib.nullcontext():
            with out_of_memory_is_an_error(device, recipe.train.batch_size):
                return _train(
                    recipe, run, registries, console or make_console(), show_progress, resume, device, distributed
                )
    finally:
        distributed.close()


def _train(
    recipe: Recipe,
    run: RunDir,
    registries: Registries,
    console: Console,
    show_progress: bool,
    resume: bool,
    device: torch.device,
    distributed: DistributedContext,
) -> RunResult:
    cfg, main = recipe.train, distributed.is_main
    configure_backends(device)

    # Set up: what one step does, how many steps, which images each sees, and what a checkpoint holds.
    saved = load_checkpoint(run.require_checkpoint()) if resume else None
    trainer = build_trainer(recipe, registries, device, distributed, log=console.print, resuming=resume)
    budget = Budget.of(recipe, trainer.data.train_images.shape[0], distributed.world_size)
    order = DataOrder.for_run(recipe, budget, trainer.data, distributed, device)
    checkpoints = Checkpointer.for_run(run, trainer, order, registries, writes=main)

    # Resume.
    start = checkpoints.restore(saved) if saved is not None else 0
    if start >= budget.total_steps:
        raise GanzooError(f"{run} already trained {start} steps; pass a larger --steps (or --epochs) to continue.")
    if resume:
        console.print(f"resuming {recipe.variant} at step {start} of {budget.total_steps}")
    log = open_log(run, recipe, registries, console, budget, start, show_progress, saved) if main else RunLog([])
    samples = SampleGrids(trainer, run, log, main)
    evaluate = Evaluation(trainer, registries, log, checkpoints, budget, main, console)

    # Train.
    stop = StopOnSignal(
        "stopping after this step and saving a checkpoint (Ctrl-C again aborts at once)." if main else None
    )
    window, step = LogWindow(budget.images_per_step), start
    try:
        with stop:
            for step in range(start + 1, budget.total_steps + 1):
                if cfg.lr_decay_start < 1.0:
                    trainer.scale_learning_rates(budget.learning_rate_factor(step, cfg.lr_decay_start))
                window.add(trainer.step(order.batches(step), step))
                log.advance()
                at_log_step = step % cfg.log_every == 0 or step == budget.total_steps
                if at_log_step:
                    log.write(window.record(step, budget, distributed, device, log, run))
                if step < budget.total_steps:
                    if step % cfg.sample_every == 0:
                        samples(step)
                    if step % (cfg.eval_every or cfg.sample_every) == 0:
                        evaluate(step)
                    if step % cfg.checkpoint_every == 0:
                        checkpoints.save(step, log)
                # Ranks must agree on when to stop, which costs a collective: under torchrun, ask at log steps.
                if (not distributed.enabled or at_log_step) and distributed.any_rank(stop.received is not None, device):
                    break
        if step < budget.total_steps:  # stopped on a signal
            checkpoints.save(step, log)
            log.write({"kind": "interrupted", "step": step})
            raise Interrupted(
                f"{stop.name} received: stopped at step {step} of {budget.total_steps} and saved "
                f"{run.checkpoint()}. Resume with: {resume_command(run)}",
                stop.exit_code,
            )

        # Finish: the checkpoint first, so that nothing that follows can lose the run.
        checkpoints.save(step, log)
        samples(step)
        final = evaluate(step)
        log.write(
            {
                "kind": "end",
                "step": step,
                "epoch": budget.epoch(step),
                **window.average(),
                "wall_seconds": round(checkpoints.seconds(), 1),
                # where the wall time was spent: precision "auto" is bf16 on one machine and fp32 on another
                "device": str(trainer.device),
                "precision": "bf16" if uses_bf16(trainer.precision, trainer.device) else "fp32",
                "threads": torch.get_num_threads(),
                **final,
            }
        )
    finally:
        log.close()
    return RunResult(run.path, step, window.average_images_per_sec, final, trainer.modules)


def open_log(
    run: RunDir,
    recipe: Recipe,
    registries: Registries,
    console: Console,
    budget: Budget,
    start: int,
    show_progress: bool,
    saved: tuple[dict[str, torch.Tensor], dict[str, Any]] | None,
) -> RunLog:
    """Prepare the run directory and open its sinks: metrics.jsonl, the console, and the plugins' sinks.

    ``saved``: when resuming, the checkpoint (whose recipe the run continues with).
    """
    run.prepare(resume=saved is not None)
    if saved is not None:
        if run.recipe_differs(saved[1]["recipe"]):
            console.print(
                f"[yellow]note[/]: {escape(str(run.recipe_path))} was edited after the run started. Edits are "
                f"not applied on resume: the run continues with the recipe saved in its checkpoint (and "
                f"recipe.toml is rewritten to match). To train with the edits, start a new run with "
                f"--recipe {escape(str(run.recipe_path))} --out NEW_DIR."
            )
        run.truncate_log(start)
    write_atomically(run.recipe_path, dumps_toml(recipe.to_dict()).encode())
    display = ConsoleLog(console, recipe.variant, budget.total_steps, start, live=show_progress)
    plugin_sinks = [
        sink
        for sinks in registries.hook.ganzoo_logging_sinks(recipe=recipe, run_dir=run.path, start_step=start)
        for sink in sinks or ()
    ]
    return RunLog([MetricsFile(run.metrics_path), display, *plugin_sinks], display)


def resume_command(run: RunDir) -> str:
    import shlex

    return f"ganzoo run --resume {shlex.quote(str(run.path))}"
