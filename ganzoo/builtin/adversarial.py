"""Registers ganzoo's adversarial loss flavours."""

from ganzoo.adversarial import Hinge, LeastSquares, NonSaturating, WassersteinGP
from ganzoo.hookspecs import hookimpl


@hookimpl
def ganzoo_adversarial_losses():
    return {"bce": NonSaturating, "hinge": Hinge, "lsgan": LeastSquares, "wgan-gp": WassersteinGP}
