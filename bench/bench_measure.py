"""Measuring helpers for the benchmark: run a command (wall time, exit code, peak RSS,
optional timeout), the in-process read floor, medians, warming the page cache.

Peak RSS comes from `os.wait4` on the child alone (`ru_maxrss`), so each run is measured
by itself rather than as a running maximum over all children. Linux counts the memory a
child had when it was forked from this process, so nothing big is ever held here: the
write floor runs in a process of its own (`write_floor.py`). The peak of the child and
everything it started together (the parser's parsing processes) is the largest sum of
their RSS, sampled every 50 ms: an upper bound of what they held at once, since pages they
share (libraries) count once per process.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import zstandard
from corpus_files import agent_databases, transcript_files
from verify_corpus import file_lines

REPO = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class Run:
    """One finished command: wall seconds, exit code, peak RSS, output."""

    wall: float
    code: int
    peak_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False
    tree_peak_mb: float = 0.0  # the child and its descendants together (sampled)

    @property
    def error(self) -> str | None:
        if self.timed_out:
            return f"timed out after {self.wall:.0f} s"
        if self.code == 0:
            return None
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return f"exit {self.code}: {lines[-1][:160] if lines else 'no message'}"

    @property
    def elapsed(self) -> float | None:
        """The parser's own `elapsed_seconds` from its --json output, if any."""
        document = json_from(self.stdout)
        value = _find_key(document, "elapsed_seconds") if document is not None else None
        return float(value) if isinstance(value, int | float) else None



def log(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def session_rss_mb(session: int) -> float:
    """RSS of every process of a session (Linux `/proc`), summed, in MB."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
            # fields after the command's closing parenthesis: state ppid pgrp session ...
            if int(stat[stat.rindex(b")") + 2:].split()[3]) == session:
                total += int(Path(entry.path, "statm").read_bytes().split()[1]) * _PAGE_MB
        except (OSError, ValueError, IndexError):
            continue  # the process ended in between
    return total


class _TreeSampler(threading.Thread):
    """Largest summed RSS of a session's processes, sampled every `every` seconds."""

    def __init__(self, session: int, every: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.session, self.every, self.peak = session, every, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            self.peak = max(self.peak, session_rss_mb(self.session))


def run_command(cmd: list[str], *, env: dict[str, str] | None = None,
                timeout: float | None = None, tree: bool = False) -> Run:
    """Run to completion (killed after `timeout` s); peak RSS of this child alone via
    wait4 (ru_maxrss, KiB) and, with `tree`, of it and its descendants together."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err,
                                start_new_session=True)
        sampler = _TreeSampler(proc.pid) if tree else None
        if sampler is not None:
            sampler.start()
        # the whole group: ccusage's launcher runs a native binary that would outlive it
        killer = (threading.Timer(timeout, os.killpg, (proc.pid, signal.SIGKILL))
                  if timeout else None)
        if killer is not None:
            killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if killer is not None:
            killer.cancel()
        if sampler is not None:
            sampler.done.set()
            sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, proc.returncode, usage.ru_maxrss / 1024,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                   timed_out=timeout is not None and wall >= timeout,
                   tree_peak_mb=max(sampler.peak if sampler else 0.0, usage.ru_maxrss / 1024))


def json_from(text: str) -> Any:
    """The JSON document in a command's output: all of it, or its last parseable line."""
    for candidate in (text, *reversed(text.strip().splitlines())):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None


def _find_key(document: Any, key: str) -> Any:
    if isinstance(document, dict):
        if key in document:
            return document[key]
        for value in document.values():
            found = _find_key(value, key)
            if found is not None:
                return found
    return None


def read_floor(root: Path) -> int:
    """Read and orjson-parse every line of every counted transcript and every
    `transcript_events` row (zstd rows decompressed); nothing else. Returns lines parsed."""
    loads = orjson.loads
    parsed = 0
    for path in transcript_files(root):
        for line in file_lines(path):
            if len(line) > 1:
                with contextlib.suppress(orjson.JSONDecodeError):
                    loads(line)
                parsed += 1
    decompress = zstandard.ZstdDecompressor().decompress
    for db in agent_databases(root):
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        for text, blob in conn.execute("SELECT event_json, event_zstd FROM transcript_events"):
            loads(text if text is not None else decompress(blob))
            parsed += 1
        conn.close()
    return parsed


def timed(function: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def warm(root: Path) -> None:
    """Read every file once so that all scenarios see the same warm page cache."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as file:
                while file.read(1 << 24):
                    pass


def db_totals(db: Path) -> dict[str, Any] | None:
    """Calls, the four token sums and the cost stored in an ingested SQLite database."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        row = conn.execute("SELECT count(*), sum(input_tokens), sum(output_tokens), "
                           "sum(cache_read_tokens), sum(cache_write_tokens), sum(cost) "
                           "FROM messages").fetchone()
        conn.close()
    except sqlite3.Error as exc:
        return {"error": str(exc)}
    keys = ("llm_calls", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_write_tokens", "cost")
    return {key: value or 0 for key, value in zip(keys, row, strict=True)}
