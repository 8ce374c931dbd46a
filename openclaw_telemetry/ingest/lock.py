"""One ingest at a time per gateway and database (contract E2).

SQLite: an exclusive `flock` on a lock file beside the database (`<db>-ingest.lock`, made
once, readable by its owner only), shared by all gateways: a SQLite file is written by one
process at a time anyway. Never on the database file itself: closing any descriptor of a
file drops every POSIX lock the process holds on it, SQLite's own locks of an open
connection included (SQLite's "How To Corrupt" §2.2), which let another process delete the
WAL under a `--watch` connection. PostgreSQL: a session advisory lock per gateway, so the
gateways of a fleet ingest side by side and two runs of one gateway never interleave. A
second run waits up to `wait_seconds`, then gives up with a clear message.
"""

from __future__ import annotations

import fcntl
import os
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from openclaw_telemetry import stopping
from openclaw_telemetry.errors import DatabaseError, LockedError
from openclaw_telemetry.store import sqlite_path

_PG_LOCK_ID = 0x0C1A77E1  # arbitrary, fixed: "OpenClaw Telemetry ingest"


def lock_file(database: Path) -> Path:
    """The file whose flock stands for the SQLite database's run lock."""
    return database.with_name(f"{database.name}-ingest.lock")


@contextmanager
def run_lock(engine: Engine, gateway: str, wait_seconds: float) -> Iterator[None]:
    path = sqlite_path(str(engine.url))
    if path is not None:
        fd = _open_lock_file(lock_file(path))
        try:
            _wait(lambda: _try_flock(fd), wait_seconds)
            yield
        finally:
            os.close(fd)  # releases the flock; no SQLite connection has this file open
        return
    key = {"k": _PG_LOCK_ID, "g": _gateway_key(gateway)}
    with engine.connect() as conn:
        _wait(lambda: bool(conn.execute(text("SELECT pg_try_advisory_lock(:k, :g)"),
                                        key).scalar()), wait_seconds)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k, :g)"), key)
            conn.commit()


def _gateway_key(gateway: str) -> int:
    """The gateway's half of the advisory lock's two 32-bit keys (a signed int4)."""
    value = zlib.crc32(gateway.encode("utf-8"))
    return value - (1 << 32) if value >= 1 << 31 else value


def _open_lock_file(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise DatabaseError(f"cannot create the lock file {path}: {exc.strerror}") from None


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait(attempt: Callable[[], bool], wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not attempt():
        if time.monotonic() >= deadline:
            raise LockedError(
                f"another ingest run is using this database (waited {wait_seconds:g} s); "
                "try again later or raise --lock-wait")
        stopping.sleep(0.2)
