"""The ingest command as users run it: output, exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from openclaw_telemetry.errors import DatabaseError
from openclaw_telemetry.store import open_existing
from tests.conftest import ingest
from tests.entries import T0, assistant, header, state_dir, write

ROOT = Path(__file__).resolve().parents[1]
SID = "aaaaaaaa-0000-4000-8000-000000000001"


def _state(tmp_path: Path) -> Path:
    write(state_dir(tmp_path), f"{SID}.jsonl", header(SID), assistant(T0, response_id="1"))
    return tmp_path / "state"


def run_process(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None,
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "session_parser.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=env)


def test_help_lists_every_option() -> None:
    done = run_process("--help")
    assert done.returncode == 0
    for option in ("--sessions-dir", "--db", "--full", "--json", "-q", "--lock-wait",
                   "--batch-size", "OPENCLAW_SESSIONS_DIR", "OPENCLAW_TELEMETRY_DB",
                   "Exit codes", "session_parser.py report", "session_parser.py export"):
        assert option in done.stdout


@pytest.mark.parametrize("args, code, words", [
    (["--bogus"], 64, "unrecognized arguments"),
    (["reprot", "daily"], 64, "did you mean the command 'report' (session_parser.py report …)?"),
    (["monthly"], 64, "did you mean session_parser.py report monthly?"),
    (["--sessions-dir", "/definitely/not/here"], 64, "no such directory"),
    (["--db", "nosuchdialect://x"], 64, "--db"),
    (["--lock-wait", "-1"], 64, "--lock-wait"),
    (["--lock-wait", "nan"], 64, "--lock-wait: 'nan' is not a number of seconds"),
    (["--watch", "--poll", "nan"], 64, "--poll: 'nan' is not a number of seconds"),
    (["--poll", "inf"], 64, "--poll: 'inf' is not a number of seconds"),
    (["--poll", "5"], 64, "--poll applies to --watch only"),  # (else a silent no-op)
    (["--watch", "--poll", "0"], 64, "--poll must be more than 0 seconds"),
    (["--db", "/definitely/not/here/x.db"], 1, "does not exist"),
    (["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none"], 1, "database error"),
])
def test_user_mistakes_get_one_line_and_an_exit_code(tmp_path: Path, args: list[str], code: int,
                                                     words: str) -> None:
    state = _state(tmp_path)
    full = ["--sessions-dir", str(state), "--db", str(tmp_path / "t.db"), *args]
    done = run_process(*full, cwd=tmp_path)
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert words in done.stderr


def test_database_that_is_not_ours_or_not_a_database(tmp_path: Path) -> None:
    state = _state(tmp_path)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    done = run_process("--sessions-dir", str(state), "--db", str(garbage))
    assert (done.returncode, "Traceback" in done.stderr) == (1, False)
    assert "database" in done.stderr
    folder = tmp_path / "folder.db"
    folder.mkdir()
    done = run_process("--sessions-dir", str(state), "--db", str(folder))
    assert (done.returncode, "Traceback" in done.stderr) == (1, False)


def test_human_summary_and_quiet_and_json(tmp_path: Path) -> None:
    state = _state(tmp_path)
    db = str(tmp_path / "t.db")
    first = run_process("--sessions-dir", str(state), "--db", db)
    assert first.returncode == 0
    for words in ("Scanning", "Read 1 of 1 source ", "New LLM calls: 1", "New cost: $",
                  "unpriced: 0 calls, 0 tokens", "1 call in 1 session,"):
        assert words in first.stderr
    assert first.stdout == ""
    quiet = run_process("--sessions-dir", str(state), "--db", db, "-q")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    summary = json.loads(run_process("--sessions-dir", str(state), "--db", db, "--json").stdout)
    assert summary["new_calls"] == 0 and summary["database"]["calls"] == 1
    assert {"sources_total", "sources_read", "tokens", "cost", "cost_estimated",
            "unpriced_calls", "bad_input", "elapsed_seconds"} <= set(summary)


def test_environment_settings(tmp_path: Path) -> None:
    state = _state(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "OPENCLAW_SESSIONS_DIR": str(state),
           "OPENCLAW_TELEMETRY_DB": str(tmp_path / "env.db")}
    done = run_process("-q", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "env.db").stat().st_mode & 0o777 == 0o600


def test_default_state_dir_is_home_openclaw_and_profiles(tmp_path: Path) -> None:
    for folder in (".openclaw", ".openclaw-dev"):
        sessions = tmp_path / folder / "agents" / "main" / "sessions"
        sid = f"{folder[-3:]}-0000"
        write(sessions, f"{sid}.jsonl", header(sid), assistant(T0, response_id=folder))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = run_process("--json", "--db", str(tmp_path / "t.db"), env=env, cwd=tmp_path)
    assert json.loads(done.stdout)["new_calls"] == 2


def test_no_data_found_says_where_it_looked(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = run_process("--db", str(tmp_path / "t.db"), env=env, cwd=tmp_path)
    assert done.returncode == 0
    assert "no OpenClaw data found" in done.stderr and ".openclaw" in done.stderr


def test_a_run_that_finds_no_data_keeps_what_the_database_holds(tmp_path: Path) -> None:
    """`./start.sh` on a machine whose OpenClaw data moved: the run finds no state folder,
    over a database that holds calls. It crashed with an IndexError (re-pricing looked for a
    state folder to price with); it must change nothing and say where it looked."""
    sessions = tmp_path / ".openclaw" / "agents" / "main" / "sessions"
    write(sessions, "s-1.jsonl", header("s-1"), assistant(T0, response_id="r1", cost=None))
    (tmp_path / ".openclaw" / "openclaw.json").write_text("{}")  # a price file, gone later
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    db = str(tmp_path / "t.db")
    first = run_process("--json", "--db", db, env=env, cwd=tmp_path)
    assert json.loads(first.stdout)["new_calls"] == 1
    shutil.rmtree(tmp_path / ".openclaw")
    again = run_process("--json", "--db", db, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and "no OpenClaw data found" in again.stderr
    assert json.loads(again.stdout)["database"]["calls"] == 1


def test_second_run_waits_for_the_lock_then_says_so(tmp_path: Path, sqlite_url: str) -> None:
    import fcntl

    from openclaw_telemetry.ingest.lock import lock_file

    state = _state(tmp_path)
    assert ingest(state, sqlite_url, "-q").code == 0
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    with lock_file(db_file).open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        ran = ingest(state, sqlite_url, "-q", "--lock-wait", "0.3")
    assert ran.code == 3
    assert "another ingest run" in ran.err


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare for a read-only bind mount")
def test_unwritable_database_gives_one_line(tmp_path: Path) -> None:
    state = _state(tmp_path)
    folder = tmp_path / "dbdir"
    folder.mkdir()
    db = folder / "t.db"
    assert ingest(state, f"sqlite:///{db}", "-q").code == 0
    command = (f"mount --bind -o ro {folder} {folder} && exec {sys.executable} "
               f"{ROOT / 'session_parser.py'} --sessions-dir {state} --db {db}")
    done = subprocess.run(["unshare", "--mount", "sh", "-c", command], capture_output=True,
                          text=True, timeout=60)
    if "mount" in done.stderr and "session_parser" not in done.stderr:
        pytest.skip(f"no mount namespace here: {done.stderr.strip()}")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "database error" in done.stderr


def test_the_parser_never_imports_the_dashboard_stack() -> None:
    """An hourly run must start fast: no pandas, plotly or streamlit behind the parser."""
    code = ("import sys, openclaw_telemetry.cli, openclaw_telemetry.watch; "
            "print(sorted(m for m in ('pandas', 'plotly', 'streamlit') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


FOREIGN = "is not an OpenClaw Telemetry database"


def _foreign_sqlite(path: Path) -> bytes:
    """A database of another program, as OpenClaw's own: WAL mode, no sidecars left."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE transcript_events (session_id TEXT, seq INTEGER, event TEXT)")
    conn.execute("INSERT INTO transcript_events VALUES ('s', 1, '{}')")
    conn.commit()
    conn.close()
    return path.read_bytes()


