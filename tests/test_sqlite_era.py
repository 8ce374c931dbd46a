"""OpenClaw 2026.8+ storage: agent databases, zstd events and archives (format §10, §12.2)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import zstandard

from tests.conftest import ingest, query, totals
from tests.entries import T0, assistant, header, lines, user

ROOT = Path(__file__).resolve().parents[1]
SID = "42285bc4-9c92-4bd7-beea-07a894745a36"


def agent_db(state: Path, agent: str = "main", journal: str = "wal") -> sqlite3.Connection:
    folder = state / "agents" / agent / "agent"
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "openclaw-agent.sqlite", isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.executescript("""
        CREATE TABLE IF NOT EXISTS transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL,
          event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB, event_utf8_bytes INTEGER,
          navigation_json TEXT, PRIMARY KEY (session_id, seq));
        CREATE TABLE IF NOT EXISTS session_windows (session_id TEXT PRIMARY KEY,
          session_key TEXT NOT NULL, channel TEXT, parent_session_key TEXT, spawned_by TEXT,
          display_name TEXT);
        CREATE TABLE IF NOT EXISTS session_nodes (session_key TEXT PRIMARY KEY,
          current_session_id TEXT NOT NULL, entry_json TEXT NOT NULL, created_via TEXT,
          parent_session_key TEXT, spawned_by TEXT, label TEXT, display_name TEXT);
    """)
    return conn


def add_events(conn: sqlite3.Connection, session_id: str, events: list[dict[str, Any]],
               start_seq: int = 0, compress_every: int = 0) -> None:
    for offset, event in enumerate(events):
        data = json.dumps(event)
        seq = start_seq + offset
        if compress_every and seq % compress_every == 0:
            blob = zstandard.ZstdCompressor(level=1).compress(data.encode())
            conn.execute("INSERT INTO transcript_events VALUES (?, ?, NULL, 0, ?, ?, '{}')",
                         (session_id, seq, blob, len(data.encode())))
        else:
            conn.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at)"
                         " VALUES (?, ?, ?, 0)", (session_id, seq, data))


def _events(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [assistant(T0 + (start + i) * 1000, response_id=f"r{start + i}", cost=0.01)
            for i in range(n)]


def test_compressed_events_are_counted_and_rows_read_incrementally(tmp_path: Path,
                                                                   db_url: str) -> None:
    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, SID, [header(SID), *_events(6)], compress_every=2)
    conn.execute("INSERT INTO session_windows VALUES (?, 'agent:main:main', 'webchat', NULL, "
                 "NULL, NULL)", (SID,))
    assert ingest(state, db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == 6
    add_events(conn, SID, _events(3, start=6), start_seq=7)
    ran = ingest(state, db_url, "--json")
    assert json.loads(ran.out)["new_calls"] == 3
    assert query(db_url, "SELECT session_key, kind, channel, total_messages FROM sessions") == [
        ("agent:main:main", "main", "webchat", 9)]
    rel = query(db_url, "SELECT rel_path, kind FROM sources WHERE kind = 'sqlite:transcript_events'")
    assert rel == [(f"agents/main/agent/openclaw-agent.sqlite#transcript_events/{SID}",
                    "sqlite:transcript_events")]
    conn.close()


def test_no_sidecar_files_are_left_behind(tmp_path: Path, sqlite_url: str) -> None:
    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, SID, [header(SID), *_events(2)])
    conn.close()  # last connection closed: -wal and -shm are removed
    folder = state / "agents" / "main" / "agent"
    before = sorted(p.name for p in folder.iterdir())
    assert before == ["openclaw-agent.sqlite"]
    assert ingest(state, sqlite_url, "-q").code == 0
    assert sorted(p.name for p in folder.iterdir()) == before
    assert totals(sqlite_url)["llm_calls"] == 2


def test_read_while_openclaw_is_writing(tmp_path: Path, sqlite_url: str) -> None:
    state = tmp_path / "state"
    writer = agent_db(state)
    add_events(writer, SID, [header(SID), *_events(3)])
    writer.execute("BEGIN IMMEDIATE")
    add_events(writer, SID, _events(2, start=3), start_seq=4)  # not committed yet
    assert ingest(state, sqlite_url, "-q").code == 0
    assert totals(sqlite_url)["llm_calls"] == 3
    writer.execute("COMMIT")
    assert ingest(state, sqlite_url, "-q").code == 0
    assert totals(sqlite_url)["llm_calls"] == 5
    writer.close()


def test_busy_database_is_retried_not_half_read(tmp_path: Path, sqlite_url: str) -> None:
    state = tmp_path / "state"
    conn = agent_db(state, journal="delete")
    add_events(conn, SID, [header(SID), *_events(4)])
    conn.execute("BEGIN EXCLUSIVE")
    releaser = threading.Timer(2.5, lambda: conn.execute("COMMIT"))
    releaser.start()
    started = time.monotonic()
    ran = ingest(state, sqlite_url, "--json")
    releaser.join()
    assert ran.code == 0 and json.loads(ran.out)["unreadable"] == []
    assert time.monotonic() - started >= 2
    assert totals(sqlite_url)["llm_calls"] == 4
    conn.close()


def test_archives_next_to_rows_count_once(tmp_path: Path, db_url: str) -> None:
    state = tmp_path / "state"
    conn = agent_db(state)
    events = [header(SID), user("hi", T0), *_events(4)]
    add_events(conn, SID, events)
    conn.close()
    sessions = state / "agents" / "main" / "sessions"
    (sessions / "cold").mkdir(parents=True)
    zc = zstandard.ZstdCompressor(level=1)
    name = f"{SID}.jsonl.deleted.2026-11-24T03-20-54.439Z.119a582429b04014ac67f23e761953ec.zst"
    (sessions / name).write_bytes(zc.compress(lines(*events)))
    other = "0b0b0b0b-0000-4000-8000-00000000000b"
    (sessions / "cold" / "ab12.jsonl.zst").write_bytes(
        zc.compress(lines(header(other), *_events(2, start=100))))
    archive = state / "agents" / "main" / "session-sqlite-import-archive"
    archive.mkdir(parents=True)
    (archive / f"{SID}.jsonl").write_bytes(lines(*events))
    # the name OpenClaw's doctor gives: session key slugged, file name, import time
    imported = "0c0c0c0c-0000-4000-8000-00000000000c"
    (archive / f"agent_main_telegram_direct_42.{imported}.jsonl.imported-1795490000000.1"
     ).write_bytes(lines(header(imported), *_events(3, start=200)))
    (archive / f"agent_main_main.{imported}.trajectory.jsonl.imported-1795490000000"
     ).write_bytes(lines(header(imported), *_events(3, start=300)))  # a sidecar: ignored
    assert ingest(state, db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == 9
    kinds = dict(query(db_url, "SELECT kind, count(*) FROM sources GROUP BY kind"))
    assert kinds == {"file:deleted": 1, "file:cold": 1, "file:import-archive": 2,
                     "sqlite:transcript_events": 1, "sqlite:database": 1}
    assert imported in {sid for (sid,) in query(db_url, "SELECT session_id FROM sessions")}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare for a read-only bind mount")
def test_read_only_view_of_a_database_being_written(tmp_path: Path, sqlite_url: str) -> None:
    """As under systemd's ProtectHome=read-only: `-wal`/`-shm` exist but cannot be written."""
    state = tmp_path / "state"
    writer = agent_db(state)
    add_events(writer, SID, [header(SID), *_events(3)])
    db = Path(sqlite_url.removeprefix("sqlite:///"))
    command = (f"mount --bind -o ro {state} {state} && exec {sys.executable} {ROOT / 'session_parser.py'}"
               f" --sessions-dir {state} --db {db} --json")
    done = subprocess.run(["unshare", "--mount", "sh", "-c", command], capture_output=True,
                          text=True, timeout=60)
    writer.close()
    if done.returncode != 0 and "mount" in done.stderr:
        pytest.skip(f"no mount namespace here: {done.stderr.strip()}")
    assert json.loads(done.stdout)["unreadable"] == []
    assert totals(sqlite_url)["llm_calls"] == 3


