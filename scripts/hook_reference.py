"""Writes the hook reference at the end of docs/plugins.md from ganzoo/hookspecs.py.

The reference is generated, so it cannot drift from the hookspecs: the test suite fails when it is
out of date (or when a hook has no docstring), and this script brings it back in line.

    python scripts/hook_reference.py           # rewrite the section
    python scripts/hook_reference.py --check   # exit 1 if the section is out of date
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from ganzoo import hookspecs

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
START, END = "<!-- hook-reference:start -->", "<!-- hook-reference:end -->"


def hooks() -> dict[str, object]:
    return {
        name: value
        for name, value in vars(hookspecs).items()
        if name.startswith("ganzoo_") and inspect.isfunction(value)
    }


def signature(spec) -> str:
    """The signature as written in hookspecs.py (annotations there are strings: postponed evaluation)."""
    parameters = inspect.signature(spec).parameters.values()
    listed = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {p.annotation}" for p in parameters
    )
    return f"({listed}) -> {spec.__annotations__['return']}"


def reference() -> str:
    """The Markdown reference: every hook with its exact signature and its docstring."""
    sections = []
    for name, spec in hooks().items():
        doc = inspect.getdoc(spec)
        if not doc:
            raise ValueError(f"hookspec {name} has no docstring: document it in ganzoo/hookspecs.py")
        sections.append(f"### `{name}`\n\n```python\n@hookimpl\ndef {name}{signature(spec)}: ...\n```\n\n{doc}\n")
    return "\n".join(sections)


def with_reference(guide: str) -> str:
    before, _, rest = guide.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n\n{reference()}\n{END}{after}"


def main() -> int:
    guide = GUIDE.read_text(encoding="utf-8")
    updated = with_reference(guide)
    if "--check" in sys.argv:
        if updated != guide:
            print(f"{GUIDE} is out of date: run python scripts/hook_reference.py", file=sys.stderr)
            return 1
        return 0
    GUIDE.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
