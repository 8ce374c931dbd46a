"""The rules file as a whole: alert rules, budgets, and where and how to deliver them.

`alerts.toml` (or `--alerts FILE`, `OPENCLAW_TELEMETRY_ALERTS`) holds `[[rule]]` tables
(`alerting.py`), `[[budget]]` tables (`budgets.py`) and four top-level keys: `notify`
(Apprise URLs; `OPENCLAW_TELEMETRY_NOTIFY` replaces them when set), `notify_repeat` (how
long a still-critical alert or a budget at 100 % waits before it is sent again),
`notify_min_severity` (the least severity of alert rules that is delivered; budgets
deliver at each of their `notify_at` fractions) and `dashboard_url` (where users open the
dashboard: messages link to it). The URLs carry secrets: nothing here prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from openclaw_telemetry.alerting import (
    DEFAULT_RULES,
    Rule,
    Severity,
    file_keys,
    parse_document,
    parse_window,
    read_rules_text,
    rules_from,
)
from openclaw_telemetry.budgets import Budget, budgets_from
from openclaw_telemetry.config import notify_urls
from openclaw_telemetry.errors import ConfigError, Mistakes
from openclaw_telemetry.names import JOB_ID

DEFAULT_REPEAT = timedelta(hours=4)


@dataclass(frozen=True, slots=True)
class RulesFile:
    """Everything a rules file says. `notify` are secrets: never print or store them."""

    rules: tuple[Rule, ...] = DEFAULT_RULES
    budgets: tuple[Budget, ...] = ()
    notify: tuple[str, ...] = field(default=(), repr=False)
    repeat: timedelta = DEFAULT_REPEAT
    min_severity: Severity = Severity.WARNING
    source: str | None = None
    dashboard: str | None = None  # `dashboard_url`, ending in '/'


def _dashboard(document: Mapping[str, Any], source: str) -> str | None:
    """`dashboard_url`: an http(s) address without a query, as users open the dashboard
    (behind a proxy, its public address); messages add the query that opens a page."""
    value = document.get("dashboard_url")
    if value is None:
        return None
    parts = urlsplit(value.strip()) if isinstance(value, str) else None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.netloc
            or any(c.isspace() for c in value.strip())):
        raise ConfigError(f"{source}: dashboard_url must be the address you open the "
                          "dashboard at, such as \"https://telemetry.example.com/\"")
    if parts.query or parts.fragment:
        raise ConfigError(f"{source}: dashboard_url is the dashboard's address without a "
                          "query (messages add the one that opens a session or a page)")
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/"))


def _urls(document: Mapping[str, Any], source: str) -> tuple[str, ...]:
    value = document.get("notify", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{source}: notify must be a list of Apprise URLs "
                          "(strings such as \"tgram://…\")")
    return tuple(v.strip() for v in value)


def parse(text: str, source: str, env: Mapping[str, str] | None = None) -> RulesFile:
    """A whole rules file; ConfigError naming the rule, budget or key at fault, a line
    for each one (every mistake at once, not one a run): the top-level keys first, as a
    TOML file writes them, then the tables in the file's order."""
    document = parse_document(text, source)
    mistakes = Mistakes()
    mistakes.check(file_keys, document, source, fallback=None)
    urls: tuple[str, ...] = notify_urls(env) or mistakes.check(_urls, document, source,
                                                                 fallback=())
    repeat = mistakes.check(parse_window, document.get("notify_repeat", "4h"),
                            f"{source}: notify_repeat", fallback=DEFAULT_REPEAT)
    least = mistakes.check(_least, document, source, fallback=Severity.WARNING)
    dashboard = mistakes.check(_dashboard, document, source, fallback=None)
    place = {key: number for number, key in enumerate(document)}
    rules: tuple[Rule, ...] = DEFAULT_RULES
    budgets: tuple[Budget, ...] = ()
    for key in sorted(("rule", "budget"), key=lambda k: place.get(k, len(place))):
        if key == "rule":
            rules = mistakes.check(rules_from, document, source, fallback=DEFAULT_RULES)
        else:
            budgets = mistakes.check(budgets_from, document, source, fallback=())
    mistakes.raise_any()
    return RulesFile(rules, budgets, urls, repeat, least, source, dashboard)


def _least(document: Mapping[str, Any], source: str) -> Severity:
    try:
        return Severity(str(document.get("notify_min_severity", "warning")))
    except ValueError:
        raise ConfigError(f"{source}: notify_min_severity must be info, warning or "
                          "critical") from None


def load(path: str | None, env: Mapping[str, str] | None = None) -> RulesFile:
    """The rules file at `path`; None: the built-in rules, no budgets, URLs from the env."""
    if path is None:
        return RulesFile(notify=notify_urls(env))
    text, name = read_rules_text(path)
    return parse(text, name, env)


# (not kinds: a fixed vocabulary, checked when the file is read)
_SCOPES = (("gateways", "gateway"), ("agents", "agent"), ("models", "model"),
           ("cron_jobs", "cron job"))


def unknown_names(config: RulesFile, known: Sequence[tuple[str, str]]) -> list[str]:
    """What the rules and budgets name that the database has never seen, one line each
    ("budget 'B': no cron job 'x' in the database (known: …); …"): `unknown_in` of each."""
    return [f"{what} {item.name!r}: {line}"
            for what, items in (("rule", config.rules), ("budget", config.budgets))
            for item in items for line in unknown_in(item, known)]


def unknown_in(item: Rule | Budget, known: Sequence[tuple[str, str]]) -> list[str]:
    """What one rule or budget names that the database has never seen (`known`: the
    (field, value) pairs of `read.known_names`: a cron job is known by its id or name once
    it ran or OpenClaw lists it): a typo makes a budget read $0 forever. Warnings, not
    errors: a gateway or agent may simply not have reported yet. `alerts.py` prints them,
    the Budgets page shows them under their budget."""
    seen: dict[str, list[str]] = {}
    for field_name, value in known:
        seen.setdefault(field_name, []).append(value)
    said = []
    for attribute, field_name in _SCOPES:
        for name in getattr(item, attribute, ()):  # (rules have no cron_jobs)
            values = seen.get(field_name, [])
            ids = seen.get(JOB_ID, []) if field_name == "cron job" else []
            if name in values or name in ids:
                continue
            # a job's name, not its id (a UUID): ten of those were a phone screen
            listed = values or ids
            shown = ", ".join(listed[:10]) + (" …" if len(listed) > 10 else "")
            also = ", or a job's id" if values and ids else ""
            said.append(f"no {field_name} {name!r} in the database (known: "
                        f"{shown or 'none'}{also}); it counts nothing until the database "
                        "holds one")
    return said
