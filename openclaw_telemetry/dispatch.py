"""From what fires to what is delivered: events, claims, sends, retries, resolutions.

`check` evaluates a rules file now (alerts, budgets, the month's outlook) and, when asked,
`deliver`s: to each target, each firing episode once (`delivery_log` claims make that hold
across runners), a still-critical one again after `repeat`, every failed delivery again
(same text: nothing is lost), and a "resolved" message once an alert episode of one of
its rules no longer fires (another runner's rules are left to it). An alert that only
changed severity is superseded silently: its new severity is the message. A budget
notifies once per period at the highest `notify_at` fraction reached. More than
`DIGEST_AFTER` messages due to one target at once go as one digest. Sending never raises:
failures are outcomes, with the reason redacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import pandas as pd
from sqlalchemy import Engine

from openclaw_telemetry import delivery_log as log
from openclaw_telemetry.alert_check import active_alerts
from openclaw_telemetry.alerting import SESSION_METRICS, Alert, Severity
from openclaw_telemetry.budget_report import budget_line, budget_title
from openclaw_telemetry.delivery_log import Event
from openclaw_telemetry.links import ALERTS_PAGE, BUDGETS_PAGE, page_query, session_query
from openclaw_telemetry.notify import Target, send, target
from openclaw_telemetry.read import Scope, budget_status, spend_outlook
from openclaw_telemetry.rulesfile import RulesFile
from openclaw_telemetry.timeframe import to_utc

PREFIX = "[OpenClaw]"
# More messages than this due to one URL at once (a loose rule over many sessions) are one
# message, listing the first DIGEST_LISTED: a chat is not flooded, nor rate limited.
DIGEST_AFTER = 5
DIGEST_LISTED = 12
_LEVELS = ("critical", "warning", "info", "resolved")  # a digest's, highest first


@dataclass(frozen=True, slots=True)
class Outcome:
    """One delivery attempt: `what` is new, repeat, retry or resolved; `error` redacted."""

    target: str  # the target's label
    episode: str
    title: str
    what: str
    error: str | None

    def as_dict(self) -> dict[str, str | bool | None]:
        return {"target": self.target, "episode": self.episode, "title": self.title,
                "what": self.what, "ok": self.error is None, "error": self.error}


@dataclass(frozen=True, slots=True)
class Checked:
    alerts: list[Alert]
    budgets: pd.DataFrame
    month: pd.DataFrame
    outcomes: list[Outcome]


def alert_events(alerts: Sequence[Alert], least: Severity,
                 dashboard: str | None = None) -> list[Event]:
    return [Event(f"alert|{a.rule}|{a.key}|{a.severity}", "alert", str(a.severity),
                  f"{PREFIX} {a.severity.upper()}: {a.rule}", _body(a, dashboard))
            for a in alerts if a.severity.rank >= least.rank]


def _body(alert: Alert, dashboard: str | None) -> str:
    """The message, and for a session its id: sessions of one key (a chat reset with /new)
    share its name, and the id is what the dashboard's session page opens. With the
    dashboard's address, a link: to the session, else to the Alerts page."""
    if alert.metric not in SESSION_METRICS:
        return _linked(alert.message, dashboard, ALERTS_PAGE)
    text = f"{alert.message}\nSession id: {alert.subject}"
    if dashboard is None:
        return text
    return f"{text}\nOpen: {dashboard}?{session_query(alert.subject, alert.gateway or None)}"


def _linked(text: str, dashboard: str | None, page: str) -> str:
    """The text and, with the dashboard's address, a link to one of its pages."""
    return text if dashboard is None else f"{text}\nOpen: {dashboard}?{page_query(page)}"


def budget_events(budgets: pd.DataFrame, dashboard: str | None = None) -> list[Event]:
    events = []
    for _, row in budgets[budgets["severity"] != ""].iterrows():
        start = pd.Timestamp(row["start"]).date().isoformat()
        events.append(Event(f"budget|{row['budget']}|{start}|{row['reached']:g}", "budget",
                            str(row["severity"]),
                            f"{PREFIX} {budget_title(row)}",
                            _linked(budget_line(row), dashboard, BUDGETS_PAGE)))
    return events


@dataclass(frozen=True, slots=True)
class _Due:
    """A message claimed for a target (`delivery_log`), to be sent: `what` as `Outcome`'s."""

    event: Event
    what: str
    resolving: bool = False

    @property
    def level(self) -> str:
        return "resolved" if self.resolving else self.event.severity


def _send(engine: Engine, to: Target, due: Sequence[_Due], now: datetime,
          dashboard: str | None) -> list[Outcome]:
    """Send what is due to a target: each message on its own, or more than `DIGEST_AFTER`
    as one digest; every episode's outcome is recorded as its own."""
    if len(due) <= DIGEST_AFTER:
        return [_finish(engine, to, one, now, send(to, title=one.event.title,
                                                   body=one.event.body, level=one.level))
                for one in due]
    title, body, level = _digest(due, dashboard)
    error = send(to, title=title, body=body, level=level)
    return [_finish(engine, to, one, now, error) for one in due]


