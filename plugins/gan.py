"""GAN (Goodfellow et al. 2014): D classifies real vs fake; G uses the non-saturating loss."""

from ganzoo import LossStrategy, StepLosses, Variant, bce_logits, hookimpl, real_fake_loss


class GANLoss(LossStrategy):
    """Non-saturating GAN loss: D minimises BCE(D(x), 1) + BCE(D(G(z)), 0); G minimises BCE(D(G(z)), 1)."""

    def discriminator_loss(self, discriminator, batch):
        return real_fake_loss(discriminator(batch.real), discriminator(batch.fake))

    def generator_loss(self, discriminator, batch):
        return StepLosses(bce_logits(discriminator(batch.fake), 1.0))


@hookimpl
def ganzoo_losses():
    return {"gan": GANLoss}


@hookimpl
def ganzoo_variants():
    return [Variant("gan", "Unconditional GAN: real/fake D (BCE on logits), non-saturating G.", loss="gan")]
