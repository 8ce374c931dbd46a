"""Budgets as data: `[[budget]]` tables of the rules file, their periods and thresholds.

A budget is an amount of US dollars per calendar period (`day`, `week` from Monday,
`month` from `month_start_day`) in the configured time zone, over the calls its filters
select (agents, call models, session kinds, cron jobs by id or name, gateways). It notifies
when the spend of the current period reaches each fraction of `notify_at` (default 50 / 80
/ 100 %): a fraction under 0.8 is info, under 1.0 warning, 1.0 and over critical. Pure: no database;
the read layer (`read/budgets.py`) measures the spend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from openclaw_telemetry.alerting import (
    Severity,
    gateways,
    kinds,
    named_tables,
    strings,
    table_head,
)
from openclaw_telemetry.errors import ConfigError, Mistakes


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


DEFAULT_NOTIFY_AT = (0.5, 0.8, 1.0)
_KEYS = {"name", "period", "amount", "notify_at", "agents", "models", "kinds", "cron_jobs",
         "gateway", "month_start_day", "description", "enabled"}


def severity_of(fraction: float) -> Severity:
    """The severity of reaching `fraction` of a budget: < 0.8 info, < 1 warning, else critical."""
    if fraction >= 1.0:
        return Severity.CRITICAL
    return Severity.WARNING if fraction >= 0.8 else Severity.INFO


def _month(day: date, start_day: int, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, start_day)


def period_days(period: Period, today: date, month_start_day: int = 1) -> tuple[date, date]:
    """The local days `[first, next)` of the period holding `today`."""
    if period is Period.DAY:
        return today, today + timedelta(days=1)
    if period is Period.WEEK:
        first = today - timedelta(days=today.weekday())
        return first, first + timedelta(days=7)
    first = _month(today, month_start_day, 0 if today.day >= month_start_day else 1)
    return first, _month(first, month_start_day, -1)


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget. `notify_at` is sorted and unique; `cron_jobs` match a job's id or name."""

    name: str
    period: Period
    amount: float
    notify_at: tuple[float, ...] = DEFAULT_NOTIFY_AT
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    cron_jobs: tuple[str, ...] = ()
    month_start_day: int = 1
    description: str = ""
    gateways: tuple[str, ...] = ()

    def days(self, now: datetime, tz: tzinfo) -> tuple[date, date]:
        """The local days `[first, next)` of the period holding `now` (aware)."""
        return period_days(self.period, now.astimezone(tz).date(), self.month_start_day)

    def reached(self, fraction: float) -> float | None:
        """The highest `notify_at` fraction that `fraction` of the amount has reached."""
        return max((f for f in self.notify_at if fraction >= f), default=None)


def _number(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ConfigError(f"{where}: {key} must be a number over 0, not {value!r}")
    return float(value)


def _fractions(raw: Mapping[str, Any], where: str) -> tuple[float, ...]:
    value = raw.get("notify_at", list(DEFAULT_NOTIFY_AT))
    if (not isinstance(value, list) or not value
            or any(isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 10
                   for v in value)):
        raise ConfigError(f"{where}: notify_at must be a list of fractions over 0 such as "
                          f"[0.5, 0.8, 1.0], not {value!r}")
    return tuple(sorted({float(v) for v in value}))


def _start_day(raw: Mapping[str, Any], where: str, period: Period) -> int:
    value = raw.get("month_start_day", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 28:
        raise ConfigError(f"{where}: month_start_day must be a day from 1 to 28, not {value!r}")
    if value != 1 and period is not Period.MONTH:
        raise ConfigError(f"{where}: month_start_day applies to period = 'month' only")
    return value


def _period(raw: Mapping[str, Any], where: str) -> Period:
    try:
        return Period(str(raw.get("period", "month")))
    except ValueError:
        raise ConfigError(f"{where}: period must be one of day, week, month, not "
                          f"{raw.get('period')!r}") from None


def parse_budget(raw: object, where: str) -> Budget | None:
    """One `[[budget]]` table -> Budget (None when `enabled = false`, checked all the
    same); ConfigError naming the budget and each field at fault, a line each."""
    mistakes = Mistakes()
    raw, name, where, enabled = table_head(raw, where, _KEYS, mistakes)
    period = mistakes.check(_period, raw, where, fallback=Period.MONTH)
    budget = Budget(name, period, mistakes.check(_number, raw, "amount", where, fallback=1.0),
                    mistakes.check(_fractions, raw, where, fallback=DEFAULT_NOTIFY_AT),
                    mistakes.check(strings, raw, "agents", where, fallback=()),
                    mistakes.check(strings, raw, "models", where, fallback=()),
                    mistakes.check(kinds, raw, where, fallback=()),
                    mistakes.check(strings, raw, "cron_jobs", where, fallback=()),
                    mistakes.check(_start_day, raw, where, period, fallback=1),
                    str(raw.get("description", "")),
                    mistakes.check(gateways, raw, where, fallback=()))
    mistakes.raise_any()
    return budget if enabled else None


def budgets_from(document: Mapping[str, Any], source: str) -> tuple[Budget, ...]:
    """The `[[budget]]` tables of a parsed rules file (none: no budgets)."""
    tables = document.get("budget", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: budgets are written as [[budget]] tables")
    return named_tables(tables, parse_budget, source, "budget", "budgets")
