"""Reliability, second pass: one test per defect (D1-D26) and hazard (H1-H10) an adversarial run found.

Each test drives ganzoo the way the defect was found (mostly through the command line) and checks what a
user must see instead: nothing lost, a stop that stops, a right result, or one paragraph and exit code 2.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import signal
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from forked import ganzoo_process
from PIL import Image

import ganzoo
import ganzoo.plugins
from ganzoo import GanzooError, hookimpl
from ganzoo.cli import main

TOY = ["--dataset", "ring8", "--set", "model.generator_width=8", "--set", "model.discriminator_width=16", "--quiet"]


def cli(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def assert_clear_error(result, *fragments):
    """Exit code 2, one paragraph after "Error: ", no traceback, and each fragment in it."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.output.split("Error: ", 1)[1]
    assert message.count("\n") == 1, message
    for fragment in fragments:
        assert fragment in message, message


def records(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    """A finished 4-step run on the 2-D toy, checkpointed every 2 steps."""
    run_dir = tmp_path_factory.mktemp("toy") / "run"
    result = cli("run", "gan", *TOY, "--steps", 4, "--out", run_dir, "--set", "train.checkpoint_every=2")
    assert result.exit_code == 0, result.output
    return run_dir


def copy_run(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def make_image_folder(root: Path, per_class: int = 20, classes: int = 2, size: int = 8) -> Path:
    rng = np.random.default_rng(0)
    for label in range(classes):
        folder = root / f"class{label}"
        folder.mkdir(parents=True)
        for k in range(per_class):
            pixels = rng.integers(0, 256, (size, size), dtype=np.uint8) // (label + 1)
            Image.fromarray(pixels, mode="L").save(folder / f"{k:03d}.png")
    return root


# -- Work that is lost or cannot continue ---------------------------------------------------------------------


class ExplodingMetric:
    @hookimpl
    def ganzoo_metrics(self):
        def explodes(evaluated):
            """Raises, as a buggy metric plugin would."""
            raise RuntimeError("this metric fails on purpose")

        return {"explodes": explodes}


def test_D1_an_evaluation_error_loses_nothing_and_bad_eval_samples_are_refused(tmp_path):
    result = cli(
        "run",
        "gan",
        *TOY,
        "--steps",
        20,
        "--out",
        tmp_path / "few",
        "--set",
        'train.eval_metrics=["precision"]',
        "--set",
        "train.eval_samples=1",
    )
    assert_clear_error(result, "train.eval_samples 1 is too few for precision")

    ganzoo.plugins.register(ExplodingMetric(), name="exploding-metric")
    try:
        run_dir = tmp_path / "run"
        result = cli("run", "gan", *TOY, "--steps", 20, "--out", run_dir, "--set", 'train.eval_metrics=["explodes"]')
    finally:
        ganzoo.plugins.unregister("exploding-metric")
    assert result.exit_code == 0, result.output
    assert (run_dir / "checkpoints" / "last.safetensors").is_file()
    assert any("fails on purpose" in r.get("error", "") for r in records(run_dir) if r["kind"] == "eval")


def test_D2_a_torn_last_line_in_the_log_does_not_block_resume(toy_run, tmp_path):
    run_dir = copy_run(toy_run, tmp_path / "run")
    with open(run_dir / "metrics.jsonl", "a") as log:
        log.write('{"kind": "train", "step": 5, "d_lo')  # a full disk in mid-write
    result = cli("run", "--resume", run_dir, "--steps", 6, "--quiet")
    assert result.exit_code == 0, result.output
    assert [r["step"] for r in records(run_dir) if r["kind"] == "train"][-1] == 6


def test_D3_a_run_directory_in_use_is_locked(toy_run, tmp_path):
    run_dir = copy_run(toy_run, tmp_path / "run")
    with open(run_dir / ".lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("424242\n")
        held.flush()
        assert_clear_error(
            cli("run", "--resume", run_dir, "--steps", 8), "in use by another ganzoo process (PID 424242)"
        )
        assert_clear_error(cli("run", "gan", *TOY, "--steps", 2, "--out", run_dir), "PID 424242")
    assert cli("run", "--resume", run_dir, "--steps", 6, "--quiet").exit_code == 0  # free again


def test_D3_a_lock_file_removed_between_open_and_lock_is_not_trusted(tmp_path, monkeypatch):
    """Another process cleaning up an unused folder may unlink the lock file this one has just opened: a lock on
    that orphan would exclude nobody, so the lock is taken again on the file that is there."""
    import builtins

    import ganzoo.rundir
    from ganzoo.rundir import RunDir

    run = RunDir(tmp_path / "run")
    real_open, opened = builtins.open, []

    def open_then_lose_the_file(path, *args, **kwargs):
        handle = real_open(path, *args, **kwargs)
        if Path(path) == run.lock_path and not opened:
            opened.append(path)
            os.unlink(path)  # the other process's cleanup, between this open and the flock
        return handle

    monkeypatch.setattr(ganzoo.rundir, "open", open_then_lose_the_file, raising=False)
    with run.locked():
        assert opened and run.lock_path.read_text().strip() == str(os.getpid())
        with open(run.lock_path) as other:  # a second process is kept out of the file that is there
            with pytest.raises(BlockingIOError):
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_H1_a_run_that_died_before_its_first_checkpoint_does_not_block_its_folder(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "samples").mkdir(parents=True)
    (run_dir / "metrics.jsonl").write_text('{"kind": "train", "step": 50}\n')
    (run_dir / "recipe.toml").write_text('variant = "gan"\n')
    result = cli("run", "--resume", run_dir)
    assert_clear_error(result, "stopped before its first checkpoint", "--out")
    result = cli("run", "gan", *TOY, "--steps", 2, "--out", run_dir)
    assert result.exit_code == 0, result.output
    assert {r["step"] for r in records(run_dir)} == {2}  # the dead run's lines are gone


def test_H8_sample_never_leaves_a_half_written_file(toy_run, tmp_path, monkeypatch):
    out = tmp_path / "points.npz"
    assert cli("sample", toy_run, "--n", 5, "--out", out).exit_code == 0
    before = out.read_bytes()

    def killed_while_writing(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)):
            Path(file).write_bytes(b"")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", killed_while_writing)
    assert cli("sample", toy_run, "--n", 5, "--out", out).exit_code == 130
    assert out.read_bytes() == before


# -- Wrong or hidden results ---------------------------------------------------------------------------------


def test_D4_sigterm_stops_the_whole_compare_with_a_partial_report(tmp_path):
    out = tmp_path / "compare"
    args = ["compare", "gan", "cgan", "--dataset", "ring8", "--steps", 600, "--n", 200, "--metrics", "modes_covered"]
    process = ganzoo_process(*args, "--set", "model.generator_width=8", "--out", out)
    second = out / "runs" / "cgan-seed0" / "metrics.jsonl"  # created as cgan starts training
    deadline = time.time() + 240
    while not second.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    signalled = time.time()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert time.time() - signalled < 15 and "Traceback" not in stderr  # within a step (plus saving a checkpoint)
    report = json.loads((out / "report.json").read_text())
    assert report["partial"] is True and report["rows"]["gan"]["error"] is None  # the finished run is in the report
    assert "cgan" not in report["rows"]  # interrupted, not failed
    assert (out / "runs" / "cgan-seed0" / "checkpoints" / "last.safetensors").is_file()


def test_D5_the_same_variant_twice_gets_two_rows(tmp_path):
    out = tmp_path / "compare"
    result = cli(
        "compare",
        "gan",
        "gan",
        "--dataset",
        "ring8",
        "--steps",
        20,
        "--n",
        200,
        "--metrics",
        "modes_covered",
        "--set",
        "model.generator_width=8",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert rows["gan"]["error"] is None and rows["gan (2)"]["error"] is None


def test_D6_evaluators_of_two_image_folders_are_not_confused(tmp_path, monkeypatch):
    import ganzoo.evaluator
    from ganzoo.datasets.folder import load_image_folder

    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(ganzoo.evaluator.SETTINGS, "steps", 20)
    monkeypatch.setitem(ganzoo.evaluator.SETTINGS, "min_steps", 20)
    for name, per_class in (("a", 10), ("b", 12)):  # two folders of other images, the same name and size
        data = load_image_folder(tmp_path, image_size=8, path=make_image_folder(tmp_path / name, per_class=per_class))
        ganzoo.evaluator.load_or_train_evaluator(data, log=lambda _: None)
    assert len(list((tmp_path / "cache" / "evaluators").glob("imagefolder-*.safetensors"))) == 2


def write_idx(path: Path, array: np.ndarray, type_code: int = 0x08) -> None:
    path.write_bytes(
        struct.pack(">BBBB", 0, 0, type_code, array.ndim)
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )


def fake_mnist(root: Path, train: int = 20, test: int = 10) -> Path:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((train, 28, 28)))
    write_idx(raw / "train-labels-idx1-ubyte", np.arange(train) % 10)
    write_idx(raw / "t10k-images-idx3-ubyte", np.zeros((test, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.arange(test) % 10)
    return raw


class Hostile:
    def __reduce__(self):
        return (os.system, ("touch hostile-pickle-ran",))


def test_D7_processed_pickles_are_never_read(tmp_path, monkeypatch):
    from ganzoo.datasets.mnist import load_mnist

    monkeypatch.chdir(tmp_path)
    fake_mnist(tmp_path)
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir()
    for name in ("training.pt", "test.pt"):  # what torchvision would torch.load instead of the IDX files
        (processed / name).write_bytes(pickle.dumps(Hostile()))
    data = load_mnist(tmp_path, image_size=28, download=False)
    assert data.train_images.shape[0] == 20 and data.test_images.shape[0] == 10
    assert not (tmp_path / "hostile-pickle-ran").exists()


def test_H2_an_edited_value_in_a_checkpoint_header_is_refused(toy_run, tmp_path):
    run_dir = copy_run(toy_run, tmp_path / "run")
    path = run_dir / "checkpoints" / "last.safetensors"
    data = path.read_bytes()
    header_length = struct.unpack("<Q", data[:8])[0]
    header = data[8 : 8 + header_length]
    assert header.count(b"0.001") >= 1  # the toy recipe's learning rate, in the recipe in the metadata
    path.write_bytes(data[:8] + header.replace(b"0.001", b"0.009", 1) + data[8 + header_length :])
    assert_clear_error(cli("sample", run_dir, "--out", tmp_path / "x.png"), "corrupt")


def test_H3_edits_to_recipe_toml_are_not_silently_dropped_on_resume(toy_run, tmp_path):
    run_dir = copy_run(toy_run, tmp_path / "run")
    recipe = run_dir / "recipe.toml"
    recipe.write_text(recipe.read_text().replace("lr_generator = 0.001", "lr_generator = 0.5"))
    result = cli("run", "--resume", run_dir, "--steps", 6, "--quiet")
    assert result.exit_code == 0 and "recipe.toml was edited" in " ".join(result.output.split()), result.output
    assert "lr_generator = 0.001" in recipe.read_text()


def test_H9_set_cannot_change_the_variant():
    assert_clear_error(cli("run", "gan", *TOY, "--steps", 2, "--set", "variant=cgan"), "cannot change the variant")
    with pytest.raises(GanzooError, match="cannot change the variant"):  # nor can the Python API's overrides
        ganzoo.train("gan", dataset="ring8", steps=2, overrides={"variant": "cgan"})


def test_H4_steps_0_is_refused_not_taken_for_the_epoch_budget():
    assert_clear_error(cli("run", "gan", *TOY, "--steps", 0), "--steps must be greater than 0")


# -- Tracebacks where one paragraph and exit code 2 are promised -------------------------------------------------


def test_D8_a_checkpoint_that_cannot_be_written_and_an_oversized_recipe(tmp_path, monkeypatch):
    import ganzoo.checkpoint

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ganzoo.checkpoint, "save_file", disk_full)
    assert_clear_error(
        cli("run", "gan", *TOY, "--steps", 2, "--out", tmp_path / "full"),
        "No space left on device",
        "cannot write checkpoint",
    )
    monkeypatch.undo()
    huge = "x" * 2_000_000
    started = time.time()
    assert_clear_error(
        cli("run", "gan", *TOY, "--steps", 2000, "--out", tmp_path / "big", "--set", f"data.path={huge}"),
        "a recipe holds settings",
    )
    assert time.time() - started < 30 and not (tmp_path / "big" / "metrics.jsonl").exists()  # refused before training


def test_D9_a_plugin_that_exits_or_interrupts_on_import_is_reported(tmp_path):
    for name, code in (("exits.py", "import sys\nsys.exit(0)\n"), ("interrupts.py", "raise KeyboardInterrupt\n")):
        plugin = tmp_path / name
        plugin.write_text(code)
        result = cli("--plugin", plugin, "list", "variants")
        assert result.exit_code == 0 and "acgan" in result.output and name in result.output, result.output


def test_D10_resume_after_the_dataset_shrank(tmp_path):
    folder = make_image_folder(tmp_path / "images", per_class=20)
    run_dir = tmp_path / "run"
    args = [
        "--dataset",
        "imagefolder",
        "--set",
        f"data.path={folder}",
        "--set",
        "data.image_size=8",
        "--set",
        "model.generator=mlp",
        "--set",
        "model.discriminator=mlp",
        "--batch-size",
        4,
        "--quiet",
    ]
    assert cli("run", "gan", *args, "--steps", 2, "--out", run_dir).exit_code == 0
    for image in sorted((folder / "class0").iterdir())[:10]:
        image.unlink()
    assert_clear_error(cli("run", "--resume", run_dir, "--steps", 4), "the dataset changed")


def test_D11_running_out_of_cpu_memory(toy_run, tmp_path):
    assert_clear_error(cli("sample", toy_run, "--n", 10**10, "--out", tmp_path / "x.npz"), "out of memory")
    assert_clear_error(cli("eval", toy_run, "--n", 10**10), "out of memory")
    assert_clear_error(
        cli("run", "gan", *TOY, "--steps", 2, "--set", "model.latent_dim=100000000000", "--out", tmp_path / "r"),
        "out of memory",
    )


@pytest.mark.parametrize(
    "damage, message",
    [
        ("labels-out-of-range", "has label 11"),
        ("counts-differ", "20 images but train-labels has 19 labels"),
        ("type-code", "type code 0x0b"),
    ],
    ids=["D12", "D13", "D14"],
)
def test_D12_D13_D14_malformed_idx_files(tmp_path, damage, message):
    raw = fake_mnist(tmp_path)
    if damage == "labels-out-of-range":
        write_idx(raw / "train-labels-idx1-ubyte", np.full(20, 11))
    elif damage == "counts-differ":
        write_idx(raw / "train-labels-idx1-ubyte", np.arange(19) % 10)
    else:
        write_idx(raw / "train-images-idx3-ubyte", np.zeros((20, 28, 28)), type_code=0x0B)
    assert_clear_error(cli("run", "gan", "--data-root", tmp_path, "--steps", 2, "--out", tmp_path / "r"), message)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_D15_a_decompression_bomb_image(tmp_path):
    folder = make_image_folder(tmp_path / "images", per_class=3)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 40000, 40000, 1, 0, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + png_chunk(b"IEND", b"")
    )
    (folder / "class0" / "bomb.png").write_bytes(bomb)
    result = cli("run", "gan", "--dataset", "imagefolder", "--set", f"data.path={folder}", "--steps", 2)
    assert_clear_error(result, "bomb.png")


def test_D16_a_small_image_folder_trains_mogan_and_is_evaluated(tmp_path):
    folder = make_image_folder(tmp_path / "images", per_class=20)
    run_dir = tmp_path / "run"
    args = [
        "--dataset",
        "imagefolder",
        "--set",
        f"data.path={folder}",
        "--set",
        "data.image_size=8",
        "--set",
        "model.generator=mlp",
        "--set",
        "model.discriminator=mlp",
        "--batch-size",
        4,
        "--quiet",
    ]
    result = cli("run", "mogan", *args, "--steps", 2, "--out", run_dir, "--set", "loss.classifier_steps=5")
    assert result.exit_code == 0, result.output
    result = cli(
        "eval",
        run_dir,
        "--n",
        50,
        "--metrics",
        "fid,class_coverage",
        "--json",
        env={"GANZOO_CACHE": str(tmp_path / "c")},
    )
    assert result.exit_code == 0, result.output


def test_D17_a_checkpoint_with_a_valid_checksum_but_malformed_contents(toy_run, tmp_path):
    from ganzoo.checkpoint import load_checkpoint, save_checkpoint

    tensors, metadata = load_checkpoint(toy_run / "checkpoints" / "last.safetensors")
    cases = {
        "no-classes": (tensors, {k: v for k, v in metadata.items() if k != "num_classes"}),
        "extra-tensor": ({**tensors, "G.unexpected": torch.zeros(2)}, metadata),
        "missing-optimizer": (tensors, {k: v for k, v in metadata.items() if k != "optimizers"}),
    }
    for name, (case_tensors, case_metadata) in cases.items():
        run_dir = copy_run(toy_run, tmp_path / name)
        save_checkpoint(run_dir / "checkpoints" / "last.safetensors", case_tensors, case_metadata)
        command = (
            ["run", "--resume", run_dir, "--steps", 8]
            if name == "missing-optimizer"
            else ["sample", run_dir, "--out", tmp_path / "x.png"]
        )
        result = cli(*command)
        assert result.exit_code == 2 and "Traceback" not in result.output and "checkpoint" in result.output, (
            name,
            result.output,
        )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "train.beta1=1.5"], "train.beta1 must be in [0, 1)"),
        (["--set", "train.beta2=-0.1"], "train.beta2 must be in [0, 1)"),
        (["--seed", str(2**70)], "train.seed must be between 0 and 2**63 - 1"),
        (["--seed", "-1"], "train.seed must be between 0 and 2**63 - 1"),
        (["--batch-size", "1"], "batch_size 1 cannot train a model with BatchNorm"),
        (["--device", "mps"], "not supported"),
        (["--device", "meta"], "not supported"),
    ],
    ids=["D18-beta1", "D18-beta2", "D19-huge", "D19-negative", "D20", "D21-mps", "D21-meta"],
)
def test_D18_to_D21_values_the_training_cannot_take(args, message, tmp_path):
    assert_clear_error(cli("run", "gan", *TOY, "--steps", 2, "--out", tmp_path / "r", *args), message)


