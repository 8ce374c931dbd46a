"""Which cron job a cron session ran, and what the pages call it.

Part of the read layer (same rules). A job is `measures.cron_job()`: its id on its
gateway, else (id never learned) its name for its agent on its gateway. Its label is the
name of its latest run, with what tells it from the other jobs of the selection of that
name (`names.job_labels`); a budget's `cron_jobs` still match ids and names
(`read.budgets`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, func, select

from openclaw_telemetry.measures import S, cron_job, cron_job_name
from openclaw_telemetry.names import job_labels
from openclaw_telemetry.read.sqlkit import frame, positions


def labels_of(engine: Engine, jobs: Iterable[str]) -> dict[str, str]:
    """The label of each of these jobs (values of `measures.cron_job()`): the jobs a page
    lists, so that a name is told apart only from the jobs listed beside it."""
    wanted = set(jobs)
    if not wanted:
        return {}
    facts = [cron_job().label("job_key"), cron_job_name().label("name"), S.agent_id,
             S.gateway, S.cron_job_id.label("job_id")]
    known = frame(engine, select(*facts, func.max(S.start_time).label("last"))
                  .where(S.kind == "cron").group_by(*positions(len(facts))))
    known = known[known["job_key"].isin(wanted)]
    latest = (known.sort_values(["job_key", "last"], na_position="first")
              .drop_duplicates("job_key", keep="last").reset_index(drop=True))
    return dict(zip(latest["job_key"], job_labels(latest), strict=True))
