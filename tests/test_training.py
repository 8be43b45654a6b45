"""Training options of the loop: the best checkpoint (train.keep_best) and critic steps (train.d_steps)."""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch
from click.testing import CliRunner
from safetensors import safe_open
from safetensors.torch import load_file

import ganzoo.plugins
from ganzoo import Component, LogSink, hookimpl
from ganzoo.cli import main

TOY = ["--dataset", "ring8", "--set", "model.generator_width=8", "--set", "model.discriminator_width=16", "--quiet"]


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


class Scripted:
    """A metric (higher is better) whose values come from a script: the best evaluation is known in advance."""

    def __init__(self, values):
        self.values = list(values)

    @hookimpl
    def ganzoo_metrics(self):
        def scripted(evaluated):
            """Returns the next scripted value."""
            return self.values.pop(0)

        return {"scripted": Component(scripted, higher_is_better=True)}


def step_of(path):
    with safe_open(str(path), framework="pt") as handle:
        return json.loads(handle.metadata()["step"])


def test_best_checkpoint_holds_the_best_evaluation_not_the_last(tmp_path):
    ganzoo.plugins.register(Scripted([0.5, 0.9, 0.3, 0.2]), name="scripted")  # evaluations at steps 2, 4, 6, 8
    try:
        cli(
            "run",
            "gan",
            *TOY,
            "--steps",
            8,
            "--out",
            tmp_path / "run",
            "--set",
            "train.eval_every=2",
            "--set",
            'train.keep_best="scripted"',
            "--set",
            "train.eval_metrics=[]",
        )
    finally:
        ganzoo.plugins.unregister("scripted")
    checkpoints = tmp_path / "run" / "checkpoints"
    assert step_of(checkpoints / "best.safetensors") == 4 and step_of(checkpoints / "last.safetensors") == 8
    best_records = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines() if '"best"' in line
    ]
    assert [(r["step"], r["scripted"]) for r in best_records] == [(2, 0.5), (4, 0.9)]

    cli("run", "gan", *TOY, "--steps", 4, "--out", tmp_path / "four", "--set", "train.eval_metrics=[]")
    best, four = (
        load_file(str(checkpoints / "best.safetensors")),
        load_file(str(tmp_path / "four" / "checkpoints" / "last.safetensors")),
    )
    generator = [key for key in best if key.startswith("G.")]
    assert generator and all(torch.equal(best[key], four[key]) for key in generator)  # the weights of step 4

    cli("sample", tmp_path / "run", "--checkpoint", "best", "--n", 5, "--out", tmp_path / "best.npz")
    result = CliRunner().invoke(
        main, ["sample", str(tmp_path / "four"), "--checkpoint", "best", "--out", str(tmp_path / "x.png")]
    )
    assert result.exit_code == 2 and "keep_best" in result.output


def test_keep_best_needs_a_metric_with_a_direction():
    result = CliRunner().invoke(main, ["run", "gan", *TOY, "--steps", 2, "--set", 'train.keep_best="fdi"'])
    assert result.exit_code == 2 and "Did you mean 'fid'?" in result.output


def test_d_steps_updates_d_that_many_times_per_g_update_and_resumes_bit_exactly(tmp_path):
    settings = ["--set", "train.d_steps=5", "--set", "train.checkpoint_every=3", "--set", "train.eval_metrics=[]"]
    cli("run", "gan", *TOY, "--steps", 3, "--out", tmp_path / "run", *settings, "--set", "loss.adversarial=wgan-gp")
    state = load_file(str(tmp_path / "run" / "checkpoints" / "last.safetensors"))
    assert state["optim.D.0.step"].item() == 15 and state["optim.G.0.step"].item() == 3

    cli("run", "--resume", tmp_path / "run", "--steps", 6, "--quiet")
    cli(
        "run", "gan", *TOY, "--steps", 6, "--out", tmp_path / "straight", *settings, "--set", "loss.adversarial=wgan-gp"
    )
    resumed, straight = (
        load_file(str(tmp_path / name / "checkpoints" / "last.safetensors")) for name in ("run", "straight")
    )
    keys = [key for key in resumed if key.split(".")[0] in ("G", "D", "optim", "data")]
    assert keys and all(torch.equal(resumed[key], straight[key]) for key in keys)
    assert resumed["optim.D.0.step"].item() == 30


