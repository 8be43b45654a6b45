"""The loss strategy interface, and the logit-space building blocks variants share.

A loss strategy turns one batch into the discriminator's loss and the generator's loss, plus detached
numbers to log. It never calls ``backward`` or steps an optimizer: the training loop does that, in one
place, so mixed precision and DistributedDataParallel apply to every variant alike. Its real/fake term
goes through the recipe's adversarial flavour (``ganzoo.adversarial``), so every variant can train with
the non-saturating, hinge, least-squares or WGAN-GP loss.

Everything works on logits: ``binary_cross_entropy_with_logits`` and ``cross_entropy`` apply the
sigmoid/softmax themselves (a Sigmoid before BCELoss or a Softmax before CrossEntropyLoss is a bug).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from ganzoo.adversarial import AdversarialLoss, Critic, NonSaturating
from ganzoo.errors import GanzooError

if TYPE_CHECKING:
    from ganzoo.data import ImageData
    from ganzoo.registry import Registries


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
    registries: Registries
    log: Callable[[str], None] = print
    resuming: bool = False  # weights will be loaded from a checkpoint: build modules, skip pretraining


@dataclass
class AdversarialOptions:
    """Kept so that strategies written for ganzoo 0.1 (``class Options(AdversarialOptions)``) still load.

    A strategy's ``Options`` no longer needs a base class: the recipe's ``loss.adversarial`` and
    ``loss.gp_weight`` choose the adversarial flavour (``ganzoo.config.AdversarialConfig``) and reach the
    strategy as ``self.adversarial``, not as options.
    """


@dataclass
class NoOptions:
    """The options of a strategy that has none of its own."""


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

    def __init__(self, options: Any, num_classes: int, adversarial: AdversarialLoss | None = None):
        self.options = options
        self.num_classes = num_classes
        self.adversarial = adversarial or NonSaturating()  # ganzoo.build passes the recipe's flavour

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

    def adversarial_d_loss(
        self,
        real_logits: torch.Tensor,
        fake_logits: torch.Tensor,
        critic: Critic | None = None,
        batch: Batch | None = None,
        extra_negatives: torch.Tensor | None = None,
    ) -> StepLosses:
        """D's real/fake term in the recipe's flavour, logging D's accuracy.

        Flavours with a penalty (wgan-gp) evaluate it through ``critic`` (images -> real/fake logits) on
        ``batch.real`` and ``batch.fake``; pass both whenever the flavour may need them.
        ``extra_negatives``: logits of other inputs D must call fake (CGAN's real images with wrong
        labels); they share the fake term's weight with G's samples: fake(G) / 2 + fake(extra) / 2.
        """
        fake_term = self.adversarial.fake(fake_logits)
        if extra_negatives is not None:
            fake_term = 0.5 * (fake_term + self.adversarial.fake(extra_negatives))
        loss = self.adversarial.real(real_logits) + fake_term
        logs = {"d_accuracy": real_fake_accuracy(real_logits, fake_logits, self.adversarial.threshold)}
        if self.adversarial.has_penalty and (critic is None or batch is None):
            raise GanzooError(
                f"the {type(self.adversarial).__name__} loss flavour adds a penalty computed through D, and "
                f"this variant's loss does not pass D to it. Set loss.adversarial to another flavour "
                f"(ganzoo list adversarial)."
            )
        if critic is not None and batch is not None:
            penalty = self.adversarial.penalty(critic, batch.real, batch.fake)
            if penalty is not None:
                loss = loss + penalty
                logs["penalty"] = penalty.detach()
        return StepLosses(loss, logs)

    def adversarial_g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """G's real/fake term in the recipe's flavour."""
        return self.adversarial.generator(fake_logits)

    def discriminate(self, discriminator: nn.Module, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """D's logits, passing labels only to a conditional discriminator."""
        return discriminator(images, labels) if self.discriminator_conditional else discriminator(images)

    def discriminate_batches(
        self,
        discriminator: nn.Module,
        images: Sequence[torch.Tensor],
        labels: Sequence[torch.Tensor | None] | None = None,
        return_features: bool = False,
    ) -> list[Any]:
        """D's outputs for several batches (e.g. real and fake), in one pass over all of them when D judges each
        image on its own, else one pass per batch (BatchNorm's statistics would mix the batches).

        One pass computes the gradients of D's weights once instead of once per batch plus their sum: about a
        third of a D update on a CPU for InfoGAN's MNIST pair (and for Salimans et al.'s MLP D). ``labels`` go
        to a conditional D only; ``return_features`` gives ``(logits, features)`` per batch.
        """
        labels = list(labels) if labels is not None else [None] * len(images)
        extra = {"return_features": True} if return_features else {}

        def call(x: torch.Tensor, y: torch.Tensor | None):
            return discriminator(x, y, **extra) if self.discriminator_conditional else discriminator(x, **extra)

        if len(images) == 1 or mixes_batch(discriminator):
            return [call(x, y) for x, y in zip(images, labels)]
        outputs = call(torch.cat(list(images)), torch.cat(labels) if self.discriminator_conditional else None)
        sizes = [x.shape[0] for x in images]
        if return_features:
            return list(zip(*(output.split(sizes) for output in outputs)))
        return list(outputs.split(sizes))


def mixes_batch(module: nn.Module) -> bool:
    """Whether ``module``'s output for an image depends on the other images of its batch (BatchNorm in training)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in module.modules())


def real_fake_accuracy(real_logits: torch.Tensor, fake_logits: torch.Tensor, threshold: float = 0.0) -> torch.Tensor:
    """Share of real images called real and fake images called fake (logit > threshold means real)."""
    correct = (real_logits > threshold).float().sum() + (fake_logits <= threshold).float().sum()
    return (correct / (real_logits.numel() + fake_logits.numel())).detach()


def class_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (logits.argmax(dim=1) == labels).float().mean().detach()


def entropy(probabilities: torch.Tensor) -> torch.Tensor:
    """Shannon entropy (nats) of a probability vector."""
    return -(probabilities * probabilities.clamp_min(1e-12).log()).sum()
