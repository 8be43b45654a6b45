"""The MNIST pair of InfoGAN (Chen et al. 2016, appendix C.1), also the MNIST architecture of Lucic et al. 2018
("Are GANs Created Equal?"): the DCGAN pair with a fully connected hidden layer of 1024 units on each side.

G: noise -> FC 1024 (BatchNorm, ReLU) -> FC 2w x s x s (BatchNorm, ReLU) -> 4x4 transposed conv to w
channels (stride 2, BatchNorm, ReLU) -> 4x4 transposed conv to the image (stride 2, tanh).
D: 4x4 conv w (stride 2, LeakyReLU) -> 4x4 conv 2w (stride 2, BatchNorm, LeakyReLU) -> FC 1024
(BatchNorm, LeakyReLU) -> logits. w = 64 gives the paper's 64 and 128 channels. InfoGAN trains the pair with
Adam, G at 1e-3 and D at 2e-4.

For an unconditional G on MNIST the two hidden layers are worth their cost (about twice the DCGAN pair's
FLOPs): after one epoch at those rates, FID 37 against 173 for the DCGAN pair (ganzoo's evaluator, 5,000
samples). It takes both halves: InfoGAN's G with the DCGAN D reached 137, and InfoGAN's D with the DCGAN G
overpowered it (D accuracy 1, no digits).
"""

from __future__ import annotations

from torch import nn

from ganzoo.models.base import Discriminator, Generator, check_divisible

HIDDEN_UNITS = 1024
LEAKY_SLOPE = 0.1  # InfoGAN's code uses 0.01; the recipes were measured with 0.1


class InfoGANGenerator(Generator):
    """InfoGAN's MNIST G: FC 1024 -> FC 2w x s x s -> 2 transposed convs (w channels, then the image); side % 4 == 0."""

    image_sizes = (28, 32)

    def __init__(self, latent_dim: int, num_classes: int, image_shape, conditioning: str = "none", width: int = 64):
        check_divisible("infogan", image_shape, 4)
        side = image_shape[1] // 4
        super().__init__(latent_dim, num_classes, conditioning, hidden_features=HIDDEN_UNITS)
        self.body = nn.Sequential(
            nn.BatchNorm1d(HIDDEN_UNITS),
            nn.ReLU(),
            nn.Linear(HIDDEN_UNITS, 2 * width * side * side),
            nn.BatchNorm1d(2 * width * side * side),
            nn.ReLU(),
            nn.Unflatten(1, (2 * width, side, side)),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, image_shape[0], 4, stride=2, padding=1),
            nn.Tanh(),
        )


class InfoGANDiscriminator(Discriminator):
    """InfoGAN's MNIST D: 2 strided convs (w, 2w channels) -> FC 1024 -> logits; side % 4 == 0."""

    image_sizes = (28, 32)

    def __init__(
        self, image_shape, out_features: int, num_classes: int = 0, conditioning: str = "none", width: int = 64
    ):
        check_divisible("infogan", image_shape, 4)
        super().__init__(image_shape, out_features, num_classes, conditioning)
        side = image_shape[1] // 4
        self.features = nn.Sequential(
            nn.Conv2d(self.in_channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(LEAKY_SLOPE),
            nn.Flatten(),
            nn.Linear(2 * width * side * side, HIDDEN_UNITS),
            nn.BatchNorm1d(HIDDEN_UNITS),
            nn.LeakyReLU(LEAKY_SLOPE),
        )
        self.build_head(HIDDEN_UNITS)
