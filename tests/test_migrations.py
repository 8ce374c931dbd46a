"""Migrations produce exactly schema.py; running them twice is a no-op; foreign DBs refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, UniqueConstraint, create_engine, inspect, text

from openclaw_telemetry.config import default_gateway
from openclaw_telemetry.errors import DatabaseError
from openclaw_telemetry.ingest.finalize import finalize
from openclaw_telemetry.ingest.prepare import Pricing
from openclaw_telemetry.migrations import MIGRATIONS, migrate, statements
from openclaw_telemetry.schema import metadata
from openclaw_telemetry.store import open_db


def test_migrated_database_matches_schema(db_url: str) -> None:
    engine = open_db(db_url)
    try:
        found = inspect(engine)
        assert set(found.get_table_names()) == set(metadata.tables) | {"_migrations"}
        for name, table in metadata.tables.items():
            assert {c["name"] for c in found.get_columns(name)} == {c.name for c in table.columns}
            indexes = {i["name"] for i in found.get_indexes(name)}
            assert {str(i.name) for i in table.indexes} <= indexes
            assert [c.name for c in table.primary_key.columns] == \
                found.get_pk_constraint(name)["constrained_columns"]
        assert migrate(engine, "local") == []
        with engine.connect() as conn:
            names = [r[0] for r in conn.execute(text("SELECT name FROM _migrations"))]
        assert names == [name for name, _ in MIGRATIONS]
    finally:
        engine.dispose()


def test_database_of_a_newer_version_is_refused(sqlite_url: str) -> None:
    open_db(sqlite_url).dispose()
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO _migrations VALUES ('m999_future', 'x')"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="newer"):
        open_db(sqlite_url)


def test_foreign_database_with_our_table_names_is_refused(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE messages (id INTEGER)"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="not created by OpenClaw Telemetry"):
        open_db(sqlite_url)


@contextmanager
def older_database(db_url: str, before: str) -> Iterator[Connection]:
    """A database as the version before migration `before` left it; the block adds rows."""
    engine = create_engine(db_url)
    dialect = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
    names = [name for name, _ in MIGRATIONS]
    earlier = names[:names.index(before)]
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE _migrations (name VARCHAR(100) PRIMARY KEY,"
                              " applied_at VARCHAR(40) NOT NULL)"))
            for name in earlier:
                for statement in statements(name, dialect):
                    conn.execute(text(statement), {"gateway": "earlier"}
                                 if ":gateway" in statement else {})
                conn.execute(text("INSERT INTO _migrations VALUES (:n, 'then')"), {"n": name})
            yield conn
    finally:
        engine.dispose()


def test_an_upgraded_database_has_the_index_columns_of_schema(db_url: str) -> None:
    """m010 rebuilds indexes under their old names with other columns: a database migrated
    from before it has every index of schema.py with schema.py's columns, in order."""
    with older_database(db_url, "m010_gateway_indexes"):
        pass
    engine = open_db(db_url)
    try:
        found = inspect(engine)
        for name, table in metadata.tables.items():
            columns = {i["name"]: i["column_names"] for i in found.get_indexes(name)}
            for index in table.indexes:
                assert columns[str(index.name)] == [c.name for c in index.columns], index.name
    finally:
        engine.dispose()


def _no_call_moves(path: str, agent: str | None) -> Pricing:
    raise AssertionError(f"no call changes owner here, so none is priced ({path}, {agent})")


def test_tool_calls_and_results_of_an_older_database_survive_m003(db_url: str) -> None:
    """A database written before m003 gets its tool calls numbered within their message
    and keeps its waiting results (session ''), which still reach their call."""
    with older_database(db_url, "m003_tool_call_identity") as conn:
        for call_id, name in (("call_0", "exec"), ("call_1", "read")):
            conn.execute(text("INSERT INTO tool_calls (tool_call_id, tool_name, session_id,"
                              " message_id, timestamp) VALUES (:c, :n, 's1', 'm1',"
                              " '2026-11-01 10:00:00.000000')"), {"c": call_id, "n": name})
        conn.execute(text("INSERT INTO tool_results (tool_call_id, is_error, timestamp)"
                          " VALUES ('call_0', TRUE, '2026-11-01 10:00:02.500000')"))
    upgraded = open_db(db_url)
    try:
        with upgraded.begin() as conn:
            assert conn.execute(text("SELECT session_id, tool_call_id FROM tool_results")
                                ).all() == [("", "call_0")]
            finalize(conn, default_gateway(), _no_call_moves)
            assert conn.execute(text("SELECT tool_call_id, call_index, is_error, duration_ms"
                                     " FROM tool_calls ORDER BY id")).all() == [
                ("call_0", 0, True, 2500), ("call_1", 1, None, None)]
        found = inspect(upgraded)
        for name in ("tool_calls", "tool_results"):
            table = metadata.tables[name]
            assert {c["name"] for c in found.get_columns(name)} == {c.name for c in table.columns}
            assert {str(i.name) for i in table.indexes} <= {
                i["name"] for i in found.get_indexes(name)}
            assert [c["name"] for c in found.get_unique_constraints(name)] == [
                str(c.name) for c in table.constraints if isinstance(c, UniqueConstraint)]
    finally:
        upgraded.dispose()


def test_labels_learned_from_display_names_are_forgotten_by_m004(db_url: str) -> None:
    """Contract E4: labels an older version took from 2026.9 display names (a user's first
    message) are cleared, and what the stores say is learned again on the next run."""
    with older_database(db_url, "m004_forget_display_names") as conn:
        conn.execute(text("INSERT INTO sessions (session_id, kind, label, dirty) VALUES"
                          " ('s1', 'direct', 'my PIN is 4711', FALSE)"))
        conn.execute(text("INSERT INTO session_attribution (session_id, session_key, label,"
                          " cron_job_name) VALUES ('s1', 'agent:main:telegram:direct:7',"
                          " 'my PIN is 4711', 'remind me')"))
        conn.execute(text("INSERT INTO meta (key, value) VALUES ('learned:/x/sessions.json',"
                          " 'stamp')"))
    upgraded = open_db(db_url)
    try:
        with upgraded.begin() as conn:
            assert conn.execute(text("SELECT label, dirty FROM sessions")).all() == [
                (None, True)]
            assert conn.execute(text("SELECT label, cron_job_name FROM session_attribution")
                                ).all() == [(None, None)]
            assert conn.execute(text("SELECT count(*) FROM meta WHERE key LIKE 'learned:%'")
                                ).scalar() == 0
    finally:
        upgraded.dispose()
