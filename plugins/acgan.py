"""ACGAN (Odena, Olah & Shlens 2017): D has a real/fake logit and N class logits; G is conditional.

D minimises L_S + L_C, G minimises L_C - L_S, with L_S in its non-saturating form for G
(BCE(D_s(G(z, c)), 1) instead of -BCE(D_s(G(z, c)), 0)); ``loss.adversarial`` picks another flavour
for L_S. Implementations differ on whether D's class head also learns from fakes;
``class_loss_on_fakes`` chooses (the paper and the PyTorch-GAN seed: yes).
"""

from dataclasses import dataclass

import torch.nn.functional as F

from ganzoo import LossStrategy, StepLosses, Variant, class_accuracy, hookimpl


@dataclass
class ACGANOptions:
    class_loss_on_fakes: bool = True


class ACGANLoss(LossStrategy):
    """ACGAN loss: D = real/fake term + CE class (reals; fakes if set); G = its real/fake term + CE(fake class)."""

    Options = ACGANOptions
    generator_conditional = True

    def discriminator_outputs(self):
        return 1 + self.num_classes

    def discriminator_loss(self, discriminator, batch):
        real, fake = self.discriminate_batches(discriminator, [batch.real, batch.fake])
        source = self.adversarial_d_loss(real[:, 0], fake[:, 0], lambda images: discriminator(images)[:, 0], batch)
        class_loss = F.cross_entropy(real[:, 1:], batch.labels)
        if self.options.class_loss_on_fakes:
            class_loss = class_loss + F.cross_entropy(fake[:, 1:], batch.fake_labels)
        logs = {
            **source.logs,
            "real_class_accuracy": class_accuracy(real[:, 1:], batch.labels),
            "fake_class_accuracy": class_accuracy(fake[:, 1:], batch.fake_labels),
        }
        return StepLosses(source.loss + class_loss, logs)

    def generator_loss(self, discriminator, batch):
        fake = discriminator(batch.fake)
        return StepLosses(self.adversarial_g_loss(fake[:, 0]) + F.cross_entropy(fake[:, 1:], batch.fake_labels))


@hookimpl
def ganzoo_losses():
    return {"acgan": ACGANLoss}


@hookimpl
def ganzoo_variants():
    return [
        Variant("acgan", "Auxiliary-classifier GAN: D predicts real/fake and the class; conditional G.", loss="acgan")
    ]
