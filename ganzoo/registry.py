"""Named registries (timm-style): plugins add entries by name; recipes pick them by name.

``KINDS`` is the one list of registry kinds: the hook that fills each, its name in ``ganzoo list`` and
in ``Registries``. An entry is a ``Component``: the registered object plus what ganzoo needs to know about
it (description, supported image sizes, recipe defaults, a metric's direction), read once at
registration. A hook may return a bare object instead; its spec is then read from its docstring and
attributes. The registry remembers which plugin added each name, so clashes and failures name plugins.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import pluggy

from ganzoo.errors import GanzooError, UnknownNameError, shorten

T = TypeVar("T")
VALID_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*\Z")
UNKNOWN_VARIANT_HINT = (
    "A variant from a single-file plugin needs `ganzoo --plugin FILE.py ...` (or the file's folder "
    "in $GANZOO_PLUGINS_DIR); a packaged one needs `pip install` of its package."
)


@dataclass(frozen=True)
class Kind:
    """One kind of registry entry: ``name`` (``ganzoo list NAME``, ``registries.NAME``), the singular used in
    messages, and the hook that returns such entries (``None``: filled some other way)."""

    name: str
    singular: str
    hook: str


KINDS: tuple[Kind, ...] = (
    Kind("variants", "variant", "ganzoo_variants"),
    Kind("generators", "generator", "ganzoo_generators"),
    Kind("discriminators", "discriminator", "ganzoo_discriminators"),
    Kind("losses", "loss", "ganzoo_losses"),
    Kind("adversarial", "adversarial loss", "ganzoo_adversarial_losses"),
    Kind("datasets", "dataset", "ganzoo_datasets"),
    Kind("metrics", "metric", "ganzoo_metrics"),
)
KIND_NAMES = tuple(kind.name for kind in KINDS)


@dataclass(frozen=True)
class Component(Generic[T]):
    """A registered object and its spec. Return one from a registration hook to state the spec explicitly.

    value: the constructor, class, loader or function.
    description: one line for ``ganzoo list`` (default: the first line of ``value``'s docstring).
    image_sizes: architectures: the square sides supported (``()``: any); tests build each.
    recipe_defaults: datasets: recipe values by dotted key that apply under any recipe on the dataset.
    higher_is_better: metrics: the direction (``None``: no direction, so it cannot pick the best checkpoint).
    min_samples: metrics: the fewest samples the metric can be computed from.
    """

    value: T
    description: str | None = None
    image_sizes: tuple[int, ...] | None = None
    recipe_defaults: Mapping[str, Any] = field(default_factory=dict)
    higher_is_better: bool | None = None
    min_samples: int = 2


def as_component(value: Any) -> Component[Any]:
    """A hook's value as a ``Component``: given, or read from a bare object's docstring and attributes."""
    if isinstance(value, Component):
        return value
    return Component(
        value,
        image_sizes=getattr(value, "image_sizes", None),
        recipe_defaults=dict(getattr(value, "recipe_defaults", {}) or {}),
        higher_is_better=getattr(value, "higher_is_better", None),
        min_samples=getattr(value, "min_samples", 2),
    )


@dataclass(frozen=True)
class Entry(Component[T]):
    """A registered component with its name and the plugin that registered it."""

    name: str = ""
    plugin: str = "?"


def describe(obj: Any) -> str:
    """First line of the object's docstring: the one-line description shown by `ganzoo list`."""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Registry(Generic[T]):
    """A mapping from names to entries of one kind, e.g. generators."""

    def __init__(self, kind: str, hint: str = ""):
        self.kind = kind
        self.hint = hint  # added to the error for an unknown name
        self._entries: dict[str, Entry[T]] = {}

    def check_free(self, name: str, plugin: str) -> None:
        """Raise if ``name`` is not a valid name (it becomes part of paths and commands) or is taken."""
        if not isinstance(name, str) or not VALID_NAME.match(name) or ".." in name:
            raise GanzooError(
                f"{self.kind} name {shorten(name)} is not allowed: use letters, digits, '-', '_', '.' "
                f"and '+', starting with a letter or digit (names become parts of file names)."
            )
        if name in self._entries:
            raise GanzooError(
                f"{self.kind} {name!r} is already registered by plugin {self._entries[name].plugin!r} and by "
                f"plugin {plugin!r} as well. Rename one of them, or uninstall one plugin."
            )

    def add(self, name: str, value: Any, *, description: str | None = None, plugin: str = "?") -> None:
        self.check_free(name, plugin)
        component = as_component(value)
        text = description if description is not None else component.description
        self._entries[name] = Entry(
            **{
                **vars(replace(component, description=text or describe(component.value))),
                "name": name,
                "plugin": plugin,
            }
        )

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries, self.hint) from None

    def get(self, name: str) -> T:
        return self.entry(name).value

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.get(name)(*args, **kwargs)  # type: ignore[operator]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class PluginReport:
    """One plugin's outcome: what it registered, or why it was left out."""

    name: str
    source: str
    registered: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Registries:
    """Everything plugins registered, one ``Registry`` per kind of ``ganzoo.registry.KINDS`` (``registries.variants``,
    ``registries.generators``, ...), the recipe directories, a report on every plugin, and the hooks that
    take arguments (``registries.hook.ganzoo_commands(cli=...)``)."""

    by_kind: dict[str, Registry[Any]] = field(
        default_factory=lambda: {
            kind.name: Registry(kind.singular, UNKNOWN_VARIANT_HINT if kind.name == "variants" else "")
            for kind in KINDS
        }
    )
    recipe_dirs: list[Any] = field(default_factory=list)
    reports: list[PluginReport] = field(default_factory=list)
    manager: pluggy.PluginManager | None = None

    def __getattr__(self, name: str) -> Registry[Any]:
        by_kind = self.__dict__.get("by_kind", {})
        if name in by_kind:
            return by_kind[name]
        raise AttributeError(name)

    @property
    def hook(self) -> Any:
        return self.manager.hook if self.manager is not None else pluggy.PluginManager("ganzoo").hook

    @property
    def failures(self) -> list[PluginReport]:
        return [report for report in self.reports if report.error]

    def create_generator(self, name: str, **kwargs: Any) -> Any:
        return self.generators.create(name, **kwargs)

    def create_discriminator(self, name: str, **kwargs: Any) -> Any:
        return self.discriminators.create(name, **kwargs)
