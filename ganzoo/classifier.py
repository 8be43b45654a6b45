"""A small CNN image classifier: MOGAN's frozen classifier C, and the judge of conditional samples."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.data import to_unit_range
from ganzoo.errors import GanzooError

MIN_SIDE = 4  # two 2x poolings


def fits(image_shape) -> bool:
    """Whether images of this shape (C, H, W) are large enough for ``ConvClassifier``."""
    return min(image_shape[-2:]) >= MIN_SIDE


class ConvClassifier(nn.Module):
    """2x (conv 5x5, ReLU, max-pool 2) -> Linear(128) -> logits; any image side divisible by 4."""

    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, width: int = 32):
        super().__init__()
        channels, height, side = image_shape
        if not fits(image_shape):
            raise GanzooError(f"the classifier is a CNN for images of at least {MIN_SIDE}x{MIN_SIDE} pixels, not {height}x{side}: "
                              "it (and what uses it: MOGAN's classifier C, CAS) does not apply to 2-D point data.")
        self.image_shape = tuple(image_shape)
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * (height // 4) * (side // 4), 128), nn.ReLU(), nn.Dropout(0.3),
            nn.Linear(128, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The penultimate layer (128 units after ReLU): the feature space of the evaluation metrics."""
        return self.net[:-2](images)


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
) -> ConvClassifier:
    """Train on uint8 images (N, C, H, W) already on the target device; returns the model in eval mode."""
    device = images.device
    torch.manual_seed(seed)
    model = ConvClassifier(tuple(images.shape[1:]), num_classes, width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    order_source = torch.Generator(device=device).manual_seed(seed)
    steps_per_epoch = images.shape[0] // batch_size
    for step in range(steps):
        position = step % steps_per_epoch
        if position == 0:
            order = torch.randperm(images.shape[0], device=device, generator=order_source)
        index = order[position * batch_size : (position + 1) * batch_size]
        loss = F.cross_entropy(model(to_unit_range(images[index])), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if log is not None and (step + 1) % 500 == 0:
            log(f"classifier step {step + 1}/{steps}: loss {loss.item():.4f}")
    return model.eval()


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Predicted classes for float images in [-1, 1] (use ``to_unit_range`` on uint8 images first)."""
    was_training = model.training
    model.eval()
    predictions = torch.cat([model(images[i : i + batch_size]).argmax(1) for i in range(0, images.shape[0], batch_size)])
    model.train(was_training)
    return predictions


def accuracy(model: nn.Module, images_uint8: torch.Tensor, labels: torch.Tensor) -> float:
    predictions = torch.cat([predict(model, to_unit_range(images_uint8[i : i + 5000])) for i in range(0, images_uint8.shape[0], 5000)])
    return (predictions == labels).float().mean().item()
