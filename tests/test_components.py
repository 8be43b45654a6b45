"""Every registered variant, adversarial flavour, dataset and metric, exercised straight from the registries.

Like tests/test_models.py for architectures: the cases are generated from the registries, so a new
entry (ganzoo's own or an installed plugin's) is exercised without a new test. What each entry must
learn is tested elsewhere (tests/test_learning.py, the plugins' own tests); here each must build, run
forward and backward, and keep its contract.
"""

import dataclasses
import json
import math

import pytest
import torch

from ganzoo import Batch, GanzooError
from ganzoo.build import build_strategy, load_trained_generator, resolve_recipe
from ganzoo.data import ImageData
from ganzoo.loop import ExponentialAverage, train
from ganzoo.metrics import EvalSet
from ganzoo.plugins import get_registries

REGISTRIES = get_registries()
TINY = {
    "train.steps": 2,
    "train.batch_size": 16,
    "train.log_every": 1,
    "model.generator_width": 16,
    "model.discriminator_width": 16,
    "train.device": "cpu",
}


def tiny_recipe(variant, dataset="shapes", **settings):
    overrides = [(key.split("."), value) for key, value in {**TINY, **settings}.items()]
    options = {f.name for f in dataclasses.fields(REGISTRIES.losses.get(REGISTRIES.variants.get(variant).loss).Options)}
    if "classifier_steps" in options:  # MOGAN pretrains a classifier: a few steps are enough here
        overrides.append((["loss", "classifier_steps"], 5))
    return resolve_recipe(REGISTRIES, variant, dataset, None, overrides)[0]


@pytest.mark.parametrize("flavour", ["bce", "wgan-gp"])
@pytest.mark.parametrize("variant", REGISTRIES.variants.names())
def test_every_variant_trains_with_a_plain_and_a_penalised_flavour(variant, flavour, tmp_path):
    recipe = tiny_recipe(variant, **{"loss.adversarial": flavour})
    try:
        result = train(recipe, tmp_path / "run", REGISTRIES, show_progress=False)
    except GanzooError as error:  # a variant may refuse a flavour it cannot give D to, and must say so
        assert flavour == "wgan-gp" and "penalty" in str(error)
        return
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r[key] for r in records if r["kind"] == "train" for key in ("d_loss", "g_loss")]
    assert result.steps == 2 and len(losses) == 4 and all(math.isfinite(v) for v in losses)
    if flavour == "wgan-gp":
        assert any("penalty" in r for r in records), "the gradient penalty was not applied"


@pytest.mark.parametrize("flavour", REGISTRIES.adversarial.names())
def test_every_flavour_gives_finite_losses_and_gradients_through_the_gan_variant(flavour):
    recipe = tiny_recipe("gan", "ring8", **{"loss.adversarial": flavour})
    strategy = build_strategy(REGISTRIES, recipe, 8)
    discriminator = REGISTRIES.create_discriminator(
        "mlp", image_shape=(2, 1, 1), out_features=1, num_classes=8, conditioning="none", width=16
    )
    fake = torch.randn(16, 2, 1, 1, requires_grad=True)
    batch = Batch(real=torch.randn(16, 2, 1, 1), labels=torch.zeros(16, dtype=torch.long), fake=fake)
    d_loss = strategy.discriminator_loss(discriminator, Batch(batch.real, batch.labels, fake.detach())).loss
    d_loss.backward()
    assert math.isfinite(d_loss.item()) and all(p.grad is not None for p in discriminator.parameters())
    g_loss = strategy.generator_loss(discriminator, batch).loss
    g_loss.backward()
    assert math.isfinite(g_loss.item()) and fake.grad.abs().sum() > 0


@pytest.mark.parametrize("name", REGISTRIES.datasets.names())
def test_every_dataset_loads_offline_or_says_what_is_missing(name, tmp_path):
    loader = REGISTRIES.datasets.get(name)
    try:
        data = loader(root=tmp_path, image_size=16, download=False)
    except GanzooError as error:  # needs files: the message must point somewhere useful
        assert any(word in str(error) for word in (str(tmp_path), "data.path", "--data-root")), str(error)
        return
    assert isinstance(data, ImageData) and data.num_classes >= 1
    for images, labels in ((data.train_images, data.train_labels), (data.test_images, data.test_labels)):
        assert images.dim() == 4 and images.shape[0] == labels.shape[0] > 0 and labels.dtype == torch.int64
        assert 0 <= labels.min() and labels.max() < data.num_classes
        assert images.dtype == torch.uint8 or (images.is_floating_point() and images.abs().max() <= 1)
    if images.dtype == torch.uint8:
        assert images.shape[-2:] == (16, 16), "the loader must honour image_size"
    assert data.class_names is None or len(data.class_names) == data.num_classes
    assert isinstance(getattr(loader, "recipe_defaults", {}), dict)


@pytest.mark.parametrize("name", REGISTRIES.metrics.names())
def test_every_metric_returns_a_finite_number_or_none(name):
    generator = torch.Generator().manual_seed(0)
    probabilities = torch.softmax(torch.randn(200, 10, generator=generator), dim=1)
    for labels in (None, torch.arange(200) % 10):
        evaluated = EvalSet(
            torch.randn(200, 8, generator=generator),
            probabilities,
            labels,
            torch.randn(300, 8, generator=generator),
            10,
            cas=lambda: 0.5,
        )
        value = REGISTRIES.metrics.get(name)(evaluated)
        assert value is None or math.isfinite(value)


def test_the_ema_generator_averages_weights_and_is_what_samples_use(tmp_path):
    source, average = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = average.weight.detach().clone()
    ExponentialAverage(source, average, decay=0.9).update()
    assert torch.allclose(average.weight, 0.9 * before + 0.1 * source.weight.detach())

    recipe = tiny_recipe("cgan", **{"train.steps": 5, "train.ema_decay": 0.5})
    result = train(recipe, tmp_path / "run", REGISTRIES, show_progress=False)
    ema, last = result.modules["G_ema"], result.modules["G"]
    assert not torch.equal(ema.project.weight, last.project.weight)
    _, _, loaded, _ = load_trained_generator(REGISTRIES, tmp_path / "run", "cpu")
    assert torch.equal(loaded.project.weight, ema.project.weight)  # sample, eval and compare draw from the EMA

    with pytest.raises(GanzooError, match="ema_decay"):
        tiny_recipe("gan", **{"train.ema_decay": 1.0})
