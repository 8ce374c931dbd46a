"""Folders and settings files that cannot be read, and folders that hold no OpenClaw data:
each is named in one warning and the rest is read (contract E3); a folder the user named
that cannot be read at all is a one-line error. Permissions are simulated (tests may run
as root, for whom chmod denies nothing), at the system calls discovery makes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.sources import discover, files
from tests.conftest import calls_so_far, ingest, query, totals
from tests.entries import T0, assistant, header, state_dir, write

ROOT = Path(__file__).resolve().parents[1]


def two_agents(tmp_path: Path) -> Path:
    """A state directory: agent main (1 call, $0.25) and agent ops (2 calls, $0.50)."""
    main = state_dir(tmp_path, "main")
    write(main, "m-1.jsonl", header("m-1"), assistant(T0, response_id="m1", cost=0.25))
    ops = state_dir(tmp_path, "ops")
    write(ops, "o-1.jsonl", header("o-1"), assistant(T0, response_id="o1", cost=0.25),
          assistant(T0 + 1000, response_id="o2", cost=0.25))
    return main.parents[2]


def deny(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str,
         denied: Callable[[Path], bool]) -> None:
    """Make `owner.name(path, …)` raise EACCES for the paths `denied` picks."""
    original = getattr(owner, name)

    def guarded(path: Any, *args: Any, **kwargs: Any) -> Any:
        if denied(Path(path)):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(owner, name, guarded)


def test_unlistable_sessions_folder_is_named_and_the_other_agents_are_read(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    state = two_agents(tmp_path)
    ops = state / "agents" / "ops" / "sessions"
    deny(monkeypatch, discover.os, "scandir", lambda p: p == ops)
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert f"warning: {ops}: Permission denied" in ran.err
    assert "Could not read 1 file or folder (warnings above)" in ran.err
    assert totals(sqlite_url)["llm_calls"] == 1


def test_agent_folder_that_cannot_be_looked_into_is_named(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    state = two_agents(tmp_path)
    agent_dir = state / "agents" / "ops" / "agent"
    agent_dir.mkdir()
    database = agent_dir / discover.AGENT_DB_NAME
    deny(monkeypatch, Path, "is_file", lambda p: p == database)
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert f"warning: {database}: Permission denied" in ran.err
    assert totals(sqlite_url)["llm_calls"] == 3  # ops' transcripts are still read


def test_global_database_it_cannot_look_at_costs_no_transcript(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    state = two_agents(tmp_path)
    global_db = state / "state" / "openclaw.sqlite"
    deny(monkeypatch, Path, "is_file", lambda p: p == global_db)
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert ran.err.count(f"warning: {global_db}: Permission denied") == 1
    assert totals(sqlite_url)["llm_calls"] == 3


def test_unreadable_state_directory_is_one_line_error(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    state = two_agents(tmp_path)
    original = os.access
    monkeypatch.setattr(discover.os, "access",
                        lambda p, mode: False if Path(p) == state else original(p, mode))
    ran = ingest(state, sqlite_url)
    assert ran.code == 64
    assert ran.err.strip().splitlines() == [
        f"session_parser.py: error: --sessions-dir {state}: permission denied (run as a user "
        "who can read it; see the README, \"Give it read access\")"]


@pytest.mark.parametrize(("content", "said"), [
    (None, "Permission denied; not used"),
    (b"{ models: ", "not valid JSON (nor JSON5); not used"),
])
def test_settings_file_that_cannot_be_used_is_named(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, content: bytes | None,
        said: str) -> None:
    state = two_agents(tmp_path)
    config = state / "openclaw.json"
    config.write_bytes(content or b"{}")
    if content is None:
        deny(monkeypatch, files.os, "open", lambda p: p == config)
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert ran.err.count(f"warning: {config}: {said}") == 1  # once, however many agents
    assert totals(sqlite_url)["llm_calls"] == 3


def test_a_settings_file_named_in_the_environment_that_is_missing_is_named(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    state = two_agents(tmp_path)
    missing = tmp_path / "nowhere" / "openclaw.json"
    monkeypatch.setenv("OPENCLAW_CONFIG_PATH", str(missing))
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert ran.err.count(f"warning: {missing} ($OPENCLAW_CONFIG_PATH): no such file") == 1
    assert totals(sqlite_url)["llm_calls"] == 3


def test_the_agents_folder_reads_as_its_state_directory(tmp_path: Path) -> None:
    state = two_agents(tmp_path)
    whole, agents = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert ingest(state, whole, "-q").code == 0
    ran = ingest(state / "agents", agents)
    assert ran.code == 0 and f"Scanning {state} (2 agents)" in ran.err
    assert totals(agents) == totals(whole)


@pytest.mark.parametrize("folder", ["empty", "etc-like"])
def test_folder_without_openclaw_data_is_warned_about(tmp_path: Path, sqlite_url: str,
                                                      folder: str) -> None:
    target = tmp_path / folder
    target.mkdir()
    if folder == "etc-like":
        (target / "hosts").write_text("127.0.0.1 localhost\n")
        (target / "conf.d").mkdir()
    for quiet in ([], ["-q"]):
        ran = ingest(target, sqlite_url, *quiet)
        assert ran.code == 0
        assert (f"warning: {target} holds no OpenClaw data: expected a state directory (the "
                "folder holding agents/), one agent's folder, or a folder of .jsonl "
                "transcripts") in ran.err
        if not quiet:  # the line before it agrees: not the "1 agent" of a bare folder
            assert ran.err.splitlines()[0] == f"Scanning {target} (no agent)"


def test_a_folder_of_transcripts_is_not_warned_about(tmp_path: Path, sqlite_url: str) -> None:
    folder = tmp_path / "copied"
    write(folder, "s-1.jsonl", header("s-1"), assistant(T0, response_id="r1"))
    ran = ingest(folder, sqlite_url)
    assert ran.code == 0 and "holds no OpenClaw data" not in ran.err
    assert ran.err.splitlines()[0] == f"Scanning {folder} (1 agent)"
    assert totals(sqlite_url)["llm_calls"] == 1


def test_fresh_state_directory_is_not_warned_about(tmp_path: Path, sqlite_url: str) -> None:
    state = state_dir(tmp_path).parents[2]
    ran = ingest(state, sqlite_url)
    assert ran.code == 0 and "warning" not in ran.err


@pytest.mark.parametrize("variable", ["OPENCLAW_SESSIONS_DIR", "OPENCLAW_STATE_DIR"])
def test_missing_folder_from_the_environment_names_the_variable(tmp_path: Path,
                                                                variable: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), variable: str(tmp_path / "nope")}
    done = subprocess.run([sys.executable, str(ROOT / "session_parser.py"), "--db",
                           str(tmp_path / "t.db")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 64
    assert done.stderr.strip().splitlines() == [
        f"session_parser.py: error: ${variable} {tmp_path / 'nope'}: no such directory"]


def test_resolve_roots_reports_a_default_folder_it_cannot_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = two_agents(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".openclaw").symlink_to(state)
    original = os.access
    monkeypatch.setattr(discover.os, "access", lambda p, mode: False if Path(p) == home /
                        ".openclaw" else original(p, mode))
    with pytest.raises(ConfigError, match="permission denied"):
        discover.resolve_roots(None, {"HOME": str(home)})


def test_sigterm_stops_a_run_that_the_next_run_completes(tmp_path: Path) -> None:
    from tests.test_signals import locked_agent_database

    sessions = state_dir(tmp_path)
    for f in range(10):
        write(sessions, f"s-{f:03d}.jsonl", header(f"s-{f:03d}"),
              *(assistant(T0 + i * 1000, response_id=f"s{f}-{i}", cost=0.001)
                for i in range(200)))
    state, db = sessions.parents[2], tmp_path / "t.db"
    with locked_agent_database(state):  # the run cannot end before the signal comes
        proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"),
                                 "--sessions-dir", str(state), "--db", str(db), "-q",
                                 "--batch-size", "100"], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not calls_so_far(db) and time.monotonic() < deadline:  # stopped half-way
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1] == (
        "session_parser.py: interrupted; the next run continues where this one stopped")
    url = f"sqlite:///{db}"
    assert 0 < totals(url)["llm_calls"] < 2_001
    assert ingest(state, url, "-q").code == 0
    assert totals(url)["llm_calls"] == 2_001
    assert json.loads(ingest(state, url, "--json").out)["new_calls"] == 0


def test_legacy_single_agent_layouts_belong_to_agent_main(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(home / ".clawdis" / "sessions", "s1.jsonl", header("s1"), assistant(T0, response_id="1"))
    write(home / ".openclaw-old" / "sessions", "s2.jsonl", header("s2"),
          assistant(T0, response_id="2"))
    roots = discover.resolve_roots(None, {"HOME": str(home)})
    assert sorted((r.path.name, [a.agent_id for a in r.agents]) for r in roots) == [
        (".clawdis", ["main"]), (".openclaw-old", ["main"])]


def test_tilde_in_the_state_dir_variable_is_openclaws_home(tmp_path: Path) -> None:
    state = two_agents(tmp_path)
    env = {"HOME": str(tmp_path / "elsewhere"), "OPENCLAW_HOME": str(state.parent),
           "OPENCLAW_STATE_DIR": f"~/{state.name}"}
    (root,) = discover.resolve_roots(None, env)
    assert root.path == state.resolve()


def test_agent_database_it_may_not_read_says_permission_denied(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from openclaw_telemetry.sources import sqlite_store
    from tests.test_sqlite_era import agent_db

    state = two_agents(tmp_path)
    agent_db(state, "ops").close()
    database = state / "agents" / "ops" / "agent" / discover.AGENT_DB_NAME
    original_access, original_connect = os.access, sqlite_store.sqlite3.connect

    def refuse(target: str, *args: Any, **kwargs: Any) -> Any:
        if str(database) in target:
            raise sqlite_store.sqlite3.OperationalError("unable to open database file")
        return original_connect(target, *args, **kwargs)

    monkeypatch.setattr(sqlite_store.os, "access", lambda p, mode: False if Path(p) == database
                        else original_access(p, mode))
    monkeypatch.setattr(sqlite_store.sqlite3, "connect", refuse)
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert f"warning: {database}: Permission denied ({database.name})" in ran.err
    assert totals(sqlite_url)["llm_calls"] == 3


def test_unreadable_cron_folder_costs_nothing_of_the_global_database(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    state = two_agents(tmp_path)
    runs = state / "cron" / "runs"
    runs.mkdir(parents=True)
    (state / "state").mkdir()
    with sqlite3.connect(state / "state" / "openclaw.sqlite") as db:
        db.execute("CREATE TABLE cron_jobs (job_id TEXT, agent_id TEXT, name TEXT)")
        db.execute("INSERT INTO cron_jobs VALUES ('job1', 'main', 'nightly')")
    db.close()
    deny(monkeypatch, Path, "iterdir", lambda p: p == runs)
    ran = ingest(state, sqlite_url)
    assert ran.code == 0 and f"warning: {runs}: Permission denied" in ran.err
    assert query(sqlite_url, "SELECT job_id, name FROM cron_jobs") == [("job1", "nightly")]


def test_a_symlinked_legacy_folder_is_read_once(tmp_path: Path) -> None:
    state = two_agents(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".openclaw").symlink_to(state)
    (home / ".clawdbot").symlink_to(state)
    assert [r.path for r in discover.resolve_roots(None, {"HOME": str(home)})] == [state]


def test_prices_unreadable_in_one_run_are_applied_once_readable(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, "s.jsonl", header("s"),
          assistant(T0, inp=1_000_000, out=0, cost=0, response_id="1", provider="local",
                    model="my-llama"))
    config = sessions.parents[2] / "openclaw.json"
    config.write_text(json.dumps({"models": {"providers": {"local": {"models": [
        {"id": "my-llama", "cost": {"input": 2, "output": 0}}]}}}}))
    with monkeypatch.context() as patch:
        deny(patch, files.os, "open", lambda p: p == config)
        assert ingest(sessions.parents[2], sqlite_url).code == 0
    assert query(sqlite_url, "SELECT cost_source FROM messages") == [("unpriced",)]
    assert ingest(sessions.parents[2], sqlite_url).code == 0  # permissions fixed, same mtime
    assert query(sqlite_url, "SELECT cost, cost_source FROM messages") == [(2.0, "estimated")]


def test_a_store_unreadable_in_one_run_is_read_once_readable(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, "s1.jsonl", header("s1"), assistant(T0, response_id="1"))
    store = sessions / "sessions.json"
    store.write_text(json.dumps({"agent:main:telegram:direct:7": {"sessionId": "s1"}}))
    with monkeypatch.context() as patch:
        deny(patch, files.os, "open", lambda p: p == store)
        assert ingest(sessions.parents[2], sqlite_url).code == 0
    assert query(sqlite_url, "SELECT session_key FROM sessions") == [(None,)]
    assert ingest(sessions.parents[2], sqlite_url).code == 0
    assert query(sqlite_url, "SELECT session_key FROM sessions") == [
        ("agent:main:telegram:direct:7",)]


def test_global_database_unreadable_once_is_read_next_run(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from openclaw_telemetry.sources import sqlite_store

    state = two_agents(tmp_path)
    (state / "state").mkdir()
    global_db = state / "state" / "openclaw.sqlite"
    with sqlite3.connect(global_db) as db:
        db.execute("CREATE TABLE cron_jobs (job_id TEXT, agent_id TEXT, name TEXT)")
        db.execute("INSERT INTO cron_jobs VALUES ('job1', 'main', 'nightly')")
    db.close()
    original = sqlite_store.sqlite3.connect

    def refuse(target: str, *args: Any, **kwargs: Any) -> Any:
        if str(global_db) in target:
            raise sqlite_store.sqlite3.OperationalError("unable to open database file")
        return original(target, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(sqlite_store.sqlite3, "connect", refuse)
        assert ingest(state, sqlite_url).code == 0
    assert query(sqlite_url, "SELECT job_id FROM cron_jobs") == []
    assert ingest(state, sqlite_url).code == 0  # fixed; the file itself did not change
    assert query(sqlite_url, "SELECT job_id, name FROM cron_jobs") == [("job1", "nightly")]


SETTINGS_AND_STORES = ["openclaw.json", "agents/ops/agent/models.json",
                       "agents/ops/agent/auth-profiles.json", "agents/ops/sessions/sessions.json",
                       "cron/jobs.json", "state/openclaw.sqlite"]


@pytest.mark.parametrize("garbage", [b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
                         ids=["unclosed", "closed"])
@pytest.mark.parametrize("name", SETTINGS_AND_STORES)
def test_deeply_nested_garbage_in_a_settings_file_costs_only_that_file(
        tmp_path: Path, sqlite_url: str, name: str, garbage: bytes) -> None:
    state = two_agents(tmp_path)
    target = state / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(garbage)
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert f"warning: {target}: " in ran.err and "Traceback" not in ran.err
    assert totals(sqlite_url)["llm_calls"] == 3


@contextmanager
def fifo(path: Path) -> Iterator[None]:
    """A named pipe at `path`. A reader stuck on it is let go every few seconds, so that a
    run that would hang fails the test instead of stalling it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    done = threading.Event()

    def let_go() -> None:
        while not done.wait(3):
            with contextlib.suppress(OSError):  # (no reader: nothing to let go)
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    helper = threading.Thread(target=let_go, daemon=True)
    helper.start()
    try:
        yield
    finally:
        done.set()
        helper.join()


