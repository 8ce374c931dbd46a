"""Session explorer speed (issue #13 item 6): the session page of a 5,000-call session on
the 1M-call benchmark database renders in <= 1 s.

Builds (or reuses) the database with `bench/synthetic_db.py`, adds one session of 5,000
calls (with tool calls, errors, a model switch, thinking switches and compactions) when
it has none that long, then renders the enhanced dashboard's Sessions page in AppTest,
opened by a link to each section (`?session=<id>&section=<section>`): cold (every
Streamlit cache empty) and warm (again, as a refresh does); and the switch to a section
on the page already open, with the caches emptied before the page was opened (what a
user clicking through pays). Prints a Markdown table.

    .venv/bin/python bench/bench_session_page.py [--db PATH] [--calls 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402, TID251 (the bench drives the app with AppTest)
from bench_dashboard import machine  # noqa: E402
from sqlalchemy import text  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402, TID251
from synthetic_db import build  # noqa: E402

from openclaw_telemetry.store import open_db  # noqa: E402

SESSION = "bench-5000-call-session"


def add_long_session(db: str, calls: int) -> None:
    """One session of `calls` calls whose context grows, with tool calls and markers."""
    engine = open_db(f"sqlite:///{db}")
    with engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM sessions WHERE session_id = :s"),
                        {"s": SESSION}).first():
            return
        start = datetime(2026, 11, 1, 8)
        conn.execute(text(
            "INSERT INTO sessions (session_id, agent_id, session_key, kind, start_time, "
            "end_time, model, provider, total_messages, total_cost) VALUES (:s, 'main', "
            "'agent:main:bench', 'main', :a, :b, 'claude-sonnet-4-5', 'anthropic', :n, 0)"),
            {"s": SESSION, "a": start, "b": start + timedelta(seconds=20 * calls), "n": calls})
        rows, tools = [], []
        for i in range(calls):
            model = "claude-sonnet-4-5" if i < calls * 0.7 else "claude-opus-4-1"
            context = 2000 + 40 * i
            rows.append({"s": SESSION, "m": f"{SESSION}-{i}", "t": start + timedelta(seconds=20 * i),
                         "model": model, "i": 50, "cr": context - 1000 if i % 50 else 0,
                         "cw": 1000, "o": 300, "c": context * 3e-7, "e": i % 97 == 0,
                         "l": 1500 + i % 700})
            tools.append({"s": SESSION, "id": f"tc{i}", "name": "exec" if i % 3 else "read",
                          "m": f"{SESSION}-{i}", "t": rows[-1]["t"], "e": i % 31 == 0,
                          "d": 200 + i % 900})
        conn.execute(text(
            "INSERT INTO messages (message_id, session_id, agent_id, timestamp, model, "
            "provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
            "total_tokens, cost, cost_source, is_error, latency_ms, tool_call_count) VALUES "
            "(:m, :s, 'main', :t, :model, 'anthropic', :i, :o, :cr, :cw, "
            ":i + :o + :cr + :cw, :c, 'recorded', :e, :l, 1)"), rows)
        conn.execute(text(
            "INSERT INTO tool_calls (tool_call_id, tool_name, session_id, message_id, "
            "timestamp, is_error, duration_ms, call_index) VALUES (:id, :name, :s, "
            ":m, :t, :e, :d, 0)"), tools)
        events = [{"s": SESSION, "p": i, "t": start + timedelta(seconds=20 * i - 5), "k": kind, "v": value}
                  for i, kind, value in ((0, "thinking_change", "low"),
                                         (1000, "compaction", None),
                                         (2000, "thinking_change", "high"),
                                         (3000, "compaction", None),
                                         (int(calls * 0.7), "model_change",
                                          "anthropic/claude-opus-4-1"))]
        conn.execute(text(
            "INSERT INTO session_events (session_id, source_id, position, timestamp, kind, "
            "value) VALUES (:s, -1, :p, :t, :k, :v)"), events)
        conn.execute(text("UPDATE sessions SET total_cost = (SELECT SUM(cost) FROM messages "
                          "WHERE session_id = :s) WHERE session_id = :s"), {"s": SESSION})
        conn.execute(text("UPDATE ingest_runs SET changed = changed"))
    engine.dispose()


def render(db: str, section: str | None, switch: bool = False) -> float:
    """Seconds to open the session page: by a link to `section` (`?session=…&section=…`),
    or, with `switch`, by picking `section` on the page already open (as a user does)."""
    os.environ["OPENCLAW_TELEMETRY_DB"] = db
    at = AppTest.from_file(str(ROOT / "dashboard_enhanced.py"), default_timeout=120)
    at.context["timezone"] = "UTC"
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py")
    at.query_params["session"] = SESSION
    if section is not None and not switch:
        at.query_params["section"] = section
    began = time.perf_counter()
    at.run()
    if switch:
        began = time.perf_counter()
        at.segmented_control(key="session-section").set_value(section).run()
    elapsed = time.perf_counter() - began
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception[0].value}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="the 1M-call database (built when missing)")
    parser.add_argument("--calls", type=int, default=5000, help="calls of the long session")
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.gettempdir()) / "openclaw-bench-1000000.db")
    if not Path(db).exists():
        build(db)
    add_long_session(db, args.calls)
    print(f"Machine: {machine()}\n")
    print("| section | link, cold (s) | link, warm (s, median of 3) | switch to it, cold (s) |\n"
          "| --- | --- | --- | --- |")
    for section in (None, "cache", "tools", "tree"):
        st.cache_data.clear()
        st.cache_resource.clear()
        cold = render(db, section)
        warm = statistics.median(render(db, section) for _ in range(3))
        switched = "—"
        if section is not None:
            st.cache_data.clear()
            st.cache_resource.clear()
            switched = f"{render(db, section, switch=True):.2f}"
        print(f"| {section or 'call by call (default)'} | {cold:.2f} | {warm:.2f} | {switched} |")


if __name__ == "__main__":
    main()
