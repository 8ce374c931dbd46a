"""Progress for long runs: a tqdm bar on a terminal, plain lines in logs, nothing with -q."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from openclaw_telemetry.ingest.run import ProgressSink


class BarProgress(ProgressSink):
    """files, bytes and rate on an interactive terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: object | None = None

    def start(self, files: int, total_bytes: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                        desc=f"Reading {files} sources", file=self.stream, leave=False,
                        dynamic_ncols=True)

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

    def start(self, files: int, total_bytes: int) -> None:
        self.files, self.total = files, total_bytes

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
