"""Live ingestion: `session_parser.py --watch`.

watchdog (inotify on Linux) reports changes under each state root's `agents/` folder —
JSONL transcripts, archives, and the agent databases with their `-wal` files (2026.8+) —
and a debounced incremental run reads them; a slow poll catches anything an observer may
miss (network file systems). Rename, delete, new agents and new files are handled by the
ingest engine itself. A locked database is retried on the next cycle. A stop signal ends
the loop (`stopping.Stopped`, raised within a tenth of a second when idle, at the next
clean point of a run, which rolls back: contract E2).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import OperationalError
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from openclaw_telemetry import stopping
from openclaw_telemetry.errors import LockedError
from openclaw_telemetry.ingest.bookkeeping import RunSummary
from openclaw_telemetry.sources.discover import StateRoot

_RELEVANT = (".jsonl", ".zst", ".sqlite", ".sqlite-wal", "sessions.json")
_MARKERS = (".jsonl.reset.", ".jsonl.deleted.", ".jsonl.bak.")


def relevant(path: str) -> bool:
    """Does a change to this file matter for ingestion? (sidecars and trajectories do not)"""
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".trajectory.jsonl") or name.endswith((".lock", ".tmp")):
        return False
    return name.endswith(_RELEVANT) or any(m in name for m in _MARKERS)


@dataclass(frozen=True, slots=True)
class WatchOptions:
    debounce: float = 0.25  # quiet time after the last event before a run starts
    poll: float = 30.0  # a run at least this often, whatever the observer reports


class _Changes(FileSystemEventHandler):
    """Set by the observer thread; waited on by the main loop."""

    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()
        self.last = 0.0

    def dispatch(self, event: FileSystemEvent) -> None:
        paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
        if event.is_directory or any(relevant(str(p)) for p in paths if p):
            self.last = time.monotonic()
            self.event.set()


def watched_folders(roots: list[StateRoot]) -> list[Path]:
    """`agents/` of each state root (new agents appear there), else the root itself."""
    return [r.path / "agents" if (r.path / "agents").is_dir() else r.path for r in roots
            if r.path.is_dir()]


def _observe(roots: list[StateRoot], changes: _Changes) -> BaseObserver:
    observer = Observer()
    for folder in watched_folders(roots):
        observer.schedule(changes, str(folder), recursive=True)
    observer.daemon = True
    observer.start()
    return observer


class Watcher:
    def __init__(self, run_once: Callable[[], RunSummary], roots: list[StateRoot],
                 report: Callable[[RunSummary], None], warn: Callable[[str], None],
                 options: WatchOptions = WatchOptions()) -> None:
        self.run_once, self.roots, self.report, self.warn = run_once, roots, report, warn
        self.options = options
        self.changes = _Changes()

    def serve(self) -> None:
        """One run at start, then one per burst of changes, until a stop signal (raises
        `stopping.Stopped`; the caller notes the signals: `stopping.noting`)."""
        changes = self.changes
        observer = _observe(self.roots, changes)
        try:
            self._cycle()
            while True:
                try:
                    stopping.wait(changes.event, self.options.poll)
                    self._settle(changes)
                except stopping.Stopped as exc:  # between runs: nothing to continue
                    raise stopping.Stopped(exc.signum, idle=True) from None
                changes.event.clear()
                self._cycle()
        finally:
            observer.stop()

    def _settle(self, changes: _Changes) -> None:
        """Wait until events have been quiet for the debounce time (at most 1 s)."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            quiet = time.monotonic() - changes.last
            if quiet >= self.options.debounce:
                return
            stopping.sleep(self.options.debounce - quiet)

    def _cycle(self) -> None:
        try:
            summary = self.run_once()
        except (LockedError, OperationalError) as exc:
            self.warn(f"database busy, retrying on the next change: {_first_line(exc)}")
            return
        self.report(summary)


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]

