"""`ganzoo compare` end to end: same budget for every variant, identical evaluation, a failure contained."""

import json

import pytest
from click.testing import CliRunner
from PIL import Image

import ganzoo.cli
import ganzoo.evaluator
import ganzoo.plugins
from ganzoo import LossStrategy, Variant, hookimpl


class Explodes(LossStrategy):
    """A loss that fails on its first step."""

    def discriminator_loss(self, discriminator, batch):
        raise RuntimeError("this variant fails on purpose")


class ExplodingPlugin:
    @hookimpl
    def ganzoo_losses(self):
        return {"explodes": Explodes}

    @hookimpl
    def ganzoo_variants(self):
        return [Variant("explodes", "Fails on purpose.", loss="explodes")]


@pytest.fixture
def exploding_plugin():
    """The plugin registered for the test's duration, as a user registers one from Python."""
    ganzoo.plugins.register(ExplodingPlugin(), name="exploding")
    yield
    ganzoo.plugins.unregister("exploding")


def test_compare_writes_every_report_and_contains_a_failure(data_root, tmp_path, monkeypatch, exploding_plugin):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(ganzoo.evaluator.SETTINGS, "steps", 300)  # a quicker evaluator than the real one
    out = tmp_path / "compare"
    args = [
        "compare",
        "gan",
        "cgan",
        "explodes",
        "--steps",
        "20",
        "--n",
        "500",
        "--seeds",
        "2",
        "--data-root",
        str(data_root),
        "--metrics",
        "fid,conditional_accuracy,class_coverage,modes_covered",
        "--set",
        "model.generator_width=16",
        "--set",
        "model.discriminator_width=16",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(ganzoo.cli.main, args)
    assert result.exit_code == 0, result.output
    assert "this variant fails on purpose" in result.output

    report = json.loads((out / "report.json").read_text())
    rows = report["rows"]
    assert set(rows) == {"gan", "cgan", "explodes", "real data (train vs test)"}
    assert "this variant fails on purpose" in rows["explodes"]["error"]
    for variant in ("gan", "cgan"):
        assert (
            len(rows[variant]["runs"]) == 2
            and rows[variant]["fid"]["std"] >= 0
            and rows[variant]["images_per_sec"]["mean"] > 0
        )
        # each seed's own values are kept beside the mean: they are what the mean and std were made of
        fids = [run["fid"] for run in rows[variant]["per_run"]]
        assert len(fids) == 2 and abs(sum(fids) / 2 - rows[variant]["fid"]["mean"]) < 1e-9
    assert rows["gan"]["conditional_accuracy"] is None and rows["cgan"]["conditional_accuracy"]["mean"] >= 0
    real = rows["real data (train vs test)"]
    assert real["conditional_accuracy"]["mean"] > 0.9 and real["fid"]["mean"] < rows["gan"]["fid"]["mean"]
    markdown = (out / "report.md").read_text()
    assert "| gan |" in markdown
    # modes_covered is for the 2-D toys: on MNIST it is named as not applicable, not a column of dashes.
    assert "| variant | fid | conditional_accuracy | class_coverage | images/s |" in markdown
    assert "Not applicable to this dataset: modes_covered." in markdown
    assert "not applicable to mnist: modes_covered" in result.output
    grid = Image.open(out / "grid.png")
    assert grid.size[0] > 2 * grid.size[1]  # two panels side by side
    frames = Image.open(out / "progress-cgan.gif").n_frames
    assert frames >= 5
    try:
        import matplotlib  # noqa: F401

        assert (out / "curves.png").exists()
    except ImportError:
        assert "pip install matplotlib" in result.output


def test_eval_command_and_metrics_during_training(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(ganzoo.evaluator.SETTINGS, "steps", 200)
    run_dir = tmp_path / "run"
    args = [
        "run",
        "cgan",
        "--steps",
        "4",
        "--data-root",
        str(data_root),
        "--out",
        str(run_dir),
        "--quiet",
        "--set",
        "train.sample_every=2",
        "--set",
        "train.eval_every=2",
        "--set",
        'train.eval_metrics=["class_coverage", "conditional_accuracy"]',
        "--set",
        "train.eval_samples=200",
    ]
    result = CliRunner().invoke(ganzoo.cli.main, args)
    assert result.exit_code == 0, result.output
    assert "cgan sampling (200)..." in result.output  # work inside the run shows progress, a line when piped
    evals = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if '"eval"' in line]
    assert [e["step"] for e in evals] == [2, 4]
    assert all(0 <= e["class_coverage"] <= 1 and 0 <= e["conditional_accuracy"] <= 1 for e in evals)

    result = CliRunner().invoke(
        ganzoo.cli.main,
        [
            "eval",
            str(run_dir),
            "--metrics",
            "fid,class_coverage",
            "--n",
            "300",
            "--data-root",
            str(data_root),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert set(report["results"]) == {"cgan", "real data (train vs test)"}
    assert report["results"]["real data (train vs test)"]["fid"] < report["results"]["cgan"]["fid"]
    assert report["budget"] == {"cgan": {"steps": 4, "batch_size": 32, "epochs": 0, "seed": 0}}

    unknown = CliRunner().invoke(ganzoo.cli.main, ["run", "gan", "--set", 'train.eval_metrics=["fdi"]'])
    assert unknown.exit_code == 2 and "Did you mean 'fid'?" in unknown.output


def test_row_labels_tell_same_named_run_folders_apart():
    from ganzoo.comparison import unique_labels

    # seed folders of two variants: the parent folder names the row, not "seed0" and "seed0 (2)"
    assert unique_labels(["runs/zoo/gan/seed0", "runs/zoo/mogan/seed0", "runs/zoo/gan/seed1"]) == [
        "gan/seed0",
        "mogan/seed0",
        "seed1",
    ]
    assert unique_labels(["gan", "gan", "cgan"]) == ["gan", "gan (2)", "cgan"]  # the same variant twice