def test_D22_a_deeply_nested_recipe(tmp_path):
    recipe = tmp_path / "deep.toml"
    recipe.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert_clear_error(cli("run", "gan", "--recipe", recipe), "too deeply")
    assert_clear_error(cli("run", "gan", "--set", "train.seed=" + "[" * 100_000 + "]" * 100_000), "too deeply")


def test_D23_an_overlong_path(tmp_path):
    long = tmp_path / ("x" * 300)
    assert_clear_error(cli("run", "gan", *TOY, "--steps", 2, "--out", long / "run"), "too long")
    assert_clear_error(cli("run", "gan", "--steps", 2, "--data-root", long, "--out", tmp_path / "r"))


def test_D24_sample_into_a_place_that_cannot_be_written(toy_run, tmp_path):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "folder.png").mkdir()
    for out, message in [
        (tmp_path / "folder.png", "is a folder"),
        (tmp_path / "a-file" / "x.png", "is a file"),
        (Path("/proc/ganzoo-test.png"), "cannot write"),
    ]:
        assert_clear_error(cli("sample", toy_run, "--out", out), message)


def test_D25_new_variant_into_a_folder_that_cannot_be_made(tmp_path):
    (tmp_path / "a-file").write_text("")
    assert_clear_error(
        cli("new-variant", "mine", "--dir", tmp_path / "a-file" / "plugins"), "cannot write the scaffold"
    )


