"""Every loss strategy against values computed by hand (plain math, no torch.nn.functional) on fixed tensors."""

import math

import pytest
import torch
from torch import nn

from ganzoo import Batch
from ganzoo.build import loss_options
from ganzoo.data import ImageData
from ganzoo.losses import SetupContext
from ganzoo.plugins import get_registries

REGISTRIES = get_registries()


def softplus(x):
    return math.log1p(math.exp(x))


def bce_one(logit):  # -log sigmoid(l)
    return softplus(-logit)


def bce_zero(logit):  # -log(1 - sigmoid(l))
    return softplus(logit)


def cross_entropy(logits, label):
    return math.log(sum(math.exp(v) for v in logits)) - logits[label]


def mean(values):
    values = list(values)
    return sum(values) / len(values)


class LookupD(nn.Module):
    """D whose logits are written in the images: row 0 holds the logits, row 1 the features.

    With labels (a conditional D), the label is added to every logit so that a wrong label changes it.
    """

    def __init__(self, outputs):
        super().__init__()
        self.outputs = outputs

    def forward(self, x, labels=None, return_features=False):
        logits = x[:, 0, 0, : self.outputs].clone()
        if labels is not None:
            logits = logits + labels[:, None].float()
        return (logits, x[:, 0, 1, :2]) if return_features else logits


def images(logit_rows, feature_rows=None):
    out = torch.zeros(len(logit_rows), 1, 4, 4)
    for i, row in enumerate(logit_rows):
        out[i, 0, 0, : len(row)] = torch.tensor(row)
        if feature_rows is not None:
            out[i, 0, 1, :2] = torch.tensor(feature_rows[i])
    return out


def strategy(name, num_classes, **options):
    cls = REGISTRIES.losses.get(name)
    adversarial, own = loss_options(cls, options)  # the [loss] table: the flavour's keys and the strategy's own
    return cls(
        own, num_classes, REGISTRIES.adversarial.create(adversarial.adversarial, gp_weight=adversarial.gp_weight)
    )


def test_gan():
    loss = strategy("gan", 1)
    batch = Batch(real=images([[2.0], [-1.0]]), labels=torch.tensor([0, 0]), fake=images([[0.5], [-3.0]]))
    d = loss.discriminator_loss(LookupD(1), batch)
    assert d.loss.item() == pytest.approx(
        mean([bce_one(2), bce_one(-1)]) + mean([bce_zero(0.5), bce_zero(-3)]), rel=1e-6
    )
    assert d.logs["d_accuracy"].item() == pytest.approx(0.5)
    g = loss.generator_loss(LookupD(1), batch)
    assert g.loss.item() == pytest.approx(mean([bce_one(0.5), bce_one(-3)]), rel=1e-6)


@pytest.mark.parametrize("matching_aware", [False, True])
def test_cgan(matching_aware):
    loss = strategy("cgan", 2, matching_aware=matching_aware)
    labels, fake_labels = torch.tensor([0, 1]), torch.tensor([1, 1])
    batch = Batch(real=images([[1.0], [-2.0]]), labels=labels, fake=images([[0.5], [-1.5]]), fake_labels=fake_labels)
    d = loss.discriminator_loss(LookupD(1), batch).loss.item()
    real = [bce_one(1.0 + 0), bce_one(-2.0 + 1)]
    fake = [bce_zero(0.5 + 1), bce_zero(-1.5 + 1)]
    if matching_aware:  # with 2 classes the wrong label is the other one
        mismatched = [bce_zero(1.0 + 1), bce_zero(-2.0 + 0)]
        expected = mean(real) + 0.5 * (mean(fake) + mean(mismatched))
    else:
        expected = mean(real) + mean(fake)
    assert d == pytest.approx(expected, rel=1e-6)
    g = loss.generator_loss(LookupD(1), batch).loss.item()
    assert g == pytest.approx(mean([bce_one(1.5), bce_one(-0.5)]), rel=1e-6)


