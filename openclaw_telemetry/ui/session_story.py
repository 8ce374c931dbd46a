"""The session explorer: one session, by id on its gateway, told so that why it cost what
it did shows at a glance (issue #13).

Who and what first, then the rule-based "what drove the cost" with the cost by token
kind, then call by call (one figure of stacked panels with the markers), the cache in money, the tools and the
sub-agent tree, and the conversation itself when replay is switched on. Every figure is a
read-layer answer through `data.ask`; text from the data (keys, labels, models, errors)
is shown with `st.text`, in tables or escaped, never as Markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from openclaw_telemetry import read, story_charts
from openclaw_telemetry.read.cost_drivers import RULES
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import (
    Tile,
    chart,
    count_column,
    kind_name,
    kind_names,
    link_column,
    linked_first,
    local_times,
    money_column,
    session_links,
    session_name,
    table,
    tiles,
    time_column,
)

SECTIONS = {"calls": "Call by call", "cache": "Cache", "tools": "Tools",
            "tree": "Sub-agents", "replay": "Conversation"}
THROUGH_HELP = ("The tool the model called to reach this one: tool_call is the bridge of "
                "OpenClaw's Tool Search (only a few tools are offered directly; the model "
                "finds the others with tool_search and calls them through tool_call). "
                "'—': called directly.")


def who_and_what(ctx: shell.Ctx, row: pd.Series, profile: pd.DataFrame, name: str) -> None:
    """Agent, key, kind, channel, cron job, parent, models, levels, times, cost split."""
    got = profile.iloc[0] if not profile.empty else None
    seconds = None
    if not pd.isna(row["end_time"]) and not pd.isna(row["start_time"]):
        seconds = (pd.Timestamp(row["end_time"]) - pd.Timestamp(row["start_time"])
                   ).total_seconds()
    lines = [
        name,
        f"agent: {fmt.text(row['agent_id'])} · kind: {fmt.text(kind_name(row['kind']))} · "
        f"channel: {fmt.text(row['channel'])}",
        f"key: {fmt.text(row['session_key'])}",
        f"id: {row['session_id']}" + (f" · gateway: {row['gateway']}"
                                      if ctx.view.several_gateways else ""),
        f"models: {fmt.text(got['models'] if got is not None else row['model'])}",
        f"thinking levels: {fmt.text(got['thinking_levels'] if got is not None else None)}"
        f"{'' if got is None or got['thinking_levels'] else ' (none recorded)'}",
        f"start: {ctx.local_text(row['start_time'])} · end: {ctx.local_text(row['end_time'])} · "
        f"duration: {fmt.duration(seconds)}",
    ]
    if isinstance(row["cron_job_name"], str) or isinstance(row["cron_job_id"], str):
        lines.append(f"cron job: {fmt.text(row['cron_job_name'] or row['cron_job_id'])}")
    st.text("\n".join(lines))
    if got is None:
        return
    # how the cost was obtained, where there is something to tell: a cost all recorded
    # (the usual case) had "Recorded" equal to it beside "Estimated $0.00"
    estimated = float(got["estimated_cost"]) > 0
    sources = [Tile("Recorded", fmt.money(got["recorded_cost"]),
                    help="cost OpenClaw recorded with the call"),
               Tile("Estimated", fmt.money(got["estimated_cost"]),
                    help="priced from your prices or the price library")] if estimated else []
    if float(got["subscription_cost"]) > 0:
        sources.append(Tile("Subscription", fmt.money(got["subscription_cost"]),
                            help="list-price equivalent of subscription or login providers: "
                                 "not money spent"))
    tiles([Tile("Cost", fmt.money(got["cost"]),
                help="all calls of the session" + (
                    "" if estimated or int(got["unpriced_calls"])
                    else ", as OpenClaw recorded it")),
           *sources,
           Tile("LLM calls", fmt.count(got["calls"])),
           Tile("Errors", fmt.count(got["errors"]))])
    if int(got["unpriced_calls"]):
        st.warning(f"{int(got['unpriced_calls']):,} call(s) have no price anywhere and "
                   "count as $0.")


def links(ctx: shell.Ctx, row: pd.Series) -> None:
    """Back to the parent session and to the cron job's page."""
    columns = st.columns(3)
    if isinstance(row["parent_session_id"], str) and row["parent_session_id"]:
        columns[0].link_button("Parent session", str(session_links(
            ctx, [row["parent_session_id"]], [row["gateway"]])[0]),
            icon=":material/arrow_upward:")
    if row["kind"] == "cron":
        basic = ctx.view.session_link.startswith("?")
        columns[1].link_button("Cron jobs", "?view=automation" if basic else "automation",
                               icon=":material/schedule:")


