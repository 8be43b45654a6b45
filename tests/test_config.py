import tomllib
from pathlib import Path

import pytest

from ganzoo import GanzooError
from ganzoo.build import resolve_recipe
from ganzoo.config import dumps_toml, parse_override, recipe_from_dict
from ganzoo.plugins import get_registries


def test_recipe_file_flags_and_overrides_resolve():
    overrides = [
        parse_override("train.lr_generator=1e-4"),
        parse_override("loss.class_loss_on_fakes=false"),
        parse_override("model.conditioning=hidden"),
    ]
    recipe, source = resolve_recipe(get_registries(), "acgan", "mnist", None, overrides)
    assert source.endswith("acgan-mnist.toml")
    assert recipe.train.lr_generator == 1e-4 and recipe.loss == {
        "class_loss_on_fakes": False,
        "adversarial": "bce",
        "gp_weight": 10.0,
    }
    assert recipe.model.conditioning == "hidden" and recipe.data.image_size == 28


def test_resolved_recipe_round_trips_through_toml():
    recipe, _ = resolve_recipe(get_registries(), "sgan", "mnist")
    again = recipe_from_dict(tomllib.loads(dumps_toml(recipe.to_dict())))
    assert again == recipe and again.loss["labels_per_class"] == 10


def test_every_builtin_recipe_is_complete():
    """Recipes hold every hyper-parameter: the file equals its resolved form."""
    registries = get_registries()
    files = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.toml"))
    assert len(files) >= 5
    for path in files:
        variant, dataset = path.stem.split("-", 1)
        if dataset in registries.datasets:  # VARIANT-DATASET.toml: found by the dataset's name
            recipe, source = resolve_recipe(registries, variant, dataset)
        else:  # a named recipe (VARIANT-DATASET-seed.toml): --recipe NAME
            recipe, source = resolve_recipe(registries, variant, None, path.stem)
        assert Path(source).name == path.name
        with open(source, "rb") as handle:
            assert tomllib.load(handle) == recipe.to_dict(), source


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.batch_size=-1", "train.batch_size must be greater than 0"),
        ("train.lr_generator=0", "train.lr_generator must be greater than 0"),
        ("train.batsh_size=3", "Did you mean 'batch_size'"),
        ('train.batch_size="big"', "train.batch_size must be int"),
        ("loss.class_loss_on_fake=true", "Did you mean 'class_loss_on_fakes'"),
        ("model.conditioning=label", "model.conditioning must be one of"),
    ],
)
def test_bad_values_are_clear_errors(override, message):
    with pytest.raises(GanzooError, match=message):
        resolve_recipe(get_registries(), "acgan", "mnist", None, [parse_override(override)])


def test_zero_budget_is_an_error():
    with pytest.raises(GanzooError, match="budget is zero"):
        resolve_recipe(get_registries(), "gan", "mnist", None, [(["train", "epochs"], 0), (["train", "steps"], 0)])


def test_override_values_are_data_not_code():
    assert parse_override("train.device=__import__('os').system('x')") == (
        ["train", "device"],
        "__import__('os').system('x')",
    )