@pytest.mark.parametrize("on_fakes", [True, False])
def test_acgan(on_fakes):
    loss = strategy("acgan", 3, class_loss_on_fakes=on_fakes)
    real_rows, fake_rows = (
        [[1.0, 2.0, 0.0, -1.0], [-0.5, 0.0, 1.0, 3.0]],
        [[0.3, 1.0, 1.0, 0.0], [-2.0, 0.5, -0.5, 2.0]],
    )
    labels, fake_labels = [0, 2], [1, 2]
    batch = Batch(
        real=images(real_rows),
        labels=torch.tensor(labels),
        fake=images(fake_rows),
        fake_labels=torch.tensor(fake_labels),
    )
    d = loss.discriminator_loss(LookupD(4), batch).loss.item()
    source = mean(bce_one(r[0]) for r in real_rows) + mean(bce_zero(f[0]) for f in fake_rows)
    class_real = mean(cross_entropy(r[1:], y) for r, y in zip(real_rows, labels))
    class_fake = mean(cross_entropy(f[1:], y) for f, y in zip(fake_rows, fake_labels))
    assert d == pytest.approx(source + class_real + (class_fake if on_fakes else 0.0), rel=1e-6)
    g = loss.generator_loss(LookupD(4), batch).loss.item()
    assert g == pytest.approx(mean(bce_one(f[0]) for f in fake_rows) + class_fake, rel=1e-6)


def lse(values):
    return math.log(sum(math.exp(v) for v in values))


@pytest.mark.parametrize("generator_loss", ["feature_matching", "adversarial"])
def test_sgan(generator_loss):
    loss = strategy("sgan", 2, labels_per_class=1, generator_loss=generator_loss, supervised_weight=1.0)
    labelled_rows = [[2.0, -1.0]]
    loss.labelled_images, loss.labelled_labels = images(labelled_rows), torch.tensor([1])  # one labelled image
    real_rows, fake_rows = [[1.0, 0.0], [-1.0, -2.0]], [[0.0, 0.5], [-3.0, 1.0]]
    batch = Batch(
        real=images(real_rows, [[1.0, 2.0], [3.0, 4.0]]),
        labels=torch.tensor([0, 0]),
        fake=images(fake_rows, [[0.0, 0.0], [1.0, 1.0]]),
    )
    # feature matching draws real images afresh: give it two whose features are the batch's mean, (2, 3)
    loss.unlabelled_images = images([[0.0, 0.0], [0.0, 0.0]], [[2.0, 3.0], [2.0, 3.0]])
    d = loss.discriminator_loss(LookupD(2), batch).loss.item()
    supervised = cross_entropy(labelled_rows[0], 1)
    unsupervised = mean(bce_one(lse(r)) for r in real_rows) + mean(bce_zero(lse(f)) for f in fake_rows)
    assert d == pytest.approx(supervised + unsupervised, rel=1e-6)
    g = loss.generator_loss(LookupD(2), batch).loss.item()
    if generator_loss == "feature_matching":  # mean real features (2, 3), mean fake features (0.5, 0.5)
        assert g == pytest.approx(((2 - 0.5) ** 2 + (3 - 0.5) ** 2) / 2, rel=1e-6)
    else:
        assert g == pytest.approx(mean(bce_one(lse(f)) for f in fake_rows), rel=1e-6)


def test_sgan_setup_keeps_only_the_requested_labels():
    loss = strategy("sgan", 3, labels_per_class=2)
    labels = torch.tensor([0, 1, 2] * 10)
    data = ImageData(
        "toy",
        torch.zeros(30, 1, 4, 4, dtype=torch.uint8),
        labels,
        torch.zeros(3, 1, 4, 4, dtype=torch.uint8),
        torch.tensor([0, 1, 2]),
        3,
    )
    loss.setup(SetupContext(data=data, device=torch.device("cpu"), seed=0, registries=REGISTRIES, log=lambda _: None))
    assert sorted(loss.labelled_labels.tolist()) == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("balance_weight", [0.0, 0.7])
