"""``ganzoo new-variant``: a single-file variant plugin, its test and its recipe, ready to edit.

The files come from ``ganzoo/templates``; the scaffolded test passes as generated (it trains the new
variant on the procedural ``shapes`` dataset, so it needs no download).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from ganzoo.errors import GanzooError

VARIANT_NAME = re.compile(r"[a-z][a-z0-9_-]*\Z")


def scaffold_variant(name: str, directory: Path, existing_variants=(), overwrite: bool = False) -> list[Path]:
    """Write NAME.py, test_NAME.py and NAME-shapes.toml into ``directory``; returns their paths."""
    if not VARIANT_NAME.match(name):
        raise GanzooError(
            f"variant name {name!r} is not allowed: use lower-case letters, digits, '-' and '_', "
            "starting with a letter (e.g. my-gan)."
        )
    if name in existing_variants:
        raise GanzooError(f"a variant named {name!r} is already registered (see `ganzoo list`); choose another name.")
    module = name.replace("-", "_")
    values = {"name": name, "module": module, "Class": "".join(part.capitalize() for part in re.split(r"[-_]", name))}
    files = {
        directory / f"{module}.py": "variant.py.tmpl",
        directory / f"test_{module}.py": "test_variant.py.tmpl",
        directory / f"{name}-shapes.toml": "recipe.toml.tmpl",
    }
    clashes = [str(path) for path in files if path.exists()]
    if clashes and not overwrite:
        raise GanzooError(f"{', '.join(clashes)} already exist; pass --force to overwrite, or another --dir.")
    templates = resources.files("ganzoo") / "templates"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, template in files.items():
            path.write_text(
                Template((templates / template).read_text(encoding="utf-8")).substitute(values), encoding="utf-8"
            )
    except OSError as error:
        raise GanzooError(
            f"cannot write the scaffold into {directory} ({error.strerror or error}). Pass --dir with a "
            f"folder you can write."
        ) from None
    return list(files)
