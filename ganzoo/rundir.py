"""A run directory: the one place that knows its layout, reads its log, and locks it.

::

    RUN_DIR/
      recipe.toml                   the resolved recipe (re-run it with --recipe)
      metrics.jsonl                 one JSON object per line: "train", "eval", "end", ... records
      samples/step_NNNNNNN.png      fixed-noise sample grids
      checkpoints/last.safetensors  everything needed to resume, bit for bit
      checkpoints/best.safetensors  the best evaluation's (with train.keep_best)
      .lock                         held by the process that trains the run (its PID inside)
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ganzoo.errors import GanzooError

try:
    import fcntl
except ImportError:  # not on Windows: runs there are not locked
    fcntl = None  # type: ignore[assignment]

CHECKPOINTS = ("last", "best")


class RunDir:
    """One run's folder (see the module docstring for the layout)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __str__(self) -> str:
        return str(self.path)

    @property
    def recipe_path(self) -> Path:
        return self.path / "recipe.toml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def lock_path(self) -> Path:
        return self.path / ".lock"

    def sample_grid(self, step: int) -> Path:
        return self.samples_dir / f"step_{step:07d}.png"

    def sample_grids(self) -> list[Path]:
        return sorted(self.samples_dir.glob("step_*.png"))

    def checkpoint(self, which: str = "last") -> Path:
        if which not in CHECKPOINTS:
            raise GanzooError(f"--checkpoint must be one of {', '.join(CHECKPOINTS)}, got {which!r}.")
        return self.path / "checkpoints" / f"{which}.safetensors"

    def has_checkpoint(self, which: str = "last") -> bool:
        return self.checkpoint(which).is_file()

    def require_checkpoint(self, which: str = "last") -> Path:
        """The checkpoint's path, or a clear error saying what this folder is instead."""
        path = self.checkpoint(which)
        if path.is_file():
            return path
        if which == "best" and self.has_checkpoint("last"):
            raise GanzooError(
                f"{self.path} has no best checkpoint: it was trained without train.keep_best "
                f"(e.g. --set train.keep_best=fid). Use --checkpoint last."
            )
        holder = self.holder()
        if holder is not None:
            raise GanzooError(
                f"no checkpoint at {path} yet: the run in {self.path} is still training (PID {holder}) and has not "
                f"written its first checkpoint. Wait for it (every train.checkpoint_every steps), or stop it."
            )
        if self.recipe_path.is_file():
            raise GanzooError(
                f"no checkpoint at {path}: the run in {self.path} stopped before its first checkpoint. "
                f"Start it again with `ganzoo run --recipe {self.recipe_path} --out {self.path}`."
            )
        raise GanzooError(
            f"no checkpoint at {path}. Is {self.path} a ganzoo run directory (it has checkpoints/last.safetensors)?"
        )

    def recipe_differs(self, recipe: dict[str, Any]) -> bool:
        """Whether recipe.toml says something else than ``recipe`` (it was edited, or damaged)."""
        import tomllib

        if not self.recipe_path.is_file():
            return False
        try:
            return tomllib.loads(self.recipe_path.read_text(encoding="utf-8")) != recipe
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return True

    # -- the log ------------------------------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        """metrics.jsonl's records. A torn last line (a kill or a full disk in mid-write) is left out."""
        if not self.metrics_path.is_file():
            return []
        lines = self.metrics_path.read_text(encoding="utf-8").splitlines()
        records = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                if number == len(lines):
                    break
                raise GanzooError(
                    f"{self.metrics_path} line {number} is not JSON: the log is damaged. Delete that line to continue."
                ) from None
        return records

    def end_record(self) -> dict[str, Any] | None:
        """The last "end" record: the finished run's summary (images/s, final evaluation), or None."""
        ends = [record for record in self.records() if record.get("kind") == "end"]
        return ends[-1] if ends else None

    def truncate_log(self, step: int) -> None:
        """Keep the records up to ``step`` (a resumed run writes the rest again), without a torn last line."""
        kept = [record for record in self.records() if record.get("step", 0) <= step and record.get("kind") != "end"]
        write_atomically(self.metrics_path, "".join(json.dumps(record) + "\n" for record in kept).encode())

    # -- setting up and locking ------------------------------------------------------------------------------

    def prepare(self, resume: bool) -> None:
        """Create the folders (a clear error when they cannot be written). A fresh run may reuse a folder whose
        run left no checkpoint (it failed or was killed before one): its leftovers are cleared."""
        self.make(self.samples_dir, self.checkpoint().parent)
        if resume:
            return
        if self.has_checkpoint():
            raise GanzooError(
                f"{self.path} already holds a run (it has {self.checkpoint()}). Resume it with "
                f"`ganzoo run --resume {self.path}`, or pass another --out DIR."
            )
        for leftover in (self.metrics_path, self.recipe_path, *self.sample_grids()):
            leftover.unlink(missing_ok=True)

    def make(self, *folders: Path) -> None:
        """Create the run directory (and ``folders`` in it), checking that it can be written: a clear error if not."""
        try:
            for folder in (self.path, *folders):
                folder.mkdir(parents=True, exist_ok=True)
            probe = self.path / f".write-test-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as error:
            raise GanzooError(
                f"cannot write to run directory {self.path} ({error.strerror or error}). "
                f"Pass --out DIR with a writable folder."
            ) from None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the run's lock: a second process training the same folder fails at once, naming the holder."""
        if fcntl is None:
            self.make()
            yield
            return
        handle = self._acquire_lock()
        with handle:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                handle.truncate(0)
                self.remove_if_unused()  # while still holding the lock: no other process can be starting in it
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _acquire_lock(self):
        """The lock file, open and locked. A process that removed an unused folder (``remove_if_unused``) may have
        unlinked the file this one opened just before: then the lock is on a file nobody else sees, so try again."""
        while True:
            self.make()
            handle = open(self.lock_path, "a+", encoding="utf-8")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                handle.close()
                raise GanzooError(
                    f"{self.path} is in use by another ganzoo process (PID {holder}). Wait for it to "
                    f"finish or stop it, or pass another --out DIR."
                ) from None
            try:
                if os.stat(self.lock_path).st_ino == os.fstat(handle.fileno()).st_ino:
                    return handle
            except FileNotFoundError:
                pass
            handle.close()

    def holder(self) -> str | None:
        """The PID of the process that holds the run's lock now (it is training), else None."""
        if fcntl is None or not self.lock_path.is_file():
            return None
        with open(self.lock_path, encoding="utf-8") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return handle.read().strip() or "unknown"
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return None

    def remove_if_unused(self) -> None:
        """Remove the folder if a run that failed at start-up left nothing in it but its lock and empty folders, so
        a mistyped option does not leave run directories behind. Anything else in it (a recipe, a log) is kept."""
        leftovers = [self.lock_path, self.samples_dir, self.checkpoint().parent]
        try:
            if any(entry not in leftovers for entry in self.path.iterdir()):
                return
            if any(folder.is_dir() and any(folder.iterdir()) for folder in leftovers[1:]):
                return
            self.lock_path.unlink(missing_ok=True)
            for folder in (*leftovers[1:], self.path):
                if folder.is_dir():
                    folder.rmdir()
        except OSError:  # it cannot be listed or emptied: leave it
            pass


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that it is never seen half-written: a temporary file beside it, fsync, rename.

    The temporary file's name is unique to this process, so two writers never collide on it, and the file
    gets the permissions the user's umask gives new files (not the 0600 of temporary files).
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
