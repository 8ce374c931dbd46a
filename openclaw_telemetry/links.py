"""Addresses on the dashboards, shared by their pages and the notifications.

Both dashboards open `?view=sessions&session=<id>` (the basic one's view picker; the
enhanced one sends `view` on to its page), so a message can link to a session without
knowing which dashboard is served. A session is its id on its gateway: with several
gateways in one database the link names the gateway too. `?view=budgets` and
`?view=alert_center` open the enhanced dashboard's Budgets and Alerts pages; the basic
dashboard, which has neither, opens its front page (a view it does not offer opens its
default).
"""

from __future__ import annotations

from urllib.parse import quote

VIEW_PARAM = "view"  # ?view=<page>: the basic dashboard's view, the enhanced one's page
SESSION_PARAM = "session"
GATEWAY_PARAM = "gateway"  # ?session=<id>&gateway=<name>: the gateway of the session opened
BUDGETS_PAGE = "budgets"  # the enhanced dashboard's pages (`ui/app.py` ENHANCED)
ALERTS_PAGE = "alert_center"


def page_query(page: str) -> str:
    """The query string (without '?') that opens a page of the enhanced dashboard."""
    return f"{VIEW_PARAM}={quote(page, safe='')}"


def session_query(session_id: str, gateway: str | None = None) -> str:
    """The query string (without '?') that opens a session on either dashboard."""
    query = f"{VIEW_PARAM}=sessions&{SESSION_PARAM}={quote(session_id, safe='')}"
    return f"{query}&{GATEWAY_PARAM}={quote(gateway, safe='')}" if gateway else query
