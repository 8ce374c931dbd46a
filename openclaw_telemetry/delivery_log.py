"""The `notifications` table: who may send what, and what was sent.

Every send is preceded by a *claim*, one statement in its own transaction whose returned
row says whether this runner won (RETURNING: psycopg's row count of an `ON CONFLICT DO
NOTHING` insert is not to be relied on): an `INSERT … ON CONFLICT DO NOTHING` of a new (episode,
target) row, or an `UPDATE … WHERE state = <expected>` of an existing one. The database
serialises the claims, so of two runners (cron and --watch, two hosts on PostgreSQL) only
one sends. A claim left in `sending` by a runner that died is taken over after `STALE`.
The row keeps the message, so a failed delivery is retried with the same text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openclaw_telemetry.schema import notifications

N = notifications.c
STALE = timedelta(minutes=2)


def target_id(url: str) -> str:
    """How the record keys an Apprise URL: a hash, never the URL (it holds secrets)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Event:
    """Something to notify: `episode` names it for good (see schema.notifications)."""

    episode: str
    kind: str  # alert | budget
    severity: str
    title: str
    body: str


def claim_new(engine: Engine, event: Event, target: str, label: str, now: datetime) -> bool:
    """Create the row of an episode never seen for this target; True if this runner did."""
    values = {"episode": event.episode, "target": target, "target_label": label,
              "kind": event.kind, "severity": event.severity, "title": event.title,
              "body": event.body, "state": "sending", "attempts": 0, "claimed_at": now,
              "updated_at": now}
    maker = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with engine.begin() as conn:
        return conn.execute(maker(notifications).values(**values).on_conflict_do_nothing()
                            .returning(N.episode)).first() is not None


def claim(engine: Engine, episode: str, target: str, now: datetime, *, states: Sequence[str],
          to: str = "sending", before: datetime | None = None, **values: Any) -> bool:
    """Move a row from one of `states` to `to` (sent before `before`, when given); True if
    this runner did. `sending` matches only claims older than `STALE` (a runner that
    died). `values` update the row's other columns (a new message)."""
    settled = N.state.in_([s for s in states if s != "sending"])
    stale = and_(N.state == "sending", N.claimed_at < now - STALE)
    condition = or_(settled, stale) if "sending" in states else settled
    conditions = [N.episode == episode, N.target == target, condition]
    if before is not None:
        conditions.append(N.sent_at < before)
    with engine.begin() as conn:
        return conn.execute(update(notifications).where(*conditions).values(
            state=to, claimed_at=now, updated_at=now, **values)
            .returning(N.episode)).first() is not None


def finish(engine: Engine, episode: str, target: str, now: datetime, *, error: str | None,
           resolving: bool = False) -> None:
    """Record the outcome of a claimed send (`error` is already redacted)."""
    if resolving:
        values: dict[str, Any] = ({"state": "resolved", "resolved_at": now} if error is None
                                  else {"state": "resolve_failed"})
    else:
        values = {"state": "sent", "sent_at": now} if error is None else {"state": "failed"}
    with engine.begin() as conn:
        conn.execute(update(notifications).where(N.episode == episode, N.target == target)
                     .values(attempts=N.attempts + 1, error=error, updated_at=now, **values))


def rows(engine: Engine, target: str, states: Sequence[str]) -> list[Any]:
    """The rows of a target in those states: episode, kind, severity, title, body, state."""
    stmt = (select(N.episode, N.kind, N.severity, N.title, N.body, N.state)
            .where(N.target == target, N.state.in_(states)).order_by(N.updated_at))
    with engine.connect() as conn:
        return list(conn.execute(stmt))
