"""Timeline: cost, tokens or calls per hour, day or month in the chosen time zone,
stacked by model, session kind, agent or provider; empty buckets show as zero."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from openclaw_telemetry import charts, read
from openclaw_telemetry.timeframe import Unit, default_unit
from openclaw_telemetry.ui import data, download, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import (
    chart,
    count_column,
    kind_name,
    kind_names,
    money_column,
    nothing,
    table,
)

MEASURE_LABELS = {"cost": "Cost", "tokens": "Tokens", "calls": "Calls", "errors": "Errors"}
BY_LABELS = {"model": "Model", "kind": "Kind", "agent": "Agent",
             "provider": "Provider"}
UNIT_LABELS = {Unit.HOUR.value: "Hourly", Unit.DAY.value: "Daily", Unit.MONTH.value: "Monthly"}


HOURLY_DAYS = 14  # hourly buckets up to this many days: beyond, bars and ticks blur


def controls(ctx: shell.Ctx) -> tuple[str, str, Unit]:
    bounds = data.ask(read.call_bounds, ctx.src).iloc[0]
    first_call = bounds["first_call"]
    auto = default_unit(ctx.window, now=ctx.now, first_call=first_call)
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
    chosen = Unit(unit or auto.value)
    start = ctx.window.since or first_call
    days = 0.0 if start is None or pd.isna(start) else \
        (ctx.end - pd.Timestamp(start).to_pydatetime()).total_seconds() / 86_400
    if chosen is Unit.HOUR and days > HOURLY_DAYS:
        st.info(f"Hourly buckets are drawn for ranges of up to {HOURLY_DAYS} days; this one "
                f"spans {fmt.counted(math.ceil(days), 'day')}, so it is shown by day. Pick a "
                "shorter range to see hours.", icon=":material/info:")
        chosen = Unit.DAY
    return str(measure or "cost"), str(by or "model"), chosen


def render(ctx: shell.Ctx) -> None:
    measure, by, unit = controls(ctx)
    frame = data.ask(read.timeline, ctx.src, scope=ctx.scope, tz=ctx.tz, unit=unit, by=by,
                     until=ctx.end)
    if frame.empty or not frame["calls"].any():
        nothing("LLM calls")
        return
    colours = ctx.colours(by)
    if by == "kind":  # by the names the tables give kinds ('sub-agent'), in their colours
        colours = {str(kind_name(k)): c for k, c in colours.items()}
        frame = frame.assign(series=pd.Series(kind_names(frame["series"]), index=frame.index,
                                              dtype="object"))
    if frame[measure].any():
        chart(charts.timeline(frame, measure=measure, by=BY_LABELS[by].lower(),
                              unit=unit.value, colours=colours, span=ctx.span),
              "tl-chart")
    else:  # e.g. cost of calls that have no known price
        nothing(MEASURE_LABELS[measure].lower())
    per_series = (frame.groupby("series", as_index=False)[["cost", "calls", "tokens", "errors"]]
                  .sum().sort_values("cost", ascending=False))
    table(per_series, key="tl-table", column_order=["cost", "series", "calls", "tokens",
                                                    "errors"], column_config={
        "series": BY_LABELS[by], "cost": money_column("Cost"),
        "calls": count_column("Calls"), "tokens": count_column("Tokens"),
        "errors": count_column("Errors")})
    st.caption(f"{frame['bucket'].nunique():,} {unit.value}s in {ctx.tz_name} time; "
               f"{unit.value}s without calls show as zero.")
    download.csv_button(ctx, "daily", "Download daily usage as CSV", key="timeline-csv",
                        help=f"Always one row per day and model ({ctx.tz_name} days), "
                             "whatever the buckets above.")


if __name__ == "__main__":
    shell.page(render, "timeline", "Timeline")
