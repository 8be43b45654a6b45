"""Built-in architectures. Each module registers its pair through the plugin hooks."""

from ganzoo.models.base import Discriminator, Generator

__all__ = ["Discriminator", "Generator"]
