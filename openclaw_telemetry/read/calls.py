"""Call-level questions: totals, timelines, breakdowns per model / agent / provider /
kind, sessions per model, per-session cost statistics.

Every figure about calls is computed from *roll-up rows* (`hourly`): the calls of a scope
aggregated per local hour (or whole local day), gateway, agent, model, provider (and
session kind). The whole history's rows are read once per data version and time zone from
the 15-minute roll-up (`usage_quarter_hours`) and kept in a small in-process cache: whole
local days up to two days before the last call, local hours after that (`History`). A
scope takes the whole days and hours inside its range from them and reads the partial ones
at its ends exactly (`rollups.split`). So a filter change costs milliseconds, and the
dashboards, `alerts.py` and the tests get their numbers through the very same functions.
A question that needs hours (an hourly timeline or alert rule) over the older history gets
the hourly history instead, cached the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple

import pandas as pd
from sqlalchemy import Engine, case, func, select

from openclaw_telemetry import usage
from openclaw_telemetry.measures import M, call_dimensions, call_measures, tokens, total
from openclaw_telemetry.read import rollups
from openclaw_telemetry.read.sqlkit import (
    LocalTime,
    Scope,
    active_sessions,
    bounds,
    by_time,
    call_conditions,
    frame,
    local_buckets,
    local_time,
    positions,
    same_session,
    time_conditions,
)
from openclaw_telemetry.read.status import stamp, totals_hold
from openclaw_telemetry.schema import sessions, usage_quarter_hours
from openclaw_telemetry.timeframe import Unit, local_midnight, to_utc

S = sessions.c
U = usage_quarter_hours.c


def call_rollup(engine: Engine, *, tz: tzinfo, since: datetime | None = None,
                until: datetime | None = None, kinds: bool = False,
                unit: Unit = Unit.HOUR, only: Scope | None = None) -> pd.DataFrame:
    """Calls aggregated per local hour, gateway, agent, model, provider (and session kind).

    Columns: hour (tz-aware local hour start), utc (its naive-UTC start), gateway, agent,
    model, provider, kind (only with `kinds=True`: needs a join), calls, errors, input, output,
    cache_read, cache_write, cost, estimated_cost, unpriced_calls, unpriced_tokens,
    subscription_cost, tool_calls. `since`/`until` (naive UTC) bound the call timestamps
    exactly. `unit=Unit.DAY`: per local day instead (`hour` is then the local midnight).
    `only`: just the calls its agent / model / kind / gateway filters select, summed over
    every dimension (columns hour, utc and the measures): one short GROUP BY however long
    the range, for questions that need every hour but no breakdown (alert history).
    On SQLite, zones whose offset stays a whole number of hours are grouped by the UTC
    hour (a cheap substring) and shifted here; others get local hours computed in SQL.

    Read from the `usage_quarter_hours` roll-up (whole 15-minute buckets inside the range)
    plus the calls of the partial buckets at its ends, whenever the zone's offsets and
    transitions over the data are whole quarter hours (every real zone since ~1980), so
    that a bucket lies in one local hour; otherwise from `messages`.
    """
    local = local_time(engine, Scope(since, until), tz)
    low, high = (None if since is None else usage.ceil(since),
                 None if until is None else usage.floor(until))
    if not local.quarter_exact() or (low is not None and high is not None and low >= high):
        return _call_hours(engine, local, tz, since, until, kinds, unit, only)
    parts = [_usage_hours(engine, local, tz, low, high, kinds, unit, only)]
    if since is not None and low is not None and since < low:
        parts.append(_call_hours(engine, local, tz, since, low, kinds, unit, only))
    if until is not None and high is not None and high < until:
        parts.append(_call_hours(engine, local, tz, high, until, kinds, unit, only))
    if len(parts) == 1:
        return parts[0]
    keys = ["hour", "utc"] if only is not None else [
        "hour", "utc", "gateway", "agent", "model", "provider", *(["kind"] if kinds else [])]
    rows = pd.concat([p for p in parts if not p.empty] or parts[:1], ignore_index=True)
    return rows.groupby(keys, as_index=False, sort=False)[rollups.MEASURES].sum()


def _usage_hours(engine: Engine, local: LocalTime, tz: tzinfo, since: datetime | None,
                 until: datetime | None, kinds: bool, unit: Unit, only: Scope | None
                 ) -> pd.DataFrame:
    """`call_rollup` rows from the roll-up buckets starting in `[since, until)`."""
    whole, keys = hour_keys(local, U.bucket, unit)
    named = {"gateway": U.gateway, "agent": U.agent, "model": U.model, "provider": U.provider,
             "kind": U.kind}
    conditions = time_conditions(U.bucket, Scope(since, until))
    if kinds:
        conditions.append(U.kind.is_not(None))  # calls without a session row: no kind
    dims, picked = _dimensions(named, kinds, only)
    sums = [total(getattr(U, name)).label(name) for name in rollups.MEASURES]
    stmt = (select(*keys, *dims, *sums).where(*conditions, *picked)
            .group_by(*positions(len(keys) + len(dims))))
    return hours(frame(engine, stmt), whole, tz, unit)


def _call_hours(engine: Engine, local: LocalTime, tz: tzinfo, since: datetime | None,
                until: datetime | None, kinds: bool, unit: Unit, only: Scope | None
                ) -> pd.DataFrame:
    """`call_rollup` rows straight from the calls in `[since, until)`."""
    whole, keys = hour_keys(local, M.timestamp, unit)
    agent, model, provider = call_dimensions()
    named = {"gateway": M.gateway, "agent": agent, "model": model, "provider": provider,
             "kind": S.kind}
    dims, picked = _dimensions(named, kinds, only)
    stmt = select(*keys, *dims, *call_measures()).where(
        *call_conditions(Scope(since, until)), *picked)
    if kinds or (only is not None and only.kinds):
        stmt = stmt.join(sessions, same_session(S, M))
    stmt = stmt.group_by(*positions(len(keys) + len(dims)))
    return hours(frame(engine, stmt), whole, tz, unit)


def _dimensions(named: dict[str, Any], kinds: bool, only: Scope | None
                ) -> tuple[list[Any], list[Any]]:
    """(columns to group by, conditions) over a table's gateway / agent / model / provider
    / kind expressions: each dimension, or with `only` none, its filters instead."""
    if only is None:
        return [named[n].label(n) for n in ("gateway", "agent", "model", "provider",
                                             *(["kind"] if kinds else []))], []
    return [], [named[n].in_(values) for n, values in (
        ("agent", only.agents), ("model", only.models), ("kind", only.kinds),
        ("gateway", only.gateways)) if values]


def hour_keys(local: LocalTime, column: Any, unit: Unit = Unit.HOUR
              ) -> tuple[bool, list[Any]]:
    """GROUP BY keys of local hours (or days), and whether they are UTC hours to shift."""
    if unit is Unit.DAY:
        return False, [local.label(column, Unit.DAY).label("bucket")]
    whole = local.dialect == "sqlite" and all(o % 3600 == 0 for o in local.segments.offsets)
    if whole:
        return True, [func.substr(column, 1, 13).label("bucket")]
    return False, [local.label(column, Unit.HOUR).label("bucket"),
                   local.offset(column).label("utc_offset")]


def hours(rows: pd.DataFrame, whole: bool, tz: tzinfo, unit: Unit = Unit.HOUR
          ) -> pd.DataFrame:
    """SQL hour (or day) labels -> `hour` (tz-aware local start) and `utc` (naive UTC)."""
    if whole:
        utc = pd.to_datetime(rows["bucket"].astype("string"), format="%Y-%m-%d %H")
        rows = rows.assign(bucket=utc.dt.tz_localize("UTC").dt.tz_convert(tz))
    else:
        rows = local_buckets(rows.assign(bucket=rows["bucket"].astype("string")), tz, unit)
    rows = rows.rename(columns={"bucket": "hour"})
    rows.insert(1, "utc", rows["hour"].dt.tz_convert("UTC").dt.tz_localize(None))
    return rows


RECENT_DAYS = 2  # whole local days before the last call's day kept hourly in `History`


class History(NamedTuple):
    """A database's whole history as roll-up rows (`call_rollup` columns): whole local days
    before `cut` (naive UTC, a local midnight; `hour` is then the day's start), local
    hours from it on. `cut` None: hours throughout."""

    rows: pd.DataFrame
    cut: datetime | None


@lru_cache(maxsize=8)
def _history(engine: Engine, stamp: tuple[str, int], tz: tzinfo, kinds: bool,
             fine: bool) -> History:
    """The whole history of one database (its birth) at one data version; by the hour
    throughout with `fine` (callers never mutate it). Days cost a twelfth of the rows."""
    with engine.connect() as conn:
        last = conn.execute(bounds()).one()[1]
    if fine or last is None:
        return History(call_rollup(engine, tz=tz, kinds=kinds), None)
    day = pd.Timestamp(last, tz="UTC").tz_convert(tz).date() - timedelta(days=RECENT_DAYS)
    cut = local_midnight(day, tz)
    days = call_rollup(engine, tz=tz, until=cut, kinds=kinds, unit=Unit.DAY)
    recent = call_rollup(engine, tz=tz, since=cut, kinds=kinds)
    rows = pd.concat([p for p in (days, recent) if not p.empty] or [recent],
                     ignore_index=True)
    return History(rows, cut)


def hourly(engine: Engine, *, scope: Scope, tz: tzinfo, kinds: bool = False,
           by_hour: bool = False) -> pd.DataFrame:
    """The calls of a scope as roll-up rows: columns of `call_rollup` (`kind` with
    `kinds=True` or a kind filter), one row per local hour, or per whole local day in the
    older history unless `by_hour`. Whole days and hours come from the cached history,
    the partial ones at the range's ends are read exactly; the hours of a few older days
    straight from the roll-up."""
    kinds = kinds or bool(scope.kinds)
    history = _history(engine, stamp(engine), tz, kinds, False)
    if by_hour and history.cut is not None and (scope.since is None
                                                or scope.since < history.cut):
        if scope.since is not None and scope.until is not None and (
                scope.until - scope.since <= timedelta(days=RECENT_DAYS + 1)):
            return rollups.dimensions(call_rollup(engine, tz=tz, since=scope.since,
                                                  until=scope.until, kinds=kinds), scope)
        history = _history(engine, stamp(engine), tz, kinds, True)
    return rollups.in_scope(
        history.rows, history.cut,
        lambda lo, hi: call_rollup(engine, tz=tz, since=lo, until=hi, kinds=kinds),
        scope, tz)


def session_count(engine: Engine, *, scope: Scope) -> int:
    """Sessions with at least one call in scope."""
    if totals_hold(engine, scope):
        stmt = select(func.count()).where(S.total_messages > 0, *active_sessions(scope))
    else:
        inner = (select(M.session_id, M.gateway).where(*call_conditions(scope)).distinct()
                 .subquery())
        stmt = select(func.count()).select_from(inner)
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def totals(engine: Engine, *, scope: Scope, tz: tzinfo = UTC) -> pd.DataFrame:
    """One row: calls, errors, input, output, cache_read, cache_write, cost,
    estimated_cost, unpriced_calls, unpriced_tokens, subscription_cost, tool_calls,
    tokens, error_rate, sessions (with a call in scope)."""
    out = rollups.totals(hourly(engine, scope=scope, tz=tz))
    out["sessions"] = session_count(engine, scope=scope)
    return out


def timeline(engine: Engine, *, scope: Scope, tz: tzinfo, unit: Unit, by: str = "model",
             until: datetime | None = None) -> pd.DataFrame:
    """Calls per local bucket and `by` (agent | model | provider | kind), gaps as zero.
    Columns as `rollups.timeline`; the grid ends at the scope's end or at `until` (naive
    UTC, default now), whichever is earlier."""
    rows = hourly(engine, scope=scope, tz=tz, kinds=by == "kind", by_hour=unit is Unit.HOUR)
    return rollups.timeline(rows, tz=tz, unit=unit, by=by, start=scope.since,
                            end=grid_end(scope, until))


def breakdown(engine: Engine, *, scope: Scope, tz: tzinfo, by: str) -> pd.DataFrame:
    """One row per value of `by` (agent | model | provider | kind), most expensive first:
    `by`, then every measure of `rollups.MEASURES` and tokens."""
    rows = hourly(engine, scope=scope, tz=tz, kinds=by == "kind")
    return rollups.breakdown(rows, by)


def _now() -> datetime:
    return to_utc(datetime.now(UTC))


def grid_end(scope: Scope, until: datetime | None) -> datetime:
    """The last instant a timeline shows: the scope's end, or now if that is earlier."""
    now = until or _now()
    return min(scope.until - timedelta(microseconds=1), now) if scope.until else now


