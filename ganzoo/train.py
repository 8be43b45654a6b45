"""The one training loop, for every variant.

Read top to bottom: load the data onto the device, assemble G, D and the loss strategy from the recipe,
then alternate a discriminator step and a generator step. The loss strategy only computes losses; this
loop owns backward passes, optimizers, devices, mixed precision, logging, samples and checkpoints.
Numbers are moved to the host only every ``log_every`` steps, so the device is never stalled per step.
"""

from __future__ import annotations

import copy
import json
import math
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ganzoo import __version__
from ganzoo.build import build_discriminator, build_generator, build_strategy, load_dataset
from ganzoo.checkpoint import (
    load_checkpoint,
    module_tensors,
    optimizer_state,
    restore_training_state,
    rng_tensors,
    save_checkpoint,
)
from ganzoo.config import Recipe, dumps_toml
from ganzoo.data import ImageData, to_unit_range
from ganzoo.device import autocast_for, resolve_device
from ganzoo.distributed import DistributedContext, init_distributed
from ganzoo.errors import GanzooError
from ganzoo.losses import Batch, LossStrategy, SetupContext
from ganzoo.plugins import Registries, get_registries
from ganzoo.sampling import GRID_COLUMNS, generate, preview_labels, save_grid

CHECKPOINT_NAME = "last.safetensors"


class Interrupted(GanzooError):
    """Training stopped on SIGINT/SIGTERM after saving a checkpoint."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class RunResult:
    run_dir: Path
    steps: int
    images_per_sec: float
    final: dict[str, float] = field(default_factory=dict)
    modules: dict[str, nn.Module] = field(default_factory=dict)  # the trained G, D (and extras such as C)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def adam(parameters, lr: float, recipe: Recipe, device: torch.device) -> torch.optim.Adam:
    # The fused kernel exists on CUDA; the foreach (multi-tensor) path is the fast one on CPU.
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.Adam(parameters, lr=lr, betas=(recipe.train.beta1, recipe.train.beta2), **fast)


class MetricsLog:
    """metrics.jsonl: one JSON object per line, flushed as written so a killed run keeps its log."""

    def __init__(self, path: Path, keep_until_step: int | None = None):
        if keep_until_step is not None and path.exists():  # resuming: drop what came after the checkpoint
            kept = [line for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip() and _keep(json.loads(line), keep_until_step)]
            path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        self.file = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class NullLog:
    """What ranks other than 0 write: nothing."""

    def write(self, record: dict[str, Any]) -> None:
        pass

    def close(self) -> None:
        pass


def _keep(record: dict[str, Any], step: int) -> bool:
    return record.get("step", 0) <= step and record.get("kind") != "end"


class StopOnSignal:
    """First SIGINT/SIGTERM: ask the loop to stop after the current step. A second Ctrl-C aborts at once.

    A repeated SIGTERM does not abort: wrappers (make, timeout, schedulers) often pass one on twice.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:
        if self.received is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.received = signum

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


class ExponentialAverage:
    """A moving average of a module's weights (``decay`` per step); buffers (BatchNorm statistics) are copied.

    Samples from an averaged generator are usually better than from the last weights (Karras et al.
    2018; Yazıcı et al. 2019), at no cost to training.
    """

    def __init__(self, source: nn.Module, average: nn.Module, decay: float):
        self.weight = 1.0 - decay
        self.averages, self.currents = list(average.requires_grad_(False).parameters()), list(source.parameters())
        self.buffers = list(zip(average.buffers(), source.buffers()))

    @torch.no_grad()
    def update(self) -> None:
        torch._foreach_lerp_(self.averages, self.currents, self.weight)
        for average, current in self.buffers:
            average.copy_(current)