def test_D26_an_unusable_cache_is_reported_before_training(tmp_path, monkeypatch):
    (tmp_path / "cache-file").write_text("")
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache-file"))
    run_dir = tmp_path / "run"
    result = cli(
        "run",
        "gan",
        "--dataset",
        "shapes",
        "--steps",
        200,
        "--out",
        run_dir,
        "--quiet",
        "--set",
        'train.eval_metrics=["fid"]',
        "--set",
        "model.generator_width=8",
    )
    assert_clear_error(result, "cannot write ganzoo's cache folder", "GANZOO_CACHE")
    assert not (run_dir / "metrics.jsonl").exists() or not records(run_dir)


def test_H5_errors_do_not_echo_huge_values(tmp_path):
    result = cli("run", "gan", "--set", "model.generator=" + "m" * 500_000)
    assert_clear_error(result, "unknown generator")
    assert len(result.output) < 2000


class BadNames:
    @hookimpl
    def ganzoo_variants(self):
        from ganzoo import Variant

        return [Variant("../../escape", "Would put its runs outside runs/.", loss="gan")]


def test_H6_plugin_names_that_are_not_names_are_refused():
    ganzoo.plugins.register(BadNames(), name="bad-names")
    try:
        result = cli("list", "variants", "--json")
        plugins = cli("plugins", "--json")
    finally:
        ganzoo.plugins.unregister("bad-names")
    assert "escape" not in result.output
    report = {row["plugin"]: row for row in json.loads(plugins.output)}["bad-names"]
    assert "is not allowed" in report["error"]


