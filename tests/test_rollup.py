"""The `usage_quarter_hours` roll-up always equals a GROUP BY over the calls, through a
sequence of ingests that add calls, move a call to an earlier time and another owner,
change a session's kind and drop calls; and `call_rollup` answers the same from it as from
`messages`, in whole-hour and half-hour zones, with ranges cutting through buckets."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from openclaw_telemetry import usage
from openclaw_telemetry.read import calls, sqlkit
from openclaw_telemetry.store import open_db
from openclaw_telemetry.timeframe import Unit
from tests.conftest import ingest, query
from tests.entries import T0, assistant, header, state_dir, write

SID_A = "aaaaaaaa-0000-4000-8000-000000000001"
SID_B = "bbbbbbbb-0000-4000-8000-000000000002"
MINUTE = 60_000
SUMS = ("calls", "errors", "input", "output", "cache_read", "cache_write", "cost",
        "estimated_cost", "unpriced_calls", "unpriced_tokens", "subscription_cost",
        "tool_calls")


def expected(url: str) -> dict[tuple[Any, ...], list[float]]:
    """The roll-up computed in Python from every call and its session's kind."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT m.timestamp, m.gateway, m.agent_id, m.model, m.provider, s.kind,"
                " m.is_error, m.input_tokens, m.output_tokens, m.cache_read_tokens,"
                " m.cache_write_tokens, m.cost, m.cost_source, m.subscription,"
                " m.tool_call_count FROM messages m LEFT JOIN sessions s"
                " ON s.session_id = m.session_id AND s.gateway = m.gateway")).all()
    finally:
        engine.dispose()
    out: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0.0] * len(SUMS))
    for (when, gateway, agent, model, provider, kind, error, inp, outp, cr, cw, cost, source,
         subscription, tools) in rows:
        stamp = when if isinstance(when, datetime) else datetime.fromisoformat(when)
        key = (usage.floor(stamp), gateway, agent or "(none)", model or "(none)",
               provider or "(none)", kind)
        tokens = inp + outp + cr + cw
        for i, value in enumerate((1, bool(error), inp, outp, cr, cw, cost,
                                   cost if source == "estimated" else 0,
                                   source == "unpriced", tokens if source == "unpriced" else 0,
                                   cost if subscription else 0, tools)):
            out[key][i] += float(value)
    return dict(out)


def stored(url: str) -> dict[tuple[Any, ...], list[float]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT bucket, gateway, agent, model, provider, kind, " + ", ".join(SUMS)
                + " FROM usage_quarter_hours")).all()
    finally:
        engine.dispose()
    found: dict[tuple[Any, ...], list[float]] = {}
    for row in rows:
        when = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
        key = (when, *row[1:6])
        assert key not in found, f"duplicate roll-up row {key}"
        found[key] = [float(v) for v in row[6:]]
    return found


def assert_rollup_exact(url: str) -> None:
    want, got = expected(url), stored(url)
    assert set(got) == set(want)
    for key, values in want.items():
        assert got[key] == pytest.approx(values), key


def run(state: Path, url: str) -> None:
    ran = ingest(state, url, "--json")
    assert ran.code == 0, ran.err
    assert_rollup_exact(url)


