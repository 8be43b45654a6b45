"""Stopping on request: the first SIGINT/SIGTERM asks the work to stop at a safe point; a second Ctrl-C aborts."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from ganzoo.errors import GanzooError


class Interrupted(GanzooError):
    """Work stopped on SIGINT/SIGTERM after saving what it had. ``exit_code`` is 128 + the signal number."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class StopOnSignal:
    """First SIGINT/SIGTERM: set ``received``, so that the work stops at its next safe point. A second Ctrl-C
    aborts at once (KeyboardInterrupt); a repeated SIGTERM does not, since wrappers (make, timeout,
    schedulers) often pass one on twice."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, announce: str | None = None) -> None:
        """``announce``: printed to stderr when the first signal arrives (what happens next), so a stop the
        user asked for is acknowledged at once and not only when the step and the checkpoint are done."""
        self.announce = announce
        self.received: int | None = None
        self._previous: dict[int, Any] = {}
        self._outer: StopOnSignal | None = None

    def _handle(self, signum, frame) -> None:
        if self.received is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.received = signum
        if self._outer is not None and self._outer.received is None:
            self._outer.received = signum
        if self.announce:
            sys.stderr.write(f"\n{signal.Signals(signum).name} received: {self.announce}\n")
            sys.stderr.flush()

    @property
    def exit_code(self) -> int:
        return 128 + (self.received or signal.SIGTERM)

    @property
    def name(self) -> str:
        return signal.Signals(self.received or signal.SIGTERM).name

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
            # Nested inside another (a compare's run): a stop the outer one received before we took over counts
            # here too, and one received here reaches it.
            outer = getattr(self._previous[signal.SIGTERM], "__self__", None)
            if isinstance(outer, StopOnSignal):
                self._outer = outer
                self.received = self.received or outer.received
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
