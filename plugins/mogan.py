"""MOGAN, the multi-objective GAN: an unconditional G that also pleases a frozen classifier.

D is a plain real/fake discriminator. A classifier C is trained on the real labelled training data
before the GAN, then frozen and saved with the run. G maximises
    log D(G(z)) + lambda * log max_c C(c | G(z))   [+ beta * H(mean_batch C(. | G(z)))]
where the optional last term, the entropy of the batch's mean class distribution, rewards covering
all classes so G does not collapse onto the easiest ones.
"""

from dataclasses import dataclass

import torch.nn.functional as F

from ganzoo import LossStrategy, StepLosses, Variant, hookimpl
from ganzoo.classifier import ConvClassifier, accuracy, train_classifier
from ganzoo.losses import entropy


@dataclass
class MOGANOptions:
    classifier_weight: float = 1.0  # lambda
    balance_weight: float = 1.0  # beta; 0 turns the class-balance term off
    classifier_steps: int = 1000
    classifier_batch_size: int = 128
    classifier_lr: float = 2e-3
    classifier_width: int = 32


class MOGANLoss(LossStrategy):
    """Multi-objective GAN: G = BCE(D(G(z)), 1) - lambda log max_c C(c|G(z)) - beta H(batch class mix); any flavour."""

    Options = MOGANOptions

    def setup(self, context):
        data, options = context.data, self.options
        if context.resuming:  # C's weights come from the checkpoint
            classifier = (
                ConvClassifier(data.image_shape, self.num_classes, options.classifier_width).to(context.device).eval()
            )
        else:
            context.log(
                f"mogan: pretraining classifier C for {options.classifier_steps} steps on the labelled training split"
            )
            classifier = train_classifier(
                data.train_images,
                data.train_labels,
                self.num_classes,
                options.classifier_steps,
                batch_size=options.classifier_batch_size,
                lr=options.classifier_lr,
                width=options.classifier_width,
                seed=context.seed,
                log=context.log,
            )
        classifier.requires_grad_(False)  # frozen: G's gradients flow through C, C's weights never change
        self.classifier = classifier
        self.classifier_test_accuracy: float | None = None
        if not context.resuming:
            context.log(
                f"mogan: classifier C test accuracy {self.evaluate(None, data)['classifier_test_accuracy']:.4f}"
            )
        return {"C": classifier}

    def discriminator_loss(self, discriminator, batch):
        real, fake = self.discriminate_batches(discriminator, [batch.real, batch.fake])
        return self.adversarial_d_loss(real, fake, discriminator, batch)

    def generator_loss(self, discriminator, batch):
        log_probs = F.log_softmax(self.classifier(batch.fake).float(), dim=1)
        confidence = log_probs.max(dim=1).values.mean()
        class_mix_entropy = entropy(log_probs.exp().mean(dim=0))
        loss = self.adversarial_g_loss(discriminator(batch.fake)) - self.options.classifier_weight * confidence
        if self.options.balance_weight:
            loss = loss - self.options.balance_weight * class_mix_entropy
        logs = {"classifier_confidence": confidence.exp().detach(), "class_entropy": class_mix_entropy.detach()}
        return StepLosses(loss, logs)

    def evaluate(self, discriminator, data):
        if self.classifier_test_accuracy is None:
            self.classifier_test_accuracy = accuracy(self.classifier, data.test_images, data.test_labels)
        return {"classifier_test_accuracy": self.classifier_test_accuracy}


@hookimpl
def ganzoo_losses():
    return {"mogan": MOGANLoss}


@hookimpl
def ganzoo_variants():
    return [
        Variant(
            "mogan",
            "Multi-objective GAN: unconditional G also maximises a frozen classifier's confidence.",
            loss="mogan",
        )
    ]