def test_mogan(balance_weight):
    loss = strategy("mogan", 2, classifier_weight=0.5, balance_weight=balance_weight)
    loss.classifier = lambda x: x[:, 0, 1, :2]  # C's logits are written in row 1
    fake_rows, classifier_rows = [[0.5], [-1.0]], [[2.0, 0.0], [0.0, 1.0]]
    batch = Batch(real=images([[1.0], [2.0]]), labels=torch.tensor([0, 1]), fake=images(fake_rows, classifier_rows))
    d = loss.discriminator_loss(LookupD(1), batch).loss.item()
    assert d == pytest.approx(mean([bce_one(1.0), bce_one(2.0)]) + mean([bce_zero(0.5), bce_zero(-1.0)]), rel=1e-6)
    g = loss.generator_loss(LookupD(1), batch).loss.item()
    probabilities = [[math.exp(v - lse(row)) for v in row] for row in classifier_rows]
    confidence = mean(math.log(max(p)) for p in probabilities)
    class_mix = [mean(p[c] for p in probabilities) for c in range(2)]
    class_entropy = -sum(p * math.log(p) for p in class_mix)
    expected = mean(bce_one(f[0]) for f in fake_rows) - 0.5 * confidence - balance_weight * class_entropy
    assert g == pytest.approx(expected, rel=1e-6)


def relu(x):
    return max(x, 0.0)


# Per flavour: D's term on a real logit, on a fake logit, and G's term on a fake logit.
FLAVOURS = {
    "bce": (bce_one, bce_zero, bce_one),
    "hinge": (lambda r: relu(1 - r), lambda f: relu(1 + f), lambda f: -f),
    "lsgan": (lambda r: 0.5 * (r - 1) ** 2, lambda f: 0.5 * f**2, lambda f: 0.5 * (f - 1) ** 2),
    "wgan-gp": (lambda r: -r, lambda f: f, lambda f: -f),
}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_adversarial_flavours_in_gan_and_matching_aware_cgan(flavour):
    real_term, fake_term, generator_term = FLAVOURS[flavour]
    gan = strategy("gan", 1, adversarial=flavour, gp_weight=0.0)
    batch = Batch(real=images([[2.0], [-0.5]]), labels=torch.tensor([0, 0]), fake=images([[0.25], [-3.0]]))
    d = gan.discriminator_loss(LookupD(1), batch)
    assert d.loss.item() == pytest.approx(
        mean([real_term(2), real_term(-0.5)]) + mean([fake_term(0.25), fake_term(-3)]), rel=1e-6
    )
    assert gan.generator_loss(LookupD(1), batch).loss.item() == pytest.approx(
        mean([generator_term(0.25), generator_term(-3)]), rel=1e-6
    )

    cgan = strategy("cgan", 2, adversarial=flavour, gp_weight=0.0, matching_aware=True)
    batch = Batch(
        real=images([[1.0], [-2.0]]),
        labels=torch.tensor([0, 1]),
        fake=images([[0.5], [-1.5]]),
        fake_labels=torch.tensor([1, 1]),
    )
    real = mean([real_term(1.0 + 0), real_term(-2.0 + 1)])
    fake = mean([fake_term(0.5 + 1), fake_term(-1.5 + 1)])
    mismatched = mean([fake_term(1.0 + 1), fake_term(-2.0 + 0)])
    assert cgan.discriminator_loss(LookupD(1), batch).loss.item() == pytest.approx(
        real + 0.5 * (fake + mismatched), rel=1e-6
    )


class LinearCritic(nn.Module):
    """D(x) = <w, x>: its gradient is w everywhere, so WGAN-GP's penalty is gp_weight * (|w| - 1)^2 exactly."""

    def __init__(self, weights):
        super().__init__()
        self.weights = nn.Parameter(torch.tensor(weights))

    def forward(self, x, labels=None):
        return (x.flatten(1) * self.weights).sum(1, keepdim=True)


