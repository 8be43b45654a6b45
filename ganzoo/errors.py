"""Errors a user can fix. The CLI prints them as one paragraph and exits 2 (no traceback)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


class GanzooError(Exception):
    """A problem with the user's input or environment, with a message that says what to do."""


def shorten(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: error messages quote values, and a value can be megabytes."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text):,} characters)"


def cut_long_words(message: str, limit: int = 300) -> str:
    """``message`` with every run of more than ``limit`` non-space characters cut (a path or value can be megabytes)."""

    def cut(match: re.Match) -> str:
        return f"{match.group()[: limit - 40]}... ({len(match.group()):,} characters)"

    return re.sub(rf"\S{{{limit + 1},}}", cut, message)


def first_line(error: BaseException) -> str:
    """An exception's message cut to its first line (its type's name when it has none), to quote in an error."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class UnknownNameError(GanzooError, KeyError):
    """A name that is not in a registry (or a recipe key that does not exist)."""

    def __init__(self, kind: str, name: str, valid: Iterable[str], hint: str = "", kinds: str = ""):
        """``kind``: what the name was meant to be ("variant", "key in [train]"); ``kinds``: its plural, when
        it is not ``kind`` + s (or + es)."""
        valid = sorted(valid)
        message = f"unknown {kind} {shorten(name)}."
        close = difflib.get_close_matches(name, valid, n=1)
        if close:
            message += f" Did you mean {close[0]!r}?"
        kinds = kinds or kind + ("es" if kind.endswith(("s", "x", "sh", "ch")) else "s")
        message += f" Valid {kinds}: {', '.join(valid) if valid else '(none registered)'}."
        if hint:
            message += f" {hint}"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]
