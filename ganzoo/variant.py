"""What a variant is: a name, a description and the loss strategy that defines it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Variant:
    """A trainable GAN variant. The loss strategy decides what G and D see (labels or not) and D's outputs.

    name: what users type (``ganzoo run NAME``).
    description: one line for ``ganzoo list variants``.
    loss: the name of its loss strategy in the ``losses`` registry (several variants may share one).
    defaults: recipe values for this variant on any dataset, by dotted key (e.g.
        ``{"model.discriminator": "sngan", "loss.adversarial": "hinge"}``); a dataset's defaults, a
        recipe file and the command line override them.
    """

    name: str
    description: str
    loss: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
