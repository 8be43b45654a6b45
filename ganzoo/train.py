"""The one training loop, for every variant.

Read top to bottom: load the data onto the device, assemble G, D and the loss strategy from the recipe,
then alternate a discriminator step and a generator step. The loss strategy only computes losses; this
loop owns backward passes, optimizers, devices, mixed precision, logging, samples and checkpoints.
Numbers are moved to the host only every ``log_every`` steps, so the device is never stalled per step.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ganzoo import __version__
from ganzoo.build import build_discriminator, build_generator, build_strategy
from ganzoo.checkpoint import save_checkpoint
from ganzoo.config import Recipe, dumps_toml
from ganzoo.data import ImageData, resolve_data_root, to_unit_range
from ganzoo.errors import GanzooError
from ganzoo.losses import Batch, SetupContext
from ganzoo.plugins import Registries, get_registries
from ganzoo.sampling import generate, grid_labels, save_grid

GRID_COLUMNS = 10
UNCONDITIONAL_GRID_SIZE = 100


@dataclass
class RunResult:
    run_dir: Path
    steps: int
    images_per_sec: float
    final: dict[str, float] = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GanzooError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanzooError("--device cuda was asked for, but PyTorch sees no CUDA GPU here. Use --device cpu (or auto).")
    return device


def autocast_for(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (``auto`` or ``bf16``); plain fp32 on CPU. bf16 needs no loss scaling."""
    if device.type == "cuda" and precision in ("auto", "bf16"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def load_data(registries: Registries, recipe: Recipe, device: torch.device) -> ImageData:
    loader = registries.datasets.get(recipe.data.name)
    data = loader(root=resolve_data_root(recipe.data.root), image_size=recipe.data.image_size, download=recipe.data.download)
    return data.to(device)


def adam(parameters, lr: float, recipe: Recipe, device: torch.device) -> torch.optim.Adam:
    # The fused kernel exists on CUDA; the foreach (multi-tensor) path is the fast one on CPU.
    fast = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.Adam(parameters, lr=lr, betas=(recipe.train.beta1, recipe.train.beta2), **fast)


class MetricsLog:
    """metrics.jsonl: one JSON object per line, flushed as written so a killed run keeps its log."""

    def __init__(self, path: Path):
        self.path = path
        self.file = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def train(
    recipe: Recipe,
    run_dir: Path,
    registries: Registries | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> RunResult:
    """Train ``recipe`` and write the run directory. Returns the final numbers."""
    registries = registries or get_registries()
    console = console or Console(stderr=True)
    cfg = recipe.train
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    run_dir = prepare_run_dir(run_dir)
    data = load_data(registries, recipe, device)
    strategy = build_strategy(registries, recipe, data.num_classes)
    generator = build_generator(registries, recipe, strategy, data.image_shape).to(device)
    discriminator = build_discriminator(registries, recipe, strategy, data.image_shape).to(device)
    extra = strategy.setup(SetupContext(data=data, device=device, seed=cfg.seed, registries=registries, log=console.print))
    modules = {"G": generator, "D": discriminator, **extra}
    optimizer_g = adam(generator.parameters(), cfg.lr_generator, recipe, device)
    optimizer_d = adam(discriminator.parameters(), cfg.lr_discriminator, recipe, device)
    autocast = autocast_for(cfg.precision, device)

    (run_dir / "recipe.toml").write_text(dumps_toml(recipe.to_dict()), encoding="utf-8")
    metrics = MetricsLog(run_dir / "metrics.jsonl")
    metadata = {
        "ganzoo_version": __version__,
        "variant": recipe.variant,
        "recipe": recipe.to_dict(),
        "num_classes": data.num_classes,
        "image_shape": list(data.image_shape),
    }

    num_train = data.train_images.shape[0]
    batch_size = cfg.batch_size
    if batch_size > num_train:
        raise GanzooError(f"train.batch_size {batch_size} is larger than the dataset ({num_train} images).")
    steps_per_epoch = num_train // batch_size  # the last partial batch is dropped
    total_steps = cfg.steps or cfg.epochs * steps_per_epoch
    order_source = torch.Generator(device=device).manual_seed(cfg.seed)
    grid_inputs = fixed_grid(strategy.generator_conditional, data.num_classes, device)
    eval_every = cfg.eval_every or cfg.sample_every

    def snapshot(step: int) -> None:
        metadata["step"] = step
        save_checkpoint(run_dir / "checkpoints" / "last.safetensors", modules, metadata)

    def write_grid(step: int) -> None:
        images = generate(generator, grid_inputs.numel() if grid_inputs is not None else UNCONDITIONAL_GRID_SIZE,
                          recipe.model.latent_dim, grid_inputs, seed=cfg.seed, device=device)
        save_grid(images, run_dir / "samples" / f"step_{step:07d}.png", GRID_COLUMNS)

    def evaluate(step: int) -> dict[str, float]:
        results = strategy.evaluate(discriminator, data)
        if results:
            metrics.write({"kind": "eval", "step": step, "epoch": round(step / steps_per_epoch, 4), **results})
        return results

    progress = Progress(
        TextColumn(f"[bold]{recipe.variant}[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, disable=not show_progress,
    )
    task = progress.add_task("train", total=total_steps, stats="")
    sums: dict[str, torch.Tensor] = {}
    since_log, last_log_time, images_per_sec, step = 0, time.perf_counter(), 0.0, 0
    final: dict[str, float] = {}
    try:
        with progress:
            for step in range(1, total_steps + 1):
                epoch, position = divmod(step - 1, steps_per_epoch)
                if position == 0:
                    order = torch.randperm(num_train, device=device, generator=order_source)
                index = order[position * batch_size : (position + 1) * batch_size]
                real = to_unit_range(data.train_images[index])
                labels = data.train_labels[index]
                z = torch.randn(batch_size, recipe.model.latent_dim, device=device)
                fake_labels = None
                if strategy.generator_conditional:
                    fake_labels = torch.randint(data.num_classes, (batch_size,), device=device)

                with autocast:
                    fake = generator(z, fake_labels)
                    d_out = strategy.discriminator_loss(discriminator, Batch(real, labels, fake.detach(), fake_labels))
                optimizer_d.zero_grad(set_to_none=True)
                d_out.loss.backward()
                optimizer_d.step()

                # D's weights need no gradients in the generator step: skip computing them.
                discriminator.requires_grad_(False)
                with autocast:
                    g_out = strategy.generator_loss(discriminator, Batch(real, labels, fake, fake_labels))
                optimizer_g.zero_grad(set_to_none=True)
                g_out.loss.backward()
                optimizer_g.step()
                discriminator.requires_grad_(True)

                for name, value in {"d_loss": d_out.loss, "g_loss": g_out.loss, **d_out.logs, **g_out.logs}.items():
                    sums[name] = sums[name] + value.detach().float() if name in sums else value.detach().float()
                since_log += 1
                progress.advance(task)

                if step % cfg.log_every == 0 or step == total_steps:
                    means = {name: value.item() / since_log for name, value in sums.items()}  # the one host sync
                    if not all(math.isfinite(value) for value in means.values()):
                        metrics.write({"kind": "diverged", "step": step, **means})
                        raise GanzooError(f"training diverged at step {step} (non-finite loss: {means}); the last "
                                          "checkpoint was kept. Lower the learning rates or change the recipe.")
                    now = time.perf_counter()
                    images_per_sec = since_log * batch_size / (now - last_log_time)
                    metrics.write({"kind": "train", "step": step, "epoch": round(step / steps_per_epoch, 4),
                                   **{k: round(v, 6) for k, v in means.items()}, "images_per_sec": round(images_per_sec, 1)})
                    progress.update(task, stats=" ".join(f"{k}={v:.3f}" for k, v in means.items()) + f" {images_per_sec:.0f} img/s")
                    sums, since_log, last_log_time = {}, 0, time.perf_counter()
                if step % cfg.sample_every == 0 and step < total_steps:
                    write_grid(step)
                if step % eval_every == 0 and step < total_steps:
                    evaluate(step)
                if step % cfg.checkpoint_every == 0 and step < total_steps:
                    snapshot(step)
        write_grid(total_steps)
        final = evaluate(total_steps)
        snapshot(total_steps)
        metrics.write({"kind": "end", "step": total_steps, "epoch": round(total_steps / steps_per_epoch, 4),
                       "images_per_sec": round(images_per_sec, 1), **final})
    except KeyboardInterrupt:
        snapshot(step)
        raise GanzooError(f"interrupted at step {step}; weights saved to {run_dir / 'checkpoints' / 'last.safetensors'}.") from None
    finally:
        metrics.close()
    return RunResult(run_dir=run_dir, steps=total_steps, images_per_sec=images_per_sec, final=final)


def fixed_grid(conditional: bool, num_classes: int, device: torch.device) -> torch.Tensor | None:
    """Labels of the fixed-noise grid: one row per class for conditional variants, none otherwise."""
    return grid_labels(num_classes, GRID_COLUMNS, device) if conditional else None


def prepare_run_dir(run_dir: Path) -> Path:
    try:
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise GanzooError(f"cannot write to run directory {run_dir} ({error.strerror or error}). Pass --out DIR with a writable folder.") from None
    if (run_dir / "metrics.jsonl").exists():
        raise GanzooError(f"{run_dir} already holds a run (metrics.jsonl exists). Pass another --out DIR, or delete it.")
    return run_dir
