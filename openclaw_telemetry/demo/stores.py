"""Session bookkeeping OpenClaw keeps beside transcripts: the JSONL era's `sessions.json`
(format §3), the SQLite era's `session_nodes` / `session_windows` rows (§10, §12.2), its
global database's sub-agent runs (`state/openclaw.sqlite`, §12.2) and the cron job list and
run logs (§6.2). Only current sessions are in the stores, as in real installs: reset,
deleted and orphaned transcripts must be attributed by other means.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from openclaw_telemetry.demo.plan import CorpusPlan, SessionPlan
from openclaw_telemetry.demo.writers import AgentDb

SKILLS_PROMPT = (
    "\n\nThe following skills provide specialized instructions for specific tasks.\n"
    "<available_skills>\n" + "".join(
        f"  <skill>\n    <name>{name}</name>\n    <description>Use when the task involves "
        f"{name.replace('-', ' ')}.</description>\n    <location>~/.openclaw/skills/{name}/"
        "SKILL.md</location>\n  </skill>\n"
        for name in ("browser-automation", "canvas", "clawhub", "healthcheck", "notion",
                     "skill-creator", "tmux", "weather"))
    + "</available_skills>")


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A written session: its plan, last entry time, usage sums and where it went."""

    plan: SessionPlan
    end_ms: int
    calls: int
    tokens: tuple[int, int, int, int]
    cost: float
    in_db: bool


def chat_fields(plan: SessionPlan) -> dict[str, Any]:
    if plan.kind == "group":
        return {"chatType": "group", "channel": "telegram", "subject": "Ops room"}
    if plan.kind == "direct":
        return {"chatType": "direct", "channel": "telegram"}
    if plan.kind == "channel":
        return {"chatType": "channel", "channel": "discord"}
    return {"channel": "webchat"}


def store_entry(record: SessionRecord) -> dict[str, Any]:
    """A `SessionEntry` (format §3.2); the counters are last-run style, never to be summed."""
    plan = record.plan
    entry: dict[str, Any] = {
        "sessionId": plan.session_id,
        "sessionFile": f"/home/claw/.openclaw/agents/{plan.agent_id}/sessions/"
                       f"{plan.session_id}.jsonl",
        "updatedAt": record.end_ms, "sessionStartedAt": plan.start_ms, "systemSent": True,
        "abortedLastRun": False, "thinkingLevel": plan.thinking, "model": plan.model.model,
        "modelProvider": plan.model.provider, **chat_fields(plan),
        "inputTokens": record.tokens[0], "outputTokens": record.tokens[1],
        "cacheRead": record.tokens[2], "cacheWrite": record.tokens[3],
        "totalTokens": sum(record.tokens), "totalTokensFresh": True,
        "estimatedCostUsd": round(record.cost, 6), "contextTokens": 200_000,
        "compactionCount": 0, "status": "done",
        "skillsSnapshot": {"prompt": SKILLS_PROMPT, "version": plan.start_ms},
    }
    if plan.cron_job is not None:
        entry["label"] = f"Cron: {plan.cron_job.name}"
    if plan.kind == "subagent":
        entry.update(spawnDepth=1, subagentRole="leaf", label=plan.spawn_label)
    if plan.parent_key is not None:
        entry["spawnedBy"] = plan.parent_key
    return entry


def write_session_stores(root: Path, plan: CorpusPlan, records: list[SessionRecord]) -> None:
    """`agents/<id>/sessions/sessions.json` for agents with JSONL-era sessions."""
    stores: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.plan.storage == "jsonl":
            store = stores.setdefault(record.plan.agent_id, {})
            if record.plan.fate == "current":
                store[record.plan.key] = store_entry(record)
    for agent_id, store in stores.items():
        folder = root / "agents" / agent_id / "sessions"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "sessions.json").write_bytes(orjson.dumps(store, option=orjson.OPT_INDENT_2))


def write_db_sessions(dbs: dict[str, AgentDb], records: list[SessionRecord]) -> None:
    """One `session_windows` row per stored sessionId, one `session_nodes` row per key."""
    previous: dict[tuple[str, str], SessionRecord] = {}
    ordered = sorted((r for r in records if r.in_db), key=lambda r: (r.plan.start_ms,
                                                                       r.plan.index))
    for record in ordered:
        plan = record.plan
        before = previous.get((plan.agent_id, plan.key))
        dbs[plan.agent_id].add_window(_window_row(record, before))
        previous[(plan.agent_id, plan.key)] = record
    for (agent_id, _key), record in sorted(previous.items()):
        dbs[agent_id].add_node(_node_row(record))


def _window_row(record: SessionRecord, before: SessionRecord | None) -> dict[str, Any]:
    plan = record.plan
    chat = chat_fields(plan)
    return {"session_id": plan.session_id, "session_key": plan.key,
            "previous_session_id": before.plan.session_id if before else None,
            "reason": "rollover" if before else "initial",
            "created_at": plan.start_ms, "updated_at": record.end_ms,
            "started_at": plan.start_ms, "ended_at": record.end_ms, "status": "done",
            "chat_type": chat.get("chatType"), "channel": chat.get("channel"),
            "model_provider": plan.model.provider, "model": plan.model.model,
            "agent_harness_id": "openclaw", "parent_session_key": plan.parent_key,
            "spawned_by": plan.parent_key}


