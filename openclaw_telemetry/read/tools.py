"""Tool-call questions: totals, per-tool statistics, tool calls over time.

A tool call is in scope by its own timestamp and gateway; the agent and kind filters go
through its session, the model filter through the LLM call that made it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, Engine, Select, and_, case, cast, func, select

from openclaw_telemetry.measures import M, flag, total
from openclaw_telemetry.read import rollups
from openclaw_telemetry.read.calls import grid_end, hour_keys, hours
from openclaw_telemetry.read.sqlkit import (
    Scope,
    frame,
    in_sessions,
    local_time,
    positions,
    session_subquery,
    time_conditions,
)
from openclaw_telemetry.read.status import gateways
from openclaw_telemetry.schema import messages, tool_calls
from openclaw_telemetry.timeframe import Unit

T = tool_calls.c


def tool_totals(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """One row: tool_calls, tool_results (a result was seen), tool_errors, tool_error_rate."""
    stmt = tool_scope(select(func.count().label("tool_calls"),
                              func.count(T.is_error).label("tool_results"),
                              total(flag(T.is_error)).label("tool_errors")), scope)
    out = frame(engine, stmt)
    out["tool_error_rate"] = rollups.ratio(out["tool_errors"], out["tool_results"])
    return out


def tool_scope(stmt: Select[Any], scope: Scope) -> Select[Any]:
    """Apply a scope to a statement over `tool_calls` (model via the owning call)."""
    stmt = stmt.where(*time_conditions(T.timestamp, scope))
    if scope.gateways:
        stmt = stmt.where(T.gateway.in_(scope.gateways))
    owned = session_subquery(scope)
    if owned is not None:
        stmt = stmt.where(in_sessions(T, owned))
    if scope.models:
        stmt = stmt.join(messages, and_(M.message_id == T.message_id, M.gateway == T.gateway)
                         ).where(M.model.in_(scope.models))
    return stmt


def tools(engine: Engine, *, scope: Scope, durations: bool = True) -> pd.DataFrame:
    """One row per tool, most used first. Columns: tool_name, calls, results (with a
    result seen), errors, error_rate (errors / results), sessions, p50_ms, p95_ms
    (nearest-rank percentiles of duration_ms; NaN without durations, or when
    `durations=False` skips their sort of every tool call)."""
    one_gateway = len(scope.gateways) == 1 or len(gateways(engine)) <= 1
    out = frame(engine, _tool_counts(scope, one_gateway))
    if durations:
        out = out.merge(frame(engine, _tool_percentiles(scope)), on="tool_name", how="left")
    else:
        out = out.assign(p50_ms=float("nan"), p95_ms=float("nan"))
    out["error_rate"] = rollups.ratio(out["errors"], out["results"])
    columns = ["tool_name", "calls", "results", "errors", "error_rate", "sessions",
               "p50_ms", "p95_ms"]
    return out[columns].sort_values(["calls", "tool_name"], ascending=[False, True],
                                    ignore_index=True)


def _tool_counts(scope: Scope, one_gateway: bool) -> Select[Any]:
    """tool_name, calls, results, errors, sessions: one pass along the index on
    (tool_name, session_id, gateway). A session is its id on its gateway: on one gateway
    its id alone counts it (half the time at 1M tool calls); on several, per (tool,
    session, gateway) first."""
    counts = [func.count().label("calls"), func.count(T.is_error).label("results"),
              total(flag(T.is_error)).label("errors")]
    if one_gateway:
        return tool_scope(select(T.tool_name.label("tool_name"), *counts,
                                 func.count(T.session_id.distinct()).label("sessions"))
                          .group_by(T.tool_name), scope)
    per = tool_scope(select(T.tool_name.label("tool_name"), *counts)
                     .group_by(T.tool_name, T.session_id, T.gateway), scope).subquery()
    sums = [cast(total(per.c[name]), BigInteger).label(name)
            for name in ("calls", "results", "errors")]
    return (select(per.c.tool_name, *sums, func.count().label("sessions"))
            .group_by(per.c.tool_name))


def _tool_percentiles(scope: Scope) -> Select[Any]:
    """Nearest-rank p50/p95 per tool with window functions (no percentile() in SQLite)."""
    ranked = tool_scope(select(
        T.tool_name.label("tool_name"), T.duration_ms.label("ms"),
        func.row_number().over(partition_by=T.tool_name, order_by=T.duration_ms).label("rn"),
        func.count().over(partition_by=T.tool_name).label("n"),
    ).where(T.duration_ms.is_not(None)), scope).subquery()
    return select(
        ranked.c.tool_name,
        func.min(case((ranked.c.rn >= ranked.c.n * 0.5, ranked.c.ms))).label("p50_ms"),
        func.min(case((ranked.c.rn >= ranked.c.n * 0.95, ranked.c.ms))).label("p95_ms"),
    ).group_by(ranked.c.tool_name)


def tool_timeline(engine: Engine, *, scope: Scope, tz: tzinfo, unit: Unit,
                  until: datetime | None = None) -> pd.DataFrame:
    """Tool calls per local bucket and tool, every bucket present. Columns: bucket,
    series (tool name), tool_calls, tool_errors."""
    whole, keys = hour_keys(local_time(engine, scope, tz), T.timestamp)
    stmt = tool_scope(select(*keys, T.tool_name, func.count().label("tool_calls"),
                              total(flag(T.is_error)).label("tool_errors")), scope)
    stmt = stmt.group_by(*positions(len(keys) + 1))
    rows = hours(frame(engine, stmt), whole, tz)
    end = grid_end(scope, until)
    return rollups.timeline(rows, tz=tz, unit=unit, by="tool_name", start=scope.since,
                            end=end, measures=["tool_calls", "tool_errors"])


