"""SIGTERM and Ctrl-C (contract E2, README exit codes): at any moment a stop ends the run
with one line and 143 or 130 — during the imports, a run, `--watch` busy or idle — and what
was being read when it came is read again by the next run, never booked as bad input."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from openclaw_telemetry.sources import jsonl
from tests.conftest import ingest, query, totals
from tests.entries import T0, assistant, header, write
from tests.test_sqlite_era import add_events, agent_db

ROOT = Path(__file__).resolve().parents[1]
STOPPED = "session_parser.py: interrupted; the next run continues where this one stopped"
IDLE = "session_parser.py: stopped between runs (nothing was interrupted)"
VICTIM = 4242  # input tokens of the call being parsed when the signal comes


def _state(tmp_path: Path, where: str) -> Path:
    """Calls before and after the victim, in a transcript, an agent database or an import
    archive."""
    state = tmp_path / "state"
    calls = [assistant(T0 + i * 1000, response_id=f"r{i}", inp=VICTIM if i == 5 else 100)
             for i in range(10)]
    if where == "database":
        conn = agent_db(state)
        add_events(conn, "db-s", [header("db-s"), *calls])
        conn.close()
    elif where == "archive":
        write(state / "session-sqlite-import-archive" / "agents" / "main", "a.jsonl",
              header("a"), *calls)
    else:
        write(state / "agents" / "main" / "sessions", "s.jsonl", header("s"), *calls)
    write(state / "agents" / "main" / "sessions", "z-after.jsonl", header("z"),
          assistant(T0 + 99_000, response_id="after"))
    return state


@pytest.mark.parametrize("watch", [False, True], ids=["once", "watch"])
@pytest.mark.parametrize("where", ["transcript", "database", "archive"])
def test_a_stop_while_an_entry_is_parsed_is_not_bad_input(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, where: str,
        watch: bool) -> None:
    state = _state(tmp_path, where)
    real = jsonl.normalize_usage

    def stop_here(usage: dict[str, Any], problems: list[str]) -> Any:
        if usage.get("input") == VICTIM:  # SIGTERM arrives while this entry is parsed
            os.kill(os.getpid(), signal.SIGTERM)
        return real(usage, problems)

    with monkeypatch.context() as patch:
        patch.setattr(jsonl, "normalize_usage", stop_here)
        ran = ingest(state, sqlite_url, "-q", *(["--watch"] if watch else []))
    assert query(sqlite_url, "SELECT kind, detail FROM parse_issues") == []
    assert (ran.code, ran.err.strip()) == (143, STOPPED)
    assert ingest(state, sqlite_url, "-q").code == 0
    cold = f"sqlite:///{tmp_path / 'cold.db'}"
    assert ingest(state, cold, "-q").code == 0
    assert totals(sqlite_url) == totals(cold)
    assert totals(sqlite_url)["llm_calls"] == 11


@contextmanager
def locked_agent_database(state: Path) -> Iterator[None]:
    """An agent database OpenClaw holds locked: a run cannot get past it while it lasts."""
    conn = agent_db(state, "ops", journal="delete")
    add_events(conn, "ops-1", [header("ops-1"), assistant(T0, response_id="ops")])
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _start(state: Path, db: Path, *args: str, python: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *python, str(ROOT / "session_parser.py"),
                             "--sessions-dir", str(state), "--db", str(db), *args],
                            stderr=subprocess.PIPE, text=True)


def _stop_after(proc: subprocess.Popen[str], seen: str, signum: int) -> tuple[int, list[str]]:
    """Send the signal once stderr shows `seen`; the exit code and all of stderr."""
    assert proc.stderr is not None
    err = []
    for line in proc.stderr:
        err.append(line.rstrip("\n"))
        if seen in line:
            proc.send_signal(signum)
            break
    else:
        raise AssertionError(f"never saw {seen!r}: {err}")
    err += proc.stderr.read().splitlines()
    return proc.wait(timeout=60), err


MOMENTS = {  # where the process is when the signal comes, and the line that shows it
    "importing": ((), "sqlalchemy"),
    "reading": ((), "Scanning"),
    "watch-reading": (("--watch",), "Watching for changes"),
    "watch-idle": (("--watch",), "+1 call,"),
}


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_a_stop_at_any_moment_is_one_line_and_its_exit_code(
        tmp_path: Path, moment: str, signum: int) -> None:
    args, seen = MOMENTS[moment]
    state = tmp_path / "state"
    write(state / "agents" / "main" / "sessions", "s.jsonl", header("s"),
          assistant(T0, response_id="1"))
    python = ("-X", "importtime") if moment == "importing" else ()
    with contextlib.ExitStack() as stack:
        if moment != "watch-idle":  # the run cannot end before the signal comes
            stack.enter_context(locked_agent_database(state))
        code, err = _stop_after(_start(state, tmp_path / "t.db", *args, python=python), seen,
                                signum)
    said = [line for line in err if not line.startswith("import time:")]
    assert "Traceback" not in "\n".join(said) and "Exception" not in "\n".join(said), said
    # a watcher waiting for changes interrupts nothing (review 19: every `systemctl stop`
    # logged "interrupted; the next run continues …")
    assert (code, said[-1]) == (128 + signum, IDLE if moment == "watch-idle" else STOPPED)


@pytest.mark.slow
def test_ctrl_c_then_sigterm_at_once_is_one_stop_without_a_traceback(tmp_path: Path) -> None:
    """Ctrl-C in `./start.sh --watch` signals the process group (SIGINT), and start.sh
    then stops its children (SIGTERM): review 19 saw 'OSError: Signal 15 ignored due to
    race condition' and a traceback 5 times in 5. The first handler had set both signals
    to their default, under a SIGTERM already pending for its Python handler. A second
    signal that follows at once is the same stop; one a second later still ends the
    process at once (the test above: a stop that takes too long)."""
    state = tmp_path / "state"
    write(state / "agents" / "main" / "sessions", "s.jsonl", header("s"),
          assistant(T0, response_id="1"))
    for _ in range(3):
        proc = _start(state, tmp_path / "t.db", "--watch")
        assert proc.stderr is not None
        for line in proc.stderr:
            if "+1 call," in line or "no change" in line or "Watching" in line:
                break
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGTERM)
        err = proc.stderr.read()
        code = proc.wait(timeout=60)
        assert "Traceback" not in err and "OSError" not in err, err
        # one stop, by whichever signal Python ran first: two sent at once by another
        # process reach its handlers in either order (CI saw 143 once in a busy run)
        assert code in (130, 143) and err.strip().splitlines()[-1] in (STOPPED, IDLE), err


def test_a_second_signal_later_ends_a_slow_stop_at_once(tmp_path: Path) -> None:
    """The promise of `stopping`: after the first signal, a second one (not the one that
    follows it at once) ends the process at once, by that signal."""
    script = ("import os, signal, sys, time\n"
              "from openclaw_telemetry import stopping\n"
              "with stopping.noting():\n"
              "    print('ready', flush=True)\n"
              "    time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    import time
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == -signal.SIGTERM
