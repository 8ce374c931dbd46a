"""`session_parser.py report` speed on a synthetic database of 1 million LLM calls (issue
14 item 4: a report answers in 0.5 s or less, whole command). Not `bench_report.py`, which
renders `run_bench.py`'s table.

Builds (or reuses) the database with `bench/synthetic_db.py`, then runs each report as a
process of its own (interpreter start-up, imports, query, drawing the table or the JSON),
`--runs` times, and prints the median and the slowest wall time, and the median CPU time
(user + system: what the command itself costs, whatever else the machine runs), as a
Markdown table; the first row is the floor, `python -c "import sqlalchemy"`.

    .venv/bin/python bench/bench_report_command.py [--calls 1000000] [--db PATH] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_db import GATEWAY, build

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.5
CASES = (
    ("daily", ()), ("daily", ("--json",)), ("daily", ("--tz", "Europe/Berlin")),
    ("monthly", ()), ("model", ()), ("session", ()), ("session", ("--limit", "0", "--json")),
    ("daily", ("--gateway", GATEWAY, "--agent", "main")),
)


def timed(command: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS (MB), exit code of one run."""
    began = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return (time.perf_counter() - began, usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", help="SQLite file (default: $TMPDIR/openclaw-bench-<calls>.db)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.gettempdir()) / f"openclaw-bench-{args.calls}.db")
    build(db, calls=args.calls).dispose()
    print(f"| command | median | slowest | CPU (median) | peak RSS | ≤ {TARGET_S} s |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    floor = ("floor: python -c 'import sqlalchemy'", [sys.executable, "-c", "import sqlalchemy"])
    cases = [floor, *((" ".join(("report", kind, *extra)),
                       [sys.executable, str(ROOT / "session_parser.py"), "report", kind,
                        "--db", db, *extra]) for kind, extra in CASES)]
    for shown, command in cases:
        runs = [timed(command) for _ in range(args.runs)]
        if any(code != 0 for *_, code in runs):
            print(f"| `{shown}` | FAIL | | | | |")
            continue
        median = statistics.median(r[0] for r in runs)
        print(f"| `{shown}` | {median:.3f} s | {max(r[0] for r in runs):.3f} s | "
              f"{statistics.median(r[1] for r in runs):.3f} s | "
              f"{max(r[2] for r in runs):.0f} MB | "
              f"{'PASS' if median <= TARGET_S else 'MISS'} |", flush=True)


if __name__ == "__main__":
    main()
