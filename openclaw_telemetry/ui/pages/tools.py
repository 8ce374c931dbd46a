"""Tools: the most used tools, their error rate and p50/p95 duration, calls over time."""

from __future__ import annotations

import streamlit as st

from openclaw_telemetry import charts
from openclaw_telemetry.timeframe import default_unit
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui.widgets import chart, count_column, nothing, percent_column

COLUMNS = {"tool_name": "Tool", "calls": count_column("Calls"),
           "results": count_column("Results seen"), "errors": count_column("Errors"),
           "error_rate": percent_column("Error rate"), "sessions": count_column("Sessions"),
           "p50_ms": st.column_config.NumberColumn("p50 ms", format="%,d"),
           "p95_ms": st.column_config.NumberColumn("p95 ms", format="%,d")}


def render(ctx: shell.Ctx) -> None:
    durations = st.toggle("Duration percentiles (p50 / p95)", key="tools-durations",
                          help="Sorts every tool call's duration: slower on big histories.")
    stats = data.tools(ctx.url, ctx.version, ctx.scope, durations)
    if stats.empty:
        nothing("tool calls")
        return
    chart(charts.tool_usage(stats), "tl-usage")
    columns = [c for c in stats.columns if durations or c not in ("p50_ms", "p95_ms")]
    st.dataframe(stats, hide_index=True, key="tools-table", column_order=columns,
                 column_config=COLUMNS)
    st.caption("Error rate = failed results / results seen; durations from the tool result.")
    if st.toggle("Show tool calls over time", key="tools-over-time"):
        bounds = data.call_bounds(ctx.url, ctx.version).iloc[0]
        unit = default_unit(ctx.window, now=ctx.now, first_call=bounds["first_call"])
        frame = data.tool_timeline(ctx.url, ctx.version, ctx.scope, ctx.tz_name, unit, ctx.end)
        chart(charts.timeline(frame, measure="calls", by="tool", unit=unit.value),
              "tools-timeline")


if __name__ == "__main__":
    shell.page(render, "tools", "Tools")
