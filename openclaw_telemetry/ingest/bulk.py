"""A first ingest into an empty database builds the call tables' indexes once, at the end.

Sorting 100k calls into an index afterwards is cheaper than updating it row by row, so a
run that starts with no call stored drops the secondary indexes of the call tables and
builds them again before the run is finalised (which needs them). A marker in `meta`,
written in the same transaction as the drop, makes a run killed in between rebuild them
first thing next time. Unique indexes stay: they decide what is a duplicate.
"""

from __future__ import annotations

from sqlalchemy import Connection, Index, delete, select

from openclaw_telemetry.schema import message_occurrences, messages, meta, tool_calls

DEFERRED = "indexes_deferred"


def _secondary() -> list[Index]:
    return [index for table in (messages, tool_calls, message_occurrences)
            for index in sorted(table.indexes, key=lambda i: str(i.name))]


def defer_if_empty(conn: Connection) -> bool:
    """Drop the secondary indexes when no call is stored yet; True when dropped. SQLite
    only: on a PostgreSQL server several gateways may be starting their first ingest at
    once, and dropping an index would make each wait for the others' transactions."""
    if conn.dialect.name != "sqlite":
        return False
    if conn.execute(select(messages.c.message_id).limit(1)).first() is not None:
        return False
    conn.execute(meta.insert().values(key=DEFERRED, value="1"))
    for index in _secondary():
        index.drop(conn, checkfirst=True)
    return True


def restore(conn: Connection) -> bool:
    """Build the deferred indexes again; False when none were deferred."""
    if conn.execute(select(meta.c.key).where(meta.c.key == DEFERRED)).first() is None:
        return False
    for index in _secondary():
        index.create(conn, checkfirst=True)
    conn.execute(delete(meta).where(meta.c.key == DEFERRED))
    return True
