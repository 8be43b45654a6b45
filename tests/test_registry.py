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
