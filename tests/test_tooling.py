"""Everyday tooling: logs people watch, TensorBoard, the HTML report in a real browser, comparable numbers, and
the small things (--version, completion)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from rich.console import Console

import ganzoo
from ganzoo.cli import main

TOY = ["--dataset", "ring8", "--set", "model.generator_width=8", "--set", "model.discriminator_width=16"]


def ganzoo_command(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_a_piped_run_prints_periodic_log_lines(tmp_path):
    result = ganzoo_command("run", "gan", *TOY, "--steps", 300, "--set", "train.log_every=100", "--out", tmp_path / "r")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("gan step ")]
    assert [line.split()[2] for line in lines] == ["100/300", "200/300", "300/300"], result.stderr
    assert all("d_loss=" in line and "g_loss=" in line and "img/s" in line and "eta" in line for line in lines)
    assert "images/s on average" in result.stderr.splitlines()[-2]


def test_the_live_bar_fits_80_columns_with_the_numbers_on_their_own_line():
    from ganzoo.sinks import ConsoleLog

    display = ConsoleLog(
        Console(file=io.StringIO(), force_terminal=True, width=80), "acgan", total=938, start=0, live=True
    )
    for _ in range(12):
        display.advance()
    display.write(
        {
            "kind": "train",
            "step": 12,
            "d_loss": 1.2345,
            "g_loss": 2.5,
            "d_accuracy": 0.75,
            "real_class_accuracy": 0.5,
            "fake_class_accuracy": 0.25,
            "images_per_sec": 187.0,
        }
    )
    display.close()
    screen = Console(file=io.StringIO(), width=80, record=True)
    screen.print(*display.progress.get_renderables())
    bar, stats = screen.export_text().splitlines()[:2]
    assert bar.startswith("acgan") and "12/938" in bar and re.fullmatch(r"\d+:\d\d:\d\d|-:--:--", bar.split()[-1]), bar
    assert len(bar) <= 80 and len(stats) <= 80 and stats.startswith("d_loss=1.234"), stats


def test_work_inside_a_run_gets_its_own_bar_under_the_training_bar():
    from ganzoo.sinks import ConsoleLog

    display = ConsoleLog(Console(file=io.StringIO(), force_terminal=True, width=80), "gan", 500, start=0, live=True)
    display.task_progress("sampling", 2500, 10000)
    screen = Console(file=io.StringIO(), width=80, record=True)
    screen.print(*display.progress.get_renderables())
    training, sampling = screen.export_text().splitlines()[:2]
    assert training.startswith("gan") and "0/500" in training
    assert sampling.startswith("sampling") and "2500/10000" in sampling
    display.task_progress("sampling", 10000, 10000)  # done: the bar goes
    assert len(display.progress.tasks) == 1
    display.close()


def test_tensorboard_gets_the_scalars_and_the_sample_grids(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "gan",
            *TOY,
            "--steps",
            20,
            "--quiet",
            "--out",
            str(run_dir),
            "--set",
            "train.tensorboard=true",
            "--set",
            "train.log_every=5",
            "--set",
            "train.sample_every=10",
        ],
    )
    assert result.exit_code == 0, result.output
    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    assert {"train/d_loss", "train/g_loss", "eval/modes_covered"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("train/d_loss")] == [5, 10, 15, 20]
    assert "samples" in tags["images"] and [e.step for e in events.Images("samples")] == [10, 20]


def test_tensorboard_without_the_package_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    result = CliRunner().invoke(
        main,
        ["run", "gan", *TOY, "--steps", 2, "--quiet", "--out", str(tmp_path / "r"), "--set", "train.tensorboard=true"],
    )
    assert result.exit_code == 2 and "pip install 'ganzoo[tensorboard]'" in result.output


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def toy_comparison(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "compare"
    result = CliRunner().invoke(
        main,
        [
            "compare",
            "gan",
            "cgan",
            *TOY,
            "--steps",
            200,
            "--n",
            300,
            "--out",
            str(out),
            "--metrics",
            "modes_covered,fid",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def test_the_html_report_is_self_contained(toy_comparison):
    page = (toy_comparison / "report.html").read_text()
    assert "<figcaption>gan</figcaption>" in page and "<figcaption>cgan</figcaption>" in page
    assert page.count('src="data:image/') >= 5  # 2 panels, curves, 2 animations: nothing refers to another file
    assert 'src="http' not in page and "modes_covered" in page


def test_the_html_report_in_headless_chromium(toy_comparison, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    flags = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    url = (toy_comparison / "report.html").resolve().as_uri()
    dom = subprocess.run(
        [*flags, "--virtual-time-budget=5000", "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    assert 'data-broken-images="0"' in dom.stdout, dom.stdout[-2000:] + dom.stderr[-2000:]
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console_errors, console_errors
    screenshot = toy_comparison / "report-screenshot.png"
    subprocess.run(
        [*flags, "--window-size=1200,1400", f"--screenshot={screenshot}", url], capture_output=True, timeout=120
    )
    image = Image.open(screenshot).convert("L")
    assert (
        image.size == (1200, 1400) and len(image.getcolors(maxcolors=1 << 16)) > 20
    )  # the table and pictures, not a blank page


def test_two_fresh_caches_give_the_same_fid_and_the_report_names_the_evaluator(data_root, tmp_path):
    run = ganzoo.train(
        "gan",
        dataset="mnist",
        steps=30,
        out=tmp_path / "run",
        progress=False,
        data_root=data_root,
        # the recipe's 10,000-sample evaluation at the end is not what this test is about
        overrides={
            "model.generator_width": 16,
            "model.discriminator_width": 64,
            "train.eval_metrics": [],
            "train.keep_best": "",
        },
    )
    scores = []
    for cache in ("cache-a", "cache-b"):
        os.environ["GANZOO_CACHE"] = str(tmp_path / cache)
        try:
            scores.append(ganzoo.evaluate(run, metrics=["fid"], n=500, data_root=data_root, real=False))
        finally:
            del os.environ["GANZOO_CACHE"]
    assert scores[0]["gan"]["fid"] == scores[1]["gan"]["fid"]
    assert scores[0].evaluator["sha256"] == scores[1].evaluator["sha256"]
    assert "ganzoo/evaluators" in scores[0].evaluator["path"].replace(os.sep, "/")  # shipped, not trained here
    cached = (tmp_path / "cache-a" / "evaluators").glob("*.safetensors")
    assert not [p for p in cached if ".test-features." not in p.name]  # only the test-set features, no weights


def test_version_and_completion_of_variant_and_dataset_names():
    result = ganzoo_command("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"ganzoo {ganzoo.__version__}"
    completion = ganzoo_command(
        env={"_GANZOO_COMPLETE": "bash_complete", "COMP_WORDS": "ganzoo run ac", "COMP_CWORD": "2"}
    )
    assert "plain,acgan" in completion.stdout.splitlines()
    completion = ganzoo_command(
        env={"_GANZOO_COMPLETE": "bash_complete", "COMP_WORDS": "ganzoo run gan --dataset ri", "COMP_CWORD": "4"}
    )
    assert "plain,ring8" in completion.stdout.splitlines()


def test_list_escapes_text_that_looks_like_markup():
    result = CliRunner().invoke(main, ["list", "losses"])
    assert result.exit_code == 0
    assert "real(x, y) + [fake(G(z, y')) + fake(x, wrong y)]/2" in " ".join(result.output.split())
