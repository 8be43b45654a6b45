"""The residual blocks of the projection paper's ResNets (Miyato & Koyama 2018, after Gulrajani et al. 2017).

Every block is ``residual(x) + shortcut(x)``. G's blocks double the side (nearest-neighbour upsampling),
D's halve it (average pooling). The shortcut is a 1x1 convolution whenever the block changes the
resolution or the channel count, so that it can match the residual's output. G's blocks keep their
BatchNorm layers as plain attributes: ``ganzoo.models.Generator`` finds them there and turns them into
class-conditional BatchNorm. D's blocks have no normalisation, because spectral normalisation bounds
their convolutions instead.

Channels double at each lower resolution, as in the paper's 64x64 and 128x128 networks (its 32x32 ones
keep them constant): the small feature maps get capacity where it is cheap. At CPU widths this learns
faster than a constant width for about the same time per step.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo import GanzooError

SCALE = 2  # every up- or down-block doubles or halves the side
MAX_START_SIDE = 8  # G starts (and D stops halving) at a side of 8 or below, or at the first odd side


def resolution_steps(architecture: str, image_shape: tuple[int, int, int]) -> int:
    """How many 2x steps lie between the image and the ResNet's smallest feature maps.

    Halve the side until it is odd or at most ``MAX_START_SIDE``: 2 for 28 (28, 14, 7) and for 32
    (32, 16, 8), 3 for 64. Shared by G and D so that they mirror each other.
    """
    _, height, width = image_shape
    side, steps = height, 0
    while side % SCALE == 0 and side > MAX_START_SIDE:
        side //= SCALE
        steps += 1
    if height != width or steps == 0:
        raise GanzooError(f"architecture {architecture!r} needs square images of an even side above {MAX_START_SIDE}, "
                          f"got {height}x{width}. Set data.image_size (e.g. --set data.image_size=32).")
    return steps


def channel_pyramid(width: int, steps: int) -> list[int]:
    """Channels of D's feature maps after each halving, largest first: ``width``, doubled at each further one."""
    return [width * 2**step for step in range(steps)]


def upsample() -> nn.Upsample:
    return nn.Upsample(scale_factor=SCALE, mode="nearest")


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


def conv1x1(in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1)


class UpBlock(nn.Module):
    """G's block: BN, ReLU, upsample, conv3x3, BN, ReLU, conv3x3; shortcut: conv1x1, upsample.

    The paper upsamples before the shortcut's 1x1 convolution; nearest-neighbour upsampling commutes
    with it, so convolving first is the same function on a quarter of the pixels.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.residual = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            upsample(),
            conv3x3(in_channels, out_channels),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            conv3x3(out_channels, out_channels),
        )
        self.shortcut = nn.Sequential(conv1x1(in_channels, out_channels), upsample())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(x) + self.shortcut(x)


class DownBlock(nn.Module):
    """D's block: ReLU, conv3x3, ReLU, conv3x3; shortcut: conv1x1; then [average pool] of their sum.

    The paper pools the residual and the shortcut separately; pooling is linear, so pooling their sum
    once is the same function at half the cost. With ``first=True`` it is the paper's "optimized" block
    for the image itself: no ReLU before the first convolution (the pixels are not a block's output).
    """

    def __init__(self, in_channels: int, out_channels: int, downsample: bool = True, first: bool = False):
        super().__init__()
        self.residual = nn.Sequential(
            *([] if first else [nn.ReLU()]),
            conv3x3(in_channels, out_channels),
            nn.ReLU(),
            conv3x3(out_channels, out_channels),
        )
        learnable = downsample or in_channels != out_channels
        self.shortcut = conv1x1(in_channels, out_channels) if learnable else nn.Identity()
        self.pool = nn.AvgPool2d(SCALE) if downsample else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.residual(x) + self.shortcut(x))
