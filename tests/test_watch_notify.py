"""`session_parser.py --watch --alerts FILE` delivers a budget crossing after the call that
crossed it is appended. The delay from the write to the receiver is printed (run with -s)
and recorded as the test's `delivery_delay_s` property; it is measured, not asserted (the
figure goes in the issue notes)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from receivers import HttpReceiver

from tests.entries import assistant, header, lines, state_dir, write
from tests.test_watch import _wait_for

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_watch_delivers_a_budget_crossing(tmp_path: Path,
                                          record_property: pytest.RecordProperty) -> None:
    receiver = HttpReceiver().start()
    rules = tmp_path / "rules.toml"
    rules.write_text(f'notify = ["json://127.0.0.1:{receiver.port}/hook"]\n'
                     '[[rule]]\nname = "Quiet"\nmetric = "session_cost"\ncritical = 1000\n'
                     '[[budget]]\nname = "Daily"\nperiod = "day"\namount = 1.0\n'
                     'notify_at = [1.0]\n')
    now_ms = int(time.time() * 1000)
    sessions = state_dir(tmp_path)
    transcript = write(sessions, "b1.jsonl", header("b1", now_ms - 5000),
                       assistant(now_ms - 4000, cost=0.5, response_id="1"))
    db = tmp_path / "watch.db"
    proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--watch",
                             "--alerts", str(rules), "--sessions-dir", str(tmp_path / "state"),
                             "--db", str(db)], stderr=subprocess.PIPE, text=True,
                            env={"PATH": "/usr/bin:/bin", "TZ": "UTC"})
    try:
        _wait_for(db, 1, seconds=30)
        time.sleep(0.5)  # the first run's evaluation is done: nothing crossed yet
        assert receiver.requests == []
        with transcript.open("ab") as handle:
            handle.write(lines(assistant(now_ms - 1000, cost=0.6, response_id="2")))
        written = time.time()
        deadline = written + 30
        while not receiver.requests and time.time() < deadline:
            time.sleep(0.01)
        assert receiver.requests, "the budget crossing was not delivered"
        delay = receiver.requests[0].at - written
        record_property("delivery_delay_s", round(delay, 3))
        print(f"\n--watch delivery delay from the write: {delay:.3f} s")
        message = json.loads(receiver.requests[0].body)
        assert message["title"] == "[OpenClaw] Budget Daily at 100%"
        assert "$1.10 of $1.00 (110%)" in message["message"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        receiver.stop()
    assert proc.returncode == 143  # stopped by SIGTERM, as documented
    assert "notify new: [OpenClaw] Budget Daily at 100%" in err
    assert len(receiver.requests) == 1


def test_watch_survives_a_receiver_that_is_down_and_retries(tmp_path: Path) -> None:
    """The crossing happens while the receiver is down: the watcher warns (no secret), keeps
    running, and delivers once the receiver is back (retried at its next cycle, --poll)."""
    receiver = HttpReceiver()  # not listening yet
    secret = "W4tchS3cretT0ken"
    rules = tmp_path / "rules.toml"
    rules.write_text(f'notify = ["json://bot:{secret}@127.0.0.1:{receiver.port}/hook"]\n'
                     '[[rule]]\nname = "Quiet"\nmetric = "session_cost"\ncritical = 1000\n'
                     '[[budget]]\nname = "Daily"\nperiod = "day"\namount = 1.0\n')
    now_ms = int(time.time() * 1000)
    write(state_dir(tmp_path), "d1.jsonl", header("d1", now_ms - 5000),
          assistant(now_ms - 4000, cost=2.0, response_id="1"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--watch",
                             "--poll", "0.5", "--alerts", str(rules), "--sessions-dir",
                             str(tmp_path / "state"), "--db", str(tmp_path / "d.db")],
                            stderr=subprocess.PIPE, text=True,
                            env={"PATH": "/usr/bin:/bin", "TZ": "UTC"})
    try:
        _wait_for(tmp_path / "d.db", 1, seconds=30)
        time.sleep(1.0)  # a few failed evaluations
        assert proc.poll() is None
        receiver.start()
        deadline = time.time() + 30
        while not receiver.requests and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # later cycles send nothing more
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        receiver.stop()
    assert proc.returncode == 143  # stopped by SIGTERM, as documented
    assert [json.loads(r.body)["title"] for r in receiver.requests] == [
        "[OpenClaw] Budget Daily at 100%"]
    assert "FAILED" in err and "notify retry: [OpenClaw] Budget Daily at 100%" in err
    assert secret not in err and "Traceback" not in err


def test_alerts_option_needs_watch() -> None:
    from openclaw_telemetry import config
    from openclaw_telemetry.errors import ConfigError
    with pytest.raises(ConfigError, match="--alerts needs --watch"):
        config.load(["--alerts", "rules.toml"], env={})
    assert config.load(["--watch"], env={"OPENCLAW_TELEMETRY_ALERTS": "r.toml"}).alerts == "r.toml"
    assert config.load([], env={"OPENCLAW_TELEMETRY_ALERTS": "r.toml"}).alerts is None
