"""What was notified: the delivery record (`notifications`, written by `delivery_log`).

Targets appear as their hash and Apprise's privacy label: the record holds no secret.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, case, select

from openclaw_telemetry.read.sqlkit import frame
from openclaw_telemetry.schema import notifications

N = notifications.c
COLUMNS = ["episode", "kind", "severity", "title", "target", "state", "attempts", "sent_at",
           "resolved_at", "updated_at", "error", "target_id"]


def deliveries(engine: Engine, *, until: datetime, limit: int = 500) -> pd.DataFrame:
    """The `limit` deliveries last changed before `until` (naive UTC: the record changes
    without an ingest, so a dashboard asks per minute), failed ones first, then the most
    recently changed.
    Columns: episode, kind (alert | budget), severity, title, target (the URL's privacy
    label), state (sending, sent, failed, resolving, resolved, resolve_failed), attempts,
    sent_at, resolved_at, updated_at (naive UTC; NaT when not yet), error (redacted),
    target_id (the URL's hash, `delivery_log.target_id`)."""
    failing = case((N.state.in_(("failed", "resolve_failed")), 0), else_=1)
    stmt = (select(N.episode, N.kind, N.severity, N.title, N.target_label.label("target"),
                   N.state, N.attempts, N.sent_at, N.resolved_at, N.updated_at, N.error,
                   N.target.label("target_id"))
            .where(N.updated_at < until).order_by(failing, N.updated_at.desc()).limit(limit))
    out = frame(engine, stmt, COLUMNS)
    for column in ("sent_at", "resolved_at", "updated_at"):
        out[column] = pd.to_datetime(out[column])
    return out
