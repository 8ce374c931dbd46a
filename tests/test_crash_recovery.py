"""Kill a real ingest process mid-run, run again: same database as an uninterrupted run (E2)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import calls_so_far, ingest, query, totals
from tests.entries import T0, assistant, header, lines, tool_call, tool_result, user

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _corpus(folder: Path, files: int = 12, calls: int = 250) -> None:
    sessions = folder / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    for f in range(files):
        sid = f"crash-{f:03d}"
        entries: list[dict[str, object]] = [header(sid, T0 + f * 10_000_000)]
        for i in range(calls):
            ms = T0 + f * 10_000_000 + i * 1000
            entries += [user("x" * 400, ms),
                        assistant(ms + 5, response_id=f"{sid}-{i}", cost=0.001,
                                  tools=[tool_call(f"{sid}-c{i}", "exec", command="ls")]),
                        tool_result(f"{sid}-c{i}", "exec", ms + 50, error=i % 7 == 0)]
        if f % 4 == 0:  # copies of a session: must still count once after crashes
            (sessions / f"{sid}.jsonl.bak.2026-11-24T00-00-00.000Z").write_bytes(lines(*entries))
        (sessions / f"{sid}.jsonl").write_bytes(lines(*entries))


def _kill_when(db: Path, state: Path, at_least: int) -> bool:
    """Start an ingest and SIGKILL it once `at_least` calls are committed; False if it ended."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--sessions-dir",
                             str(state), "--db", str(db), "-q", "--batch-size", "40"])
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if calls_so_far(db) >= at_least:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.wait()
    return False


def _snapshot(url: str) -> tuple[object, ...]:
    sums = {k: round(v, 9) if isinstance(v, float) else v for k, v in totals(url).items()}
    return (sorted(sums.items()),
            query(url, "SELECT session_id, total_messages, total_tool_calls, round(total_cost, 9),"
                       " start_time, end_time FROM sessions ORDER BY session_id"),
            query(url, "SELECT count(*) FROM tool_calls WHERE is_error IS NULL"),
            query(url, "SELECT rel_path, read_offset FROM sources ORDER BY rel_path"),
            query(url, "SELECT bucket, calls, round(cost, 9), tool_calls FROM usage_quarter_hours"
                       " ORDER BY bucket"),
            query(url, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"))


def test_killed_runs_end_exactly_where_an_uninterrupted_run_does(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _corpus(state)
    clean = f"sqlite:///{tmp_path / 'clean.db'}"
    assert ingest(state, clean, "-q").code == 0

    crashed = tmp_path / "crashed.db"
    kills = sum(_kill_when(crashed, state, at_least) for at_least in (1, 700, 1800))
    assert kills >= 1, "the ingest finished before it could be killed"
    url = f"sqlite:///{crashed}"
    assert ingest(state, url, "-q").code == 0
    assert _snapshot(url) == _snapshot(clean)
    assert totals(url)["llm_calls"] == 12 * 250
