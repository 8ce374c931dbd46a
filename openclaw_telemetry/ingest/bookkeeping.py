"""A run's record: its `ingest_runs` row, its summary, and the totals shown at its end."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from sqlalchemy import Connection, func, select, update

from openclaw_telemetry.ingest.writer import FlushTotals, now
from openclaw_telemetry.model import COST_DECIMALS
from openclaw_telemetry.schema import ingest_runs, messages, parse_issues, sessions


@dataclass(slots=True)
class RunSummary:
    run_id: int = 0
    roots: list[str] = field(default_factory=list)
    sources_total: int = 0
    sources_read: int = 0
    sources_gone: int = 0
    totals: FlushTotals = field(default_factory=FlushTotals)
    issues_by_kind: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    sessions_updated: int = 0
    cron_jobs_learned: int = 0  # new or changed (listed before their first run, renamed …)
    elapsed_seconds: float = 0.0


def start(conn: Connection, gateway: str) -> int:
    """Record a run of this gateway as running; its id."""
    inserted = conn.execute(ingest_runs.insert().values(gateway=gateway, started_at=now(),
                                                         status="running"))
    return int(inserted.inserted_primary_key[0])  # type: ignore[index]


def finish(conn: Connection, summary: RunSummary, elapsed: float) -> None:
    """Complete the summary with the run's bad input and record the run as done."""
    summary.issues_by_kind = dict(conn.execute(
        select(parse_issues.c.kind, func.count())
        .where(parse_issues.c.run_id == summary.run_id).group_by(parse_issues.c.kind)).all())
    summary.elapsed_seconds = elapsed
    changed = bool(summary.sources_read or summary.sessions_updated
                   or summary.cron_jobs_learned)
    conn.execute(update(ingest_runs).where(ingest_runs.c.run_id == summary.run_id).values(
        finished_at=now(), status="ok", changed=changed, sources_read=summary.sources_read,
        new_calls=summary.totals.new_calls, issues=summary.totals.issues,
        summary_json=orjson.dumps(summary_dict(summary)).decode()))


def summary_dict(summary: RunSummary) -> dict[str, object]:
    t = summary.totals
    return {
        "run_id": summary.run_id, "roots": summary.roots,
        "sources_total": summary.sources_total, "sources_read": summary.sources_read,
        "sources_gone": summary.sources_gone, "new_calls": t.new_calls,
        "tokens": {"input": t.input, "output": t.output, "cache_read": t.cache_read,
                   "cache_write": t.cache_write},
        "cost": round(t.cost, COST_DECIMALS),
        "cost_estimated": round(t.estimated_cost, COST_DECIMALS),
        "unpriced_calls": t.unpriced_calls, "unpriced_tokens": t.unpriced_tokens,
        "bad_input": summary.issues_by_kind, "unreadable": summary.unreadable,
        "sessions_updated": summary.sessions_updated,
        "cron_jobs_learned": summary.cron_jobs_learned,
        "elapsed_seconds": round(summary.elapsed_seconds, 4),
    }


def database_totals(conn: Connection) -> dict[str, object]:
    """Totals over everything in the database, every gateway's (shown at the end of a run)."""
    m = messages.c
    calls, cost = conn.execute(select(func.count(), func.coalesce(func.sum(m.cost), 0.0))).one()
    count_sessions = conn.execute(select(func.count()).select_from(sessions)).scalar_one()
    # (to COST_DECIMALS, as the run's own cost: a sum of floats reads 1.0729762500000002)
    return {"calls": int(calls), "cost": round(float(cost), COST_DECIMALS),
            "sessions": int(count_sessions)}
