"""Budgets: each budget of the rules file with a progress bar, spent of amount, the
forecast for its period with its p10-p90 range, days left, when it runs out at this pace,
and what was delivered about it; then the month of all calls (with the sidebar's filters).

Budgets keep their own filters: the sidebar's range and filters do not change them."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from openclaw_telemetry import read, rulesfile
from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.ui import data, deliveries, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.outlook import forecast_note, month_tiles, tick
from openclaw_telemetry.ui.widgets import (
    Tile,
    link_column,
    linked_first,
    money_column,
    session_links,
    table,
    tiles,
)

_EXAMPLE = '[[budget]]\nname = "Monthly"\nperiod = "month"\namount = 50.0'


def _runs_out(row: pd.Series) -> Tile:
    """When the amount is reached; a budget that lasts the period reads "—", said under
    the tile ("not this period" was cut to "not this pe…" in a quarter of 1440 px)."""
    help = "when the amount is reached at the pace of the last 14 days"
    if float(row["fraction"]) >= 1:
        return Tile("Runs out", "used up", help=help)
    if pd.isna(row["runs_out"]):
        return Tile("Runs out", "—", help=help, note="not this period")
    return Tile("Runs out", f"{pd.Timestamp(row['runs_out']):%b %d %H:%M}", help=help)


_BADGES = {"critical": ("red", "error"), "warning": ("orange", "warning"),
           "info": ("blue", "info")}


def _state(row: pd.Series) -> str:
    """The level a budget reached, as a coloured badge in words (' · used up', '80%
    reached'); nothing below its first level. Words and colour, not an emoji, which a
    system without an emoji font draws as a blank box."""
    if str(row["severity"]) not in _BADGES:
        return ""
    colour, icon = _BADGES[str(row["severity"])]
    said = ("used up" if float(row["fraction"]) >= 1
            else f"{fmt.percent(float(row['reached']), 0)} reached")
    return f" · :{colour}-badge[:material/{icon}: {said}]"


def budget(ctx: shell.Ctx, row: pd.Series, spent_by: pd.DataFrame,
           unknown: Sequence[str] = ()) -> None:
    """One budget: a progress bar, its figures, what it names that the database never saw
    (`rulesfile.unknown_in`: `alerts.py` warns the same) and the sessions that spent most
    of it."""
    fraction = float(row["fraction"])
    st.markdown(f"**{fmt.escape_md(row['budget'])}** · per {row['period']} · "
                f"{pd.Timestamp(row['start']):%b %d} – "
                f"{pd.Timestamp(row['end']) - pd.Timedelta(days=1):%b %d}{_state(row)}")
    st.progress(min(fraction, 1.0), text=f"{fmt.money(row['spent'])} of "
                                         f"{fmt.money(row['amount'])} ({fmt.percent(fraction, 0)})")
    tiles([
        Tile("Spent", fmt.money(row["spent"]), help="cost of the calls the budget's filters "
                                                    "select, this period"),
        Tile("Forecast", fmt.money(row["forecast"]),
             help="projected spend at the period's end; the range is p10–p90",
             note=forecast_note(row)),
        Tile("Days left", f"{float(row['days_left']):.1f}"),
        _runs_out(row),
    ])
    for line in unknown:
        st.warning(fmt.escape_md(line[:1].upper() + line[1:]), icon=":material/help:")
    if not spent_by.empty:
        st.caption("The sessions that spent most of it this period")
        table(spent_by.assign(open=session_links(ctx, spent_by["session_id"],
                                                 spent_by["gateway"]).to_numpy()),
              key=f"budget-sessions-{row['budget']}",
              column_order=linked_first(ctx, ["cost", "name"]),
              column_config={"cost": money_column("Spent"), "gateway": "Gateway",
                             "name": "Session", "open": link_column("Open")})


def render(ctx: shell.Ctx) -> None:
    try:
        config = rulesfile.load(ctx.view.alerts)
    except ConfigError as exc:
        st.error(f"Rules file not loaded:\n\n{fmt.config_error(exc)}", icon=":material/error:")
        return
    st.subheader("This month")
    month_tiles(ctx)
    if not config.budgets:
        where = (f"in {fmt.escape_md(ctx.view.alerts)}. Add one" if ctx.view.alerts else
                 "and no rules file. Add alerts.toml with one")
        st.info(f"No budgets {where} (see alerts.example.toml), for example:",
                icon=":material/savings:")
        st.code(_EXAMPLE, language="toml")
        return
    status = data.ask(read.budget_status, ctx.src, budgets=config.budgets, now=tick(ctx),
                      tz=ctx.tz)
    known = data.ask(read.known_names, ctx.src)
    st.subheader("Budgets")
    st.caption("Each budget counts what its own filters in the rules file select, over its "
               "own period: the sidebar's range and filters do not change it.")
    for spec, (_, row) in zip(config.budgets, status.iterrows(), strict=True):
        spent_by = data.ask(read.budget_sessions, ctx.src, budget=spec, now=tick(ctx),
                            tz=ctx.tz)
        with st.container(border=True):
            budget(ctx, row, spent_by, rulesfile.unknown_in(spec, known))
    st.subheader("Notifications")
    deliveries.show(ctx, "budget", urls=config.notify)


if __name__ == "__main__":
    shell.page(render, "budgets", "Budgets", ranged=False)  # (budgets keep their own)