@pytest.mark.parametrize("name", [*SETTINGS_AND_STORES, "cron/runs/job1.jsonl",
                                  "agents/ops/sessions/o-2.jsonl",
                                  "agents/ops/sessions/cold/o-3.jsonl.zst",
                                  "session-sqlite-import-archive/agents/ops/o-4.jsonl",
                                  "agents/ops/agent/openclaw-agent.sqlite"])
def test_a_settings_file_or_transcript_that_is_a_fifo_is_named_and_never_opened(
        tmp_path: Path, sqlite_url: str, name: str) -> None:
    state = two_agents(tmp_path)
    target = state / name
    with fifo(target):
        ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert f"warning: {target}: not a regular file" in ran.err
    assert totals(sqlite_url)["llm_calls"] == 3


@pytest.mark.parametrize("name", ["agents/ops/sessions/o-2.jsonl",
                                  "agents/ops/sessions/cold/o-3.jsonl.zst",
                                  "session-sqlite-import-archive/agents/ops/o-4.jsonl"])
def test_a_transcript_that_is_a_symlink_to_nothing_is_named(
        tmp_path: Path, sqlite_url: str, name: str) -> None:
    state = two_agents(tmp_path)
    link = state / name
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(tmp_path / "moved-away.jsonl")
    ran = ingest(state, sqlite_url)
    assert ran.code == 0, ran.err
    assert f"warning: {link}: a symbolic link to a file that does not exist" in ran.err
    assert totals(sqlite_url)["llm_calls"] == 3


