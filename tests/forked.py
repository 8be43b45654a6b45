"""``ganzoo`` commands in processes of their own, forked from a server that imported torch once.

Tests that kill, signal or race ganzoo need real processes, and a fresh ``python -m ganzoo`` spends 3-6 s of a
2-core machine importing torch (and torch._dynamo, which the optimizers load on first use) before it does
anything: the test of twenty kills started 45 of them. Here each command is a child of a multiprocessing
forkserver that has those modules imported, so it starts in a fraction of a second and is otherwise the same
process: its own PID, signals and exit code, stdout and stderr captured, the caller's environment and folder.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

import ganzoo.cli

# What the server imports once, so that each command, a fork of it, need not: torch._dynamo is what the optimizers'
# first step imports. (Modules, not this file: Python 3.11's server ignores the caller's sys.path.)
PRELOAD = ["torch", "torch._dynamo", "ganzoo.api", "ganzoo.cli", "ganzoo.comparison", "ganzoo.loop"]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)


def _run(args: list[str], environ: dict[str, str], cwd: str, out: str, err: str, threads: int) -> None:
    """The child: the caller's environment, folder and CPU threads, output to files, then ganzoo's command line."""
    torch.set_num_threads(threads)  # under pytest -n, the worker's share of the cores, not all of them
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    ganzoo.cli.main(args, prog_name="ganzoo")


class GanzooProcess:
    """What the tests use of ``subprocess.Popen``: pid, poll, send_signal, kill, wait, communicate, returncode."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self._folder = tempfile.TemporaryDirectory(prefix="ganzoo-process-")
        self._out, self._err = Path(self._folder.name) / "stdout", Path(self._folder.name) / "stderr"
        self._process = _CONTEXT.Process(
            target=_run, args=(args, env, os.getcwd(), str(self._out), str(self._err), torch.get_num_threads())
        )
        self._process.start()
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(["ganzoo"], timeout)
        return self._process.exitcode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.wait(timeout)
        out, err = (path.read_text(encoding="utf-8") if path.exists() else "" for path in (self._out, self._err))
        self._folder.cleanup()
        return out, err


def ganzoo_process(*args, env: dict[str, str] | None = None) -> GanzooProcess:
    """``ganzoo ARGS...`` in a process of its own, with ``env`` added to the current environment."""
    return GanzooProcess([str(a) for a in args], {**os.environ, **(env or {})})