def _node_row(record: SessionRecord) -> dict[str, Any]:
    plan = record.plan
    via = {"cron": "cron", "subagent": "spawn", "main": "run"}.get(plan.kind, "channel")
    entry = store_entry(record)
    return {"session_key": plan.key, "current_session_id": plan.session_id,
            "entry_json": orjson.dumps(entry).decode(), "entry_valid": 1,
            "updated_at": record.end_ms, "status": "done", "created_at": plan.start_ms,
            "created_via": via, "parent_session_key": plan.parent_key,
            "spawned_by": plan.parent_key, "label": entry.get("label"),
            "last_interaction_at": record.end_ms, "last_activity_at": record.end_ms}


SUBAGENT_RUNS = """
CREATE TABLE subagent_runs (
  run_id TEXT NOT NULL PRIMARY KEY,
  child_session_key TEXT NOT NULL,
  controller_session_key TEXT,
  controller_store_path TEXT,
  requester_session_key TEXT NOT NULL,
  requester_store_path TEXT,
  created_at INTEGER NOT NULL,
  payload_json TEXT NOT NULL DEFAULT '{}'
) STRICT;
"""


def write_subagent_runs(root: Path, records: list[SessionRecord]) -> None:
    """`state/openclaw.sqlite`'s `subagent_runs`: each SQLite-era sub-agent's key and the
    key of the session that spawned it, which outlive a deleted sub-agent (§12.2)."""
    rows = [_subagent_run(r) for r in records if r.plan.storage == "sqlite"
            and r.plan.parent_key is not None]
    if not rows:
        return
    (root / "state").mkdir(exist_ok=True)
    with contextlib.closing(sqlite3.connect(root / "state" / "openclaw.sqlite")) as db, db:
        db.executescript(SUBAGENT_RUNS)
        db.executemany("INSERT INTO subagent_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _subagent_run(record: SessionRecord) -> tuple[Any, ...]:
    plan = record.plan
    parent = plan.parent_key
    assert parent is not None
    store = f"/home/claw/.openclaw/agents/{parent.split(':')[1]}/agent/openclaw-agent.sqlite"
    outcome = {"status": "ok", "startedAt": plan.start_ms, "endedAt": record.end_ms,
               "elapsedMs": record.end_ms - plan.start_ms}
    payload = {"runId": plan.run_id, "childSessionKey": plan.key,
               "controllerSessionKey": parent, "requesterSessionKey": parent,
               "cleanup": "delete" if plan.fate == "deleted" else "keep", "spawnMode": "run",
               "label": plan.spawn_label, "model": f"{plan.model.provider}/{plan.model.model}",
               "createdAt": plan.start_ms,
               "execution": {"status": "terminal", **outcome, "outcome": outcome}}
    return (plan.run_id, plan.key, parent, store, parent, store, plan.start_ms,
            orjson.dumps(payload).decode())


def write_cron(root: Path, plan: CorpusPlan, records: list[SessionRecord]) -> None:
    """`cron/jobs.json` and `cron/runs/<jobId>.jsonl` (JSONL-era run logs, §6.2)."""
    if not plan.cron_jobs:
        return
    jobs = [{"id": job.job_id, "name": job.name, "agentId": job.agent_id, "enabled": True,
             "schedule": {"kind": "cron", "expr": "0 * * * *"}, "sessionTarget": "isolated",
             "payload": {"kind": "agentTurn", "message": f"Run {job.name}"}}
            for job in plan.cron_jobs]
    (root / "cron" / "runs").mkdir(parents=True, exist_ok=True)
    (root / "cron" / "jobs.json").write_bytes(
        orjson.dumps({"version": 1, "jobs": jobs}, option=orjson.OPT_INDENT_2))
    runs: dict[str, list[bytes]] = {}
    for record in sorted(records, key=lambda r: r.plan.start_ms):
        job = record.plan.cron_job
        if job is not None:
            runs.setdefault(job.job_id, []).append(orjson.dumps(_run_line(record)))
    for job_id, lines in runs.items():
        (root / "cron" / "runs" / f"{job_id}.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def _run_line(record: SessionRecord) -> dict[str, Any]:
    plan = record.plan
    assert plan.cron_job is not None
    tokens = record.tokens
    return {"ts": record.end_ms, "jobId": plan.cron_job.job_id, "action": "finished",
            "status": "ok", "sessionId": plan.session_id,
            "sessionKey": f"{plan.key}:run:{plan.session_id}", "runAtMs": plan.start_ms,
            "durationMs": record.end_ms - plan.start_ms, "model": plan.model.model,
            "provider": plan.model.provider,
            "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1],
                      "total_tokens": sum(tokens), "cache_read_tokens": tokens[2],
                      "cache_write_tokens": tokens[3]}}
