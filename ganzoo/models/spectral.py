"""Spectrally normalised discriminators (Miyato et al. 2018): every layer's largest singular value is 1.

``sngan`` is the paper's standard CNN. ``dcgan-sn``, ``infogan-sn`` and ``mlp-sn`` are the DCGAN, InfoGAN and MLP
discriminators with spectral normalisation instead of BatchNorm, so any recipe can switch by changing one name.
Spectral normalisation bounds D's Lipschitz constant, which is what makes the hinge and WGAN losses
behave; BatchNorm is dropped because it mixes the images of a batch and undoes the bound.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ganzoo.models.base import Discriminator
from ganzoo.models.dcgan import DCGANDiscriminator
from ganzoo.models.infogan import InfoGANDiscriminator
from ganzoo.models.mlp import MLPDiscriminator


class _DivideBySigma(torch.autograd.Function):
    """W / sigma, where sigma = u^T W v with u and v held constant (as in Miyato et al.'s gradient).

    Autograd differentiates ``weight / sigma`` in about eight passes over W (two quotients, a product, a
    negation, a sum, the outer product of sigma's gradient and its accumulation), which made spectral
    normalisation of InfoGAN's 6272x1024 layer half of a CPU training step. The gradient has a closed form,
    dL/dW = (G - <G, W/sigma> u v^T) / sigma, that takes three passes.
    """

    @staticmethod
    def forward(ctx, weight: torch.Tensor, sigma: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        normalized = weight / sigma
        ctx.save_for_backward(normalized, sigma, u, v)
        return normalized

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        normalized, sigma, u, v = ctx.saved_tensors
        if grad.is_contiguous() and normalized.is_contiguous():
            inner = torch.dot(grad.view(-1), normalized.view(-1))
        else:  # channels-last convolution weights: small, so a temporary product costs little
            inner = (grad * normalized).sum()
        grad_weight = grad / sigma
        scaled_u = u * (-inner / sigma)
        if grad_weight.is_contiguous():
            grad_weight.view(u.shape[0], -1).addr_(scaled_u, v)
        else:
            grad_weight += torch.outer(scaled_u, v).view(grad_weight.shape)
        return grad_weight, None, None, None


class SpectralNorm(nn.Module):
    """A parametrization W -> W / sigma(W), sigma the largest singular value of W viewed as (out, -1).

    Estimated by one power iteration per forward pass in training mode (Miyato et al. 2018), like
    ``torch.nn.utils.parametrizations.spectral_norm``, with the same buffers (``_u``, ``_v``) and so the same
    checkpoint keys, and a cheaper gradient (``_DivideBySigma``). The training loop computes the normalised
    weights once per D or G update (``torch.nn.utils.parametrize.cached``), so D's real and fake passes share
    one power iteration, as in the paper's algorithm.
    """

    def __init__(self, weight: torch.Tensor, n_power_iterations: int = 1, eps: float = 1e-12):
        super().__init__()
        if weight.ndim < 2:
            raise ValueError("spectral normalisation needs a weight with at least 2 dimensions")
        self.n_power_iterations, self.eps = n_power_iterations, eps
        rows, columns = weight.shape[0], weight[0].numel()
        self.register_buffer("_u", F.normalize(weight.new_empty(rows).normal_(0, 1), dim=0, eps=eps))
        self.register_buffer("_v", F.normalize(weight.new_empty(columns).normal_(0, 1), dim=0, eps=eps))
        with torch.no_grad():
            self._power_iteration(weight.flatten(1), 15)  # start from a good estimate, as torch does

    @torch.no_grad()
    def _power_iteration(self, weight_mat: torch.Tensor, iterations: int) -> torch.Tensor:
        """Update u and v in place; return sigma = u^T W v, which after the step equals |W^T u| (no extra pass)."""
        for _ in range(iterations):
            self._u.copy_(F.normalize(torch.mv(weight_mat, self._v), dim=0, eps=self.eps))
            transposed = torch.mv(weight_mat.t(), self._u)
            sigma = transposed.norm()
            self._v.copy_(transposed / sigma.clamp_min(self.eps))
        return sigma

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        with torch.autocast(weight.device.type, enabled=False), torch.no_grad():
            weight_mat = weight.flatten(1)
            if self.training:
                sigma = self._power_iteration(weight_mat, self.n_power_iterations)
            else:
                sigma = torch.dot(self._u, torch.mv(weight_mat, self._v))
        # u and v are updated in place by the next forward pass, possibly before this one's backward.
        return _DivideBySigma.apply(weight, sigma.to(weight.dtype), self._u.clone(), self._v.clone())


def spectral_norm(module: nn.Module, name: str = "weight") -> nn.Module:
    """Spectrally normalise ``module.<name>`` in place (``SpectralNorm``); returns the module."""
    parametrize.register_parametrization(module, name, SpectralNorm(getattr(module, name)))
    return module


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
