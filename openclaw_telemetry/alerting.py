"""Alert rules as data, loaded from TOML and validated; pure evaluation -> list[Alert].

A rule watches one metric, over a window, with optional agent / model / kind / gateway
filters, and has a threshold per severity (info < warning < critical). A value fires the
highest severity whose threshold it is strictly over. Evaluation takes the observations the
query layer produced (`subject, label, at, value, calls` rows) and never touches a
database, so every boundary can be tested with a literal DataFrame.

Metrics: `session_cost` ($ of one session's calls in the window), `session_tokens`,
`daily_cost` ($ per local calendar day; window "1d" = today), `cost` ($ in the window) and
`error_rate` (failed calls / calls in the window, only with at least `min_calls` calls).
A session alert of a database with several gateways names the session's gateway: session
ids are unique per gateway only.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from openclaw_telemetry.config import checked_gateway
from openclaw_telemetry.errors import ConfigError, Mistakes
from openclaw_telemetry.model import SESSION_KINDS
from openclaw_telemetry.timeframe import local_midnight, to_utc
from openclaw_telemetry.ui import format as fmt


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {severity: rank for rank, severity in enumerate(Severity)}
BY_RANK = tuple(Severity)  # a severity by its rank


class Metric(StrEnum):
    SESSION_COST = "session_cost"
    SESSION_TOKENS = "session_tokens"
    DAILY_COST = "daily_cost"
    COST = "cost"
    ERROR_RATE = "error_rate"


SESSION_METRICS = (Metric.SESSION_COST, Metric.SESSION_TOKENS)  # subject: a session id
METRIC_NAMES = {Metric.SESSION_COST: "Session cost", Metric.SESSION_TOKENS: "Session tokens",
                Metric.DAILY_COST: "Daily cost", Metric.COST: "Cost",
                Metric.ERROR_RATE: "Error rate"}  # as users read them
_UNITS = {Metric.SESSION_COST: "$", Metric.DAILY_COST: "$", Metric.COST: "$",
          Metric.SESSION_TOKENS: "tokens", Metric.ERROR_RATE: "%"}
_RULE_KEYS = {"name", "metric", "window", "info", "warning", "critical", "agents", "models",
              "kinds", "gateway", "min_calls", "description", "enabled"}
_WINDOW = re.compile(r"^\s*(\d+)\s*(m|min|h|d)\s*$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One alert rule. `thresholds` maps severities to the value they must exceed."""

    name: str
    metric: Metric
    thresholds: tuple[tuple[Severity, float], ...]
    window: timedelta = timedelta(hours=24)
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    min_calls: int = 0
    description: str = ""
    gateways: tuple[str, ...] = ()

    def severities(self, values: pd.Series) -> list[tuple[Severity, float] | None]:
        """Per value: the highest severity whose threshold it is strictly over, and that
        threshold (None: under every threshold)."""
        # highest severity first; a stable sort: of equal ones, the first listed wins
        ranked = sorted(self.thresholds, key=lambda pair: -pair[0].rank)
        pick = np.full(len(values), -1)
        for i in reversed(range(len(ranked))):
            pick[values.to_numpy() > ranked[i][1]] = i
        return [None if i < 0 else ranked[i] for i in pick]

    def lowest(self) -> float:
        return min(t for _, t in self.thresholds)

    def since(self, now: datetime, tz: tzinfo) -> datetime:
        """Start (naive UTC) of the window ending at `now` (aware); days are local days."""
        if self.metric is Metric.DAILY_COST:
            days = max(1, round(self.window / timedelta(days=1)))
            today: date = now.astimezone(tz).date()
            return local_midnight(today - timedelta(days=days - 1), tz)
        return to_utc(now - self.window)


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule that fired on one subject (a session, a day or the whole window) at `at`
    (naive UTC). `gateway` is the session's gateway when the database holds several (''
    otherwise); `counted` the gateways its rule counts (its `gateway` filter; () for
    every gateway), which an alert of no one session names instead."""

    rule: str
    metric: Metric
    severity: Severity
    subject: str
    label: str
    value: float
    threshold: float
    at: datetime
    gateway: str = ""
    span: str = ""  # a session alert's window ('24 h'): its value counts the calls in it
    counted: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The subject, told apart from the same session id of another gateway."""
        return f"{self.subject}@{self.gateway}" if self.gateway else self.subject

    @property
    def message(self) -> str:
        named = (self.gateway,) if self.gateway else self.counted
        where = f" (gateway{'s' * (len(named) > 1)} {', '.join(named)})" if named else ""
        span = f" in the last {self.span}" if self.span else ""
        return (f"{self.rule}: {self.label}{where} at {format_value(self.metric, self.value)}"
                f"{span} (over {format_value(self.metric, self.threshold)})")

    def __reduce__(self) -> tuple[type[Alert], tuple[Any, ...]]:
        """Pickled as its fields, in order: the dashboards cache lists of tens of thousands,
        and the dataclass default (a state dict per alert) takes twice as long."""
        return Alert, _FIELDS(self)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "metric": str(self.metric), "severity": str(self.severity),
                "subject": self.subject, "gateway": self.gateway or None,
                "gateways": list(self.counted) or None, "label": self.label,
                "value": self.value, "threshold": self.threshold,
                "at": self.at.replace(tzinfo=UTC).isoformat(),  # (naive UTC, as stored)
                "message": self.message}


