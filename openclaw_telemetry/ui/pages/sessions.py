"""Sessions: a searchable, sortable table of the sessions active in the range, and the
drill-down of one session: every LLM call in order with its tools, errors marked.

Session labels and keys are user text: they are only shown in tables, select boxes and
`st.text`, never rendered as Markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from openclaw_telemetry import charts
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import (
    Tile,
    chart,
    count_column,
    local_times,
    money_column,
    nothing,
    tiles,
    time_column,
)

ORDERS = {"cost": "Most expensive", "recent": "Most recent"}
PICK_KEY = "session"


def _name(row: pd.Series) -> str:
    for key in ("label", "session_key", "session_id"):
        if isinstance(row.get(key), str) and row[key]:
            return str(row[key])
    return "?"


def table(ctx: shell.Ctx) -> pd.DataFrame:
    left, right = st.columns([3, 2])
    search = left.text_input("Search", key="sessions-search",
                             placeholder="key, label, id, cron job, agent or model")
    order = right.segmented_control("Order", list(ORDERS), default="cost", required=True,
                                    format_func=ORDERS.__getitem__, key="sessions-order")
    frame = data.session_table(ctx.url, ctx.version, ctx.scope, search, str(order or "cost"))
    if frame.empty:
        return frame
    shown = local_times(frame, ["start_time", "end_time"], ctx.tz)

    def picked() -> None:
        state = st.session_state["sessions-table"]
        rows = state.selection.rows if state is not None else []
        if rows:
            st.session_state[PICK_KEY] = str(frame.iloc[rows[0]]["session_id"])

    st.dataframe(shown, hide_index=True, key="sessions-table", on_select=picked,
                 selection_mode="single-row", column_order=[
                     "start_time", "agent_id", "session_key", "label", "kind",
                     "cron_job_name", "model", "calls", "tool_calls", "tokens", "cost",
                     "duration_s", "errors"], column_config={
                     "start_time": time_column("Start"), "agent_id": "Agent",
                     "session_key": "Key", "label": "Label", "kind": "Kind",
                     "cron_job_name": "Cron job", "model": "Model",
                     "calls": count_column("Calls"), "tool_calls": count_column("Tools"),
                     "tokens": count_column("Tokens"), "cost": money_column("Cost"),
                     "duration_s": st.column_config.NumberColumn("Duration",
                                                                 format="duration"),
                     "errors": count_column("Errors")})
    matched = int(frame["matched"].iloc[0])
    st.caption(f"{len(frame):,} of {matched:,} sessions active in the range (session "
               "totals). Click a row, or pick one below, to see every call.")
    return frame


def drill_down(ctx: shell.Ctx, frame: pd.DataFrame) -> None:
    """Pick a session (also from `?session=<id>`, kept in the URL) and show its calls."""
    names = {str(r["session_id"]): f"{_name(r)} · {fmt.money(r['cost'])}"
             for _, r in frame.iterrows()}
    wanted = st.query_params.get(PICK_KEY)
    options = list(names) + ([wanted] if wanted and wanted not in names else [])
    index = None if PICK_KEY in st.session_state or wanted not in options else (
        options.index(str(wanted)))
    chosen = st.selectbox("Session", options, index=index, key=PICK_KEY,
                          format_func=lambda s: names.get(s, s),
                          placeholder="Choose a session")
    if chosen:
        st.query_params[PICK_KEY] = str(chosen)
        session(ctx, str(chosen))
    elif PICK_KEY in st.query_params:
        del st.query_params[PICK_KEY]


def session(ctx: shell.Ctx, session_id: str) -> None:
    detail = data.session_detail(ctx.url, ctx.version, session_id)
    if detail.empty:
        st.warning("No session with this id in the database.")
        return
    row = detail.iloc[0]
    st.subheader("Session")
    st.text(f"{_name(row)}\nkey: {row['session_key'] or '—'} · id: {session_id}\n"
            f"agent: {row['agent_id']} · kind: {row['kind']} · model: {row['model']}"
            + (f" · cron job: {row['cron_job_name']}" if row["cron_job_name"] else "")
            + (f"\nspawned by session {row['parent_session_id']}"
               if row["parent_session_id"] else "")
            + (f"\nspawned {int(row['subagents'])} sub-agent session(s)"
               if row["subagents"] else ""))
    tiles([Tile("Cost", fmt.money(row["cost"]), help="all calls of the session"),
           Tile("LLM calls", fmt.count(row["calls"])), Tile("Tool calls",
                                                            fmt.count(row["tool_calls"])),
           Tile("Errors", fmt.count(row["errors"])),
           Tile("Duration", fmt.duration(_seconds(row)))])
    calls(ctx, session_id)


def _seconds(row: pd.Series) -> float | None:
    if pd.isna(row["end_time"]) or pd.isna(row["start_time"]):
        return None
    return float((pd.Timestamp(row["end_time"]) - pd.Timestamp(row["start_time"]))
                 .total_seconds())


def calls(ctx: shell.Ctx, session_id: str) -> None:
    frame = data.session_calls(ctx.url, ctx.version, session_id)
    if frame.empty:
        nothing("LLM calls")
        return
    chart(charts.session_calls(frame), "session-calls-chart")
    shown = local_times(frame, ["timestamp"], ctx.tz)
    shown.insert(0, "status", ["❌ error" if bad else "ok" for bad in frame["is_error"]])
    st.dataframe(shown, hide_index=True, key="session-calls", column_order=[
        "status", "timestamp", "model", "input", "output", "cache_read", "cache_write",
        "cost", "cost_source", "latency_ms", "stop_reason", "tools", "error_message"],
        column_config={"status": "Status", "timestamp": time_column("Time"),
                       "model": "Model", "input": count_column("Input"),
                       "output": count_column("Output"),
                       "cache_read": count_column("Cache read"),
                       "cache_write": count_column("Cache write"),
                       "cost": money_column("Cost", 5), "cost_source": "Cost source",
                       "latency_ms": count_column("Latency ms"), "stop_reason": "Stop",
                       "tools": "Tools (✗ failed)", "error_message": "Error"})


def render(ctx: shell.Ctx) -> None:
    frame = table(ctx)
    if frame.empty:
        nothing("sessions")
        return
    drill_down(ctx, frame)


if __name__ == "__main__":
    shell.page(render, "sessions", "Sessions")
