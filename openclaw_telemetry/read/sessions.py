"""Session-level reads: the sessions table, a session's drill-down, cron jobs, sub-agent
roll-ups and the observations alert rules are evaluated on.

Part of the read layer (same rules): keyword-only filters,
bound parameters, aggregation in SQL, DataFrames with documented columns. A session is
listed when it was active in the range (it started before the end and ended after the
start); the costs shown per run or per parent are those of calls inside the range. A
session is its id on its gateway: every row names its gateway, every join matches both.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, func, or_, select

from openclaw_telemetry.measures import (
    M,
    S,
    cron_job,
    flag,
    session_label,
    session_name,
    tokens,
    total,
)
from openclaw_telemetry.read import rollups
from openclaw_telemetry.read.cron_jobs import labels_of
from openclaw_telemetry.read.sqlkit import (
    Scope,
    active_sessions,
    call_conditions,
    frame,
    in_sessions,
    is_session,
    local_buckets,
    local_time,
    positions,
    same_session,
)
from openclaw_telemetry.read.status import totals_hold
from openclaw_telemetry.schema import sessions, sources, tool_calls
from openclaw_telemetry.timeframe import Unit

T = tool_calls.c
SRC = sources.c
_SESSION_COLUMNS = [
    S.session_id, S.gateway, S.start_time, S.end_time, S.agent_id, S.session_key,
    session_label().label("label"), S.kind,
    S.cron_job_name, S.model, S.total_messages.label("calls"),
    S.total_tool_calls.label("tool_calls"), S.total_input_tokens.label("input"),
    S.total_output_tokens.label("output"), S.total_cache_read_tokens.label("cache_read"),
    S.total_cache_write_tokens.label("cache_write"), S.total_cost.label("cost"),
    S.estimated_cost, S.unpriced_calls, S.total_errors.label("errors"),
    S.parent_session_id,
]


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def session_conditions(scope: Scope, search: str = "") -> list[ColumnElement[bool]]:
    """The sessions of the sessions table (and of its export): active in the range, the
    scope's filters, and `search` in key, label, id, cron job, agent or model, any case."""
    conditions = active_sessions(scope)
    if search.strip():
        pattern = _like(search.strip())
        fields = (S.session_key, S.label, S.session_id, S.cron_job_name, S.agent_id, S.model)
        conditions.append(or_(*(func.lower(f).like(pattern, escape="\\") for f in fields)))
    return conditions


def session_table(engine: Engine, *, scope: Scope, search: str = "", order: str = "cost",
                  limit: int = 500) -> pd.DataFrame:
    """Sessions active in range (agent, kind and the session's main model filter), most
    expensive first (`order='cost'`) or most recent first (`order='recent'`), at most
    `limit` rows; `search` matches key, label, id, cron job, agent and model, any case.

    Columns: session_id, gateway, start_time, end_time, agent_id, session_key, label, kind,
    cron_job_name, model, calls, tool_calls, input, output, cache_read, cache_write, cost,
    estimated_cost, unpriced_calls, errors, parent_session_id (session totals), tokens,
    duration_s, matched (rows matching before the limit), origin (see `origins`).
    """
    conditions = session_conditions(scope, search)
    key = S.total_cost.desc() if order == "cost" else S.start_time.desc()
    stmt = (select(*_SESSION_COLUMNS, func.count().over().label("matched"))
            .where(*conditions).order_by(key, S.session_id, S.gateway).limit(limit))
    out = frame(engine, stmt)
    out.insert(16, "tokens", out[["input", "output", "cache_read", "cache_write"]].sum(axis=1))
    out["duration_s"] = _seconds(out["end_time"], out["start_time"])
    out["origin"] = origins(engine, sessions_=list(zip(out["session_id"], out["gateway"],
                                                       strict=True)))
    return out


# a transcript file's kind -> what `origins` says of a session read only from such files,
# and what that means (a table's few words, explained in its help: `KEPT`)
_KEPT = (("file:deleted", "deleted", "deleted in OpenClaw; read from its .deleted archive"),
         ("file:reset", "reset", "an earlier transcript of a chat that was reset (.reset "
                                 "archive)"),
         ("file:cold", "cold storage", "moved to OpenClaw's cold storage"),
         ("file:import-archive", "imported",
          "imported into OpenClaw's database (import archive)"),
         ("file:bak", ".bak copy", "read from a .bak copy"))
