"""A small database of two gateways for the export and report tests: three days around
midnight in Berlin, two agents, two models, cache tokens, an error, tool calls, and one
call that is not on a quarter hour."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from telemetry_db import build, call, session, tool

GW_A, GW_B = "gw-a", "gw-b"
BERLIN = "Europe/Berlin"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def build_fleet(url: str) -> Engine:
    """s1 (gw-a, main, direct), s2 (gw-a, ops, cron), s1 again on gw-b (main): 9 calls."""
    t = at("2026-01-10T08:00")
    rows = [session("s1", gateway=GW_A, label="chat with, \"quotes\""),
            session("s2", gateway=GW_A, agent_id="ops", kind="cron", cron_job_id="j1",
                    cron_job_name="digest"),
            session("s1", gateway=GW_B)]
    calls = [call("s1", t, 0.5, gateway=GW_A, cache_read_tokens=1000, cache_write_tokens=20,
                  input_cost=0.125, output_cost=0.25, cache_read_cost=0.0625,
                  cache_write_cost=0.0625),
             call("s1", t + timedelta(hours=15, minutes=30), 0.25, gateway=GW_A,
                  model="m2"),  # 23:30 UTC: the next day in Berlin
             call("s1", t + timedelta(days=1, minutes=7, seconds=3), 0.125, gateway=GW_A),
             call("s2", t + timedelta(hours=2), 2.0, gateway=GW_A, agent_id="ops",
                  is_error=True, error_message="429 rate limited"),
             call("s2", t + timedelta(days=2), 1.0, gateway=GW_A, agent_id="ops",
                  model="m2", cost_source="estimated"),
             *(call("s1", t + timedelta(days=i, hours=1), 3.0 + i, gateway=GW_B,
                    input_tokens=100 * (i + 1)) for i in range(3)),
             call("s1", t + timedelta(days=2, hours=3), 0.0, gateway=GW_B, model="m3",
                  cost_source="unpriced")]
    tools = [tool(calls[0], "read"), tool(calls[0], "exec", error=True),
             tool(calls[3], "web_search", error=None, duration=None), tool(calls[5], "exec")]
    return build(url, rows, calls, tools)
