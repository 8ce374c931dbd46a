"""Several ingest processes on one database (contract E2): a `--watch` service beside
cron-style runs while OpenClaw writes, and two runs creating the same new database.

The soak test runs for OPENCLAW_TEST_SOAK_SECONDS (default 30); run it longer by hand.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import calls_so_far, ingest, query, totals
from tests.entries import T0, assistant, header, lines, tool_call, write
from tests.test_sqlite_era import add_events, agent_db

ROOT = Path(__file__).resolve().parents[1]
PARSER = [sys.executable, str(ROOT / "session_parser.py")]
SOAK_SECONDS = float(os.environ.get("OPENCLAW_TEST_SOAK_SECONDS", "30"))
pytestmark = pytest.mark.slow


class OpenClaw(threading.Thread):
    """Appends calls to transcripts and rows to an agent database until stopped, as a busy
    gateway does."""

    def __init__(self, state: Path) -> None:
        super().__init__(daemon=True)
        self.state, self.stop = state, threading.Event()
        self.sessions = state / "agents" / "main" / "sessions"
        self.written = 0

    def run(self) -> None:
        db = agent_db(self.state, "sql")
        add_events(db, "db-1", [header("db-1")])
        seq = 1
        while not self.stop.is_set():
            n = self.written
            path = self.sessions / f"s-{n // 50:03d}.jsonl"
            entries = [assistant(T0 + n * 1000 + i, response_id=f"j{n}-{i}", cost=0.001,
                                 tools=[tool_call(f"t{n}-{i}", "exec")]) for i in range(10)]
            if not path.exists():
                entries.insert(0, header(path.stem))
            with path.open("ab") as handle:
                handle.write(lines(*entries))
            add_events(db, "db-1", [assistant(T0 + n * 1000, response_id=f"d{n}", cost=0.002)],
                       start_seq=seq)
            seq += 1
            self.written += 1
            self.stop.wait(0.02)
        db.close()


def _cron_runs(state: Path, db: Path, stop: threading.Event, codes: list[int]) -> None:
    while not stop.is_set():
        done = subprocess.run([*PARSER, "-q", "--sessions-dir", str(state), "--db", str(db)],
                              capture_output=True, text=True, check=False, timeout=120)
        codes.append(done.returncode)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)


def test_watch_beside_cron_runs_keeps_the_database_sound(tmp_path: Path) -> None:
    state, db = tmp_path / "state", tmp_path / "telemetry.db"
    write(state / "agents" / "main" / "sessions", "first.jsonl", header("first"),
          assistant(T0, response_id="first"))
    openclaw = OpenClaw(state)
    watcher = subprocess.Popen([*PARSER, "--watch", "-q", "--poll", "1", "--sessions-dir",
                                str(state), "--db", str(db)], stderr=subprocess.PIPE, text=True)
    stop, codes = threading.Event(), []
    crons = [threading.Thread(target=_cron_runs, args=(state, db, stop, codes))
             for _ in range(1)]
    try:
        deadline = time.monotonic() + 60
        while not calls_so_far(db) and time.monotonic() < deadline:
            time.sleep(0.05)  # the watcher made the database (concurrent creation: below)
        openclaw.start()
        for cron in crons:
            cron.start()
        time.sleep(SOAK_SECONDS)
        openclaw.stop.set()
        stop.set()
        openclaw.join()
        for cron in crons:
            cron.join()
        assert watcher.poll() is None, watcher.communicate()[1]
    finally:
        stop.set()
        openclaw.stop.set()
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=60)
    assert codes and set(codes) == {0}, codes
    assert "Traceback" not in err, err
    url = f"sqlite:///{db}"
    assert ingest(state, url, "-q").code == 0
    assert query(url, "PRAGMA integrity_check") == [("ok",)]
    cold = f"sqlite:///{tmp_path / 'cold.db'}"
    assert ingest(state, cold, "-q").code == 0
    assert totals(url) == {**totals(cold), "cost": pytest.approx(totals(cold)["cost"])}
    assert totals(url)["llm_calls"] == 1 + 11 * openclaw.written


_AT_ONCE = """
import os, sys, time
from pathlib import Path
from openclaw_telemetry.cli import main
go = Path(sys.argv[1])
Path(f"{go}.{os.getpid()}").touch()  # imported: ready to start
while not go.exists():
    time.sleep(0.001)
