"""A synthetic OpenClaw Telemetry database for the dashboard benchmark, built in seconds.

Rows go straight into the tables of `openclaw_telemetry.schema` (no JSONL, no parser):
90 days of history ending now, several agents and models (recorded, estimated, unpriced
and subscription costs), session kinds including cron runs with job names and sub-agents
with parents, tool calls with results and durations, errors. Session totals are the sums
of their calls and the `usage_quarter_hours` roll-up is filled, as the ingest does. Same
seed, same database.

    .venv/bin/python bench/synthetic_db.py --calls 1000000 --db /tmp/bench.db
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from openclaw_telemetry import usage
from openclaw_telemetry.schema import (
    ingest_runs,
    messages,
    meta,
    sessions,
    tool_calls,
)
from openclaw_telemetry.store import database_url, open_db

KINDS = {"direct": .22, "cron": .24, "subagent": .22, "main": .08, "group": .10,
         "channel": .06, "heartbeat": .05, "hook": .03}
CALLS_PER_SESSION = {"direct": 45, "cron": 8, "subagent": 18, "main": 120, "group": 30,
                     "channel": 25, "heartbeat": 2, "hook": 4}
AGENTS = {"main": .45, "work": .2, "ops": .15, "research": .12, "coder": .08}
CRON_JOBS = ("hourly-tick", "inbox-triage", "daily-digest", "repo-watch", "backup-check",
             "price-alerts")
# model, provider, api, $/M input, output, cache read, cache write, share, cost source
MODELS = (
    ("claude-sonnet-4-5", "anthropic", "anthropic-messages", 3, 15, .3, 3.75, .34, "recorded"),
    ("claude-opus-4-1", "anthropic", "anthropic-messages", 15, 75, 1.5, 18.75, .05, "recorded"),
    ("claude-haiku-4-5", "anthropic", "anthropic-messages", 1, 5, .1, 1.25, .15, "recorded"),
    ("gpt-5", "openai", "openai-responses", 1.25, 10, .125, 0, .14, "recorded"),
    ("gpt-5-mini", "openai", "openai-responses", .25, 2, .025, 0, .12, "estimated"),
    ("gemini-2.5-pro", "google", "google-generative-ai", 1.25, 10, .31, 0, .08, "estimated"),
    ("gpt-5-codex", "openai-codex", "openai-codex-responses", 1.25, 10, .125, 0, .07,
     "recorded"),
    ("llama3.3:70b", "ollama", "openai-completions", 0, 0, 0, 0, .05, "unpriced"),
)
TOOLS = {"exec": .28, "read": .24, "write": .1, "edit": .1, "web_search": .08,
         "browser": .05, "message": .05, "memory_search": .04, "sessions_spawn": .03,
         "cron": .03}
DAYS = 90
GATEWAY = "bench-host"  # one gateway: a single machine's history


@dataclass(frozen=True, slots=True)
class Plan:
    calls: int
    seed: int
    end: datetime

    def tag(self) -> str:
        return f"calls={self.calls} seed={self.seed} days={DAYS}"


def _pick(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    names = list(weights)
    p = np.array([weights[k] for k in names])
    return np.array(names, dtype=object)[rng.choice(len(names), n, p=p / p.sum())]


def _sessions(rng: np.random.Generator, plan: Plan) -> dict[str, np.ndarray]:
    mean = sum(KINDS[k] * CALLS_PER_SESSION[k] for k in KINDS)
    n = int(plan.calls / mean * 1.05) + 1
    kind = _pick(rng, KINDS, n)
    per = np.array([CALLS_PER_SESSION[k] for k in kind], dtype=float)
    calls = np.maximum(1, rng.lognormal(np.log(per) - 0.3, 0.8)).astype(np.int64)
    calls = _trim(calls, plan.calls)
    n = len(calls)
    hour_weight = 0.4 + np.sin(np.linspace(0, np.pi, 24)) ** 2
    day = rng.integers(0, DAYS, n)
    hour = rng.choice(24, n, p=hour_weight / hour_weight.sum())
    offset = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    start = np.datetime64(plan.end - timedelta(days=DAYS), "us") + (offset * 1e6).astype(
        "timedelta64[us]")
    return {"kind": kind[:n], "calls": calls, "start": np.sort(start),
            "agent": _pick(rng, AGENTS, n), "model": rng.choice(len(MODELS), n, p=_shares())}


def _trim(calls: np.ndarray, target: int) -> np.ndarray:
    cumulative = np.cumsum(calls)
    keep = int(np.searchsorted(cumulative, target)) + 1
    calls = calls[:keep].copy()
    calls[-1] -= int(calls.sum()) - target
    return calls[calls > 0]


def _shares() -> np.ndarray:
    shares = np.array([m[7] for m in MODELS], dtype=float)
    return shares / shares.sum()


def _calls(rng: np.random.Generator, ses: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    owner = np.repeat(np.arange(len(ses["calls"])), ses["calls"])
    n = len(owner)
    gaps = rng.exponential(20, n) * 1e6
    first = np.r_[0, np.cumsum(ses["calls"])[:-1]]
    elapsed = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first] - gaps[first], ses["calls"])
    stamp = ses["start"][owner] + elapsed.astype("timedelta64[us]")
    model = np.where(rng.random(n) < .9, ses["model"][owner],
                     rng.choice(len(MODELS), n, p=_shares()))
    error = rng.random(n) < .02
    ok = ~error
    inp = (rng.lognormal(7.8, 1.0, n) * ok).astype(np.int64)
    out = (rng.lognormal(5.5, 1.1, n) * ok).astype(np.int64)
    cache_read = (rng.lognormal(9.6, 0.9, n) * ok * (rng.random(n) < .8)).astype(np.int64)
    cache_write = (rng.lognormal(8, 1, n) * ok * (rng.random(n) < .12)).astype(np.int64)
    prices = np.array([m[3:7] for m in MODELS], dtype=float)[model]
    tokens = np.stack([inp, out, cache_read, cache_write], axis=1)
    cost = (tokens * prices).sum(axis=1) / 1e6
    tools = np.where(ok, rng.poisson(1.1, n), 0)
    return {"owner": owner, "timestamp": stamp, "model": model, "error": error,
            "input": inp, "output": out, "cache_read": cache_read,
            "cache_write": cache_write, "cost": cost, "tools": tools,
            "latency": rng.lognormal(7.6, 0.6, n).astype(np.int64)}


def _session_rows(ses: dict[str, np.ndarray], calls: dict[str, np.ndarray],
                  rng: np.random.Generator) -> list[dict[str, Any]]:
    n = len(ses["calls"])
    sums = {k: np.bincount(calls["owner"], weights=calls[k], minlength=n)
            for k in ("input", "output", "cache_read", "cache_write", "cost", "error", "tools")}
    last = np.zeros(n, dtype="datetime64[us]")
    last[calls["owner"]] = calls["timestamp"]  # calls are in time order within a session
    source = np.array([m[8] for m in MODELS])[ses["model"]]
    parents = np.flatnonzero(np.isin(ses["kind"], ["main", "direct", "group"]))
    rows = []
    for i in range(n):
        kind, agent = str(ses["kind"][i]), str(ses["agent"][i])
        model = MODELS[int(ses["model"][i])]
        row = {"session_id": f"s{i:07d}", "gateway": GATEWAY, "agent_id": agent,
               "session_key": f"agent:{agent}:{kind}:{i:07d}", "kind": kind,
               "start_time": ses["start"][i].item(), "end_time": last[i].item(),
               "model": model[0], "provider": model[1], "thinking_level": "low",
               "total_messages": int(ses["calls"][i]), "total_tool_calls": int(sums["tools"][i]),
               "total_input_tokens": int(sums["input"][i]),
               "total_output_tokens": int(sums["output"][i]),
               "total_cache_read_tokens": int(sums["cache_read"][i]),
               "total_cache_write_tokens": int(sums["cache_write"][i]),
               "total_cost": float(sums["cost"][i]), "total_errors": int(sums["error"][i]),
               "estimated_cost": float(sums["cost"][i]) if source[i] == "estimated" else 0.0,
               "unpriced_calls": int(ses["calls"][i]) if source[i] == "unpriced" else 0,
               "cron_job_id": None, "cron_job_name": None, "label": None,
               "parent_session_id": None, "spawn_depth": None, "parent_session_key": None}
        if kind == "cron":
            job = CRON_JOBS[i % len(CRON_JOBS)]
            row |= {"cron_job_id": f"job-{job}", "cron_job_name": job, "label": f"Cron: {job}"}
        if kind == "subagent" and len(parents):
            parent = int(parents[max(int(np.searchsorted(parents, i)) - 1, 0)])
            row |= {"parent_session_id": f"s{parent:07d}", "spawn_depth": 1,
                    "parent_session_key": f"agent:{agent}:main"}
        rows.append(row)
    return rows


def _message_rows(calls: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    rows = []
    for i in range(len(calls["owner"])):
        model = MODELS[int(calls["model"][i])]
        error = bool(calls["error"][i])
        tokens = [int(calls[k][i]) for k in ("input", "output", "cache_read", "cache_write")]
        rows.append({
            "message_id": f"m{i:09d}", "gateway": GATEWAY,
            "session_id": f"s{int(calls['owner'][i]):07d}",
            "agent_id": None, "timestamp": calls["timestamp"][i].item(), "model": model[0],
            "provider": model[1], "api": model[2], "input_tokens": tokens[0],
            "output_tokens": tokens[1], "cache_read_tokens": tokens[2],
            "cache_write_tokens": tokens[3], "total_tokens": sum(tokens),
            "cost": float(calls["cost"][i]), "cost_source": model[8],
            "stop_reason": "error" if error else ("toolUse" if calls["tools"][i] else "stop"),
            "is_error": error, "error_message": "429 rate limited" if error else None,
            "latency_ms": int(calls["latency"][i]), "subscription": model[1] == "openai-codex",
            "tool_call_count": int(calls["tools"][i])})
    return rows


def _tool_rows(calls: dict[str, np.ndarray], rng: np.random.Generator
               ) -> list[dict[str, Any]]:
    parent = np.repeat(np.arange(len(calls["tools"])), calls["tools"])
    first = np.repeat(np.cumsum(calls["tools"]) - calls["tools"], calls["tools"])
    place = np.arange(len(parent)) - first  # a tool call's place within its call
    names = _pick(rng, TOOLS, len(parent))
    outcome = rng.random(len(parent))
    duration = rng.lognormal(5, 1.3, len(parent)).astype(np.int64)
    rows = []
    for j, i in enumerate(parent):
        seen = outcome[j] >= .01
        rows.append({"tool_call_id": f"t{j:09d}", "gateway": GATEWAY, "tool_name": str(names[j]),
                     "session_id": f"s{int(calls['owner'][i]):07d}", "message_id": f"m{i:09d}",
                     "timestamp": calls["timestamp"][i].item(),
                     "is_error": bool(outcome[j] < .05) if seen else None,
                     "duration_ms": int(duration[j]) if seen else None,
                     "call_index": int(place[j])})
    return rows


def build(db: str, *, calls: int = 1_000_000, seed: int = 7, end: datetime | None = None,
          rebuild: bool = False) -> Engine:
    """Create (or reuse, when it was made with the same arguments) the database."""
    plan = Plan(calls, seed, end or datetime.now(UTC).replace(tzinfo=None, microsecond=0))
    path = Path(db)
    if path.exists() and not rebuild:
        engine = open_db(database_url(db))
        with engine.connect() as conn:
            found = conn.execute(meta.select().where(meta.c.key == "bench")).first()
        if found is not None and found.value.startswith(plan.tag()):
            return engine
        engine.dispose()
    path.unlink(missing_ok=True)
    engine = open_db(database_url(db))
    _fill(engine, plan)
    return engine


def _fill(engine: Engine, plan: Plan) -> None:
    rng = np.random.default_rng(plan.seed)
    ses = _sessions(rng, plan)
    calls = _calls(rng, ses)
    session_rows = _session_rows(ses, calls, rng)
    agent_of = {row["session_id"]: row["agent_id"] for row in session_rows}
    message_rows = _message_rows(calls)
    for row in message_rows:
        row["agent_id"] = agent_of[row["session_id"]]
    tool_rows = _tool_rows(calls, rng)
    started = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        for table, rows in ((sessions, session_rows), (messages, message_rows),
                            (tool_calls, tool_rows)):
            for k in range(0, len(rows), 50_000):
                conn.execute(insert(table), rows[k:k + 50_000])
        usage.refresh(conn, None)  # the 15-minute roll-up, as the ingest keeps it
        conn.execute(insert(ingest_runs), [{
            "gateway": GATEWAY, "started_at": started, "finished_at": datetime.now(UTC).replace(tzinfo=None),
            "status": "ok", "changed": True, "new_calls": plan.calls}])
        conn.execute(insert(meta), [{"key": "bench", "value": f"{plan.tag()} end={plan.end}"}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLite file to create")
    parser.add_argument("--calls", type=int, default=1_000_000, help="LLM calls (default 1M)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if it exists")
    args = parser.parse_args()
    began = time.perf_counter()
    build(args.db, calls=args.calls, seed=args.seed, rebuild=args.rebuild)
    print(f"{args.db}: {args.calls:,} calls in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
