"""Opening the output database: engine factory, pragmas, privacy, migration.

`--db` is a file path or any SQLAlchemy URL. SQLite files are created readable by their
owner only (E4), in WAL mode with a busy timeout so dashboards can read during an ingest.
`open_db()` = engine + migrate: everything that opens the store gets the current schema.
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from openclaw_telemetry.config import ENV_DB, default_gateway
from openclaw_telemetry.errors import (
    ConfigError,
    DatabaseError,
    ForeignDatabase,
    MissingDatabase,
)
from openclaw_telemetry.migrations import foreign_tables, migrate, others, schema_status

_BUSY_TIMEOUT_MS = 30_000


def database_url(value: str) -> str:
    """A path or URL -> SQLAlchemy URL string."""
    if "://" in value:
        try:
            make_url(value)
        except ArgumentError as exc:
            raise ConfigError(f"--db {value!r}: not a valid database URL ({exc})") from None
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def describe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _prepare_sqlite_file(path: Path, create: bool) -> None:
    if path.exists():
        if path.is_dir():
            raise DatabaseError(f"{path} is a directory, not a database file")
        others = _sqlite_foreign_tables(path)
        if others:
            raise _not_ours(str(path), others)
        return
    if not create:
        raise MissingDatabase(f"{path} does not exist")
    if not path.parent.is_dir():
        raise DatabaseError(f"cannot create {path}: folder {path.parent} does not exist")
    try:  # a new inode (O_EXCL): no SQLite connection of this process can hold locks on it
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)


def _sqlite_foreign_tables(path: Path) -> list[str]:
    """`migrations.others` of an existing file's tables, read before any connection of ours
    sets its pragmas (WAL mode is written into the file): `immutable`, which neither locks
    nor creates a `-shm`/`-wal`. Whatever cannot be read so (not a database, a page being
    written) is left to the connection to report."""
    if path.stat().st_size == 0:
        return []
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True)
        try:
            names = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")]
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return others(names)


def _not_ours(name: str, tables: list[str]) -> ForeignDatabase:
    shown = ", ".join(tables[:4]) + (", …" if len(tables) > 4 else "")
    return ForeignDatabase(f"{name} is not an OpenClaw Telemetry database: it holds another "
                           f"program's tables ({shown}) and is never written here. Give --db a "
                           "new file, or the one session_parser.py fills")


def refuse_foreign(engine: Engine, url: str) -> None:
    """Raise ForeignDatabase (the engine disposed) when the database holds another
    program's tables (a PostgreSQL database; a SQLite file is refused before it is opened)."""
    with engine.connect() as conn:
        others = foreign_tables(conn)
    if others:
        engine.dispose()
        raise _not_ours(describe(url), others)


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    _sqlite_pragmas(dbapi_conn, wal=True)


def _on_sqlite_read_connect(dbapi_conn: Any, _record: Any) -> None:
    _sqlite_pragmas(dbapi_conn, wal=False)


