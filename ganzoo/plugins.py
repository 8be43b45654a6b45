"""Loads plugins and fills the registries from their hooks.

ganzoo's own architectures and datasets are registered here as plugins; variants, built-in ones
included, arrive through the ``ganzoo`` entry-point group (``plugins/`` in this repository).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from types import ModuleType
from typing import Any

import pluggy
from torch import nn

from ganzoo import data, hookspecs
from ganzoo.losses import LossStrategy
from ganzoo.models import acgan, dcgan, mlp
from ganzoo.registry import Registry
from ganzoo.variant import Variant

ENTRY_POINT_GROUP = "ganzoo"
CORE_PLUGINS: tuple[ModuleType, ...] = (mlp, acgan, dcgan, data)


@dataclass
class Registries:
    """Everything plugins registered, by kind."""

    generators: Registry[Any] = field(default_factory=lambda: Registry("generator"))
    discriminators: Registry[Any] = field(default_factory=lambda: Registry("discriminator"))
    losses: Registry[type[LossStrategy]] = field(default_factory=lambda: Registry("loss"))
    datasets: Registry[Any] = field(default_factory=lambda: Registry("dataset"))
    variants: Registry[Variant] = field(default_factory=lambda: Registry("variant"))
    recipe_dirs: list[Any] = field(default_factory=list)
    plugin_manager: pluggy.PluginManager | None = None

    def kinds(self) -> dict[str, Registry[Any]]:
        return {
            "variants": self.variants,
            "generators": self.generators,
            "discriminators": self.discriminators,
            "losses": self.losses,
            "datasets": self.datasets,
        }

    def create_generator(self, name: str, **kwargs: Any) -> nn.Module:
        return self.generators.create(name, **kwargs)

    def create_discriminator(self, name: str, **kwargs: Any) -> nn.Module:
        return self.discriminators.create(name, **kwargs)


def make_plugin_manager(extra_plugins: Iterable[object] = (), load_entry_points: bool = True) -> pluggy.PluginManager:
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    for module in CORE_PLUGINS:
        manager.register(module, name=f"ganzoo.{module.__name__.rsplit('.', 1)[-1]}")
    if load_entry_points:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        manager.register(plugin)
    return manager


def collect(manager: pluggy.PluginManager) -> Registries:
    """Call every registration hook and put what each plugin returned into the registries."""
    manager.check_pending()
    registries = Registries(plugin_manager=manager, recipe_dirs=[resources.files("ganzoo_recipes")])
    by_hook = {
        "ganzoo_generators": registries.generators,
        "ganzoo_discriminators": registries.discriminators,
        "ganzoo_losses": registries.losses,
        "ganzoo_datasets": registries.datasets,
    }
    # Each implementation is called on its own (in registration order) so that every entry knows
    # the plugin that added it: a clash then names both plugins.
    for hook_name, registry in by_hook.items():
        for impl in _implementations(manager, hook_name):
            for name, value in (impl.function() or {}).items():
                registry.add(name, value, plugin=impl.plugin_name)
    for impl in _implementations(manager, "ganzoo_variants"):
        for variant in impl.function() or ():
            registries.variants.add(variant.name, variant, description=variant.description, plugin=impl.plugin_name)
    for impl in _implementations(manager, "ganzoo_recipe_dirs"):
        registries.recipe_dirs.extend(impl.function() or ())
    return registries


def _implementations(manager: pluggy.PluginManager, hook_name: str) -> list[Any]:
    # pluggy lists implementations last-registered first; registration order reads better.
    return list(reversed(getattr(manager.hook, hook_name).get_hookimpls()))


@functools.lru_cache(maxsize=1)
def get_registries() -> Registries:
    """The registries of this process: core components plus every installed plugin (loaded once)."""
    return collect(make_plugin_manager())
