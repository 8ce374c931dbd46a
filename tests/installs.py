"""Telemetry databases shaped like real installs, for the dashboard sweep and browser tests.

`busy(now)` plans 100 local days of usage up to `now`: three agents (main, ops,
research), a main chat rotated weekly, direct and group chats, two cron jobs running
daily, sub-agents spawned by the main chat and by a group (nested two deep), sessions
whose key OpenClaw lost (a deleted and a reset transcript: kind `unknown`, no key),
seven models from five providers (one model under two providers on alternate days, one
local model without a price), failed calls and tool errors. `idle(now)` is the same
install after 8 days without a call. `fleet(now)` is both in one database, the busy one
read from gateway gw-a and the idle one from gw-b: the sessions of days 8 to 59 (main
chats, cron runs, sub-agents) have the same ids on both hosts. `write(url, install, now=…)`
puts a plan into a database; `empty(url)` has the schema and no call.

Every local day holds the same mix of calls, all between 1 minute and 9 hours before
that day's `now`, so in a zone where `now` is past midday (`noon_zone(now)`) each day
preset (Today, Last 24 hours, 7/30/90 days, a month) holds every agent, kind and model,
whatever the hour the tests run: which filter combination selects nothing never depends
on the clock. Only the keyless sessions are not daily (days 5, 12 and 40).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert
from telemetry_db import GATEWAY, build, call, session, tool, totals_into

from openclaw_telemetry.schema import cron_jobs, sources
from openclaw_telemetry.store import open_db

DAYS = 100
IDLE_DAYS = 8
AGENTS = ("main", "ops", "research")
KINDS = ("cron", "direct", "group", "main", "subagent", "unknown")
MODELS = {"claude-sonnet-4-5": "anthropic", "claude-haiku-4-5": "anthropic",
          "claude-opus-4-1": "anthropic", "gpt-5": "openai", "gpt-5-mini": "openai",
          "gemini-2.5-pro": "google", "llama3.3:70b": "ollama"}
KEYLESS_DAYS = {5: "file:deleted", 12: "file:reset", 40: "file:deleted"}
JOBS = {"daily-digest": ("main", "Daily digest"), "ops-healthcheck": ("ops", "Ops health check")}
FLEET = ("gw-a", "gw-b")


def noon_zone(now: datetime) -> str:
    """An IANA zone where the naive-UTC `now` is between 12:00 and 20:00 local time."""
    for offset in sorted(range(-12, 15), key=abs):
        if 12 <= (now.hour + offset) % 24 < 20:
            return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc signs are inverted
    raise AssertionError("unreachable: offsets -12..14 cover every hour")


def _id(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


class Install:
    """The rows of an install (telemetry_db dictionaries), before any database."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, Any]] = {}
        self.calls: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []
        self.sources: list[dict[str, Any]] = []

    def session(self, sid: str, agent: str, kind: str, **values: Any) -> str:
        if sid not in self.sessions:
            self.sessions[sid] = session(sid, agent_id=agent, kind=kind, **values)
        return sid

    def call(self, sid: str, at: datetime, model: str, cost: float, *,
             tools: tuple[tuple[str, bool | None, int | None], ...] = (),
             error: bool = False) -> None:
        provider = "openrouter" if model == "claude-sonnet-4-5" and at.day % 2 else MODELS[model]
        priced = provider != "ollama"
        owner = self.sessions[sid]
        if owner["model"] == "m1":  # a session's model is that of its first call
            owner["model"], owner["provider"] = model, provider
        row = call(sid, at, cost if priced and not error else 0.0,
                   agent_id=self.sessions[sid]["agent_id"], model=model, provider=provider,
                   input_tokens=1200 + int(cost * 1000), output_tokens=300 + at.minute * 7,
                   cache_read_tokens=8000 if priced else 0, cache_write_tokens=600,
                   cost_source="recorded" if priced else "unpriced",
                   stop_reason="error" if error else ("toolUse" if tools else "stop"),
                   is_error=error,
                   error_message="429 rate_limit_error: too many requests" if error else None,
                   latency_ms=900 + at.minute * 13, tool_call_count=len(tools))
        self.calls.append(row)
        for name, failed, duration in tools:
            self.tools.append(tool(row, name, error=failed, duration=duration))


def _day(install: Install, day: int, base: datetime) -> None:
    """One local day of the install: `base` is `now` minus `day` days (naive UTC)."""
    m = timedelta(minutes=1)
    week = day // 7
    main = install.session(_id("main", week), "main", "main", session_key="agent:main:main",
                           channel="telegram")
    install.call(main, base - 1 * m, "claude-sonnet-4-5", 0.042,
                 tools=(("read", False, 35), ("exec", day % 4 == 0, 1800)))
    install.call(main, base - 120 * m, "claude-sonnet-4-5", 0.118, error=day % 5 == 0)
    install.call(main, base - 480 * m, "claude-opus-4-1", 0.61, tools=(("web_search", None,
                                                                         None),))
    dm = install.session(_id("dm", "main", week), "main", "direct",
                         session_key="agent:main:telegram:direct:48151623",
                         channel="telegram", label="Alice")
    install.call(dm, base - 180 * m, "gpt-5", 0.021)
    ops_dm = install.session(_id("dm", "ops", week), "ops", "direct",
                             session_key="agent:ops:slack:direct:u042", channel="slack")
    install.call(ops_dm, base - 60 * m, "gemini-2.5-pro", 0.015, tools=(("exec", False, 420),))
    for job, (agent, name) in JOBS.items():
        run = install.session(_id("cron", job, day), agent, "cron",
                              session_key=f"agent:{agent}:cron:{job}:run:{_id(job, day)}",
                              cron_job_id=job, cron_job_name=name)
        model = "claude-haiku-4-5" if agent == "main" else "gpt-5-mini"
        install.call(run, base - 360 * m, model, 0.004,
                     tools=(("exec", agent == "ops" and day % 3 == 0, 2500),))
        install.call(run, base - 357 * m, model, 0.006, error=agent == "ops" and day % 9 == 0)
    group = install.session(_id("group", week), "research", "group",
                            session_key="agent:research:discord:group:998877",
                            channel="discord", label="#research-lab")
    install.call(group, base - 30 * m, "gemini-2.5-pro", 0.033)
    install.call(group, base - 35 * m, "llama3.3:70b", 0.0)
    _subagents(install, day, base, main, group)
    if day in KEYLESS_DAYS:
        _keyless(install, day, base)