def drivers(ctx: shell.Ctx, session_id: str, gateway: str) -> None:
    """The rules' findings, strongest first, then the cost by token kind."""
    found = data.ask(read.cost_drivers, ctx.src, session_id=session_id, gateway=gateway)
    st.markdown("**What drove the cost**")
    if found.empty:
        st.text("Nothing stands out.")
        st.caption("The rules looked for " + ", ".join(what for what, _ in RULES) + ".")
    else:
        st.text("\n".join(f"• {line}" for line in found["text"].head(5)))
    cost_split(ctx, session_id, gateway)


def cost_split(ctx: shell.Ctx, session_id: str, gateway: str) -> None:
    """The session's cost by token kind, and how it was estimated."""
    split = data.ask(read.session_cost_split, ctx.src, session_id=session_id, gateway=gateway)
    line = cost_split_text(split)
    if line is None:
        return
    st.text(line)
    st.caption(cost_split_note(split))


def cost_split_note(split: pd.DataFrame) -> str:
    """Where the split comes from: OpenClaw's own record of each call's cost by kind (or
    the price table's rates), and what was estimated at the price library's list prices."""
    note = ("Each call's cost by kind as OpenClaw recorded it, or at the rates of your price "
            "table (openclaw.json, models.json)")
    guessed = float(split["estimated"].sum())
    if guessed > 0:
        note += (f"; {fmt.money(guessed)} of calls stored without their split (before this "
                 "version, or priced by the price library) is divided in the proportions of "
                 "their tokens at the library's list prices")
    if "unsplit" in set(split["kind"]):
        note += "; not split: calls without their split, of models the library does not know"
    return note + "."


def cost_split_text(split: pd.DataFrame) -> str | None:
    """'Cost by token kind: cache read $10.14 (64%) · …', dearest first, the amounts with
    the decimals they need side by side; None when the session cost nothing."""
    parts = split[split["cost"] > 0].sort_values("cost", ascending=False, kind="stable")
    if parts.empty:
        return None
    decimals = fmt.money_decimals(parts["cost"].tolist(), below=1.0)
    return "Cost by token kind: " + " · ".join(
        f"{'not split' if kind == 'unsplit' else kind.replace('_', ' ')} "
        f"{fmt.money(cost, decimals)} ({fmt.percent(share, 0)})"
        for kind, cost, share in zip(parts["kind"], parts["cost"], parts["share"], strict=True))


def calls_view(ctx: shell.Ctx, session_id: str, gateway: str) -> None:
    timeline = data.ask(read.session_timeline, ctx.src, session_id=session_id, gateway=gateway)
    marks = data.ask(read.session_markers, ctx.src, session_id=session_id, gateway=gateway)
    chart(story_charts.session_story(timeline, marks, ctx.colours("model")),
          "session-story-chart")
    if not marks.empty:
        shown = local_times(marks, ["timestamp"], ctx.tz)
        shown["kind"] = [story_charts.MARKER_STYLE[k][0] for k in shown["kind"]]
        # a cell never wraps: what happened first, or a phone's width cuts it off
        table(shown, key="session-markers", column_order=["n", "detail", "kind", "timestamp"],
              column_config={"n": count_column("Call #"), "timestamp": time_column("Time"),
                             "kind": "Marker", "detail": "What happened"})
    shown = local_times(timeline, ["timestamp"], ctx.tz)
    # A call with no context (one that failed before any token) has no hit rate: '—'.
    shown["cache_hit"] = [fmt.percent(None if pd.isna(v) else float(v))
                          for v in timeline["cache_hit"]]
    shown.insert(1, "status", ["✗ error" if bad else ("↻ retry" if again else "ok")
                               for bad, again in zip(timeline["is_error"], timeline["retry"],
                                                     strict=True)])
    table(shown, key="session-timeline", column_order=[  # cost within a phone's width
        "n", "status", "cost", "model", "timestamp", "cumulative_cost", "context",
        "cache_hit", "output", "latency_ms", "tool_calls", "stop_reason"], column_config={
        "n": count_column("#"), "status": "Status", "timestamp": time_column("Time"),
        "model": "Model", "cost": money_column("Cost", per_call=True),
        "cumulative_cost": money_column("Running total"), "context": count_column("Context"),
        "cache_hit": "Cache hit", "output": count_column("Output"),
        "latency_ms": count_column("Latency ms"), "tool_calls": count_column("Tools"),
        "stop_reason": "Stop"})