@pytest.mark.parametrize("door", [
    ["session_parser.py", "--sessions-dir", "{state}", "--db", "{db}"],
    ["session_parser.py", "report", "daily", "--db", "{db}"],
    ["session_parser.py", "export", "--what", "calls", "--db", "{db}"],
    ["alerts.py", "--db", "{db}"],
    ["exporter.py", "--once", "--db", "{db}"],
], ids=["ingest", "report", "export", "alerts", "exporter"])
def test_another_programs_database_is_never_written(tmp_path: Path, door: list[str]) -> None:
    """--db naming one of OpenClaw's own databases: refused in one line, the file untouched
    (no tables added, not even WAL sidecars or a journal-mode change), never the advice to
    fill it."""
    state = _state(tmp_path)
    theirs = tmp_path / "openclaw-agent.sqlite"
    before = _foreign_sqlite(theirs)
    script, *args = (part.format(state=state, db=theirs) for part in door)
    done = subprocess.run([sys.executable, str(ROOT / script), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert FOREIGN in done.stderr and "transcript_events" in done.stderr, done.stderr
    assert "session_parser.py --db" not in done.stderr  # no advice to write into it
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert theirs.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["openclaw-agent.sqlite", "state"]


@pytest.mark.postgres
def test_a_postgresql_database_of_another_program_is_not_migrated(
        tmp_path: Path, postgres_url: str) -> None:
    with create_engine(postgres_url).begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id integer)"))
    done = ingest(_state(tmp_path), postgres_url)
    assert done.code != 0 and FOREIGN in done.err and "invoices" in done.err
    with pytest.raises(DatabaseError, match=FOREIGN):
        open_existing(postgres_url)
    engine = create_engine(postgres_url)
    assert inspect(engine).get_table_names() == ["invoices"]
    engine.dispose()


def test_a_missing_database_is_the_one_that_gets_the_advice_to_fill_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(DatabaseError) as missing:
        open_existing(str(tmp_path / "none.db"))
    assert "run `.venv/bin/python session_parser.py --db" in str(missing.value)
    # review 19: a URL from the environment was shown with its password as ***, which no
    # one can paste; the command names the variable instead
    from openclaw_telemetry.store import ingest_command
    url = "postgresql+psycopg://u:s3cret@127.0.0.1:5432/t"
    monkeypatch.setenv("OPENCLAW_TELEMETRY_DB", url)
    assert ingest_command(url) == \
        '.venv/bin/python session_parser.py --db "$OPENCLAW_TELEMETRY_DB"'
    monkeypatch.delenv("OPENCLAW_TELEMETRY_DB")
    assert ingest_command(url) == \
        ".venv/bin/python session_parser.py --db 'postgresql+psycopg://u:***@127.0.0.1:5432/t'"
    with pytest.raises(DatabaseError) as directory:
        open_existing(str(folder))
    assert str(directory.value) == f"{folder} is a directory, not a database file"
    done = run_process("--sessions-dir", str(_state(tmp_path)), "--db", "sqlite://")
    assert done.returncode == 64 and "in-memory database keeps nothing" in done.stderr
