"""Nothing lost on interruption, clear errors for bad input, broken plugins contained, no code from data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from forked import ganzoo_process
from safetensors.torch import load_file

from ganzoo import LossStrategy, StepLosses, Variant, hookimpl
from ganzoo.build import resolve_recipe
from ganzoo.cli import main
from ganzoo.errors import GanzooError
from ganzoo.loop import train
from ganzoo.plugins import collect, make_plugin_manager

REPO = Path(__file__).resolve().parents[1]
# These tests are about a run's state, so: small models (the DCGAN pair, whose width scales every layer, unlike the
# recipe's InfoGAN pair with its fixed 1024 units; D spectrally normalised as the recipe's, G with BatchNorm), and no
# scoring of 10,000 samples at the end (the recipe's evaluation).
TINY = [
    *("--set", "model.generator=dcgan", "--set", "model.discriminator=dcgan-sn"),
    *("--set", "model.generator_width=8", "--set", "model.discriminator_width=16", "--batch-size", "32", "--quiet"),
    *("--set", "train.eval_metrics=[]", "--set", 'train.keep_best=""'),
]


def fresh_ganzoo_process(*args, env_extra=None, **popen):
    """``python -m ganzoo``: a fresh interpreter, for what is read at start-up (PYTHONPATH, installed plugins).
    Everything else uses ``forked.ganzoo_process``, which starts in a fraction of the time."""
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "ganzoo", *map(str, args)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run_dir / "checkpoints" / "last.safetensors"))


def assert_same_training_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    keys = [k for k in a if k.split(".")[0] in ("G", "D", "optim")]
    assert keys and keys == [k for k in b if k.split(".")[0] in ("G", "D", "optim")]
    different = [k for k in keys if not torch.equal(a[k], b[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[:3]}"


def last_logged_step(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    steps = re.findall(r'"step": (\d+)', path.read_text()) if path.exists() else []
    return int(steps[-1]) if steps else 0


def test_sigterm_checkpoints_and_resume_is_bit_identical(data_root, tmp_path):
    common = [
        "run",
        "gan",
        "--steps",
        300,
        "--data-root",
        data_root,
        *TINY,
        "--set",
        "train.log_every=1",
        "--set",
        "train.checkpoint_every=100",
        "--set",
        "train.sample_every=100000",
    ]
    interrupted = tmp_path / "interrupted"
    process = ganzoo_process(*common, "--out", interrupted)
    deadline = time.time() + 120
    while last_logged_step(interrupted) < 30 and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)  # wrappers often pass SIGTERM on twice: it must not abort the checkpoint
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Resume with: ganzoo run --resume" in stderr and "Traceback" not in stderr
    stopped_at = int(re.search(r"stopped at step (\d+)", stderr).group(1))
    assert 30 <= stopped_at < 300

    resumed = ganzoo_process("run", "--resume", interrupted, "--quiet")
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"resuming gan at step {stopped_at}" in stderr

    straight = tmp_path / "straight"
    uninterrupted = ganzoo_process(*common, "--out", straight)
    _, stderr = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, stderr
    assert_same_training_state(weights(interrupted), weights(straight))
    steps = [int(s) for s in re.findall(r'"kind": "train", "step": (\d+)', (interrupted / "metrics.jsonl").read_text())]
    assert steps == sorted(set(steps)) and steps[-1] == 300  # no duplicated log lines after the resume


def test_a_second_ctrl_c_aborts_at_once_but_a_second_sigterm_does_not():
    from ganzoo.loop import StopOnSignal

    stop = StopOnSignal()
    stop._handle(signal.SIGTERM, None)
    stop._handle(signal.SIGTERM, None)
    assert stop.received == signal.SIGTERM
    with pytest.raises(KeyboardInterrupt):
        stop._handle(signal.SIGINT, None)


def test_a_stop_received_between_two_runs_of_a_compare_stops_the_next_run():
    """The compare's handler holds the signal until the run's own takes over; the run must see it at once."""
    from ganzoo.signals import StopOnSignal

    before = signal.getsignal(signal.SIGTERM)
    with StopOnSignal() as compare:
        os.kill(os.getpid(), signal.SIGTERM)
        with StopOnSignal() as run:
            assert run.received == signal.SIGTERM
    with StopOnSignal() as compare:
        with StopOnSignal():
            os.kill(os.getpid(), signal.SIGINT)
        assert compare.received == signal.SIGINT
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, data_root) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "gan"
    result = CliRunner().invoke(
        main, ["run", "gan", "--steps", "4", "--data-root", str(data_root), "--out", str(run_dir), *TINY]
    )
    assert result.exit_code == 0, result.output
    return run_dir


@pytest.mark.parametrize("damage", ["truncate", "flip-data", "flip-header", "empty"])
def test_corrupt_checkpoint_is_a_clear_error(small_run, tmp_path, damage):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(small_run, run_dir)
    path = run_dir / "checkpoints" / "last.safetensors"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip-data":
        data[-100] ^= 0xFF
    elif damage == "flip-header":
        data[20] ^= 0xFF
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    for args in (["sample", run_dir, "--out", tmp_path / "x.png"], ["run", "--resume", run_dir, "--steps", 8]):
        result = CliRunner().invoke(main, list(map(str, args)))
        assert result.exit_code == 2, result.output
        assert "corrupt" in result.output and str(path) in result.output and "Traceback" not in result.output


def test_a_kill_while_writing_a_checkpoint_keeps_the_previous_one(data_root, tmp_path, monkeypatch):
    import ganzoo.checkpoint as checkpoint

    args = ["run", "gan", "--steps", "30", "--data-root", str(data_root), *TINY, "--set", "train.checkpoint_every=10"]
    real_save, calls = checkpoint.save_file, []

    def dies_on_the_second_checkpoint(tensors, filename, metadata=None):
        calls.append(filename)
        real_save(tensors, filename, metadata=metadata)
        if len(calls) == 2:  # leave a half-written temp file, as a kill in mid-write would
            Path(filename).write_bytes(Path(filename).read_bytes()[:1000])
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save_file", dies_on_the_second_checkpoint)
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(main, [*args, "--out", str(run_dir)])
    assert result.exit_code == 130 and "Aborted" in result.output
    temporary = run_dir / "checkpoints" / "last.safetensors.tmp"
    assert not temporary.exists()  # an interrupted write cleans up after itself
    temporary.write_bytes(b"\0" * 1000)  # a SIGKILL cannot: its half-written file must not matter
    monkeypatch.setattr(checkpoint, "save_file", real_save)

    result = CliRunner().invoke(main, ["run", "--resume", str(run_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "resuming gan at step 10" in result.output
    straight = tmp_path / "straight"
    assert CliRunner().invoke(main, [*args, "--out", str(straight)]).exit_code == 0
    assert_same_training_state(weights(run_dir), weights(straight))


class NaNAfter(LossStrategy):
    """GAN loss that turns NaN after 7 steps (to test the divergence guard)."""

    calls = 0

    def discriminator_loss(self, discriminator, batch):
        type(self).calls += 1
        loss = self.adversarial_d_loss(discriminator(batch.real), discriminator(batch.fake)).loss
        return StepLosses(loss * float("nan") if self.calls > 7 else loss)

    def generator_loss(self, discriminator, batch):
        return StepLosses(self.adversarial_g_loss(discriminator(batch.fake)))


class NaNPlugin:
    @hookimpl
    def ganzoo_losses(self):
        return {"nan-after": NaNAfter}

    @hookimpl
    def ganzoo_variants(self):
        return [Variant("nan-after", "Diverges on purpose.", loss="nan-after")]


def test_divergence_stops_and_keeps_the_last_good_checkpoint(data_root, tmp_path):
    registries = collect(*make_plugin_manager(extra_plugins=[NaNPlugin()]))
    overrides = [
        (["train", k], v) for k, v in {"steps": 20, "log_every": 5, "checkpoint_every": 5, "batch_size": 16}.items()
    ]
    recipe, _ = resolve_recipe(registries, "nan-after", "mnist", None, [*overrides, (["data", "root"], str(data_root))])
    with pytest.raises(GanzooError, match="diverged at step 10"):
        train(recipe, tmp_path / "run", registries, show_progress=False)
    saved = load_file(str(tmp_path / "run" / "checkpoints" / "last.safetensors"))
    assert all(torch.isfinite(v).all() for k, v in saved.items() if k.startswith(("G.", "D.")))
    assert '"kind": "diverged", "step": 10' in (tmp_path / "run" / "metrics.jsonl").read_text()


def write_recipe(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_INPUTS = [
    (["run", "acgna"], "Did you mean 'acgan'?"),
    (["run"], "name a variant"),
    (["run", "gan", "--dataset", "mnits"], "unknown dataset 'mnits'"),
    (["run", "gan", "--batch-size", "-4"], "train.batch_size must be greater than 0"),
    (["run", "gan", "--batch-size", "0"], "train.batch_size must be greater than 0"),
    (["run", "gan", "--steps", "5", "--epochs", "1"], "either --epochs or --steps"),
    (["run", "gan", "--steps", "-3"], "train.steps must be 0 or more"),
    (["run", "gan", "--epochs", "0"], "budget is zero"),
    (["run", "gan", "--set", "train.lr_generator=-1"], "train.lr_generator must be greater than 0"),
    (["run", "gan", "--set", "train.lr_discriminator=0"], "train.lr_discriminator must be greater than 0"),
    (["run", "gan", "--set", "model.generator=mpl"], "Did you mean 'mlp'?"),
    (["run", "gan", "--set", "model.discriminator=dcgn"], "Did you mean 'dcgan'?"),
    (["run", "gan", "--set", "train.batsh_size=3"], "Did you mean 'batch_size'?"),
    (["run", "cgan", "--set", "loss.matching_awre=true"], "Did you mean 'matching_aware'?"),
    (["run", "gan", "--set", "train.batch_size=big"], "train.batch_size must be int"),
    (["run", "gan", "--set", "train.seed=1.5"], "train.seed must be int"),
    (["run", "gan", "--set", "nonsense"], "--set expects KEY=VALUE"),
    (["run", "gan", "--set", "train=3"], "train must be a table"),
    (["run", "cgan", "--set", "model.conditioning=label"], "model.conditioning must be one of"),
    (["run", "gan", "--set", "train.precision=fp8"], "train.precision must be one of"),
    (
        ["run", "sgan", "--set", "loss.generator_loss=wgan", "--data-root", "{data}"],
        "loss.generator_loss must be one of",
    ),
    (["run", "gan", "--device", "tpu"], "unknown device 'tpu'"),
    (["run", "gan", "--data-root", "{tmp}/nowhere", "--set", "data.download=false"], "MNIST/raw"),
    (["run", "gan", "--data-root", "{truncated}"], "complete IDX files"),
    (["run", "gan", "--recipe", "{tmp}/syntax.toml"], "line 3"),
    (["run", "gan", "--recipe", "{tmp}/unknown-key.toml"], "Did you mean 'train'?"),
    (["run", "gan", "--recipe", "{tmp}/other-variant.toml"], "is for variant 'cgan'"),
    (["run", "gan", "--recipe", "{tmp}/missing.toml"], "cannot read recipe"),
    (["run", "acgan", "--set", "data.image_size=30", "--steps", "1", "--data-root", "{data}"], "multiple of 4"),
    (["run", "gan", "--data-root", "{data}", "--out", "{tmp}/a-file/run"], "cannot write to run directory"),
    (["run", "gan", "--data-root", "{data}", "--batch-size", "100000"], "larger than the dataset"),
    (["run", "gan", "--data-root", "{data}", "--out", "{run}"], "already holds a run"),
    (["run", "acgan", "--resume", "{run}"], "is a 'gan' checkpoint"),
    (["run", "--resume", "{run}", "--batch-size", "8"], "cannot change when resuming"),
    (["run", "--resume", "{run}"], "already trained 4 steps"),
    (["run", "--resume", "{tmp}"], "no checkpoint"),
    (["sample", "{tmp}/none", "--out", "x.png"], "no checkpoint"),
    (["sample", "{run}", "--out", "x.jpg"], "must end in .png or .npz"),
    (["sample", "{run}", "--n", "0", "--out", "x.png"], "--n must be greater than 0"),
    (["sample", "{run}", "--label", "3", "--out", "x.png"], "is unconditional"),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory, small_run, data_root) -> dict[str, str]:
    """Files the bad inputs point at: broken recipes, a file where a folder should be, truncated MNIST."""
    tmp = tmp_path_factory.mktemp("bad")
    write_recipe(tmp, "syntax.toml", 'variant = "gan"\n[train]\nbatch_size = = 3\n')
    write_recipe(tmp, "unknown-key.toml", 'variant = "gan"\n[trian]\nbatch_size = 3\n')
    write_recipe(tmp, "other-variant.toml", 'variant = "cgan"\n')
    (tmp / "a-file").write_text("")
    truncated = tmp / "truncated" / "MNIST" / "raw"
    truncated.mkdir(parents=True)
    for source in (Path(data_root) / "MNIST" / "raw").iterdir():
        (truncated / source.name).write_bytes(source.read_bytes()[: 100_000 if "images" in source.name else None])
    return {"{tmp}": str(tmp), "{data}": str(data_root), "{run}": str(small_run), "{truncated}": str(tmp / "truncated")}


@pytest.mark.parametrize("args, message", BAD_INPUTS, ids=[" ".join(a)[:60] for a, _ in BAD_INPUTS])
def test_bad_input_exits_2_with_one_clear_paragraph(args, message, places, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    filled = [next((arg.replace(k, v) for k, v in places.items() if k in arg), arg) for arg in args]
    result = CliRunner().invoke(main, filled)
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert result.output.split("Error: ", 1)[1].count("\n") == 1  # one paragraph


def test_cuda_without_a_gpu_is_a_clear_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = CliRunner().invoke(main, ["run", "gan", "--device", "cuda"])
    assert result.exit_code == 2 and "no CUDA GPU" in result.output


def test_out_of_memory_suggests_a_smaller_batch(data_root, tmp_path, monkeypatch):
    import ganzoo.schedule as training

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(training, "to_unit_range", out_of_memory)
    result = CliRunner().invoke(
        main, ["run", "gan", "--steps", "2", "--data-root", str(data_root), "--out", str(tmp_path / "r"), *TINY]
    )
    assert result.exit_code == 2 and "out of memory" in result.output and "--batch-size 16" in result.output


def make_fake_distribution(root: Path) -> None:
    """An installed-looking package with two bad plugins: one raises on import, one reuses the name 'mlp'."""
    (root / "broken_plugin.py").write_text("raise RuntimeError('this plugin is broken on purpose')\n")
    (root / "clashing_plugin.py").write_text(
        "from ganzoo import hookimpl\n\n@hookimpl\ndef ganzoo_generators():\n    return {'mlp': object}\n"
    )
    info = root / "fake_ganzoo_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-ganzoo-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ganzoo]\nbroken = broken_plugin\nclashing = clashing_plugin\n")


def test_broken_and_clashing_plugins_are_reported_and_the_rest_works(tmp_path):
    make_fake_distribution(tmp_path)
    env = {"PYTHONPATH": str(tmp_path)}
    listing = fresh_ganzoo_process("list", env_extra=env)
    out, err = listing.communicate(timeout=120)
    assert listing.returncode == 0, err
    assert all(name in out for name in ("gan", "cgan", "sgan", "acgan", "mogan"))
    assert "broken" in err and "clashing" in err

    plugins = fresh_ganzoo_process("plugins", env_extra=env)
    out, err = plugins.communicate(timeout=120)
    assert plugins.returncode == 0, err
    assert re.search(r"broken .*FAILED.*this plugin is broken on purpose", out)
    assert re.search(
        r"clashing .*FAILED.*generator 'mlp' is already registered by plugin 'ganzoo.builtin.architectures'", out
    )
    assert re.search(r"acgan .*loss acgan, variant acgan", out)

    disabled = fresh_ganzoo_process("plugins", env_extra={**env, "GANZOO_DISABLE_PLUGIN_AUTOLOAD": "1"})
    out, err = disabled.communicate(timeout=120)
    assert disabled.returncode == 0 and "broken" not in out and "clashing" not in out and "acgan" in out


def test_no_code_from_data():
    """Weights only through safetensors; nothing unpickled; recipe values never evaluated."""
    sources = [p for folder in ("ganzoo", "plugins") for p in (REPO / folder).rglob("*.py")]
    pattern = re.compile(r"torch\.load\(|import pickle|pickle\.|(?<![.\w])eval\(|(?<![.\w])exec\(|yaml\.load\(")
    offenders = [
        f"{p.relative_to(REPO)}:{n}"
        for p in sources
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
