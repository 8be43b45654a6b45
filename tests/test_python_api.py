"""The Python API of docs/python-api.md, used as a notebook would: only names of the ``ganzoo`` package."""

import json

import pytest

import ganzoo

# The scaffold's recipe: an MLP pair learns the shapes in a few hundred steps.
QUICK = {
    "model.generator": "mlp",
    "model.discriminator": "mlp",
    "model.generator_width": 64,
    "model.discriminator_width": 256,
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "cgan"
    return ganzoo.train("cgan", dataset="shapes", steps=300, out=out, overrides=QUICK, progress=False)


def test_train_sample_evaluate_compare_end_to_end(trained, tmp_path):
    run = trained
    assert isinstance(run, ganzoo.Run) and run.variant == "cgan" and run.conditional and run.step == 300
    assert run.recipe.model.generator_width == 64 and run.images_per_sec > 0
    assert [r["step"] for r in run.metrics if r["kind"] == "train"][-1] == 300 and run.final["kind"] == "end"
    # where the wall time was spent, with the precision "auto" resolved to on this machine
    assert (
        run.final["device"].startswith(("cpu", "cuda"))
        and run.final["precision"] in ("bf16", "fp32")
        and run.final["threads"] >= 1
    )

    sevens = run.sample(20, labels=7)
    assert sevens.shape == (20, 1, 28, 28) and -1 <= sevens.min() and sevens.max() <= 1
    grid = run.sample(labels=run.class_rows(3))
    assert grid.shape[0] == 30

    again = ganzoo.load_run(run.path)
    assert (again.sample(5, labels=[0, 1, 2, 3, 4], seed=3) == run.sample(5, labels=[0, 1, 2, 3, 4], seed=3)).all()

    scores = ganzoo.evaluate(run, metrics=["conditional_accuracy", "fid"], n=500)
    assert isinstance(scores, ganzoo.Evaluation) and set(scores.rows) == {"cgan", "real data (train vs test)"}
    assert scores["cgan"]["conditional_accuracy"] >= 0.5  # it learned: chance is 0.1
    assert scores["real data (train vs test)"]["fid"] < scores["cgan"]["fid"]
    assert len(scores.evaluator["sha256"]) == 64 and scores.evaluator["test_accuracy"] > 0.9

    report = ganzoo.compare(
        [run, "gan"],
        dataset="shapes",
        steps=50,
        n=300,
        metrics=["fid", "class_coverage"],
        overrides=QUICK,
        out=tmp_path / "compare",
    )
    assert isinstance(report, ganzoo.Comparison)
    assert set(report.summary) == {"cgan", "gan", "real data (train vs test)"}
    assert report.summary["cgan"]["runs"] == [str(run.path)]  # reused, not trained again
    written = json.loads((tmp_path / "compare" / "report.json").read_text())
    assert written["evaluator"]["sha256"] == scores.evaluator["sha256"]
    assert written["rows"]["gan"]["budget"] == [{"steps": 50, "batch_size": 64, "epochs": 0, "seed": 0}]


def test_components_lists_what_is_registered():
    variants = {row["name"] for row in ganzoo.components("variants")}
    assert {"gan", "cgan", "sgan", "acgan", "mogan"} <= variants
    assert "fid" in {row["name"] for row in ganzoo.components("metrics")}


def test_mistakes_are_ganzoo_errors_with_a_hint(tmp_path):
    with pytest.raises(ganzoo.GanzooError, match="Did you mean 'acgan'"):
        ganzoo.train("acgna", out=tmp_path / "x")
    with pytest.raises(ganzoo.GanzooError, match="no checkpoint"):
        ganzoo.load_run(tmp_path)
