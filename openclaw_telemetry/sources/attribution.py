"""Who a session belongs to: key, kind, agent, cron job, parent, channel (contract D3).

Sources, most reliable first: `sessions.json` (JSONL era, incl. its compaction checkpoints),
the agent database's `session_nodes`/`session_windows` (SQLite era), the global state
database (`cron_jobs`, `subagent_runs`), `cron/jobs.json` and `cron/runs/*.jsonl`; for
orphans and archives the text markers the transcript parser found (format §6.3). What is
learned here is remembered by the ingest engine even after OpenClaw forgets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import orjson

from openclaw_telemetry.model import SESSION_KINDS
from openclaw_telemetry.pricing import load_json_file
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.files import read_regular
from openclaw_telemetry.sources.jsonl import clean_text

_PREFIX_KINDS = {"cron": "cron", "subagent": "subagent", "acp": "acp", "hook": "hook",
                 "dashboard": "dashboard", "direct": "direct", "group": "group",
                 "channel": "channel", "room": "channel", "heartbeat": "heartbeat"}


@dataclass(frozen=True, slots=True)
class Attribution:
    session_id: str
    agent_id: str | None = None
    session_key: str | None = None
    kind: str | None = None
    cron_job_id: str | None = None
    cron_job_name: str | None = None
    parent_session_key: str | None = None
    channel: str | None = None
    label: str | None = None
    spawn_depth: int | None = None
    learned_from: str | None = None

    def merged_over(self, older: Attribution | None) -> Attribution:
        """Newer non-empty values win; nothing learned before is forgotten."""
        if older is None:
            return self
        values = {f.name: getattr(self, f.name) if getattr(self, f.name) is not None
                  else getattr(older, f.name) for f in fields(self)}
        return Attribution(**values)


@dataclass(frozen=True, slots=True)
class CronJob:
    job_id: str
    agent_id: str | None
    name: str | None
    schedule: str | None


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kind: str
    agent_id: str | None
    cron_job_id: str | None
    channel: str | None


def parse_key(key: str, main_keys: Iterable[str] = ("main",)) -> KeyInfo:
    """Session-key grammar of format §3.1 -> kind, agent, cron job, channel. `main_keys`:
    the `session.mainKey` settings in force (default `main`)."""
    parts = key.lower().split(":")
    agent = None
    if len(parts) >= 3 and parts[0] == "agent":
        agent, parts = parts[1], parts[2:]
    mains = {"main", "global", *(k.lower() for k in main_keys)}
    if parts and parts[-1] == "heartbeat" and len(parts) > 1:
        return KeyInfo("heartbeat", agent, None, None)
    if "thread" in parts[:-1]:
        return KeyInfo("thread", agent, None, _channel(parts, mains))
    if len(parts) == 1 and parts[0] in mains:
        return KeyInfo("main", agent, None, None)
    head = parts[0] if parts else ""
    if head == "cron":
        return KeyInfo("cron", agent, parts[1] if len(parts) > 1 else None, None)
    if head in ("subagent", "acp", "hook", "dashboard"):
        return KeyInfo(_PREFIX_KINDS[head], agent, None, None)
    for word in ("direct", "group", "channel", "room"):
        if word in parts:
            return KeyInfo(_PREFIX_KINDS[word], agent, None, _channel(parts, mains))
    return KeyInfo("unknown", agent, None, None)


def _channel(parts: list[str], mains: set[str]) -> str | None:
    """The channel named first in the key (`telegram:group:…`); none for the main session's
    threads (`main:thread:…`) or keys that start with the chat type."""
    first = parts[0] if parts else None
    if first is None or first in mains or first in ("direct", "group", "channel", "room",
                                                     "thread"):
        return None
    return first


def kind_for(attr: Attribution | None, marker_kind: str | None,
             main_keys: Iterable[str] = ("main",)) -> str:
    """The session kind: the key decides, then store hints, then text markers."""
    if attr is not None and attr.session_key:
        kind = parse_key(attr.session_key, main_keys).kind
        if kind != "unknown":
            return kind
    if attr is not None and attr.kind in SESSION_KINDS and attr.kind != "unknown":
        return attr.kind
    if attr is not None and (attr.spawn_depth or 0) > 0:
        return "subagent"
    return marker_kind if marker_kind in SESSION_KINDS else "unknown"


# -- JSONL era: sessions.json -----------------------------------------------------------
def from_store(path: Path, agent_id: str, report: Callable[[str], None]) -> list[Attribution]:
    """Entries of a `sessions.json` store, and the session ids of their checkpoints."""
    doc = load_json_file(path, report)
    found: list[Attribution] = []
    for key, entry in doc.items() if isinstance(doc, dict) else []:
        if not isinstance(entry, dict):
            continue
        sid = _text(entry.get("sessionId"))
        if sid:
            found.append(_from_entry(sid, str(key), entry, agent_id, "sessions.json"))
        for checkpoint in _list(entry.get("compactionCheckpoints")):
            for ref in (checkpoint, checkpoint.get("preCompaction"),
                        checkpoint.get("postCompaction")):
                old = _text(ref.get("sessionId")) if isinstance(ref, dict) else None
                if old and old != sid:
                    found.append(Attribution(old, agent_id, str(key), learned_from="checkpoint"))
    return found


_CRON_LABELS = ("Cron: ", "Automation: ")  # 2026.7 and 2026.9 names of a cron run's session


def _cron_name(text: str | None) -> str | None:
    """The job name in a cron session's label."""
    for prefix in _CRON_LABELS:
        if text and text.startswith(prefix):
            return text[len(prefix):].strip() or None
    return None