def _subagents(install: Install, day: int, base: datetime, main: str, group: str) -> None:
    m = timedelta(minutes=1)
    child = install.session(_id("sub", day), "main", "subagent",
                            session_key=f"agent:main:subagent:{_id('subkey', day)}",
                            parent_session_key="agent:main:main", parent_session_id=main,
                            spawn_depth=1, label=f"triage inbox #{day}")
    install.call(child, base - 420 * m, "claude-sonnet-4-5", 0.09, tools=(("read", False, 20),))
    install.call(child, base - 419 * m, "claude-sonnet-4-5", 0.07)
    nested = install.session(_id("nested", day), "main", "subagent",
                             session_key=f"agent:main:subagent:{_id('nestedkey', day)}",
                             parent_session_key=install.sessions[child]["session_key"],
                             parent_session_id=child, spawn_depth=2)
    install.call(nested, base - 418 * m, "gpt-5", 0.03)
    helper = install.session(_id("rsub", day), "research", "subagent",
                             session_key=f"agent:research:subagent:{_id('rsubkey', day)}",
                             parent_session_key="agent:research:discord:group:998877",
                             parent_session_id=group, spawn_depth=1)
    install.call(helper, base - 90 * m, "gemini-2.5-pro", 0.05,
                 tools=(("web_fetch", day % 2 == 0, 950),))


def _keyless(install: Install, day: int, base: datetime) -> None:
    """A session whose transcript OpenClaw renamed and whose key is forgotten."""
    m = timedelta(minutes=1)
    sid = install.session(_id("keyless", day), "main", "unknown", session_key=None,
                          model="claude-opus-4-1", provider="anthropic")
    install.call(sid, base - 240 * m, "claude-opus-4-1", 1.35)
    install.call(sid, base - 239 * m, "claude-opus-4-1", 0.95, tools=(("exec", True, 3000),))
    stamp = base.strftime("%Y-%m-%dT%H-%M-%S.000Z")
    kind = KEYLESS_DAYS[day]
    name = f"{sid}.jsonl.{kind.removeprefix('file:')}.{stamp}"
    install.sources.append({"gateway": GATEWAY,
                            "path": f"/home/claw/.openclaw/agents/main/sessions/{name}",
                            "rel_path": f"agents/main/sessions/{name}", "kind": kind,
                            "agent_id": "main", "session_id": sid})


def plan(now: datetime, days: range) -> Install:
    """The rows of an install whose last day ends at `now` (naive UTC), without a database."""
    now = now.replace(second=0, microsecond=0)
    install = Install()
    for day in days:
        _day(install, day, now - timedelta(days=day))
    totals_into(list(install.sessions.values()), install.calls)
    for row in install.calls:  # the ingest counts a session's tool calls too
        install.sessions[row["session_id"]]["total_tool_calls"] += row["tool_call_count"]
    return install


def write(url: str, install: Install, *, now: datetime) -> Engine:
    """A database holding the install, as an ingest at `now` would have left it."""
    engine = build(url, list(install.sessions.values()), install.calls, install.tools,
                   ran_at=now)
    gateways = sorted({row["gateway"] for row in install.sessions.values()})
    with engine.begin() as conn:
        if install.sources:
            conn.execute(insert(sources), install.sources)
        conn.execute(insert(cron_jobs), [
            {"job_id": job, "gateway": gateway, "agent_id": agent, "name": name,
             "schedule": "0 7 * * *"}
            for job, (agent, name) in JOBS.items() for gateway in gateways])
    return engine


def busy(now: datetime) -> Install:
    """100 days of a busy install up to `now` (naive UTC)."""
    return plan(now, range(DAYS))


def idle(now: datetime) -> Install:
    """The same install, silent for the last 8 days."""
    return plan(now, range(IDLE_DAYS, 60))


def fleet(now: datetime) -> Install:
    """Two gateways in one install: `busy` read from gw-a, `idle` from gw-b (sessions
    keyed '<gateway>/<id>': one id names a session on each)."""
    both = Install()
    for gateway, install in zip(FLEET, (busy(now), idle(now)), strict=True):
        for row in [*install.sessions.values(), *install.calls, *install.tools,
                    *install.sources]:
            row["gateway"] = gateway
        both.sessions.update({f"{gateway}/{sid}": row for sid, row in install.sessions.items()})
        both.calls += install.calls
        both.tools += install.tools
        both.sources += install.sources
    return both


def empty(url: str) -> Engine:
    """The schema and no call."""
    return open_db(url)