main(sys.argv[2:])
"""


def _fresh(url: str, trial: int, tmp_path: Path) -> str:
    """A database that does not exist yet: a new file, or an emptied PostgreSQL database."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'new-{trial}.db'}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def test_two_first_runs_at_once_make_the_schema_once(tmp_path: Path, db_url: str) -> None:
    state = tmp_path / "state"
    write(state / "agents" / "main" / "sessions", "s.jsonl", header("s"),
          assistant(T0, response_id="1"))
    for trial in range(3):
        url, go = _fresh(db_url, trial, tmp_path), tmp_path / f"go-{trial}"
        runs = [subprocess.Popen([sys.executable, "-c", _AT_ONCE, str(go), "-q", "--sessions-dir",
                                  str(state), "--db", url], cwd=ROOT, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        while len(list(tmp_path.glob(f"{go.name}.*"))) < len(runs):
            time.sleep(0.01)
        go.touch()  # both start at the same moment
        results = [(run.wait(timeout=120), run.communicate()[1]) for run in runs]
        assert results == [(0, ""), (0, "")], results
        assert totals(url)["llm_calls"] == 1


def _posix_locks(path: Path) -> list[str]:
    """The byte-range locks this process holds on the file (/proc/locks)."""
    st = path.stat()
    inode = f":{st.st_ino}"
    found = []
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if "POSIX" in parts and str(os.getpid()) in parts and any(
                p.endswith(inode) for p in parts):
            found.append(" ".join(parts[1:]))
    return found


@pytest.mark.skipif(not Path("/proc/locks").is_file(), reason="reads Linux's /proc/locks")
def test_the_run_lock_leaves_the_locks_of_sqlite_connections_alone(tmp_path: Path) -> None:
    from openclaw_telemetry.ingest.lock import run_lock
    from openclaw_telemetry.store import open_db

    db = tmp_path / "telemetry.db"
    engine = open_db(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:  # the pool keeps it open, as a --watch process does
            conn.execute(text("SELECT count(*) FROM messages"))
        held = _posix_locks(db)
        assert held  # in WAL mode an open connection holds a shared lock on the file
        with run_lock(engine, "local", 1.0):
            pass
        assert _posix_locks(db) == held
    finally:
        engine.dispose()


@pytest.mark.skipif(not Path("/proc/locks").is_file(), reason="reads Linux's /proc/locks")
def test_reading_an_agent_database_keeps_sqlites_locks_on_it(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same pitfall on OpenClaw's databases: nothing opens and closes the file while a
    connection reads it (OpenClaw could take itself for the last user and remove the WAL)."""
    from openclaw_telemetry.ingest import run

    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, "s", [header("s"), assistant(T0, response_id="1")])
    database = state / "agents" / "main" / "agent" / "openclaw-agent.sqlite"
    openclaw = subprocess.Popen(  # OpenClaw keeps the database open: its WAL stays
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT 1 FROM transcript_events').fetchall(); print(flush=True); "
         "sys.stdin.read()", str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert openclaw.stdout is not None and openclaw.stdout.readline()
    conn.close()
    seen: list[list[str]] = []
    real = run.read_session

    def watched(db: sqlite3.Connection, *args: object) -> None:
        seen.append(_posix_locks(database))  # those of our reading connection
        real(db, *args)  # type: ignore[arg-type]
        seen.append(_posix_locks(database))

    monkeypatch.setattr(run, "read_session", watched)
    try:
        assert ingest(state, sqlite_url, "-q").code == 0
    finally:
        openclaw.communicate(b"", timeout=60)
    assert len(seen) == 2 and seen[0] and seen[1] == seen[0]
