"""Budget questions: daily spend, where a period stands and will end, every budget's status.

Spend is the cost of the calls a scope selects (by call timestamp, contract D4), summed per
local day (from the call roll-up, or in SQL for a budget of cron jobs); periods are local
calendar periods (`budgets.period_days`), so a period's spend is exactly the sum of its
days. Forecasts are `forecast.project` over those days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

import pandas as pd
from sqlalchemy import ColumnElement, Engine, func, or_, select

from openclaw_telemetry.budgets import Budget, Period, period_days, severity_of
from openclaw_telemetry.forecast import HISTORY_DAYS, project
from openclaw_telemetry.measures import M, S, session_name, total
from openclaw_telemetry.read import rollups
from openclaw_telemetry.read.calls import hourly
from openclaw_telemetry.read.sqlkit import (
    Scope,
    call_conditions,
    frame,
    in_sessions,
    local_time,
    positions,
    same_session,
)
from openclaw_telemetry.schema import sessions
from openclaw_telemetry.timeframe import Unit, local_midnight, to_utc

OUTLOOK_COLUMNS = ["start", "end", "spent", "forecast", "forecast_low", "forecast_high",
                   "pace", "runs_out", "days_left"]


def _conditions(scope: Scope, cron_jobs: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The calls of a scope; with `cron_jobs`, of sessions of those jobs (id or name)."""
    conditions = call_conditions(scope)
    if cron_jobs:
        jobs = select(S.session_id, S.gateway).where(or_(S.cron_job_id.in_(cron_jobs),
                                                         S.cron_job_name.in_(cron_jobs)))
        conditions.append(in_sessions(M, jobs))
    return conditions


def budget_scope(budget: Budget, since: datetime | None = None,
                 until: datetime | None = None) -> Scope:
    """The calls a budget's filters select (but its cron jobs) in `[since, until)`."""
    return Scope(since, until, budget.agents, budget.models, budget.kinds, budget.gateways)


def daily_spend(engine: Engine, *, scope: Scope, tz: tzinfo,
                cron_jobs: tuple[str, ...] = ()) -> pd.DataFrame:
    """Columns day (a local `date`), cost, calls: days with calls in scope, oldest first.
    `cron_jobs` keeps the calls of sessions of those cron jobs (by job id or name); without
    them the days come from the cached roll-up (`calls.hourly`)."""
    if not cron_jobs:
        rows = hourly(engine, scope=scope, tz=tz)
        days = (rows.assign(day=rollups.bucket_of(rows["hour"], Unit.DAY, tz).dt.date)
                .groupby("day", as_index=False, sort=True)[["cost", "calls"]].sum())
        return days[days["calls"] > 0].astype({"cost": "float64", "calls": "int64"}
                                              ).reset_index(drop=True)
    day = local_time(engine, scope, tz).label(M.timestamp, Unit.DAY).label("day")
    conditions = _conditions(scope, cron_jobs)
    stmt = (select(day, total(M.cost).label("cost"), func.count().label("calls"))
            .where(*conditions).group_by(*positions(1)).order_by(*positions(1)))
    out = frame(engine, stmt, ["day", "cost", "calls"])
    out["day"] = [date.fromisoformat(str(d)) for d in out["day"]]
    out["cost"] = out["cost"].astype("float64")
    return out


def _history(days: pd.DataFrame, today: date) -> list[float]:
    """Spend of the complete days before today, from the first day with spend, zeros filled."""
    before = days[days["day"] < today]
    if before.empty:
        return []
    first = max(min(before["day"]), today - timedelta(days=HISTORY_DAYS))
    per_day = dict(zip(before["day"], before["cost"], strict=True))
    return [float(per_day.get(first + timedelta(days=i), 0.0))
            for i in range((today - first).days)]