def models(engine: Engine, *, scope: Scope, tz: tzinfo = UTC) -> pd.DataFrame:
    """Per (model, provider), most expensive first: columns of `rollups.models` plus
    sessions (sessions with a call of that model in scope)."""
    per_model = rollups.models(hourly(engine, scope=scope, tz=tz))
    out = per_model.merge(_sessions_by_model(engine, scope=scope), on=["model", "provider"],
                          how="left")
    out["sessions"] = out["sessions"].fillna(0).astype("int64")
    return out


def _sessions_by_model(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Columns model, provider, sessions: sessions with at least one call of that model
    through that provider in scope. Counted per model, and per provider only for the few
    models seen under several providers (the roll-up knows which): one pass over the calls
    grouped by one column, not two."""
    model = func.coalesce(M.model, "(none)").label("model")
    provider = func.coalesce(M.provider, "(none)").label("provider")
    pairs = frame(engine, select(U.model, U.provider).distinct())
    shared = sorted(set(pairs.loc[pairs["model"].duplicated(keep=False), "model"]))
    single = frame(engine, _sessions_per(model, conditions=call_conditions(scope)))
    single = single[~single["model"].isin(shared)].merge(pairs, on="model", how="left")
    if not shared:
        return single[["model", "provider", "sessions"]]
    split = frame(engine, _sessions_per(model, provider, conditions=[
        *call_conditions(scope), func.coalesce(M.model, "(none)").in_(shared)]))
    return pd.concat([single[["model", "provider", "sessions"]], split], ignore_index=True)


def _sessions_per(*keys: Any, conditions: list[Any]) -> Any:
    """keys..., sessions: the distinct (keys, session) pairs of the calls, counted per keys
    (read in order from the index on (model, session_id, gateway): no sort of every call)."""
    pairs = select(*keys, M.session_id, M.gateway).where(*conditions).distinct().subquery()
    columns = [pairs.c[key.name] for key in keys]
    return select(*columns, func.count().label("sessions")).group_by(*columns)


def cost_statistics(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Per-session cost of the calls in scope, summarised. One row: sessions, cost,
    mean, median, p90, p95, p99, max (nearest-rank, dollars per session), tokens,
    tokens_per_dollar, cache_hit_rate (cache_read / (input + cache_read + cache_write))."""
    per = (select(M.session_id, total(M.cost).label("c"), total(tokens()).label("t"),
                  total(M.input_tokens).label("i"), total(M.cache_read_tokens).label("r"),
                  total(M.cache_write_tokens).label("w"))
           .where(*call_conditions(scope), *by_time(engine, scope))
           .group_by(M.session_id, M.gateway).subquery())
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
