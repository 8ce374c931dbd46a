"""End of a run: owners of shared calls (a call that moves takes its new owner's prices),
session totals, attribution, tool results, and the `usage_quarter_hours` roll-up buckets
of every call of a touched session.

Everything here is one gateway's (the run's), derived from rows already committed, and
works from persistent markers (`sessions.dirty`, `pending_keys`, tool calls without a result), so a run that
died before this step is completed by the next one. One transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import Any, NamedTuple

from sqlalchemy import Connection, and_, bindparam, case, delete, func, select, update

from openclaw_telemetry import usage
from openclaw_telemetry.ingest.prepare import ERROR_STOPS, Pricing, tool_duration
from openclaw_telemetry.ingest.reprice import reprice
from openclaw_telemetry.ingest.writer import chunks, drop_calls, now
from openclaw_telemetry.schema import (
    cron_jobs,
    message_occurrences,
    messages,
    pending_keys,
    session_attribution,
    sessions,
    sources,
    tool_calls,
    tool_results,
)
from openclaw_telemetry.sources.attribution import Attribution, kind_for, parse_key
from openclaw_telemetry.sources.discover import classify

_FAR_FUTURE = datetime(9999, 1, 1)


def finalize(conn: Connection, gateway: str, pricing: Callable[[str, str | None], Pricing], *,
             whole_rollup: bool = False, main_keys: Iterable[str] = ("main",)) -> int:
    """Bring every dirty session of a gateway up to date; return how many were updated.
    `pricing`: the prices of a source and agent (`reprice`), for calls whose owner moved.
    `whole_rollup`: re-derive all its roll-up buckets (a first ingest, whose writer skipped
    the buckets of calls that moved). `main_keys`: the `session.mainKey` settings read."""
    dirty = [row[0] for row in conn.execute(select(sessions.c.session_id)
                                            .where(sessions.c.gateway == gateway,
                                                   sessions.c.dirty.is_(True)))]
    moved_start = _session_times(conn, gateway, dirty)
    _queue_shared_keys(conn, gateway, moved_start)
    dropped: list[datetime] = []
    moved: list[str] = []
    touched = set(dirty) | _resolve_owners(conn, gateway, dropped, moved)
    # a call takes the prices of the agent that owns it (C2), whichever copy came first
    reprice(conn, gateway, pricing, moved)
    ordered = sorted(touched)
    _totals(conn, gateway, ordered)
    _attribute(conn, gateway, ordered, tuple(main_keys))
    _join_tool_results(conn, gateway)
    _usage(conn, gateway, ordered, dropped, whole_rollup)
    for part in chunks(ordered):
        conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                            sessions.c.session_id.in_(part))
                     .values(dirty=False, updated_at=now()))
    return len(ordered)


def _session_times(conn: Connection, gateway: str, ids: list[str]) -> list[str]:
    """start/end/thinking from the sources of each session (contract D1)."""
    moved: list[str] = []
    for part in chunks(ids):
        times = conn.execute(
            select(sources.c.session_id, func.min(sources.c.header_time),
                   func.min(sources.c.first_time), func.max(sources.c.last_time))
            .where(sources.c.gateway == gateway, sources.c.session_id.in_(part))
            .group_by(sources.c.session_id)).all()
        thinking = _latest_thinking(conn, gateway, part)
        before = dict(conn.execute(select(sessions.c.session_id, sessions.c.start_time)
                                   .where(sessions.c.gateway == gateway,
                                          sessions.c.session_id.in_(part))).all())
        rows = []
        for sid, header, first, last in times:
            start = header or first
            if before.get(sid) is not None and before.get(sid) != start:
                moved.append(sid)  # new sessions' shared calls were queued when written
            rows.append({"sid": sid, "start_time": start, "end_time": last,
                         "thinking_level": thinking.get(sid)})
        if rows:
            conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                                sessions.c.session_id == bindparam("sid"))
                         .values(start_time=bindparam("start_time"),
                                 end_time=bindparam("end_time"),
                                 thinking_level=bindparam("thinking_level")), rows)
    return moved


def _latest_thinking(conn: Connection, gateway: str, ids: list[str] | Any) -> dict[str, str]:
    rows = conn.execute(select(sources.c.session_id, sources.c.thinking_level,
                               sources.c.thinking_time)
                        .where(sources.c.gateway == gateway, sources.c.session_id.in_(ids),
                               sources.c.thinking_level.is_not(None)))
    best: dict[str, tuple[datetime, str]] = {}
    for sid, level, when in rows:
        stamp = when or datetime.min
        if sid not in best or stamp >= best[sid][0]:
            best[sid] = (stamp, level)
    return {sid: level for sid, (_, level) in best.items()}


def _queue_shared_keys(conn: Connection, gateway: str, session_ids: list[str]) -> None:
    """A session whose start moved may now own (or lose) calls it shares (contract B4)."""
    o = message_occurrences.c
    other = message_occurrences.alias("other")
    for part in chunks(session_ids):
        keys = {row[0] for row in conn.execute(
            select(o.message_id)
            .where(o.gateway == gateway, o.session_id.in_(part),
                   select(other.c.message_id)
                   .where(other.c.gateway == gateway, other.c.message_id == o.message_id,
                          other.c.session_id != o.session_id)
                   .exists()))}
        existing = {row[0] for row in conn.execute(select(pending_keys.c.message_id)
                                                   .where(pending_keys.c.gateway == gateway))}
        rows = [{"message_id": k, "gateway": gateway} for k in keys - existing]
        if rows:
            conn.execute(pending_keys.insert(), rows)


def _usage(conn: Connection, gateway: str, ids: list[str], dropped: list[datetime],
           whole: bool) -> None:
    """Re-derive the roll-up buckets of every call of the touched sessions (new calls,
    calls that changed owner, sessions whose kind changed) and of dropped calls; all of it
    when asked or when every session was touched."""
    everything = conn.execute(select(func.count()).select_from(sessions)
                              .where(sessions.c.gateway == gateway)).scalar_one()
    if whole or (ids and len(ids) >= everything):
        usage.refresh(conn, gateway)
    elif ids or dropped:
        usage.refresh(conn, gateway,
                      usage.buckets_of_sessions(conn, gateway, ids) | set(dropped))


def _resolve_owners(conn: Connection, gateway: str, dropped: list[datetime],
                    moved: list[str]) -> set[str]:
    """Each shared call belongs to the earliest-starting session (ties: smallest id).
    The times of calls no source holds any more are added to `dropped`, the keys of calls
    given another owner to `moved`."""
    keys = [row[0] for row in conn.execute(select(pending_keys.c.message_id)
                                           .where(pending_keys.c.gateway == gateway))]
    touched: set[str] = set()
    gone: list[str] = []
    o = message_occurrences.c
    for part in chunks(keys):
        owners = dict(conn.execute(select(messages.c.message_id, messages.c.session_id)
                                   .where(messages.c.gateway == gateway,
                                          messages.c.message_id.in_(part))).all())
        candidates: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        for key, sid, start in conn.execute(
                select(o.message_id, o.session_id, sessions.c.start_time)
                .join(sessions, and_(sessions.c.session_id == o.session_id,
                                     sessions.c.gateway == o.gateway), isouter=True)
                .where(o.gateway == gateway, o.message_id.in_(part))):
            candidates[key].append((start or _FAR_FUTURE, sid))
        for key in part:
            current = owners.get(key)
            if key not in candidates:
                gone.append(key)
                if current:
                    touched.add(current)
                continue
            owner = min(candidates[key])[1]
            if owner != current:
                owner_agent = (select(sessions.c.agent_id)
                               .where(sessions.c.gateway == gateway,
                                      sessions.c.session_id == owner).scalar_subquery())
                conn.execute(update(messages).where(messages.c.gateway == gateway,
                                                    messages.c.message_id == key)
                             .values(session_id=owner, agent_id=owner_agent))
                conn.execute(update(tool_calls).where(tool_calls.c.gateway == gateway,
                                                      tool_calls.c.message_id == key)
                             .values(session_id=owner))
                moved.append(key)
                touched.add(owner)
                if current:
                    touched.add(current)
    dropped.extend(drop_calls(conn, gateway, gone))
    conn.execute(delete(pending_keys).where(pending_keys.c.gateway == gateway))
    return {sid for sid in touched if sid}


def _totals(conn: Connection, gateway: str, ids: list[str]) -> None:
    """Session totals are sums over the calls each session owns (contract D1)."""
    m = messages.c
    estimated_cost = case((m.cost_source == "estimated", m.cost), else_=0.0)
    for part in chunks(ids):
        sums = {row[0]: row[1:] for row in conn.execute(
            select(m.session_id, func.count(), func.sum(m.input_tokens),
                   func.sum(m.output_tokens), func.sum(m.cache_read_tokens),
                   func.sum(m.cache_write_tokens), func.sum(m.cost),
                   func.sum(case((m.stop_reason.in_(ERROR_STOPS), 1), else_=0)),
                   func.sum(estimated_cost),
                   func.sum(case((m.cost_source == "unpriced", 1), else_=0)))
            .where(m.gateway == gateway, m.session_id.in_(part)).group_by(m.session_id))}
        tools: dict[str, int] = dict(conn.execute(select(tool_calls.c.session_id, func.count())
                                  .where(tool_calls.c.gateway == gateway,
                                         tool_calls.c.session_id.in_(part))
                                  .group_by(tool_calls.c.session_id)).all())
        models = _main_models(conn, gateway, part)
        rows = []
        for sid in part:
            s = sums.get(sid) or (0, 0, 0, 0, 0, 0.0, 0, 0.0, 0)
            model, provider = models.get(sid, (None, None))
            rows.append({"sid": sid, "total_messages": s[0], "total_input_tokens": s[1] or 0,
                         "total_output_tokens": s[2] or 0, "total_cache_read_tokens": s[3] or 0,
                         "total_cache_write_tokens": s[4] or 0, "total_cost": s[5] or 0.0,
                         "total_errors": s[6] or 0, "estimated_cost": s[7] or 0.0,
                         "unpriced_calls": s[8] or 0, "total_tool_calls": tools.get(sid, 0),
                         "model": model, "provider": provider})
        conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                            sessions.c.session_id == bindparam("sid"))
                     .values({k: bindparam(k) for k in rows[0] if k != "sid"}), rows)


def _main_models(conn: Connection, gateway: str, ids: Any) -> dict[str, tuple[str, str]]:
    """The model of most of a session's calls (ties: the latest used)."""
    m = messages.c
    best: dict[str, tuple[int, datetime, str, str]] = {}
    for sid, model, provider, count, last in conn.execute(
            select(m.session_id, m.model, m.provider, func.count(), func.max(m.timestamp))
            .where(m.gateway == gateway, m.session_id.in_(ids))
            .group_by(m.session_id, m.model, m.provider)):
        rank = (count, last, model, provider)
        if sid not in best or rank[:2] > best[sid][:2]:
            best[sid] = rank
    return {sid: (r[2], r[3]) for sid, r in best.items()}


