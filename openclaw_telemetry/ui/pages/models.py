"""Models: cost per model (share and ranking), tokens by provider, calls and sessions per
model, average cost per call and cache hit rate."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from openclaw_telemetry import charts, read
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui.widgets import (
    chart,
    count_column,
    money_column,
    nothing,
    percent_column,
    table,
)


def shares(ctx: shell.Ctx, per_model: pd.DataFrame) -> None:
    left, right = st.columns(2)
    with left:
        chart(charts.share_pie(per_model, names="model", values="cost",
                               title="Share of cost", colours=ctx.colours("model")), "md-pie")
    with right:
        chart(charts.ranked_bars(per_model, names="model", values="cost",
                                 title="Cost per model", money=True,
                                 colours=ctx.colours("model")), "md-bars")


def render(ctx: shell.Ctx) -> None:
    per_model = data.ask(read.models, ctx.src, scope=ctx.scope, tz=ctx.tz)
    if per_model.empty:
        nothing("LLM calls")
        return
    if not per_model["cost"].any():
        st.info("No cost in this range: no call of these models has a known price.",
                icon=":material/money_off:")
    else:
        shares(ctx, per_model)
    per_provider = data.ask(read.breakdown, ctx.src, scope=ctx.scope, tz=ctx.tz, by="provider")
    chart(charts.token_kinds(per_provider, by="provider", title="Tokens by provider"),
          "md-tokens")
    table(per_model, key="md-table", column_order=[
        "cost", "model", "provider", "calls", "sessions", "avg_cost_per_call",
        "cache_hit_rate", "tokens", "errors", "estimated_cost", "unpriced_calls"],
        column_config={
            "model": "Model", "provider": "Provider", "cost": money_column("Cost"),
            "calls": count_column("Calls"),
            "sessions": count_column("Sessions",
                                     help="sessions with a call of this model in range"),
            "avg_cost_per_call": money_column(
                "Avg/call", per_call=True,
                help="Cost / Calls: what a call of this model cost on average in the range"),
            "cache_hit_rate": percent_column("Cache hit rate"),
            "tokens": count_column("Tokens"), "errors": count_column("Errors"),
            "estimated_cost": money_column("Estimated $"),
            "unpriced_calls": count_column("Unpriced calls")})
    st.caption("Cache hit rate = cache read / (input + cache read + cache write).")


if __name__ == "__main__":
    shell.page(render, "models", "Models")
