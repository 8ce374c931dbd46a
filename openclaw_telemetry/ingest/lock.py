"""One ingest at a time per database (contract E2).

SQLite: an exclusive `flock` on the database file itself (no sidecar file; independent of
SQLite's own POSIX locks). PostgreSQL: a session advisory lock. A second run waits up to
`wait_seconds`, then gives up with a clear message.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

from openclaw_telemetry.errors import LockedError
from openclaw_telemetry.store import sqlite_path

_PG_LOCK_ID = 0x0C1A77E1  # arbitrary, fixed: "OpenClaw Telemetry ingest"


@contextmanager
def run_lock(engine: Engine, wait_seconds: float) -> Iterator[None]:
    path = sqlite_path(str(engine.url))
    if path is not None:
        with path.open("rb") as handle:
            _wait(lambda: _try_flock(handle.fileno()), wait_seconds)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        _wait(lambda: bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                        {"k": _PG_LOCK_ID}).scalar()), wait_seconds)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_ID})
            conn.commit()


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait(attempt: object, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not attempt():  # type: ignore[operator]
        if time.monotonic() >= deadline:
            raise LockedError(
                f"another ingest run is using this database (waited {wait_seconds:g} s); "
                "try again later or raise --lock-wait")
        time.sleep(0.2)
