"""Adversarial loss flavours: the real/fake term that every variant's D and G share.

A variant decides what its discriminator sees and which extra terms it adds (class losses, feature
matching, ...); the recipe's ``loss.adversarial`` decides how real/fake logits become losses. Each
flavour splits D's loss into a term on real logits and a term on fake logits, so variants with extra
negatives (CGAN's mismatched pairs) can weight them, and may add a penalty that needs D itself (WGAN-GP).
Every term is a mean over the batch, and everything stays in logit space.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Critic = Callable[[torch.Tensor], torch.Tensor]  # images -> real/fake logits (B,) or (B, 1)


class AdversarialLoss:
    """Base class of loss flavours; register subclasses with the ``ganzoo_adversarial_losses`` hook.

    ``threshold``: a logit above it counts as "real" in the logged D accuracy.
    ``has_penalty``: ``penalty`` adds a term computed through D, so variants must pass D to it.
    """

    threshold: float = 0.0
    has_penalty: bool = False

    def __init__(self, gp_weight: float = 10.0):
        self.gp_weight = gp_weight

    def real(self, logits: torch.Tensor) -> torch.Tensor:
        """D's loss on images it should call real."""
        raise NotImplementedError

    def fake(self, logits: torch.Tensor) -> torch.Tensor:
        """D's loss on images it should call fake."""
        raise NotImplementedError

    def generator(self, logits: torch.Tensor) -> torch.Tensor:
        """G's loss on D's logits for its samples."""
        raise NotImplementedError

    def penalty(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor | None:
        """An extra D loss computed through D itself, or None (the default: no penalty)."""
        return None


class NonSaturating(AdversarialLoss):
    """Non-saturating GAN (Goodfellow et al. 2014): D = BCE(real, 1) + BCE(fake, 0); G = BCE(fake, 1)."""

    def real(self, logits):
        return F.softplus(-logits).mean()  # = BCE-with-logits against 1

    def fake(self, logits):
        return F.softplus(logits).mean()  # = BCE-with-logits against 0

    def generator(self, logits):
        return F.softplus(-logits).mean()


class Hinge(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): D = E relu(1 - real) + E relu(1 + fake); G = -E fake."""

    def real(self, logits):
        return F.relu(1.0 - logits).mean()

    def fake(self, logits):
        return F.relu(1.0 + logits).mean()

    def generator(self, logits):
        return -logits.mean()


class LeastSquares(AdversarialLoss):
    """Least squares (Mao et al. 2017, 0-1 coding): D = ½E(real - 1)² + ½E fake²; G = ½E(fake - 1)²."""

    threshold = 0.5

    def real(self, logits):
        return 0.5 * (logits - 1.0).pow(2).mean()

    def fake(self, logits):
        return 0.5 * logits.pow(2).mean()

    def generator(self, logits):
        return 0.5 * (logits - 1.0).pow(2).mean()


class WassersteinGP(AdversarialLoss):
    """WGAN-GP (Gulrajani et al. 2017): D = E fake - E real + gp_weight·E(‖∇D(x̂)‖ - 1)²; G = -E fake."""

    has_penalty = True

    def real(self, logits):
        return -logits.mean()

    def fake(self, logits):
        return logits.mean()

    def generator(self, logits):
        return -logits.mean()

    def penalty(self, critic, real, fake):
        # x̂ on straight lines between real and fake images; one mixing weight per image.
        mix = torch.rand(real.shape[0], *[1] * (real.dim() - 1), device=real.device, dtype=real.dtype)
        between = (mix * real.detach() + (1 - mix) * fake.detach()).requires_grad_(True)
        (gradients,) = torch.autograd.grad(critic(between).float().sum(), between, create_graph=True)
        norms = gradients.flatten(1).norm(dim=1)
        return self.gp_weight * (norms - 1.0).pow(2).mean()
