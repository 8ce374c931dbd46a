"""A first ingest defers the call tables' secondary indexes and builds them at the end:
afterwards the schema, the roll-up and the tool-result join are exactly those of an
incremental ingest, also after a first ingest killed while the indexes were dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from openclaw_telemetry.ingest import bulk
from openclaw_telemetry.schema import meta, metadata
from openclaw_telemetry.store import open_db
from tests.conftest import ingest, query
from tests.entries import T0, assistant, header, state_dir, tool_call, tool_result, write
from tests.test_rollup import assert_rollup_exact

SID_A = "aaaaaaaa-0000-4000-8000-00000000000a"
SID_B = "bbbbbbbb-0000-4000-8000-00000000000b"
MINUTE = 60_000


def _state(tmp_path: Path) -> Path:
    """Two sessions sharing a call that the later-starting one records 50 minutes later
    (it moves to the earlier session and bucket during the first ingest), and the tool
    results of both."""
    sessions = state_dir(tmp_path)
    later = T0 + 60 * MINUTE
    write(sessions, f"{SID_B}.jsonl", header(SID_B, later),
          assistant(later + 20 * MINUTE, response_id="shared", cost=1.0,
                    tools=[tool_call("t-shared", "exec")]),
          assistant(later + 21 * MINUTE, response_id="own-b", cost=2.0,
                    tools=[tool_call("t-b", "read")]),
          tool_result("t-b", "read", later + 22 * MINUTE, error=True))
    write(sessions, f"{SID_A}.jsonl", header(SID_A, T0),
          assistant(later - 30 * MINUTE, response_id="shared", cost=1.0,
                    tools=[tool_call("t-shared", "exec")]),
          tool_result("t-shared", "exec", later - 30 * MINUTE + 700))
    return tmp_path / "state"


def _indexes(url: str) -> dict[str, set[str]]:
    engine = open_db(url)
    try:
        found = inspect(engine)
        return {name: {str(i["name"]) for i in found.get_indexes(name)}
                for name in metadata.tables}
    finally:
        engine.dispose()


def _complete(url: str) -> None:
    have = _indexes(url)
    for name, table in metadata.tables.items():
        assert {str(i.name) for i in table.indexes} <= have[name], name
    assert query(url, "SELECT count(*) FROM meta WHERE key = :k", k=bulk.DEFERRED) == [(0,)]
    assert_rollup_exact(url)
    assert sorted(query(url, "SELECT tool_call_id, is_error, duration_ms FROM tool_calls")) == [
        ("t-b", True, 59_500), ("t-shared", False, 200)]  # calls are stamped 500 ms late


def test_first_ingest_ends_with_every_index_and_an_exact_rollup(tmp_path: Path,
                                                                   db_url: str) -> None:
    state = _state(tmp_path)
    assert ingest(state, db_url, "-q").code == 0
    _complete(db_url)
    owner = query(db_url, "SELECT session_id FROM messages WHERE response_id = 'shared'")
    assert owner == [(SID_A,)]


def test_first_ingest_killed_with_indexes_dropped_is_completed(tmp_path: Path,
                                                                  sqlite_url: str) -> None:
    db_url = sqlite_url
    engine = open_db(db_url)
    try:
        with engine.begin() as conn:  # what a killed first ingest leaves behind
            assert bulk.defer_if_empty(conn)
        with engine.connect() as conn:
            assert conn.execute(select(meta.c.value).where(meta.c.key == bulk.DEFERRED)).all()
    finally:
        engine.dispose()
    assert "ix_messages_timestamp" not in _indexes(db_url)["messages"]
    assert ingest(_state(tmp_path), db_url, "-q").code == 0
    _complete(db_url)


@pytest.mark.postgres
def test_postgresql_never_drops_indexes(postgres_url: str) -> None:
    """Gateways of a fleet may start their first ingest at once: none drops an index."""
    engine = open_db(postgres_url)
    try:
        with engine.begin() as conn:
            assert not bulk.defer_if_empty(conn)
    finally:
        engine.dispose()
    assert "ix_messages_timestamp" in _indexes(postgres_url)["messages"]


def test_indexes_stay_when_calls_are_stored(tmp_path: Path, sqlite_url: str) -> None:
    assert ingest(_state(tmp_path), sqlite_url, "-q").code == 0
    engine = open_db(sqlite_url)
    try:
        with engine.begin() as conn:
            assert not bulk.defer_if_empty(conn)
    finally:
        engine.dispose()
    _complete(sqlite_url)
