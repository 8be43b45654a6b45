"""GAN (Goodfellow et al. 2014): D classifies real vs fake; G uses the non-saturating loss.

The real/fake loss is the recipe's ``loss.adversarial`` flavour (default ``bce``, the non-saturating
BCE on logits), so this variant is also hinge, least-squares or WGAN-GP training with one setting.
"""

from ganzoo import LossStrategy, StepLosses, Variant, hookimpl


class GANLoss(LossStrategy):
    """Unconditional GAN: D's real/fake term and G's term in the recipe's flavour (default non-saturating BCE)."""

    def discriminator_loss(self, discriminator, batch):
        real, fake = self.discriminate_batches(discriminator, [batch.real, batch.fake])
        return self.adversarial_d_loss(real, fake, discriminator, batch)

    def generator_loss(self, discriminator, batch):
        return StepLosses(self.adversarial_g_loss(discriminator(batch.fake)))


@hookimpl
def ganzoo_losses():
    return {"gan": GANLoss}


@hookimpl
def ganzoo_variants():
    return [Variant("gan", "Unconditional GAN: real/fake D (BCE on logits), non-saturating G.", loss="gan")]
