"""A small DCGAN pair (transposed-conv G, strided-conv D with BatchNorm) for 28x28 or 32x32 images."""

from __future__ import annotations

from torch import nn

from ganzoo.models.base import Discriminator, Generator, check_divisible


class DCGANGenerator(Generator):
    """DCGAN generator: Linear -> 2x transposed conv (2w, w channels) -> image; side % 4 == 0."""

    image_sizes = (28, 32)

    def __init__(self, latent_dim: int, num_classes: int, image_shape, conditioning: str = "none", width: int = 64):
        check_divisible("dcgan", image_shape, 4)
        start = image_shape[1] // 4
        super().__init__(latent_dim, num_classes, conditioning, hidden_features=2 * width * start * start)
        self.body = nn.Sequential(
            nn.Unflatten(1, (2 * width, start, start)),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, image_shape[0], 4, stride=2, padding=1),
            nn.Tanh(),
        )


class DCGANDiscriminator(Discriminator):
    """DCGAN discriminator: 2x strided conv (w, 2w channels, LeakyReLU, BatchNorm) -> logits; side % 4 == 0."""

    image_sizes = (28, 32)

    def __init__(
        self, image_shape, out_features: int, num_classes: int = 0, conditioning: str = "none", width: int = 64
    ):
        check_divisible("dcgan", image_shape, 4)
        super().__init__(image_shape, out_features, num_classes, conditioning)
        side = image_shape[1] // 4
        self.features = nn.Sequential(
            nn.Conv2d(self.in_channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.build_head(2 * width * side * side)
