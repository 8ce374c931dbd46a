"""Running alert rules against a database, and the `alerts.py` command line.

The glue between the pure rules of `alerting.py` and the reads of the read layer (`read/`): for each
rule, ask for its observations over the right range and evaluate them. Active alerts
look at each rule's window ending now; the history applies the same rules to every
session, local day or window-sized bucket of a longer range.

Exit codes of `alerts.py` (the table is `doors.EXIT_CODES`): 0 nothing fired (or only
info), 1 a warning fired (or a budget reached a warning fraction, 80 %), 2 a critical
alert fired or a budget is at or over 100 %, 64 a wrong argument, rules file or time zone,
66 the database is missing or unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry import rulesfile
from openclaw_telemetry.alerting import (
    SESSION_METRICS,
    Alert,
    Metric,
    Rule,
    Severity,
    evaluate,
)
from openclaw_telemetry.budget_report import (
    budget_dict,
    budget_line,
    budget_severity,
    forecast_text,
    money,
    outlook_dict,
)
from openclaw_telemetry.config import (
    DEFAULT_ALERTS,
    ENV_ALERTS,
    alerts_file,
    default_db,
    local_zone_name,
)
from openclaw_telemetry.doors import (
    EXIT_CRITICAL,
    EXIT_NOINPUT,
    EXIT_OK,
    EXIT_WARNING,
    door_parser,
    fail,
    usage_error,
)
from openclaw_telemetry.errors import ConfigError, DatabaseError
from openclaw_telemetry.read import (
    Scope,
    alert_observations,
    budget_status,
    hourly,
    session_observations,
    spend_outlook,
)
from openclaw_telemetry.read.rollups import observations
from openclaw_telemetry.store import open_existing
from openclaw_telemetry.timeframe import Unit, to_utc, zone

PROG = "alerts.py"


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


def exit_code(alerts: Sequence[Alert], budgets: pd.DataFrame | None = None) -> int:
    """0 / 1 / 2 by the worst severity of the alerts and the budgets' reached fractions."""
    levels = [a.severity for a in alerts]
    if budgets is not None:
        levels += [s for s in (budget_severity(row) for _, row in budgets.iterrows()) if s]
    level = max(levels, key=lambda s: s.rank, default=None)
    return {Severity.CRITICAL: EXIT_CRITICAL, Severity.WARNING: EXIT_WARNING}.get(
        level, EXIT_OK) if level else EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = door_parser(PROG, "Evaluate the OpenClaw Telemetry alert rules and budgets now, for "
                          "cron and scripts (`.venv/bin/python alerts.py || notify-send "
                          "'OpenClaw alert'`); with --notify, deliver what fires.")
    p.add_argument("--db", metavar="PATH_OR_URL",
                   help="SQLite file or SQLAlchemy URL (env OPENCLAW_TELEMETRY_DB; default: "
                        "the parser's openclaw_telemetry.db)")
    p.add_argument("--alerts", metavar="TOML",
                   help=f"rules file: alert rules, budgets, notify URLs (env {ENV_ALERTS}; "
                        f"default: {DEFAULT_ALERTS} in the working directory when present, "
                        "else the built-in rules)")
    p.add_argument("--tz", metavar="ZONE",
                   help="IANA time zone for 'today' in daily rules and budget periods "
                        "(default: env TZ, else UTC)")
    p.add_argument("--json", action="store_true",
                   help="print alerts, budgets and the month's forecast as JSON on stdout")
    return p


def _print(alerts: Sequence[Alert], budgets: pd.DataFrame, month: pd.DataFrame,
           as_json: bool) -> None:
    if as_json:
        print(json.dumps({"alerts": [a.as_dict() for a in alerts],
                          "budgets": [budget_dict(row) for _, row in budgets.iterrows()],
                          "month": outlook_dict(month.iloc[0])}, indent=2))
        return
    if not alerts:
        print("No alerts.")
    for alert in alerts:
        print(f"{alert.severity.upper():8} {alert.message}")
    for _, row in budgets.iterrows():
        print(f"{'BUDGET':8} {budget_line(row)}")
    if not budgets.empty:
        row = month.iloc[0]
        print(f"{'MONTH':8} {money(row['spent'])} so far; {forecast_text(row)}")


def _zone(given: str | None) -> tzinfo:
    tz = zone(given or local_zone_name())
    if given and tz.key != given:
        raise ConfigError(f"--tz {given!r}: unknown time zone")
    if not given and local_zone_name() and tz.key != local_zone_name():
        print(f"alerts.py: warning: TZ={local_zone_name()!r} is not a known time zone; "
              f"'today' is the {tz.key} day", file=sys.stderr)
    return tz


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code (never raises for a person's mistake)."""
    try:
        args = parser().parse_args(argv)
        config = rulesfile.load(alerts_file(args.alerts))
        tz = _zone(args.tz)
        engine = open_existing(args.db or default_db())
        now = datetime.now(UTC)
        alerts = active_alerts(engine, config.rules, now=now, tz=tz)
        budgets = budget_status(engine, budgets=config.budgets, now=now, tz=tz)
        month = spend_outlook(engine, scope=Scope(), tz=tz, now=now)
    except ConfigError as exc:
        return usage_error(PROG, exc)
    except (DatabaseError, SQLAlchemyError) as exc:
        return fail(PROG, str(exc), EXIT_NOINPUT)
    _print(alerts, budgets, month, args.json)
    return exit_code(alerts, budgets)
