"""Read-only access to OpenClaw's own SQLite databases (2026.8+, format §10).

Contract A3: OpenClaw's databases are opened read-only, never locked for long, and never
left with new sidecar files. A WAL database with no `-wal` file has no open writer, so it
is opened `immutable` (which creates no `-shm`/`-wal`); otherwise the sidecars exist
already and a plain read-only connection is used. Every read of one database happens in
one read transaction, so it sees one consistent snapshot; a busy database is retried.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import orjson
import zstandard

from openclaw_telemetry import stopping
from openclaw_telemetry.sources.files import open_regular, refuse_unless_regular

_BUSY_RETRIES = 8
_MAX_EVENT_BYTES = 4 * 1024 * 1024  # agent schema 23 caps compressed events at 4 MiB
_decompressor = zstandard.ZstdDecompressor()


class ReadError(Exception):
    """The database could not be read (reported and skipped by the caller)."""


def _lenient_text(data: bytes) -> str:
    """TEXT that is not valid UTF-8 keeps its bytes (as surrogate escapes) for the parser
    to record as bad input; strings for attribution are cleaned where they are used."""
    return data.decode("utf-8", "surrogateescape")


def _is_wal(path: Path) -> bool:
    """File-format bytes 18-19 of the header are 2 in WAL mode."""
    try:
        with open_regular(path) as handle:
            head = handle.read(20)
    except OSError:
        return False
    return len(head) == 20 and head[18:20] == b"\x02\x02"


def _uri(path: Path, *, ours: bool) -> str:
    """Read-only; `immutable` only for a WAL database with no writer (no `-wal` file),
    where a plain read-only open would create `-shm`/`-wal`. Otherwise `readonly_shm`:
    SQLite uses OpenClaw's `-shm` without ever writing it, not even to rebuild a corrupt
    one (our private copies excepted: `ours`). Rollback-journal databases are read with
    normal locking, which creates no file for a reader."""
    quoted = quote(str(path.resolve()))
    # the header only when there is no -wal: reading it opens and closes the file, which
    # would drop the locks of a connection of ours to it (SQLite "How To Corrupt" §2.2)
    if not Path(f"{path}-wal").exists() and _is_wal(path):
        return f"file:{quoted}?mode=ro&immutable=1"
    return f"file:{quoted}?mode=ro" + ("" if ours else "&readonly_shm=1")


class _IndexNeedsWriter(ReadError):
    """The `-shm` must be rebuilt (corrupt), which only a writer may do in OpenClaw's folder."""


_NEEDS_WRITER = frozenset({"SQLITE_READONLY_RECOVERY", "SQLITE_READONLY_CANTINIT",
                           "SQLITE_READONLY_CANTLOCK"})


def _connect(path: Path, *, ours: bool = False) -> sqlite3.Connection:
    """Connect and take a read snapshot, retrying while a writer holds the database."""
    delay = 0.05
    for attempt in range(_BUSY_RETRIES):
        conn = None
        try:
            conn = sqlite3.connect(_uri(path, ours=ours), uri=True, timeout=2.0,
                                   isolation_level=None, check_same_thread=False)
            conn.text_factory = _lenient_text  # one bad row must not make the database unreadable
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            if getattr(exc, "sqlite_errorname", "") in _NEEDS_WRITER:
                raise _IndexNeedsWriter(f"{path}: {exc}") from None
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or attempt == _BUSY_RETRIES - 1:
                raise ReadError(f"{path}: {_reason(path, exc)}") from None
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise ReadError(f"{path}: {exc}") from None
        stopping.sleep(delay)
        delay *= 2
    raise ReadError(f"{path}: database stayed busy")


def _reason(path: Path, exc: sqlite3.Error) -> str:
    """SQLite says "unable to open database file" also when it may not read the file."""
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if part.exists() and not os.access(part, os.R_OK):
            return f"Permission denied ({part.name})"
    return str(exc)


