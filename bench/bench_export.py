"""Export memory and speed on a synthetic database of 1 million LLM calls (issue 14 item 3:
1M calls under 300 MB peak memory).

Builds (or reuses) the database with `bench/synthetic_db.py`, then runs the whole command
`session_parser.py export --what W --format F -o FILE` once per kind and format, as a
process of its own, and reports its wall time, its peak RSS (`wait4`'s ru_maxrss) and the
file's size and rows. Prints a Markdown table.

    .venv/bin/python bench/bench_export.py [--calls 1000000] [--db PATH] [--what calls ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_measure import run_command
from synthetic_db import build

ROOT = Path(__file__).resolve().parent.parent
WHATS = ("calls", "sessions", "tool-calls", "daily")
FORMATS = ("csv", "json", "parquet")
TARGET_MB = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", help="SQLite file (default: $TMPDIR/openclaw-bench-<calls>.db)")
    parser.add_argument("--what", nargs="+", choices=WHATS, default=list(WHATS))
    parser.add_argument("--format", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.gettempdir()) / f"openclaw-bench-{args.calls}.db")
    build(db, calls=args.calls).dispose()
    print(f"| what | format | rows | file | time | peak RSS | ≤ {TARGET_MB} MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        for what in args.what:
            for fmt in args.format:
                target = Path(scratch) / f"{what}.{fmt}"
                ran = run_command([sys.executable, str(ROOT / "session_parser.py"), "export",
                                   "--db", db, "--what", what, "--format", fmt,
                                   "-o", str(target)])
                if ran.code != 0:
                    print(f"| {what} | {fmt} | FAIL: {ran.stderr.strip()[:80]} | | | | |")
                    continue
                rows = ran.stderr.split()[0]
                size = target.stat().st_size / 2**20
                print(f"| {what} | {fmt} | {rows} | {size:,.0f} MB | {ran.wall:.1f} s | "
                      f"{ran.peak_mb:.0f} MB | {'PASS' if ran.peak_mb <= TARGET_MB else 'MISS'} |",
                      flush=True)
                target.unlink()


if __name__ == "__main__":
    main()
