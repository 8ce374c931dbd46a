"""Running alert rules against a database.

The glue between the pure rules of `alerting.py` and the reads of the read layer (`read/`): for each
rule, ask for its observations over the right range and evaluate them. Active alerts
look at each rule's window ending now; the history applies the same rules to every
session, local day or window-sized bucket of a longer range. In a database with several
gateways a session rule is evaluated per gateway, so each session alert names its gateway
(a session id is unique within its gateway only). The `alerts.py` command is
`alert_cli.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import NamedTuple

import pandas as pd
from sqlalchemy import Engine

from openclaw_telemetry.alerting import (
    SESSION_METRICS,
    Alert,
    Metric,
    Rule,
    evaluate,
)
from openclaw_telemetry.read import (
    Scope,
    alert_observations,
    call_rollup,
    hourly,
    session_observations,
)
from openclaw_telemetry.read.rollups import observations
from openclaw_telemetry.read.status import gateways
from openclaw_telemetry.timeframe import Unit, to_utc


def rule_scope(rule: Rule, since: datetime | None, until: datetime | None,
               within: Scope | None = None) -> Scope | None:
    """The calls a rule looks at in `[since, until)`: its own filters, narrowed by the
    filters of `within` (the dashboard's sidebar); None when the two select nothing
    together (rule on agent a, sidebar on agent b)."""
    chosen = within or Scope()
    picked: list[tuple[str, ...]] = []
    for own, wanted in ((rule.agents, chosen.agents), (rule.models, chosen.models),
                        (rule.kinds, chosen.kinds), (rule.gateways, chosen.gateways)):
        both = tuple(v for v in own if v in wanted) if own and wanted else own or wanted
        if (own or wanted) and not both:
            return None
        picked.append(both)
    return Scope(since, until, *picked)


def per_gateway(rule: Rule, scope: Scope, held: Sequence[str]) -> list[tuple[str, Scope]]:
    """(gateway, scope) pairs to evaluate a rule on, given the gateways the database holds:
    a session rule once per gateway of the scope when there are several gateways (its
    alerts then name their gateway), anything else once as it is ('' : no gateway named)."""
    if rule.metric not in SESSION_METRICS or len(held) < 2:
        return [("", scope)]
    return [(gateway, replace(scope, gateways=(gateway,))) for gateway in held
            if not scope.gateways or gateway in scope.gateways]


def _observe(engine: Engine, rule: Rule, since: datetime | None, now: datetime, tz: tzinfo,
             within: Scope | None, held: Sequence[str]) -> list[Alert]:
    scope = rule_scope(rule, since, to_utc(now), within)  # never later than now
    if scope is None:
        return []
    unit = Unit.DAY if rule.metric is Metric.DAILY_COST else None
    floor = None if rule.metric is Metric.ERROR_RATE else rule.lowest()
    alerts: list[Alert] = []
    for gateway, part in per_gateway(rule, scope, held):
        frame = alert_observations(engine, metric=rule.metric, scope=part, tz=tz, unit=unit,
                                   minimum=floor, now=to_utc(now))
        alerts += evaluate(rule, frame, gateway)
    return alerts


def active_alerts(engine: Engine, rules: Sequence[Rule], *, now: datetime, tz: tzinfo,
                  within: Scope | None = None) -> list[Alert]:
    """Alerts firing now: each rule over its own window ending at `now` (aware), on the
    calls `within` also selects (its range is ignored)."""
    held = gateways(engine)
    alerts: list[Alert] = []
    for rule in rules:
        alerts += _observe(engine, rule, rule.since(now, tz), now, tz, within, held)
    return sorted(alerts, key=lambda a: (-a.severity.rank, a.rule, -a.value))


def alert_history(engine: Engine, rules: Sequence[Rule], *, since: datetime | None,
                  now: datetime, tz: tzinfo, until: datetime | None = None,
                  within: Scope | None = None) -> list[Alert]:
    """Every firing in `[since, until)` (naive UTC; None = all time, and up to now),
    latest first; nothing after `now`.

    Session rules look at the totals of the sessions active in the range; daily cost is
    per local day; cost and error rate per local hour (rule windows up to 6 h) or day.
    Only calls that `within` (the sidebar's filters) also selects count.
    """
    end = min(until, to_utc(now)) if until is not None else to_utc(now)
    held = gateways(engine)
    alerts: list[Alert] = []
    for rule in rules:
        scope = rule_scope(rule, since, end, within)
        if scope is None:
            continue
        for gateway, part in per_gateway(rule, scope, held):
            alerts += evaluate(rule, _history_frame(engine, rule, part, tz), gateway)
    return sorted(alerts, key=lambda a: a.at, reverse=True)


class AlertHistory(NamedTuple):
    """A range's history as the Alerts page shows it: the latest alerts (latest first),
    how many fired, fired alerts per local day and severity (columns day: local midnight,
    naive; severity; alerts) and the first alert's time (naive UTC; None: none fired).
    A few hundred alerts, not tens of thousands: cheap to cache and to copy out of it."""

    latest: list[Alert]
    fired: int
    per_day: pd.DataFrame
    first: datetime | None


def alert_summary(engine: Engine, rules: Sequence[Rule], *, since: datetime | None,
                  now: datetime, tz: tzinfo, until: datetime | None = None,
                  within: Scope | None = None, limit: int = 500) -> AlertHistory:
    """`alert_history` summed up for a page: the latest `limit` alerts and the counts."""
    alerts = alert_history(engine, rules, since=since, now=now, tz=tz, until=until,
                           within=within)
    frame = pd.DataFrame({"at": [a.at for a in alerts],
                          "severity": [str(a.severity) for a in alerts]})
    local = pd.to_datetime(frame["at"]).dt.tz_localize("UTC").dt.tz_convert(tz)
    frame["day"] = local.dt.tz_localize(None).dt.normalize()
    per_day = frame.groupby(["day", "severity"], as_index=False).agg(alerts=("at", "size"))
    return AlertHistory(alerts[:limit], len(alerts), per_day,
                        min((a.at for a in alerts), default=None))


def _history_frame(engine: Engine, rule: Rule, scope: Scope, tz: tzinfo) -> pd.DataFrame:
    """The observations of a rule over a scope, for the history."""
    if rule.metric in SESSION_METRICS:
        return session_observations(engine, metric=rule.metric, scope=scope,
                                    minimum=rule.lowest())
    if rule.metric is Metric.DAILY_COST or rule.window > timedelta(hours=6):
        rows, unit = hourly(engine, scope=scope, tz=tz), Unit.DAY
    else:  # every hour of the range, but no breakdown: summed in SQL
        rows = call_rollup(engine, tz=tz, since=scope.since, until=scope.until, only=scope)
        unit = Unit.HOUR
    return observations(rows, metric=rule.metric, unit=unit, tz=tz)
