"""The three SQL examples of the original design run unchanged and answer correctly."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import ingest, query
from tests.entries import assistant, header, state_dir, tool_call, write

TODAY_COST_BY_MODEL = """
SELECT model, SUM(total_cost) AS cost
FROM sessions
WHERE date(start_time) = date('now')
GROUP BY model
ORDER BY cost DESC
"""
TOP_SESSIONS = """
SELECT session_id, total_cost
FROM sessions
ORDER BY total_cost DESC
LIMIT 10
"""
TOOLS_PER_DAY = """
SELECT date(timestamp) AS day, tool_name, COUNT(*) AS calls
FROM tool_calls
WHERE timestamp >= datetime('now', '-7 days')
GROUP BY day, tool_name
ORDER BY day, tool_name
"""


def test_seed_sql_examples(tmp_path: Path, sqlite_url: str) -> None:
    now = int(time.time() * 1000)
    old = now - 10 * 86_400_000
    sessions = state_dir(tmp_path)
    write(sessions, "today-a.jsonl", header("today-a", now - 60_000),
          assistant(now - 50_000, model="m1", cost=0.5, response_id="1",
                    tools=[tool_call("t1", "exec"), tool_call("t2", "read")]),
          assistant(now - 40_000, model="m1", cost=0.25, response_id="2",
                    tools=[tool_call("t3", "exec")]))
    write(sessions, "today-b.jsonl", header("today-b", now - 30_000),
          assistant(now - 20_000, model="m2", cost=2.0, response_id="3"))
    write(sessions, "old.jsonl", header("old", old),
          assistant(old + 1000, model="m1", cost=9.0, response_id="4",
                    tools=[tool_call("t4", "exec")]))
    assert ingest(tmp_path / "state", sqlite_url, "-q").code == 0

    today = query(sqlite_url, TODAY_COST_BY_MODEL)
    if time.gmtime(now / 1000 - 60).tm_mday == time.gmtime(now / 1000).tm_mday:
        assert today == [("m2", 2.0), ("m1", 0.75)]
    assert query(sqlite_url, TOP_SESSIONS) == [("old", 9.0), ("today-b", 2.0), ("today-a", 0.75)]
    per_day = query(sqlite_url, TOOLS_PER_DAY)
    assert sum(n for _, _, n in per_day) == 3
    assert {(tool, n) for _, tool, n in per_day} <= {("exec", 2), ("read", 1), ("exec", 1)}