@dataclass
class Trainer:
    """Everything one training step needs, assembled from a recipe by ``build_trainer``.

    ``modules`` are the plain modules (checkpointed, sampled, evaluated). ``generator`` and
    ``discriminator`` are what the step calls: the same modules, compiled and/or wrapped in
    DistributedDataParallel when asked. The generator step calls ``discriminator_for_g`` (not
    DDP-wrapped: D's weights get no update there, so no gradient synchronisation is needed).
    """

    recipe: Recipe
    data: ImageData
    strategy: LossStrategy
    modules: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    generator: nn.Module
    discriminator: nn.Module
    discriminator_for_g: nn.Module
    device: torch.device
    precision: str
    ema: ExponentialAverage | None = None

    def step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """One discriminator step and one generator step; returns detached numbers to log (no host sync)."""
        strategy, batch_size = self.strategy, real.shape[0]
        optimizer_g, optimizer_d = self.optimizers["optim.G"], self.optimizers["optim.D"]
        z = torch.randn(batch_size, self.recipe.model.latent_dim, device=self.device)
        fake_labels = None
        if strategy.generator_conditional:
            fake_labels = torch.randint(self.data.num_classes, (batch_size,), device=self.device)

        with autocast_for(self.precision, self.device):
            fake = self.generator(z, fake_labels)
            d_out = strategy.discriminator_loss(self.discriminator, Batch(real, labels, fake.detach(), fake_labels))
        optimizer_d.zero_grad(set_to_none=True)
        d_out.loss.backward()
        optimizer_d.step()

        # D's weights need no gradients in the generator step: skip computing them.
        self.discriminator_for_g.requires_grad_(False)
        with autocast_for(self.precision, self.device):
            g_out = strategy.generator_loss(self.discriminator_for_g, Batch(real, labels, fake, fake_labels))
        optimizer_g.zero_grad(set_to_none=True)
        g_out.loss.backward()
        optimizer_g.step()
        if self.ema is not None:
            self.ema.update()
        self.discriminator_for_g.requires_grad_(True)
        return {name: value.detach().float() for name, value in
                {"d_loss": d_out.loss, "g_loss": g_out.loss, **d_out.logs, **g_out.logs}.items()}


def build_trainer(recipe: Recipe, registries: Registries, device: torch.device, distributed: DistributedContext,
                  log=print, resuming: bool = False) -> Trainer:
    """Load the data onto ``device`` and assemble G, D, the loss strategy and the optimizers."""
    cfg = recipe.train
    seed_everything(cfg.seed)  # the same initial weights on every rank
    data = load_dataset(registries, recipe.data).to(device)
    strategy = build_strategy(registries, recipe, data.num_classes)
    generator = build_generator(registries, recipe, strategy, data.image_shape).to(device)
    discriminator = build_discriminator(registries, recipe, strategy, data.image_shape).to(device)
    extra = strategy.setup(SetupContext(data=data, device=device, seed=cfg.seed, registries=registries, log=log, resuming=resuming))
    modules = {"G": generator, "D": discriminator, **extra}
    if device.type == "cuda" and cfg.channels_last:
        for module in modules.values():
            module.to(memory_format=torch.channels_last)
    ema = None
    if cfg.ema_decay > 0:
        modules["G_ema"] = copy.deepcopy(generator)
        ema = ExponentialAverage(generator, modules["G_ema"], cfg.ema_decay)
    optimizers = {
        "optim.G": adam(generator.parameters(), cfg.lr_generator, recipe, device),
        "optim.D": adam(discriminator.parameters(), cfg.lr_discriminator, recipe, device),
    }
    step_generator, step_discriminator = generator, discriminator
    if cfg.compile:
        step_generator, step_discriminator = torch.compile(generator), torch.compile(discriminator)
    discriminator_for_g = step_discriminator
    if distributed.enabled:
        device_ids = [device.index] if device.type == "cuda" else None
        step_generator = DistributedDataParallel(step_generator, device_ids=device_ids)
        step_discriminator = DistributedDataParallel(step_discriminator, device_ids=device_ids)
        torch.manual_seed(cfg.seed + distributed.rank)  # different noise on every rank
    return Trainer(recipe, data, strategy, modules, optimizers, step_generator, step_discriminator,
                   discriminator_for_g, device, cfg.precision, ema)


def train(
    recipe: Recipe,
    run_dir: Path,
    registries: Registries | None = None,
    console: Console | None = None,
    show_progress: bool = True,
    resume: bool = False,
) -> RunResult:
    """Train ``recipe`` and write the run directory (or continue it, with ``resume``).

    Under torchrun each process calls this; rank 0 alone writes to ``run_dir``.
    """
    registries = registries or get_registries()
    device = resolve_device(recipe.train.device)
    distributed = init_distributed(device.type)
    if distributed.enabled and device.type == "cuda":
        device = torch.device("cuda", distributed.local_rank)
    try:
        return _train(recipe, run_dir, registries, console or Console(stderr=True), show_progress, resume, device, distributed)
    finally:
        distributed.close()


