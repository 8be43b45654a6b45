"""Spectrally normalised discriminators (Miyato et al. 2018): every layer's largest singular value is 1.

``sngan`` is the paper's standard CNN. ``dcgan-sn``, ``infogan-sn`` and ``mlp-sn`` are the DCGAN, InfoGAN and MLP
discriminators with spectral normalisation instead of BatchNorm, so any recipe can switch by changing one name.
Spectral normalisation bounds D's Lipschitz constant, which is what makes the hinge and WGAN losses
behave; BatchNorm is dropped because it mixes the images of a batch and undoes the bound.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganzoo.models.base import Discriminator
from ganzoo.models.dcgan import DCGANDiscriminator
from ganzoo.models.infogan import InfoGANDiscriminator
from ganzoo.models.mlp import MLPDiscriminator


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral-normalise every convolution, linear layer and class projection in ``module``, in place."""
    for child in list(module.modules()):
        if isinstance(child, (nn.Conv2d, nn.Linear)):
            spectral_norm(child)
    if isinstance(module, Discriminator) and module.label_projection is not None:
        spectral_norm(module.label_projection)
    return module


def drop_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer in ``module`` with an identity, in place."""
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, nn.Identity())
        else:
            drop_batchnorm(child)
    return module


class SNGANDiscriminator(Discriminator):
    """SNGAN's standard CNN D: 7 spectrally normalised convs (w..8w channels, 3 halvings), LeakyReLU 0.1."""

    image_sizes = (28, 32)

    def __init__(
        self, image_shape, out_features: int, num_classes: int = 0, conditioning: str = "none", width: int = 64
    ):
        super().__init__(image_shape, out_features, num_classes, conditioning)
        layers: list[nn.Module] = []
        channels = self.in_channels
        for out, kernel, stride in [
            (width, 3, 1),
            (width, 4, 2),
            (2 * width, 3, 1),
            (2 * width, 4, 2),
            (4 * width, 3, 1),
            (4 * width, 4, 2),
            (8 * width, 3, 1),
        ]:
            layers += [nn.Conv2d(channels, out, kernel, stride=stride, padding=1), nn.LeakyReLU(0.1)]
            channels = out
        side = image_shape[1] // 8  # each 4x4, stride-2, padding-1 conv halves the side, rounding down
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.build_head(channels * side * side)
        apply_spectral_norm(self)


class SpectralDCGANDiscriminator(DCGANDiscriminator):
    """DCGAN discriminator with spectral normalisation instead of BatchNorm; side % 4 == 0."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        apply_spectral_norm(drop_batchnorm(self))


class SpectralInfoGANDiscriminator(InfoGANDiscriminator):
    """InfoGAN's MNIST discriminator with spectral normalisation instead of BatchNorm; side % 4 == 0."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        apply_spectral_norm(drop_batchnorm(self))


class SpectralMLPDiscriminator(MLPDiscriminator):
    """MLP discriminator with spectral normalisation on every layer; any image size."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        apply_spectral_norm(self)
