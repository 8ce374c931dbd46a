"""The write floor: what storing a cold ingest's rows costs, with no per-call logic at all.

    python bench/write_floor.py DB SCRATCH_DB [--runs N]

Reads the rows a cold ingest stored in its per-call tables (`messages`, `tool_calls`,
`tool_results`, `message_occurrences`) from DB, then stores them again, N times, into an
empty SCRATCH_DB with the product's pragmas and the same tables: one transaction of driver
`executemany` (INSERT ... ON CONFLICT DO NOTHING), then the secondary indexes, as a first
ingest does. Prints `{"seconds": <median>, "rows": <count>}`. A process of its own, so that
`run_bench.py` never holds these rows (children forked from it would count them as their
own peak memory).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_measure import REPO, timed

sys.path.insert(0, str(REPO))

from openclaw_telemetry.store import make_engine  # the product's own pragmas

# the tables that grow with the number of calls; the rest hold a row per session or source
PER_CALL_TABLES = ("messages", "tool_calls", "tool_results", "message_occurrences")


@dataclass(slots=True)
class StoredRows:
    """What a cold ingest stored in its per-call tables, with their DDL."""

    tables: list[str]
    indexes: list[str]
    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]

    @property
    def count(self) -> int:
        return sum(len(rows) for _, rows in self.rows.values())


def stored_rows(db: Path) -> StoredRows:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        marks = ", ".join("?" * len(PER_CALL_TABLES))
        ddl = conn.execute(f"SELECT type, sql FROM sqlite_master WHERE tbl_name IN ({marks}) "  # noqa: S608 (placeholders)
                           "AND sql IS NOT NULL", PER_CALL_TABLES).fetchall()
        rows = {}
        for table in PER_CALL_TABLES:
            cursor = conn.execute(f"SELECT * FROM {table}")  # noqa: S608 (constant names)
            columns = [d[0] for d in cursor.description]
            rows[table] = (columns, cursor.fetchall())
    finally:
        conn.close()
    return StoredRows([sql for kind, sql in ddl if kind == "table"],
                      [sql for kind, sql in ddl if kind == "index"], rows)


def write_floor(stored: StoredRows, target: Path) -> None:
    """Store the rows again into an empty database, as a first ingest does and no more."""
    for leftover in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        leftover.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{target}")
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        for sql in stored.tables:
            cursor.execute(sql)
        conn.commit()
        for table, (columns, rows) in stored.rows.items():
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (constant names)
                f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT DO NOTHING", rows)
        conn.commit()
        for sql in stored.indexes:
            cursor.execute(sql)
        conn.commit()
    finally:
        conn.close()
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="the database of a cold ingest")
    parser.add_argument("scratch", type=Path, help="an empty database file to write (replaced)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is printed")
    args = parser.parse_args(argv)
    stored = stored_rows(args.db)
    seconds = timed(lambda: write_floor(stored, args.scratch), args.runs)
    print(json.dumps({"seconds": seconds, "rows": stored.count}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
