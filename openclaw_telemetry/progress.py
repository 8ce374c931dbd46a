"""Progress for long runs: a tqdm bar on a terminal, plain lines in logs, nothing with -q.

The run announces the sources and bytes it will read (`start`), then the sources it finds
while reading (`more`: an agent database's sessions, known once it is open), and advances
by exactly those bytes (`Portion`): the bar ends at its total, and its count of sources
is the "Read N" of the summary.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressSink:
    """Receives progress; the CLI renders it as a bar on a terminal or plain lines."""

    def start(self, sources: int, total_bytes: int) -> None: ...
    def more(self, sources: int) -> None: ...
    def advance(self, nbytes: int) -> None: ...
    def source_done(self) -> None: ...
    def close(self) -> None: ...


class Portion:
    """One source's share of the total, `nbytes`, advanced as `units` of its work are done
    (bytes of a file, rows of a database): never more than its share, and all of it by
    `finish()` (read, unreadable or grown meanwhile alike)."""

    def __init__(self, sink: ProgressSink, nbytes: int, units: int) -> None:
        self.sink, self.nbytes, self.units = sink, nbytes, units
        self.done = self.shown = 0

    def __call__(self, units: int) -> None:
        self.done += units
        self._show(min(self.nbytes, self.nbytes * self.done // max(self.units, 1)))

    def finish(self) -> None:
        self._show(self.nbytes)

    def _show(self, reached: int) -> None:
        if reached > self.shown:
            self.sink.advance(reached - self.shown)
            self.shown = reached


class BarProgress(ProgressSink):
    """files, bytes and rate on an interactive terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: object | None = None
        self.sources = 0

    def start(self, sources: int, total_bytes: int) -> None:
        from tqdm import tqdm

        self.sources = sources
        self.bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                        desc=self._desc(), file=self.stream, leave=False, dynamic_ncols=True)

    def more(self, sources: int) -> None:
        self.sources += sources
        if self.bar is not None:
            self.bar.set_description(self._desc())  # type: ignore[attr-defined]

    def _desc(self) -> str:
        return f"Reading {self.sources} sources"

    def advance(self, nbytes: int) -> None:
        if self.bar is not None:
            self.bar.update(nbytes)  # type: ignore[attr-defined]

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()  # type: ignore[attr-defined]


class LineProgress(ProgressSink):
    """A line every 10 seconds at most, for cron logs and pipes."""

    def __init__(self, stream: TextIO, every: float = 10.0) -> None:
        self.stream, self.every = stream, every
        self.files = self.done = 0
        self.total = self.bytes = 0
        self.last = time.monotonic()

    def start(self, sources: int, total_bytes: int) -> None:
        self.files, self.total = sources, total_bytes

    def more(self, sources: int) -> None:
        self.files += sources

    def advance(self, nbytes: int) -> None:
        self.bytes += nbytes

    def source_done(self) -> None:
        self.done += 1
        if time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            print(f"  read {self.done}/{self.files} sources, {self.bytes / 1e6:.1f} MB",
                  file=self.stream, flush=True)


def for_stream(stream: TextIO = sys.stderr, quiet: bool = False) -> ProgressSink:
    if quiet:
        return ProgressSink()
    return BarProgress(stream) if stream.isatty() else LineProgress(stream)
