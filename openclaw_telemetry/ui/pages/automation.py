"""Cron jobs and sub-agents: cost per cron job per day and per run, and sub-agent cost
rolled up to the session that spawned it; every run and spawner opens its session. A cron
job is its id on its gateway, named as `read.cron_activity` labels it: two agents' or two
hosts' jobs of one name are two jobs, each with its own colour."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from openclaw_telemetry import charts, read
from openclaw_telemetry.names import off_gateway
from openclaw_telemetry.timeframe import Unit, default_unit
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui.widgets import (
    chart,
    count_column,
    kind_names,
    link_column,
    linked_first,
    local_times,
    money_column,
    nothing,
    percent_column,
    session_links,
    session_names,
    table,
    time_column,
    with_gateway,
)

# read.subagent_rollup: subagent_share = subagent_cost / total_cost (own + sub-agent cost)
SHARE_HELP = ("Sub-agent $ as a share of Total $: of what this session and the sub-agents "
              "it spawned cost in the range, the part its sub-agents spent")
JOB_WIDTH = 120  # px; see `cron`
AVG_RUN_HELP = "Cost / Runs: what a run cost on average (its calls in the range)"
MAX_RUN_HELP = "What the job's most expensive run cost (its calls in the range)"


def cron(ctx: shell.Ctx) -> None:
    st.subheader("Cron jobs")
    first_call = data.ask(read.call_bounds, ctx.src).iloc[0]["first_call"]
    unit = default_unit(ctx.window, now=ctx.now, first_call=first_call)
    unit = Unit.DAY if unit is Unit.HOUR else unit  # runs are summed per day
    activity = data.ask(read.cron_activity, ctx.src, scope=ctx.scope, tz=ctx.tz, unit=unit)
    if activity.daily.empty:
        nothing("cron runs")
        return
    jobs = local_times(activity.jobs, ["last_run"], ctx.tz)
    colours = ctx.job_colours(dict(zip(jobs["job_key"], jobs["job"], strict=True)))
    jobs["job"] = _beside_gateway(jobs)
    since, until = ctx.span  # the range, else the first run (of the filters' runs) to now
    span = (since, ctx.local(ctx.end) if until is None else until)
    chart(charts.cron_daily(activity.daily, colours, unit=unit.value, span=span),
          "cron-daily")
    # On a phone (390 px: 358 px of table) a job's cost, runs and cost per run stand beside
    # its name: the name has a width of its own (a longer one is cut; the chart's legend
    # names it whole) and the per-run headers are as narrow as their amounts. A wider
    # screen shares out the room left: at 1440 px a name of some 25 characters shows whole.
    table(jobs, key="cron-jobs", column_order=with_gateway(ctx, [
        "cost", "job", "runs", "avg_run", "max_run", "calls", "tokens", "errors",
        "last_run"]), column_config={
        "job": st.column_config.TextColumn("Job", width=JOB_WIDTH), "gateway": "Gateway",
        "runs": count_column("Runs"), "calls": count_column("Calls"),
        "tokens": count_column("Tokens"), "cost": money_column("Cost"),
        "avg_run": money_column("Avg/run", per_call=True, help=AVG_RUN_HELP),
        "max_run": money_column("Max/run", per_call=True, help=MAX_RUN_HELP),
        "last_run": time_column("Last run"), "errors": count_column("Errors")})
    runs = local_times(activity.runs, ["start_time", "end_time"], ctx.tz)
    runs["job"] = _beside_gateway(runs)
    runs["open"] = session_links(ctx, runs["session_id"], runs["gateway"]).to_numpy()
    with st.expander(f"Latest runs ({len(runs):,})"):
        table(runs, key="cron-runs", durations=["duration_s"], column_order=linked_first(ctx, [
            "cost", "start_time", "job", "agent_id", "model", "calls", "tokens", "errors",
            "duration_s"]), column_config={
            "start_time": time_column("Start"), "job": "Job", "gateway": "Gateway", "agent_id": "Agent",
            "model": "Model", "calls": count_column("Calls"),
            "tokens": count_column("Tokens"), "cost": money_column("Cost"),
            "errors": count_column("Errors"), "duration_s": "Duration",
            "open": link_column("Session")})


def _beside_gateway(frame: pd.DataFrame) -> list[str]:
    """The job names of a table with a Gateway column: without their gateway (the chart's
    series keep it)."""
    return [off_gateway(str(job), str(gateway))
            for job, gateway in zip(frame["job"], frame["gateway"], strict=True)]


def subagents(ctx: shell.Ctx) -> None:
    st.subheader("Sub-agents")
    rolled = data.ask(read.subagent_rollup, ctx.src, scope=ctx.scope)
    if rolled.empty:
        nothing("sub-agent calls")
        return
    named = rolled.assign(parent=session_names(rolled, ctx.tz, id_column="parent_id"),
                          bar=session_names(rolled, ctx.tz, id_column="parent_id",
                                            gateway=ctx.view.several_gateways))
    known = rolled["parent_id"].where(rolled["kind"].notna())  # no page for a lost parent
    named["open"] = session_links(ctx, known, rolled["gateway"]).to_numpy()
    named["kind"] = kind_names(rolled["kind"])
    chart(charts.ranked_bars(named, names="bar", values="subagent_cost", money=True,
                             title="Sub-agent cost by spawning session", top=10), "sub-bars")
    # The figures before the spawning session's name, which is a key and a start (some
    # 330 px at 1440): Total $ and Share after it were cut at 1440 px (review 19); agent
    # and kind, which the key says, come last.
    table(named, key="sub-table", column_order=linked_first(ctx, [
        "subagent_cost", "total_cost", "subagent_share", "parent", "subagents",
        "subagent_calls", "own_cost", "agent_id", "kind"]), column_config={
        "parent": "Spawned by", "gateway": "Gateway", "agent_id": "Agent", "kind": "Kind",
        "subagents": count_column("Sub-agents"), "subagent_calls": count_column("Calls"),
        "subagent_cost": money_column("Sub-agent $"), "own_cost": money_column("Own $"),
        "total_cost": money_column("Total $"),
        "subagent_share": percent_column("Share", help=SHARE_HELP),
        "open": link_column("Session")})
    st.caption("Costs of the calls in the range; nested sub-agents count for the first "
               "session up the chain that is not a sub-agent.")


def render(ctx: shell.Ctx) -> None:
    cron(ctx)
    subagents(ctx)


if __name__ == "__main__":
    shell.page(render, "automation", "Cron jobs and sub-agents")