def _sqlite_pragmas(dbapi_conn: Any, *, wal: bool) -> None:
    """The connection's settings; `wal`: also put the file in WAL mode, the one that writes
    (a reader takes the file in the journal mode it has)."""
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
    if wal:
        _use_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    # 16 MiB: as fast as 32 for a cold ingest of 100k calls (random-key index inserts), and
    # with its parsing processes under 250 MB on a 1 GB history (bench/README.md, Session 16)
    cursor.execute("PRAGMA cache_size = -16384")
    cursor.execute("PRAGMA wal_autocheckpoint = 16384")  # 64 MiB of WAL between checkpoints
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """WAL mode (kept in the file). Switching a new database to it needs the file to
    itself, and SQLite answers "locked" at once, without waiting, to two connections
    switching together (two first runs at the same moment): retried up to the busy timeout."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.05)


def make_engine(url: str, *, create: bool = True, pooled: bool = True,
                reader: bool = False) -> Engine:
    """An engine for the URL; SQLite files are created 0600 and put in WAL mode.
    `pooled=False` opens the file anew for every connection (a reader that must see a
    database file replaced under it, never the old file a pooled connection keeps open).
    `reader`: the commands that only read (and the dashboards) take the file in the
    journal mode it has: switching it is a write, which a read-only file refuses."""
    path = sqlite_path(url)
    if path is None and make_url(url).get_backend_name() == "sqlite":
        raise ConfigError(f"--db {describe(url)}: an in-memory database keeps nothing; give "
                          "a file")
    if path is not None:
        _prepare_sqlite_file(path, create)
    options: dict[str, Any] = {"pool_pre_ping": path is None}
    if path is not None and not pooled:
        options["poolclass"] = NullPool
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:  # no such dialect, or its driver is missing
        usable = ("a PostgreSQL URL is postgresql+psycopg://USER@HOST:PORT/DATABASE"
                  if make_url(url).get_backend_name().startswith("postgres")
                  else "give a SQLite file or postgresql+psycopg://USER@HOST:PORT/DATABASE")
        raise ConfigError(f"--db {describe(url)}: {exc}; {usable}") from None
    if path is not None:
        event.listen(engine, "connect", _on_sqlite_read_connect if reader
                     else _on_sqlite_connect)
    return engine


def open_db(url: str, *, create: bool = True, gateway: str | None = None) -> Engine:
    """Engine + migrations: the one way the product opens its database. `gateway`: the
    name an upgrade gives the rows stored before gateways existed (default: this host's)."""
    engine = make_engine(url, create=create)
    try:
        refuse_foreign(engine, url)
        migrate(engine, gateway or default_gateway())
    except OperationalError as exc:
        engine.dispose()
        raise DatabaseError(cannot_open(url, exc)) from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"cannot prepare {describe(url)}: {_short(exc)}") from None
    return engine


# what a server's refusal most often needs (README: "Several gateways, one database")
_NEXT_STEPS = (
    (re.compile("no password supplied"), "put the password in ~/.pgpass of the user this "
                                          "runs as"),
    (re.compile("password authentication failed"), "check the user, and the password in "
                                                   "~/.pgpass"),
    (re.compile('database ".*" does not exist'), "create it first (createdb), then run the "
                                                 "parser"),
    (re.compile('role ".*" does not exist'), "create the user (createuser), or name another"),
    (re.compile("Connection refused"), "is the PostgreSQL server running and listening "
                                       "there?"),
)


# SQLite's answers when it cannot write its -wal/-shm files beside a database it reads
_SQLITE_NO_WRITE = re.compile("readonly database|unable to open database file")


def cannot_open(url: str, exc: SQLAlchemyError) -> str:
    """Why the database at `url` cannot be opened, for a person: the URL (no password),
    the driver's reason, and for a server's usual refusals, or a SQLite file in a folder
    this user cannot write, what to do."""
    reason = _short(exc)
    steps = [step for said, step in _NEXT_STEPS if said.search(reason)]
    path = sqlite_path(url)
    if (path is not None and _SQLITE_NO_WRITE.search(reason)
            and not os.access(path.parent, os.W_OK)):
        steps.append(f"SQLite writes its -wal and -shm files beside a WAL database even to "
                     f"read it, and this user cannot write to {path.parent}: give it write "
                     "access to that folder, or copy the database to one it can write")
    return f"cannot open {describe(url)}: {reason}" + (f" ({steps[0]})" if steps else "")


def ingest_command(db: str) -> str:
    """The command that fills this database, as the README writes commands (the project's
    virtual environment; a URL's password shown as ***, or, for a URL with a password
    taken from the environment, the variable, which can be pasted)."""
    shown = describe(db) if "://" in db else db
    if shown != db and db == os.environ.get(ENV_DB):
        return f'.venv/bin/python session_parser.py --db "${ENV_DB}"'
    return f".venv/bin/python session_parser.py --db {shlex.quote(shown)}"


def open_existing(db: str) -> Engine:
    """The engine of a database the parser has already written, for the commands that only
    read it (alerts, exporter): never creates or migrates it."""
    url = database_url(db)
    try:
        engine = make_engine(url, create=False, reader=True)
        status = schema_status(engine)
        if status == "foreign":
            refuse_foreign(engine, url)
    except MissingDatabase:
        raise DatabaseError(f"no database at {describe(url)}: run "
                            f"`{ingest_command(db)}` first") from None
    except SQLAlchemyError as exc:
        raise DatabaseError(cannot_open(url, exc)) from None
    if status != "ready":
        raise DatabaseError(f"{describe(url)} is {status}: run `{ingest_command(db)}`")
    return engine


def _short(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