def test_a_symlink_loop_hides_no_transcript_beside_it(tmp_path: Path, sqlite_url: str) -> None:
    sessions = state_dir(tmp_path)
    (sessions / "a.jsonl").symlink_to(sessions / "b.jsonl")
    (sessions / "b.jsonl").symlink_to(sessions / "a.jsonl")
    for name in ("0-before", "c-after", "d-after"):
        write(sessions, f"{name}.jsonl", header(name), assistant(T0, response_id=name))
    archive = sessions.parents[2] / "session-sqlite-import-archive"
    archive.mkdir()
    (archive / "x.jsonl").symlink_to(archive / "x.jsonl")
    write(archive, "y.jsonl", header("y"), assistant(T0, response_id="y"))
    ran = ingest(sessions.parents[2], sqlite_url)
    assert ran.code == 0, ran.err
    for loop in (sessions / "a.jsonl", sessions / "b.jsonl", archive / "x.jsonl"):
        assert f"warning: {loop}: Too many levels of symbolic links" in ran.err
    assert totals(sqlite_url)["llm_calls"] == 4


def test_an_unreadable_cold_folder_hides_no_import_archive(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, "s.jsonl", header("s"), assistant(T0, response_id="s"))
    cold = sessions / "cold"
    cold.mkdir()
    write(sessions.parent / discover.IMPORT_ARCHIVE_DIR, "m.jsonl", header("m"),
          assistant(T0, response_id="m"))
    deny(monkeypatch, discover.os, "scandir", lambda p: p == cold)
    ran = ingest(sessions.parents[2], sqlite_url)
    assert ran.code == 0, ran.err
    assert f"warning: {cold}: Permission denied" in ran.err
    assert totals(sqlite_url)["llm_calls"] == 2
