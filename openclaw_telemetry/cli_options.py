"""What the commands that only read the database share: `--db` (the ingest's convention),
`--tz`, and for `session_parser.py export` / `report` the selection `--since`, `--until`,
`--gateway`, `--agent`, turned into an engine, a `Scope` and a zone.

Dates are local calendar days of `--tz` (default: env TZ, else UTC), `YYYY-MM-DD` or
`YYYYMMDD` as ccusage writes them, both ends included: `--since 2026-01-01 --until
2026-01-31` is January. A `--gateway` or `--agent` the database has never seen is a wrong
argument (a typo must not look like "no usage"); one that has no data in the range selects
nothing, which is a valid, empty answer. Mistakes raise `ConfigError` (exit code 64), a
missing or unreadable database `DatabaseError` (66).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TextIO

from sqlalchemy import Engine

from openclaw_telemetry.config import add_db_option, default_db, local_zone_name
from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.read.sqlkit import Scope
from openclaw_telemetry.read.status import option_values
from openclaw_telemetry.store import open_existing
from openclaw_telemetry.timeframe import local_midnight, zone


def add_zone_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--tz", metavar="ZONE",
                   help=f"IANA time zone {what} (default: env TZ, else UTC)")


def add_selection(p: argparse.ArgumentParser) -> None:
    """--db, --since, --until, --tz, --gateway, --agent."""
    add_db_option(p)
    p.add_argument("--since", metavar="DATE", type=_day,
                   help="from this local day on (YYYY-MM-DD or YYYYMMDD)")
    p.add_argument("--until", metavar="DATE", type=_day,
                   help="up to and including this local day (YYYY-MM-DD or YYYYMMDD)")
    add_zone_option(p, "of the days (--since, --until, and the days and months of the "
                       "figures)")
    p.add_argument("--gateway", metavar="NAME", action="append",
                   help="only this gateway (OpenClaw host); repeat for several")
    p.add_argument("--agent", metavar="NAME", action="append",
                   help="only this agent; repeat for several")


def _day(text: str) -> date:
    if re.fullmatch(r"\d{4}-?\d{2}-?\d{2}", text):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(text)
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD or YYYYMMDD)")


def zone_of(given: str | None, prog: str, err: TextIO | None = None) -> tzinfo:
    """--tz, else TZ, else UTC; an unknown --tz is a wrong argument, an unknown TZ a
    warning (the day is then UTC's)."""
    tz = zone(given or local_zone_name())
    if given and tz.key != given:
        raise ConfigError(f"--tz {given!r}: unknown time zone")
    if not given and local_zone_name() and tz.key != local_zone_name():
        print(f"{prog}: warning: TZ={local_zone_name()!r} is not a known time zone; "
              f"'today' is the {tz.key} day", file=err or sys.stderr)
    return tz


@dataclass(frozen=True, slots=True)
class Selection:
    engine: Engine
    scope: Scope
    tz: tzinfo


def selection(args: argparse.Namespace, prog: str, err: TextIO | None = None) -> Selection:
    """The database (never created or migrated here), the zone and the scope the options
    select. The caller disposes of the engine."""
    tz = zone_of(args.tz, prog, err)
    if args.since and args.until and args.since > args.until:
        raise ConfigError(f"--since {args.since} is after --until {args.until}")
    since = None if args.since is None else _midnight("--since", args.since, 0, tz)
    until = None if args.until is None else _midnight("--until", args.until, 1, tz)
    engine = open_existing(args.db or default_db())
    try:
        known = option_values(engine) if args.gateway or args.agent else []
        gateways = _checked("gateway", args.gateway, known)
        agents = _checked("agent", args.agent, known)
    except BaseException:
        engine.dispose()
        raise
    return Selection(engine, Scope(since=since, until=until, agents=agents, gateways=gateways),
                     tz)


def _midnight(option: str, day: date, days_after: int, tz: tzinfo) -> datetime:
    """The local midnight starting `day` (+ `days_after`), in UTC; a day at the ends of
    the calendar (year 1, year 9999) has none in some zones: a wrong argument."""
    try:
        return local_midnight(day + timedelta(days=days_after), tz)
    except (OverflowError, ValueError):
        raise ConfigError(f"{option} {day}: too far from today (no such moment in "
                          f"{tz})") from None


def _checked(field: str, given: list[str] | None, known: list[tuple[str, str]]
             ) -> tuple[str, ...]:
    names = [value for kind, value in known if kind == field]
    for name in given or ():
        if name not in names:
            shown = ", ".join(names[:20]) + (" …" if len(names) > 20 else "") or "none"
            raise ConfigError(f"--{field} {name!r}: no such {field} in the database "
                              f"(known: {shown})")
    return tuple(dict.fromkeys(given or ()))