_FIELDS = attrgetter(*Alert.__slots__)


def format_value(metric: Metric, value: float) -> str:
    """A rule's value or threshold as every output shows it (the dashboards' formatters)."""
    unit = _UNITS[metric]
    if unit == "$":
        return fmt.money(value)
    if unit == "%":
        return fmt.percent(value)
    return f"{fmt.count(value)} tokens"


def fired(rule: Rule, observations: pd.DataFrame) -> pd.DataFrame:
    """The observations (columns subject, label, at, value, calls) over a threshold of the
    rule, as columns subject, label, at, value, rank (of its `Severity`: `BY_RANK`) and
    threshold, in the order its alerts are listed: most severe first, then the highest
    value."""
    rows = observations[observations["value"].astype(float) > rule.lowest()]
    if rule.metric is Metric.ERROR_RATE:
        rows = rows[rows["calls"] >= rule.min_calls]
    values = rows["value"].astype(float)
    picks = rule.severities(values)
    out = pd.DataFrame({
        "subject": [str(v) for v in rows["subject"].tolist()],
        "label": [str(v) for v in rows["label"].tolist()],
        "at": pd.to_datetime(rows["at"]).to_numpy(), "value": values.to_numpy(),
        "rank": np.array([-1 if p is None else p[0].rank for p in picks], dtype=np.int64),
        "threshold": np.array([math.nan if p is None else p[1] for p in picks], dtype=float)})
    return (out[out["rank"] >= 0].sort_values(["rank", "value"], ascending=False,
                                              kind="stable").reset_index(drop=True))


def as_alerts(rule: Rule, rows: pd.DataFrame, gateway: str = "") -> list[Alert]:
    """`fired` rows as alerts; `gateway` names the gateway of all of them (see `Alert`)."""
    times = pd.to_datetime(rows["at"]).dt.to_pydatetime()
    # a session's calls in the window, which is not the session's cost (`report session`)
    span = fmt.duration(rule.window.total_seconds()) if rule.metric in SESSION_METRICS else ""
    return [Alert(rule.name, rule.metric, severity, subject, label, value, threshold, at,
                  gateway, span, rule.gateways)
            for subject, label, value, at, severity, threshold in zip(
                rows["subject"].tolist(), rows["label"].tolist(), rows["value"].tolist(),
                times, [BY_RANK[rank] for rank in rows["rank"].tolist()],
                rows["threshold"].tolist(), strict=True)]


def evaluate(rule: Rule, observations: pd.DataFrame, gateway: str = "") -> list[Alert]:
    """Alerts of one rule over observations with columns subject, label, at, value, calls;
    `gateway` names the gateway of all of them (see `Alert`)."""
    return as_alerts(rule, fired(rule, observations), gateway)


