"""`db.py`, the facade for scripts and notebooks (README "The database")."""

from __future__ import annotations

from pathlib import Path

import pytest

import db
from openclaw_telemetry.errors import DatabaseError
from tests.conftest import ingest
from tests.entries import T0, assistant, header, state_dir, write


def test_opens_what_the_parser_wrote(tmp_path: Path) -> None:
    write(state_dir(tmp_path), "s.jsonl", header("s"), assistant(T0, response_id="1"))
    path = tmp_path / "t.db"
    assert ingest(tmp_path / "state", f"sqlite:///{path}", "-q").code == 0
    engine = db.open_db(str(path))
    with engine.connect() as conn:
        assert conn.execute(db.select(db.sessions.c.session_id)).scalars().all() == ["s"]
    engine.dispose()


def test_a_missing_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "none.db"
    with pytest.raises(DatabaseError, match=r"does not exist: run `\.venv/bin/python session_parser\.py"):
        db.open_db(str(path))
    assert not path.exists()


def test_a_server_that_is_down_gets_no_advice_to_run_the_parser() -> None:
    """The parser's command helps only with a SQLite file that does not exist: a missing
    PostgreSQL database or a server that is down fails the same way after it."""
    with pytest.raises(DatabaseError) as caught:
        db.open_db("postgresql+psycopg://me@127.0.0.1:9/telemetry")
    assert "session_parser.py" not in str(caught.value)
    assert "is the PostgreSQL server running" in str(caught.value)


@pytest.mark.postgres
def test_a_missing_postgresql_database_says_to_create_it(postgres_url: str) -> None:
    from sqlalchemy.engine import make_url

    missing = make_url(postgres_url).set(database="no_such_db_here")
    with pytest.raises(DatabaseError) as caught:
        db.open_db(missing.render_as_string(hide_password=False))
    assert "session_parser.py" not in str(caught.value)
    assert "createdb" in str(caught.value)
