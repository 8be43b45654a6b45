"""Loads plugins and fills the registries from their hooks.

ganzoo's own architectures and datasets are registered here as plugins; variants, built-in ones
included, arrive through the ``ganzoo`` entry-point group (``plugins/`` in this repository).
Single-file plugins load from paths given with ``ganzoo --plugin PATH`` and from the directories in
``$GANZOO_PLUGINS_DIR``.
A plugin that fails to import, raises in a hook, or registers a name another plugin already has is
left out whole and reported by name (``ganzoo plugins``); everything else keeps working.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from torch import nn

from ganzoo import adversarial, hookspecs, metrics
from ganzoo.datasets import cifar, folder, mixture, mnist, shapes
from ganzoo.adversarial import AdversarialLoss
from ganzoo.losses import LossStrategy
from ganzoo.models import acgan, dcgan, mlp, spectral
from ganzoo.registry import Registry
from ganzoo.variant import Variant

ENTRY_POINT_GROUP = "ganzoo"
DISABLE_AUTOLOAD_ENV = "GANZOO_DISABLE_PLUGIN_AUTOLOAD"
PLUGINS_DIR_ENV = "GANZOO_PLUGINS_DIR"
UNKNOWN_VARIANT_HINT = ("A variant from a single-file plugin needs `ganzoo --plugin FILE.py ...` (or the file's folder "
                        f"in ${PLUGINS_DIR_ENV}); a packaged one needs `pip install` of its package.")
CORE_PLUGINS: tuple[ModuleType, ...] = (mlp, acgan, dcgan, spectral, mnist, cifar, folder, shapes, mixture, metrics,
                                         adversarial)
REGISTRATION_HOOKS = {
    "ganzoo_generators": "generators",
    "ganzoo_discriminators": "discriminators",
    "ganzoo_losses": "losses",
    "ganzoo_adversarial_losses": "adversarial",
    "ganzoo_datasets": "datasets",
    "ganzoo_metrics": "metrics",
}


@dataclass(frozen=True)
class PluginReport:
    """One plugin's outcome: what it registered, or why it was left out."""

    name: str
    source: str
    registered: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Registries:
    """Everything plugins registered, by kind, and a report on every plugin."""

    generators: Registry[Any] = field(default_factory=lambda: Registry("generator"))
    discriminators: Registry[Any] = field(default_factory=lambda: Registry("discriminator"))
    losses: Registry[type[LossStrategy]] = field(default_factory=lambda: Registry("loss"))
    adversarial: Registry[type[AdversarialLoss]] = field(default_factory=lambda: Registry("adversarial loss"))
    datasets: Registry[Any] = field(default_factory=lambda: Registry("dataset"))
    variants: Registry[Variant] = field(default_factory=lambda: Registry("variant", hint=UNKNOWN_VARIANT_HINT))
    metrics: Registry[Any] = field(default_factory=lambda: Registry("metric"))
    recipe_dirs: list[Any] = field(default_factory=list)
    reports: list[PluginReport] = field(default_factory=list)

    def kinds(self) -> dict[str, Registry[Any]]:
        return {
            "variants": self.variants,
            "generators": self.generators,
            "discriminators": self.discriminators,
            "losses": self.losses,
            "adversarial": self.adversarial,
            "datasets": self.datasets,
            "metrics": self.metrics,
        }

    @property
    def failures(self) -> list[PluginReport]:
        return [report for report in self.reports if report.error]

    def create_generator(self, name: str, **kwargs: Any) -> nn.Module:
        return self.generators.create(name, **kwargs)

    def create_discriminator(self, name: str, **kwargs: Any) -> nn.Module:
        return self.discriminators.create(name, **kwargs)


