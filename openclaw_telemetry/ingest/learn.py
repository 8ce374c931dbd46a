"""Remembering attribution: what OpenClaw's stores say about sessions, kept forever (D3).

Stores are re-read only when they changed (size and mtime kept in `meta`, per gateway), so
an hourly run
with nothing new stays cheap. What is learned is merged over what was known, never erased;
sessions whose attribution changed are marked dirty so the end of the run applies it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from openclaw_telemetry.ingest.writer import chunks, insert_ignore, now
from openclaw_telemetry.schema import cron_jobs, meta, session_attribution, sessions, sources
from openclaw_telemetry.sources import attribution as attr
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.discover import StateRoot, problem


def _stamp(paths: Iterable[Path]) -> str:
    parts = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def _key(gateway: str, name: str) -> str:
    return f"learned:{gateway}:{name}"


def changed_since_last(conn: Connection, gateway: str, name: str, paths: Iterable[Path]) -> bool:
    """True (and remembered) when the files' size/mtime differ from the gateway's last run's."""
    stamp = _stamp(paths)
    key = _key(gateway, name)
    old = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    if old == stamp:
        return False
    if old is None:
        conn.execute(meta.insert().values(key=key, value=stamp))
    else:
        conn.execute(update(meta).where(meta.c.key == key).values(value=stamp))
    return True


def forget(conn: Connection, gateway: str, name: str) -> None:
    """Files that could not be read: their next run reads them again even if unchanged
    (fixing a file's permissions does not change its size or mtime)."""
    conn.execute(delete(meta).where(meta.c.key == _key(gateway, name)))


def learn_root(conn: Connection, gateway: str, root: StateRoot,
               warn: Callable[[str], None]) -> int:
    """Read the stores of a root that changed since the last run; a store that cannot be
    read is told to `warn` (its sessions keep what earlier runs learned). Returns how many
    cron jobs were new or changed (data of their own: a job may be listed before it runs)."""
    jobs = 0
    for agent in root.agents:
        store = agent.sessions_dir / "sessions.json" if agent.sessions_dir else None
        try:
            if store is not None and store.exists() and changed_since_last(
                    conn, gateway, str(store), [store]):  # (what is not a regular file is reported)
                problems: list[str] = []
                entries = attr.from_store(store, agent.agent_id, problems.append)
                remember(conn, gateway,
                         entries + _header_aliases(conn, gateway, store.parent, entries))
                for message in problems:
                    warn(message)
                if problems:  # read again next run, even if unchanged
                    forget(conn, gateway, str(store))
        except OSError as exc:
            warn(problem(exc))
    try:
        jobs += _learn_cron(conn, gateway, root.path / "cron", warn)
    except OSError as exc:
        warn(problem(exc))
    state_db = root.global_db
    try:
        if state_db.exists() and changed_since_last(
                conn, gateway, str(state_db), [state_db, Path(f"{state_db}-wal")]):
            with sqlite_store.open_readonly(state_db) as db:
                jobs += learn_state_db(conn, gateway, db)
    except (OSError, sqlite_store.ReadError) as exc:
        warn(problem(exc) if isinstance(exc, OSError) else str(exc))
        forget(conn, gateway, str(state_db))  # read again next run, even if unchanged
    return jobs


def _header_aliases(conn: Connection, gateway: str, folder: Path,
                    entries: list[attr.Attribution]) -> list[attr.Attribution]:
    """A transcript whose header names another id than its file name (format §2.2, issue
    #153502) is the session the store lists under the file's id: it gets that entry too."""
    by_path = {str(folder / f"{a.session_id}.jsonl"): a for a in entries}
    aliases = []
    for part in chunks(sorted(by_path)):
        for path, sid in conn.execute(select(sources.c.path, sources.c.session_id)
                                      .where(sources.c.gateway == gateway,
                                             sources.c.path.in_(part))):
            entry = by_path[path]
            if sid and sid != entry.session_id:
                aliases.append(replace(entry, session_id=sid))
    return aliases


def _learn_cron(conn: Connection, gateway: str, cron_dir: Path,
                warn: Callable[[str], None]) -> int:
    """The cron folder's jobs and runs, when it changed; how many jobs were new or changed."""
    if not cron_dir.is_dir():
        return 0
    runs = cron_dir / "runs"
    run_logs = sorted(p for p in runs.iterdir() if p.suffix == ".jsonl") if runs.is_dir() else []
    if not changed_since_last(conn, gateway, str(cron_dir), [cron_dir / "jobs.json", *run_logs]):
        return 0
    problems: list[str] = []
    jobs = remember_jobs(conn, gateway,
                         attr.cron_jobs_from_file(cron_dir / "jobs.json", problems.append))
    remember(conn, gateway, _run_keys_fill_gaps(
        conn, gateway, attr.from_cron_runs(run_logs, problems.append)))
    for message in problems:
        warn(message)
    if problems:  # read again next run, even if unchanged
        forget(conn, gateway, str(cron_dir))
    return jobs


