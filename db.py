"""Facade for scripts and notebooks: open the OpenClaw Telemetry database.

    import db
    engine = db.open_db()            # $OPENCLAW_TELEMETRY_DB or ./openclaw_telemetry.db
    with engine.connect() as conn:
        rows = conn.execute(db.select(db.sessions)).all()
"""

from sqlalchemy import Engine, select

from openclaw_telemetry.config import default_db
from openclaw_telemetry.errors import DatabaseError, MissingDatabase
from openclaw_telemetry.schema import messages, metadata, sessions, tool_calls
from openclaw_telemetry.store import database_url, ingest_command
from openclaw_telemetry.store import open_db as _open_db


def open_db(db: str | None = None) -> Engine:
    """Open (and migrate) the database at a path or URL; default as the parser's. A SQLite
    file that does not exist is an error (run `.venv/bin/python session_parser.py` first),
    not a new empty database."""
    path = db or default_db()
    try:
        return _open_db(database_url(path), create=False)
    except MissingDatabase as exc:  # (a SQLite file: the parser creates it)
        raise DatabaseError(f"{exc}: run `{ingest_command(path)}` first") from None


__all__ = ["messages", "metadata", "open_db", "select", "sessions", "tool_calls"]
