"""Fully connected pair on flattened images (the PyTorch-GAN GAN/CGAN seeds' architecture, 1024-unit G)."""

from __future__ import annotations

import math

from torch import nn

from ganzoo.models.base import Discriminator, Generator


class MLPGenerator(Generator):
    """MLP generator: noise -> width, 2w, 4w, 8w units (1024 at width 128) -> image, any image size."""

    image_sizes = (28, 32)  # and any other shape, 2-D points (2, 1, 1) included

    def __init__(self, latent_dim: int, num_classes: int, image_shape, conditioning: str = "none", width: int = 128):
        super().__init__(latent_dim, num_classes, conditioning, hidden_features=width)
        layers: list[nn.Module] = [nn.LeakyReLU(0.2)]
        units = width
        for _ in range(3):
            # BatchNorm1d's defaults; the seeds' `BatchNorm1d(n, 0.8)` set eps=0.8 by mistake.
            layers += [nn.Linear(units, units * 2), nn.BatchNorm1d(units * 2), nn.LeakyReLU(0.2)]
            units *= 2
        layers += [nn.Linear(units, math.prod(image_shape)), nn.Tanh(), nn.Unflatten(1, tuple(image_shape))]
        self.body = nn.Sequential(*layers)


class MLPDiscriminator(Discriminator):
    """MLP discriminator: flattened image -> width, width/2 units (512, 256 at width 512) -> logits."""

    image_sizes = (28, 32)  # and any other shape, 2-D points (2, 1, 1) included

    def __init__(
        self, image_shape, out_features: int, num_classes: int = 0, conditioning: str = "none", width: int = 512
    ):
        super().__init__(image_shape, out_features, num_classes, conditioning)
        _, height, side = image_shape
        self.features = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self.in_channels * height * side, width),
            nn.LeakyReLU(0.2),
            nn.Linear(width, width // 2),
            nn.LeakyReLU(0.2),
        )
        self.build_head(width // 2)
