"""Every read the dashboards, alerts and scripts make: one function per question.

Each function takes the engine and keyword-only filters (a `Scope`: call-time range plus
agent / call-model / session-kind filters), aggregates in SQL with bound parameters only,
and returns a DataFrame whose columns are listed in its docstring. Cost and token totals
always filter on call timestamps (`messages.timestamp`), never on session start. The same
statements run on SQLite and PostgreSQL; the one dialect seam is `sqlkit.LocalTime`.
Session-level questions (tables, drill-down, cron, sub-agents, alerts) live in
`session_queries.py` and are re-exported here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, case, distinct, func, select

from openclaw_telemetry import rollups, usage
from openclaw_telemetry.measures import (
    M,
    S,
    call_measures,
    flag,
    tokens,
    total,
)
from openclaw_telemetry.metric_queries import (
    ingest_status,
    issue_counts,
    recent_usage,
    session_counts,
    tool_outcomes,
    usage_totals,
)
from openclaw_telemetry.migrations import schema_status
from openclaw_telemetry.schema import (
    ingest_runs,
    messages,
    sessions,
    tool_calls,
    usage_quarter_hours,
)
from openclaw_telemetry.session_queries import (
    CronActivity,
    alert_observations,
    cron_activity,
    session_calls,
    session_detail,
    session_observations,
    session_table,
    subagent_rollup,
)
from openclaw_telemetry.sqlkit import (
    LocalTime,
    Scope,
    bounds,
    call_conditions,
    frame,
    local_buckets,
    local_time,
    positions,
    session_subquery,
    time_conditions,
)
from openclaw_telemetry.timeframe import Unit, to_utc

__all__ = [
    "CronActivity", "Scope", "alert_observations", "call_bounds", "cost_statistics",
    "cron_activity", "data_version", "filter_options", "ingest_status", "issue_counts",
    "latest_ingest", "local_buckets", "models", "recent_usage", "schema_status", "session_calls",
    "session_counts", "session_detail", "session_observations", "session_table",
    "subagent_rollup", "timeline", "tool_outcomes", "tool_timeline", "tools", "totals",
    "usage_totals",
]
T = tool_calls.c
U = usage_quarter_hours.c


def data_version(engine: Engine) -> int:
    """The id of the latest ingest run that changed data (0 before any): the cache key."""
    stmt = select(func.max(ingest_runs.c.run_id)).where(ingest_runs.c.changed == True)  # noqa: E712
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def latest_ingest(engine: Engine) -> pd.DataFrame:
    """One row (or none): run_id, started_at, finished_at, status, changed, new_calls."""
    c = ingest_runs.c
    stmt = (select(c.run_id, c.started_at, c.finished_at, c.status, c.changed, c.new_calls)
            .order_by(c.run_id.desc()).limit(1))
    return frame(engine, stmt)


def call_bounds(engine: Engine) -> pd.DataFrame:
    """One row: first_call, last_call (naive UTC, NaT when there are no calls)."""
    out = frame(engine, bounds())
    return out.astype({"first_call": "datetime64[us]", "last_call": "datetime64[us]"})


def filter_options(engine: Engine) -> pd.DataFrame:
    """Columns field ('agent' | 'model' | 'kind'), value: what the filters can offer."""
    rows: list[tuple[str, str]] = []
    with engine.connect() as conn:
        rows += [("model", value) for (value,) in conn.execute(_distinct_models()) if value]
        for field, column in (("agent", S.agent_id), ("kind", S.kind)):
            rows += [(field, value) for (value,) in conn.execute(select(column).distinct())
                     if value]
    return pd.DataFrame(sorted(rows), columns=["field", "value"])


def _distinct_models() -> Select[Any]:
    """Distinct call models by hopping along the (model, timestamp) index: one seek per
    model instead of reading every call (a recursive "loose index scan")."""
    first = select(func.min(M.model).label("model"))
    hops = first.cte("hops", recursive=True)
    following = (select(func.min(M.model)).where(M.model > hops.c.model)
                 .scalar_subquery())
    hops = hops.union_all(select(following).where(hops.c.model.is_not(None)))
    return select(hops.c.model).where(hops.c.model.is_not(None))


def call_rollup(engine: Engine, *, tz: tzinfo, since: datetime | None = None,
                until: datetime | None = None, kinds: bool = False) -> pd.DataFrame:
    """Calls aggregated per local hour, agent, model, provider (and session kind).

    Columns: hour (tz-aware local hour start), utc (its naive-UTC start), agent, model,
    provider, kind (only with `kinds=True`: needs a join), calls, errors, input, output,
    cache_read, cache_write, cost, estimated_cost, unpriced_calls, unpriced_tokens,
    subscription_cost, tool_calls. `since`/`until` (naive UTC) bound the call timestamps
    exactly. On SQLite, zones whose offset stays a whole number of hours are grouped by
    the UTC hour (a cheap substring) and shifted here; others get local hours computed in
    SQL.

    Read from the `usage_quarter_hours` roll-up (whole 15-minute buckets inside the range)
    plus the calls of the partial buckets at its ends, whenever the zone's offsets and
    transitions over the data are whole quarter hours (every real zone since ~1980), so
    that a bucket lies in one local hour; otherwise from `messages`.
    """
    local = local_time(engine, Scope(since, until), tz)
    low, high = (None if since is None else usage.ceil(since),
                 None if until is None else usage.floor(until))
    if not _quarter_exact(local) or (low is not None and high is not None and low >= high):
        return _call_hours(engine, local, tz, since, until, kinds)
    parts = [_usage_hours(engine, local, tz, low, high, kinds)]
    if since is not None and low is not None and since < low:
        parts.append(_call_hours(engine, local, tz, since, low, kinds))
    if until is not None and high is not None and high < until:
        parts.append(_call_hours(engine, local, tz, high, until, kinds))
    if len(parts) == 1:
        return parts[0]
    keys = ["hour", "utc", "agent", "model", "provider", *(["kind"] if kinds else [])]
    rows = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
    return rows.groupby(keys, as_index=False, sort=False)[rollups.MEASURES].sum()


def _quarter_exact(local: LocalTime) -> bool:
    """Every offset and every transition instant a whole quarter hour (UTC)."""
    return (all(o % 900 == 0 for o in local.segments.offsets)
            and all(s is None or usage.floor(s) == s for s in local.segments.starts))


def _usage_hours(engine: Engine, local: LocalTime, tz: tzinfo, since: datetime | None,
                 until: datetime | None, kinds: bool) -> pd.DataFrame:
    """`call_rollup` rows from the roll-up buckets starting in `[since, until)`."""
    whole, keys = _hour_keys(local, U.bucket)
    dims = [U.agent.label("agent"), U.model.label("model"), U.provider.label("provider")]
    conditions = time_conditions(U.bucket, Scope(since, until))
    if kinds:
        dims.append(U.kind.label("kind"))
        conditions.append(U.kind.is_not(None))  # calls without a session row: no kind
    sums = [total(getattr(U, name)).label(name) for name in rollups.MEASURES]
    stmt = (select(*keys, *dims, *sums).where(*conditions)
            .group_by(*positions(len(keys) + len(dims))))
    return _hours(frame(engine, stmt), whole, tz)


def _call_hours(engine: Engine, local: LocalTime, tz: tzinfo, since: datetime | None,
                until: datetime | None, kinds: bool) -> pd.DataFrame:
    """`call_rollup` rows straight from the calls in `[since, until)`."""
    whole, keys = _hour_keys(local, M.timestamp)
    dims = [func.coalesce(M.agent_id, "(none)").label("agent"),
            func.coalesce(M.model, "(none)").label("model"),
            func.coalesce(M.provider, "(none)").label("provider")]
    if kinds:
        dims.append(S.kind.label("kind"))
    stmt = select(*keys, *dims, *call_measures()).where(*call_conditions(Scope(since, until)))
    if kinds:
        stmt = stmt.join(sessions, S.session_id == M.session_id)
    stmt = stmt.group_by(*positions(len(keys) + len(dims)))
    return _hours(frame(engine, stmt), whole, tz)


def _hour_keys(local: LocalTime, column: Any) -> tuple[bool, list[Any]]:
    whole = local.dialect == "sqlite" and all(o % 3600 == 0 for o in local.segments.offsets)
    if whole:
        return True, [func.substr(column, 1, 13).label("bucket")]
    return False, [local.label(column, Unit.HOUR).label("bucket"),
                   local.offset(column).label("utc_offset")]


def _hours(rows: pd.DataFrame, whole: bool, tz: tzinfo) -> pd.DataFrame:
    """SQL hour labels -> `hour` (tz-aware local hour start) and `utc` (naive UTC)."""
    if whole:
        utc = pd.to_datetime(rows["bucket"].astype("string"), format="%Y-%m-%d %H")
        rows = rows.assign(bucket=utc.dt.tz_localize("UTC").dt.tz_convert(tz))
    else:
        rows = local_buckets(rows.assign(bucket=rows["bucket"].astype("string")), tz, Unit.HOUR)
    rows = rows.rename(columns={"bucket": "hour"})
    rows.insert(1, "utc", rows["hour"].dt.tz_convert("UTC").dt.tz_localize(None))
    return rows


def session_count(engine: Engine, *, scope: Scope) -> int:
    """Sessions with at least one call in scope."""
    inner = select(M.session_id).where(*call_conditions(scope)).distinct().subquery()
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inner)).scalar() or 0)


def tool_totals(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """One row: tool_calls, tool_results (a result was seen), tool_errors, tool_error_rate."""
    stmt = _tool_scope(select(func.count().label("tool_calls"),
                              func.count(T.is_error).label("tool_results"),
                              total(flag(T.is_error)).label("tool_errors")), scope)
    out = frame(engine, stmt)
    out["tool_error_rate"] = rollups.ratio(out["tool_errors"], out["tool_results"])
    return out


def totals(engine: Engine, *, scope: Scope, tz: tzinfo | None = None) -> pd.DataFrame:
    """One row: calls, errors, input, output, cache_read, cache_write, cost,
    estimated_cost, unpriced_calls, unpriced_tokens, subscription_cost, tokens,
    error_rate, sessions (with a call in scope), tool_calls, tool_results, tool_errors,
    tool_error_rate."""
    rows = call_rollup(engine, tz=tz or UTC, since=scope.since, until=scope.until,
                       kinds=bool(scope.kinds))
    out = rollups.totals(rollups.dimensions(rows, scope)).drop(columns="tool_calls")
    out["sessions"] = session_count(engine, scope=scope)
    return pd.concat([out, tool_totals(engine, scope=scope)], axis=1)


def _tool_scope(stmt: Select[Any], scope: Scope) -> Select[Any]:
    """Apply a scope to a statement over `tool_calls` (model via the owning call)."""
    stmt = stmt.where(*time_conditions(T.timestamp, scope))
    owned = session_subquery(scope)
    if owned is not None:
        stmt = stmt.where(T.session_id.in_(owned))
    if scope.models:
        stmt = stmt.join(messages, M.message_id == T.message_id).where(M.model.in_(scope.models))
    return stmt


def timeline(engine: Engine, *, scope: Scope, tz: tzinfo, unit: Unit, by: str = "model",
             until: datetime | None = None) -> pd.DataFrame:
    """Calls per local bucket and `by` (agent | model | provider | kind), gaps as zero.
    Columns as `rollups.timeline`; the grid ends at the scope's end or at `until` (naive
    UTC, default now), whichever is earlier."""
    rows = call_rollup(engine, tz=tz, since=scope.since, until=scope.until,
                       kinds=by == "kind" or bool(scope.kinds))
    end = _grid_end(scope, until)
    return rollups.timeline(rollups.dimensions(rows, scope), tz=tz, unit=unit, by=by,
                            start=scope.since, end=end)


def _now() -> datetime:
    return to_utc(datetime.now(UTC))


def _grid_end(scope: Scope, until: datetime | None) -> datetime:
    """The last instant a timeline shows: the scope's end, or now if that is earlier."""
    now = until or _now()
    return min(scope.until - timedelta(microseconds=1), now) if scope.until else now


