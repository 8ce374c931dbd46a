"""The demo `start.sh --demo` shows, built by the package (openclaw_telemetry.demo):
shaped like a real install, reproducible from a seed and a `now`, always marked as demo
data, and never written over real data or a folder it did not generate."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ingest, query, totals

from openclaw_telemetry import read
from openclaw_telemetry.demo import NotDemoError, is_demo
from openclaw_telemetry.demo.build import DEMO_AGENTS, DEMO_DAYS, build_demo, prepare_demo
from openclaw_telemetry.demo.corpus import EXPECTED_NAME, NotGeneratedError, Options, generate
from openclaw_telemetry.preflight import has_calls, port_problem
from openclaw_telemetry.store import open_db

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CACHE_LIFETIME = timedelta(minutes=5)  # a provider's prompt cache after its last use
LONG_CACHE_LIFETIME = timedelta(hours=1)  # Anthropic's, with cacheRetention: "long"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{root / 'demo.db'}"
    return root / "state", url, build_demo(root / "state", url, now=NOW)


def test_the_demo_is_shaped_like_a_real_install(demo: tuple[Path, str, dict[str, Any]]
                                                ) -> None:
    state, url, _ = demo
    kinds = {kind: (sessions, agents) for kind, sessions, agents in query(
        url, "SELECT kind, count(*), count(DISTINCT agent_id) FROM sessions GROUP BY kind")}
    assert {"main", "direct", "group", "cron", "subagent"} <= set(kinds)
    assert kinds["cron"][0] >= 10 and kinds["subagent"][0] >= 10
    assert query(url, "SELECT count(DISTINCT agent_id) FROM sessions") == [(DEMO_AGENTS,)]
    assert query(url, "SELECT count(DISTINCT cron_job_id) FROM sessions")[0][0] >= 3
    assert list(state.rglob("*.jsonl.reset.*")), "reset sessions"
    assert list(state.rglob("*.jsonl.deleted.*")), "deleted sessions"
    eras = {kind.split(":")[0] for (kind,) in query(url, "SELECT DISTINCT kind FROM sources")}
    assert eras == {"file", "sqlite"}, "an install upgraded from JSONL to the SQLite era"
    assert len(query(url, "SELECT DISTINCT model FROM messages")) >= 4
    assert query(url, "SELECT count(*) FROM messages WHERE is_error")[0][0] > 0


def test_sessions_deleted_in_the_sqlite_era_keep_their_key(
        demo: tuple[Path, str, dict[str, Any]]) -> None:
    """2026.9 keeps a deleted session's archive in the agent database with its key
    (`session_transcript_archives`): whose session it was is still known."""
    _, url, _ = demo
    keys = query(url, "SELECT s.session_key FROM sources f JOIN sessions s ON "
                      "s.session_id = f.session_id AND s.gateway = f.gateway "
                      "WHERE f.path LIKE '%.jsonl.deleted.%.zst'")
    assert keys and all(key for (key,) in keys), keys


def test_sub_agents_run_inside_the_session_that_spawned_them(
        demo: tuple[Path, str, dict[str, Any]]) -> None:
    """OpenClaw starts a sub-agent while its parent's `sessions_spawn` call runs, and that
    call is answered with the child's key: one spawn call per sub-agent, and the parser
    links most sub-agents to their parent (a few orphans: a parent OpenClaw has forgotten,
    a deleted sub-agent's lost record)."""
    _, url, _ = demo
    children = query(url, "SELECT session_id, parent_session_id, start_time FROM sessions "
                          "WHERE kind = 'subagent'")
    spawns: dict[str, list[tuple[datetime, int]]] = {}
    for sid, called, duration in query(
            url, "SELECT session_id, timestamp, duration_ms FROM tool_calls "
                 "WHERE 'sessions_spawn' IN (tool_name, bridge_name)"):
        spawns.setdefault(sid, []).append((datetime.fromisoformat(called), duration))
    linked = [(sid, parent, datetime.fromisoformat(start))
              for sid, parent, start in children if parent is not None]

    assert sum(len(calls) for calls in spawns.values()) == len(children) >= 10
    assert len(linked) >= 0.8 * len(children)
    outside = [sid for sid, parent, start in linked
               if not any(called <= start <= called + timedelta(milliseconds=duration)
                          for called, duration in spawns.get(parent, []))]
    assert outside == [], "sub-agents that start outside their parent's spawn calls"
    per_parent: dict[str, int] = {}
    for _, parent, _ in linked:
        per_parent[parent] = per_parent.get(parent, 0) + 1
    assert all(n <= len(spawns[parent]) for parent, n in per_parent.items())


def test_the_database_holds_what_was_generated_up_to_now(
        demo: tuple[Path, str, dict[str, Any]]) -> None:
    _, url, expected = demo
    got = totals(url)
    assert got["llm_calls"] == expected["llm_calls"] == 6_000
    assert got["cost"] == pytest.approx(expected["cost"], abs=1e-6)
    first, last = query(url, "SELECT min(timestamp), max(timestamp) FROM messages")[0]
    naive = NOW.replace(tzinfo=None)
    assert naive - timedelta(days=DEMO_DAYS) <= datetime.fromisoformat(first)
    assert datetime.fromisoformat(last) <= naive
    engine = open_db(url, create=False)
    try:
        assert is_demo(engine)
    finally:
        engine.dispose()
    assert has_calls(url)


def _long_cache_agents(state: Path) -> set[str]:
    """The agents openclaw.json gives `cacheRetention: "long"` (`agents.list[].params`)."""
    agents = json.loads((state / "openclaw.json").read_text())["agents"]["list"]
    return {agent["id"] for agent in agents
            if agent.get("params", {}).get("cacheRetention") == "long"}


def test_the_demo_misses_the_cache_after_a_pause_it_did_not_outlive(
        demo: tuple[Path, str, dict[str, Any]]) -> None:
    """A provider keeps a prompt cache 5 minutes after its last use (Anthropic an hour for
    an agent with `cacheRetention: "long"`): a demo call after a longer pause since the
    session's last call that sent a context reads nothing from the cache, and a call
    within the lifetime reads it, but for a rare miss (a session's first call and the
    first after a compaction have nothing to read). Chats pause now and then."""
    state, url, _ = demo
    long_agents = _long_cache_agents(state)
    assert long_agents, "an agent with cacheRetention: long"
    missed: dict[str, list[bool]] = {"within": [], "kept": [], "expired": []}
    paused: set[str] = set()
    last: dict[tuple[str, str], datetime] = {}
    for sid, gateway, agent, provider, stamp, read_tokens in query(
            url, "SELECT session_id, gateway, agent_id, provider, timestamp, cache_read_tokens "
                 "FROM messages WHERE input_tokens + cache_read_tokens + cache_write_tokens > 0 "
                 "ORDER BY gateway, session_id, timestamp, message_id"):
        when, before = datetime.fromisoformat(stamp), last.get((gateway, sid))
        last[(gateway, sid)] = when
        if before is None:
            continue
        life = (LONG_CACHE_LIFETIME if agent in long_agents and provider == "anthropic"
                else CACHE_LIFETIME)
        pause = when - before
        kind = "within" if pause <= CACHE_LIFETIME else "kept" if pause <= life else "expired"
        missed[kind].append(read_tokens == 0)
        if pause > CACHE_LIFETIME:
            paused.add(sid)

    assert len(missed["expired"]) >= 20 and all(missed["expired"])
    assert missed["kept"] and not all(missed["kept"]), "a long-lived cache read after a pause"
    alive = missed["within"] + missed["kept"]
    assert sum(alive) <= 0.015 * len(alive), f"{sum(alive)} of {len(alive)} missed"
    assert len(paused) >= 10, "sessions with pauses longer than the cache lives"


def test_the_long_cache_agent_pays_the_hour_rate_for_its_cache_writes(
        demo: tuple[Path, str, dict[str, Any]]) -> None:
    """Anthropic charges twice the input price for a cache write kept an hour, and 1.25
    times for one kept 5 minutes (the price table's `cacheWrite`). The Anthropic calls of
    an agent with `cacheRetention: "long"` write their cache for an hour: as newer pi does
    (format §4.5), their usage says so in `cacheWrite1h` (all of `cacheWrite`) and their
    recorded cost prices it at the hour rate, in its `cacheWrite` part and its total; no
    other call has the field. The ingest keeps the recorded cost (C2) and its parts, and
    reads the field without a parse issue."""
    state, url, _ = demo
    long_agents = _long_cache_agents(state)
    config = json.loads((state / "openclaw.json").read_text())["models"]["providers"]
    prices = {(provider, model["id"]): model["cost"]
              for provider, entry in config.items() for model in entry["models"]}
    hour = {False: 0, True: 0}
    for path in state.rglob("*.jsonl*"):
        if path.name.endswith(".zst") or ".trajectory." in path.name:
            continue
        agent = path.relative_to(state).parts[1]
        for line in path.read_bytes().splitlines():
            message = json.loads(line).get("message") or {}
            usage = message.get("usage")
            if message.get("role") != "assistant" or not usage or not any(
                    usage[key] for key in ("input", "output", "cacheRead", "cacheWrite")):
                continue
            long = agent in long_agents and message["provider"] == "anthropic"
            assert ("cacheWrite1h" in usage) == long, (path, line)
            if long:
                assert usage["cacheWrite1h"] == usage["cacheWrite"]
            price = prices[(message["provider"], message["model"])]
            rate = 2 * price["input"] if long else price["cacheWrite"]
            cost = usage["cost"]
            if cost["total"]:
                assert cost["cacheWrite"] == pytest.approx(rate * usage["cacheWrite"] / 1e6)
                assert cost["total"] == pytest.approx(sum(
                    cost[key] for key in ("input", "output", "cacheRead", "cacheWrite")))
            hour[long] += int(usage["cacheWrite"] > 0)
    assert hour[True] >= 20 and hour[False] >= 20, hour
    stored = query(url, "SELECT agent_id, model, cache_write_tokens, cache_write_cost, "
                        "input_cost + output_cost + cache_read_cost + cache_write_cost, cost "
                        "FROM messages WHERE provider = 'anthropic' AND cache_write_tokens > 0")
    for agent, model, written, write_cost, parts, cost in stored:
        price = prices[("anthropic", model)]
        rate = 2 * price["input"] if agent in long_agents else price["cacheWrite"]
        assert write_cost == pytest.approx(rate * written / 1e6)
        assert parts == pytest.approx(cost)
    assert query(url, "SELECT kind, detail FROM parse_issues") == []


def test_the_session_page_finds_expired_caches_and_few_spikes_in_the_demo(
        demo: tuple[Path, str, dict[str, Any]]) -> None:
    """What the session page says drove the cost (`read.cost_drivers`): on the demo, calls
    that missed a cache a pause let expire in several sessions, and calls that missed the
    cache in the middle of a session in a few only (as real sessions show them)."""
    _, url, _ = demo
    found: dict[str, set[str]] = {"cache_expired": set(), "missed": set()}
    engine = open_db(url, create=False)
    try:
        sessions = query(url, "SELECT session_id, gateway FROM sessions")
        for sid, gateway in sessions:
            drivers = read.cost_drivers(engine, session_id=sid, gateway=gateway)
            for rule, text in zip(drivers["rule"], drivers["text"], strict=True):
                if rule == "cache_expired":
                    found["cache_expired"].add(sid)
                elif rule == "spikes" and "missed the cache" in text:
                    found["missed"].add(sid)
    finally:
        engine.dispose()

    assert len(found["cache_expired"]) >= 5
    assert 1 <= len(found["missed"]) <= 0.1 * len(sessions)


def test_the_same_seed_and_now_give_the_same_demo(tmp_path: Path) -> None:
    made = [prepare_demo(tmp_path / name / "state", str(tmp_path / f"{name}.db"), now=NOW,
                         calls=300) for name in ("a", "b")]
    later = prepare_demo(tmp_path / "c" / "state", str(tmp_path / "c.db"),
                         now=NOW + timedelta(days=1), calls=300)
    other = prepare_demo(tmp_path / "d" / "state", str(tmp_path / "d.db"), now=NOW, seed=7,
                         calls=300)
    assert made[0] == made[1]
    for path in sorted((tmp_path / "a" / "state").rglob("*")):
        if path.is_file():
            twin = tmp_path / "b" / "state" / path.relative_to(tmp_path / "a" / "state")
            assert path.read_bytes() == twin.read_bytes(), path
    assert later["options"]["end_ms"] - made[0]["options"]["end_ms"] == 86_400_000
    assert other["cost"] != made[0]["cost"]
    with pytest.raises(ValueError, match="aware"):
        prepare_demo(tmp_path / "e", str(tmp_path / "e.db"), now=datetime(2026, 5, 1))


def test_real_data_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    generate(tmp_path / "real", Options(calls=20, seed=1))
    url = f"sqlite:///{tmp_path / 'real.db'}"
    assert ingest(tmp_path / "real", url, "-q").code == 0
    before = totals(url)

    with pytest.raises(NotDemoError, match="not demo data"):
        prepare_demo(tmp_path / "state", url, now=NOW)

    assert not (tmp_path / "state").exists()
    assert totals(url) == before


def test_an_earlier_demo_is_replaced(tmp_path: Path, db_url: str) -> None:
    """On PostgreSQL too (review 19: a second `./start.sh --demo --db <PostgreSQL URL>`
    piled a second demo onto the first, 6,019 calls where its expected totals said
    6,000): an earlier demo's rows all go, the schema stays."""
    build_demo(tmp_path / "state", db_url, now=NOW - timedelta(days=3), calls=200)
    assert has_calls(db_url)

    expected = prepare_demo(tmp_path / "state", db_url, now=NOW, calls=200)

    assert not has_calls(db_url), "a fresh, empty demo database, marked"
    assert query(db_url, "SELECT count(*) FROM meta WHERE key = 'demo'") == [(1,)]
    for table in ("sessions", "sources", "ingest_runs", "tool_calls", "cron_jobs"):
        assert query(db_url, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    assert totals(db_url)["llm_calls"] == expected["llm_calls"]


def test_a_folder_it_did_not_generate_is_never_replaced(tmp_path: Path) -> None:
    mine = tmp_path / "state" / "notes.txt"
    mine.parent.mkdir()
    mine.write_text("keep me")

    with pytest.raises(NotGeneratedError, match=EXPECTED_NAME):
        prepare_demo(tmp_path / "state", str(tmp_path / "demo.db"), now=NOW, calls=50)

    assert mine.read_text() == "keep me"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def test_the_commands_start_sh_runs(tmp_path: Path) -> None:
    state, db = tmp_path / "demo-data", tmp_path / "demo.db"
    prepared = run("openclaw_telemetry.demo", "prepare", str(state), str(db), "--now",
                   "2026-05-01T12:00:00", cwd=tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.strip() == ("6,000 LLM calls in 119 sessions of 5 agents, the 60 "
                                       "days up to 2026-05-01 12:00 UTC")
    assert run("openclaw_telemetry.preflight", "calls", str(db), cwd=tmp_path).returncode == 1
    assert ingest(state, f"sqlite:///{db}", "-q").code == 0
    assert run("openclaw_telemetry.preflight", "calls", str(db), cwd=tmp_path).returncode == 0
    assert run("openclaw_telemetry.preflight", "calls", cwd=tmp_path).returncode == 1


def test_a_busy_port_is_named_with_what_to_do() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problem = port_problem("127.0.0.1", port)
    assert problem is not None and f"port {port} on 127.0.0.1 is already in use" in problem
    assert f"--port {port % 65535 + 1}" in problem
