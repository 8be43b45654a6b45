"""The ACGAN seed's convolutional pair: upsample+conv generator, stride-2 conv discriminator (32x32)."""

from __future__ import annotations

from torch import nn

from ganzoo.models.base import Discriminator, Generator, check_divisible


class UpsampleConvGenerator(Generator):
    """Upsample+conv generator of the ACGAN seed: Linear -> 2x (upsample, conv 3x3) -> conv; side % 4 == 0."""

    image_sizes = (28, 32)

    def __init__(self, latent_dim: int, num_classes: int, image_shape, conditioning: str = "none", width: int = 128):
        check_divisible("acgan", image_shape, 4)
        start = image_shape[1] // 4
        super().__init__(latent_dim, num_classes, conditioning, hidden_features=width * start * start)
        self.body = nn.Sequential(
            nn.Unflatten(1, (width, start, start)),
            nn.BatchNorm2d(width),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(width, width // 2, 3, padding=1),
            nn.BatchNorm2d(width // 2),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width // 2, image_shape[0], 3, padding=1),
            nn.Tanh(),
        )


class StridedConvDiscriminator(Discriminator):
    """Stride-2 conv discriminator of the ACGAN seed: 4 blocks (w, 2w, 4w, 8w channels); side % 16 == 0."""

    image_sizes = (32,)

    def __init__(
        self, image_shape, out_features: int, num_classes: int = 0, conditioning: str = "none", width: int = 16
    ):
        check_divisible("acgan", image_shape, 16)
        super().__init__(image_shape, out_features, num_classes, conditioning)
        layers: list[nn.Module] = []
        channels = self.in_channels
        for block in range(4):
            out = width * 2**block
            layers += [nn.Conv2d(channels, out, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)]
            if block > 0:
                layers.append(nn.BatchNorm2d(out))
            channels = out
        side = image_shape[1] // 16
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.build_head(channels * side * side)