def test_H7_the_printed_resume_command_is_shell_quoted(tmp_path):
    run_dir = tmp_path / "my run $HOME"
    process = ganzoo_process("run", "gan", *TOY, "--steps", 100000, "--out", run_dir, "--set", "train.log_every=1")
    deadline = time.time() + 120
    while (
        not ((run_dir / "metrics.jsonl").exists() and (run_dir / "metrics.jsonl").read_text().strip())
        and process.poll() is None
        and time.time() < deadline
    ):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert f"Resume with: ganzoo run --resume '{run_dir}'" in " ".join(stderr.split())


def test_H10_checkpoints_and_samples_are_readable_with_the_users_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        run_dir = tmp_path / "run"
        assert cli("run", "gan", *TOY, "--steps", 2, "--out", run_dir).exit_code == 0
        assert (run_dir / "checkpoints" / "last.safetensors").stat().st_mode & 0o777 == 0o644
        out = tmp_path / "s.npz"
        assert cli("sample", run_dir, "--n", 3, "--out", out).exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(previous)


# -- Fault injection -----------------------------------------------------------------------------------------------


def wait_for_new_log_lines(process, log: Path, timeout: float = 300.0) -> None:
    """Until the run logs a step (or exits): a kill then lands in training, not in Python's start-up, however slow
    a busy machine makes that start-up."""
    before = log.stat().st_size if log.exists() else 0
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if log.exists() and log.stat().st_size > before:
            return
        time.sleep(0.05)


