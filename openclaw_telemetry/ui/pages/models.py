"""Models: cost per model (share and ranking), tokens by provider, calls and sessions per
model, average cost per call and cache hit rate."""

from __future__ import annotations

import streamlit as st

from openclaw_telemetry import charts, rollups
from openclaw_telemetry.queries import with_sessions
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui.widgets import (
    chart,
    count_column,
    money_column,
    nothing,
    percent_column,
)


def render(ctx: shell.Ctx) -> None:
    rows = data.calls(ctx.url, ctx.version, ctx.scope, ctx.tz_name)
    per_model = with_sessions(rollups.models(rows),
                              data.sessions_by_model(ctx.url, ctx.version, ctx.scope))
    if per_model.empty:
        nothing("LLM calls")
        return
    left, right = st.columns(2)
    with left:
        chart(charts.share_pie(per_model, names="model", values="cost",
                               title="Share of cost"), "md-pie")
    with right:
        chart(charts.ranked_bars(per_model, names="model", values="cost",
                                 title="Cost per model", money=True), "md-bars")
    chart(charts.token_kinds(rows, by="provider", title="Tokens by provider"), "md-tokens")
    st.dataframe(per_model, hide_index=True, key="md-table", column_order=[
        "model", "provider", "cost", "calls", "sessions", "avg_cost_per_call",
        "cache_hit_rate", "tokens", "errors", "estimated_cost", "unpriced_calls"],
        column_config={
            "model": "Model", "provider": "Provider", "cost": money_column("Cost", 2),
            "calls": count_column("Calls"),
            "sessions": st.column_config.NumberColumn(
                "Sessions", format="%,d", help="sessions with a call of this model in range"),
            "avg_cost_per_call": money_column("Avg $/call", 5),
            "cache_hit_rate": percent_column("Cache hit rate"),
            "tokens": count_column("Tokens"), "errors": count_column("Errors"),
            "estimated_cost": money_column("Estimated $", 2),
            "unpriced_calls": count_column("Unpriced calls")})
    st.caption("Cache hit rate = cache read / (input + cache read + cache write).")


if __name__ == "__main__":
    shell.page(render, "models", "Models")