def _cron_name_shown(display_name: str | None, key: str | None) -> str | None:
    """The job name in a display name, which may be a user's message (2026.9): only for a
    session whose key is a cron session's."""
    return _cron_name(display_name) if key and parse_key(key).kind == "cron" else None


def _from_entry(sid: str, key: str, entry: dict[str, Any], agent_id: str,
                learned_from: str) -> Attribution:
    # never `displayName`: 2026.9 fills it with the first user message (contract E4)
    label = _text(entry.get("label"))
    raw_origin = entry.get("origin")
    origin: dict[str, Any] = raw_origin if isinstance(raw_origin, dict) else {}
    delivery = entry.get("deliveryContext")
    channel = (_text(entry.get("channel")) or _text(entry.get("lastChannel"))
               or _text(origin.get("provider"))
               or (_text(delivery.get("channel")) if isinstance(delivery, dict) else None))
    cron_name = _cron_name(label) or _cron_name_shown(_text(entry.get("displayName")), key)
    depth = entry.get("spawnDepth")
    depth = depth if isinstance(depth, int) and 0 <= depth < 1000 else None
    return Attribution(
        sid, agent_id, key, None, None, cron_name,
        _text(entry.get("spawnedBy")) or _text(entry.get("parentSessionKey")), channel, label,
        None if isinstance(depth, bool) else depth, learned_from)


# -- SQLite era: the agent database --------------------------------------------------------
def from_agent_db(conn: Any, agent_id: str) -> list[Attribution]:
    """`session_windows` (every sessionId ever, with its key) and `session_nodes`."""
    found: list[Attribution] = []
    for row in sqlite_store.query_all(conn, "session_windows", (
            "session_id", "session_key", "channel", "parent_session_key", "spawned_by",
            "display_name")):
        if row.get("session_id"):  # display_name may be the first user message: not kept
            found.append(Attribution(
                str(row["session_id"]), agent_id, _text(row.get("session_key")), None, None,
                _cron_name_shown(_text(row.get("display_name")), _text(row.get("session_key"))),
                _text(row.get("spawned_by")) or _text(row.get("parent_session_key")),
                _text(row.get("channel")), learned_from="session_windows"))
    for row in sqlite_store.query_all(conn, "session_nodes", (
            "session_key", "current_session_id", "entry_json", "created_via",
            "parent_session_key", "spawned_by", "label")):
        found.extend(_from_node(row, agent_id))
    for row in sqlite_store.query_all(conn, "session_transcript_archives", (
            "session_id", "session_key")):  # deleted and reset history: its key survives here
        if _text(row.get("session_id")) and _text(row.get("session_key")):
            found.append(Attribution(str(row["session_id"]), agent_id,
                                     _text(row.get("session_key")),
                                     learned_from="transcript_archives"))
    return found


