"""The product's demo: a generated OpenClaw install, read into a database marked as demo data.

`./start.sh --demo` runs `python -m openclaw_telemetry.demo prepare` (`prepare_demo`) and
then the ordinary ingest of the state directory it wrote; tests and scripts call
`build_demo`, which does both. The shape is fixed: `DEMO_AGENTS` agents over the
`DEMO_DAYS` days up to `now`, on an install upgraded from the JSONL era to the SQLite era,
so it holds what real installs hold: main sessions, direct and group chats, cron jobs and
their runs, sub-agents, reset chains, deleted and orphaned transcripts, `.bak` copies and
compressed archives, several models and providers (one without recorded costs), failed and
aborted calls, tool errors. The same seed and `now` give the same data.

Invariants: a database holding real telemetry is never touched (`NotDemoError`), and a
folder is only replaced when it holds generated data (`NotGeneratedError`).
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from openclaw_telemetry import cli
from openclaw_telemetry.demo.corpus import Options, clear_generated, generate
from openclaw_telemetry.demo.marker import DEMO_KEY, is_demo, mark_demo
from openclaw_telemetry.errors import DatabaseError
from openclaw_telemetry.ingest.bulk import DEFERRED
from openclaw_telemetry.schema import meta, metadata
from openclaw_telemetry.store import database_url, open_db, sqlite_path

DEMO_SEED = 424242
DEMO_CALLS = 6_000
DEMO_AGENTS = 5
DEMO_DAYS = 60
_KEPT_META = (DEFERRED, DEMO_KEY)  # rows of `meta` an emptied demo database keeps


def demo_options(*, seed: int = DEMO_SEED, now: datetime, calls: int = DEMO_CALLS) -> Options:
    """The generator options of the demo ending at `now` (an aware datetime)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime (e.g. datetime.now(UTC))")
    return Options(calls=calls, era="mixed", agents=DEMO_AGENTS, seed=seed, days=DEMO_DAYS,
                   end_ms=int(now.timestamp() * 1000))


def prepare_demo(state_dir: Path, db: str, *, now: datetime, seed: int = DEMO_SEED,
                 calls: int = DEMO_CALLS) -> dict[str, Any]:
    """Write the demo state directory to `state_dir` (replacing an earlier generated one)
    and make `db` (SQLite path or SQLAlchemy URL) a marked, empty demo database: an earlier
    demo database file is replaced, a database of real data is refused before anything is
    written. Returns the totals a correct ingest finds (`expected_totals.json`)."""
    url = database_url(db)
    _remove_earlier_demo(url)
    engine = open_db(url)
    try:
        mark_demo(engine)
    finally:
        engine.dispose()
    clear_generated(state_dir)
    return generate(state_dir, demo_options(seed=seed, now=now, calls=calls))


def build_demo(state_dir: Path, db: str, *, now: datetime, seed: int = DEMO_SEED,
               calls: int = DEMO_CALLS) -> dict[str, Any]:
    """`prepare_demo`, then the ingest `start.sh --demo` runs (session_parser.py's own, in
    this process): `db` holds the demo, ready for the dashboards. Returns the expected
    totals, which the database now holds."""
    expected = prepare_demo(state_dir, db, now=now, seed=seed, calls=calls)
    out, err = io.StringIO(), io.StringIO()
    if cli.run(["--sessions-dir", str(state_dir), "--db", db, "-q"], out=out, err=err):
        raise DatabaseError(f"the demo ingest failed: {err.getvalue().strip()}")
    return expected


def _remove_earlier_demo(url: str) -> None:
    """The demo database of an earlier run goes: every demo shows the days up to now. A
    SQLite file goes whole (with its -wal and -shm); another database (PostgreSQL) keeps
    its schema and loses every row, but for the marks of its schema's state. A database
    that is not marked as a demo is kept (mark_demo decides)."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        return
    engine = open_db(url, create=False)
    try:
        if is_demo(engine) is None:
            return
        if path is None:
            with engine.begin() as conn:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(delete(table) if table is not meta else
                                 delete(meta).where(meta.c.key.not_in(_KEPT_META)))
    finally:
        engine.dispose()
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