def _digest(due: Sequence[_Due], dashboard: str | None) -> tuple[str, str, str]:
    """(title, body, level) of one message for many: counted by level in the title, the
    highest its level; each message a bullet (its title, then its text indented), the
    first `DIGEST_LISTED`, then how many more and, with the dashboard's address, a link to
    its Alerts page."""
    levels = [one.level for one in due]
    counts = ", ".join(f"{levels.count(level)} {level}" for level in _LEVELS
                       if level in levels)
    noun = "alerts" if all(one.event.kind == "alert" for one in due) else "notifications"
    items = [f"• {one.event.title.removeprefix(PREFIX).strip()}\n  "
             + one.event.body.replace("\n", "\n  ") for one in due[:DIGEST_LISTED]]
    if len(due) > DIGEST_LISTED:
        items.append(_linked(f"… and {len(due) - DIGEST_LISTED} more", dashboard,
                             ALERTS_PAGE))
    level = min(levels, key=_LEVELS.index)
    return f"{PREFIX} {len(due)} {noun}: {counts}", "\n".join(items), level


def _finish(engine: Engine, to: Target, due: _Due, now: datetime,
            error: str | None) -> Outcome:
    log.finish(engine, due.event.episode, to.id, now, error=error, resolving=due.resolving)
    return Outcome(to.label, due.event.episode, due.event.title, due.what, error)


def _fire(engine: Engine, to: Target, event: Event, repeat: timedelta,
          now: datetime) -> _Due | None:
    """Claim a firing episode if it is new, fires again, or is critical and due a repeat."""
    if log.claim_new(engine, event, to.id, to.label, now):
        return _Due(event, "new")
    if log.claim(engine, event.episode, to.id, now, states=("resolved",), resolved_at=None,
                 title=event.title, body=event.body, severity=event.severity):
        return _Due(event, "new")
    if event.severity == "critical" and log.claim(engine, event.episode, to.id, now,
                                                  states=("sent",), before=now - repeat):
        again = Event(event.episode, event.kind, event.severity,
                      f"{event.title} (still firing)", event.body)
        return _Due(again, "repeat")
    log.claim(engine, event.episode, to.id, now, states=("resolve_failed",), to="sent")
    return None


def _retry(engine: Engine, to: Target, now: datetime) -> list[_Due]:
    out = []
    for row in log.rows(engine, to.id, ("failed", "sending")):
        event = Event(row.episode, row.kind, row.severity, row.title, row.body)
        if log.claim(engine, row.episode, to.id, now, states=("failed", "sending")):
            out.append(_Due(event, "retry"))
    return out


def _resolve(engine: Engine, to: Target, firing: set[str], rules: Sequence[str],
             now: datetime) -> list[_Due]:
    """Claim the alert episodes of this target that no longer fire, to say so. Only those
    of `rules` (this runner's): another runner's rules (cron and `--watch --alerts` with
    other files, or an edited file) are its to resolve, not gone."""
    out = []
    subjects = {episode.rsplit("|", 1)[0] for episode in firing}
    ours = tuple(f"alert|{name}|" for name in rules)
    for row in log.rows(engine, to.id, ("sent", "resolve_failed")):
        if row.kind != "alert" or row.episode in firing or not row.episode.startswith(ours):
            continue
        if row.episode.rsplit("|", 1)[0] in subjects:  # same alert, other severity now
            log.claim(engine, row.episode, to.id, now, states=("sent", "resolve_failed"),
                      to="resolved")
            continue
        if log.claim(engine, row.episode, to.id, now, to="resolving",
                     states=("sent", "resolve_failed")):
            event = Event(row.episode, row.kind, "resolved",
                          f"{PREFIX} Resolved: {row.title.removeprefix(PREFIX).strip()}",
                          f"No longer firing: {row.body}")
            out.append(_Due(event, "resolved", resolving=True))
    return out


def deliver(engine: Engine, config: RulesFile, events: Sequence[Event],
            now: datetime) -> list[Outcome]:
    """Deliver `events` (all that fire now) to every configured target; see the module."""
    moment = to_utc(now)
    outcomes: list[Outcome] = []
    for to in (target(url) for url in config.notify):
        due = _retry(engine, to, moment)  # first: what fails now waits for next time
        for event in events:
            fired = _fire(engine, to, event, config.repeat, moment)
            due += [fired] if fired else []
        due += _resolve(engine, to, {e.episode for e in events},
                        [rule.name for rule in config.rules], moment)
        outcomes += _send(engine, to, due, moment, config.dashboard)
    return outcomes


def check(engine: Engine, config: RulesFile, *, now: datetime, tz: tzinfo,
          notify: bool) -> Checked:
    """Evaluate the rules file at `now` (aware); deliver what fires when `notify`."""
    alerts = active_alerts(engine, config.rules, now=now, tz=tz)
    budgets = budget_status(engine, budgets=config.budgets, now=now, tz=tz)
    month = spend_outlook(engine, scope=Scope(), tz=tz, now=now)
    outcomes: list[Outcome] = []
    if notify:
        events = (alert_events(alerts, config.min_severity, config.dashboard)
                  + budget_events(budgets, config.dashboard))
        outcomes = deliver(engine, config, events, now)
    return Checked(alerts, budgets, month, outcomes)