def spend_outlook(engine: Engine, *, scope: Scope, tz: tzinfo, now: datetime,
                  period: Period = Period.MONTH, month_start_day: int = 1,
                  cron_jobs: tuple[str, ...] = (), amount: float | None = None
                  ) -> pd.DataFrame:
    """The period holding `now` (aware) for the calls of `scope` (its range is ignored).
    One row: start, end (local midnights, tz-aware; end exclusive), spent, forecast,
    forecast_low, forecast_high (p10-p90), pace ($/day), runs_out (when `amount` is
    reached at that pace: tz-aware, NaT when not within the period or no amount),
    days_left (until the period's end)."""
    local = now.astimezone(tz)
    first, nxt = period_days(period, local.date(), month_start_day)
    since = min(first, local.date() - timedelta(days=HISTORY_DAYS))
    days = daily_spend(engine, scope=scope.between(local_midnight(since, tz), to_utc(now)),
                       tz=tz, cron_jobs=cron_jobs)
    spent = float(days.loc[days["day"] >= first, "cost"].sum())
    start, end = (pd.Timestamp(local_midnight(d, tz)).tz_localize("UTC").tz_convert(tz)
                  for d in (first, nxt))
    outlook = project(spent=spent, history=_history(days, local.date()), now=local,
                      start=start.to_pydatetime(), end=end.to_pydatetime(), amount=amount)
    return pd.DataFrame([{
        "start": start, "end": end, "spent": spent, "forecast": outlook.projected,
        "forecast_low": outlook.low, "forecast_high": outlook.high, "pace": outlook.pace,
        "runs_out": pd.Timestamp(outlook.runs_out) if outlook.runs_out else pd.NaT,
        "days_left": (end - pd.Timestamp(local)) / pd.Timedelta(days=1)}],
        columns=OUTLOOK_COLUMNS)


def budget_sessions(engine: Engine, *, budget: Budget, now: datetime, tz: tzinfo,
                    limit: int = 3) -> pd.DataFrame:
    """The sessions that spent most of a budget in its current period, most first.
    Columns: session_id, gateway, name (`measures.session_name`), cost (of its calls in
    the period that the budget's filters select)."""
    first, following = budget.days(now, tz)
    scope = budget_scope(budget, local_midnight(first, tz), local_midnight(following, tz))
    name = session_name(M.session_id).label("name")
    spent = total(M.cost).label("cost")
    stmt = (select(M.session_id, M.gateway, name, spent)
            .join(sessions, same_session(S, M))
            .where(*_conditions(scope, budget.cron_jobs))
            .group_by(M.session_id, M.gateway, S.label, S.cron_job_name, S.session_key)
            .order_by(spent.desc(), M.session_id, M.gateway).limit(limit))
    return frame(engine, stmt, ["session_id", "gateway", "name", "cost"])


def budget_status(engine: Engine, *, budgets: Sequence[Budget], now: datetime,
                  tz: tzinfo) -> pd.DataFrame:
    """One row per budget, in file order: budget, period, amount, the columns of
    `spend_outlook` (runs_out: when the amount is reached), fraction (spent / amount),
    reached (the highest `notify_at` fraction reached, NaN if none) and severity ('' if
    none reached)."""
    rows = []
    for budget in budgets:
        outlook = spend_outlook(engine, scope=budget_scope(budget), tz=tz, now=now, period=budget.period,
                                month_start_day=budget.month_start_day,
                                cron_jobs=budget.cron_jobs, amount=budget.amount).iloc[0]
        fraction = float(outlook["spent"]) / budget.amount
        reached = budget.reached(fraction)
        rows.append({"budget": budget.name, "period": str(budget.period),
                     "amount": budget.amount, **outlook.to_dict(), "fraction": fraction,
                     "reached": float("nan") if reached is None else reached,
                     "severity": "" if reached is None else str(severity_of(reached))})
    return pd.DataFrame(rows, columns=["budget", "period", "amount", *OUTLOOK_COLUMNS,
                                       "fraction", "reached", "severity"])