def worst(alerts: Sequence[Alert]) -> Severity | None:
    return max((a.severity for a in alerts), key=lambda s: s.rank, default=None)


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("Expensive session", Metric.SESSION_COST,
         ((Severity.WARNING, 1.0), (Severity.CRITICAL, 5.0)), timedelta(hours=24),
         description="a session's calls in the last 24 h cost over $1"),
    Rule("Token-heavy session", Metric.SESSION_TOKENS,
         ((Severity.INFO, 100_000.0), (Severity.WARNING, 1_000_000.0),
          (Severity.CRITICAL, 5_000_000.0)), timedelta(hours=24),
         description="a session used over 100k tokens (cache reads included) in 24 h"),
    Rule("Daily spend", Metric.DAILY_COST,
         ((Severity.WARNING, 10.0), (Severity.CRITICAL, 25.0)), timedelta(days=1),
         description="today's cost (since local midnight) is over $10"),
    Rule("Error rate", Metric.ERROR_RATE,
         ((Severity.INFO, 0.05), (Severity.WARNING, 0.10), (Severity.CRITICAL, 0.25)),
         timedelta(hours=1), min_calls=10,
         description="over 5% of the LLM calls of the last hour failed (at least 10 calls)"),
)


def parse_window(text: object, where: str) -> timedelta:
    match = _WINDOW.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"{where}: window must look like '15m', '1h' or '7d', not {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ConfigError(f"{where}: window must be longer than zero")
    return {"m": timedelta(minutes=amount), "min": timedelta(minutes=amount),
            "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


def strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def kinds(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """The `kinds` filter of a rule or budget: session kinds as stored (a fixed list, so a
    kind that is not one of them is a mistake, not a kind not seen yet)."""
    names = strings(raw, "kinds", where)
    for name in names:
        if name not in SESSION_KINDS:
            raise ConfigError(f"{where}: kinds: {name!r} is not a session kind "
                              f"({', '.join(SESSION_KINDS)})")
    return names


def gateways(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """The `gateway` filter of a rule or budget: one gateway name or a list of them (as
    `--gateway` names them); () when absent."""
    if "gateway" not in raw:
        return ()
    value = raw["gateway"]
    names = [value] if isinstance(value, str) else value
    if (not isinstance(names, list) or not names
            or not all(isinstance(name, str) for name in names)):
        raise ConfigError(f"{where}: gateway must be a gateway's name or a list of names "
                          f"(leave it out for every gateway), not {value!r}")
    try:
        return tuple(dict.fromkeys(checked_gateway(name) for name in names))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _thresholds(raw: Mapping[str, Any], where: str) -> tuple[tuple[Severity, float], ...]:
    pairs = []
    for severity in Severity:
        if severity.value in raw:
            value = raw[severity.value]
            if (isinstance(value, bool) or not isinstance(value, int | float)
                    or not 0 <= value < math.inf):  # (NaN fails it too)
                raise ConfigError(f"{where}: {severity} must be a number of 0 or more, "
                                  f"not {value!r}")
            pairs.append((severity, float(value)))
    if not pairs:
        raise ConfigError(f"{where}: give at least one threshold: info, warning or critical")
    values = [v for _, v in pairs]
    if values != sorted(values) or len(set(values)) != len(values):
        raise ConfigError(f"{where}: thresholds must increase from info to warning to critical")
    return tuple(pairs)


def _name(raw: Mapping[str, Any], where: str) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name is required")
    return name.strip()


def _enabled(raw: Mapping[str, Any], where: str) -> bool:
    value = raw.get("enabled", True)  # (the string "false" would read as on)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: enabled must be true or false, not {value!r}")
    return value


def table_head(raw: object, where: str, keys: Collection[str],
               mistakes: Mistakes) -> tuple[Mapping[str, Any], str, str, bool]:
    """What a rule or budget table begins with: the table, its `name` (required), the
    `where` that names it in messages, and `enabled` (true, the default, or false); its keys
    must be `keys`. Mistakes go to `mistakes`; ConfigError when it is no table at all."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    name = mistakes.check(_name, raw, where, fallback="")
    where = f"{where} ({name})" if name else where
    mistakes.check(known_keys, raw, keys, where, fallback=None)
    return raw, name, where, mistakes.check(_enabled, raw, where, fallback=False)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


Named = TypeVar("Named", bound=_Named)


def named_tables(tables: Sequence[object], parse: Callable[[object, str], Named | None],
                 source: str, label: str, plural: str) -> tuple[Named, ...]:
    """Each table parsed (`parse(table, "<source>: <label> <n>")`, None: switched off),
    every table's mistakes and a name two of them share told at once."""
    mistakes = Mistakes()
    parsed = [mistakes.check(parse, raw, f"{source}: {label} {number}", fallback=None)
              for number, raw in enumerate(tables, 1)]
    kept = [item for item in parsed if item is not None]
    names = [item.name for item in kept]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate:
        mistakes.found.append(f"{source}: two {plural} are named {duplicate!r}")
    mistakes.raise_any()
    return tuple(kept)


def known_keys(raw: Mapping[str, Any], keys: Collection[str], where: str,
               what: str = "key") -> None:
    """ConfigError naming every key of a table that is not one of `keys`."""
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"{where}: unknown {what}{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))} (known: {', '.join(sorted(keys))})")


def _metric(raw: Mapping[str, Any], where: str) -> Metric:
    try:
        return Metric(str(raw.get("metric")))
    except ValueError:
        raise ConfigError(f"{where}: metric must be one of "
                          f"{', '.join(m.value for m in Metric)}") from None


def _min_calls(raw: Mapping[str, Any], metric: Metric, where: str) -> int:
    min_calls = raw.get("min_calls", 10 if metric is Metric.ERROR_RATE else 0)
    if isinstance(min_calls, bool) or not isinstance(min_calls, int) or min_calls < 0:
        raise ConfigError(f"{where}: min_calls must be a whole number of 0 or more")
    return min_calls


def parse_rule(raw: object, where: str) -> Rule | None:
    """One `[[rule]]` table -> Rule, None when `enabled = false` (checked all the same: a
    rule switched on later holds no old mistake); ConfigError naming each field at fault,
    a line each."""
    mistakes = Mistakes()
    raw, name, where, enabled = table_head(raw, where, _RULE_KEYS, mistakes)
    metric = mistakes.check(_metric, raw, where, fallback=Metric.COST)
    default_window = "1d" if metric is Metric.DAILY_COST else "24h"
    rule = Rule(name, metric, mistakes.check(_thresholds, raw, where, fallback=()),
                mistakes.check(parse_window, raw.get("window", default_window), where,
                               fallback=timedelta(hours=24)),
                mistakes.check(strings, raw, "agents", where, fallback=()),
                mistakes.check(strings, raw, "models", where, fallback=()),
                mistakes.check(kinds, raw, where, fallback=()),
                mistakes.check(_min_calls, raw, metric, where, fallback=0),
                str(raw.get("description", "")),
                mistakes.check(gateways, raw, where, fallback=()))
    mistakes.raise_any()
    return rule if enabled else None


# The top-level keys of a rules file: alert rules, budgets (`budgets.py`) and where and how
# often to deliver (`rulesfile.py`).
FILE_KEYS = ("rule", "budget", "notify", "notify_repeat", "notify_min_severity",
             "dashboard_url")


def parse_document(text: str, source: str) -> dict[str, Any]:
    """A rules file's TOML -> its tables; ConfigError for bad TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def file_keys(document: Mapping[str, Any], source: str) -> None:
    """ConfigError naming the top-level keys of a rules file that it has none of."""
    known_keys(document, FILE_KEYS, source, "top-level key")


def rules_from(document: Mapping[str, Any], source: str) -> tuple[Rule, ...]:
    """The `[[rule]]` tables of a parsed rules file. None at all means the default rules,
    as every key left out has its default; `rule = []` says "no alert rules" (a file of
    budgets only)."""
    if "rule" not in document:
        return DEFAULT_RULES
    tables = document["rule"]
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: rules are written as [[rule]] tables (or rule = [] "
                          "for none)")
    return named_tables(tables, parse_rule, source, "rule", "rules")


def parse_rules(text: str, source: str = "alerts.toml") -> tuple[Rule, ...]:
    """A whole TOML document -> rules. No `[[rule]]` table means the default rules;
    `rule = []` none."""
    document = parse_document(text, source)
    mistakes = Mistakes()
    mistakes.check(file_keys, document, source, fallback=None)
    rules = mistakes.check(rules_from, document, source, fallback=DEFAULT_RULES)
    mistakes.raise_any()
    return rules


def read_rules_text(path: str | Path) -> tuple[str, str]:
    """(text, name) of a rules file; ConfigError when it is missing or unreadable."""
    file = Path(path).expanduser()
    try:
        return file.read_text(encoding="utf-8"), str(file)
    except FileNotFoundError:
        raise ConfigError(f"{file}: alert rules file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read ({exc})") from None


def load_rules(path: str | Path | None) -> tuple[Rule, ...]:
    """Rules from a TOML file; the defaults when `path` is None. ConfigError otherwise."""
    if path is None:
        return DEFAULT_RULES
    return parse_rules(*read_rules_text(path))
