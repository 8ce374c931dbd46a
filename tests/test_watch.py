"""`session_parser.py --watch`: live ingestion follows appends, renames, new agents and the
SQLite era, survives a locked database, and stops promptly on SIGTERM/SIGINT (143/130)."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openclaw_telemetry.watch import relevant
from tests.conftest import calls_so_far
from tests.entries import T0, assistant, header, lines, state_dir, write
from tests.test_sqlite_era import add_events, agent_db

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name, wanted", [
    ("a.jsonl", True), ("a.jsonl.reset.2026-11-24T03-00-00.000Z", True),
    ("a.jsonl.deleted.2026-11-24T03-00-00.000Z.abc.zst", True), ("openclaw-agent.sqlite-wal", True),
    ("sessions.json", True), ("a.trajectory.jsonl", False), ("a.jsonl.lock", False),
    ("openclaw-agent.sqlite-shm", False), ("notes.md", False),
])
def test_relevant_files(name: str, wanted: bool) -> None:
    assert relevant(f"/x/agents/main/sessions/{name}") is wanted


def _wait_for(db: Path, count: int, seconds: float = 10.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if calls_so_far(db) == count:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"expected {count} calls, database has {calls_so_far(db)}")


def _append(path: Path, *entries: dict[str, object]) -> None:
    with path.open("ab") as handle:
        handle.write(lines(*entries))


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_watch_follows_changes_and_stops_on_signal(tmp_path: Path, stop_signal: int) -> None:
    sessions = state_dir(tmp_path)
    primary = write(sessions, "w1.jsonl", header("w1"), assistant(T0, response_id="1"))
    db = tmp_path / "live.db"
    proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--watch", "-q",
                             "--sessions-dir", str(tmp_path / "state"), "--db", str(db)])
    try:
        _wait_for(db, 1)
        _append(primary, assistant(T0 + 10, response_id="2"))
        _wait_for(db, 2)
        primary.rename(sessions / "w1.jsonl.reset.2026-11-24T03-00-00.000Z")
        write(sessions, "w2.jsonl", header("w2"), assistant(T0 + 20, response_id="3"))
        _wait_for(db, 3)
        write(state_dir(tmp_path, "newagent"), "w3.jsonl", header("w3"),
              assistant(T0 + 30, response_id="4"))
        _wait_for(db, 4)
        conn = agent_db(tmp_path / "state", "sqlagent")
        add_events(conn, "w4", [header("w4"), assistant(T0 + 40, response_id="5")])
        _wait_for(db, 5)
        add_events(conn, "w4", [assistant(T0 + 50, response_id="6")], start_seq=2)
        _wait_for(db, 6)
        conn.close()
        locker = sqlite3.connect(db, timeout=5)
        locker.execute("BEGIN IMMEDIATE")  # the telemetry database is briefly locked
        _append(sessions / "w2.jsonl", assistant(T0 + 60, response_id="7"))
        time.sleep(1.0)
        locker.rollback()
        locker.close()
        _wait_for(db, 7)
        time.sleep(1.0)  # idle: the main loop is waiting for the next change
        started = time.monotonic()
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=5) == 128 + stop_signal  # 143 or 130, as the README says
        assert time.monotonic() - started < 2.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_watch_json_lines(tmp_path: Path) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, "j1.jsonl", header("j1"), assistant(T0, response_id="1"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--watch",
                             "--json", "--sessions-dir", str(tmp_path / "state"), "--db",
                             str(tmp_path / "j.db")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["new_calls"] == 1
        _append(sessions / "j1.jsonl", assistant(T0 + 5, response_id="2"))
        while True:
            event = json.loads(proc.stdout.readline())
            if event["new_calls"]:
                break
        assert event["new_calls"] == 1
    finally:
        proc.terminate()
        assert proc.wait(timeout=5) == 143