def _train(recipe, run_dir, registries, console, show_progress, resume, device, distributed) -> RunResult:
    cfg = recipe.train
    main_process = distributed.is_main
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    checkpoint_path = run_dir / "checkpoints" / CHECKPOINT_NAME
    saved = load_checkpoint(checkpoint_path) if resume else None
    trainer = build_trainer(recipe, registries, device, distributed, log=console.print, resuming=resume)
    data, strategy, modules, optimizers = trainer.data, trainer.strategy, trainer.modules, trainer.optimizers
    if main_process:
        prepare_run_dir(run_dir, resume)

    num_train = data.train_images.shape[0]
    batch_size, world = cfg.batch_size, distributed.world_size
    if batch_size * world > num_train:
        raise GanzooError(f"train.batch_size {batch_size} is larger than the dataset ({num_train} images).")
    steps_per_epoch = num_train // (batch_size * world)  # the last partial batch is dropped
    total_steps = cfg.steps or cfg.epochs * steps_per_epoch
    order_source = torch.Generator(device=device).manual_seed(cfg.seed)  # the same data order on every rank
    order = torch.randperm(num_train, device=device, generator=order_source)
    start_step = 0
    if saved is not None:
        start_step, order = restore_training_state(saved, checkpoint_path, modules, optimizers, order_source, device)
        if start_step >= total_steps:
            raise GanzooError(f"{run_dir} already trained {start_step} steps; pass a larger --steps (or --epochs) to continue.")
        console.print(f"resuming {recipe.variant} at step {start_step} of {total_steps}")

    if main_process:
        (run_dir / "recipe.toml").write_text(dumps_toml(recipe.to_dict()), encoding="utf-8")
    metrics = MetricsLog(run_dir / "metrics.jsonl", keep_until_step=start_step if resume else None) if main_process else NullLog()
    metadata = {"ganzoo_version": __version__, "variant": recipe.variant, "recipe": recipe.to_dict(),
                "num_classes": data.num_classes, "image_shape": list(data.image_shape)}
    preview_count, preview_inputs = preview_labels(data.num_classes, strategy.generator_conditional, data.image_shape, device)
    sampling_generator = modules.get("G_ema", modules["G"])  # samples and evaluations use the EMA weights when kept
    eval_every = cfg.eval_every or cfg.sample_every

    def snapshot(step: int) -> None:
        # Every rank checks (their weights are identical), so under torchrun all of them stop together.
        if not all(torch.isfinite(p).all() for module in modules.values() for p in module.parameters()):
            metrics.write({"kind": "diverged", "step": step, "reason": "non-finite weights"})
            raise GanzooError(f"training diverged at step {step}: weights are not finite. The last good checkpoint "
                              f"({checkpoint_path}) was kept. Lower the learning rates or change the recipe.")
        if not main_process:
            return
        tensors = {key: value for name, module in modules.items() for key, value in module_tensors(name, module).items()}
        optimizer_meta = {}
        for name, optimizer in optimizers.items():
            optimizer_tensors, optimizer_meta[name] = optimizer_state(name, optimizer)
            tensors.update(optimizer_tensors)
        tensors.update(rng_tensors(order_source))
        tensors["data.order"] = order
        numpy_state = np.random.get_state()
        save_checkpoint(checkpoint_path, tensors, {
            **metadata, "step": step, "optimizers": optimizer_meta, "python_rng": random.getstate(),
            "numpy_rng": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
        })

    def write_grid(step: int) -> None:
        if main_process:
            images = generate(sampling_generator, preview_count, recipe.model.latent_dim, preview_inputs, seed=cfg.seed, device=device)
            save_grid(images, run_dir / "samples" / f"step_{step:07d}.png", GRID_COLUMNS)

    sample_metrics = SampleMetrics(registries, recipe, device, console.print) if cfg.eval_metrics and main_process else None

    def evaluate(step: int) -> dict[str, float]:
        results = strategy.evaluate(modules["D"], data) if main_process else {}
        if sample_metrics is not None:
            results.update(sample_metrics(sampling_generator, strategy.generator_conditional))
        if results:
            metrics.write({"kind": "eval", "step": step, "epoch": round(step / steps_per_epoch, 4), **results})
        return results

    progress = Progress(
        TextColumn(f"[bold]{recipe.variant}[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=not (show_progress and main_process),
    )
    task = progress.add_task("train", total=total_steps, completed=start_step, stats="")
    sums: dict[str, torch.Tensor] = {}
    since_log, last_log_time, images_per_sec, step = 0, time.perf_counter(), 0.0, start_step
    stop = StopOnSignal()
    stopping = False
    try:
        with stop, progress:
            for step in range(start_step + 1, total_steps + 1):
                position = (step - 1) % steps_per_epoch
                if position == 0 and step > 1:
                    order = torch.randperm(num_train, device=device, generator=order_source)
                shard = position * world + distributed.rank
                index = order[shard * batch_size : (shard + 1) * batch_size]
                real = to_unit_range(data.train_images[index])
                if device.type == "cuda" and cfg.channels_last:
                    real = real.contiguous(memory_format=torch.channels_last)
                logs = trainer.step(real, data.train_labels[index])
                for name, value in logs.items():
                    sums[name] = sums[name] + value if name in sums else value
                since_log += 1
                progress.advance(task)

                at_log_step = step % cfg.log_every == 0 or step == total_steps
                if at_log_step:
                    means = {name: value.item() / since_log for name, value in sums.items()}  # the one host sync
                    if distributed.any_rank(not all(math.isfinite(v) for v in means.values()), device):
                        metrics.write({"kind": "diverged", "step": step, "reason": "non-finite loss", **means})
                        raise GanzooError(f"training diverged at step {step} (non-finite loss: {means}). The last good "
                                          f"checkpoint ({checkpoint_path}) was kept. Lower the learning rates or change the recipe.")
                    images_per_sec = since_log * batch_size * world / (time.perf_counter() - last_log_time)
                    metrics.write({"kind": "train", "step": step, "epoch": round(step / steps_per_epoch, 4),
                                   **{k: round(v, 6) for k, v in means.items()}, "images_per_sec": round(images_per_sec, 1)})
                    progress.update(task, stats=" ".join(f"{k}={v:.3f}" for k, v in means.items()) + f" {images_per_sec:.0f} img/s")
                    sums, since_log, last_log_time = {}, 0, time.perf_counter()
                if step < total_steps:
                    if step % cfg.sample_every == 0:
                        write_grid(step)
                    if step % eval_every == 0:
                        evaluate(step)
                    if step % cfg.checkpoint_every == 0:
                        snapshot(step)
                # Ranks must agree on when to stop, which costs a collective: under torchrun, ask at log steps.
                if not distributed.enabled or at_log_step:
                    stopping = distributed.any_rank(stop.received is not None, device)
                if stopping:
                    break
        if stopping and step < total_steps:
            snapshot(step)
            metrics.write({"kind": "interrupted", "step": step})
            signum = stop.received or signal.SIGTERM
            raise Interrupted(f"{signal.Signals(signum).name} received: stopped at step {step} of {total_steps} and saved "
                              f"{checkpoint_path}. Resume with: ganzoo run --resume {run_dir}", 128 + signum)
        write_grid(total_steps)
        final = evaluate(total_steps)
        snapshot(total_steps)
        metrics.write({"kind": "end", "step": total_steps, "epoch": round(total_steps / steps_per_epoch, 4),
                       "images_per_sec": round(images_per_sec, 1), **final})
    except torch.OutOfMemoryError:
        raise GanzooError(f"out of memory on {device} at batch size {batch_size}. Try a smaller batch, "
                          f"e.g. --batch-size {max(1, batch_size // 2)}.") from None
    finally:
        metrics.close()
    return RunResult(run_dir=run_dir, steps=total_steps, images_per_sec=images_per_sec, final=final, modules=modules)


class SampleMetrics:
    """``train.eval_metrics`` of fresh samples, scored by the dataset's cached evaluator (loaded on first use)."""

    def __init__(self, registries: Registries, recipe: Recipe, device: torch.device, log):
        from ganzoo.evaluator import EVALUATOR_IMAGE_SIZE, load_or_train_evaluator

        self.metrics = {name: registries.metrics.get(name) for name in recipe.train.eval_metrics}
        self.data = load_dataset(registries, recipe.data, image_size=EVALUATOR_IMAGE_SIZE).to(device)
        self.evaluator = load_or_train_evaluator(self.data, log=log)
        self.recipe, self.device = recipe, device

    def __call__(self, generator: nn.Module, conditional: bool) -> dict[str, float]:
        from ganzoo.evaluator import eval_set

        count = self.recipe.train.eval_samples
        labels = torch.arange(count, device=self.device) % self.data.num_classes if conditional else None
        samples = generate(generator, count, self.recipe.model.latent_dim, labels, self.recipe.train.seed + 1, self.device)
        evaluated = eval_set(self.evaluator, samples, labels, self.data)
        values = {name: metric(evaluated) for name, metric in self.metrics.items()}
        return {name: value for name, value in values.items() if value is not None}


def prepare_run_dir(run_dir: Path, resume: bool = False) -> Path:
    try:
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise GanzooError(f"cannot write to run directory {run_dir} ({error.strerror or error}). Pass --out DIR with a writable folder.") from None
    if not resume and (run_dir / "metrics.jsonl").exists():
        raise GanzooError(f"{run_dir} already holds a run (metrics.jsonl exists). Resume it with --resume {run_dir}, "
                          "or pass another --out DIR.")
    return run_dir
