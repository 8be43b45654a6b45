"""What a variant is: a name, a description and the loss strategy that defines it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """A trainable GAN variant. The loss strategy decides what G and D see (labels or not) and D's outputs.

    name: what users type (``ganzoo run NAME``).
    description: one line for ``ganzoo list variants``.
    loss: the name of its loss strategy in the ``losses`` registry.
    """

    name: str
    description: str
    loss: str
