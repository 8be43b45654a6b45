"""The architecture rules of docs/architecture.md, checked on the source: who may implement hooks, what the
plugin loader may import, and that ganzoo's modules import each other without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "ganzoo"
COMPONENT_PACKAGES = ("ganzoo.models", "ganzoo.datasets", "ganzoo.builtin")
COMPONENT_MODULES = ("ganzoo.adversarial", "ganzoo.metrics", "ganzoo.losses", "ganzoo.sinks", "ganzoo.classifier")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every ganzoo module ``path`` imports, wherever the import is (top level, functions, TYPE_CHECKING)."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:  # `from ganzoo import metrics` imports the module ganzoo.metrics
                candidate = f"{base}.{alias.name}"
                names.add(candidate if (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists() else base)
    return {name for name in names if name == "ganzoo" or name.startswith("ganzoo.")}


def graph() -> dict[str, set[str]]:
    return {module_name(path): imported_modules(path) for path in PACKAGE.rglob("*.py")}


def test_no_import_cycle_among_ganzoo_modules():
    edges = graph()
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = "active"
        for target in sorted(edges.get(module, ())):
            if target not in edges:
                continue
            if state.get(target) == "active":
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, [*stack, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


def test_hook_implementations_live_only_in_builtin_and_plugins():
    offenders = [
        str(path.relative_to(REPO))
        for path in PACKAGE.rglob("*.py")
        if "@hookimpl" in path.read_text(encoding="utf-8") and "builtin" not in path.parts
    ]
    assert not offenders, f"@hookimpl outside ganzoo/builtin/ and plugins/: {offenders}"
    assert any("@hookimpl" in path.read_text(encoding="utf-8") for path in (REPO / "plugins").glob("*.py"))


def test_the_plugin_loader_imports_no_component():
    for loader in ("ganzoo.plugins", "ganzoo.registry", "ganzoo.hookspecs"):
        imported = imported_modules(PACKAGE / (loader.split(".", 1)[1] + ".py"))
        components = [name for name in imported if name.startswith(COMPONENT_PACKAGES) or name in COMPONENT_MODULES]
        assert not components, (
            f"{loader} imports components {components}: name built-in plugins in DEFAULT_PLUGINS instead"
        )


def test_the_core_never_imports_the_builtin_variants():
    offenders = [
        str(path.relative_to(REPO))
        for path in PACKAGE.rglob("*.py")
        if "ganzoo_plugins" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders


def test_importing_ganzoo_and_its_cli_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, ganzoo, ganzoo.cli; assert 'torch' not in sys.modules, [m for m in sys.modules if 'torch' in m]"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_training_sampling_and_comparing_do_not_import_torchvision():
    """torchvision's import pulls in torch._dynamo: seconds at the start of every command, and of every kill-and-resume
    in the tests. It is only needed to download datasets and for the bench's seed-script loop."""
    import subprocess
    import sys

    code = (
        "import sys, ganzoo.cli, ganzoo.api, ganzoo.loop, ganzoo.comparison, ganzoo.report, ganzoo.sampling; "
        "assert 'torchvision' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