def test_agent_dir_moved_in_the_config_is_read(tmp_path: Path, db_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`agents.list[].agentDir` in openclaw.json moves an agent's `agent/` folder (its
    database and models.json) out of the state directory (format §2.1)."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    state = tmp_path / "state"
    (state / "agents" / "work" / "sessions").mkdir(parents=True)
    (state / "openclaw.json").write_text(json.dumps(
        {"agents": {"list": [{"id": "work", "agentDir": "~/work-agent/agents/work/agent"}]}}))
    conn = agent_db(home / "work-agent", "work")
    add_events(conn, SID, [header(SID), assistant(T0 + 1000, response_id="w1", cost=0,
                                                  provider="custom", model="m1")])
    (home / "work-agent" / "agents" / "work" / "agent" / "models.json").write_text(json.dumps(
        {"providers": {"custom": {"models": [{"id": "m1", "cost": {
            "input": 1000, "output": 0, "cacheRead": 0, "cacheWrite": 0}}]}}}))
    assert ingest(state, db_url, "-q").code == 0
    assert query(db_url, "SELECT agent_id, session_id, total_messages, total_cost"
                         " FROM sessions") == [("work", SID, 1, 0.1)]


def test_rows_renumbered_back_filled_or_reclaimed_count_once(tmp_path: Path,
                                                               db_url: str) -> None:
    """OpenClaw may remove a session's rows and number new ones from 0 again, commit a row
    below the last one read, or reclaim old rows; every call counts once, none is lost,
    also with --full (rows removed stay counted: contract E1)."""
    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, SID, [header(SID), *_events(4)])  # seq 0-4
    assert ingest(state, db_url, "-q").code == 0
    conn.execute("DELETE FROM transcript_events WHERE session_id = ?", (SID,))
    add_events(conn, SID, [header(SID), *_events(2, start=50)])  # renumbered: seq 0-2
    assert ingest(state, db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == 6
    add_events(conn, SID, _events(1, start=60), start_seq=10)  # seq 10, then 3-4 below it
    assert ingest(state, db_url, "-q").code == 0
    add_events(conn, SID, _events(2, start=70), start_seq=3)
    assert ingest(state, db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == 9
    conn.execute("DELETE FROM transcript_events WHERE session_id = ? AND seq < 3", (SID,))
    conn.close()
    assert ingest(state, db_url, "-q", "--full").code == 0
    assert totals(db_url)["llm_calls"] == 9
    assert json.loads(ingest(state, db_url, "--json").out)["new_calls"] == 0


def test_a_database_replaced_by_another_file_is_read_again(tmp_path: Path, db_url: str) -> None:
    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, SID, [header(SID), *_events(6)])  # seq 0-6
    conn.close()
    assert ingest(state, db_url, "-q").code == 0
    path = state / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    conn = agent_db(state)  # a restored backup: fewer rows, then new ones at reused seqs
    add_events(conn, SID, [header(SID), *_events(2), *_events(3, start=100)])  # seq 0-5
    conn.close()
    assert ingest(state, db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == 9


def test_rows_rewritten_in_place_are_read_again(tmp_path: Path, db_url: str) -> None:
    """Same seqs, other rows (a rewrite that keeps the count), and a rewrite generation
    that appears and then changes with nothing else to read in between."""
    state = tmp_path / "state"
    conn = agent_db(state)
    conn.execute("CREATE TABLE transcript_rewrite_watermarks (session_id TEXT PRIMARY KEY, "
                 "generation TEXT NOT NULL, updated_at INTEGER NOT NULL)")
    add_events(conn, SID, [header(SID), *_events(3)])  # seq 0-3
    assert ingest(state, db_url, "-q").code == 0
    conn.execute("DELETE FROM transcript_events WHERE session_id = ?", (SID,))
    add_events(conn, SID, [header(SID), *_events(3, start=10)])  # the same seqs, new calls
    assert ingest(state, db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == 6
    conn.execute("INSERT INTO transcript_rewrite_watermarks VALUES (?, 'g1', 0)", (SID,))
    assert ingest(state, db_url, "-q").code == 0  # only the generation is new
    conn.execute("DELETE FROM transcript_events WHERE session_id = ? AND seq > 0", (SID,))
    add_events(conn, SID, _events(3, start=20), start_seq=1)
    conn.execute("UPDATE transcript_rewrite_watermarks SET generation = 'g2'")
    conn.close()
    assert ingest(state, db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == 9
    assert json.loads(ingest(state, db_url, "--json").out)["new_calls"] == 0


def _between_plan_and_read(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Run `change` once, after the ingest planned the agent databases and before it (or
    its parsing processes) reads them: OpenClaw writing in between."""
    from openclaw_telemetry.ingest import run

    real = run.Ingest._plan_database
    done: list[bool] = []

    def planned(self: run.Ingest, work: Any) -> Any:
        plan = real(self, work)
        if not done:
            done.append(True)
            change()
        return plan

    monkeypatch.setattr(run.Ingest, "_plan_database", planned)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_session_rewritten_between_plan_and_read_is_read_from_its_first_row(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """The plan is made in one snapshot of the database, the rows are read in another (by
    this process or a parsing process): a session OpenClaw changed below the last row read
    in between is read again from its first row, as a plan made then would have decided."""
    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, SID, [header(SID), assistant(T0, response_id="1"),
                           assistant(T0 + 1000, response_id="2")])
    assert ingest(state, sqlite_url, "-q").code == 0
    add_events(conn, SID, [assistant(T0 + 3000, response_id="3")], start_seq=3)

    def rewrite() -> None:  # the last row read becomes another call
        conn.execute("UPDATE transcript_events SET event_json = ? WHERE session_id = ? AND "
                     "seq = 2", (json.dumps(assistant(T0 + 2000, response_id="9")), SID))

    _between_plan_and_read(monkeypatch, rewrite)
    assert ingest(state, sqlite_url, "-q", "--jobs", jobs).code == 0
    # what was read stays counted (contract E1), the rewritten row is read, and the new one
    assert totals(sqlite_url)["llm_calls"] == 4


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_database_unreadable_after_its_plan_is_read_again_next_run(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """Its sessions cost only themselves (a warning naming it) and the database is not
    marked read: the next run reads it whole."""
    state = tmp_path / "state"
    conn = agent_db(state, journal="delete")
    for n in range(3):
        add_events(conn, f"s{n}", [header(f"s{n}"), assistant(T0 + n, response_id=str(n))])
    conn.close()
    database = state / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    kept, stamp = database.read_bytes(), database.stat()
    _between_plan_and_read(monkeypatch, lambda: database.write_bytes(b"not a database" * 500))
    ran = ingest(state, sqlite_url, "--jobs", jobs)
    assert str(database) in ran.err and "Traceback" not in ran.err, ran.err
    monkeypatch.undo()
    database.write_bytes(kept)  # as it was planned, to the nanosecond
    os.utime(database, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert ingest(state, sqlite_url, "-q").code == 0
    cold = f"sqlite:///{tmp_path / 'cold.db'}"
    assert ingest(state, cold, "-q").code == 0
    assert totals(sqlite_url) == totals(cold) and totals(cold)["llm_calls"] == 3


def test_a_rewrite_seen_by_a_run_stopped_before_reading_is_read_by_the_next(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new rewrite generation makes the plan read the session again from its first row;
    a run stopped after planning and before reading must leave that to the next run (the
    generation is kept with the rows read, not by the plan)."""
    from openclaw_telemetry import stopping

    state = tmp_path / "state"
    conn = agent_db(state)
    conn.execute("CREATE TABLE transcript_rewrite_watermarks (session_id TEXT PRIMARY KEY, "
                 "generation TEXT NOT NULL, updated_at INTEGER NOT NULL)")
    conn.execute("INSERT INTO transcript_rewrite_watermarks VALUES (?, 'g1', 0)", (SID,))
    add_events(conn, SID, [header(SID), assistant(T0, response_id="1"),
                           assistant(T0 + 1000, response_id="2")])
    assert ingest(state, sqlite_url, "-q").code == 0
    # OpenClaw rewrites row 1 (another call), keeps the count and the last row, and appends
    conn.execute("UPDATE transcript_events SET event_json = ? WHERE session_id = ? AND "
                 "seq = 1", (json.dumps(assistant(T0 + 500, response_id="9")), SID))
    add_events(conn, SID, [assistant(T0 + 3000, response_id="3")], start_seq=3)
    conn.execute("UPDATE transcript_rewrite_watermarks SET generation = 'g2'")

    def stop() -> None:
        raise stopping.Stopped(15)

    _between_plan_and_read(monkeypatch, stop)
    assert ingest(state, sqlite_url, "-q").code != 0
    monkeypatch.undo()
    assert ingest(state, sqlite_url, "-q").code == 0
    assert totals(sqlite_url)["llm_calls"] == 4  # 1, 2, 9 and 3
