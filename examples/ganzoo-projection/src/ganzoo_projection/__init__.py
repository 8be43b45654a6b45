"""ganzoo-projection: the projection-discriminator cGAN (Miyato & Koyama 2018) as a ganzoo plugin package.

This module is the plugin: the ``ganzoo`` entry point of this package names it, so that ``pip install``
is all it takes for ganzoo to find the components and the variant below. It adds

- generator ``resnet``: the paper's ResNet G (``ganzoo_projection.generator``);
- discriminator ``resnet-sn``: the paper's spectrally normalised ResNet D (``ganzoo_projection.discriminator``);
- variant ``projgan``: ganzoo's own ``cgan`` loss strategy with the paper's setup as defaults, so that
  ``ganzoo run projgan --dataset NAME`` trains the projection cGAN on any labelled dataset;
- the recipe ``projgan-shapes.toml`` (``ganzoo_projection/recipes``).

Only ganzoo's public API is used; nothing in ganzoo refers to this package.
"""

from importlib import resources

from ganzoo import Variant, hookimpl
from ganzoo_projection.discriminator import ResNetDiscriminator
from ganzoo_projection.generator import ResNetGenerator

__all__ = ["PROJGAN", "ResNetDiscriminator", "ResNetGenerator"]

PROJGAN = Variant(
    "projgan",
    "Projection cGAN (Miyato & Koyama 2018): ResNet G with conditional BatchNorm, SN-ResNet D with projection, hinge.",
    loss="cgan",
    defaults={
        "model.generator": "resnet",
        "model.discriminator": "resnet-sn",
        "model.conditioning": "batchnorm",  # conditional BatchNorm in G, class projection in D
        "model.latent_dim": 128,
        # The paper's CIFAR-10 networks have 256 (G) and 128 (D) channels; these train on a CPU.
        "model.generator_width": 16,
        "model.discriminator_width": 16,
        "loss.adversarial": "hinge",
        # The paper's Adam: no momentum, short second-moment memory. Its learning rate, 2e-4, is ganzoo's default.
        "train.beta1": 0.0,
        "train.beta2": 0.9,
    },
)


@hookimpl
def ganzoo_generators():
    return {"resnet": ResNetGenerator}


@hookimpl
def ganzoo_discriminators():
    return {"resnet-sn": ResNetDiscriminator}


@hookimpl
def ganzoo_variants():
    return [PROJGAN]


@hookimpl
def ganzoo_recipe_dirs():
    return [resources.files(__name__) / "recipes"]
