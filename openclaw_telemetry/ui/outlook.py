"""The month so far and where it will end, for the overview of both dashboards.

The sidebar's agent, model and kind filters apply; its time range does not: the month is
always this calendar month in the chosen zone. The figures are `read.spend_outlook`'s.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from openclaw_telemetry import read
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import Tile, tiles


def tick(ctx: shell.Ctx) -> datetime:
    """`ctx.now` to the minute: figures that move with the clock are cached per minute."""
    return ctx.now.replace(second=0, microsecond=0)


def forecast_note(row: pd.Series) -> str:
    """What a forecast tile says under its figure: the pace it comes from and its p10–p90
    range ('at $0.10 a day · range $0.00–$6.50'): a projection of $2.51 over $0.00 spent
    so far reads as wrong without its pace."""
    return (f"at {fmt.money(row['pace'])} a day · range {fmt.money(row['forecast_low'])}–"
            f"{fmt.money(row['forecast_high'])}")


def month_tiles(ctx: shell.Ctx) -> pd.Series:
    """Two tiles: this month so far, and the projected month end with its p10–p90 range
    as plain text under it (a range is not a change: no delta arrow or colour)."""
    month: pd.Series = data.ask(read.spend_outlook, ctx.src, scope=ctx.scope.between(None, None),
                                tz=ctx.tz, now=tick(ctx)).iloc[0]
    st.caption(f"This month, whatever the sidebar's time range: since "
               f"{month['start']:%Y-%m-%d} ({fmt.escape_md(ctx.tz_name)}), with its other "
               "filters.")
    tiles([
        Tile("Month so far", fmt.money(month["spent"]),
             help=f"cost of the calls since {month['start']:%Y-%m-%d} ({ctx.tz_name}), "
                  "with the sidebar's agent, model and kind filters"),
        Tile("Projected month end", fmt.money(month["forecast"]),
             help=f"at {fmt.money(month['pace'])} a day (the mean of the last 14 complete "
                  "days); the range is p10–p90 from the spread of those days (README: "
                  "Budgets and notifications)",
             note=forecast_note(month)),
    ])
    return month
