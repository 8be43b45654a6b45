"""``ganzoo bench``: steady-state training speed, FLOPs per image and fraction of peak, against a reference loop.

The reference loop trains the same model with the same losses the way the seeds' scripts do: a
torchvision DataLoader applying per-image PIL transforms, ``zero_grad()`` without ``set_to_none``, the
for-loop Adam, gradients for D's weights computed in the generator step, fp32, and a host sync per step
(``loss.item()``). With ``seed_script``, the ACGAN seed's own script is timed too (``ganzoo.seedscript``):
the code users start from. All are timed in one process on one device, so their ratios are the speed-ups.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from ganzoo.build import build_discriminator, build_generator
from ganzoo.config import Recipe
from ganzoo.data import resolve_data_root, to_unit_range
from ganzoo.datasets.mnist import load_mnist
from ganzoo.device import configure_backends, resolve_device, uses_bf16
from ganzoo.distributed import DistributedContext
from ganzoo.losses import Batch
from ganzoo.registry import Registries
from ganzoo.seedscript import time_seed_script
from ganzoo.trainer import Trainer, build_trainer


class PILImages(torch.utils.data.Dataset):
    """Images handed out one at a time as PIL images through ``transform``, as torchvision's MNIST class does
    (without its ``processed/*.pt`` path, which unpickles)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index, 0].numpy(), mode="L")), int(self.labels[index])


@dataclass
class BenchResult:
    variant: str
    device: str
    precision: str
    batch_size: int
    images_per_sec: float
    flops_per_image: float
    achieved_gflops: float
    peak_gflops: float
    fraction_of_peak: float
    reference_images_per_sec: float | None
    speedup: float | None
    seed_script_images_per_sec: float | None = None
    seed_script_speedup: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak_gflops(device: torch.device, precision: str, size: int = 2048, repeats: int = 10) -> float:
    """Measured dense-matmul throughput on ``device`` in the dtype the training runs in."""
    dtype = torch.bfloat16 if uses_bf16(precision, device) else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize(device)
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


def random_batches(trainer: Trainer, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One step's batches (``train.d_steps`` of them) of random training images."""
    data, cfg = trainer.data, trainer.recipe.train
    batches = []
    for _ in range(cfg.d_steps):
        index = torch.randint(data.train_images.shape[0], (cfg.batch_size,), device=trainer.device, generator=generator)
        batches.append((to_unit_range(data.train_images[index]), data.train_labels[index]))
    return batches


def time_trainer(trainer: Trainer, steps: int, warmup: int) -> float:
    """Images per second over ``steps`` steady-state steps, after ``warmup`` steps (compilation, caches)."""
    source = torch.Generator(device=trainer.device).manual_seed(0)
    for step in range(1, warmup + 1):
        trainer.step(random_batches(trainer, source), step)
    synchronize(trainer.device)
    started = time.perf_counter()
    for step in range(warmup + 1, warmup + steps + 1):
        logs = trainer.step(random_batches(trainer, source), step)
    logs["d_loss"].item()  # one sync, at the end
    synchronize(trainer.device)
    return steps * trainer.recipe.train.batch_size / (time.perf_counter() - started)


def training_flops_per_image(trainer: Trainer) -> float:
    """FLOPs of one training step (both forward and backward passes), per real image, by torch's counter."""
    source = torch.Generator(device=trainer.device).manual_seed(1)
    batches = random_batches(trainer, source)
    with FlopCounterMode(display=False) as counter:
        trainer.step(batches)
    return counter.get_total_flops() / trainer.recipe.train.batch_size


def mnist_loader(root: str, size: int, batch_size: int):
    """MNIST the seeds' way: a shuffling DataLoader that resizes, converts and normalises every image with PIL."""
    from torch.utils.data import DataLoader
    from torchvision import transforms

    native = load_mnist(resolve_data_root(root), image_size=28, download=False)
    transform = transforms.Compose([transforms.Resize(size), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    return DataLoader(
        PILImages(native.train_images, native.train_labels, transform),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
    )


def time_reference_loop(trainer: Trainer, registries: Registries, steps: int, warmup: int) -> float:
    """The seeds' style of loop on the same model and losses (see the module docstring)."""
    recipe, device, strategy = trainer.recipe, trainer.device, trainer.strategy
    loader = mnist_loader(recipe.data.root, recipe.data.image_size, recipe.train.batch_size)
    generator = build_generator(registries, recipe, strategy, trainer.data.image_shape).to(device)
    discriminator = build_discriminator(registries, recipe, strategy, trainer.data.image_shape).to(device)
    betas = (recipe.train.beta1, recipe.train.beta2)
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=recipe.train.lr_generator, betas=betas, foreach=False)
    optimizer_d = torch.optim.Adam(
        discriminator.parameters(), lr=recipe.train.lr_discriminator, betas=betas, foreach=False
    )
    done, started = 0, None
    while done < warmup + steps:
        for real, labels in loader:
            if done == warmup:
                synchronize(device)
                started = time.perf_counter()
            real, labels = real.to(device), labels.to(device)
            z = torch.randn(real.shape[0], recipe.model.latent_dim, device=device)
            fake_labels = (
                torch.randint(trainer.data.num_classes, (real.shape[0],), device=device)
                if strategy.generator_conditional
                else None
            )
            fake = generator(z, fake_labels)
            optimizer_d.zero_grad(set_to_none=False)
            d_loss = strategy.discriminator_loss(discriminator, Batch(real, labels, fake.detach(), fake_labels)).loss
            d_loss.backward()
            optimizer_d.step()
            optimizer_g.zero_grad(set_to_none=False)
            g_loss = strategy.generator_loss(discriminator, Batch(real, labels, fake, fake_labels)).loss
            g_loss.backward()
            optimizer_g.step()
            d_loss.item(), g_loss.item()  # the seeds print both losses every step
            done += 1
            if done == warmup + steps:
                break
    synchronize(device)
    return steps * recipe.train.batch_size / (time.perf_counter() - started)


def bench(
    recipe: Recipe,
    registries: Registries,
    steps: int,
    warmup: int,
    reference: bool = True,
    seed_script: bool = False,
    log=print,
) -> BenchResult:
    device = resolve_device(recipe.train.device)
    configure_backends(device)
    trainer = build_trainer(recipe, registries, device, DistributedContext(), log=log)
    images_per_sec = time_trainer(trainer, steps, warmup)
    flops = training_flops_per_image(trainer)
    peak = matmul_peak_gflops(device, recipe.train.precision)
    if reference and recipe.data.name != "mnist":  # the seeds' loop reads MNIST through torchvision's Dataset
        log(f"bench: the reference loop is written for MNIST; skipped for {recipe.data.name}")
        reference = False
    reference_speed = time_reference_loop(trainer, registries, steps, warmup) if reference else None
    seed_speed = None
    if seed_script:  # PyTorch-GAN's acgan.py as it trains: 32x32 MNIST, batch 64, its own G and D
        seed_speed = time_seed_script(mnist_loader(recipe.data.root, 32, 64), device, steps, warmup)
    achieved = images_per_sec * flops / 1e9
    precision = "bf16" if uses_bf16(recipe.train.precision, device) else "fp32"
    return BenchResult(
        variant=recipe.variant,
        device=str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        precision=precision,
        batch_size=recipe.train.batch_size,
        images_per_sec=images_per_sec,
        flops_per_image=flops,
        achieved_gflops=achieved,
        peak_gflops=peak,
        fraction_of_peak=achieved / peak,
        reference_images_per_sec=reference_speed,
        speedup=images_per_sec / reference_speed if reference_speed else None,
        seed_script_images_per_sec=seed_speed,
        seed_script_speedup=images_per_sec / seed_speed if seed_speed else None,
    )
