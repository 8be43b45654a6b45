"""What a new user ran into, trying the command line cold: one test per finding.

Each drives ganzoo through the CLI on the 2-D toys (seconds) and checks what the user must see instead.
"""

from __future__ import annotations

import fcntl
import json
import signal
import time
from pathlib import Path

import pytest
import torch
from test_compare import ExplodingPlugin
from test_robustness import TOY, assert_clear_error, cli, ganzoo_process

import ganzoo.plugins


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("usability") / "ring"
    result = cli("run", "gan", *TOY, "--steps", 4, "--out", run_dir)
    assert result.exit_code == 0, result.output
    return run_dir


def test_run_recipe_file_without_a_variant_trains_the_variant_the_file_names(ring_run, tmp_path):
    out = tmp_path / "again"
    result = cli("run", "--recipe", ring_run / "recipe.toml", "--steps", 2, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert 'variant = "gan"' in (out / "recipe.toml").read_text()

    anonymous = tmp_path / "anonymous.toml"
    anonymous.write_text("[train]\nsteps = 2\n")
    assert_clear_error(cli("run", "--recipe", anonymous), "names no variant", 'variant = "NAME"')


def test_compare_refuses_runs_of_another_dataset_and_uses_the_runs_own(ring_run, tmp_path):
    mixed = cli("compare", ring_run, "gan", "--dataset", "grid25", "--steps", 2, "--out", tmp_path / "mixed")
    assert_clear_error(mixed, "this comparison is on grid25", f"{ring_run} (ring8)", "trained on other data")
    assert not (tmp_path / "mixed").exists()  # refused before training anything

    out = tmp_path / "alone"
    alone = cli("compare", ring_run, "--n", 200, "--metrics", "modes_covered", "--out", out)
    assert alone.exit_code == 0, alone.output
    assert "ganzoo compare (ring8;" in alone.output  # not the mnist default
    assert (
        json.loads((out / "report.json").read_text())["rows"]["ring"]["error"] is None
    )  # a run is named by its folder

    again = cli("compare", ring_run, "--n", 200, "--metrics", "modes_covered", "--out", out)
    assert_clear_error(again, "already holds a comparison", "Pass another --out DIR")


def test_a_compare_in_which_every_run_failed_exits_with_an_error(tmp_path):
    ganzoo.plugins.register(ExplodingPlugin(), name="exploding-usability")
    try:
        result = cli(
            "compare", "explodes", *TOY[:2], "--steps", 2, "--n", 100, "--metrics", "modes_covered", "--out", tmp_path
        )
    finally:
        ganzoo.plugins.unregister("exploding-usability")
    assert result.exit_code == 2 and "Error: every run of the comparison failed" in result.output, result.output
    assert "this variant fails on purpose" in (tmp_path / "report.md").read_text()


def test_an_unknown_name_mentions_the_plugins_that_failed_to_load(tmp_path):
    broken = tmp_path / "myvariant.py"
    broken.write_text("raise ImportError('no module named torchaudio')\n")
    result = cli("--plugin", broken, "run", "myvariant")
    assert_clear_error(result, "unknown variant 'myvariant'", "Plugins that failed to load", "torchaudio")


def test_a_failed_start_leaves_no_empty_run_folder_behind(tmp_path):
    out = tmp_path / "typo"
    result = cli("run", "gan", "--dataset", "mnist", "--data-root", tmp_path / "nowhere", "--out", out, "--quiet")
    assert result.exit_code == 2, result.output
    assert not out.exists()


def test_sampling_a_run_that_has_not_checkpointed_yet_says_it_is_still_training(tmp_path):
    run_dir = tmp_path / "young"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "recipe.toml").write_text('variant = "gan"\n')
    with open(run_dir / ".lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("424242\n")
        held.flush()
        assert_clear_error(cli("sample", run_dir, "--out", tmp_path / "s.png"), "still training (PID 424242)")
    assert_clear_error(cli("sample", run_dir, "--out", tmp_path / "s.png"), "stopped before its first checkpoint")


def test_keep_best_with_a_metric_that_does_not_apply_is_noted_once(tmp_path):
    result = cli(
        "run", "gan", *TOY, "--steps", 4, "--out", tmp_path / "run", "--set", "train.eval_every=2",
        "--set", "train.eval_samples=100", "--set", 'train.eval_metrics=["modes_covered"]',
        "--set", "train.keep_best=conditional_accuracy",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.count("does not apply to this run") == 1
    assert not (tmp_path / "run" / "checkpoints" / "best.safetensors").exists()


def test_the_busy_machine_note_is_not_given_when_threads_are_chosen(tmp_path, monkeypatch):
    monkeypatch.setattr("os.getloadavg", lambda: (64.0, 64.0, 64.0))
    busy = cli("run", "gan", *TOY, "--steps", 2, "--out", tmp_path / "a")
    assert busy.exit_code == 0 and "--threads" in busy.output
    threads = torch.get_num_threads()
    try:
        chosen = cli("--threads", 1, "run", "gan", *TOY, "--steps", 2, "--out", tmp_path / "b")
    finally:
        torch.set_num_threads(threads)  # --threads sets it for the whole (test) process
    assert chosen.exit_code == 0 and "--threads" not in chosen.output, chosen.output


def test_ctrl_c_is_acknowledged_at_once_and_no_temporary_checkpoint_is_left(tmp_path):
    run_dir = tmp_path / "run"
    process = ganzoo_process("run", "gan", *TOY, "--steps", 100000, "--out", run_dir)
    deadline = time.time() + 120
    log = run_dir / "metrics.jsonl"
    while not (log.exists() and '"train"' in log.read_text()) and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)  # training, not starting up (a Ctrl-C then aborts at once)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "SIGINT received: stopping after this step and saving a checkpoint" in stderr
    assert (run_dir / "checkpoints" / "last.safetensors").is_file()
    assert not [p.name for p in (run_dir / "checkpoints").iterdir() if p.name != "last.safetensors"]