def _attribute(conn: Connection, gateway: str, ids: list[str],
               main_keys: tuple[str, ...]) -> None:
    """Key, kind, cron job, parent and channel from everything learned (contract D3)."""
    jobs = dict(conn.execute(select(cron_jobs.c.job_id, cron_jobs.c.name)
                             .where(cron_jobs.c.gateway == gateway)).all())
    a = session_attribution.c
    for part in chunks(ids):
        learned = {row.session_id: Attribution(**{k: v for k, v in row._mapping.items()
                                                  if k not in ("updated_at", "gateway")})
                   for row in conn.execute(select(session_attribution)
                                           .where(a.gateway == gateway, a.session_id.in_(part)))}
        markers = _markers(conn, gateway, part)
        rows = [_attributed(sid, learned.get(sid), markers.get(sid), jobs, main_keys)
                for sid in part]
        conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                            sessions.c.session_id == bindparam("sid"))
                     .values({k: bindparam(k) for k in rows[0] if k != "sid"}), rows)
    _parents(conn, gateway, ids)


def _markers(conn: Connection, gateway: str,
             ids: Any) -> dict[str, tuple[str, str | None, str | None]]:
    rows = conn.execute(select(sources.c.session_id, sources.c.marker_kind,
                               sources.c.marker_cron_job_id, sources.c.marker_cron_job_name)
                        .where(sources.c.gateway == gateway, sources.c.session_id.in_(ids),
                               sources.c.marker_kind.is_not(None)))
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _attributed(sid: str, attr: Attribution | None,
                marker: tuple[str, str | None, str | None] | None,
                jobs: dict[str, str | None], main_keys: tuple[str, ...]) -> dict[str, Any]:
    kind = kind_for(attr, marker[0] if marker else None, main_keys)
    key = attr.session_key if attr else None
    key_info = parse_key(key, main_keys) if key else None
    job_id = (attr.cron_job_id if attr else None) or (key_info.cron_job_id if key_info else None)
    job_id = job_id or (marker[1] if marker else None)
    job_name = jobs.get(job_id) if job_id else None
    job_name = job_name or (attr.cron_job_name if attr else None) or (marker[2] if marker else None)
    if kind != "cron" and job_id is None:
        job_name = None
    return {"sid": sid, "session_key": key, "kind": kind, "cron_job_id": job_id,
            "cron_job_name": job_name,
            "parent_session_key": attr.parent_session_key if attr else None,
            "channel": (attr.channel if attr else None) or (key_info.channel if key_info else None),
            "label": attr.label if attr else None,
            "spawn_depth": attr.spawn_depth if attr else None}


