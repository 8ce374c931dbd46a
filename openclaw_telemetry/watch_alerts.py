"""`session_parser.py --alerts FILE`: evaluate and deliver after the ingest runs.

A single run (the hourly timer or cron line) evaluates once after it. With `--watch`, after
each run that changed the data the rules file is evaluated and what is due is delivered
(`dispatch.check`), so a budget crossing reaches the user seconds after the call that
crossed it. Runs that changed nothing evaluate too while a delivery is failing (its
retry) and every `RECHECK` (alerts resolve and critical ones repeat with the passing of
time). Nothing here stops the watcher: a busy database or a failed delivery is a warning.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry import rulesfile
from openclaw_telemetry.config import local_zone_name
from openclaw_telemetry.dispatch import check
from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.ingest.bookkeeping import RunSummary
from openclaw_telemetry.timeframe import zone

RECHECK = 300.0  # seconds


def _stamp(path: str) -> tuple[int, int] | None:
    """What tells a changed rules file: its size and modification time (None: unreadable)."""
    try:
        stat = os.stat(os.path.expanduser(path))
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class AlertWatch:
    """Called with each run's summary; loads (and validates) the rules file at once, and
    again when it changes."""

    def __init__(self, engine: Engine, path: str, env: Mapping[str, str],
                 say: Callable[[str], None], *, quiet: bool = False) -> None:
        self.engine, self.say, self.quiet = engine, say, quiet  # quiet: failures only
        self.path, self.env = path, env
        self.stamp = _stamp(path)
        self.config = rulesfile.load(path, env)
        self.tz = zone(local_zone_name(env))
        self.retry = False
        self.last = float("-inf")

    def _reread(self) -> bool:
        """Whether the rules file changed and was read again (see the module's docstring)."""
        stamp = _stamp(self.path)
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        try:
            self.config = rulesfile.load(self.path, self.env)
        except ConfigError as exc:
            mistakes = exc.lines
            mistakes[-1] += "; the rules read before stay in force until the file is fixed"
            for line in mistakes:
                self.say(f"warning: {line}")
            return False
        if not self.quiet:
            self.say(f"{time.strftime('%H:%M:%S')} rules file changed, read again: "
                     f"alert rules {len(self.config.rules)}, budgets {len(self.config.budgets)}")
        return True

    def __call__(self, summary: RunSummary) -> None:
        changed = (self._reread()
                   or bool(summary.totals.new_calls or summary.sessions_updated))
        if not (changed or self.retry or time.monotonic() - self.last >= RECHECK):
            return
        self.last = time.monotonic()
        try:
            checked = check(self.engine, self.config, now=datetime.now(UTC), tz=self.tz,
                            notify=bool(self.config.notify))
        except SQLAlchemyError as exc:
            self.retry = True
            self.say(f"warning: alerts not evaluated (database busy), retrying: "
                     f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0]}")
            return
        self.retry = any(o.error is not None for o in checked.outcomes)
        for outcome in checked.outcomes:
            if outcome.error is None and self.quiet:
                continue
            result = ("sent" if outcome.error is None
                      else f"FAILED ({outcome.error}); retried on the next run")
            self.say(f"{time.strftime('%H:%M:%S')} notify {outcome.what}: {outcome.title} -> "
                     f"{outcome.target}: {result}")
