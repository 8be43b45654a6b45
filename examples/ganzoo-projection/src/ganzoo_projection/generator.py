"""The projection paper's ResNet generator (Miyato & Koyama 2018), at a scale that trains on a CPU.

Noise is projected to a small feature map, which residual up-blocks double until it has the image's
side; a last BatchNorm, ReLU and 3x3 convolution make the image. At each resolution G's feature maps
have as many channels as D's, and ``width`` at the image's side. With
``conditioning = "batchnorm"`` the base class turns every BatchNorm here, the blocks' included, into a
class-conditional BatchNorm, which is how the paper feeds the label to G.
"""

from __future__ import annotations

from torch import nn

from ganzoo.models import Generator
from ganzoo_projection.blocks import SCALE, UpBlock, channel_pyramid, conv3x3, resolution_steps


class ResNetGenerator(Generator):
    """Projection-cGAN ResNet G: Linear -> residual up-blocks (.., 2w, w, w channels) -> BN, ReLU, conv3x3, Tanh."""

    image_sizes = (28, 32)

    def __init__(self, latent_dim: int, num_classes: int, image_shape, conditioning: str = "none", width: int = 64):
        channels, side, _ = image_shape
        blocks = resolution_steps("resnet", image_shape)
        start = side // SCALE**blocks
        widths = channel_pyramid(width, blocks)[::-1] + [width]  # D's, smallest side first, then the image's side
        super().__init__(latent_dim, num_classes, conditioning, hidden_features=widths[0] * start * start)
        self.body = nn.Sequential(
            nn.Unflatten(1, (widths[0], start, start)),
            *(UpBlock(a, b) for a, b in zip(widths, widths[1:])),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            conv3x3(width, channels),
            nn.Tanh(),
        )