def _parents(conn: Connection, gateway: str, ids: list[str]) -> None:
    """The parent session is the one its parent key had when the child started (never one
    that started after it); without a parent key, the transcript a fork or compaction
    successor names in its header (`parentSession`, format §4.2)."""
    s = sessions.c
    children = [row for part in chunks(ids) for row in conn.execute(
        select(s.session_id, s.parent_session_key, s.start_time)
        .where(s.gateway == gateway, s.session_id.in_(part), s.parent_session_key.is_not(None)))]
    keys = sorted({row[1] for row in children})
    by_key: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for part in chunks(keys):
        for sid, key, start in conn.execute(select(s.session_id, s.session_key, s.start_time)
                                            .where(s.gateway == gateway, s.session_key.in_(part))):
            by_key[key].append((start or datetime.min, sid))
    rows, found = [], set()
    for sid, key, start in children:
        before = sorted(o for o in by_key.get(key, []) if start is None or o[0] <= start)
        if before:
            rows.append({"sid": sid, "parent_session_id": before[-1][1]})
            found.add(sid)
    forked = _forked_from(conn, gateway, ids, found)
    rows += [{"sid": sid, "parent_session_id": forked.get(sid)}
             for sid, _key, _start in children if sid not in found]
    rows += [{"sid": sid, "parent_session_id": parent} for sid, parent in forked.items()
             if sid not in {row[0] for row in children}]
    if rows:
        conn.execute(update(sessions).where(s.gateway == gateway, s.session_id == bindparam("sid"))
                     .values(parent_session_id=bindparam("parent_session_id")), rows)