def test_twenty_kills_at_random_moments_lose_nothing(tmp_path):
    """SIGKILL at 20 random moments, a checkpoint every step: each time, --resume continues (or, before the first
    checkpoint, a fresh run starts in the same folder), and the end result is bit for bit an uninterrupted run's."""
    from safetensors.torch import load_file

    common = [
        "gan",
        *TOY,
        "--steps",
        400,
        "--set",
        "train.checkpoint_every=1",
        "--set",
        "train.log_every=1",
        "--set",
        "train.sample_every=100000",
        "--set",
        "train.eval_metrics=[]",
    ]
    run_dir = tmp_path / "killed"
    rng = np.random.default_rng(0)
    kills = 0

    def continue_run():  # --resume once there is a checkpoint; before that, a fresh run in the same folder
        if (run_dir / "checkpoints" / "last.safetensors").is_file():
            return ganzoo_process("run", "--resume", run_dir, "--quiet")
        return ganzoo_process("run", *common, "--out", run_dir)

    while kills < 20:
        process = continue_run()
        wait_for_new_log_lines(process, run_dir / "metrics.jsonl")
        time.sleep(float(rng.uniform(0.0, 0.5)))
        if process.poll() is not None:
            _, stderr = process.communicate()
            # A kill after the last checkpoint but before the exit leaves a finished run, which --resume refuses.
            assert process.returncode == 0 or "already trained 400 steps" in stderr, stderr
            break  # finished before this kill
        process.kill()
        process.wait()
        kills += 1
    if kills == 20:
        final = continue_run()
        _, stderr = final.communicate(timeout=300)
        assert final.returncode == 0, stderr
    straight = tmp_path / "straight"
    result = ganzoo_process("run", *common, "--out", straight)
    _, stderr = result.communicate(timeout=300)
    assert result.returncode == 0, stderr
    a, b = (load_file(str(path / "checkpoints" / "last.safetensors")) for path in (run_dir, straight))
    keys = [k for k in a if k.split(".")[0] in ("G", "D", "optim")]
    assert keys and all(torch.equal(a[k], b[k]) for k in keys), [k for k in keys if not torch.equal(a[k], b[k])][:3]
    steps = [r["step"] for r in records(run_dir) if r["kind"] == "train"]
    assert steps == list(range(1, 401))  # the log has every step once, whatever was killed mid-write
    assert kills >= 10, f"only {kills} kills happened before the run finished: make it longer"