def test_wgan_gp_penalty_equals_the_closed_form_and_reaches_d():
    gan = strategy("gan", 1, adversarial="wgan-gp", gp_weight=10.0)
    critic = LinearCritic([3.0, 4.0])  # |w| = 5
    real, fake = (
        torch.tensor([[1.0, 0.0], [0.0, 2.0]]).view(2, 2, 1, 1),
        torch.tensor([[0.5, 0.5], [-1.0, 1.0]]).view(2, 2, 1, 1),
    )
    out = gan.discriminator_loss(critic, Batch(real=real, labels=torch.tensor([0, 0]), fake=fake))
    real_logits, fake_logits = [3.0, 8.0], [3.5, 1.0]
    wasserstein = mean(fake_logits) - mean(real_logits)
    assert out.logs["penalty"].item() == pytest.approx(10.0 * (5 - 1) ** 2, rel=1e-6)
    assert out.loss.item() == pytest.approx(wasserstein + 160.0, rel=1e-6)
    out.loss.backward()  # d/dw of the penalty is 2 * 10 * (|w| - 1) * w / |w| = 16 w
    expected = [mean([0.5, -1.0]) - mean([1.0, 0.0]) + 16 * 3.0, mean([0.5, 1.0]) - mean([0.0, 2.0]) + 16 * 4.0]
    assert critic.weights.grad.tolist() == pytest.approx(expected, rel=1e-5)


def test_every_builtin_loss_and_flavour_has_a_hand_computed_test():
    def builtin(entry):  # installed third-party plugins test their own losses
        return entry.value.__module__.startswith(("ganzoo.", "ganzoo_plugins."))

    tested = {"gan", "cgan", "acgan", "sgan", "mogan"}
    assert {e.name for e in REGISTRIES.losses if builtin(e)} == tested, (
        "add a hand-computed test for the new loss strategy"
    )
    assert {e.name for e in REGISTRIES.adversarial if builtin(e)} == set(FLAVOURS), "add the new flavour to FLAVOURS"


def test_sgan_labelled_batches_hold_every_labelled_image_as_salimans_et_al():
    loss = strategy("sgan", 3, labels_per_class=2)
    loss.labelled_labels = torch.tensor([0, 0, 1, 1, 2, 2])
    for _ in range(5):  # a batch the size of the labelled set is one permutation of it
        assert sorted(loss.labelled_batch(6, torch.device("cpu")).tolist()) == list(range(6))
    counts = loss.labelled_batch(14, torch.device("cpu")).bincount(minlength=6)
    assert counts.min() >= 2 and counts.max() <= 3  # larger batches: whole permutations, then part of one


class FlatD(nn.Module):
    """A discriminator made of ``body`` on flattened images."""

    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x, return_features=False):
        out = self.body(x.flatten(1))
        return (out, out) if return_features else out


@pytest.mark.parametrize("variant", ["sgan", "gan"])
def test_batches_are_scored_together_only_when_d_has_no_batchnorm(variant):
    from ganzoo.losses import mixes_batch

    torch.manual_seed(0)
    first, second = torch.randn(4, 1, 2, 2), torch.randn(3, 1, 2, 2) + 2
    for d, mixes in ((FlatD(nn.Linear(4, 2)), False), (FlatD(nn.BatchNorm1d(4)), True)):
        loss = strategy(variant, 2)
        got = loss.discriminate_batches(d, [first, second])
        assert mixes_batch(d) is mixes
        for output, images in zip(got, (first, second)):  # what separate calls give: BatchNorm sees each batch alone
            assert torch.allclose(output, d(images), atol=1e-6)
        (_, features), _ = loss.discriminate_batches(d, [first, second], return_features=True)
        assert torch.allclose(features, d(first), atol=1e-6)


def test_one_pass_over_real_and_fake_gives_the_gradients_of_two():
    """GAN's D loss scores real and fake images in one pass when D has no BatchNorm: same loss, same gradients."""
    torch.manual_seed(0)
    d = REGISTRIES.create_discriminator("dcgan-sn", image_shape=(1, 28, 28), out_features=1, width=8)
    d.eval()  # spectral norm's power iteration runs in training mode: each pass would see another sigma
    real, fake = torch.randn(5, 1, 28, 28), torch.randn(5, 1, 28, 28)
    loss = strategy("gan", 10)
    together = loss.discriminator_loss(d, Batch(real, torch.zeros(5).long(), fake)).loss
    grads = torch.autograd.grad(together, list(d.parameters()))
    apart = loss.adversarial_d_loss(d(real), d(fake)).loss
    assert torch.allclose(together, apart, atol=1e-6)
    for got, want in zip(grads, torch.autograd.grad(apart, list(d.parameters()))):
        assert torch.allclose(got, want, atol=1e-5)
