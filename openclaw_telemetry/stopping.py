"""Stopping on SIGTERM or Ctrl-C (SIGINT): one line, exit code 143 or 130, never a traceback.

The handlers only note the signal. The ingest calls `check()` where stopping is clean —
between chunks of a file, rows of a database, sources, and while it waits — and `Stopped`
is raised there, never inside SQLAlchemy's or SQLite's own work (a stop raised in the
middle of closing a connection printed "Exception closing connection"). `Stopped` is a
BaseException, like KeyboardInterrupt: no `except Exception` can take a stop for bad
input, and whatever was being read is read again by the next run (contract E2). After
the first signal a second one ends the process at once (a kill leaves the database
consistent too), unless it follows within `_SAME_STOP`: a supervisor that signals the
process group and then its children at once stops it once. (`start.sh` leaves its
children 10 s after a Ctrl-C to stop on it; its SIGTERM after that is a second stop.)

Only stdlib imports: `session_parser.py` installs the handlers before its heavy imports.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)
_SLICE = 0.1  # longest wait before a noted stop is acted on
_SAME_STOP = 1.0  # s: a second signal this soon after the first is the same stop
_noted = 0  # the signal received, 0 while none
_noted_at = 0.0  # when (time.monotonic)


class Stopped(BaseException):
    """A stop signal was received; raised where stopping is clean. `idle`: between runs
    (a watcher waiting for changes), where nothing was interrupted."""

    def __init__(self, signum: int, *, idle: bool = False) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.idle = idle

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # 143 for SIGTERM, 130 for SIGINT, as a shell reports


def _note(signum: int, _frame: FrameType | None) -> None:
    global _noted, _noted_at
    if not _noted:
        _noted, _noted_at = signum, time.monotonic()
    elif time.monotonic() - _noted_at > _SAME_STOP:  # a second stop is not waited for
        # (ended by the signal itself, as its default does; the handlers stay installed
        # until then: resetting them here, with another signal pending for its Python
        # handler, made CPython raise "Signal 15 ignored due to race condition")
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def install() -> None:
    """Note stop signals from now on (main thread only)."""
    for sig in SIGNALS:
        signal.signal(sig, _note)


@contextmanager
def noting() -> Iterator[None]:
    """Stop signals are noted inside the block (one noted before it is kept); the previous
    handlers are back after it. Outside the main thread, nothing changes."""
    global _noted
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    if not _noted:
        install()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _noted = 0


def check() -> None:
    """Raise Stopped if a stop signal was noted."""
    if _noted:
        raise Stopped(_noted)


def sleep(seconds: float) -> None:
    """time.sleep that a stop signal cuts short (raises Stopped)."""
    wait(None, seconds)


def wait(event: threading.Event | None, seconds: float) -> bool:
    """Wait up to `seconds` for `event` (or sleep, without one); True when it was set.
    Raises Stopped within a tenth of a second of a stop signal."""
    deadline = time.monotonic() + seconds
    while True:
        check()
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if event is None:
            time.sleep(min(left, _SLICE))
        elif event.wait(min(left, _SLICE)):
            return True
