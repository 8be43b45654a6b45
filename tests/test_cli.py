"""End to end through the CLI: every variant trains a few steps on real MNIST and writes its run directory."""

import json
import tomllib

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ganzoo.cli import main

TINY = [
    "--set",
    "model.generator_width=8",
    "--set",
    "model.discriminator_width=8",
    "--set",
    "train.log_every=2",
    "--set",
    "train.sample_every=2",
    "--set",
    "train.checkpoint_every=2",
    "--set",
    "train.eval_metrics=[]",  # the tuned recipes score 10,000 samples at the end; not needed here
    "--set",
    'train.keep_best=""',
    "--batch-size",
    "16",
    "--quiet",
]
EXTRA = {"mogan": ["--set", "loss.classifier_steps=5"], "acgan": [], "sgan": [], "gan": [], "cgan": []}


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


@pytest.mark.parametrize("variant", ["gan", "cgan", "sgan", "acgan", "mogan"])
def test_run_then_sample(variant, data_root, tmp_path):
    run_dir = tmp_path / variant
    result = invoke(
        "run",
        variant,
        "--dataset",
        "mnist",
        "--steps",
        3,
        "--data-root",
        data_root,
        "--out",
        run_dir,
        *TINY,
        *EXTRA[variant],
    )
    assert result.exit_code == 0, result.output

    recipe = tomllib.loads((run_dir / "recipe.toml").read_text())
    assert recipe["variant"] == variant and recipe["train"]["steps"] == 3
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    train_records = [r for r in records if r["kind"] == "train"]
    assert [r["step"] for r in train_records] == [2, 3]
    assert {"step", "epoch", "d_loss", "g_loss", "images_per_sec"} <= set(train_records[0])
    if variant != "mogan":
        assert "d_accuracy" in train_records[0]
    if variant == "sgan":
        end = records[-1]
        assert end["kind"] == "end" and 0.0 <= end["test_accuracy"] <= 1.0
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["step_0000002.png", "step_0000003.png"]
    assert (run_dir / "checkpoints" / "last.safetensors").stat().st_size > 0

    conditional = variant in ("cgan", "acgan")
    grid = Image.open(run_dir / "samples" / "step_0000003.png")
    side = 28
    assert grid.size == (2 + 10 * (side + 2), 2 + 10 * (side + 2))  # 10 rows: one per class, or 100 samples

    npz = tmp_path / "s.npz"
    sample_args = ["--per-class", 3] if conditional else ["--n", 7]
    assert invoke("sample", run_dir, *sample_args, "--out", npz).exit_code == 0
    arrays = np.load(npz)
    count = 30 if conditional else 7
    assert arrays["images"].dtype == np.uint8 and arrays["images"].shape == (count, 1, side, side)
    assert arrays["labels"].dtype == np.int64
    assert arrays["labels"].tolist() == (sorted(list(range(10)) * 3) if conditional else [-1] * 7)
    png = tmp_path / "s.png"
    assert invoke("sample", run_dir, *sample_args, "--out", png).exit_code == 0
    assert Image.open(png).format == "PNG"


def test_list_variants_json():
    rows = json.loads(invoke("list", "variants", "--json").output)
    assert {row["name"] for row in rows} >= {"gan", "cgan", "sgan", "acgan", "mogan"}
    assert all(row["description"] for row in rows)
