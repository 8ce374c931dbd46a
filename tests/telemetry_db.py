"""Hand-made telemetry databases for the query, alert and dashboard tests.

`build(url, sessions, calls, tools)` opens (and migrates) a database and inserts rows
straight through `openclaw_telemetry.schema`, filling every column the tests do not care
about, so each test states only what it checks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from openclaw_telemetry import usage
from openclaw_telemetry.schema import ingest_runs, messages, sessions, tool_calls
from openclaw_telemetry.store import open_db
from openclaw_telemetry.timeframe import to_utc

GATEWAY = "local"  # the gateway of every row unless a test names another
_count = 0
_places: dict[str, int] = {}  # message_id -> place of its last tool call


def today_before(now: datetime, delta: timedelta) -> datetime:
    """`delta` before `now` (naive UTC), kept inside today's UTC day: if that moment is
    yesterday (the suite runs just after midnight), a moment in the first half of today
    instead, later for a smaller `delta`. A call "30 minutes ago" thus always counts
    towards today's budget and daily alerts."""
    now = to_utc(now)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    squeezed = midnight + (now - midnight) * (1 - delta / timedelta(days=1)) / 2
    return max(now - delta, squeezed)


def session(session_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "session_id": session_id, "gateway": GATEWAY, "agent_id": "main",
        "session_key": f"agent:main:{session_id}",
        "kind": "direct", "start_time": None, "end_time": None, "model": "m1",
        "provider": "p1", "thinking_level": None, "total_messages": 0,
        "total_tool_calls": 0, "total_input_tokens": 0, "total_output_tokens": 0,
        "total_cache_read_tokens": 0, "total_cache_write_tokens": 0, "total_cost": 0.0,
        "total_errors": 0, "estimated_cost": 0.0, "unpriced_calls": 0, "cron_job_id": None,
        "cron_job_name": None, "parent_session_key": None, "parent_session_id": None,
        "channel": None, "label": None, "spawn_depth": None}
    row.update(values)
    return row


def call(session_id: str, at: datetime, cost: float = 1.0, **values: Any) -> dict[str, Any]:
    global _count
    _count += 1
    row: dict[str, Any] = {
        "message_id": f"msg{_count:08d}", "gateway": GATEWAY, "session_id": session_id,
        "agent_id": "main",
        "timestamp": at, "model": "m1", "provider": "p1", "api": "test",
        "input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 0,
        "cache_write_tokens": 0, "total_tokens": 15, "cost": cost,
        "cost_source": "recorded", "stop_reason": "stop", "is_error": False,
        "error_message": None, "latency_ms": 100, "subscription": False,
        "tool_call_count": 0, "input_cost": None, "output_cost": None, "cache_read_cost": None,
        "cache_write_cost": None}
    row.update(values)
    row["total_tokens"] = sum(row[k] for k in ("input_tokens", "output_tokens",
                                               "cache_read_tokens", "cache_write_tokens"))
    return row


def tool(message: dict[str, Any], name: str, *, error: bool | None = False,
         duration: int | None = 10) -> dict[str, Any]:
    global _count
    _count += 1
    index = _places[message["message_id"]] = _places.get(message["message_id"], -1) + 1
    return {"tool_call_id": f"tc{_count:08d}", "gateway": message["gateway"],
            "tool_name": name, "bridge_name": None,
            "session_id": message["session_id"], "message_id": message["message_id"],
            "timestamp": message["timestamp"], "is_error": error, "duration_ms": duration,
            "call_index": index}


def totals_into(rows: list[dict[str, Any]], calls: list[dict[str, Any]]) -> None:
    """Fill the sessions' total_* columns and times from their calls (as ingest does)."""
    for row in rows:
        own = [c for c in calls if (c["session_id"], c["gateway"]) == (row["session_id"],
                                                                        row["gateway"])]
        if not own:
            continue
        row["total_messages"] = len(own)
        row["total_cost"] = sum(c["cost"] for c in own)
        row["total_errors"] = sum(bool(c["is_error"]) for c in own)
        row["estimated_cost"] = sum(c["cost"] for c in own if c["cost_source"] == "estimated")
        row["unpriced_calls"] = sum(c["cost_source"] == "unpriced" for c in own)
        for key in ("input", "output", "cache_read", "cache_write"):
            row[f"total_{key}_tokens"] = sum(c[f"{key}_tokens"] for c in own)
        row["start_time"] = row["start_time"] or min(c["timestamp"] for c in own)
        row["end_time"] = row["end_time"] or max(c["timestamp"] for c in own)


def build(url: str, sessions_: list[dict[str, Any]], calls: list[dict[str, Any]],
          tools: list[dict[str, Any]] | None = None, *,
          ran_at: datetime = datetime(2026, 1, 1)) -> Engine:
    engine = open_db(url)
    totals_into(sessions_, calls)
    with engine.begin() as conn:
        if sessions_:
            conn.execute(insert(sessions), sessions_)
        if calls:
            conn.execute(insert(messages), calls)
        if tools:
            conn.execute(insert(tool_calls), tools)
        usage.refresh(conn, None)  # the roll-up the ingest keeps
        conn.execute(insert(ingest_runs), [{"gateway": GATEWAY, "started_at": ran_at, "finished_at": ran_at,
                                            "status": "ok", "changed": True}])
    return engine