def test_rollup_follows_every_change(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    later = T0 + 60 * MINUTE
    # B first: holds a shared call at a late time (its own bucket) and two own calls.
    write(sessions, f"{SID_B}.jsonl", header(SID_B, later),
          assistant(later + 20 * MINUTE, response_id="shared", cost=1.0),
          assistant(later + 21 * MINUTE, response_id="own-b", cost=2.0, stop="error"),
          assistant(later + 40 * MINUTE, response_id="own-b2", cost=None, model="local",
                    provider="ollama"))
    run(tmp_path / "state", db_url)
    assert len(stored(db_url)) == 2  # 04:30 (shared, own-b) and 04:45 (own-b2)
    # A starts earlier and holds the same call 50 minutes earlier: the call moves to A and
    # to an earlier bucket; B's old bucket must lose it.
    write(sessions, f"{SID_A}.jsonl", header(SID_A, T0),
          assistant(later - 30 * MINUTE, response_id="shared", cost=1.0),
          assistant(T0 + 5 * MINUTE, response_id="own-a", cost=4.0))
    run(tmp_path / "state", db_url)
    owner, when = query(db_url, "SELECT session_id, timestamp FROM messages"
                        " WHERE response_id = 'shared'")[0]
    assert (owner, str(when)[11:16]) == (SID_A, "03:43")  # moved 50 minutes earlier
    assert sum(v[0] for v in expected(db_url).values()) == 4
    # A is attributed to a group chat: its kind changes from 'direct'.
    (sessions / "sessions.json").write_text(json.dumps({"agent:main:telegram:group:-100": {
        "sessionId": SID_A, "channel": "telegram"}}))
    run(tmp_path / "state", db_url)
    assert {key[5] for key in stored(db_url)} == {"group", "unknown"}
    # B is rewritten without its own calls: they are dropped.
    write(sessions, f"{SID_B}.jsonl", header(SID_B, later),
          assistant(later + 20 * MINUTE, response_id="shared", cost=1.0))
    run(tmp_path / "state", db_url)
    # A is rewritten without the shared call: B owns it again, at its own time.
    write(sessions, f"{SID_A}.jsonl", header(SID_A, T0),
          assistant(T0 + 5 * MINUTE, response_id="own-a", cost=4.0))
    run(tmp_path / "state", db_url)
    # C (starting after A) holds a copy of A's call 20 minutes earlier: the call keeps its
    # owner A, which is not touched, but moves to an earlier bucket.
    sid_c = "cccccccc-0000-4000-8000-000000000003"
    write(sessions, f"{sid_c}.jsonl", header(sid_c, T0 + 2 * MINUTE),
          assistant(T0 - 15 * MINUTE, response_id="own-a", cost=4.0),
          assistant(T0 + 3 * MINUTE, response_id="own-c", cost=8.0))
    run(tmp_path / "state", db_url)
    owner, when = query(db_url, "SELECT session_id, timestamp FROM messages"
                        " WHERE response_id = 'own-a'")[0]
    assert (owner, str(when)[11:16]) == (SID_A, "02:58")


def _compare(engine: Any, tz: Any, since: datetime | None, until: datetime | None,
             kinds: bool, unit: Unit) -> None:
    fast = calls.call_rollup(engine, tz=tz, since=since, until=until, kinds=kinds, unit=unit)
    local = sqlkit.local_time(engine, sqlkit.Scope(since, until), tz)
    slow = calls._call_hours(engine, local, tz, since, until, kinds, unit, None)
    keys = ["utc", "agent", "model", "provider", *(["kind"] if kinds else [])]
    a = fast.groupby(keys)[list(SUMS)].sum().sort_index()
    b = slow.groupby(keys)[list(SUMS)].sum().sort_index()
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert set(zip(fast["utc"], fast["hour"], strict=True)) == \
        set(zip(slow["utc"], slow["hour"], strict=True))
    # `only`: the filters in SQL and every dimension summed, from the roll-up and the calls
    only = sqlkit.Scope(models=("m1",), kinds=("direct",) if kinds else ())
    summed = calls.call_rollup(engine, tz=tz, since=since, until=until, unit=unit, only=only)
    assert list(summed.columns) == ["hour", "utc", *SUMS]
    picked = fast[fast["model"].eq("m1") & (fast["kind"].eq("direct") if kinds else True)]
    for rows in (summed, calls._call_hours(engine, local, tz, since, until, False, unit, only)):
        pd.testing.assert_frame_equal(rows.groupby("utc")[list(SUMS)].sum(),
                                      picked.groupby("utc")[list(SUMS)].sum(), check_dtype=False,
                                      check_index_type=False)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "Asia/Kolkata",
                                  "Australia/Adelaide", "Asia/Kathmandu"])
def test_call_rollup_from_rollup_equals_calls(tmp_path: Path, db_url: str,
                                               zone: str) -> None:
    sessions = state_dir(tmp_path)
    start = T0 - 10 * 24 * 60 * MINUTE
    write(sessions, f"{SID_A}.jsonl", header(SID_A, start),
          *[assistant(start + i * 7 * MINUTE + i * 1000, response_id=f"r{i}",
                      cost=0.5 + i, model="m" + str(i % 3), stop="error" if i % 5 == 0
                      else "stop") for i in range(200)])
    ran = ingest(tmp_path / "state", db_url, "--json")
    assert ran.code == 0, ran.err
    engine = open_db(db_url)
    tz = ZoneInfo(zone)
    base = datetime(2026, 11, 13, 3, 0)
    try:
        for since, until in [(None, None), (base + timedelta(minutes=7, seconds=3),
                                            base + timedelta(hours=30, minutes=22)),
                             (base, base + timedelta(hours=2)),
                             (base + timedelta(minutes=1), base + timedelta(minutes=9)),
                             (None, base), (base + timedelta(minutes=44), None)]:
            for kinds, unit in product((False, True), (Unit.HOUR, Unit.DAY)):
                _compare(engine, tz, since, until, kinds, unit)
    finally:
        engine.dispose()
