"""What the database holds, as a whole: its data version (the cache key of every read),
schema state, first and last call, and the values the filters offer.

`file_identity` and the birth in `stamp` tell one database from another at the same URL: a SQLite
file replaced under a running dashboard (`start.sh --demo` again, a restore) has another
inode or, when the file system reuses the inode, another first ingest run; so every
cached read is renewed even when the new database's run ids repeat the old ones.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Select, func, select

from openclaw_telemetry.measures import M, S, cron_job
from openclaw_telemetry.migrations import schema_status
from openclaw_telemetry.names import JOB_ID
from openclaw_telemetry.read.sqlkit import Scope, bounds, frame
from openclaw_telemetry.schema import cron_jobs, ingest_runs, messages, tool_calls
from openclaw_telemetry.store import sqlite_path

if TYPE_CHECKING:  # pandas only where a frame is made: the terminal reports never load it
    import pandas as pd

T = tool_calls.c

__all__ = [
    "call_bounds",
    "data_version",
    "file_identity",
    "filter_options",
    "known_names",
    "option_values",
    "schema_status",
    "stamp",
    "totals_hold",
]


def file_identity(url: str) -> str:
    """'<device>:<inode>' of a SQLite database file ('' for a server, or no file yet)."""
    path = sqlite_path(url)
    if path is None:
        return ""
    try:
        info = os.stat(path)
    except OSError:
        return ""
    return f"{info.st_dev}:{info.st_ino}"


def stamp(engine: Engine) -> tuple[str, int]:
    """(birth, data version): when the database got its first ingest run ('' before any),
    which tells one database from another at the same place, and `data_version`. Two
    index seeks on one connection: what every cached answer is keyed on."""
    first = select(ingest_runs.c.started_at).order_by(ingest_runs.c.run_id).limit(1)
    with engine.connect() as conn:
        born = conn.execute(first).scalar()
        version = conn.execute(_version()).scalar()
    return "" if born is None else str(born), int(version or 0)


def totals_hold(engine: Engine, scope: Scope) -> bool:
    """Whether the sessions' stored totals answer for the calls of a scope, so a question
    over the whole history reads one row per session instead of every call: the scope
    holds every call of each session it holds (no range and no agent or model filter;
    kinds and gateways pick whole sessions), and the totals are complete (no session waits
    for its totals mid-ingest, and every call is owned by a session row: contract D1)."""
    if scope.since or scope.until or scope.agents or scope.models:
        return False
    return _totals_complete(engine, stamp(engine))


@lru_cache(maxsize=8)
def _totals_complete(engine: Engine, version: tuple[str, int]) -> bool:
    """Per database and data version (`stamp`): three index reads, ~25 ms at 1M calls."""
    with engine.connect() as conn:
        waiting = conn.execute(select(S.session_id).where(S.dirty.is_(True)).limit(1)).first()
        owned = conn.execute(select(func.coalesce(func.sum(S.total_messages), 0))).scalar()
        stored = conn.execute(select(func.count()).select_from(messages)).scalar()
    return waiting is None and owned == stored


def _version() -> Select[Any]:
    return select(func.max(ingest_runs.c.run_id)).where(ingest_runs.c.changed == True)  # noqa: E712


def data_version(engine: Engine) -> int:
    """The id of the latest ingest run that changed data (0 before any): the cache key."""
    with engine.connect() as conn:
        return int(conn.execute(_version()).scalar() or 0)


def call_bounds(engine: Engine) -> pd.DataFrame:
    """One row: first_call, last_call (naive UTC, NaT when there are no calls)."""
    out = frame(engine, bounds())
    return out.astype({"first_call": "datetime64[us]", "last_call": "datetime64[us]"})


def filter_options(engine: Engine) -> pd.DataFrame:
    """Columns field ('agent' | 'cron job' | 'gateway' | 'kind' | 'model' | 'tool'), value:
    every value each dimension has in the database (what the filters offer, and what
    colours are given to; a 'cron job' is a job, `measures.cron_job()`, not a name)."""
    import pandas as pd

    return pd.DataFrame(option_values(engine), columns=["field", "value"])


def option_values(engine: Engine) -> list[tuple[str, str]]:
    """The rows of `filter_options` as (field, value) pairs, sorted, without pandas (the
    commands that check a --gateway or --agent against the database)."""
    rows: list[tuple[str, str]] = []
    with engine.connect() as conn:
        for field, column in (("model", M.model), ("tool", T.tool_name)):
            rows += [(field, value) for (value,) in conn.execute(_distinct(column)) if value]
        for field, column in (("agent", S.agent_id), ("kind", S.kind)):
            rows += [(field, value) for (value,) in conn.execute(select(column).distinct())
                     if value]
        rows += [("cron job", value) for (value,) in conn.execute(
            select(cron_job()).where(S.kind == "cron").distinct())]
        rows += [("gateway", value) for value in _gateways(conn)]
    return sorted(rows)


def known_names(engine: Engine) -> list[tuple[str, str]]:
    """What a rule or budget may name, as `option_values` pairs: ('agent', …), ('model',
    …), ('gateway', …) …, ('cron job', …) for every name and ('cron job id', …) for every
    other id of a job the database knows (`_cron_jobs`). What `rulesfile.unknown_names` is
    checked against."""
    with engine.connect() as conn:
        names, ids = _cron_jobs(conn)
    return ([pair for pair in option_values(engine) if pair[0] != "cron job"]
            + [("cron job", name) for name in sorted(names)]
            + [(JOB_ID, job) for job in sorted(ids - names)])


def _cron_jobs(conn: Connection) -> tuple[set[str], set[str]]:
    """(names, ids) of the cron jobs of the cron sessions, and of those OpenClaw lists
    (`cron/jobs.json`, the state database: table `cron_jobs`) whether or not they ran."""
    rows = [*conn.execute(select(S.cron_job_name, S.cron_job_id).where(S.kind == "cron")
                          .distinct()),
            *conn.execute(select(cron_jobs.c.name, cron_jobs.c.job_id).distinct())]
    return {name for name, _ in rows if name}, {job for _, job in rows if job}


def gateways(engine: Engine) -> list[str]:
    """The gateways (OpenClaw hosts) whose sessions the database holds, sorted."""
    with engine.connect() as conn:
        return _gateways(conn)


def _gateways(conn: Connection) -> list[str]:
    return sorted(value for value in conn.execute(select(S.gateway).distinct()).scalars()
                  if value)


def _distinct(column: Any) -> Select[Any]:
    """Distinct values of an indexed column by hopping along its index: one seek per value
    instead of reading every row (a recursive "loose index scan")."""
    hops = select(func.min(column).label("value")).cte("hops", recursive=True)
    following = select(func.min(column)).where(column > hops.c.value).scalar_subquery()
    hops = hops.union_all(select(following).where(hops.c.value.is_not(None)))
    return select(hops.c.value).where(hops.c.value.is_not(None))
