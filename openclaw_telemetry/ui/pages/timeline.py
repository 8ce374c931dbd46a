"""Timeline: cost, tokens or calls per hour, day or month in the chosen time zone,
stacked by model, session kind, agent or provider; empty buckets show as zero."""

from __future__ import annotations

import streamlit as st

from openclaw_telemetry import charts
from openclaw_telemetry.timeframe import Unit, default_unit
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui.widgets import chart, count_column, money_column

MEASURE_LABELS = {"cost": "Cost", "tokens": "Tokens", "calls": "Calls", "errors": "Errors"}
BY_LABELS = {"model": "Model", "kind": "Kind", "agent": "Agent",
             "provider": "Provider"}
UNIT_LABELS = {Unit.HOUR.value: "Hourly", Unit.DAY.value: "Daily", Unit.MONTH.value: "Monthly"}


def controls(ctx: shell.Ctx) -> tuple[str, str, Unit]:
    bounds = data.call_bounds(ctx.url, ctx.version).iloc[0]
    auto = default_unit(ctx.window, now=ctx.now, first_call=bounds["first_call"])
    first, second, third = st.columns([4, 5, 4])
    measure = first.segmented_control("Measure", list(MEASURE_LABELS), default="cost",
                                      format_func=MEASURE_LABELS.__getitem__, key="tl-measure",
                                      required=True)
    by = second.segmented_control("Stacked by", list(BY_LABELS), default="model",
                                  format_func=BY_LABELS.__getitem__, key="tl-by",
                                  required=True)
    unit = third.segmented_control("Buckets", list(UNIT_LABELS), default=auto.value,
                                   format_func=UNIT_LABELS.__getitem__, key="tl-unit",
                                   required=True)
    return str(measure or "cost"), str(by or "model"), Unit(unit or auto.value)


def render(ctx: shell.Ctx) -> None:
    measure, by, unit = controls(ctx)
    frame = data.timeline(ctx.url, ctx.version, ctx.scope, ctx.tz_name, unit, by, ctx.end)
    chart(charts.timeline(frame, measure=measure, by=BY_LABELS[by].lower(), unit=unit.value),
          "tl-chart")
    per_series = (frame.groupby("series", as_index=False)[["cost", "calls", "tokens", "errors"]]
                  .sum().sort_values("cost", ascending=False))
    st.dataframe(per_series, hide_index=True, key="tl-table", column_config={
        "series": BY_LABELS[by], "cost": money_column("Cost", 2),
        "calls": count_column("Calls"), "tokens": count_column("Tokens"),
        "errors": count_column("Errors")})
    if not frame.empty:
        st.caption(f"{frame['bucket'].nunique():,} {unit.value}s in {ctx.tz_name} time; "
                   f"{unit.value}s without calls show as zero.")


if __name__ == "__main__":
    shell.page(render, "timeline", "Timeline")