def test_a_failing_torch_compile_falls_back_to_eager_with_a_warning(tmp_path, monkeypatch):
    def broken_compile(module):
        def fails(*args, **kwargs):
            raise RuntimeError("no C++ compiler found")

        return fails

    monkeypatch.setattr(torch, "compile", broken_compile)
    result = CliRunner().invoke(main, ["run", "gan", *TOY, "--steps", 3, "--compile", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "torch.compile failed" in result.output and "no C++ compiler found" in result.output


class StopAtStep(LogSink):
    """Sends this process a SIGINT when a run logs ``step``: a Ctrl-C at a known step, inside one pytest process."""

    def __init__(self, step):
        self.step = step

    def write(self, record):
        if record.get("kind") == "train" and record["step"] == self.step:
            os.kill(os.getpid(), signal.SIGINT)


class StopPlugin:
    def __init__(self, step):
        self.step = step

    @hookimpl
    def ganzoo_logging_sinks(self, recipe, run_dir, start_step):
        return [StopAtStep(self.step)] if start_step == 0 else []


def test_lr_decay_falls_linearly_to_the_last_step_and_resumes_bit_exactly(tmp_path):
    from ganzoo.schedule import Budget

    budget = Budget(total_steps=10, steps_per_epoch=5, images_per_step=32)
    factors = [budget.learning_rate_factor(step, 0.6) for step in range(1, 11)]
    assert factors == [1.0] * 6 + [1.0, 0.75, 0.5, 0.25]
    assert all(budget.learning_rate_factor(step, 1.0) == 1.0 for step in range(1, 11))

    settings = ["--steps", 8, "--set", "train.lr_decay_start=0.25", "--set", "train.log_every=1", *TOY]
    cli("run", "gan", *settings, "--out", tmp_path / "straight")
    ganzoo.plugins.register(StopPlugin(5), name="stop-at-5")
    try:
        stopped = CliRunner().invoke(main, ["run", "gan", *map(str, settings), "--out", str(tmp_path / "run")])
    finally:
        ganzoo.plugins.unregister("stop-at-5")
    assert stopped.exit_code == 130 and step_of(tmp_path / "run" / "checkpoints" / "last.safetensors") == 5
    cli("run", "--resume", tmp_path / "run", "--quiet")
    resumed, straight = (
        load_file(str(tmp_path / name / "checkpoints" / "last.safetensors")) for name in ("run", "straight")
    )
    keys = [key for key in resumed if key.split(".")[0] in ("G", "D", "optim")]
    assert keys and all(torch.equal(resumed[key], straight[key]) for key in keys)
    with safe_open(str(tmp_path / "run" / "checkpoints" / "last.safetensors"), framework="pt") as handle:
        lr = json.loads(handle.metadata()["optimizers"])["optim.G"]["param_groups"][0]["lr"]
    assert lr == pytest.approx(1e-3 / 6)  # the last of the 6 decaying steps: a sixth of ring8's 1e-3


def test_resumed_optimizer_state_keeps_the_weights_memory_layout():
    """Moments come back from safetensors contiguous; the fused Adam kernel reads a channels-last weight and its
    moments as flat memory, so they must get the weight's layout back or resume updates the wrong elements."""
    from safetensors.torch import load, save

    from ganzoo.checkpoint import load_optimizer, optimizer_state

    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.randn(8, 3, 4, 4).contiguous(memory_format=torch.channels_last))
    resumed = torch.nn.Parameter(weight.detach().clone(memory_format=torch.preserve_format))
    gradients = [torch.randn(8, 3, 4, 4) for _ in range(3)]
    straight = torch.optim.Adam([weight], lr=0.1, fused=True)
    weight.grad = gradients[0].contiguous(memory_format=torch.channels_last)
    straight.step()
    tensors, saved = optimizer_state("optim", straight)
    with torch.no_grad():
        resumed.copy_(weight)
    again = torch.optim.Adam([resumed], lr=0.1, fused=True)
    load_optimizer(again, "optim", load(save({k: v.contiguous() for k, v in tensors.items()})), saved)
    for gradient in gradients[1:]:
        for parameter, optimizer in ((weight, straight), (resumed, again)):
            parameter.grad = gradient.contiguous(memory_format=torch.channels_last)
            optimizer.step()
    assert torch.equal(weight, resumed)
