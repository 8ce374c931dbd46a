"""The delivery record on the Budgets and Alerts pages: what was sent where, what failed.

Figures come from `read.deliveries`, asked per minute (the record changes without an
ingest). Targets show as Apprise's privacy labels: no page shows a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pandas as pd
import streamlit as st

from openclaw_telemetry import read
from openclaw_telemetry.delivery_log import target_id
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


def _dropped(failures: int, urls: int, kind: str) -> str:
    """'2 alert notifications failed to URLs no longer in the rules file; they are not
    retried.': the nouns and verbs follow the counts."""
    to = "a URL" if urls == 1 else "URLs"
    they = "it is" if failures == 1 else "they are"
    return (f"{fmt.counted(failures, f'{kind} notification')} failed to {to} no longer in "
            f"the rules file; {they} not retried.")


def show(ctx: shell.Ctx, kind: str, *, urls: Sequence[str]) -> None:
    """Failed deliveries of `kind` (alert | budget) to the `urls` listed now as a warning
    (those to a URL taken out of the list are never retried: said apart), then the record."""
    frame = record(ctx)
    frame = frame[frame["kind"] == kind]
    if not urls and frame.empty:
        st.caption("Nothing is delivered: no notify URLs in the rules file (README: Budgets "
                   "and notifications).")
        return
    failing = frame[frame["state"].isin(_FAILING)]
    listed = failing["target_id"].isin({target_id(url) for url in urls})
    retried, dropped = failing[listed], failing[~listed]
    if not retried.empty:
        st.warning(f"{fmt.counted(len(retried), f'{kind} notification')} could not be "
                   "delivered, to be retried at the next evaluation (alerts.py --notify or "
                   "an ingest with --alerts). "
                   f"Last error: {fmt.escape_md(retried.iloc[0]['error'])}",
                   icon=":material/error:")
    if not dropped.empty:
        st.caption(_dropped(len(dropped), dropped["target_id"].nunique(), kind))
    if frame.empty:
        st.caption("Nothing delivered yet.")
        return
    shown = local_times(frame.drop(columns=["episode", "kind", "target_id"]),
                        ["sent_at", "resolved_at", "updated_at"], ctx.tz)
    with st.expander(f"Deliveries ({len(frame)})", expanded=not retried.empty):
        table(shown, key=f"deliveries-{kind}")
