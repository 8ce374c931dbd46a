"""Cron jobs and sub-agents: cost per cron job per day and per run, and sub-agent cost
rolled up to the session that spawned it."""

from __future__ import annotations

import streamlit as st

from openclaw_telemetry import charts
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui.widgets import (
    chart,
    count_column,
    local_times,
    money_column,
    nothing,
    percent_column,
    time_column,
)


def cron(ctx: shell.Ctx) -> None:
    st.subheader("Cron jobs")
    activity = data.cron_activity(ctx.url, ctx.version, ctx.scope, ctx.tz_name)
    if activity.daily.empty:
        nothing("cron runs")
        return
    runs = local_times(activity.runs, ["start_time", "end_time"], ctx.tz)
    jobs = local_times(activity.jobs, ["last_run"], ctx.tz)
    chart(charts.cron_daily(activity.daily), "cron-daily")
    st.dataframe(jobs, hide_index=True, key="cron-jobs", column_config={
        "job": "Job", "runs": count_column("Runs"), "calls": count_column("Calls"),
        "tokens": count_column("Tokens"), "cost": money_column("Cost", 2),
        "avg_run": money_column("Avg $/run"), "max_run": money_column("Max $/run"),
        "last_run": time_column("Last run"), "errors": count_column("Errors")})
    with st.expander(f"Latest runs ({len(runs):,})"):
        st.dataframe(runs, hide_index=True, key="cron-runs", column_order=[
            "start_time", "job", "agent_id", "model", "calls", "tokens", "cost", "errors",
            "duration_s"], column_config={
            "start_time": time_column("Start"), "job": "Job", "agent_id": "Agent",
            "model": "Model", "calls": count_column("Calls"),
            "tokens": count_column("Tokens"), "cost": money_column("Cost"),
            "errors": count_column("Errors"),
            "duration_s": st.column_config.NumberColumn("Duration", format="duration")})


def subagents(ctx: shell.Ctx) -> None:
    st.subheader("Sub-agents")
    rolled = data.subagent_rollup(ctx.url, ctx.version, ctx.scope)
    if rolled.empty:
        nothing("sub-agent calls")
        return
    named = rolled.assign(parent=rolled["label"].fillna(rolled["session_key"])
                          .fillna(rolled["parent_id"]))
    chart(charts.ranked_bars(named, names="parent", values="subagent_cost", money=True,
                             title="Sub-agent cost by spawning session", top=10), "sub-bars")
    st.dataframe(named, hide_index=True, key="sub-table", column_order=[
        "parent", "agent_id", "kind", "subagents", "subagent_calls", "subagent_cost",
        "own_cost", "total_cost", "subagent_share"], column_config={
        "parent": "Spawned by", "agent_id": "Agent", "kind": "Kind",
        "subagents": count_column("Sub-agents"), "subagent_calls": count_column("Calls"),
        "subagent_cost": money_column("Sub-agent $"), "own_cost": money_column("Own $"),
        "total_cost": money_column("Total $"), "subagent_share": percent_column("Share")})
    st.caption("Costs of the calls in the range; nested sub-agents count for the first "
               "session up the chain that is not a sub-agent.")


def render(ctx: shell.Ctx) -> None:
    cron(ctx)
    subagents(ctx)


if __name__ == "__main__":
    shell.page(render, "automation", "Cron jobs and sub-agents")
