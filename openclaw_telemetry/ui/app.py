"""The two dashboards, assembled from the same shell, filters and pages.

`basic()`: one page with the KPIs, the cost timeline and a view picker for the heavier
views. `enhanced()`: `st.navigation` over the page files in `ui/pages/`, adding cost
statistics and alerts; it never has SQL of its own.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from openclaw_telemetry.config import alerts_file
from openclaw_telemetry.links import SESSION_PARAM, VIEW_PARAM
from openclaw_telemetry.ui import shell, widgets
from openclaw_telemetry.ui.pages import automation, models, overview, sessions, timeline, tools

PAGES = Path(__file__).parent / "pages"
ENHANCED = (("overview", "Overview", ":material/dashboard:"),
            ("timeline", "Timeline", ":material/timeline:"),
            ("models", "Models", ":material/model_training:"),
            ("tools", "Tools", ":material/build:"),
            ("sessions", "Sessions", ":material/forum:"),
            ("automation", "Cron & sub-agents", ":material/schedule:"),
            ("statistics", "Cost statistics", ":material/query_stats:"),
            ("compare", "Comparisons", ":material/compare_arrows:"),
            ("alert_center", "Alerts", ":material/notifications:"),
            ("budgets", "Budgets", ":material/savings:"))
VIEWS = {"models": ("Models", models.render), "tools": ("Tools", tools.render),
         "sessions": ("Sessions", sessions.render),
         "automation": ("Cron & sub-agents", automation.render)}
LINKED_KEY = "basic-linked-session"


def configure(title: str) -> None:
    st.set_page_config(page_title=title, page_icon="🦞", layout="wide",
                       initial_sidebar_state="auto")


def _start(opened: shell.Opened) -> shell.View:
    view = shell.start(opened)
    if view.alerts is None:
        view = dataclasses.replace(view, alerts=alerts_file())
    return view


def basic() -> None:
    """The basic dashboard: overview + timeline, then one heavier view at a time."""
    configure("OpenClaw Telemetry")
    opened = shell.open_data()
    if opened is None:
        return
    view = dataclasses.replace(_start(opened), session_link=f"?{VIEW_PARAM}=sessions&{SESSION_PARAM}={{}}")
    def body(ctx: shell.Ctx) -> None:
        linked = _linked_session()
        if linked is not None:
            sessions.session(ctx, linked)
            st.divider()
        overview.kpis(ctx)
        st.subheader("Timeline")
        timeline.render(ctx)
        choice = widgets.url_choice("View", {k: title for k, (title, _) in VIEWS.items()},
                                    param=VIEW_PARAM, default="sessions", key="view")
        if choice == "sessions":
            sessions.render(ctx, detail=linked is None)
        else:
            VIEWS[choice][1](ctx)

    shell.live(view, body, "basic", "OpenClaw Telemetry")


def _linked_session() -> str | None:
    """The session the basic dashboard was opened with (a notification's or a table's
    link), while it stays open: it comes first, since a link opens the page at its top,
    where the session view is screens down. A session opened afterwards from the table,
    where the user is, opens there."""
    current = st.query_params.get(SESSION_PARAM) or None
    opened = st.session_state.setdefault(LINKED_KEY, current)
    if current is None or current != opened:
        st.session_state[LINKED_KEY] = None  # closed or another: later ones open in place
        return None
    return current


def enhanced() -> None:
    """The enhanced dashboard: every page, in the sidebar navigation."""
    configure("OpenClaw Telemetry — enhanced")
    opened = shell.open_data()
    pages = {name: st.Page(PAGES / f"{name}.py", title=title, icon=icon, default=i == 0)
             for i, (name, title, icon) in enumerate(ENHANCED)}
    # a hint page (no database, no call yet) shows no menu of pages that would each show it
    chosen = st.navigation(list(pages.values()),
                           position="sidebar" if opened is not None else "hidden")
    if opened is None:
        return
    _forward_view(chosen, pages)  # before the filters: they bind their query parameters
    st.session_state[shell.VIEW_KEY] = _start(opened)
    chosen.run()


def _forward_view(chosen: StreamlitPage, pages: dict[str, StreamlitPage]) -> None:
    """`?view=<page>` on the first page opens that page, with the other parameters: the
    basic dashboard's form of a link (a notification's, `links.session_query`), so that
    one link opens a session on either dashboard."""
    wanted = pages.get(str(st.query_params.get(VIEW_PARAM, "")))
    first = pages["overview"].url_path
    if wanted is None or chosen.url_path != first or wanted.url_path == first:
        return
    st.switch_page(wanted, query_params={key: st.query_params.get_all(key)
                                         for key in st.query_params if key != VIEW_PARAM})