def _forked_from(conn: Connection, gateway: str, ids: list[str],
                 resolved: set[str]) -> dict[str, str]:
    """Sessions whose transcript header names a parent transcript -> that parent: the
    session of that id (the file's name gives it, also after OpenClaw renamed the file:
    reset, deleted, archived), else the session read from a file of that very name."""
    named = {sid: PurePath(parent).name for part in chunks(ids)
             for sid, parent in conn.execute(
                 select(sources.c.session_id, sources.c.parent_session)
                 .where(sources.c.gateway == gateway, sources.c.session_id.in_(part),
                        sources.c.parent_session.is_not(None)))
             if sid not in resolved and PurePath(parent).name}
    if not named:
        return {}
    hints = {sid: found[1] if (found := classify(name)) else name
             for sid, name in named.items()}
    known: set[str] = set()
    for part in chunks(sorted(set(hints.values()))):
        known.update(conn.execute(select(sessions.c.session_id)
                                  .where(sessions.c.gateway == gateway,
                                         sessions.c.session_id.in_(part))).scalars())
    by_name: dict[str, str] = {}
    if any(hint not in known for hint in hints.values()):  # a header id unlike its file name
        wanted = set(named.values())
        for path, sid in conn.execute(select(sources.c.path, sources.c.session_id)
                                      .where(sources.c.gateway == gateway,
                                             sources.c.session_id.is_not(None))
                                      .order_by(sources.c.source_id)):
            if PurePath(path).name in wanted:
                by_name.setdefault(PurePath(path).name, sid)
    parents = {sid: hints[sid] if hints[sid] in known else by_name.get(named[sid])
               for sid in named}
    return {sid: parent for sid, parent in parents.items() if parent not in (None, sid)}


