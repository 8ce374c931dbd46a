"""Side by side: the same figures for 2–4 agents, models, cron jobs, thinking levels or
time periods, and cost by thinking level.

Part of the read layer (same rules). A call's thinking level is the last
`thinking_change` its session recorded at or before the call, else the session's own
level (contract D1), else 'not recorded'.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, func, literal, select, tuple_

from openclaw_telemetry.measures import M, S, cron_job, flag, tokens, total
from openclaw_telemetry.read.cron_jobs import labels_of
from openclaw_telemetry.read.sqlkit import (
    Scope,
    call_conditions,
    frame,
    in_sessions,
    positions,
    same_session,
    session_ref,
)
from openclaw_telemetry.schema import session_events, sessions, tool_calls

E = session_events.c
T = tool_calls.c
DIMENSIONS = {"agent": "Agents", "model": "Models", "cron_job": "Cron jobs",
              "thinking": "Thinking levels", "period": "Time periods"}
NOT_RECORDED = "not recorded"
COLUMNS = ["item", "cost", "calls", "sessions", "cost_per_call", "cost_per_session",
           "tokens_per_call", "cache_hit_rate", "error_rate", "latency_p50_ms",
           "latency_p95_ms", "tool_calls", "tool_error_rate"]


def thinking_level() -> ColumnElement[str]:
    """The thinking level in force at each call (see the module docstring)."""
    latest = (select(E.value).where(same_session(E, M), E.kind == "thinking_change",
                                    E.timestamp <= M.timestamp)
              .order_by(E.timestamp.desc()).limit(1).scalar_subquery())
    own = select(S.thinking_level).where(same_session(S, M)).scalar_subquery()
    return func.coalesce(latest, own, literal(NOT_RECORDED))


def thinking_cost(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Calls in scope by the thinking level they ran at, most expensive first. Columns:
    level, calls, cost, tokens, errors, cost_per_call, tokens_per_call."""
    level = thinking_level().label("level")
    stmt = (select(level, func.count().label("calls"), total(M.cost).label("cost"),
                   total(tokens()).label("tokens"), total(flag(M.is_error)).label("errors"))
            .where(*call_conditions(scope)).group_by(level))
    out = frame(engine, stmt)
    out["cost_per_call"] = out["cost"] / out["calls"]
    out["tokens_per_call"] = out["tokens"] / out["calls"]
    return out.sort_values("cost", ascending=False, ignore_index=True)


def _condition(dimension: str, item: str) -> ColumnElement[bool]:
    if dimension == "agent":
        return M.agent_id == item
    if dimension == "model":
        return M.model == item
    if dimension == "cron_job":
        return in_sessions(M, select(S.session_id, S.gateway).where(S.kind == "cron",
                                                                    cron_job() == item))
    if dimension == "thinking":
        return thinking_level() == item
    raise ValueError(f"unknown dimension {dimension!r}")


def compare(engine: Engine, *, dimension: str, items: tuple[str, ...], scope: Scope,
            periods: tuple[tuple[datetime, datetime], ...] = ()) -> pd.DataFrame:
    """One row per compared item, in the order given. `dimension` is a key of DIMENSIONS;
    for 'period', `periods` holds the `[since, until)` ranges (naive UTC) and `items` their
    names. Columns: COLUMNS (rates are NaN where nothing was counted)."""
    rows = []
    for index, item in enumerate(items):
        if dimension == "period":
            since, until = periods[index]
            conditions = call_conditions(scope.between(since, until))
        else:
            conditions = [*call_conditions(scope), _condition(dimension, item)]
        rows.append({"item": item, **_figures(engine, conditions)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _figures(engine: Engine, conditions: list[Any]) -> dict[str, Any]:
    context = M.input_tokens + M.cache_read_tokens + M.cache_write_tokens
    stmt = select(func.count().label("calls"), total(M.cost).label("cost"),
                  func.count(func.distinct(session_ref(M))).label("sessions"),
                  total(tokens()).label("tokens"), total(flag(M.is_error)).label("errors"),
                  total(M.cache_read_tokens).label("cache_read"),
                  total(context).label("context"),
                  func.count(M.latency_ms).label("timed")).where(*conditions)
    got = frame(engine, stmt).iloc[0]
    calls, timed = int(got["calls"]), int(got["timed"])
    tools = frame(engine, select(func.count().label("n"),
                                 func.count(T.is_error).label("answered"),
                                 total(flag(T.is_error)).label("errors"))
                  .where(tuple_(T.message_id, T.gateway).in_(
                      select(M.message_id, M.gateway).where(*conditions)))).iloc[0]
    return {
        "cost": float(got["cost"]), "calls": calls, "sessions": int(got["sessions"]),
        "cost_per_call": _ratio(got["cost"], calls),
        "cost_per_session": _ratio(got["cost"], got["sessions"]),
        "tokens_per_call": _ratio(got["tokens"], calls),
        "cache_hit_rate": _ratio(got["cache_read"], got["context"]),
        "error_rate": _ratio(got["errors"], calls),
        "latency_p50_ms": _nearest_rank(engine, conditions, timed, 0.50),
        "latency_p95_ms": _nearest_rank(engine, conditions, timed, 0.95),
        "tool_calls": int(tools["n"]),
        "tool_error_rate": _ratio(tools["errors"], tools["answered"]),
    }


def _ratio(part: Any, whole: Any) -> float:
    return float(part) / float(whole) if whole and float(whole) > 0 else float("nan")


def _nearest_rank(engine: Engine, conditions: list[Any], count: int, share: float) -> float:
    """The nearest-rank percentile of latency_ms (NaN when no call was timed)."""
    if count == 0:
        return float("nan")
    rank = max(int(-(-share * count // 1)), 1)  # ceil(share * count)
    stmt = (select(M.latency_ms).where(*conditions, M.latency_ms.is_not(None))
            .order_by(M.latency_ms).limit(1).offset(rank - 1))
    with engine.connect() as conn:
        value = conn.execute(stmt).scalar()
    return float("nan") if value is None else float(value)


def compare_options(engine: Engine, *, dimension: str, scope: Scope) -> pd.DataFrame:
    """What can be compared along a dimension in scope, most expensive first. Columns:
    item (what `compare` takes), label (what a person reads: a cron job's item is the job,
    `measures.cron_job()`, its label `cron_jobs.labels_of`; else the item), cost, calls."""
    if dimension == "thinking":
        found = thinking_cost(engine, scope=scope).rename(columns={"level": "item"})
        return found[["item", "cost", "calls"]].assign(label=found["item"])
    key: Any = {"agent": M.agent_id, "model": M.model}.get(dimension)
    stmt: Any
    if key is not None:
        stmt = select(key.label("item"), total(M.cost).label("cost"),
                      func.count().label("calls")).where(*call_conditions(scope), key.is_not(None))
    elif dimension == "cron_job":
        stmt = (select(cron_job().label("item"), total(M.cost).label("cost"),
                       func.count().label("calls")).join(sessions, same_session(S, M))
                .where(*call_conditions(scope), S.kind == "cron"))
    else:
        raise ValueError(f"no options for {dimension!r}")
    found = frame(engine, stmt.group_by(*positions(1)).order_by(total(M.cost).desc(),
                                                               *positions(1)))
    labels = labels_of(engine, found["item"]) if dimension == "cron_job" else {}
    return found.assign(label=[labels.get(item, item) for item in found["item"]])
