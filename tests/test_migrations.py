"""Migrations produce exactly schema.py; running them twice is a no-op; foreign DBs refused."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from openclaw_telemetry.errors import DatabaseError
from openclaw_telemetry.migrations import MIGRATIONS, migrate
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
        assert migrate(engine) == []
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
