"""Sessions: a searchable, sortable table of the sessions active in the range, and one
session's page, the session explorer (`ui/session_story.py`).

A session is opened by id, `?session=<session_id>` (a table row click writes it), so a
link, a reload or a range change keeps it: the session is read by id, whatever the
range; `&section=cache|tools|tree|replay` opens one of its sections. Ids are unique per
gateway: with several gateways in the database `&gateway=<name>` says whose session it
is (without it, the first gateway holding that id, by name). Session labels
and keys are user text: they are only shown in tables and `st.text`, never rendered as
Markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from openclaw_telemetry import read
from openclaw_telemetry.links import GATEWAY_PARAM, SESSION_PARAM
from openclaw_telemetry.read.sessions import KEPT
from openclaw_telemetry.ui import data, download, replay_view, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui import session_story as story
from openclaw_telemetry.ui.widgets import (
    count_column,
    kind_names,
    local_times,
    main_model_column,
    nothing,
    session_name,
    session_names,
    session_total_column,
    table,
    time_column,
    url_choice,
    with_gateway,
)

ORDERS = {"cost": "Most expensive", "recent": "Most recent"}
SECTION_PARAM = "section"  # ?session=<id>&section=tools opens that section
NAME_WIDTH = 256  # px: a session id (36 characters) whole
MODEL_WIDTH = 140  # px: 'claude-sonnet-4-5', 'moonshotai/kimi-k2.5' whole
NO_KEY = "no key"  # the session is not in OpenClaw's session store: an orphan transcript
KEPT_HELP = ("What OpenClaw kept of the session's transcript (empty: the live one). "
             + "; ".join(f"{word}: {meaning}" for word, meaning in
                         {**KEPT, NO_KEY: "not in OpenClaw's session store (an orphan "
                                          "transcript), so it has no key"}.items()))


def _notes(frame: pd.DataFrame) -> list[str]:
    """What OpenClaw kept of each session, and for one without a key, that it has none."""
    notes = []
    for origin, key in zip(frame["origin"], frame["session_key"], strict=True):
        parts = [str(origin)] if origin else []
        if not isinstance(key, str) or not key:
            parts.append(NO_KEY)
        notes.append(" · ".join(parts))
    return notes


def table_view(ctx: shell.Ctx) -> pd.DataFrame:
    left, right = st.columns([3, 2])
    search = left.text_input("Search", key="sessions-search",
                             placeholder="key, label, id, cron job, agent or model")
    order = right.segmented_control("Order", list(ORDERS), default="cost", required=True,
                                    format_func=ORDERS.__getitem__, key="sessions-order")
    frame = data.ask(read.session_table, ctx.src, scope=ctx.scope, search=search,
                     order=str(order or "cost"))
    if frame.empty:
        return frame
    shown = local_times(frame, ["start_time", "end_time"], ctx.tz)
    shown["name"] = session_names(frame, ctx.tz, started=False)
    shown["kind"] = kind_names(frame["kind"])
    shown["note"] = _notes(frame)

    def picked() -> None:
        state = st.session_state["sessions-table"]
        rows = state.selection.rows if state is not None else []
        if rows:
            st.query_params[SESSION_PARAM] = str(frame.iloc[rows[0]]["session_id"])
            if ctx.view.several_gateways:
                st.query_params[GATEWAY_PARAM] = str(frame.iloc[rows[0]]["gateway"])
            else:
                st.query_params.pop(GATEWAY_PARAM, None)

    # At 1440 px beside the sidebar the table has 942 px for its columns. What a user reads
    # at a glance fits there: cost, the name (a session id's width: an orphan's name is its
    # id; a longer key is cut, whole in Key), what OpenClaw kept of it, its start, main
    # model and figures (tokens compact). Kind and agent, which a key already says, the
    # duration and the cron job follow; Key and Id (also on the session page) last. With
    # several gateways, Gateway comes second and Transcript (mostly "—") after the figures.
    figures = ["start_time", "model", "calls", "errors", "tool_calls", "tokens"]
    first = [*figures, "note"] if ctx.view.several_gateways else ["note", *figures]
    table(shown, key="sessions-table", on_select=picked, selection_mode="single-row",
          durations=["duration_s"], column_order=with_gateway(ctx, [
              "cost", "name", *first, "duration_s", "kind", "agent_id", "cron_job_name",
              "session_key", "session_id"]), column_config={
              "cost": session_total_column(),
              "name": st.column_config.TextColumn("Session", width=NAME_WIDTH),
              "gateway": "Gateway", "start_time": time_column("Start", minutes=True),
              "duration_s": "Duration", "kind": "Kind", "agent_id": "Agent",
              "model": main_model_column(MODEL_WIDTH), "calls": count_column("Calls"),
              "errors": count_column("Errors"), "tool_calls": count_column("Tools"),
              "tokens": count_column("Tokens", compact=True), "cron_job_name": "Cron job",
              "note": st.column_config.TextColumn("Transcript", help=KEPT_HELP, width=125),
              "session_key": "Key", "session_id": "Id"})
    matched = int(frame["matched"].iloc[0])
    st.caption(f"{len(frame):,} of {matched:,} sessions active in the range (session "
               "totals). Tick the box at a row's start to open the session.")
    download.csv_button(ctx, "sessions", "Download all as CSV", key="sessions-csv",
                        search=search)
    return frame


def _missing(ctx: shell.Ctx, session_id: str, gateway: str | None,
             found: pd.DataFrame) -> str:
    """Why no session opens: an unknown id, an unknown gateway, or the id elsewhere."""
    if gateway is not None and gateway not in ctx.view.gateways:
        return (f"No gateway named {gateway!r} in this database (it holds "
                f"{', '.join(repr(g) for g in ctx.view.gateways)}).")
    if found.empty:
        return f"No session with id {session_id!r} in this database."
    return (f"No session with id {session_id!r} on gateway {gateway!r}; that id is on "
            f"{', '.join(repr(str(g)) for g in found['gateway'])}.")


def session(ctx: shell.Ctx, session_id: str) -> None:
    """One session, by id and gateway, whatever the range: the session explorer
    (`ui/session_story`)."""
    found = data.ask(read.session_detail, ctx.src, session_id=session_id)
    gateway = st.query_params.get(GATEWAY_PARAM) or None
    detail = found if gateway is None else found[found["gateway"] == gateway]
    top, close = st.columns([6, 1], vertical_alignment="center")
    if close.button("Close", icon=":material/close:", key="session-close", width="stretch"):
        for param in (SESSION_PARAM, GATEWAY_PARAM, SECTION_PARAM):
            st.query_params.pop(param, None)
        st.rerun()
    if detail.empty:
        top.warning(fmt.escape_md(_missing(ctx, session_id, gateway, found)))
        return
    row = detail.iloc[0]
    gateway = str(row["gateway"])
    top.subheader("Session")
    if len(found) > 1 and st.query_params.get(GATEWAY_PARAM) is None:
        st.caption(fmt.escape_md(f"Sessions of this id are on {len(found)} gateways; this is "
                                 f"the one on {gateway}."))
    story.who_and_what(ctx, row, data.ask(read.session_profile, ctx.src,
                                          session_id=session_id, gateway=gateway),
                      session_name(row["label"], row["session_key"], row["session_id"]))
    story.links(ctx, row)
    story.drivers(ctx, session_id, gateway)
    sections = dict(story.SECTIONS)
    if not replay_view.enabled():
        del sections["replay"]
    shown = url_choice("Show", sections, param=SECTION_PARAM, default="calls",
                       key="session-section")
    {"calls": story.calls_view, "cache": story.cache_view, "tools": story.tools_view,
     "tree": story.tree_view, "replay": replay_view.render}[shown](
        ctx, session_id, gateway)


def render(ctx: shell.Ctx, *, detail: bool = True) -> None:
    """The session of the URL (unless `detail` is False: shown elsewhere), then the table."""
    wanted = st.query_params.get(SESSION_PARAM)
    if wanted and detail:
        session(ctx, str(wanted))
        st.divider()
    frame = table_view(ctx)
    if frame.empty:
        nothing("sessions")


if __name__ == "__main__":
    shell.page(render, "sessions", "Sessions")
