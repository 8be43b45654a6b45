"""Named registries of constructors (timm-style): register by name, then `create` or `names`.

Entries come from plugins (see `ganzoo.hookspecs`); the registry remembers which plugin added each
name so that clashes and failures can be reported by plugin.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ganzoo.errors import GanzooError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    value: T
    description: str
    plugin: str


def describe(obj: Any) -> str:
    """First line of the object's docstring: the one-line description shown by `ganzoo list`."""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Registry(Generic[T]):
    """A mapping from names to constructors (or objects) of one kind, e.g. generators."""

    def __init__(self, kind: str, hint: str = ""):
        self.kind = kind
        self.hint = hint  # added to the error for an unknown name
        self._entries: dict[str, Entry[T]] = {}

    def add(self, name: str, value: T, *, description: str | None = None, plugin: str = "?") -> None:
        if name in self._entries:
            other = self._entries[name].plugin
            raise GanzooError(
                f"{self.kind} {name!r} is registered twice: by plugin {other!r} and by plugin {plugin!r}. "
                f"Rename one of them, or uninstall one plugin."
            )
        self._entries[name] = Entry(name, value, description if description is not None else describe(value), plugin)

    def register(self, name: str, *, description: str | None = None, plugin: str = "?") -> Callable[[T], T]:
        """Decorator form of `add`: `@registry.register("mlp")`."""

        def decorate(value: T) -> T:
            self.add(name, value, description=description, plugin=plugin)
            return value

        return decorate

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