def test_no_code_from_data_is_reachable():
    """No torch.load, pickle, eval or exec in ganzoo's code, and none of torchvision's dataset classes (they unpickle
    ``processed/*.pt``): datasets are read by ganzoo's own readers."""
    import re

    repo = Path(__file__).resolve().parents[1]
    sources = [p for folder in ("ganzoo", "plugins") for p in (repo / folder).rglob("*.py")]
    pattern = re.compile(
        r"torch\.load\(|import pickle|pickle\.|(?<![.\w])eval\(|(?<![.\w])exec\(|yaml\.load\("
        r"|torchvision\.datasets import (?!utils)|datasets\.(MNIST|FashionMNIST|CIFAR\w*|ImageFolder)\("
    )
    offenders = [
        f"{p.relative_to(repo)}:{n}"
        for p in sources
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_evaluator_caches_are_written_through_a_temporary_file_of_their_own(tmp_path, monkeypatch):
    """Two processes may train the same evaluator at once: each writes the cache through its own temporary file
    (a run's checkpoints, written only by the lock's holder, keep a fixed one)."""
    import ganzoo.checkpoint as checkpoint

    written = []
    real_save = checkpoint.save_file
    monkeypatch.setattr(
        checkpoint, "save_file", lambda t, f, metadata=None: (written.append(f), real_save(t, f, metadata))
    )
    tensors = {"C.w": torch.zeros(2)}
    checkpoint.save_checkpoint(tmp_path / "evaluator.safetensors", tensors, {"test_accuracy": 1.0}, shared=True)
    checkpoint.save_checkpoint(tmp_path / "last.safetensors", tensors, {"test_accuracy": 1.0})
    assert str(os.getpid()) in Path(written[0]).name and Path(written[1]).name == "last.safetensors.tmp"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluator.safetensors", "last.safetensors"]