def learn_state_db(conn: Connection, gateway: str, db: sqlite3.Connection) -> int:
    """The state database's cron jobs, cron runs and sub-agent runs; how many jobs were
    new or changed."""
    jobs = remember_jobs(conn, gateway, attr.cron_jobs_from_state(db))
    remember(conn, gateway, _run_keys_fill_gaps(conn, gateway, attr.cron_runs_from_state(db)))
    children = list(attr.subagents_from_state(db))
    if not children:
        return jobs
    keys = [child for child, _, _ in children]
    known: dict[str, list[str]] = {}
    for part in chunks(keys):
        for sid, key in conn.execute(select(session_attribution.c.session_id,
                                            session_attribution.c.session_key)
                                     .where(session_attribution.c.gateway == gateway,
                                            session_attribution.c.session_key.in_(part))):
            known.setdefault(key, []).append(sid)
    remember(conn, gateway, [attr.Attribution(sid, None, child, "subagent", parent_session_key=parent,
                                     label=label, learned_from="subagent_runs")
                    for child, parent, label in children for sid in known.get(child, [])])
    return jobs


def _run_keys_fill_gaps(conn: Connection, gateway: str,
                        runs: list[attr.Attribution]) -> list[attr.Attribution]:
    """A cron run log names the run's own key (`…:cron:<job>:run:<id>`); the store's key of
    a session (the job's) stays, so the key never depends on which file changed last."""
    keyed: set[str] = set()
    for part in chunks(sorted({run.session_id for run in runs})):
        keyed.update(conn.execute(select(session_attribution.c.session_id).where(
            session_attribution.c.gateway == gateway,
            session_attribution.c.session_id.in_(part),
            session_attribution.c.session_key.is_not(None))).scalars())
    return [replace(run, session_key=None) if run.session_id in keyed else run for run in runs]


def remember_jobs(conn: Connection, gateway: str, jobs: list[attr.CronJob]) -> int:
    """Keep cron job names; sessions of a job whose name changed are marked dirty. Returns
    how many jobs were new or changed."""
    c = cron_jobs.c
    known = {row[0]: tuple(row[1:]) for row in conn.execute(
        select(c.job_id, c.agent_id, c.name, c.schedule).where(c.gateway == gateway))}
    renamed = []
    for job in jobs:
        old = known.get(job.job_id)
        new = tuple(n if n is not None else (old[i] if old else None)
                    for i, n in enumerate((job.agent_id, job.name, job.schedule)))
        if old == new:
            continue
        if old is None:
            insert_ignore(conn, cron_jobs, [{"job_id": job.job_id, "gateway": gateway}])
        conn.execute(update(cron_jobs).where(c.gateway == gateway, c.job_id == job.job_id).values(
            agent_id=new[0], name=new[1], schedule=new[2], updated_at=now()))
        renamed.append(job.job_id)
    for part in chunks(renamed):  # a job name may now be known for sessions seen before
        conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                            sessions.c.cron_job_id.in_(part)).values(dirty=True))
    return len(renamed)


def remember(conn: Connection, gateway: str, learned: list[attr.Attribution]) -> None:
    """Merge new facts over the remembered ones; mark affected sessions dirty."""
    merged: dict[str, attr.Attribution] = {}
    for item in learned:
        merged[item.session_id] = item.merged_over(merged.get(item.session_id))
    ids = sorted(merged)
    for part in chunks(ids):
        old = {row.session_id: attr.Attribution(**{k: v for k, v in row._mapping.items()
                                                   if k not in ("updated_at", "gateway")})
               for row in conn.execute(select(session_attribution)
                                       .where(session_attribution.c.gateway == gateway,
                                              session_attribution.c.session_id.in_(part)))}
        changed: list[str] = []
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        stamp = now()
        for sid in part:
            new = merged[sid].merged_over(old.get(sid))
            if new == old.get(sid):
                continue
            changed.append(sid)
            row = {**{f: getattr(new, f) for f in attr.Attribution.__slots__},
                   "gateway": gateway, "updated_at": stamp}
            (updates if sid in old else inserts).append(row)
        if inserts:
            conn.execute(session_attribution.insert(), inserts)
        if updates:
            params = [{"sid_" if k == "session_id" else k: v for k, v in r.items()}
                      for r in updates]
            conn.execute(update(session_attribution)
                         .where(session_attribution.c.gateway == gateway,
                                session_attribution.c.session_id == bindparam("sid_"))
                         .values({k: bindparam(k) for k in params[0]
                                  if k not in ("sid_", "gateway")}), params)
        if changed:
            conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                                sessions.c.session_id.in_(changed))
                         .values(dirty=True))
