"""Shared fixtures: sample copies, databases on SQLite and a real PostgreSQL server.

The real samples (shared/samples beside the checkout) are read only by the tests that use
them, through `samples_dir`, `sample_figures`, `copy_sample` or the `sample` fixture: a clone
without them still collects and runs every other test."""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from openclaw_telemetry import cli
from openclaw_telemetry.model import COST_DECIMALS

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
if not SAMPLES.is_dir():  # CI clones the repo with shared/ beside it
    SAMPLES = Path(os.environ.get("OPENCLAW_SAMPLES", "../shared/samples")).resolve()
# The real installs in shared/samples/ (test_golden_samples checks that expected.json lists
# exactly these), named here so that tests can be parametrized without reading the samples.
SAMPLE_VERSIONS = ("openclaw-2026.7.1", "openclaw-2026.9.6")
PG_ENV = "OPENCLAW_TEST_PG_URL"
SAMPLES_MISSING = (f"the real OpenClaw samples are not at {SAMPLES} (put shared/ beside the "
                   "checkout, as CI does, or set OPENCLAW_SAMPLES)"
                   if not (SAMPLES / "expected.json").is_file() else None)


def pytest_report_header() -> list[str]:
    url = os.environ.get(PG_ENV)
    lines = [f"PostgreSQL tests: {make_url(url).render_as_string(hide_password=True)}" if url
             else f"PostgreSQL tests: SKIPPED ({PG_ENV} is not set; scripts/test.sh starts "
                  "a server)"]
    if SAMPLES_MISSING:
        lines.append(f"Golden sample tests: SKIPPED ({SAMPLES_MISSING})")
    return lines


def samples_dir() -> Path:
    """shared/samples; read only when a test needs it: without it the test skips and says
    why (under CI it fails), and every other test of its module still runs."""
    if SAMPLES_MISSING:
        if os.environ.get("CI"):
            pytest.fail(f"{SAMPLES_MISSING}; under CI they must be there")
        pytest.skip(SAMPLES_MISSING)
    return SAMPLES


@functools.cache
def _expected_json() -> dict[str, Any]:
    versions: dict[str, Any] = json.loads((samples_dir() / "expected.json").read_text())[
        "versions"]
    return versions


def sample_figures(version: str) -> dict[str, Any]:
    """The correct figures of a sample (`total`, `per_source`) from expected.json."""
    return dict(_expected_json()[version])


def copy_sample(version: str, target: Path) -> Path:
    """A private copy of a sample state directory at `target` (tests never touch shared/)."""
    shutil.copytree(samples_dir() / version, target)
    return target


@pytest.fixture
def sample(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A private copy of a sample state directory (default: the JSONL-era one)."""
    name = getattr(request, "param", SAMPLE_VERSIONS[0])
    return copy_sample(name, tmp_path / name)


def _postgres_database() -> Iterator[str]:
    admin_url = os.environ.get(PG_ENV)
    if not admin_url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is not set in CI: PostgreSQL must be exercised")
        pytest.skip(f"no PostgreSQL server ({PG_ENV} unset); run scripts/test.sh")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on a SQLite file and on a fresh database of a real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'telemetry.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database of the real PostgreSQL server (tests marked `postgres`)."""
    yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'telemetry.db'}"


class Ran:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def ingest(state: Path, url: str, *extra: str) -> Ran:
    """Run the ingest command in-process; return its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["--sessions-dir", str(state), "--db", url, *extra], out=out, err=err)
    return Ran(code, out.getvalue(), err.getvalue())


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def calls_so_far(db: Path) -> int:
    """The calls a run in progress has committed to a SQLite file (0 while there is none)."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.Error:
        return 0


def totals(url: str, gateway: str | None = None) -> dict[str, Any]:
    """Sums over the stored calls and tool calls (of one gateway when given)."""
    where = "" if gateway is None else " WHERE gateway = :g"
    row = query(url, "SELECT count(*), coalesce(sum(input_tokens),0), coalesce(sum(output_tokens),0),"
                     " coalesce(sum(cache_read_tokens),0), coalesce(sum(cache_write_tokens),0),"
                     " coalesce(sum(cost),0), coalesce(sum(CASE WHEN is_error THEN 1 ELSE 0 END),0)"
                     " FROM messages" + where, g=gateway)[0]
    tools = query(url, "SELECT count(*), coalesce(sum(CASE WHEN is_error THEN 1 ELSE 0 END),0)"
                       " FROM tool_calls" + where, g=gateway)[0]
    return {"llm_calls": row[0], "input": row[1], "output": row[2], "cache_read": row[3],
            # to the cent's billionth, as the product reports it: a sum of floats differs
            # in its last bits with the order of its rows (a rewritten file's calls are
            # stored again, after the others)
            "cache_write": row[4], "cost": round(float(row[5]), COST_DECIMALS), "errors": row[6],
            "tool_calls": tools[0], "tool_errors": tools[1]}


def daytime_zone() -> str:
    """A time zone where it is between 06:00 and 18:00 now, whatever hour UTC the tests run
    at (one of these always is): there a call an hour ago is today's (a day's budget),
    and one five minutes before midnight is yesterday's and within the last 24 hours."""
    return next(zone for zone in ("UTC", "Asia/Tokyo", "America/New_York")
                if 6 <= datetime.now(ZoneInfo(zone)).hour < 18)
