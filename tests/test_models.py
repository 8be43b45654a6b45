"""Every registered architecture, built at each image size it declares, in every conditioning.

The cases are generated from the registries, so a new generator or discriminator (ganzoo's or an
installed plugin's) is tested without touching this file; one that declares no ``image_sizes`` fails.
"""

import copy

import pytest
import torch

from ganzoo import GanzooError
from ganzoo.models.base import CONDITIONINGS, ConditionalBatchNorm
from ganzoo.plugins import get_registries

REGISTRIES = get_registries()
ANY_SIZE = (28, 32)  # what "any size" (image_sizes == ()) is tested at
NUM_CLASSES = 10


def cases(registry):
    for entry in registry:
        sizes = getattr(entry.value, "image_sizes", None)
        for size in ANY_SIZE if sizes == () else sizes or [None]:
            for conditioning in CONDITIONINGS:
                yield pytest.param(entry.name, size, conditioning, id=f"{entry.name}-{size}px-{conditioning}")


def labels_for(conditioning, count=3):
    return torch.arange(count) % NUM_CLASSES if conditioning != "none" else None


@pytest.mark.parametrize("name,size,conditioning", list(cases(REGISTRIES.generators)))
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_builds_draws_in_range_and_backpropagates(name, size, conditioning, channels):
    assert size is not None, f"generator {name!r} must declare image_sizes"
    generator = REGISTRIES.create_generator(
        name,
        latent_dim=8,
        num_classes=NUM_CLASSES,
        image_shape=(channels, size, size),
        conditioning=conditioning,
        width=16,
    )
    images = generator(torch.randn(3, 8), labels_for(conditioning))
    assert images.shape == (3, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1
    images.square().sum().backward()
    missing = [n for n, p in generator.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"parameters without gradient: {missing}"


@pytest.mark.parametrize("name,size,conditioning", list(cases(REGISTRIES.discriminators)))
@pytest.mark.parametrize("channels", [1, 3])
def test_discriminator_builds_returns_logits_and_features_and_backpropagates(name, size, conditioning, channels):
    assert size is not None, f"discriminator {name!r} must declare image_sizes"
    discriminator = REGISTRIES.create_discriminator(
        name,
        image_shape=(channels, size, size),
        out_features=11,
        num_classes=NUM_CLASSES,
        conditioning=conditioning,
        width=16,
    )
    images = torch.randn(3, channels, size, size, requires_grad=True)
    logits, features = discriminator(images, labels_for(conditioning), return_features=True)
    assert logits.shape == (3, 11) and features.shape[0] == 3 and torch.isfinite(logits).all()
    logits.sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0  # what G's loss flows through


def test_wrong_image_size_is_a_clear_error():
    with pytest.raises(GanzooError, match="multiple of 16"):
        REGISTRIES.create_discriminator(
            "acgan", image_shape=(1, 28, 28), out_features=1, num_classes=10, conditioning="none", width=16
        )


def test_batchnorm_uses_pytorch_defaults_not_the_seeds_eps_bug():
    generator = REGISTRIES.create_generator(
        "mlp", latent_dim=8, num_classes=0, image_shape=(1, 28, 28), conditioning="none", width=16
    )
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms and all(m.eps == 1e-5 and m.momentum == 0.1 for m in norms)


def test_conditional_batchnorm_replaces_every_norm_and_depends_on_the_label():
    generator = REGISTRIES.create_generator(
        "dcgan", latent_dim=8, num_classes=4, image_shape=(1, 28, 28), conditioning="batchnorm", width=8
    )
    norms = [m for m in generator.modules() if isinstance(m, ConditionalBatchNorm)]
    assert len(norms) == 2 and not any(isinstance(m, torch.nn.BatchNorm2d) and m.affine for m in generator.modules())
    with torch.no_grad():
        norms[0].gain.weight[2].mul_(3.0)  # class 2 gets another gain: only its images change
    z = torch.randn(4, 8).repeat(2, 1)
    images = generator.eval()(z, torch.tensor([0, 1, 2, 3, 0, 1, 3, 3]))
    assert torch.allclose(images[:2], images[4:6]) and not torch.allclose(images[2], images[6])
    assert all(norm.labels is None for norm in norms)  # no label tensor is kept between calls


def test_spectral_norm_bounds_every_layer_of_the_sn_discriminators():
    for name in ("sngan", "dcgan-sn", "mlp-sn"):
        discriminator = REGISTRIES.create_discriminator(
            name, image_shape=(1, 32, 32), out_features=1, num_classes=10, conditioning="hidden", width=8
        )
        for _ in range(20):  # power iterations run in training mode
            discriminator(torch.randn(4, 1, 32, 32), torch.arange(4))
        layers = [m for m in discriminator.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
        assert layers and not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in discriminator.modules())
        for layer in layers:
            sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2)
            assert sigma == pytest.approx(1.0, abs=0.05), f"{name}: largest singular value {sigma:.3f}"


@pytest.mark.parametrize("shape, channels_last", [((30, 50), False), ((16, 8, 4, 4), False), ((16, 8, 4, 4), True)])
def test_spectral_norm_matches_torchs_outputs_gradients_and_checkpoint_keys(shape, channels_last):
    """ganzoo's spectral norm has a hand-written gradient (three passes over W): it must be autograd's of
    torch.nn.utils.parametrizations.spectral_norm, with u and v held constant as in Miyato et al."""
    from torch.nn.utils.parametrizations import spectral_norm as torch_spectral_norm

    from ganzoo.models.spectral import spectral_norm

    layer = torch.nn.Linear(shape[1], shape[0]) if len(shape) == 2 else torch.nn.Conv2d(shape[1], shape[0], 4)
    layer = layer.double()
    if channels_last:
        layer = layer.to(memory_format=torch.channels_last)
    ours, theirs = copy.deepcopy(layer), copy.deepcopy(layer)
    torch.manual_seed(0)
    spectral_norm(ours)
    torch.manual_seed(0)
    torch_spectral_norm(theirs)
    assert ours.state_dict().keys() == theirs.state_dict().keys()  # checkpoints stay interchangeable
    x = torch.randn(3, *((shape[1],) if len(shape) == 2 else (shape[1], 6, 6)), dtype=torch.double)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    out_ours, out_theirs = ours(x), theirs(x)  # one power iteration each, from the same u and v
    assert torch.allclose(out_ours, out_theirs, atol=1e-10)
    weight = torch.randn_like(out_ours)
    (out_ours * weight).sum().backward()
    (out_theirs * weight).sum().backward()
    ours_grad = ours.parametrizations.weight.original.grad
    assert torch.allclose(ours_grad, theirs.parametrizations.weight.original.grad, atol=1e-10)


def test_weight_normalised_layer_scales_outputs_as_a_normalised_weight_would():
    from ganzoo.models.salimans import WeightNormLinear

    layer = WeightNormLinear(20, 7)
    with torch.no_grad():
        layer.scale.uniform_(0.5, 2.0)
        layer.bias.normal_()
    x = torch.randn(5, 20, requires_grad=True)
    expected = torch.nn.functional.linear(x, layer.weight(), layer.bias)
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert torch.allclose(layer.weight().norm(dim=1), layer.scale.detach())  # w = scale * v / |v|, per unit
    grads = torch.autograd.grad(layer(x).square().sum(), [layer.direction, layer.scale, x])
    expected_grads = torch.autograd.grad(expected.square().sum(), [layer.direction, layer.scale, x])
    for got, want in zip(grads, expected_grads):
        assert torch.allclose(got, want, atol=1e-5)
