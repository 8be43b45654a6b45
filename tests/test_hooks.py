"""The hooks that take something to extend: a plugin adds a command to the CLI and a logging sink to runs."""

import json

import click
import pytest
from click.testing import CliRunner

import ganzoo
import ganzoo.plugins
from ganzoo import LogSink, hookimpl
from ganzoo.cli import main

QUICK = ["--set", "model.generator_width=8", "--set", "model.discriminator_width=16", "--batch-size", "16", "--quiet"]


class Recorder(LogSink):
    def __init__(self, plugin):
        self.plugin = plugin

    def write(self, record):
        self.plugin.records.append(record)

    def add_image(self, tag, step, path):
        self.plugin.images.append((tag, step, path.name))

    def close(self):
        self.plugin.closed = True


class RecorderPlugin:
    """Adds ``ganzoo hello NAME`` and a sink that keeps every record and image of a run."""

    def __init__(self):
        self.records, self.images, self.closed, self.started_at = [], [], False, None

    @hookimpl
    def ganzoo_commands(self, cli):
        @cli.command("hello")
        @click.argument("name")
        def hello(name):
            """Say hello (a plugin's command)."""
            click.echo(f"hello {name}")

    @hookimpl
    def ganzoo_logging_sinks(self, recipe, run_dir, start_step):
        self.started_at = start_step
        return [Recorder(self)]


class BrokenCommandPlugin:
    @hookimpl
    def ganzoo_commands(self, cli):
        raise RuntimeError("this command plugin is broken on purpose")


@pytest.fixture
def recorder():
    plugin = RecorderPlugin()
    ganzoo.plugins.register(plugin, name="recorder")
    ganzoo.plugins.register(BrokenCommandPlugin(), name="broken-commands")
    yield plugin
    ganzoo.plugins.unregister("recorder")
    ganzoo.plugins.unregister("broken-commands")


def test_a_plugin_adds_a_command(recorder):
    result = CliRunner().invoke(main, ["hello", "world"])
    assert result.exit_code == 0 and result.output == "hello world\n", result.output
    assert "hello" not in CliRunner().invoke(main, ["--help"]).output  # --help stays fast: built-in commands only
    assert "a plugin's command" in CliRunner().invoke(main, ["hello", "--help"]).output
    rows = {row["plugin"]: row for row in json.loads(CliRunner().invoke(main, ["plugins", "--json"]).output)}
    assert "command hello" in rows["recorder"]["registered"]
    assert "broken on purpose" in rows["broken-commands"]["error"]  # reported; the other plugin's command works


def test_a_plugin_sink_sees_every_record_and_sample_grid(recorder, tmp_path):
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "run",
            "gan",
            "--dataset",
            "shapes",
            "--steps",
            "6",
            "--out",
            str(run_dir),
            "--set",
            "train.log_every=2",
            "--set",
            "train.sample_every=3",
            *QUICK,
        ],
    )
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert recorder.records == written and [r["kind"] for r in written][-1] == "end"
    assert recorder.images == [("samples", 3, "step_0000003.png"), ("samples", 6, "step_0000006.png")]
    assert recorder.closed and recorder.started_at == 0
