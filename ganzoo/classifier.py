"""A small CNN image classifier: MOGAN's frozen classifier C, and the judge of conditional samples."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.data import to_unit_range
from ganzoo.device import autocast_for
from ganzoo.errors import GanzooError

MIN_SIDE = 4  # two 2x poolings
FEATURES = 128


def fits(image_shape) -> bool:
    """Whether images of this shape (C, H, W) are large enough for ``ConvClassifier``."""
    return min(image_shape[-2:]) >= MIN_SIDE


class ConvClassifier(nn.Module):
    """2x (conv 5x5, ReLU, max-pool 2) -> Linear(128) -> logits; any image side divisible by 4."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, width: int = 32):
        super().__init__()
        channels, height, side = image_shape
        if not fits(image_shape):
            raise GanzooError(
                f"the classifier is a CNN for images of at least {MIN_SIDE}x{MIN_SIDE} pixels, not {height}x{side}: "
                "it (and what uses it: MOGAN's classifier C, CAS) does not apply to 2-D point data."
            )
        self.image_shape = tuple(image_shape)
        # ``features`` ends at the penultimate layer (128 units after ReLU): the feature space of the metrics.
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * (height // 4) * (side // 4), FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURES, num_classes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


def random_shift(images: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by up to ``pixels`` in x and y (zero padding): the augmentation that MNIST
    classifiers need to pass 99.5 %."""
    count, _, height, width = images.shape
    padded = F.pad(images, (pixels,) * 4)
    dy, dx = torch.randint(2 * pixels + 1, (2, count), device=images.device, generator=generator)
    rows = (dy[:, None] + torch.arange(height, device=images.device))[:, :, None]
    cols = (dx[:, None] + torch.arange(width, device=images.device))[:, None, :]
    return padded[torch.arange(count, device=images.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)


def train_classifier(
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    width: int = 32,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    shift: int = 0,
    progress: Callable[[int, int], None] | None = None,
    fast: bool = False,
) -> ConvClassifier:
    """Train on uint8 images (N, C, H, W) already on the target device; returns the model in eval mode.

    ``shift``: augment with random translations of up to that many pixels. ``progress(step, steps)`` is
    called every 50 steps. ``fast``: channels-last layout, and bf16 autocast where bf16 is native (CUDA, CPUs
    with AMX), for a classifier that is trained anew on every call (CAS): 2-3x faster on a CPU with AMX. The
    shipped evaluators and MOGAN's C are trained without it, so that they stay what they were.
    """
    if images.shape[0] == 0:
        raise GanzooError("cannot train a classifier on no images: the labelled training split is empty.")
    batch_size = min(batch_size, images.shape[0])  # a small dataset (an image folder) gives smaller batches
    device = images.device
    torch.manual_seed(seed)
    model = ConvClassifier(tuple(images.shape[1:]), num_classes, width).to(device)
    if fast:
        model = model.to(memory_format=torch.channels_last)
    autocast = autocast_for("auto", device) if fast else contextlib.nullcontext()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    order_source = torch.Generator(device=device).manual_seed(seed)
    steps_per_epoch = images.shape[0] // batch_size
    for step in range(steps):
        position = step % steps_per_epoch
        if position == 0:
            order = torch.randperm(images.shape[0], device=device, generator=order_source)
        index = order[position * batch_size : (position + 1) * batch_size]
        batch = to_unit_range(images[index])
        if shift:
            batch = random_shift(batch, shift, order_source)
        if fast:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with autocast:
            loss = F.cross_entropy(model(batch), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if log is not None and (step + 1) % 500 == 0:
            log(f"classifier step {step + 1}/{steps}: loss {loss.item():.4f}")
        if progress is not None and ((step + 1) % 50 == 0 or step + 1 == steps):
            progress(step + 1, steps)
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Predicted classes for float images in [-1, 1] (use ``to_unit_range`` on uint8 images first)."""
    was_training = model.training
    model.eval()
    predictions = torch.cat(
        [model(images[i : i + batch_size]).argmax(1) for i in range(0, images.shape[0], batch_size)]
    )
    model.train(was_training)
    return predictions


def accuracy(model: nn.Module, images_uint8: torch.Tensor, labels: torch.Tensor) -> float:
    predictions = torch.cat(
        [predict(model, to_unit_range(images_uint8[i : i + 5000])) for i in range(0, images_uint8.shape[0], 5000)]
    )
    return (predictions == labels).float().mean().item()