def cache_view(ctx: shell.Ctx, session_id: str, gateway: str) -> None:
    cache = data.ask(read.session_cache, ctx.src, session_id=session_id, gateway=gateway)
    saved, premium = cache["saved"].sum(min_count=1), cache["write_premium"].sum(min_count=1)
    tiles([Tile("Cache reads saved", fmt.money(saved),
                help="cache-read tokens priced as input, minus what they cost"),
           Tile("Cache writes cost", fmt.money(cache["write_cost"].sum(min_count=1))),
           Tile("Write premium", fmt.money(premium),
                help="what cache writes cost above the same tokens as plain input"),
           Tile("Net saving", fmt.money(cache["net"].sum(min_count=1)))])
    shown = cache.copy()
    for name in ("price_input", "price_cache_read", "price_cache_write", "saved",
                 "write_cost", "write_premium", "net"):  # unknown to the library: '—'
        shown[name] = [fmt.money(None if pd.isna(v) else float(v)) for v in cache[name]]
    table(shown, key="session-cache", column_order=[
        "model", "calls", "cache_read", "cache_write", "price_input", "price_cache_read",
        "price_cache_write", "saved", "write_cost", "write_premium", "net"], column_config={
        "model": "Model", "calls": count_column("Calls"),
        "cache_read": count_column("Cache read"), "cache_write": count_column("Cache write"),
        "price_input": "Input $/M", "price_cache_read": "Read $/M",
        "price_cache_write": "Write $/M", "saved": "Saved", "write_cost": "Write cost",
        "write_premium": "Write premium", "net": "Net"})
    st.caption("Net = Saved − Write premium: cache writes would have been paid as input "
               "anyway, so only what they cost above it (of the Write cost) counts against "
               "the saving. At the rates the calls were charged (as OpenClaw recorded their "
               "cost by kind, or your price table's), else at the list prices of the price "
               "library (genai-prices); '—' where neither is known.")


def tools_view(ctx: shell.Ctx, session_id: str, gateway: str) -> None:
    summary = data.ask(read.session_tool_summary, ctx.src, session_id=session_id,
                       gateway=gateway)
    if summary.empty:
        st.text("No tool calls in this session.")
        return
    seconds = summary.assign(total_s=summary["total_ms"] / 1000,
                             max_s=summary["max_ms"] / 1000).drop(columns=["total_ms", "max_ms"])
    table(seconds, key="session-tool-summary", durations=["total_s", "max_s"],
          column_config={
              "tool_name": "Tool", "calls": count_column("Calls"),
              "errors": count_column("Errors"), "unanswered": count_column("No result"),
              "total_s": "Time", "max_s": "Longest"})
    ordered = data.ask(read.session_tool_calls, ctx.src, session_id=session_id,
                       gateway=gateway)
    shown = local_times(ordered, ["timestamp"], ctx.tz)
    shown["duration_s"] = shown["duration_ms"] / 1000
    table(shown, key="session-tool-calls", durations=["duration_s"], column_order=[
        "timestamp", "tool_name", "outcome", "duration_s", "bridge_name"], column_config={
        "timestamp": time_column("Time"), "tool_name": "Tool", "outcome": "Outcome",
        "duration_s": "Duration", "bridge_name": st.column_config.TextColumn(
            "Called through", help=THROUGH_HELP)})


def tree_view(ctx: shell.Ctx, session_id: str, gateway: str) -> None:
    tree = data.ask(read.session_tree, ctx.src, session_id=session_id, gateway=gateway)
    if tree.empty:
        st.text("This session spawned no sub-agents.")
        return
    shown = tree.copy()
    shown["name"] = ["    " * (int(d) - 1) + "└ " + session_name(lbl, key, sid)
                     for d, lbl, key, sid in zip(tree["depth"], tree["label"],
                                                 tree["session_key"], tree["session_id"],
                                                 strict=True)]
    shown["open"] = session_links(ctx, tree["session_id"], tree["gateway"]).to_numpy()
    shown["kind"] = kind_names(tree["kind"])
    shown = local_times(shown, ["start_time"], ctx.tz)
    table(shown, key="session-tree", column_order=linked_first(ctx, [
        "name", "kind", "agent_id", "start_time", "calls", "own_cost", "rolled_cost",
        "descendants"], gateways=False), column_config={
        "name": "Session", "open": link_column("Open"), "kind": "Kind", "agent_id": "Agent",
        "start_time": time_column("Start"), "calls": count_column("Calls"),
        "own_cost": money_column("Own cost"), "rolled_cost": money_column("With its sub-agents"),
        "descendants": count_column("Sub-agents below")})
