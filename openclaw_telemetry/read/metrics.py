"""The reads behind the Prometheus exporter, each one cheap query.

All-time call totals come from the 15-minute roll-up (`usage_quarter_hours`, kept equal to
the calls by every ingest run), so they never scan `messages`; recent windows read the
calls of the window through the call-time index. Everything is per gateway: the OpenClaw
host it was read from (usage, bad input, freshness). Every function returns a DataFrame whose
columns its docstring lists.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, case, func, select

from openclaw_telemetry.measures import call_dimensions, call_measures, total
from openclaw_telemetry.read.rollups import MEASURES
from openclaw_telemetry.read.sqlkit import frame, same_session
from openclaw_telemetry.schema import (
    ingest_runs,
    messages,
    parse_issues,
    sessions,
    tool_calls,
    usage_quarter_hours,
)
from openclaw_telemetry.usage import QUARTER

NO_SESSION = "none"  # the kind label of calls whose session has no row (yet)


def usage_totals(engine: Engine) -> pd.DataFrame:
    """gateway, agent, model, provider, kind, then every roll-up measure
    (`rollups.MEASURES`) summed over all time."""
    u = usage_quarter_hours.c
    kind = func.coalesce(u.kind, NO_SESSION).label("kind")
    keys = [u.gateway, u.agent, u.model, u.provider, kind]
    stmt = (select(*keys, *(total(u[name]).label(name) for name in MEASURES))
            .group_by(*keys).order_by(*keys))
    return frame(engine, stmt)


def recent_usage(engine: Engine, *, since: datetime, until: datetime) -> pd.DataFrame:
    """The columns of `usage_totals`, over the calls made in `[since, until)` (naive UTC),
    exactly (a range scan of the call-time index, not the 15-minute roll-up)."""
    m, s = messages.c, sessions.c
    dims = [m.gateway, *call_dimensions(), func.coalesce(s.kind, NO_SESSION).label("kind")]
    stmt = (select(*dims, *call_measures())
            .select_from(messages.outerjoin(sessions, same_session(s, m)))
            .where(m.timestamp >= since, m.timestamp < until).group_by(*dims))
    return frame(engine, stmt)


def tool_outcomes(engine: Engine) -> pd.DataFrame:
    """gateway, tool, outcome ('ok', 'error' or 'unanswered': no result seen yet), calls."""
    t = tool_calls.c
    outcome = case((t.is_error.is_(None), "unanswered"), (t.is_error, "error"),
                   else_="ok").label("outcome")
    keys = [t.gateway, t.tool_name.label("tool"), outcome]
    stmt = (select(*keys, func.count().label("calls"))
            .group_by(*keys).order_by(*keys))
    return frame(engine, stmt)


def session_counts(engine: Engine) -> pd.DataFrame:
    """gateway, agent, kind, sessions (every session row, also those with no call)."""
    s = sessions.c
    keys = [s.gateway, func.coalesce(s.agent_id, "unknown").label("agent"), s.kind]
    stmt = (select(*keys, func.count().label("sessions")).group_by(*keys).order_by(*keys))
    return frame(engine, stmt)


def issue_counts(engine: Engine) -> pd.DataFrame:
    """gateway, kind, issues: the bad-input problems recorded so far, by gateway and kind."""
    p = parse_issues.c
    keys = [p.gateway, p.kind]
    stmt = select(*keys, func.count().label("issues")).group_by(*keys).order_by(*keys)
    return frame(engine, stmt)


def ingest_status(engine: Engine) -> pd.DataFrame:
    """One row per gateway that ran an ingest or holds calls, by gateway: gateway,
    last_finished (naive UTC end of its latest finished ingest run, None before any),
    last_call (naive UTC time of its latest call, None without calls).

    The latest call of a gateway lies in its latest 15-minute roll-up bucket: a seek of
    the call-time index over that quarter hour, not a scan of every call."""
    r, u = ingest_runs.c, usage_quarter_hours.c
    with engine.connect() as conn:
        finished = dict(conn.execute(select(r.gateway, func.max(r.finished_at))
                                     .group_by(r.gateway)).all())
        buckets = dict(conn.execute(select(u.gateway, func.max(u.bucket))
                                    .group_by(u.gateway)).all())
        last_call = {gateway: conn.execute(
            select(func.max(messages.c.timestamp)).where(
                messages.c.gateway == gateway, messages.c.timestamp >= bucket,
                messages.c.timestamp < bucket + QUARTER)).scalar()
            for gateway, bucket in buckets.items()}
    gateways = sorted(finished.keys() | last_call.keys())
    return pd.DataFrame({"gateway": gateways,
                         "last_finished": [finished.get(g) for g in gateways],
                         "last_call": [last_call.get(g) for g in gateways]},
                        columns=["gateway", "last_finished", "last_call"])
