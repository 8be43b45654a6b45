"""Loads plugins and fills the registries from their hooks.

Plugins come from four places, in this order: ganzoo's own built-in plugins (``DEFAULT_PLUGINS``, the
modules of ``ganzoo.builtin``, named by dotted path so that this loader imports no component), the
``ganzoo`` entry-point group (the five built-in variants in ``plugins/`` load there, exactly as a
third-party package does), single-file plugins (``ganzoo --plugin PATH`` and ``$GANZOO_PLUGINS_DIR``),
and plugins registered from Python (``register``). A plugin that fails to import, raises in a hook, or
registers a name another plugin already has is left out whole and reported by name (``ganzoo plugins``);
everything else keeps working.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from ganzoo import hookspecs
from ganzoo.registry import KINDS, PluginReport, Registries

ENTRY_POINT_GROUP = "ganzoo"
DISABLE_AUTOLOAD_ENV = "GANZOO_DISABLE_PLUGIN_AUTOLOAD"
PLUGINS_DIR_ENV = "GANZOO_PLUGINS_DIR"
DEFAULT_PLUGINS = (
    "ganzoo.builtin.architectures",
    "ganzoo.builtin.adversarial",
    "ganzoo.builtin.datasets",
    "ganzoo.builtin.metrics",
    "ganzoo.builtin.sinks",
)
_registered: dict[str, object] = {}  # plugins added from Python with ``register``


def register(plugin: object, name: str | None = None) -> None:
    """Add a plugin object or module from Python (a notebook, a test fixture) to every later ``get_registries``."""
    _registered[name or getattr(plugin, "__name__", type(plugin).__name__)] = plugin
    get_registries.cache_clear()


def unregister(name: str) -> None:
    """Remove a plugin added with ``register``."""
    _registered.pop(name, None)
    get_registries.cache_clear()


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
    sys.modules[module_name] = module  # dataclasses and introspection look the module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def _failure(error: BaseException) -> str:
    # A plugin that calls sys.exit() or raises KeyboardInterrupt on import must not end the command silently.
    return f"failed to load: {type(error).__name__}: {error}"


def make_plugin_manager(
    extra_plugins: Iterable[object] = (), load_entry_points: bool = True, plugin_paths: Iterable[str | os.PathLike] = ()
) -> tuple[pluggy.PluginManager, list[PluginReport]]:
    """A plugin manager with ganzoo's built-in plugins, the entry-point plugins, plugin files, the plugins
    added with ``register`` and ``extra_plugins``; returns it with reports for the plugins that could not load.

    Plugin files come from ``plugin_paths`` (files or directories) and, unless autoloading is off, from the
    directories in ``$GANZOO_PLUGINS_DIR`` (separated by ``os.pathsep``). With ``$GANZOO_DISABLE_PLUGIN_AUTOLOAD``
    set, only ganzoo's own plugins (the built-in variants included) and the explicit ``plugin_paths`` load.
    """
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    for dotted in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(dotted), name=dotted)
    failures: list[PluginReport] = []
    if load_entry_points:
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            distribution = entry_point.dist.name if entry_point.dist else "?"
            if autoload_disabled() and distribution != "ganzoo":
                continue
            try:
                manager.register(entry_point.load(), name=entry_point.name)
            except BaseException as error:  # noqa: BLE001 - a broken third-party plugin must not break ganzoo
                failures.append(
                    PluginReport(entry_point.name, f"{entry_point.value} ({distribution})", error=_failure(error))
                )
    paths = list(plugin_paths)
    if not autoload_disabled():
        paths += [p for p in os.environ.get(PLUGINS_DIR_ENV, "").split(os.pathsep) if p.strip()]
    for file in plugin_files(paths):
        try:
            manager.register(load_plugin_file(file), name=file.name)
        except BaseException as error:  # noqa: BLE001 - reported like a broken entry point; the rest keeps working
            failures.append(PluginReport(file.name, str(file), error=_failure(error)))
    for name, plugin in _registered.items():
        manager.register(plugin, name=name)
    for plugin in extra_plugins:
        manager.register(plugin)
    return manager, failures


def collect(manager: pluggy.PluginManager, failures: Iterable[PluginReport] = ()) -> Registries:
    """Call each plugin's registration hooks and add what it returned, plugin by plugin."""
    registries = Registries(recipe_dirs=[resources.files("ganzoo_recipes")], reports=list(failures), manager=manager)
    for name, plugin in manager.list_name_plugin():
        if plugin is None:
            continue
        source = getattr(plugin, "__name__", type(plugin).__name__)
        try:
            entries, recipe_dirs = _entries_of(manager, plugin)
            for kind, entry_name, _, _ in entries:  # checked before adding any: a plugin goes in whole or not at all
                registries.by_kind[kind].check_free(entry_name, name)
            for kind, entry_name, value, description in entries:
                registries.by_kind[kind].add(entry_name, value, description=description, plugin=name)
        except Exception as error:  # noqa: BLE001 - a plugin's hook that raises leaves that plugin out
            registries.reports.append(PluginReport(name, source, error=f"{type(error).__name__}: {error}"))
            manager.unregister(plugin)
            continue
        registries.recipe_dirs.extend(recipe_dirs)
        registries.reports.append(
            PluginReport(name, source, tuple(f"{registries.by_kind[kind].kind} {n}" for kind, n, _, _ in entries))
        )
    if registries.failures:  # a name they would have registered is "unknown": say why it may be missing
        failed = "; ".join(f"{report.name} ({report.error.splitlines()[0][:200]})" for report in registries.failures)
        note = f"Plugins that failed to load: {failed}. `ganzoo plugins` shows them."
        for registry in registries.by_kind.values():
            registry.hint = f"{note} {registry.hint}".strip()
    return registries


def _entries_of(
    manager: pluggy.PluginManager, plugin: object
) -> tuple[list[tuple[str, str, Any, str | None]], list[Any]]:
    kind_of_hook = {kind.hook: kind.name for kind in KINDS}
    entries: list[tuple[str, str, Any, str | None]] = []
    recipe_dirs: list[Any] = []
    for caller in manager.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin or caller.name not in (*kind_of_hook, "ganzoo_recipe_dirs"):
                continue
            result = impl.function()
            if caller.name == "ganzoo_variants":
                entries += [("variants", v.name, v, v.description) for v in result or ()]
            elif caller.name == "ganzoo_recipe_dirs":
                recipe_dirs += list(result or ())
            else:
                entries += [(kind_of_hook[caller.name], n, v, None) for n, v in (result or {}).items()]
    return entries, recipe_dirs


@functools.lru_cache(maxsize=4)
def get_registries(plugin_paths: tuple[str, ...] = ()) -> Registries:
    """The registries of this process: built-ins, installed plugins, plugin files, registered plugins (loaded once)."""
    return collect(*make_plugin_manager(plugin_paths=plugin_paths))
