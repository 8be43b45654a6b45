"""Where a run's records go: metrics.jsonl (the source of truth), the console, and plugin sinks.

A record is a flat dict with ``kind`` ("train", "eval", "end", "interrupted", "diverged") and ``step``.
A ``LogSink`` receives every record and every sample grid; the ``ganzoo_logging_sinks`` hook adds more
sinks (ganzoo's own TensorBoard sink is one). The console shows a live progress bar on a terminal, and
plain log lines when stderr is not one (CI, clusters, ``| tee``) or with ``--quiet``.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from ganzoo.errors import GanzooError


def make_console(stderr: bool = True) -> Console:
    """ganzoo's console: messages are never wrapped by rich (a terminal wraps them; a log file keeps lines whole)."""
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


class LogSink:
    """Receives a run's records and sample grids. Subclass it and override what you need."""

    def write(self, record: dict[str, Any]) -> None:
        """One record, as written to metrics.jsonl."""

    def add_image(self, tag: str, step: int, path: Path) -> None:
        """A sample grid written to ``path`` (PNG) at ``step``."""

    def close(self) -> None:
        """Training stopped (finished, interrupted or failed)."""


class MetricsFile(LogSink):
    """metrics.jsonl: one JSON object per line, flushed as written so that a killed run keeps its log."""

    def __init__(self, path: Path):
        self.path = path
        self.file = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        try:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()
        except OSError as error:
            raise GanzooError(
                f"cannot write {self.path} ({error.strerror or error}). Free disk space, then resume "
                f"the run from its last checkpoint."
            ) from None

    def close(self) -> None:
        try:
            self.file.close()
        except OSError:
            pass  # a full disk: the error was reported when the write failed


def format_stats(record: dict[str, Any], skip=("kind", "step", "epoch", "images_per_sec")) -> str:
    """``d_loss=0.693 g_loss=1.2 ...``: a record's numbers, compactly."""
    return " ".join(
        f"{key}={value:.4g}"
        for key, value in record.items()
        if key not in skip and isinstance(value, (int, float)) and not isinstance(value, bool)
    )


class StatsProgress(Progress):
    """A progress bar that shows the latest numbers on their own line, so they never squeeze the bar."""

    stats = ""

    def get_renderables(self):
        yield self.make_tasks_table(self.tasks)
        if self.stats:
            yield Text(self.stats, overflow="ellipsis", no_wrap=True, style="dim")


class ConsoleLog(LogSink):
    """The console: a live bar on a terminal; otherwise (or ``live=False``) one plain line per log step."""

    def __init__(self, console: Console, title: str, total: int, start: int, live: bool):
        self.console, self.title, self.total = console, title, total
        self.live = live and console.is_terminal
        self.started, self.start_step = time.perf_counter(), start
        self.progress = StatsProgress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not self.live,
            expand=True,
        )
        self.task = self.progress.add_task(f"[bold]{escape(title)}[/]", total=total, completed=start)
        self.subtasks: dict[str, Any] = {}
        self.progress.start()

    def advance(self) -> None:
        self.progress.advance(self.task)

    def task_progress(self, what: str, done: int, total: int) -> None:
        """Work inside the run (training the evaluator, sampling for an evaluation): a bar under the training
        bar on a terminal, else one line when it starts."""
        if what not in self.subtasks:
            if not self.live:
                self.console.print(f"{escape(self.title)} {escape(what)} ({total})...", highlight=False)
            self.subtasks[what] = self.progress.add_task(escape(what), total=total)
        self.progress.update(self.subtasks[what], completed=done, total=total)
        if done >= total:
            self.progress.remove_task(self.subtasks.pop(what))

    def write(self, record: dict[str, Any]) -> None:
        kind, step = record.get("kind"), record.get("step", 0)
        if kind == "train":
            speed = f"{record['images_per_sec']:.0f} img/s" if "images_per_sec" in record else ""
            if self.live:
                self.progress.stats = f"{format_stats(record)} {speed}"
            else:
                done = step - self.start_step
                elapsed = time.perf_counter() - self.started
                eta = elapsed / done * (self.total - step) if done else math.nan
                self.console.print(
                    f"{escape(self.title)} step {step}/{self.total} ({100 * step / self.total:.0f}%) "
                    f"{format_stats(record)} {speed} eta {_duration(eta)}",
                    highlight=False,
                )
        elif kind == "eval":
            self.console.print(
                f"{escape(self.title)} evaluation at step {step}: {escape(format_stats(record))}", highlight=False
            )

    def close(self) -> None:
        self.progress.stop()


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-:--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class TensorBoardSink(LogSink):
    """Scalars of every record and the sample grids, as TensorBoard event files (``tensorboard --logdir RUN_DIR``)."""

    def __init__(self, directory: Path, start_step: int = 0):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise GanzooError(
                "train.tensorboard needs the tensorboard package: pip install 'ganzoo[tensorboard]' "
                "(or set train.tensorboard = false)."
            ) from None
        # purge_step drops events a killed run wrote after its last checkpoint, which the resumed run writes again.
        self.writer = SummaryWriter(str(directory), purge_step=start_step or None)

    def write(self, record: dict[str, Any]) -> None:
        kind, step = record.get("kind"), record.get("step", 0)
        for key, value in record.items():
            if key not in ("step", "epoch") and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(f"{kind}/{key}", value, step)

    def add_image(self, tag: str, step: int, path: Path) -> None:
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
        self.writer.add_image(tag, pixels, step, dataformats="HWC")

    def close(self) -> None:
        self.writer.close()
