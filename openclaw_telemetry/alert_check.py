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
    BY_RANK,
    SESSION_METRICS,
    Alert,
    Metric,
    Rule,
    as_alerts,
    evaluate,
    fired,
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
from openclaw_telemetry.ui import format as fmt


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
        if unit is None and rule.metric not in SESSION_METRICS:  # the whole window: its
            # subject is "window" (the episode's identity), its name the span
            frame["label"] = f"last {fmt.duration(rule.window.total_seconds())}"
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
    return _History.of(engine, rules, since, now, tz, until, within).alerts()


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
    """`alert_history` summed up for a page: the latest `limit` alerts and the counts
    (counted on the fired rows: only the latest `limit` become `Alert` objects)."""
    history = _History.of(engine, rules, since, now, tz, until, within)
    rows = history.rows
    local = pd.to_datetime(rows["at"]).dt.tz_localize("UTC").dt.tz_convert(tz)
    frame = pd.DataFrame({"day": local.dt.tz_localize(None).dt.normalize(),
                          "severity": [str(BY_RANK[rank]) for rank in rows["rank"].tolist()],
                          "at": rows["at"]})
    per_day = frame.groupby(["day", "severity"], as_index=False).agg(alerts=("at", "size"))
    first = None if rows.empty else pd.Timestamp(rows["at"].min()).to_pydatetime()
    return AlertHistory(history.alerts(limit), len(rows), per_day, first)


class _History(NamedTuple):
    """Every firing of a range as rows of `fired`, latest first, each with `source`: the
    (rule, gateway) of `sources` it fired for."""

    rows: pd.DataFrame
    sources: list[tuple[Rule, str]]

    @classmethod
    def of(cls, engine: Engine, rules: Sequence[Rule], since: datetime | None,
           now: datetime, tz: tzinfo, until: datetime | None,
           within: Scope | None) -> _History:
        end = min(until, to_utc(now)) if until is not None else to_utc(now)
        held = gateways(engine)
        sources: list[tuple[Rule, str]] = []
        parts = [_NONE_FIRED]
        for rule in rules:
            scope = rule_scope(rule, since, end, within)
            if scope is None:
                continue
            for gateway, part in per_gateway(rule, scope, held):
                rows = fired(rule, _history_frame(engine, rule, part, tz))
                parts.append(rows.assign(source=len(sources)))
                sources.append((rule, gateway))
        rows = pd.concat(parts, ignore_index=True)
        return cls(rows.sort_values("at", ascending=False, kind="stable")
                   .reset_index(drop=True), sources)

    def alerts(self, limit: int | None = None) -> list[Alert]:
        """The first `limit` rows (all: None) as alerts."""
        rows = self.rows if limit is None else self.rows.head(limit)
        alerts: list[tuple[int, Alert]] = []
        for source in rows["source"].unique().tolist():
            part = rows[rows["source"] == source]
            rule, gateway = self.sources[source]
            alerts += zip(part.index, as_alerts(rule, part, gateway), strict=True)
        return [alert for _, alert in sorted(alerts, key=lambda pair: pair[0])]


_NONE_FIRED = pd.DataFrame({"subject": pd.Series(dtype=object),
                            "label": pd.Series(dtype=object),
                            "at": pd.Series(dtype="datetime64[us]"),
                            "value": pd.Series(dtype=float),
                            "rank": pd.Series(dtype=int),
                            "threshold": pd.Series(dtype=float),
                            "source": pd.Series(dtype=int)})


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
