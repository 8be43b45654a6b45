import pytest

from ganzoo import GanzooError, Variant, hookimpl
from ganzoo.errors import UnknownNameError
from ganzoo.plugins import collect, get_registries, make_plugin_manager
from ganzoo.registry import Registry


def test_builtin_variants_load_through_entry_points_with_descriptions():
    registries = get_registries()
    assert {"gan", "cgan", "sgan", "acgan", "mogan"} <= set(registries.variants.names())
    for entry in registries.variants:
        assert entry.description and "\n" not in entry.description
        assert entry.plugin == entry.name  # the entry-point name: loaded as a plugin, not imported by the core


def test_core_imports_no_variant():
    import ganzoo.plugins

    source = open(ganzoo.plugins.__file__).read()
    assert "ganzoo_plugins" not in source


def test_registered_components():
    registries = get_registries()
    assert {"mlp", "acgan", "dcgan"} <= set(registries.generators.names())
    assert {"mlp", "acgan", "dcgan"} <= set(registries.discriminators.names())
    assert "mnist" in registries.datasets


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownNameError) as error:
        get_registries().variants.get("acgna")
    message = str(error.value)
    assert "Did you mean 'acgan'?" in message and "gan, " in message


def test_clashing_names_name_both_plugins():
    registry = Registry("generator")
    registry.add("mlp", object, plugin="first")
    with pytest.raises(GanzooError, match="'first' and by plugin 'second'"):
        registry.add("mlp", object, plugin="second")


def test_a_third_party_plugin_object_registers_a_variant():
    class ThirdParty:
        @hookimpl
        def ganzoo_variants(self):
            return [Variant("gan-again", "Reuses the GAN loss.", loss="gan")]

    registries = collect(*make_plugin_manager(extra_plugins=[ThirdParty()]))
    assert registries.variants.get("gan-again").loss == "gan"
    assert "gan-again" not in get_registries().variants


def test_the_readme_plugin_example_runs(data_root, tmp_path):
    """The README's "Writing a variant" example, copied out of the README, registers and trains."""
    import importlib.util
    import re
    from pathlib import Path

    from ganzoo.build import resolve_recipe
    from ganzoo.train import train

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    source = re.search(r"```python\n(# my_hinge\.py\n.*?)```", readme, re.S).group(1)
    (tmp_path / "my_hinge.py").write_text(source)
    spec = importlib.util.spec_from_file_location("my_hinge", tmp_path / "my_hinge.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    registries = collect(*make_plugin_manager(extra_plugins=[module]))
    assert "hinge" in registries.variants and registries.losses.entry("hinge").description.startswith("Hinge GAN loss")
    settings = {"train.steps": 3, "train.batch_size": 16, "data.root": str(data_root)}
    recipe, source_name = resolve_recipe(registries, "hinge", "mnist", None, [(k.split("."), v) for k, v in settings.items()])
    assert source_name == "defaults"
    result = train(recipe, tmp_path / "run", registries, show_progress=False)
    assert result.steps == 3 and (tmp_path / "run" / "checkpoints" / "last.safetensors").exists()