@contextmanager
def open_readonly(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection inside one read transaction (one consistent snapshot).

    A `-wal` without its `-shm` (a writer in exclusive locking mode, or a partial copy)
    would make SQLite create the `-shm` next to OpenClaw's file, and a corrupt `-shm`
    would make it rebuild it there: such a database is read from a private copy of it
    and its `-wal` instead (within `private_copies`, the run's one copy).
    """
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    _refuse_special_files(path, wal, shm)
    conn = None
    if shm.exists() or not wal.exists():
        with contextlib.suppress(_IndexNeedsWriter):
            conn = _connect(path)
    if conn is not None:
        yield from _session(conn, path)
        return
    if _copies is not None:
        copy = _copies.of(path)
        yield from _session(_connect(copy, ours=True), copy)
        return
    with tempfile.TemporaryDirectory(prefix="openclaw-telemetry-") as tmp:
        copy = _copy(path, Path(tmp))
        yield from _session(_connect(copy, ours=True), copy)


def _copy(path: Path, folder: Path) -> Path:
    """The database and its `-wal` copied into `folder`."""
    copy = folder / path.name
    try:
        shutil.copyfile(path, copy)
        shutil.copyfile(Path(f"{path}-wal"), Path(f"{copy}-wal"))
    except OSError as exc:
        raise ReadError(f"{path}: {exc.strerror or exc}") from None
    return copy


class _Copies:
    """The private copies of one run (`private_copies`), each checkpointed into one file,
    in a temporary folder made with the first of them."""

    def __init__(self) -> None:
        self.folder: tempfile.TemporaryDirectory[str] | None = None
        self.made: dict[Path, Path] = {}

    def of(self, path: Path) -> Path:
        if path not in self.made:
            if self.folder is None:
                self.folder = tempfile.TemporaryDirectory(prefix="openclaw-telemetry-")
            place = Path(self.folder.name) / str(len(self.made))
            place.mkdir()
            copy = _copy(path, place)
            try:  # the -wal written into the file: one file, read by any process as it is
                with contextlib.closing(sqlite3.connect(copy, isolation_level=None)) as conn:
                    conn.execute("PRAGMA journal_mode = DELETE")
            except sqlite3.Error as exc:
                raise ReadError(f"{path}: {exc}") from None
            self.made[path] = copy
        return self.made[path]


_copies: _Copies | None = None


@contextmanager
def private_copies() -> Iterator[None]:
    """One ingest run: a database read from a private copy (`open_readonly`) is copied once
    for the run instead of at every opening (its prices, logins, plan and sessions, and
    again in each parsing process), and all of them read the one snapshot. The copies are
    deleted at the end."""
    global _copies
    before, _copies = _copies, _Copies()
    try:
        yield
    finally:
        if _copies.folder is not None:
            _copies.folder.cleanup()
        _copies = before


def readable(path: Path) -> Path:
    """The file to open for `path` in another process of the run: its private copy if the
    run made one (one file, opened as it is), else the database itself."""
    return _copies.made.get(path, path) if _copies is not None else path


def _refuse_special_files(path: Path, *sidecars: Path) -> None:
    """SQLite would block opening a FIFO: the database and its sidecars must be regular
    files (a sidecar may be absent)."""
    for part in (path, *sidecars):
        try:
            refuse_unless_regular(part)
        except FileNotFoundError:
            if part == path:
                raise ReadError(f"{path}: no such file") from None
        except OSError as exc:
            raise ReadError(f"{part}: {exc.strerror or exc}") from None


def _session(conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    except sqlite3.Error as exc:
        raise ReadError(f"{path}: {exc}") from None
    finally:
        conn.close()


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                       (name,)).fetchone()
    return row is not None


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}


class SessionHead(NamedTuple):
    """Where a session's rows stand: its highest seq, how many rows it has, and its rewrite
    generation (`transcript_rewrite_watermarks`, 2026.9; None where there is none)."""

    max_seq: int
    rows: int
    generation: str | None


def session_heads(conn: sqlite3.Connection) -> dict[str, SessionHead]:
    """sessionId -> where its rows in `transcript_events` stand."""
    if not has_table(conn, "transcript_events"):
        return {}
    rows = conn.execute("SELECT session_id, MAX(seq), COUNT(*) FROM transcript_events "
                        "GROUP BY session_id")
    generations = {str(row["session_id"]): str(row["generation"]) for row in query_all(
        conn, "transcript_rewrite_watermarks", ("session_id", "generation"))
        if row.get("session_id") is not None and row.get("generation") is not None}
    return {str(sid): SessionHead(int(seq), int(count), generations.get(str(sid)))
            for sid, seq, count in rows if sid is not None and seq is not None}


def rows_through(conn: sqlite3.Connection, session_id: str, seq: int) -> int:
    """How many rows of the session have a seq at or below `seq`."""
    return int(conn.execute("SELECT COUNT(*) FROM transcript_events WHERE session_id = ? "
                            "AND seq <= ?", (session_id, seq)).fetchone()[0])


def row_fingerprint(conn: sqlite3.Connection, session_id: str, seq: int) -> str | None:
    """A short hash of the stored row (None when there is none): tells a row read before
    from one OpenClaw wrote in its place."""
    has_zstd = "event_zstd" in columns(conn, "transcript_events")
    row = conn.execute(
        "SELECT CAST(event_json AS BLOB), " + ("event_zstd" if has_zstd else "NULL")  # noqa: S608
        + " FROM transcript_events WHERE session_id = ? AND seq = ?", (session_id, seq)
    ).fetchone()
    if row is None:
        return None
    digest = hashlib.blake2b(digest_size=8)
    for part in row:
        digest.update(part if isinstance(part, bytes) else b"\x00")
    return digest.hexdigest()


def iter_events(conn: sqlite3.Connection, session_id: str,
                after_seq: int) -> Iterator[tuple[int, bytes | None, str | None]]:
    """(seq, event bytes or None, problem) for rows after `after_seq`, in seq order.

    Events live in `event_json`, or zstd-compressed in `event_zstd` from agent schema 23
    (format §12.2); reading `event_json` alone would lose those.
    """
    has_zstd = "event_zstd" in columns(conn, "transcript_events")
    # the stored bytes as they are (no decoding to str and back; bad UTF-8 is the parser's)
    select = "seq, CAST(event_json AS BLOB), " + ("event_zstd" if has_zstd else "NULL")
    rows = conn.execute(
        f"SELECT {select} FROM transcript_events WHERE session_id = ? AND seq > ? ORDER BY seq",  # noqa: S608
        (session_id, after_seq))
    for seq, event_json, event_zstd in rows:
        yield (int(seq), *_event_bytes(event_json, event_zstd))


def _event_bytes(event_json: Any, event_zstd: Any) -> tuple[bytes | None, str | None]:
    if isinstance(event_json, bytes):
        return event_json, None
    if isinstance(event_zstd, bytes):
        try:
            return _decompressor.decompress(event_zstd, max_output_size=_MAX_EVENT_BYTES), None
        except zstandard.ZstdError as exc:
            return None, f"event_zstd could not be decompressed: {exc}"
    return None, "row has neither event_json nor event_zstd"


def query_all(conn: sqlite3.Connection, table: str, wanted: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of `table` with the wanted columns that exist (schemas change between releases)."""
    if not has_table(conn, table):
        return []
    present = [c for c in wanted if c in columns(conn, table)]
    if not present:
        return []
    # names come from this module's constants, checked against the table's real columns
    cursor = conn.execute(f"SELECT {', '.join(present)} FROM {table}")  # noqa: S608
    return [dict(zip(present, row, strict=True)) for row in cursor]


def auth_stores(path: Path) -> list[Any]:
    """The auth-profile stores an OpenClaw database keeps (2026.7+: `auth_profile_store` of
    an agent database, `auth_profile_stores` of the global one), parsed; they have the
    shape of `auth-profiles.json`. Raises ReadError. Only login types are read from them by
    the caller: they hold credentials, which are never stored."""
    found: list[Any] = []
    with open_readonly(path) as conn:
        for table in ("auth_profile_store", "auth_profile_stores"):
            for row in query_all(conn, table, ("store_json",)):
                with contextlib.suppress(ValueError, TypeError):
                    found.append(orjson.loads(row["store_json"]))
    return found
