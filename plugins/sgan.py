"""SGAN, the semi-supervised GAN (Odena 2016; Salimans et al. 2016).

D is an (N+1)-way classifier written as N logits with the fake class's logit fixed at 0, so
p(real | x) = Z / (Z + 1) with Z = sum_k exp(l_k), and the real/fake logit is logsumexp(l).
Only ``labels_per_class`` labels per class are used (chosen once, seeded); every training image is
used without its label. D's accuracy on the real test split is the result (from D's moving average
when the recipe keeps one, ``train.d_ema_decay``, as Salimans et al. evaluate). G learns by feature
matching on D's last hidden layer. The MNIST recipe is Salimans et al.'s: their MLPs (``salimans``),
100 labels, Adam 3e-3 with beta1 0.5, batch 100, ``unsupervised_weight`` 0.5.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganzoo import GanzooError, LossStrategy, StepLosses, Variant, class_accuracy, hookimpl
from ganzoo.classifier import predict
from ganzoo.data import to_unit_range

GENERATOR_LOSSES = ("feature_matching", "adversarial")


@dataclass
class SGANOptions:
    labels_per_class: int = 10  # 0: every training label (fully supervised D)
    generator_loss: str = "feature_matching"  # or "adversarial": G's term of the loss.adversarial flavour
    supervised_weight: float = 1.0
    unsupervised_weight: float = 1.0  # Salimans et al.'s code: 0.5 (half each of the real and the fake term)


def labelled_subset(labels: torch.Tensor, num_classes: int, per_class: int, seed: int) -> torch.Tensor:
    """Indices of ``per_class`` randomly chosen images of each class (all images when per_class == 0)."""
    if per_class == 0:
        return torch.arange(labels.shape[0], device=labels.device)
    shuffled = torch.randperm(labels.shape[0], generator=torch.Generator().manual_seed(seed)).to(labels.device)
    chosen = [shuffled[labels[shuffled] == c][:per_class] for c in range(num_classes)]
    for c, indices in enumerate(chosen):
        if indices.numel() < per_class:
            raise GanzooError(f"sgan: labels_per_class={per_class}, but class {c} has only {indices.numel()} images.")
    return torch.cat(chosen)


class SGANLoss(LossStrategy):
    """Semi-supervised GAN: N-logit D (fake logit fixed at 0), supervised CE on few labels + real/fake term."""

    Options = SGANOptions

    def __init__(self, options, num_classes, adversarial=None):
        super().__init__(options, num_classes, adversarial)
        if options.generator_loss not in GENERATOR_LOSSES:
            raise GanzooError(
                f"loss.generator_loss must be one of {', '.join(GENERATOR_LOSSES)}; got {options.generator_loss!r}."
            )
        if options.labels_per_class < 0:
            raise GanzooError(f"loss.labels_per_class must be 0 (all) or more, got {options.labels_per_class}.")

    def discriminator_outputs(self):
        return self.num_classes

    def setup(self, context):
        data = context.data
        chosen = labelled_subset(data.train_labels, self.num_classes, self.options.labels_per_class, context.seed)
        self.labelled_images = to_unit_range(data.train_images[chosen])
        self.labelled_labels = data.train_labels[chosen]
        self.unlabelled_images = data.train_images  # uint8, on the device
        context.log(
            f"sgan: {chosen.numel()} labelled training images ({self.options.labels_per_class or 'all'} per class); "
            "the rest unlabelled"
        )
        return {}

    def labelled_batch(self, size: int, device: torch.device) -> torch.Tensor:
        """Indices of ``size`` labelled images: whole permutations of the labelled set, as in Salimans et al.'s
        code (with 100 labels and batch 100, every batch holds each labelled image once), not draws with
        replacement, which leave a third of them out of each batch."""
        count = self.labelled_labels.shape[0]
        rounds = -(-size // count)
        return torch.cat([torch.randperm(count, device=device) for _ in range(rounds)])[:size]

    def discriminator_loss(self, discriminator, batch):
        pick = self.labelled_batch(batch.real.shape[0], batch.real.device)
        # batch.labels is not read: those images count as unlabelled
        labelled_images = self.labelled_images[pick]
        real, fake, labelled = self.discriminate_batches(discriminator, [batch.real, batch.fake, labelled_images])
        supervised = F.cross_entropy(labelled, self.labelled_labels[pick])
        critic = lambda images: discriminator(images).logsumexp(dim=1)  # noqa: E731
        unsupervised = self.adversarial_d_loss(real.logsumexp(dim=1), fake.logsumexp(dim=1), critic, batch)
        logs = {
            **unsupervised.logs,
            "supervised_loss": supervised.detach(),
            "labelled_accuracy": class_accuracy(labelled, self.labelled_labels[pick]),
        }
        return StepLosses(
            self.options.supervised_weight * supervised + self.options.unsupervised_weight * unsupervised.loss, logs
        )

    def generator_loss(self, discriminator, batch):
        if self.options.generator_loss == "adversarial":
            return StepLosses(self.adversarial_g_loss(discriminator(batch.fake).logsumexp(dim=1)))
        # Feature matching (Salimans et al. 2016): match the mean of D's last hidden layer on real images, drawn
        # afresh as in the paper's code (not the batch D just learned from).
        pick = torch.randint(self.unlabelled_images.shape[0], (batch.real.shape[0],), device=batch.real.device)
        (_, real_features), (_, fake_features) = self.discriminate_batches(
            discriminator, [to_unit_range(self.unlabelled_images[pick]), batch.fake], return_features=True
        )
        return StepLosses((real_features.detach().mean(0) - fake_features.mean(0)).pow(2).mean())

    def evaluate(self, discriminator, data):
        predictions = torch.cat(
            [
                predict(discriminator, to_unit_range(data.test_images[i : i + 2000]))
                for i in range(0, data.test_images.shape[0], 2000)
            ]
        )
        return {"test_accuracy": (predictions == data.test_labels).float().mean().item()}


@hookimpl
def ganzoo_losses():
    return {"sgan": SGANLoss}


@hookimpl
def ganzoo_variants():
    return [
        Variant(
            "sgan", "Semi-supervised GAN: (N+1)-way D trained on few labels; reports D's test accuracy.", loss="sgan"
        )
    ]