REMOVED = "removed"
KEPT = {**{word: meaning for _kind, word, meaning in _KEPT},
        REMOVED: "its transcript was since removed by OpenClaw"}


def origins(engine: Engine, *, sessions_: list[tuple[str, str]]) -> list[str]:
    """What OpenClaw kept of each (session_id, gateway), in the order given: '' for a live
    transcript or database session, else in a word or two why it looks odd (deleted, reset,
    cold storage, imported, only a .bak copy, or its files since removed: `KEPT` says what
    each means)."""
    ids = sorted({sid for sid, _gateway in sessions_})
    found = frame(engine, select(SRC.session_id, SRC.gateway, SRC.kind, SRC.present).where(
        SRC.session_id.in_(ids))) if ids else None
    kinds: dict[tuple[str, str], set[str]] = {}
    present: set[tuple[str, str]] = set()
    for row in [] if found is None else found.itertuples(index=False):
        key = (str(row.session_id), str(row.gateway))
        kinds.setdefault(key, set()).add(str(row.kind))
        if row.present:
            present.add(key)
    return [_origin(kinds.get(key, set()), key in present) for key in sessions_]


def _origin(kinds: set[str], present: bool) -> str:
    if not kinds:
        return ""
    for kind, text, _meaning in _KEPT:
        if kind in kinds and not kinds & {"file:primary", "sqlite:transcript_events"}:
            return text
    return "" if present else REMOVED


def _seconds(end: pd.Series, start: pd.Series) -> pd.Series:
    delta = pd.to_datetime(end) - pd.to_datetime(start)
    return delta.dt.total_seconds().astype("float64")


def session_detail(engine: Engine, *, session_id: str, gateway: str | None = None
                   ) -> pd.DataFrame:
    """The session of that id on `gateway`: one row (none if unknown); with no gateway,
    one row per gateway holding that id, by gateway name. Columns as in `session_table`
    plus thinking_level, provider, channel, cron_job_id, parent_session_key, spawn_depth,
    subagents (sessions it spawned)."""
    child = sessions.alias("child").c
    children = (select(func.count()).where(child.parent_session_id == S.session_id,
                                           child.gateway == S.gateway)
                .scalar_subquery().label("subagents"))
    stmt = select(*_SESSION_COLUMNS, S.thinking_level, S.provider, S.channel, S.cron_job_id,
                  S.parent_session_key, S.spawn_depth, children).where(
        S.session_id == session_id, *([] if gateway is None else [S.gateway == gateway])
    ).order_by(S.gateway)
    return frame(engine, stmt)


