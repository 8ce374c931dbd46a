"""Running alert rules against a database.

The glue between the pure rules of `alerting.py` and the reads of the read layer (`read/`): for each
rule, ask for its observations over the right range and evaluate them. Active alerts
look at each rule's window ending now; the history applies the same rules to every
session, local day or window-sized bucket of a longer range. The `alerts.py` command is
`alert_cli.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

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
    hourly,
    session_observations,
)
from openclaw_telemetry.read.rollups import observations
from openclaw_telemetry.timeframe import Unit, to_utc


def rule_scope(rule: Rule, since: datetime | None, until: datetime | None,
               within: Scope | None = None) -> Scope | None:
    """The calls a rule looks at in `[since, until)`: its own filters, narrowed by the
    filters of `within` (the dashboard's sidebar); None when the two select nothing
    together (rule on agent a, sidebar on agent b)."""
    chosen = within or Scope()
    picked: list[tuple[str, ...]] = []
    for own, wanted in ((rule.agents, chosen.agents), (rule.models, chosen.models),
                        (rule.kinds, chosen.kinds)):
        both = tuple(v for v in own if v in wanted) if own and wanted else own or wanted
        if (own or wanted) and not both:
            return None
        picked.append(both)
    return Scope(since, until, *picked)


def _observe(engine: Engine, rule: Rule, since: datetime | None, now: datetime, tz: tzinfo,
             unit: Unit | None, within: Scope | None) -> list[Alert]:
    scope = rule_scope(rule, since, to_utc(now), within)  # never later than now
    if scope is None:
        return []
    floor = None if rule.metric is Metric.ERROR_RATE else rule.lowest()
    frame = alert_observations(engine, metric=rule.metric, scope=scope, tz=tz, unit=unit,
                               minimum=floor, now=to_utc(now))
    return evaluate(rule, frame)


def active_alerts(engine: Engine, rules: Sequence[Rule], *, now: datetime, tz: tzinfo,
                  within: Scope | None = None) -> list[Alert]:
    """Alerts firing now: each rule over its own window ending at `now` (aware), on the
    calls `within` also selects (its range is ignored)."""
    alerts: list[Alert] = []
    for rule in rules:
        unit = Unit.DAY if rule.metric is Metric.DAILY_COST else None
        alerts += _observe(engine, rule, rule.since(now, tz), now, tz, unit, within)
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
    alerts: list[Alert] = []
    for rule in rules:
        scope = rule_scope(rule, since, end, within)
        if scope is None:
            continue
        if rule.metric in SESSION_METRICS:
            frame = session_observations(engine, metric=rule.metric, scope=scope,
                                         minimum=rule.lowest())
        else:
            rows = hourly(engine, scope=scope, tz=tz)
            unit = (Unit.DAY if rule.metric is Metric.DAILY_COST or
                    rule.window > timedelta(hours=6) else Unit.HOUR)
            frame = observations(rows, metric=rule.metric, unit=unit, tz=tz)
        alerts += evaluate(rule, frame)
    return sorted(alerts, key=lambda a: a.at, reverse=True)
