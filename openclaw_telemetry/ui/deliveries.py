"""The delivery record on the Budgets and Alerts pages: what was sent where, what failed.

Figures come from `read.deliveries`, asked per minute (the record changes without an
ingest). Targets show as Apprise's privacy labels: no page shows a secret.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from openclaw_telemetry import read
from openclaw_telemetry.timeframe import to_utc
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.outlook import tick
from openclaw_telemetry.ui.widgets import local_times, table

_FAILING = ("failed", "resolve_failed")


def record(ctx: shell.Ctx) -> pd.DataFrame:
    """The delivery record up to the end of this minute (columns of `read.deliveries`)."""
    until = to_utc(tick(ctx)) + timedelta(minutes=1)
    frame: pd.DataFrame = data.ask(read.deliveries, ctx.src, until=until)
    return frame


def show(ctx: shell.Ctx, kind: str, *, configured: bool) -> None:
    """Failed deliveries of `kind` (alert | budget) as a warning, then the record."""
    frame = record(ctx)
    frame = frame[frame["kind"] == kind]
    failing = frame[frame["state"].isin(_FAILING)]
    if not configured and frame.empty:
        st.caption("Nothing is delivered: no notify URLs in the rules file (README: Budgets "
                   "and notifications).")
        return
    if not failing.empty:
        st.warning(f"{fmt.counted(len(failing), f'{kind} notification')} could not be "
                   "delivered, to be retried at the next evaluation (alerts.py --notify or "
                   "--watch --alerts). "
                   f"Last error: {fmt.escape_md(failing.iloc[0]['error'])}",
                   icon=":material/error:")
    if frame.empty:
        st.caption("Nothing delivered yet.")
        return
    shown = local_times(frame.drop(columns=["episode", "kind"]),
                        ["sent_at", "resolved_at", "updated_at"], ctx.tz)
    with st.expander(f"Deliveries ({len(frame)})", expanded=not failing.empty):
        table(shown, key=f"deliveries-{kind}")