class _Answer(NamedTuple):
    """A waiting result that may answer an open tool call."""

    own: bool  # from the call's own session (else a pre-m003 row, session '')
    result_id: int
    timestamp: datetime | None
    is_error: bool
    duration_ms: int | None

    def rank(self, called: datetime) -> tuple[bool, bool, datetime, int]:
        """Own session first, then the earliest sent (undated last)."""
        return (not self.own, self.timestamp is None, self.timestamp or called, self.result_id)


def _join_tool_results(conn: Connection, gateway: str) -> None:
    """Tool calls still without a result (a partial index holds them) take the first
    waiting result of their session and id sent after their request started (D2). An
    earlier call's result was part of that request, so with ids reused in every response
    it is never taken. Results from before m003 (session '') match any session, after the
    call's own. A result taken is removed."""
    t, r, m = tool_calls.c, tool_results.c, messages.c
    found = conn.execute(
        select(t.id, t.timestamp, m.latency_ms, t.session_id, r.id, r.session_id,
               r.timestamp, r.is_error, r.duration_ms)
        .join(tool_results, and_(r.gateway == t.gateway, r.tool_call_id == t.tool_call_id,
                                 r.session_id.in_([t.session_id, ""])))
        .join(messages, and_(m.gateway == t.gateway, m.message_id == t.message_id),
              isouter=True)
        .where(t.gateway == gateway, t.is_error.is_(None)))
    waiting: dict[tuple[datetime, int], list[_Answer]] = defaultdict(list)
    for call_row, called, latency, session, result_id, result_session, sent, *outcome in found:
        started = called - timedelta(milliseconds=latency or 0)
        if sent is None or sent >= started:
            waiting[(called, call_row)].append(
                _Answer(result_session == session, result_id, sent, *outcome))
    taken: set[int] = set()
    rows = []
    for (called, call_row), answers in sorted(waiting.items()):  # calls in time order
        free = [a for a in answers if a.result_id not in taken]
        if free:
            best = min(free, key=lambda a: a.rank(called))
            taken.add(best.result_id)
            rows.append({"row": call_row, "err": best.is_error,
                         "ms": tool_duration(called, best.timestamp, best.duration_ms)})
    if rows:
        conn.execute(update(tool_calls).where(t.id == bindparam("row"))
                     .values(is_error=bindparam("err"), duration_ms=bindparam("ms")), rows)
    for part in chunks(sorted(taken)):
        conn.execute(delete(tool_results).where(r.id.in_(part)))
