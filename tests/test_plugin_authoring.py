"""A plugin author's path, end to end: the guide (docs/plugins.md), the scaffold, plugin files.

Everything here goes through the public surface a plugin author uses: `ganzoo new-variant`, the
scaffold's own test, `ganzoo --plugin FILE run|list|compare`, $GANZOO_PLUGINS_DIR, and the code of the
guide's tutorial copied out of the guide.
"""

import importlib.util
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import ganzoo.evaluator
from ganzoo import hookspecs
from ganzoo.cli import main

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "docs" / "plugins.md"
QUICK = ["--set", "model.generator_width=16", "--set", "model.discriminator_width=32", "--quiet"]


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def tutorial_plugin(directory: Path) -> Path:
    """The guide's tutorial file, exactly as printed in docs/plugins.md."""
    code = re.search(r"```python\n(# ragan\.py\n.*?)```", GUIDE.read_text(encoding="utf-8"), re.S).group(1)
    path = directory / "ragan.py"
    path.write_text(code, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory) -> Path:
    """``ganzoo new-variant my-gan`` through the installed command, as a user runs it."""
    directory = tmp_path_factory.mktemp("my_plugins")
    subprocess.run(
        [sys.executable, "-m", "ganzoo", "new-variant", "my-gan", "--dir", str(directory)],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in directory.iterdir()) == ["my-gan-shapes.toml", "my_gan.py", "test_my_gan.py"]
    return directory


def test_the_scaffold_passes_its_own_test_untouched(scaffold):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(scaffold / "test_my_gan.py")],
        cwd=scaffold,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_scaffold_and_tutorial_variants_are_listed_run_and_compared(scaffold, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(ganzoo.evaluator.SETTINGS, "steps", 200)  # a quicker evaluator than the real one
    plugins = ["--plugin", scaffold / "my_gan.py", "--plugin", tutorial_plugin(tmp_path)]

    rows = {row["name"]: row for row in json.loads(cli(*plugins, "list", "variants", "--json"))}
    assert rows["my-gan"]["plugin"] == "my_gan.py" and rows["ragan"]["plugin"] == "ragan.py"

    cli(*plugins, "run", "my-gan", "--dataset", "shapes", "--steps", 4, "--out", tmp_path / "run", *QUICK)
    recipe = (tmp_path / "run" / "recipe.toml").read_text()
    assert (
        'variant = "my-gan"' in recipe and "feature_matching_weight = 1.0" in recipe
    )  # the scaffold's recipe was used
    assert '"feature_matching"' in (tmp_path / "run" / "metrics.jsonl").read_text()  # the plugin's own log line

    out = tmp_path / "compare"
    cli(
        *plugins,
        "compare",
        "my-gan",
        "ragan",
        "gan",
        "--dataset",
        "shapes",
        "--steps",
        20,
        "--n",
        300,
        "--metrics",
        "fid,class_coverage",
        "--set",
        "model.generator_width=16",
        "--set",
        "model.discriminator_width=16",
        "--out",
        out,
    )
    report = json.loads((out / "report.json").read_text())["rows"]
    for variant in ("my-gan", "ragan", "gan"):
        assert report[variant]["error"] is None and report[variant]["fid"]["mean"] > 0
    assert (out / "progress-ragan.gif").exists()


def test_a_plugins_dir_loads_every_plugin_file_but_not_tests(scaffold, tmp_path, monkeypatch):
    from ganzoo.plugins import collect, make_plugin_manager

    monkeypatch.setenv("GANZOO_PLUGINS_DIR", str(scaffold))
    registries = collect(*make_plugin_manager())
    assert "my-gan" in registries.variants and not registries.failures
    assert [r.name for r in registries.reports if r.name.endswith(".py")] == [
        "my_gan.py"
    ]  # test_my_gan.py is not a plugin
    monkeypatch.setenv("GANZOO_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert "my-gan" not in collect(*make_plugin_manager()).variants


def test_a_broken_plugin_file_is_reported_and_the_rest_works(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('this plugin is broken on purpose')\n")
    result = CliRunner().invoke(main, ["--plugin", str(broken), "list", "variants"])
    assert result.exit_code == 0 and "gan" in result.output and "broken.py" in result.output
    plugins = CliRunner().invoke(main, ["--plugin", str(broken), "plugins"])
    assert "broken on purpose" in plugins.output

    missing = CliRunner().invoke(main, ["--plugin", str(tmp_path / "nowhere.py"), "list"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_a_variant_from_a_plugin_file_needs_the_file_and_says_so(scaffold, tmp_path):
    run_dir = tmp_path / "run"
    cli(
        "--plugin",
        scaffold / "my_gan.py",
        "run",
        "my-gan",
        "--dataset",
        "shapes",
        "--steps",
        2,
        "--out",
        run_dir,
        *QUICK,
    )
    result = CliRunner().invoke(main, ["sample", str(run_dir), "--out", str(tmp_path / "s.png")])
    assert result.exit_code == 2 and "unknown variant 'my-gan'" in result.output and "--plugin" in result.output
    cli("--plugin", scaffold / "my_gan.py", "sample", run_dir, "--per-class", 2, "--out", tmp_path / "s.png")


def test_new_variant_refuses_bad_names_taken_names_and_overwriting(scaffold):
    for name, message in [("My GAN", "not allowed"), ("acgan", "already registered")]:
        result = CliRunner().invoke(main, ["new-variant", name, "--dir", str(scaffold)])
        assert result.exit_code == 2 and message in result.output
    result = CliRunner().invoke(main, ["new-variant", "my-gan", "--dir", str(scaffold)])
    assert result.exit_code == 2 and "--force" in result.output


def test_the_hook_reference_in_the_guide_is_generated_from_the_hookspecs():
    spec = importlib.util.spec_from_file_location("hook_reference", REPO / "scripts" / "hook_reference.py")
    hook_reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook_reference)
    guide = GUIDE.read_text(encoding="utf-8")
    assert hook_reference.with_reference(guide) == guide, (
        "docs/plugins.md is out of date: run python scripts/hook_reference.py"
    )
    hooks = [
        name for name, value in vars(hookspecs).items() if name.startswith("ganzoo_") and inspect.isfunction(value)
    ]
    assert len(hooks) == 10  # 8 registration hooks, ganzoo_commands and ganzoo_logging_sinks
    for name in hooks:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert doc.startswith("Return") and len(doc.splitlines()) >= 3, f"{name} needs a docstring for plugin authors"
        assert f"### `{name}`" in guide


def test_the_core_does_not_reference_the_example_plugin_package():
    """examples/ganzoo-projection works through the public API and entry points only."""
    core_files = [*(REPO / "ganzoo").rglob("*.py"), *(REPO / "plugins").rglob("*.py"), REPO / "pyproject.toml"]
    for path in core_files:
        text = path.read_text(encoding="utf-8")
        assert "ganzoo_projection" not in text and "projgan" not in text and "resnet-sn" not in text, path
