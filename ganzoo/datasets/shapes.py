"""Shapes: ten classes of simple white shapes on black, drawn on the fly (no download).

For demos and tests. Each image is one shape with a random position, size, small rotation, stroke width
and brightness, rendered from its signed distance function with anti-aliased edges directly at the
requested size, a whole class at a time. A fixed seed makes every call return the same tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import torch

from ganzoo.data import ImageData
from ganzoo.errors import GanzooError

TRAIN_SIZE, TEST_SIZE = 20_000, 2_000
SEED = 0
MIN_IMAGE_SIZE = 8
MAX_ANGLE = math.radians(15)  # well short of 45°, so a square never passes for a diamond nor a plus for an X
MIN_STROKE_PIXELS = 0.6  # half-width in pixels below which thin strokes would fade out at small sizes

Distance = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def load_shapes(root: Path | None = None, image_size: int = 28, download: bool = True) -> ImageData:
    """Ten procedural shapes (disc, ring, square, ...): 20,000 train / 2,000 test, 1 channel; no download."""
    if image_size < MIN_IMAGE_SIZE:
        raise GanzooError(f"dataset 'shapes' needs data.image_size >= {MIN_IMAGE_SIZE}, not {image_size}.")
    generator = torch.Generator().manual_seed(SEED)
    train_images, train_labels = render_shapes(TRAIN_SIZE, image_size, generator)
    test_images, test_labels = render_shapes(TEST_SIZE, image_size, generator)
    return ImageData("shapes", train_images, train_labels, test_images, test_labels, len(SHAPES), CLASS_NAMES)


def render_shapes(count: int, image_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` images (count, 1, image_size, image_size) uint8 with balanced labels in shuffled order."""
    labels = (torch.arange(count) % len(SHAPES))[torch.randperm(count, generator=generator)]
    pixel = 2 / image_size  # the image spans [-1, 1] on both axes
    # One pose per image, as (count, 1, 1) columns that broadcast over its pixels.
    scale = _uniform(count, 0.6, 0.8, generator)
    room = 0.5 * (0.95 - scale)  # how far the centre may move: half the room that keeps the shape inside
    centre_x, centre_y = _uniform(count, -1, 1, generator) * room, _uniform(count, -1, 1, generator) * room
    angle = _uniform(count, -MAX_ANGLE, MAX_ANGLE, generator)
    stroke = torch.maximum(_uniform(count, 0.12, 0.2, generator), MIN_STROKE_PIXELS * pixel / scale)
    brightness = _uniform(count, 0.6, 1.0, generator)

    ticks = (torch.arange(image_size) + 0.5) * pixel - 1
    grid_x, grid_y = ticks.view(1, 1, -1), -ticks.view(1, -1, 1)  # y points up, so "up" means up
    images = torch.empty(count, image_size, image_size, dtype=torch.uint8)
    for label, (_, distance) in enumerate(SHAPES):
        chosen = (labels == label).nonzero().squeeze(1)
        s = scale[chosen]
        cos, sin = angle[chosen].cos() / s, angle[chosen].sin() / s
        dx, dy = grid_x - centre_x[chosen], grid_y - centre_y[chosen]  # (n, 1, S) and (n, S, 1): cheap until added
        x, y = cos * dx + sin * dy, cos * dy - sin * dx  # the shape's own frame: centred, unrotated, unit size
        # Signed distance in pixels (negative inside) -> the share of each pixel covered: a one-pixel soft edge.
        coverage = (0.5 - distance(x, y, stroke[chosen]) * (s / pixel)).clamp_(0, 1)
        images[chosen] = (coverage * (255 * brightness[chosen])).round_().to(torch.uint8)
    return images.unsqueeze(1), labels


def _uniform(count: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(count, 1, 1, generator=generator)


# Signed distances in the shape's frame, where the shape fits in [-1, 1]²; ``w`` is the stroke half-width.


def _box(x: torch.Tensor, y: torch.Tensor, half_width, half_height) -> torch.Tensor:
    dx, dy = x.abs() - half_width, y.abs() - half_height
    return torch.hypot(dx.clamp(min=0), dy.clamp(min=0)) + torch.maximum(dx, dy).clamp(max=0)


def _rotate45(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return (x + y) * math.sqrt(0.5), (y - x) * math.sqrt(0.5)


def _triangle(x: torch.Tensor, y: torch.Tensor, half_side: float) -> torch.Tensor:
    """Equilateral, pointing up, its bounding box centred (after Inigo Quilez's exact formula)."""
    k = math.sqrt(3)
    x, y = x.abs() - half_side, y + 1.5 * half_side / k  # centre the bounding box, then move to the base's height
    folded = x + k * y > 0  # beyond the slanted edge's normal: mirror onto the base's side
    x, y = torch.where(folded, (x - k * y) / 2, x), torch.where(folded, (-k * x - y) / 2, y)
    x = x - x.clamp(-2 * half_side, 0)
    return -torch.hypot(x, y) * y.sign()


def _plus(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return torch.minimum(_box(x, y, 0.9, w), _box(x, y, w, 0.9))


SHAPES: tuple[tuple[str, Distance], ...] = (
    ("disc", lambda x, y, w: torch.hypot(x, y) - 0.9),
    ("ring", lambda x, y, w: (torch.hypot(x, y) - 0.8).abs() - w),
    ("square", lambda x, y, w: _box(x, y, 0.75, 0.75)),
    ("square outline", lambda x, y, w: _box(x, y, 0.8, 0.8).abs() - w),
    ("triangle", lambda x, y, w: _triangle(x, y, 0.9)),
    ("plus", _plus),
    ("cross", lambda x, y, w: _plus(*_rotate45(x, y), w)),
    ("horizontal bar", lambda x, y, w: _box(x, y, 0.9, 2 * w)),
    ("vertical bar", lambda x, y, w: _box(x, y, 2 * w, 0.9)),
    ("diamond", lambda x, y, w: _box(*_rotate45(x, y), 0.68, 0.68)),
)
CLASS_NAMES = tuple(name for name, _ in SHAPES)