def autoload_disabled() -> bool:
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def plugin_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The plugin files among ``paths``: files as given; for a directory, its ``*.py`` files except
    ``_*.py`` and ``test_*.py`` (so a scaffold's test beside its plugin is not loaded as a plugin)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.glob("*.py") if not p.name.startswith(("_", "test_")))
        else:
            files.append(path)
    return files


def load_plugin_file(path: str | os.PathLike) -> ModuleType:
    """Import a single-file plugin by path (it need not be on ``sys.path`` or installed)."""
    path = Path(path).resolve()
    module_name = "ganzoo_plugin_file_" + re.sub(r"\W", "_", str(path.with_suffix("")))
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling-free introspection look the module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def make_plugin_manager(extra_plugins: Iterable[object] = (), load_entry_points: bool = True,
                        plugin_paths: Iterable[str | os.PathLike] = ()) -> tuple[pluggy.PluginManager, list[PluginReport]]:
    """A plugin manager with the core plugins, the entry-point plugins, plugin files and ``extra_plugins``.

    Plugin files come from ``plugin_paths`` (files or directories) and, unless autoloading is off, from
    the directories in ``$GANZOO_PLUGINS_DIR`` (separated by ``os.pathsep``). Returns the manager with
    reports for the plugins that could not be imported. With ``$GANZOO_DISABLE_PLUGIN_AUTOLOAD`` set,
    only ganzoo's own entry points (the built-in variants) and the explicit ``plugin_paths`` load.
    """
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    for module in CORE_PLUGINS:
        manager.register(module, name=f"ganzoo.{module.__name__.rsplit('.', 1)[-1]}")
    failures: list[PluginReport] = []
    if load_entry_points:
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            distribution = entry_point.dist.name if entry_point.dist else "?"
            if autoload_disabled() and distribution != "ganzoo":
                continue
            try:
                manager.register(entry_point.load(), name=entry_point.name)
            except Exception as error:  # a broken third-party plugin must not break ganzoo
                failures.append(PluginReport(entry_point.name, f"{entry_point.value} ({distribution})",
                                             error=f"failed to load: {type(error).__name__}: {error}"))
    paths = list(plugin_paths)
    if not autoload_disabled():
        paths += [p for p in os.environ.get(PLUGINS_DIR_ENV, "").split(os.pathsep) if p.strip()]
    for file in plugin_files(paths):
        try:
            manager.register(load_plugin_file(file), name=file.name)
        except Exception as error:  # reported like a broken entry point; the rest keeps working
            failures.append(PluginReport(file.name, str(file), error=f"failed to load: {type(error).__name__}: {error}"))
    for plugin in extra_plugins:
        manager.register(plugin)
    return manager, failures


def collect(manager: pluggy.PluginManager, failures: Iterable[PluginReport] = ()) -> Registries:
    """Call each plugin's registration hooks and add what it returned, plugin by plugin."""
    registries = Registries(recipe_dirs=[resources.files("ganzoo_recipes")], reports=list(failures))
    for name, plugin in manager.list_name_plugin():
        if plugin is None:
            continue
        source = getattr(plugin, "__name__", type(plugin).__name__)
        try:
            entries, recipe_dirs = _entries_of(manager, plugin)
            _check_clashes(registries, entries)
        except Exception as error:
            registries.reports.append(PluginReport(name, source, error=f"{type(error).__name__}: {error}"))
            continue
        for kind, entry_name, value, description in entries:
            getattr(registries, kind).add(entry_name, value, description=description, plugin=name)
        registries.recipe_dirs.extend(recipe_dirs)
        registries.reports.append(PluginReport(name, source, tuple(f"{getattr(registries, kind).kind} {n}" for kind, n, _, _ in entries)))
    return registries


def _entries_of(manager: pluggy.PluginManager, plugin: object) -> tuple[list[tuple[str, str, Any, str | None]], list[Any]]:
    entries: list[tuple[str, str, Any, str | None]] = []
    recipe_dirs: list[Any] = []
    for caller in manager.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            result = impl.function()
            if caller.name in REGISTRATION_HOOKS:
                entries += [(REGISTRATION_HOOKS[caller.name], n, v, None) for n, v in (result or {}).items()]
            elif caller.name == "ganzoo_variants":
                entries += [("variants", v.name, v, v.description) for v in result or ()]
            elif caller.name == "ganzoo_recipe_dirs":
                recipe_dirs += list(result or ())
    return entries, recipe_dirs


def _check_clashes(registries: Registries, entries: list[tuple[str, str, Any, str | None]]) -> None:
    for kind, name, _, _ in entries:
        registry = getattr(registries, kind)
        if name in registry:
            raise ValueError(f"{registry.kind} {name!r} is already registered by plugin {registry.entry(name).plugin!r}")


@functools.lru_cache(maxsize=4)
def get_registries(plugin_paths: tuple[str, ...] = ()) -> Registries:
    """The registries of this process: core components, installed plugins and plugin files (loaded once)."""
    return collect(*make_plugin_manager(plugin_paths=plugin_paths))
