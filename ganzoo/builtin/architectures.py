"""Registers ganzoo's generators and discriminators."""

from ganzoo.hookspecs import hookimpl
from ganzoo.models.acgan import StridedConvDiscriminator, UpsampleConvGenerator
from ganzoo.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganzoo.models.infogan import InfoGANDiscriminator, InfoGANGenerator
from ganzoo.models.mlp import MLPDiscriminator, MLPGenerator
from ganzoo.models.salimans import SalimansDiscriminator, SalimansGenerator
from ganzoo.models.spectral import (
    SNGANDiscriminator,
    SpectralDCGANDiscriminator,
    SpectralInfoGANDiscriminator,
    SpectralMLPDiscriminator,
)


@hookimpl
def ganzoo_generators():
    return {
        "mlp": MLPGenerator,
        "dcgan": DCGANGenerator,
        "infogan": InfoGANGenerator,
        "acgan": UpsampleConvGenerator,
        "salimans": SalimansGenerator,
    }


@hookimpl
def ganzoo_discriminators():
    return {
        "mlp": MLPDiscriminator,
        "dcgan": DCGANDiscriminator,
        "infogan": InfoGANDiscriminator,
        "acgan": StridedConvDiscriminator,
        "salimans": SalimansDiscriminator,
        "sngan": SNGANDiscriminator,
        "dcgan-sn": SpectralDCGANDiscriminator,
        "infogan-sn": SpectralInfoGANDiscriminator,
        "mlp-sn": SpectralMLPDiscriminator,
    }
