"""The projection paper's ResNet discriminator (Miyato & Koyama 2018), spectrally normalised.

An "optimized" first block and residual down-blocks halve the image until it is small, doubling the
channels from ``width``; plain blocks follow at that resolution, then ReLU and a sum over the spatial
positions give the feature vector. ``ganzoo.models.Discriminator`` adds the linear head and, for
"hidden" or "batchnorm" conditioning, the class projection ``<embed(y), features>`` that gives the
paper its name. Spectral normalisation on every layer, the projection included, keeps D Lipschitz,
which the hinge loss needs.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.models import Discriminator
from ganzoo.models.spectral import apply_spectral_norm
from ganzoo_projection.blocks import DownBlock, channel_pyramid, resolution_steps

PLAIN_BLOCKS = 2  # blocks at the smallest resolution, after the last halving, as in the paper's 32x32 D


class GlobalSumPool(nn.Module):
    """(B, C, H, W) -> (B, C): the sum, not the mean, over positions, as in the paper's D."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(2, 3))


class ResNetDiscriminator(Discriminator):
    """Projection-cGAN ResNet D, spectrally normalised: down-blocks (w, 2w, .. channels), ReLU, global sum pooling."""

    image_sizes = (28, 32)

    def __init__(self, image_shape, out_features: int, num_classes: int = 0, conditioning: str = "none", width: int = 64):
        downsamplings = resolution_steps("resnet-sn", image_shape)
        super().__init__(image_shape, out_features, num_classes, conditioning)
        widths = channel_pyramid(width, downsamplings)
        self.features = nn.Sequential(
            DownBlock(self.in_channels, widths[0], first=True),
            *(DownBlock(a, b) for a, b in zip(widths, widths[1:])),
            *(DownBlock(widths[-1], widths[-1], downsample=False) for _ in range(PLAIN_BLOCKS)),
            nn.ReLU(),
            GlobalSumPool(),
        )
        self.build_head(widths[-1])
        apply_spectral_norm(self)
