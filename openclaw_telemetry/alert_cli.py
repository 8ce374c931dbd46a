"""The `alerts.py` command: evaluate rules and budgets now, print them, deliver them.

`--notify` delivers through the rules file's `notify` URLs (or OPENCLAW_TELEMETRY_NOTIFY)
what `dispatch` says is due; `--test-notify` sends one test message to each URL. URLs are
never taken from the command line (they would show in `ps`) and never printed: targets
appear as Apprise's privacy form.

Exit codes (the table is `doors.EXIT_CODES`): 0 nothing fired (or only info), 1 a warning
fired (or a budget reached a warning fraction), 2 a critical alert fired or a budget is at
or over 100 % (failed deliveries do not change it: they are reported and retried); with
--test-notify 0 every URL worked, 1 one did not; 64 a wrong argument, rules file or time
zone, 66 the database is missing or unreadable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry import rulesfile
from openclaw_telemetry.alerting import Alert, Severity
from openclaw_telemetry.budget_report import (
    budget_dict,
    budget_line,
    budget_severity,
    forecast_text,
    money,
    outlook_dict,
)
from openclaw_telemetry.cli_options import add_zone_option, zone_of
from openclaw_telemetry.config import (
    DEFAULT_ALERTS,
    ENV_ALERTS,
    ENV_NOTIFY,
    add_db_option,
    alerts_file,
    default_db,
    default_gateway,
)
from openclaw_telemetry.dispatch import Checked, Outcome, check
from openclaw_telemetry.doors import (
    EXIT_CRITICAL,
    EXIT_FAILED,
    EXIT_NOINPUT,
    EXIT_OK,
    EXIT_WARNING,
    door_parser,
    fail,
    reader_may_leave,
    usage_error,
)
from openclaw_telemetry.errors import ConfigError, DatabaseError
from openclaw_telemetry.migrations import migrate
from openclaw_telemetry.notify import send, target
from openclaw_telemetry.read.status import known_names
from openclaw_telemetry.store import open_existing

PROG = "alerts.py"


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
    add_db_option(p)
    p.add_argument("--alerts", metavar="TOML",
                   help=f"rules file: alert rules, budgets, notify URLs (env {ENV_ALERTS}; "
                        f"default: {DEFAULT_ALERTS} in the working directory when present, "
                        "else the built-in rules)")
    add_zone_option(p, "for 'today' in daily rules and budget periods")
    p.add_argument("--json", action="store_true",
                   help="print alerts, budgets, the month's forecast and deliveries as JSON")
    sending = p.add_mutually_exclusive_group()
    sending.add_argument("--notify", action="store_true",
                         help=f"deliver what fires to the rules file's notify URLs (or env "
                              f"{ENV_NOTIFY}): each episode once, resolved messages, retries")
    sending.add_argument("--test-notify", action="store_true",
                         help="send one test message to every notify URL and say which "
                              "worked (instead of checking anything)")
    return p


def _print(checked: Checked, as_json: bool) -> None:
    alerts, budgets, month = checked.alerts, checked.budgets, checked.month
    if as_json:
        print(json.dumps({"alerts": [a.as_dict() for a in alerts],
                          "budgets": [budget_dict(row) for _, row in budgets.iterrows()],
                          "month": outlook_dict(month.iloc[0]),
                          "deliveries": [o.as_dict() for o in checked.outcomes]}, indent=2))
        return
    if not alerts:  # (budgets, which can be used up, are said below)
        print("No alert rule fires.")
    for alert in alerts:
        print(f"{alert.severity.upper():8} {alert.message}")
    for _, row in budgets.iterrows():
        print(f"{'BUDGET':8} {budget_line(row)}")
    if not budgets.empty:
        row = month.iloc[0]
        print(f"{'MONTH':8} {money(row['spent'])} so far; {forecast_text(row)}")
    for outcome in checked.outcomes:
        print(f"{'SENT' if outcome.error is None else 'FAILED':8} {outcome.what} "
              f"{outcome.title} -> {outcome.target}")


def _warn_failures(outcomes: Sequence[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            print(f"{PROG}: warning: delivery to {outcome.target} failed ({outcome.error}); "
                  "it is retried on the next run", file=sys.stderr)


def test_notify(config: rulesfile.RulesFile) -> int:
    """One test message to each URL; one line per URL; 0 if all worked, else 1."""
    worked = True
    with reader_may_leave(sys.stdout):  # (`| head -1`: the URLs after it are not tried)
        for to in (target(url) for url in config.notify):
            error = send(to, title="[OpenClaw] Test message",
                         body="OpenClaw Telemetry can reach you here.", level="info")
            worked = worked and error is None
            print(f"{'OK' if error is None else 'FAILED':8} {to.label}"
                  + ("" if error is None else f": {error}"))
    return EXIT_OK if worked else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code (never raises for a person's mistake)."""
    try:
        args = parser().parse_args(argv)
        config = rulesfile.load(alerts_file(args.alerts))
        if (args.notify or args.test_notify) and not config.notify:
            raise ConfigError(f"no notify URLs: write notify = [\"<Apprise URL>\"] in the rules "
                              f"file or set {ENV_NOTIFY}")
        if args.test_notify:
            return test_notify(config)
        tz = zone_of(args.tz, PROG)
        engine = open_existing(args.db or default_db())
        for line in rulesfile.unknown_names(config, known_names(engine)):
            print(f"{PROG}: warning: {line}", file=sys.stderr)
        if args.notify:
            # the delivery record (m006) of a database written before it
            migrate(engine, default_gateway())
        checked = check(engine, config, now=datetime.now(UTC), tz=tz, notify=args.notify)
    except ConfigError as exc:
        return usage_error(PROG, exc)
    except (DatabaseError, SQLAlchemyError) as exc:
        return fail(PROG, str(exc), EXIT_NOINPUT)
    with reader_may_leave(sys.stdout):
        _print(checked, args.json)
    _warn_failures(checked.outcomes)
    return exit_code(checked.alerts, checked.budgets)
