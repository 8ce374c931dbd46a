"""Overview: the KPIs with deltas against the previous period, where the cost comes
from, how much of it is estimated or unpriced, and the most expensive sessions (each a
link to its session page)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from openclaw_telemetry import charts, read
from openclaw_telemetry.read import Scope
from openclaw_telemetry.timeframe import Unit, default_unit
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.outlook import month_tiles
from openclaw_telemetry.ui.widgets import (
    Tile,
    chart,
    count_column,
    kind_names,
    link_column,
    linked_first,
    main_model_column,
    nothing,
    session_links,
    session_names,
    session_total_column,
    table,
    tiles,
)

TOP_SESSIONS = 10


def _numbers(ctx: shell.Ctx, scope: Scope) -> pd.Series:
    """Calls, tokens, cost … plus sessions and tool calls of a scope, as one Series."""
    numbers: pd.Series = data.ask(read.totals, ctx.src, scope=scope, tz=ctx.tz).iloc[0]
    return numbers


def _previous(ctx: shell.Ctx) -> pd.Series | None:
    return None if ctx.previous is None else _numbers(ctx, ctx.previous)


def _delta(now: pd.Series, before: pd.Series | None, key: str) -> str | None:
    return fmt.change(float(now[key]), None if before is None else float(before[key]))


def kpis(ctx: shell.Ctx) -> pd.Series:
    """Draw the two KPI rows and the cost-honesty line; return the numbers."""
    now, before = _numbers(ctx, ctx.scope), _previous(ctx)
    daily = _daily(ctx)
    rate_delta = fmt.points(float(now["error_rate"]), None if before is None
                            else float(before["error_rate"]))
    first = [
        Tile("Cost", fmt.money(now["cost"]), _delta(now, before, "cost"), "inverse",
             "US$ at list price, summed over the LLM calls in the range", daily["cost"]),
        Tile("LLM calls", fmt.count(now["calls"]), _delta(now, before, "calls"),
             spark=daily["calls"]),
        Tile("Sessions", fmt.count(now["sessions"]), _delta(now, before, "sessions"),
             help="sessions with at least one LLM call in the range"),
        Tile("Tool calls", fmt.count(now["tool_calls"]), _delta(now, before, "tool_calls"),
             help="tool calls made by the LLM calls in the range (errors: Tools page)",
             spark=daily["tool_calls"]),
        Tile("Error rate", fmt.percent(now["error_rate"]), rate_delta, "inverse",
             f"{fmt.count(now['errors'])} failed LLM calls (errors and aborts count as calls)",
             daily["error_rate"]),
    ]
    second = [Tile(label, fmt.count(now[key]), _delta(now, before, key), "off", hint)
              for key, label, hint in (
                  ("input", "Input tokens", "prompt tokens not served from cache"),
                  ("output", "Output tokens", "completion tokens, reasoning included"),
                  ("cache_read", "Cache read", "prompt tokens served from the cache"),
                  ("cache_write", "Cache write", "prompt tokens written to the cache"))]
    tiles(first)
    tiles(second)
    honesty(now)
    month_tiles(ctx)
    if any(tile.delta is not None for tile in (*first, *second)):  # else nothing to explain
        st.caption("Deltas compare with the previous period of the same length "
                   "(for Today: yesterday up to this time).")
    return now


def honesty(now: pd.Series) -> None:
    """Say how the cost was obtained: recorded, estimated, unpriced, subscription."""
    cost, estimated = float(now["cost"]), float(now["estimated_cost"])
    parts = [f"Recorded by OpenClaw: {fmt.money(cost - estimated)}"]
    if estimated:
        parts.append(f"estimated from price tables: {fmt.money(estimated)} "
                     f"({fmt.percent(estimated / cost if cost else 0.0)})")
    else:
        parts.append("nothing estimated")
    if now["unpriced_calls"]:
        parts.append(f"{fmt.count(now['unpriced_calls'])} calls with "
                     f"{fmt.count(now['unpriced_tokens'])} tokens have no known price and "
                     "are not in the total")
    if now["subscription_cost"]:
        parts.append(f"{fmt.money(now['subscription_cost'])} is the list-price equivalent "
                     "of subscription calls, not money spent")
    st.caption(" · ".join(parts))


def _daily(ctx: shell.Ctx) -> dict[str, list[float] | None]:
    """The tiles' sparklines: per day, per hour in a range the charts draw by the hour (a
    day or two drew a straight line between two points)."""
    hourly = default_unit(ctx.window, now=ctx.now, first_call=None) is Unit.HOUR
    frame = data.ask(read.timeline, ctx.src, scope=ctx.scope, tz=ctx.tz,
                     unit=Unit.HOUR if hourly else Unit.DAY, by="model", until=ctx.end)
    per_day = frame.groupby("bucket")[["cost", "calls", "tool_calls", "errors"]].sum().tail(60)
    if len(per_day) < 2:
        return dict.fromkeys(("cost", "calls", "tool_calls", "error_rate"))
    per_day["error_rate"] = (per_day["errors"] / per_day["calls"].where(per_day["calls"] > 0)
                             ).fillna(0.0)
    return {k: [float(v) for v in per_day[k]]
            for k in ("cost", "calls", "tool_calls", "error_rate")}


def where_it_went(ctx: shell.Ctx, now: pd.Series) -> None:
    """Cost over time by model, and the split by model and by agent."""
    if not float(now["cost"]):
        st.info(f"No cost in this range: its {fmt.count(now['calls'])} LLM calls have no "
                "known price.", icon=":material/money_off:")
        return
    bounds = data.ask(read.call_bounds, ctx.src).iloc[0]
    unit = default_unit(ctx.window, now=ctx.now, first_call=bounds["first_call"])
    frame = data.ask(read.timeline, ctx.src, scope=ctx.scope, tz=ctx.tz, unit=unit,
                     by="model", until=ctx.end)
    chart(charts.timeline(frame, measure="cost", by="model", unit=unit.value,
                          colours=ctx.colours("model"), span=ctx.span), "ov-timeline")
    left, right = st.columns(2)
    for column, by in ((left, "model"), (right, "agent")):
        with column:
            shares = data.ask(read.breakdown, ctx.src, scope=ctx.scope, tz=ctx.tz, by=by)
            chart(charts.share_pie(shares, names=by, values="cost", title=f"Cost by {by}",
                                   colours=ctx.colours(by)), f"ov-{by}s")


def top_sessions(ctx: shell.Ctx) -> None:
    """The most expensive sessions active in the range, each opening its session page."""
    frame = data.ask(read.session_table, ctx.src, scope=ctx.scope, order="cost",
                     limit=TOP_SESSIONS)
    if frame.empty:
        return
    st.subheader("Top sessions")
    shown = frame.copy()
    shown["name"] = session_names(frame, ctx.tz)
    shown["kind"] = kind_names(frame["kind"])
    shown["open"] = session_links(ctx, frame["session_id"], frame["gateway"]).to_numpy()
    table(shown, key="ov-top-sessions", column_order=linked_first(ctx, [
        "cost", "name", "kind", "agent_id", "model", "calls", "errors"]),
        column_config={"cost": session_total_column(), "name": "Session", "gateway": "Gateway",
                       "open": link_column("Open"), "kind": "Kind", "agent_id": "Agent",
                       "model": main_model_column(), "calls": count_column("Calls"),
                       "errors": count_column("Errors")})
    st.caption("Session totals of the sessions active in the range; Open shows the "
               "session: call by call, what drove its cost, its tools and sub-agents.")


def render(ctx: shell.Ctx) -> None:
    now = kpis(ctx)
    if not float(now["calls"]):
        nothing("LLM calls")
        return
    where_it_went(ctx, now)
    top_sessions(ctx)


if __name__ == "__main__":
    shell.page(render, "overview", "Overview")
