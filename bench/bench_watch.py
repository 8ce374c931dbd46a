"""Live-ingest benchmark: latency from OpenClaw writing to the row being queryable, and the
watcher's CPU use while idle (issue 5: < 2 s, < 1 % of a core).

    python bench/bench_watch.py [--events 100] [--idle 60]

Starts `session_parser.py --watch` on a small generated state directory, then alternately
appends an assistant line to a live JSONL transcript and inserts a `transcript_events` row
into an agent database, polling the telemetry database for each new call.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = 1795490000000


def _assistant(n: int) -> str:
    ms = T0 + n * 1000
    return json.dumps({
        "type": "message", "id": f"{n:08x}", "parentId": None,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ms / 1000)),
        "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}],
                    "provider": "bench", "model": "m", "responseId": f"bench-{n}",
                    "usage": {"input": 10, "output": 1, "cacheRead": 0, "cacheWrite": 0,
                              "cost": {"total": 0.001}}, "stopReason": "stop",
                    "timestamp": ms}})


def _setup(base: Path) -> tuple[Path, sqlite3.Connection]:
    sessions = base / "state" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    live = sessions / "live.jsonl"
    live.write_text(json.dumps({"type": "session", "version": 3, "id": "live",
                                "timestamp": "2026-11-24T00:00:00.000Z"}) + "\n")
    agent = base / "state" / "agents" / "db" / "agent"
    agent.mkdir(parents=True)
    conn = sqlite3.connect(agent / "openclaw-agent.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("CREATE TABLE transcript_events (session_id TEXT, seq INTEGER, event_json TEXT,"
                 " created_at INTEGER, event_zstd BLOB, PRIMARY KEY (session_id, seq))")
    return live, conn


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.Error:
        return -1


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _latencies(live: Path, conn: sqlite3.Connection, db: Path, events: int) -> list[float]:
    found: list[float] = []
    for n in range(events):
        started = time.monotonic()
        if n % 2 == 0:
            with live.open("a") as handle:
                handle.write(_assistant(n) + "\n")
        else:
            conn.execute("INSERT INTO transcript_events VALUES ('s', ?, ?, 0, NULL)",
                         (n, _assistant(n)))
        while _count(db) < n + 1:
            if time.monotonic() - started > 30:
                raise SystemExit(f"event {n} did not arrive within 30 s")
            time.sleep(0.005)
        found.append(time.monotonic() - started)
        time.sleep(0.3)  # events apart, as a gateway writes them
    return found


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__,
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_argument("--events", type=int, default=100)
    options.add_argument("--idle", type=float, default=60.0, help="seconds of idle CPU sampling")
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        live, conn = _setup(base)
        db = base / "telemetry.db"
        proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--watch",
                                 "-q", "--sessions-dir", str(base / "state"), "--db", str(db)])
        try:
            while _count(db) < 0:
                time.sleep(0.05)
            found = _latencies(live, conn, db, args.events)
            time.sleep(2)
            before, started = _cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.idle)
            idle = (_cpu_seconds(proc.pid) - before) / (time.monotonic() - started)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            conn.close()
    cuts = statistics.quantiles(found, n=100)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"command: python bench/bench_watch.py --events {args.events} --idle {args.idle:g}")
    print("| measure | value | target |\n|---|---|---|")
    print(f"| write -> queryable, p50 ({args.events} events) | {cuts[49]:.3f} s | < 2 s |")
    print(f"| write -> queryable, p95 | {cuts[94]:.3f} s | < 2 s |")
    print(f"| write -> queryable, max | {max(found):.3f} s | |")
    print(f"| idle CPU over {args.idle:g} s | {idle * 100:.2f} % of a core | < 1 % |")


if __name__ == "__main__":
    main()
