"""Tools: the most used tools, their error rate and p50/p95 duration, calls over time."""

from __future__ import annotations

import streamlit as st

from openclaw_telemetry import charts, read
from openclaw_telemetry.timeframe import default_unit
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import chart, count_column, nothing, table

COLUMNS = {"tool_name": "Tool", "calls": count_column("Calls"),
           "results": count_column("Results seen"), "errors": count_column("Errors"),
           "error_rate": "Error rate", "sessions": count_column("Sessions"),
           "p50_ms": "p50 ms", "p95_ms": "p95 ms"}


def render(ctx: shell.Ctx) -> None:
    durations = st.toggle("Duration percentiles (p50 / p95)", key="tools-durations",
                          help="Sorts every tool call's duration: slower on big histories.")
    stats = data.ask(read.tools, ctx.src, scope=ctx.scope, durations=durations)
    if stats.empty:
        nothing("tool calls")
        return
    chart(charts.tool_usage(stats), "tl-usage")
    columns = [c for c in stats.columns if durations or c not in ("p50_ms", "p95_ms")]
    table(stats, key="tools-table", column_order=columns, column_config=COLUMNS,
          texts={"error_rate": fmt.percent, "p50_ms": fmt.count, "p95_ms": fmt.count})
    st.caption("Error rate = failed results / results seen; durations from the tool result.")
    if st.toggle("Show tool calls over time", key="tools-over-time"):
        bounds = data.ask(read.call_bounds, ctx.src).iloc[0]
        unit = default_unit(ctx.window, now=ctx.now, first_call=bounds["first_call"])
        frame = data.ask(read.tool_timeline, ctx.src, scope=ctx.scope, tz=ctx.tz, unit=unit,
                         until=ctx.end)
        chart(charts.timeline(frame, measure="tool_calls", by="tool", unit=unit.value,
                              colours=ctx.colours("tool"), span=ctx.span), "tools-timeline")


if __name__ == "__main__":
    shell.page(render, "tools", "Tools")
