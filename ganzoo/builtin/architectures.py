"""Registers ganzoo's generators and discriminators."""

from ganzoo.hookspecs import hookimpl
from ganzoo.models.acgan import StridedConvDiscriminator, UpsampleConvGenerator
from ganzoo.models.dcgan import DCGANDiscriminator, DCGANGenerator
from ganzoo.models.mlp import MLPDiscriminator, MLPGenerator
from ganzoo.models.salimans import SalimansDiscriminator, SalimansGenerator
from ganzoo.models.spectral import SNGANDiscriminator, SpectralDCGANDiscriminator, SpectralMLPDiscriminator


@hookimpl
def ganzoo_generators():
    return {"mlp": MLPGenerator, "dcgan": DCGANGenerator, "acgan": UpsampleConvGenerator, "salimans": SalimansGenerator}


@hookimpl
def ganzoo_discriminators():
    return {
        "mlp": MLPDiscriminator,
        "dcgan": DCGANDiscriminator,
        "acgan": StridedConvDiscriminator,
        "salimans": SalimansDiscriminator,
        "sngan": SNGANDiscriminator,
        "dcgan-sn": SpectralDCGANDiscriminator,
        "mlp-sn": SpectralMLPDiscriminator,
    }
