import pytest
import torch

from ganzoo import GanzooError
from ganzoo.plugins import get_registries

REGISTRIES = get_registries()
SIZES = {"mlp": (28, 32), "acgan": (32,), "dcgan": (28, 32)}


@pytest.mark.parametrize("name", REGISTRIES.generators.names())
@pytest.mark.parametrize("conditioning", ["none", "input", "hidden"])
def test_generators_make_images_in_range_and_backprop(name, conditioning):
    for size in SIZES.get(name, (32,)):
        generator = REGISTRIES.create_generator(name, latent_dim=8, num_classes=10, image_shape=(1, size, size),
                                                conditioning=conditioning, width=16)
        labels = torch.tensor([0, 3, 9])
        images = generator(torch.randn(3, 8), labels if conditioning != "none" else None)
        assert images.shape == (3, 1, size, size)
        assert images.min() >= -1 and images.max() <= 1
        images.sum().backward()
        assert all(p.grad is not None for p in generator.parameters() if p.requires_grad)


@pytest.mark.parametrize("name", REGISTRIES.discriminators.names())
@pytest.mark.parametrize("conditioning", ["none", "input", "hidden"])
def test_discriminators_return_logits_and_features(name, conditioning):
    for size in SIZES.get(name, (32,)):
        discriminator = REGISTRIES.create_discriminator(name, image_shape=(1, size, size), out_features=11,
                                                        num_classes=10, conditioning=conditioning, width=16)
        labels = torch.tensor([1, 2, 3]) if conditioning != "none" else None
        logits, features = discriminator(torch.randn(3, 1, size, size), labels, return_features=True)
        assert logits.shape == (3, 11) and features.shape[0] == 3
        logits.sum().backward()


def test_wrong_image_size_is_a_clear_error():
    with pytest.raises(GanzooError, match="multiple of 16"):
        REGISTRIES.create_discriminator("acgan", image_shape=(1, 28, 28), out_features=1, num_classes=10, conditioning="none", width=16)


def test_batchnorm_uses_pytorch_defaults_not_the_seeds_eps_bug():
    generator = REGISTRIES.create_generator("mlp", latent_dim=8, num_classes=0, image_shape=(1, 28, 28), conditioning="none", width=16)
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms and all(m.eps == 1e-5 and m.momentum == 0.1 for m in norms)
