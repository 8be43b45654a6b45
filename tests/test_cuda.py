"""CUDA code paths: run when a GPU is present, skipped otherwise."""

from __future__ import annotations

import pytest
import torch

from ganzoo.build import resolve_recipe
from ganzoo.device import uses_bf16
from ganzoo.distributed import DistributedContext
from ganzoo.loop import build_trainer, train
from ganzoo.plugins import get_registries

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


def recipe_for(variant: str, data_root, **train_settings):
    settings = {
        "train.device": "cuda",
        "data.root": str(data_root),
        **{f"train.{k}": v for k, v in train_settings.items()},
    }
    recipe, _ = resolve_recipe(
        get_registries(), variant, "mnist", None, [(k.split("."), v) for k, v in settings.items()]
    )
    return recipe


def test_data_and_models_live_on_the_gpu_with_bf16_autocast(data_root):
    recipe = recipe_for("acgan", data_root)
    trainer = build_trainer(recipe, get_registries(), torch.device("cuda"), DistributedContext())
    assert trainer.data.train_images.is_cuda and trainer.data.train_images.dtype == torch.uint8
    assert all(p.is_cuda for module in trainer.modules.values() for p in module.parameters())
    assert uses_bf16(recipe.train.precision, trainer.device) == torch.cuda.is_bf16_supported()
    index = torch.arange(64, device="cuda")
    real = trainer.data.train_images[index].float() / 127.5 - 1
    logs = trainer.step(real.contiguous(memory_format=torch.channels_last), trainer.data.train_labels[index])
    assert all(v.is_cuda and torch.isfinite(v) for v in logs.values())


@pytest.mark.parametrize("variant", ["gan", "cgan", "sgan", "acgan", "mogan"])
def test_every_variant_trains_on_cuda(variant, data_root, tmp_path):
    recipe = recipe_for(variant, data_root, steps=20, log_every=10)
    if variant == "mogan":
        recipe.loss["classifier_steps"] = 50
    result = train(recipe, tmp_path / variant, get_registries(), show_progress=False)
    assert result.steps == 20 and result.images_per_sec > 0
    assert (tmp_path / variant / "checkpoints" / "last.safetensors").exists()


def test_compiled_training_runs_and_stays_finite(data_root, tmp_path):
    result = train(
        recipe_for("acgan", data_root, steps=10, compile=True),
        tmp_path / "compiled",
        get_registries(),
        show_progress=False,
    )
    assert all(torch.isfinite(p).all() for p in result.modules["G"].parameters())