def models(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Per (model, provider), most expensive first: columns of `rollups.models` plus
    sessions (sessions with a call of that model in scope)."""
    rows = call_rollup(engine, tz=UTC, since=scope.since, until=scope.until,
                       kinds=bool(scope.kinds))
    return with_sessions(rollups.models(rollups.dimensions(rows, scope)),
                         sessions_by_model(engine, scope=scope))


def sessions_by_model(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Columns model, provider, sessions: sessions with at least one call of that model
    through that provider in scope. Counted per model, and per provider only for the few
    models seen under several providers (the roll-up knows which): one pass over the calls
    grouped by one column, not two."""
    model = func.coalesce(M.model, "(none)").label("model")
    provider = func.coalesce(M.provider, "(none)").label("provider")
    sessions_ = func.count(distinct(M.session_id)).label("sessions")
    pairs = frame(engine, select(U.model, U.provider).distinct())
    shared = sorted(set(pairs.loc[pairs["model"].duplicated(keep=False), "model"]))
    single = frame(engine, select(model, sessions_).where(*call_conditions(scope))
                   .group_by(*positions(1)))
    single = single[~single["model"].isin(shared)].merge(pairs, on="model", how="left")
    if not shared:
        return single[["model", "provider", "sessions"]]
    split = frame(engine, select(model, provider, sessions_)
                  .where(*call_conditions(scope), func.coalesce(M.model, "(none)").in_(shared))
                  .group_by(*positions(2)))
    return pd.concat([single[["model", "provider", "sessions"]], split], ignore_index=True)


def with_sessions(per_model: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    out = per_model.merge(counts, on=["model", "provider"], how="left")
    out["sessions"] = out["sessions"].fillna(0).astype("int64")
    return out


def tools(engine: Engine, *, scope: Scope, durations: bool = True) -> pd.DataFrame:
    """One row per tool, most used first. Columns: tool_name, calls, results (with a
    result seen), errors, error_rate (errors / results), sessions, p50_ms, p95_ms
    (nearest-rank percentiles of duration_ms; NaN without durations, or when
    `durations=False` skips their sort of every tool call)."""
    counts = _tool_scope(select(
        T.tool_name, func.count().label("calls"), func.count(T.is_error).label("results"),
        total(flag(T.is_error)).label("errors"),
        func.count(distinct(T.session_id)).label("sessions")).group_by(T.tool_name), scope)
    out = frame(engine, counts)
    if durations:
        out = out.merge(frame(engine, _tool_percentiles(scope)), on="tool_name", how="left")
    else:
        out = out.assign(p50_ms=float("nan"), p95_ms=float("nan"))
    out["error_rate"] = rollups.ratio(out["errors"], out["results"])
    columns = ["tool_name", "calls", "results", "errors", "error_rate", "sessions",
               "p50_ms", "p95_ms"]
    return out[columns].sort_values(["calls", "tool_name"], ascending=[False, True],
                                    ignore_index=True)


def _tool_percentiles(scope: Scope) -> Select[Any]:
    """Nearest-rank p50/p95 per tool with window functions (no percentile() in SQLite)."""
    ranked = _tool_scope(select(
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
    series (tool name), calls, errors."""
    whole, keys = _hour_keys(local_time(engine, scope, tz), T.timestamp)
    stmt = _tool_scope(select(*keys, T.tool_name, func.count().label("calls"),
                              total(flag(T.is_error)).label("errors")), scope)
    stmt = stmt.group_by(*positions(len(keys) + 1))
    rows = _hours(frame(engine, stmt), whole, tz)
    end = _grid_end(scope, until)
    return rollups.timeline(rows, tz=tz, unit=unit, by="tool_name", start=scope.since,
                            end=end, measures=["calls", "errors"])


def cost_statistics(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Per-session cost of the calls in scope, summarised. One row: sessions, cost,
    mean, median, p90, p95, p99, max (nearest-rank, dollars per session), tokens,
    tokens_per_dollar, cache_hit_rate (cache_read / (input + cache_read + cache_write))."""
    per = (select(M.session_id, total(M.cost).label("c"), total(tokens()).label("t"),
                  total(M.input_tokens).label("i"), total(M.cache_read_tokens).label("r"),
                  total(M.cache_write_tokens).label("w"))
           .where(*call_conditions(scope)).group_by(M.session_id).subquery())
    ranked = select(per, func.row_number().over(order_by=per.c.c).label("rn"),
                    func.count().over().label("n")).subquery()

    def rank(p: float) -> Any:
        return func.min(case((ranked.c.rn >= ranked.c.n * p, ranked.c.c)))

    stmt = select(func.count().label("sessions"), total(ranked.c.c).label("cost"),
                  func.avg(ranked.c.c).label("mean"), rank(0.5).label("median"),
                  rank(0.9).label("p90"), rank(0.95).label("p95"), rank(0.99).label("p99"),
                  func.max(ranked.c.c).label("max"), total(ranked.c.t).label("tokens"),
                  total(ranked.c.i).label("input"), total(ranked.c.r).label("cache_read"),
                  total(ranked.c.w).label("cache_write"))
    out = frame(engine, stmt)
    out["tokens_per_dollar"] = rollups.ratio(out["tokens"], out["cost"])
    prompt = out["input"] + out["cache_read"] + out["cache_write"]
    out["cache_hit_rate"] = rollups.ratio(out["cache_read"], prompt)
    return out.drop(columns=["input", "cache_read", "cache_write"])
