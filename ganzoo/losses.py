"""The loss strategy interface, and the logit-space building blocks variants share.

A loss strategy turns one batch into the discriminator's loss and the generator's loss, plus detached
numbers to log. It never calls ``backward`` or steps an optimizer: the training loop does that, in one
place, so mixed precision and DistributedDataParallel apply to every variant alike.

Everything works on logits: ``binary_cross_entropy_with_logits`` and ``cross_entropy`` apply the
sigmoid/softmax themselves (a Sigmoid before BCELoss or a Softmax before CrossEntropyLoss is a bug).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from ganzoo.data import ImageData


@dataclass
class Batch:
    """One training step's tensors, all on the training device.

    real: real images (B, C, H, W) in [-1, 1].
    labels: the real images' labels (B,). Semi-supervised strategies must not read them (see SGAN).
    fake: generated images; detached from G for the discriminator's loss, attached for the generator's.
    fake_labels: the labels G was asked for, or None when G is unconditional.
    """

    real: torch.Tensor
    labels: torch.Tensor
    fake: torch.Tensor
    fake_labels: torch.Tensor | None = None


@dataclass
class StepLosses:
    """A loss to minimise and detached scalar tensors to log (the loop syncs them only at log steps)."""

    loss: torch.Tensor
    logs: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class SetupContext:
    """What a strategy may use before training starts (e.g. to pretrain a frozen classifier)."""

    data: ImageData
    device: torch.device
    seed: int
    registries: Any
    log: Any = print
    resuming: bool = False  # weights will be loaded from a checkpoint: build modules, skip pretraining


@dataclass
class NoOptions:
    """A strategy without options."""


class LossStrategy:
    """Base class of loss strategies; subclass it in a plugin and register it with ``ganzoo_losses``.

    Class attributes:
        Options: a dataclass of the strategy's options; the recipe's ``[loss]`` table fills it.
        generator_conditional: G receives labels (the loop draws random labels for the fakes, and
            sample grids get one row per class).
        discriminator_conditional: D receives the labels too (CGAN); ACGAN's D predicts them instead.
    """

    Options: ClassVar[type] = NoOptions
    generator_conditional: ClassVar[bool] = False
    discriminator_conditional: ClassVar[bool] = False

    def __init__(self, options: Any, num_classes: int):
        self.options = options
        self.num_classes = num_classes

    def discriminator_outputs(self) -> int:
        """How many logits D returns per image (1 for real/fake)."""
        return 1

    def setup(self, context: SetupContext) -> dict[str, nn.Module]:
        """Called once before training; returns extra modules to checkpoint (e.g. ``{"C": classifier}``)."""
        return {}

    def discriminator_loss(self, discriminator: nn.Module, batch: Batch) -> StepLosses:
        raise NotImplementedError

    def generator_loss(self, discriminator: nn.Module, batch: Batch) -> StepLosses:
        raise NotImplementedError

    def evaluate(self, discriminator: nn.Module, data: ImageData) -> dict[str, float]:
        """Numbers to report at evaluation steps and at the end (e.g. test accuracy); none by default."""
        return {}

    def discriminate(self, discriminator: nn.Module, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """D's logits, passing labels only to a conditional discriminator."""
        return discriminator(images, labels) if self.discriminator_conditional else discriminator(images)


def bce_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of real/fake logits against a constant target (1 real, 0 fake)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def real_fake_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> StepLosses:
    """The standard discriminator loss BCE(D(x), 1) + BCE(D(G(z)), 0), logging D's real/fake accuracy."""
    loss = bce_logits(real_logits, 1.0) + bce_logits(fake_logits, 0.0)
    return StepLosses(loss, {"d_accuracy": real_fake_accuracy(real_logits, fake_logits)})


def real_fake_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Share of real images called real and fake images called fake (logit > 0 means real)."""
    correct = (real_logits > 0).float().sum() + (fake_logits <= 0).float().sum()
    return (correct / (real_logits.numel() + fake_logits.numel())).detach()


def class_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=1) == labels).float().mean().detach()


def entropy(probabilities: torch.Tensor) -> torch.Tensor:
    """Shannon entropy (nats) of a probability vector."""
    return -(probabilities * probabilities.clamp_min(1e-12).log()).sum()
