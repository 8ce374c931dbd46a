"""The `usage_quarter_hours` roll-up: calls summed per 15-minute UTC bucket.

A bucket row is, by definition, the GROUP BY of the calls (`messages`, with the owning
session's kind) whose timestamp falls in that bucket. `refresh` re-derives whole buckets
(DELETE, then INSERT ... SELECT ... GROUP BY over the calls of those buckets), so it is
idempotent and exact whatever changed inside them: new calls, a call that changed owner
or timestamp, a session whose kind changed, a dropped call. The ingest calls it for every
bucket it may have changed, in the transaction that changed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Insert,
    String,
    and_,
    case,
    delete,
    extract,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)

from openclaw_telemetry.measures import M, S, call_dimensions, call_measures
from openclaw_telemetry.schema import messages, sessions, usage_quarter_hours

QUARTER = timedelta(minutes=15)
U = usage_quarter_hours.c


def floor(moment: datetime) -> datetime:
    """Start of the 15-minute UTC bucket holding a naive-UTC moment."""
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def ceil(moment: datetime) -> datetime:
    start = floor(moment)
    return start if start == moment else start + QUARTER


def bucket_of(dialect: str, column: Any) -> ColumnElement[datetime]:
    """SQL: the bucket start of a naive-UTC timestamp column (same storage as DateTime)."""
    if dialect == "postgresql":
        quarters = func.floor(extract("minute", column) / 15) * 15
        return type_coerce(func.date_trunc("hour", column)
                           + quarters * literal_column("INTERVAL '1 minute'"), DateTime)
    minute = func.substr(column, 15, 2)  # 'YYYY-MM-DD HH:MM:SS.ffffff', as SQLAlchemy stores
    quarter = case((minute < "15", "00"), (minute < "30", "15"), (minute < "45", "30"),
                   else_="45")
    text = (func.substr(column, 1, 14).op("||")(quarter)
            .op("||")(literal(":00.000000", String)))
    return type_coerce(text, DateTime)


def _dialect(conn: Connection) -> str:
    return "postgresql" if conn.dialect.name == "postgresql" else "sqlite"


def buckets_of_sessions(conn: Connection, gateway: str, session_ids: list[str]) -> set[datetime]:
    """The buckets holding a call of these sessions of a gateway."""
    key = bucket_of(_dialect(conn), M.timestamp)
    found: set[datetime] = set()
    for start in range(0, len(session_ids), 500):
        part = session_ids[start:start + 500]
        found.update(row[0] for row in conn.execute(
            select(key).where(M.gateway == gateway, M.session_id.in_(part)).distinct()))
    return found


def ranges(buckets: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Bucket starts -> merged `[start, end)` runs of consecutive buckets."""
    out: list[tuple[datetime, datetime]] = []
    for start in sorted({floor(b) for b in buckets}):
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], start + QUARTER)
        else:
            out.append((start, start + QUARTER))
    return out


def refresh(conn: Connection, gateway: str | None,
            buckets: Iterable[datetime] | None = None) -> None:
    """Re-derive the roll-up rows of one gateway's buckets (bucket starts, or any moment
    inside them) from its calls; `None` buckets: all of them, `None` gateway: every
    gateway's."""
    spans: list[tuple[datetime | None, datetime | None]] = (
        [(None, None)] if buckets is None else list(ranges(buckets)))
    for low, high in spans:
        gone = delete(usage_quarter_hours)
        if gateway is not None:
            gone = gone.where(U.gateway == gateway)
        if low is not None and high is not None:
            gone = gone.where(U.bucket >= low, U.bucket < high)
        conn.execute(gone)
        conn.execute(fill(_dialect(conn), gateway, low, high))


def fill(dialect: str, gateway: str | None = None, low: datetime | None = None,
         high: datetime | None = None) -> Insert:
    """INSERT … SELECT of the roll-up rows of the calls in `[low, high)` (all when None)
    of a gateway (all when None)."""
    key = bucket_of(dialect, M.timestamp)
    dims = [M.gateway, *call_dimensions(), S.kind]
    calls = (select(key, *dims, *call_measures())
             .select_from(messages.outerjoin(sessions, and_(S.session_id == M.session_id,
                                                            S.gateway == M.gateway))))
    if gateway is not None:
        calls = calls.where(M.gateway == gateway)
    if low is not None and high is not None:
        calls = calls.where(M.timestamp >= low, M.timestamp < high)
    calls = calls.group_by(*[literal_column(str(i)) for i in range(1, len(dims) + 2)])
    columns = [c.name for c in usage_quarter_hours.columns]
    return usage_quarter_hours.insert().from_select(columns, calls)
