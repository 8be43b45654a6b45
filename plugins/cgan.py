"""CGAN (Mirza & Osindero 2014): the label is fed to both G and D.

The recipe's ``model.conditioning`` picks how: ``"input"`` joins the label to G's noise and adds it to
D's input as a channel; ``"hidden"`` embeds it into a hidden layer. With ``matching_aware`` (GAN-CLS,
Reed et al. 2016) D also sees real images paired with wrong labels as negatives, so it must check that
image and label match, not only that the image is real.
"""

from dataclasses import dataclass

import torch

from ganzoo import LossStrategy, StepLosses, Variant, hookimpl


@dataclass
class CGANOptions:
    matching_aware: bool = False


def wrong_labels(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """A label different from each given one, uniformly among the other classes."""
    shift = torch.randint(1, num_classes, labels.shape, device=labels.device)
    return (labels + shift) % num_classes


class CGANLoss(LossStrategy):
    """Conditional GAN loss; matching-aware: D loss = real(x, y) + [fake(G(z, y')) + fake(x, wrong y)]/2."""

    Options = CGANOptions
    generator_conditional = True
    discriminator_conditional = True

    def discriminator_loss(self, discriminator, batch):
        images, labels = [batch.real, batch.fake], [batch.labels, batch.fake_labels]
        if self.options.matching_aware:
            images.append(batch.real)
            labels.append(wrong_labels(batch.labels, self.num_classes))
        real, fake, *rest = self.discriminate_batches(discriminator, images, labels)
        mismatched = rest[0] if rest else None
        out = self.adversarial_d_loss(real, fake, lambda images: discriminator(images, batch.labels), batch, mismatched)
        if mismatched is not None:
            out.logs["mismatch_rejected"] = (mismatched <= self.adversarial.threshold).float().mean().detach()
        return out

    def generator_loss(self, discriminator, batch):
        return StepLosses(self.adversarial_g_loss(discriminator(batch.fake, batch.fake_labels)))


@hookimpl
def ganzoo_losses():
    return {"cgan": CGANLoss}


@hookimpl
def ganzoo_variants():
    return [
        Variant(
            "cgan",
            "Conditional GAN: label fed to G and D (input or hidden layer); optional matching-aware D.",
            loss="cgan",
        )
    ]