def session_calls(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """Every LLM call of a session in time order. Columns: timestamp, model, provider,
    input, output, cache_read, cache_write, tokens, cost, cost_source, latency_ms,
    stop_reason, is_error, error_message, message_id, tools (names, failed ones marked
    '✗'), tool_errors."""
    stmt = (select(M.timestamp, M.model, M.provider, M.input_tokens.label("input"),
                   M.output_tokens.label("output"), M.cache_read_tokens.label("cache_read"),
                   M.cache_write_tokens.label("cache_write"), tokens().label("tokens"),
                   M.cost, M.cost_source, M.latency_ms, M.stop_reason, M.is_error,
                   M.error_message, M.message_id)
            .where(is_session(M, session_id, gateway))
            .order_by(M.timestamp, M.message_id))
    calls = frame(engine, stmt)
    tool_rows = frame(engine, select(T.message_id, T.tool_name, T.is_error)
                      .where(is_session(T, session_id, gateway))
                      .order_by(T.timestamp, T.id))
    tool_rows["name"] = tool_rows["tool_name"].where(tool_rows["is_error"] != True,  # noqa: E712
                                                     tool_rows["tool_name"] + " ✗")
    grouped = tool_rows.groupby("message_id").agg(
        tools=("name", ", ".join), tool_errors=("is_error", lambda s: int((s == True).sum())))  # noqa: E712
    out = calls.merge(grouped, left_on="message_id", right_index=True, how="left")
    out["tools"] = out["tools"].fillna("")
    out["tool_errors"] = out["tool_errors"].fillna(0).astype("int64")
    out["is_error"] = out["is_error"].astype(bool)
    return out


def _cron_calls(select_: Select[Any], scope: Scope) -> Select[Any]:
    return (select_.join(sessions, same_session(S, M))
            .where(S.kind == "cron", *call_conditions(scope)))


class CronActivity(NamedTuple):
    """Cron jobs in a scope, from one read of their calls (see `cron_activity`)."""

    daily: pd.DataFrame
    runs: pd.DataFrame
    jobs: pd.DataFrame


_SUMS = ["calls", "tokens", "cost", "errors"]


def cron_activity(engine: Engine, *, scope: Scope, tz: tzinfo, limit: int = 1000,
                  unit: Unit = Unit.DAY) -> CronActivity:
    """Cron-job cost per local day, per run and per job, from one query over the calls of
    cron sessions in scope (grouped by run and local day).

    A job is its id on its gateway (`measures.cron_job()`, column job_key), never its name
    alone: two agents' or two hosts' jobs of one name are two jobs. Every frame names it by
    its label (column job, `cron_jobs.labels_of` over the jobs with runs in range).
    daily: day (tz-aware local midnight; with `unit=Unit.MONTH` the month's first),
    job_key, job, gateway, runs (cron sessions with a call that day), calls, tokens, cost,
    errors. runs: one row per cron run (a cron session) with calls in range, latest first,
    at most `limit`: job_key, job, session_id, gateway, agent_id, start_time, end_time,
    model, calls, tokens, cost, errors, duration_s (of the whole run). jobs: one row per
    job, most expensive first: job_key, job, gateway, runs, calls, tokens, cost, errors,
    avg_run, max_run (cost of its calls in range per run), last_run (start of the latest
    run).
    """
    local = local_time(engine, scope, tz)
    day = local.label(M.timestamp, Unit.DAY).label("bucket")
    stmt = _cron_calls(select(day, M.session_id, M.gateway, func.count().label("calls"),
                              total(tokens()).label("tokens"), total(M.cost).label("cost"),
                              total(flag(M.is_error)).label("errors")), scope)
    run = [cron_job().label("job_key"), S.session_id, S.gateway, S.agent_id, S.start_time,
           S.end_time, S.model]
    # grouped by day and session only, the runs' facts joined after: half the sort
    meta = frame(engine, select(*run).where(S.kind == "cron"))
    keys = ["session_id", "gateway"]
    rows = frame(engine, stmt.group_by(*positions(3))).merge(meta[["job_key", *keys]],
                                                             on=keys)
    days = local_buckets(rows[["bucket"]].drop_duplicates(), tz, Unit.DAY)["bucket"]
    starts = dict(zip(rows["bucket"].drop_duplicates(), rollups.bucket_of(days, unit, tz),
                      strict=True))
    daily = rows.assign(day=rows["bucket"].map(starts)).groupby(
        ["day", "job_key", "gateway"], as_index=False, sort=True).agg(
        runs=("session_id", "nunique"), calls=("calls", "sum"), tokens=("tokens", "sum"),
        cost=("cost", "sum"), errors=("errors", "sum"))  # the gateway is a key: ids suffice
    per_run = meta.merge(rows.groupby(keys, as_index=False, sort=False)[_SUMS].sum(), on=keys)
    per_run = per_run.sort_values(["start_time", "session_id", "gateway"],
                                  ascending=[False, True, True], ignore_index=True)
    runs = per_run.head(limit).assign(
        duration_s=lambda f: _seconds(f["end_time"], f["start_time"]))
    jobs = per_run.groupby(["job_key", "gateway"], as_index=False).agg(
        runs=("session_id", "size"), calls=("calls", "sum"), tokens=("tokens", "sum"),
        cost=("cost", "sum"), errors=("errors", "sum"), avg_run=("cost", "mean"),
        max_run=("cost", "max"), last_run=("start_time", "max"))
    jobs["last_run"] = pd.to_datetime(jobs["last_run"])
    labels = labels_of(engine, jobs["job_key"])
    daily, runs, jobs = (f.assign(job=f["job_key"].map(labels)) for f in (daily, runs, jobs))
    # ties (one job on two gateways) by name, then gateway: always in the same order
    return CronActivity(daily, runs, jobs.sort_values(["cost", "job", "gateway"],
                                                      ascending=[False, True, True],
                                                      ignore_index=True))


def subagent_rollup(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Sub-agent cost rolled up to the session that spawned the chain (nested sub-agents
    go to the first non-sub-agent ancestor, on the same gateway). Calls in range only.
    Columns: parent_id, gateway, agent_id, session_key, label, kind, start_time (of the
    parent), own_cost, subagents, subagent_calls, subagent_cost, total_cost,
    subagent_share; most sub-agent cost first."""
    links = frame(engine, select(S.session_id, S.gateway, S.parent_session_id)
                  .where(S.kind == "subagent"))
    children = _session_sums(engine, scope, S.kind == "subagent").merge(
        links, on=["session_id", "gateway"]).rename(columns={"parent_session_id": "parent"})
    parent_of = {(gw, sid): parent for sid, gw, parent in zip(
        links["session_id"], links["gateway"], links["parent_session_id"], strict=True)
        if isinstance(parent, str)}
    children["parent_id"] = pd.Series(
        [_root(p, gw, parent_of) for p, gw in zip(children["parent"], children["gateway"],
                                                  strict=True)],
        index=children.index, dtype="object")
    rolled = children.groupby(["parent_id", "gateway"], as_index=False).agg(
        subagents=("session_id", "nunique"), subagent_calls=("calls", "sum"),
        subagent_cost=("cost", "sum"))
    return _with_parents(engine, scope, rolled)


def _session_sums(engine: Engine, scope: Scope, *chosen: ColumnElement[bool]
                  ) -> pd.DataFrame:
    """Columns session_id, gateway, calls, cost: the calls in scope of the sessions that
    `chosen` (conditions on `sessions`) selects, per session with a call. From the
    sessions' totals when they answer for the scope (`totals_hold`), else from the calls."""
    if totals_hold(engine, scope):
        return frame(engine, select(S.session_id, S.gateway, S.total_messages.label("calls"),
                                    S.total_cost.label("cost"))
                     .where(*chosen, S.total_messages > 0, *active_sessions(scope)))
    return frame(engine, select(M.session_id, M.gateway, func.count().label("calls"),
                                total(M.cost).label("cost"))
                 .where(in_sessions(M, select(S.session_id, S.gateway).where(*chosen)),
                        *call_conditions(scope))
                 .group_by(M.session_id, M.gateway))


def _root(parent: object, gateway: str, parent_of: dict[tuple[str, str], str]) -> str:
    """The first ancestor that is not a sub-agent (a missing parent is NaN in a frame)."""
    parent = parent if isinstance(parent, str) else None
    seen: set[str] = set()
    while parent is not None and (gateway, parent) in parent_of and parent not in seen:
        seen.add(parent)
        parent = parent_of[(gateway, parent)]
    return parent or "(unknown parent)"


def _with_parents(engine: Engine, scope: Scope, rolled: pd.DataFrame) -> pd.DataFrame:
    spawners = select(S.parent_session_id, S.gateway).where(S.kind == "subagent")
    meta = frame(engine, select(S.session_id.label("parent_id"), S.gateway, S.agent_id,
                                S.session_key, session_label().label("label"), S.kind,
                                S.start_time)
                 .where(in_sessions(S, spawners)))
    own = _session_sums(engine, scope, in_sessions(S, spawners)).rename(
        columns={"session_id": "parent_id", "cost": "own_cost"}).drop(columns="calls")
    keys = ["parent_id", "gateway"]
    out = rolled.merge(meta, on=keys, how="left").merge(own, on=keys, how="left")
    out["own_cost"] = out["own_cost"].fillna(0.0)
    out["total_cost"] = out["own_cost"] + out["subagent_cost"]
    out["subagent_share"] = out["subagent_cost"] / out["total_cost"].where(out["total_cost"] > 0)
    columns = ["parent_id", "gateway", "agent_id", "session_key", "label", "kind", "start_time", "own_cost",
               "subagents", "subagent_calls", "subagent_cost", "total_cost", "subagent_share"]
    return out[columns].sort_values("subagent_cost", ascending=False, ignore_index=True)


_SESSION_METRICS = {"session_cost": M.cost, "session_tokens": tokens()}


def alert_observations(engine: Engine, *, metric: str, scope: Scope, tz: tzinfo,
                       unit: Unit | None = None, minimum: float | None = None,
                       now: datetime | None = None) -> pd.DataFrame:
    """What an alert rule compares with its thresholds. Columns: subject, label, at
    (naive UTC), value, calls.

    session_cost / session_tokens: one row per session with calls in scope (at = its last
    call; one id on two gateways is two sessions, two rows). daily_cost: one row per local
    day (at = local midnight). cost / error_rate: one row per local `unit` bucket (at = its
    start), or one for the whole scope when `unit` is None (at = its last call: a window
    is named by its span, not by a moment). `minimum` drops rows whose value is not
    above it.
    """
    if metric in _SESSION_METRICS:
        value = total(_SESSION_METRICS[metric]).label("value")
        name = session_name(M.session_id).label("label")
        stmt = (select(M.session_id.label("subject"), name, func.max(M.timestamp).label("at"),
                       value, func.count().label("calls"))
                .join(sessions, same_session(S, M))
                .where(*call_conditions(scope))
                .group_by(M.session_id, M.gateway, S.label, S.cron_job_name,
                          S.session_key))
        if minimum is not None:
            stmt = stmt.having(value > minimum)
        return frame(engine, stmt)
    return _bucketed(engine, metric, scope, tz, Unit.DAY if metric == "daily_cost" else unit,
                     minimum, now)


def session_observations(engine: Engine, *, metric: str, scope: Scope,
                         minimum: float | None = None) -> pd.DataFrame:
    """session_cost / session_tokens from session totals, for sessions active in range
    (cheap over a long history: one indexed read of `sessions`). Columns as
    `alert_observations` (at = the session's end)."""
    value = (S.total_cost if metric == "session_cost" else
             S.total_input_tokens + S.total_output_tokens + S.total_cache_read_tokens
             + S.total_cache_write_tokens)
    conditions = active_sessions(scope)
    if minimum is not None:
        conditions.append(value > minimum)
    stmt = select(S.session_id.label("subject"),
                  session_name().label("label"),
                  func.coalesce(S.end_time, S.start_time).label("at"), value.label("value"),
                  S.total_messages.label("calls")).where(*conditions)
    return frame(engine, stmt)


def _bucketed(engine: Engine, metric: str, scope: Scope, tz: tzinfo, unit: Unit | None,
              minimum: float | None, now: datetime | None) -> pd.DataFrame:
    columns = [func.count().label("calls"), total(M.cost).label("cost"),
               total(flag(M.is_error)).label("errors")]
    if unit is None:
        rows = frame(engine, select(*columns, func.max(M.timestamp).label("at"))
                     .where(*call_conditions(scope)))
        rows["bucket"] = pd.Timestamp(scope.since or now or datetime.min)
        rows["at"] = pd.to_datetime(rows["at"])
    else:
        local = local_time(engine, scope, tz)
        keys: list[Any] = [local.label(M.timestamp, unit).label("bucket")]
        if unit is Unit.HOUR:
            keys.append(local.offset(M.timestamp).label("utc_offset"))
        stmt = select(*keys, *columns).where(*call_conditions(scope)).group_by(
            *positions(len(keys)))
        rows = local_buckets(frame(engine, stmt), tz, unit)
        rows["at"] = rows["bucket"].dt.tz_convert("UTC").dt.tz_localize(None)
    rows = rows[rows["calls"] > 0].copy()
    rows["value"] = rows["cost"] if metric != "error_rate" else rows["errors"] / rows["calls"]
    rows["subject"] = rows["label"] = _bucket_names(rows["bucket"], unit)
    if minimum is not None:
        rows = rows[rows["value"] > minimum]
    return rows[["subject", "label", "at", "value", "calls"]].reset_index(drop=True)


def _bucket_names(buckets: pd.Series, unit: Unit | None) -> pd.Series:
    fmt = {Unit.HOUR: "%Y-%m-%d %H:%M", Unit.DAY: "%Y-%m-%d", Unit.MONTH: "%Y-%m"}
    if unit is None:
        return pd.Series(["window"] * len(buckets), index=buckets.index, dtype="object")
    names: pd.Series = buckets.dt.strftime(fmt[unit])
    return names
