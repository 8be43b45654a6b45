"""What one training step does, and everything it needs, assembled from a recipe.

``Trainer.step`` takes ``train.d_steps`` batches: D is updated on each (a fresh sample of G each time), then
G once, against the last. The loss strategy only computes losses; this module owns the backward passes,
optimizers, mixed precision, the averaged weights and DistributedDataParallel.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils import parametrize

from ganzoo.build import build_discriminator, build_generator, build_strategy, load_dataset
from ganzoo.config import Recipe
from ganzoo.data import ImageData, to_unit_range
from ganzoo.device import autocast_for, is_out_of_memory, uses_channels_last
from ganzoo.distributed import DistributedContext
from ganzoo.errors import GanzooError, first_line
from ganzoo.losses import Batch, LossStrategy, SetupContext
from ganzoo.registry import Registries
from ganzoo.sampling import Latent

DATA_INIT_IMAGES = 500  # images for data-dependent initialisation (weight-normalised layers), as Salimans et al.


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def adam(parameters, lr: float, recipe: Recipe, device: torch.device) -> torch.optim.Adam:
    # The fused kernel makes one pass over each weight; on a CPU it was 3.5-5x faster than the foreach path for
    # InfoGAN's 13 million weights (torch >= 2.4 has it there; older versions fall back to foreach).
    cfg = recipe.train
    settings = {"lr": lr, "betas": (cfg.beta1, cfg.beta2), "eps": cfg.adam_eps}
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, fused=True, **settings)
    except RuntimeError:
        return torch.optim.Adam(parameters, foreach=True, **settings)


class ExponentialAverage:
    """A moving average of a module's weights; buffers (BatchNorm statistics) are copied.

    The decay warms up as min(decay, (1 + t) / (10 + t)) at update t, so that early averages are not
    dominated by the random initial weights. Samples from an averaged generator are usually better than
    from the last weights (Karras et al. 2018; Yazıcı et al. 2019), and an averaged classifier is steadier
    (Salimans et al. 2016 test SGAN's D this way), at no cost to training.
    """

    def __init__(self, source: nn.Module, average: nn.Module, decay: float):
        self.decay = decay
        self.averages, self.currents = list(average.requires_grad_(False).parameters()), list(source.parameters())
        self.buffers = list(zip(average.buffers(), source.buffers()))

    @torch.no_grad()
    def update(self, step: int | None = None) -> None:
        """Move the average towards the current weights; ``step`` (from 1) warms the decay up (None: no warm-up)."""
        decay = self.decay if step is None else min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self.averages, self.currents, 1.0 - decay)
        for average, current in self.buffers:
            average.copy_(current)


def merge_logs(d_logs: dict[str, torch.Tensor], g_logs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """D's and G's numbers in one dict; a name both report is kept twice, as ``d_NAME`` and ``g_NAME``."""
    clashes = d_logs.keys() & g_logs.keys()
    merged = {(f"d_{k}" if k in clashes else k): v for k, v in d_logs.items()}
    merged.update({(f"g_{k}" if k in clashes else k): v for k, v in g_logs.items()})
    return {name: value.detach().float() for name, value in merged.items()}


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
    averages: dict[str, ExponentialAverage]
    compiled: bool = False  # G and D are torch.compile'd (until compilation fails: see ``step``)
    log: Callable[[str], None] = print

    @property
    def latent(self) -> Latent:
        return Latent.of(self.recipe.model)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator that samples and evaluations use: the averaged one when the run keeps it."""
        return self.modules.get("G_ema", self.modules["G"])

    @property
    def evaluated_discriminator(self) -> nn.Module:
        """The discriminator the loss's evaluation reads: the averaged one when the run keeps it."""
        return self.modules.get("D_ema", self.modules["D"])

    def sample(self, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        z = self.latent.sample(count, device=self.device)
        labels = None
        if self.strategy.generator_conditional:
            labels = torch.randint(self.data.num_classes, (count,), device=self.device)
        with autocast_for(self.precision, self.device):
            return self.generator(z, labels), labels

    def scale_learning_rates(self, factor: float) -> None:
        """Set both optimizers' learning rates to the recipe's times ``factor`` (``train.lr_decay_start``)."""
        cfg = self.recipe.train
        for name, lr in (("optim.G", cfg.lr_generator), ("optim.D", cfg.lr_discriminator)):
            for group in self.optimizers[name].param_groups:
                group["lr"] = lr * factor

    def update_discriminator(self, batch: Batch, step: int):
        # cached(): parametrized weights (spectral norm) are computed once for all of D's passes in this update.
        with autocast_for(self.precision, self.device), parametrize.cached():
            out = self.strategy.discriminator_loss(self.discriminator, batch)
        optimizer = self.optimizers["optim.D"]
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()
        if "D_ema" in self.averages:
            self.averages["D_ema"].update(step)
        return out

    def update_generator(self, batch: Batch, step: int):
        # D's weights need no gradients in the generator step: skip computing them.
        trainable = [p for p in self.discriminator_for_g.parameters() if p.requires_grad]
        for parameter in trainable:
            parameter.requires_grad_(False)
        try:
            with autocast_for(self.precision, self.device), parametrize.cached():
                out = self.strategy.generator_loss(self.discriminator_for_g, batch)
            optimizer = self.optimizers["optim.G"]
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            optimizer.step()
        finally:
            for parameter in trainable:
                parameter.requires_grad_(True)
        if "G_ema" in self.averages:
            self.averages["G_ema"].update(step)
        return out

    def step(self, batches: Sequence[tuple[torch.Tensor, torch.Tensor]], step: int = 0) -> dict[str, torch.Tensor]:
        """``len(batches)`` D updates and one G update; returns detached numbers to log (no host sync).

        With ``train.compile``, compilation happens in the first step; if it fails there (no C++ compiler, an
        unsupported operation), training goes on without it, with a warning, as long as no weight changed yet.
        """
        if not self.compiled:
            return self._step(batches, step)
        try:
            return self._step(batches, step)
        except Exception as error:  # noqa: BLE001 - torch.compile's failures have many types
            if is_out_of_memory(error) or any(optimizer.state for optimizer in self.optimizers.values()):
                raise
            self.compiled = False
            self.generator, self.discriminator = self.modules["G"], self.modules["D"]
            self.discriminator_for_g = self.discriminator
            self.log(
                f"[yellow]torch.compile failed[/] ({type(error).__name__}: {first_line(error)}); "
                "training without it (set train.compile = false to skip the attempt)."
            )
            return self._step(batches, step)

    def _step(self, batches: Sequence[tuple[torch.Tensor, torch.Tensor]], step: int) -> dict[str, torch.Tensor]:
        *critic_batches, (real, labels) = batches
        for critic_real, critic_labels in critic_batches:
            with torch.no_grad():
                fake, fake_labels = self.sample(critic_real.shape[0])
            self.update_discriminator(Batch(critic_real, critic_labels, fake, fake_labels), step)
        fake, fake_labels = self.sample(real.shape[0])  # one sample serves D's last update and G's
        d_out = self.update_discriminator(Batch(real, labels, fake.detach(), fake_labels), step)
        g_out = self.update_generator(Batch(real, labels, fake, fake_labels), step)
        return merge_logs({"d_loss": d_out.loss, **d_out.logs}, {"g_loss": g_out.loss, **g_out.logs})


def check_batch_norm(modules: dict[str, nn.Module], batch_size: int) -> None:
    if batch_size < 2 and any(
        isinstance(m, nn.modules.batchnorm._BatchNorm) for module in modules.values() for m in module.modules()
    ):
        raise GanzooError(
            "train.batch_size 1 cannot train a model with BatchNorm (it normalises over the batch). "
            "Use --batch-size 2 or more."
        )


def initialize_from_data(discriminator: nn.Module, data: ImageData, seed: int, device: torch.device) -> None:
    """Data-dependent initialisation for architectures that have one (``initialize_from_data(images, labels)``)."""
    initialize = getattr(discriminator, "initialize_from_data", None)
    if initialize is None:
        return
    pick = torch.randperm(data.train_images.shape[0], generator=torch.Generator().manual_seed(seed))[:DATA_INIT_IMAGES]
    pick = pick.to(device)
    labels = data.train_labels[pick] if getattr(discriminator, "conditioning", "none") != "none" else None
    initialize(to_unit_range(data.train_images[pick]), labels)


def build_trainer(
    recipe: Recipe,
    registries: Registries,
    device: torch.device,
    distributed: DistributedContext,
    log: Callable[[str], None] = print,
    resuming: bool = False,
) -> Trainer:
    """Load the data onto ``device`` and assemble G, D, the loss strategy, the optimizers and the averages."""
    cfg = recipe.train
    seed_everything(cfg.seed)  # the same initial weights on every rank
    data = load_dataset(registries, recipe.data).to(device)
    strategy = build_strategy(registries, recipe, data.num_classes)
    generator = build_generator(registries, recipe, strategy, data.image_shape).to(device)
    discriminator = build_discriminator(registries, recipe, strategy, data.image_shape).to(device)
    if not resuming:
        initialize_from_data(discriminator, data, cfg.seed, device)
    extra = strategy.setup(
        SetupContext(data=data, device=device, seed=cfg.seed, registries=registries, log=log, resuming=resuming)
    )
    modules = {"G": generator, "D": discriminator, **extra}
    check_batch_norm(modules, cfg.batch_size)
    if uses_channels_last(cfg.channels_last, device):
        for module in modules.values():
            module.to(memory_format=torch.channels_last)
    averages = {}
    for name, source, decay in (("G_ema", generator, cfg.ema_decay), ("D_ema", discriminator, cfg.d_ema_decay)):
        if decay > 0:
            modules[name] = copy.deepcopy(source)
            averages[name] = ExponentialAverage(source, modules[name], decay)
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
    return Trainer(
        recipe,
        data,
        strategy,
        modules,
        optimizers,
        step_generator,
        step_discriminator,
        discriminator_for_g,
        device,
        cfg.precision,
        averages,
        compiled=cfg.compile and not distributed.enabled,
        log=log,
    )
