"""Cost statistics per session: mean, median, p90, p95, p99, max, tokens per dollar and
cache hit rate over the range, and the same over the last 15 min, 1 h, 6 h and 24 h
(from call timestamps, not session start)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from openclaw_telemetry import read
from openclaw_telemetry.timeframe import to_utc
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import (
    Tile,
    count_column,
    nothing,
    table,
    tiles,
)

WINDOWS = {"Last 15 min": timedelta(minutes=15), "Last hour": timedelta(hours=1),
           "Last 6 hours": timedelta(hours=6), "Last 24 hours": timedelta(hours=24)}


def windows(ctx: shell.Ctx) -> pd.DataFrame:
    rows = []
    for label, length in WINDOWS.items():
        scope = ctx.scope.between(to_utc(ctx.now - length), None)
        stats = data.ask(read.cost_statistics, ctx.src, scope=scope).iloc[0]
        rows.append({"window": label, **stats.to_dict()})
    return pd.DataFrame(rows)


def in_range(ctx: shell.Ctx) -> None:
    """The tiles of the chosen range, or a note that it holds no call."""
    stats = data.ask(read.cost_statistics, ctx.src, scope=ctx.scope).iloc[0]
    if not stats["sessions"]:
        nothing("LLM calls")
        return
    for row in ((("mean", "Mean"), ("median", "Median"), ("p90", "p90")),
                (("p95", "p95"), ("p99", "p99"), ("max", "Max"))):
        tiles([Tile(label, fmt.money(stats[key])) for key, label in row])
    tiles([Tile("Sessions", fmt.count(stats["sessions"])),
           Tile("Tokens per dollar", fmt.count(stats["tokens_per_dollar"])),
           Tile("Cache hit rate", fmt.percent(stats["cache_hit_rate"]),
                help="cache read / (input + cache read + cache write)")])
    st.caption("Per session: the cost of its calls inside the range. Percentiles are "
               "nearest-rank.")


def recent(ctx: shell.Ctx) -> None:
    """The last 15 min … 24 h, whatever the range (Today before its first call too)."""
    st.subheader("Recent windows")
    money = ("cost", "mean", "median", "p90", "p95", "p99", "max")
    table(windows(ctx), key="stats-windows", texts={
        **dict.fromkeys(money, fmt.money), "tokens_per_dollar": fmt.count,
        "cache_hit_rate": fmt.percent}, column_config={
        "window": "Window", "sessions": count_column("Sessions"), "cost": "Cost",
        "mean": "Mean", "median": "Median", "p90": "p90", "p95": "p95", "p99": "p99",
        "max": "Max", "tokens": count_column("Tokens"), "tokens_per_dollar": "Tokens/$",
        "cache_hit_rate": "Cache hit rate"})
    st.caption("A window without a session shows '—'.")


def render(ctx: shell.Ctx) -> None:
    in_range(ctx)
    recent(ctx)


if __name__ == "__main__":
    shell.page(render, "statistics", "Cost statistics per session")