def _from_node(row: dict[str, Any], agent_id: str) -> Iterator[Attribution]:
    sid = _text(row.get("current_session_id"))
    key = _text(row.get("session_key"))
    if not sid or not key:
        return
    try:
        entry = orjson.loads(row.get("entry_json") or "{}")
    except orjson.JSONDecodeError:
        entry = {}
    base = _from_entry(sid, key, entry if isinstance(entry, dict) else {}, agent_id,
                       "session_nodes")
    label = _text(row.get("label")) or base.label
    created_via = _text(row.get("created_via"))
    yield replace(
        base, label=label,
        parent_session_key=(_text(row.get("spawned_by")) or _text(row.get("parent_session_key"))
                            or base.parent_session_key),
        kind="subagent" if created_via == "spawn" else None)


# -- cron and sub-agent runs ----------------------------------------------------------------
def cron_jobs_from_state(conn: Any) -> list[CronJob]:
    jobs = []
    for row in sqlite_store.query_all(conn, "cron_jobs", (
            "job_id", "agent_id", "name", "schedule_kind", "schedule_expr", "every_ms")):
        if row.get("job_id"):
            jobs.append(CronJob(str(row["job_id"]), _text(row.get("agent_id")),
                                _text(row.get("name")), _schedule(row)))
    return jobs


def cron_runs_from_state(conn: Any) -> list[Attribution]:
    """`cron_run_logs` of the global database (2026.7+): sessionId -> job and run key, even
    after the run's session is reaped."""
    found = []
    for row in sqlite_store.query_all(conn, "cron_run_logs", (
            "session_id", "session_key", "job_id")):
        sid = _text(row.get("session_id"))
        if sid:
            found.append(Attribution(sid, None, _text(row.get("session_key")), "cron",
                                     _text(row.get("job_id")), learned_from="cron_run_logs"))
    return found


def subagents_from_state(conn: Any) -> Iterator[tuple[str, str | None, str | None]]:
    """(child session key, requester key, label) from `subagent_runs`."""
    for row in sqlite_store.query_all(conn, "subagent_runs", (
            "child_session_key", "requester_session_key", "label")):
        if row.get("child_session_key"):
            yield (str(row["child_session_key"]), _text(row.get("requester_session_key")),
                   _text(row.get("label")))


def cron_jobs_from_file(path: Path, report: Callable[[str], None]) -> list[CronJob]:
    doc = load_json_file(path, report)
    jobs = doc.get("jobs") if isinstance(doc, dict) else doc
    found = []
    for job in _list(jobs):
        if _text(job.get("id")):
            found.append(CronJob(str(job["id"]), _text(job.get("agentId")),
                                 _text(job.get("name")), None))
    return found


def from_cron_runs(logs: list[Path], report: Callable[[str], None]) -> list[Attribution]:
    """`cron/runs/<jobId>.jsonl`: sessionId -> job, even after the transcript is gone. A
    line that is not JSON names no session: it is passed over (the costs are elsewhere)."""
    found: list[Attribution] = []
    for path in logs:
        try:
            lines = read_regular(path).splitlines()
        except OSError as exc:
            report(f"{path}: {exc.strerror or exc}; its cron runs are not attributed")
            continue
        for line in lines:
            try:
                run = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            sid = _text(run.get("sessionId")) if isinstance(run, dict) else None
            if sid:
                found.append(Attribution(sid, None, _text(run.get("sessionKey")), "cron",
                                         _text(run.get("jobId")) or path.stem,
                                         learned_from="cron-runs"))
    return found


def _schedule(row: dict[str, Any]) -> str | None:
    if row.get("schedule_expr"):
        return str(row["schedule_expr"])
    every = row.get("every_ms")
    if isinstance(every, int) and every > 0:
        return f"every {every // 60000} min" if every >= 60000 else f"every {every} ms"
    return _text(row.get("schedule_kind"))


def _text(value: Any) -> str | None:
    """A store's string, cut and with lone surrogates replaced (format §9)."""
    return clean_text(value, 500) if isinstance(value, str) and value else None


def _list(value: Any) -> Iterable[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
