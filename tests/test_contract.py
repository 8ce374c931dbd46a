"""One test per rule of the accounting contract (docs/accounting.md), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from openclaw_telemetry.ingest.writer import Writer
from openclaw_telemetry.pricing import LIBRARY_PROVIDER
from openclaw_telemetry.sources.attribution import parse_key
from openclaw_telemetry.sources.usage import normalize_usage, recorded_cost
from tests.conftest import ingest, query, totals
from tests.entries import (
    T0,
    assistant,
    header,
    iso,
    state_dir,
    tool_call,
    tool_result,
    user,
    write,
)

SID_A = "aaaaaaaa-0000-4000-8000-000000000001"
SID_B = "bbbbbbbb-0000-4000-8000-000000000002"
SID_C = "cccccccc-0000-4000-8000-000000000003"


def run(state: Path, url: str, *extra: str) -> dict[str, object]:
    ran = ingest(state, url, "--json", *extra)
    assert ran.code == 0, ran.err
    return json.loads(ran.out)


# -- A: what is read ---------------------------------------------------------------------
def test_a1_every_agent_is_read(tmp_path: Path, db_url: str) -> None:
    for agent, sid in (("main", SID_A), ("work", SID_B)):
        write(state_dir(tmp_path, agent), f"{sid}.jsonl", header(sid), assistant(T0 + 1000))
    run(tmp_path / "state", db_url)
    assert sorted(query(db_url, "SELECT agent_id FROM sessions")) == [("main",), ("work",)]


@pytest.mark.parametrize("name, counted", [
    (f"{SID_A}.jsonl", True),
    (f"{SID_A}.jsonl.reset.2026-11-24T03-27-29.882Z", True),
    (f"{SID_A}.jsonl.deleted.2026-11-24T03-27-29.882Z", True),
    (f"{SID_A}.jsonl.bak.2026-11-24T03-27-29.882Z", True),
    (f"{SID_A}.trajectory.jsonl", False),
    (f"{SID_A}.checkpoint.0f0f0f0f-1111-2222-3333-444444444444.jsonl", False),
    (f"{SID_A}.jsonl.lock", False),
    (f"{SID_A}.jsonl.tmp", False),
    # an archive's name followed by .tmp or .lock is still a temp or lock file (A2)
    (f"{SID_A}.jsonl.reset.2026-11-24T03-27-29.882Z.tmp", False),
    (f"{SID_A}.jsonl.deleted.2026-11-24T03-27-29.882Z.lock", False),
    (f"{SID_A}.jsonl.bak.2026-11-24T03-27-29.882Z.tmp", False),
    ("sessions.json", False),
])
def test_a2_counted_and_ignored_files(tmp_path: Path, sqlite_url: str, name: str,
                                      counted: bool) -> None:
    write(state_dir(tmp_path), name, header(SID_A), assistant(T0 + 1000))
    run(tmp_path / "state", sqlite_url)
    assert totals(sqlite_url)["llm_calls"] == (1 if counted else 0)


def test_a2_sessions_dir_may_be_agent_or_sessions_folder(tmp_path: Path, sqlite_url: str) -> None:
    sessions = state_dir(tmp_path, "work")
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0 + 1000))
    run(sessions, sqlite_url)
    run(sessions.parent, sqlite_url)
    assert query(sqlite_url, "SELECT agent_id, total_messages FROM sessions") == [("work", 1)]


@pytest.mark.parametrize("store", ["~/oc-sessions/{agentId}/sessions.json",
                                   "HOME/oc-sessions/{agentId}/sessions.json"])
def test_a1_transcripts_next_to_the_configured_session_store(
        tmp_path: Path, db_url: str, store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """openclaw.json `session.store` (JSON5, `~`, `{agentId}`) moves the transcripts next
    to the store file (format §2.1); the agents' own sessions folders are still read."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    state = tmp_path / "state"
    write(state_dir(tmp_path, "main"), f"{SID_C}.jsonl", header(SID_C),
          assistant(T0 + 500, response_id="before-the-store-moved"))
    (state / "agents" / "work" / "agent").mkdir(parents=True)
    path = store.replace("HOME", str(home))
    (state / "openclaw.json").write_text(
        "{ // JSON5, as OpenClaw allows\n session: { store: '" + path + "' },\n}\n")
    write(home / "oc-sessions" / "main", f"{SID_A}.jsonl", header(SID_A),
          assistant(T0 + 1000, response_id="main-call"))
    write(home / "oc-sessions" / "work", f"{SID_B}.jsonl", header(SID_B),
          assistant(T0 + 2000, response_id="work-call"))
    run(state, db_url)
    assert sorted(query(db_url, "SELECT agent_id, session_id, total_messages FROM sessions")) == [
        ("main", SID_A, 1), ("main", SID_C, 1), ("work", SID_B, 1)]


# -- B: what an LLM call is ----------------------------------------------------------------
def test_b1_synthetic_openclaw_messages_are_not_calls(tmp_path: Path, db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
          assistant(T0 + 10, provider="openclaw", model="delivery-mirror", cost=0, inp=0, out=0),
          assistant(T0 + 20, response_id="r1"))
    run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 1


def test_b1_usage_provider_model_fall_back_to_entry(tmp_path: Path, db_url: str) -> None:
    entry = assistant(T0 + 10, response_id="r1")
    msg = entry["message"]
    entry["usage"], entry["provider"], entry["model"] = msg.pop("usage"), msg.pop("provider"), \
        msg.pop("model")
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), entry)
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT provider, model, input_tokens FROM messages") == [
        ("fakeoa", "fake-gpt-4o", 100)]


def test_b1_usage_alias_spellings(tmp_path: Path, db_url: str) -> None:
    entry = assistant(T0 + 10, response_id="r1")
    entry["message"]["usage"] = {"prompt_tokens": 1000, "completion_tokens": 50,
                                 "prompt_tokens_details": {"cached_tokens": 400},
                                 "cost": {"total": 0.01}}
    anth = assistant(T0 + 20, response_id="r2")
    anth["message"]["usage"] = {"input_tokens": 10, "output_tokens": 5,
                                "cache_read_input_tokens": 300,
                                "cache_creation_input_tokens": 20, "cost": {"total": 0.02}}
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), entry, anth)
    run(tmp_path / "state", db_url)
    t = totals(db_url)
    assert (t["input"], t["output"], t["cache_read"], t["cache_write"]) == (610, 55, 700, 20)


@pytest.mark.parametrize(("usage", "expected"), [
    # pi's own spelling, and Anthropic's: cached counts are apart from the input
    ({"input": 5, "output": 1, "cacheRead": 7, "cacheWrite": 3}, (5, 1, 7, 3)),
    ({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 300,
      "cache_creation_input_tokens": 20}, (10, 5, 300, 20)),
    # OpenAI Chat and Responses: cache reads and writes are inside the prompt count
    ({"prompt_tokens": 1000, "completion_tokens": 10,
      "prompt_tokens_details": {"cached_tokens": 200, "cache_write_tokens": 300}},
     (500, 10, 200, 300)),
    ({"input_tokens": 1000, "output_tokens": 10,
      "input_tokens_details": {"cached_tokens": 200, "cache_write_tokens": 300}},
     (500, 10, 200, 300)),
    ({"prompt_tokens": 1000, "completion_tokens": 10, "cached_tokens": 250}, (750, 10, 250, 0)),
    # CLI spellings: inside the prompt count unless pi's own `input` is given
    ({"input_tokens": 1000, "cached_input_tokens": 400, "output_tokens": 10},
     (600, 10, 400, 0)),
    ({"input": 1000, "cached": 400, "output": 10}, (1000, 10, 400, 0)),
    ({"prompt_tokens": 1000, "completion_tokens": 10, "cache_write_input_tokens": 300},
     (700, 10, 0, 300)),
    # llama.cpp timings; a cached count larger than the prompt is clamped at 0
    ({"timings": {"prompt_n": 40, "predicted_n": 9}}, (40, 9, 0, 0)),
    ({"prompt_tokens": 100, "prompt_tokens_details": {"cached_tokens": 150}}, (0, 0, 150, 0)),
])
def test_c1_usage_spellings_follow_openclaws_normaliser(
        usage: dict[str, object], expected: tuple[int, int, int, int]) -> None:
    problems: list[str] = []
    assert tuple(normalize_usage(usage, problems)) == expected
    assert problems == []


def test_b2_errors_and_aborts_are_calls_with_their_usage(tmp_path: Path, db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
          assistant(T0 + 10, inp=0, out=0, cost=0, stop="error", errorMessage="HTTP 500"),
          assistant(T0 + 20, inp=900, out=0, cr=100, cost=0.004, stop="aborted"))
    run(tmp_path / "state", db_url)
    t = totals(db_url)
    assert (t["llm_calls"], t["errors"], t["input"], t["cache_read"]) == (2, 2, 900, 100)
    assert query(db_url, "SELECT total_errors FROM sessions") == [(2,)]


def test_b3_copies_count_once(tmp_path: Path, db_url: str) -> None:
    """Rewrites, .bak copies and forks repeat the message object with new entry ids."""
    call = assistant(T0 + 10, response_id="resp-1", cost=0.5)
    fp_call = assistant(T0 + 30, cost=0.25)  # no responseId: fingerprint identity
    copy = json.loads(json.dumps(call))
    copy["id"], copy["timestamp"] = "deadbeef", iso(T0 + 99_000)
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), call, fp_call, copy, fp_call)
    write(sessions, f"{SID_A}.jsonl.bak.2026-11-24T03-00-00.000Z", header(SID_A), call, fp_call)
    run(tmp_path / "state", db_url)
    t = totals(db_url)
    assert (t["llm_calls"], t["cost"]) == (2, pytest.approx(0.75))


def test_b3_same_fingerprint_different_provider_are_two_calls(tmp_path: Path,
                                                              db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
          assistant(T0 + 10), assistant(T0 + 10, provider="other"))
    run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 2


@pytest.mark.parametrize("order", ["parent-first", "child-first"])
def test_b4_shared_call_belongs_to_earliest_session(tmp_path: Path, db_url: str,
                                                    order: str) -> None:
    shared = assistant(T0 + 5000, response_id="shared", cost=1.0)
    sessions = state_dir(tmp_path)
    later = T0 + 60_000
    files = [(f"{SID_B}.jsonl", (header(SID_B, later), shared, assistant(later + 10,
                                                                          response_id="own"))),
             (f"{SID_A}.jsonl", (header(SID_A, T0), shared))]
    if order == "parent-first":
        files.reverse()
    for name, entries in files:
        write(sessions, name, *entries)
        run(tmp_path / "state", db_url)
    owners = dict(query(db_url, "SELECT session_id, total_messages FROM sessions"))
    assert owners == {SID_A: 1, SID_B: 1}
    assert query(db_url, "SELECT session_id FROM messages WHERE response_id = 'shared'") == [
        (SID_A,)]
    assert dict(query(db_url, "SELECT session_id, total_cost FROM sessions"))[SID_A] == 1.0


@pytest.mark.parametrize("order", ["owner-first", "other-agent-first", "together"])
def test_b4_c2_a_call_shared_by_two_agents_is_priced_as_its_owner_s(
        tmp_path: Path, db_url: str, order: str) -> None:
    """A call stored under two agents belongs to the earlier session (B4), and so does its
    price: the owner's agent's `models.json` (C2), whichever agent was read first."""
    shared = assistant(T0 + 5000, response_id="shared", inp=1_000_000, out=0, cost=0,
                       provider="localx", model="m1")
    agent_dir = tmp_path / "state" / "agents" / "work" / "agent"
    agent_dir.mkdir(parents=True)
    (agent_dir / "models.json").write_text(json.dumps({"providers": {"localx": {"models": [
        {"id": "m1", "cost": {"input": 2, "output": 0, "cacheRead": 0, "cacheWrite": 0}}]}}}))
    owner = (state_dir(tmp_path, "main"), f"{SID_A}.jsonl", header(SID_A, T0), shared)
    other = (state_dir(tmp_path, "work"), f"{SID_B}.jsonl", header(SID_B, T0 + 60_000),
             shared)
    steps = {"owner-first": [[owner], [other]], "other-agent-first": [[other], [owner]],
             "together": [[owner, other]]}[order]
    for files in steps:
        for folder, name, *entries in files:
            write(folder, name, *entries)
        run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT session_id, agent_id, cost, cost_source FROM messages") == [
        (SID_A, "main", 0.0, "unpriced")]
    assert dict(query(db_url, "SELECT agent_id, total_cost FROM sessions")) == {
        "main": 0.0, "work": 0.0}


# -- C: tokens and cost -------------------------------------------------------------------
def test_c1_total_tokens_is_the_sum_not_the_stored_total(tmp_path: Path, db_url: str) -> None:
    entry = assistant(T0 + 10, inp=10, out=20, cr=30, cw=40)
    entry["message"]["usage"]["totalTokens"] = 5
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), entry)
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT total_tokens FROM messages") == [(100,)]


def test_c1_old_google_rows_are_repaired(tmp_path: Path, db_url: str) -> None:
    entry = assistant(T0 + 10, inp=1000, out=100, cr=600, cost=0.9, provider="google",
                      model="gemini-2.5-flash")
    entry["message"]["api"] = "google-generative-ai"
    entry["message"]["usage"]["totalTokens"] = 1100  # input already included the cache
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), entry)
    (tmp_path / "state" / "openclaw.json").write_text(json.dumps({"models": {"providers": {
        "google": {"models": [{"id": "gemini-2.5-flash", "cost": {
            "input": 1, "output": 2, "cacheRead": 0.5, "cacheWrite": 0}}]}}}}))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT input_tokens, cache_read_tokens, cost, cost_source FROM messages"
                 ) == [(400, 600, pytest.approx((400 + 200 + 300) / 1e6), "estimated")]


def _config(state: Path, provider: str, model: str, prices: tuple[float, ...]) -> None:
    keys = ("input", "output", "cacheRead", "cacheWrite")
    (state / "openclaw.json").write_text(json.dumps({"models": {"providers": {provider: {
        "models": [{"id": model, "cost": dict(zip(keys, prices, strict=True))}]}}}}))


def test_c2_recorded_cost_is_used(tmp_path: Path, db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), assistant(T0, cost=0.123))
    _config(tmp_path / "state", "fakeoa", "fake-gpt-4o", (100, 100, 100, 100))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT cost, cost_source FROM messages") == [(0.123, "recorded")]


@pytest.mark.parametrize("cost", [0, None, -1, "x", float("nan")])
def test_c2_zero_missing_or_bad_cost_is_estimated_from_config(tmp_path: Path, db_url: str,
                                                              cost: object) -> None:
    entry = assistant(T0, inp=1_000_000, out=1_000_000, cr=1_000_000, cw=1_000_000, cost=0)
    if cost is None:
        del entry["message"]["usage"]["cost"]
    else:
        entry["message"]["usage"]["cost"]["total"] = cost
    path = write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A))
    with path.open("a") as handle:  # NaN is not JSON, but Node can write it as a string
        handle.write(json.dumps(entry, allow_nan=True) + "\n")
    _config(tmp_path / "state", "fakeoa", "fake-gpt-4o", (1, 2, 3, 4))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT cost, cost_source FROM messages") == [(10.0, "estimated")]


def test_c2_provider_aliases_name_providers_the_price_library_knows() -> None:
    from genai_prices import data

    known = {provider.id for provider in data.providers}
    assert set(LIBRARY_PROVIDER.values()) <= known
    assert {"zai", "github-copilot"} <= known  # OpenClaw's own ids, used as they are


def test_c2_zai_calls_with_zero_cost_are_estimated(tmp_path: Path, db_url: str) -> None:
    entry = assistant(T0 + 10, response_id="z1", provider="zai", model="glm-4.6", inp=100_000,
                      out=1_000, cost=0.0)
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), entry)
    run(tmp_path / "state", db_url)
    ((cost, source),) = query(db_url, "SELECT cost, cost_source FROM messages")
    assert source == "estimated" and cost > 0


def test_c2_price_precedence_config_then_models_json_then_library(tmp_path: Path,
                                                                  db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
          assistant(T0, inp=1_000_000, out=0, cost=0, model="m-config", response_id="1"),
          assistant(T0 + 1, inp=1_000_000, out=0, cost=0, model="m-agent", response_id="2"),
          assistant(T0 + 2, inp=1_000_000, out=0, cost=0, provider="openai", model="gpt-4o",
                    response_id="3"))
    _config(tmp_path / "state", "fakeoa", "m-config", (1, 0, 0, 0))
    agent_dir = tmp_path / "state" / "agents" / "main" / "agent"
    agent_dir.mkdir()
    (agent_dir / "models.json").write_text(json.dumps({"providers": {"fakeoa": {"models": [
        {"id": "m-agent", "cost": {"input": 2, "output": 0, "cacheRead": 0, "cacheWrite": 0}},
        {"id": "m-config", "cost": {"input": 9, "output": 0, "cacheRead": 0,
                                    "cacheWrite": 0}}]}}}))
    run(tmp_path / "state", db_url)
    got = dict(query(db_url, "SELECT model, cost FROM messages"))
    assert got["m-config"] == 1.0
    assert got["m-agent"] == 2.0
    assert got["gpt-4o"] == pytest.approx(2.5)  # gpt-4o list price from genai-prices


def test_c3_unpriced_calls_cost_zero_and_are_reported(tmp_path: Path, db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
          assistant(T0, inp=500, out=5, cost=0, provider="local", model="my-llama"))
    summary = run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT cost, cost_source FROM messages") == [(0.0, "unpriced")]
    assert (summary["unpriced_calls"], summary["unpriced_tokens"]) == (1, 505)
    assert query(db_url, "SELECT unpriced_calls FROM sessions") == [(1,)]


def test_c2_a_call_without_tokens_or_price_is_unpriced_in_any_run(tmp_path: Path,
                                                                   db_url: str) -> None:
    """No recorded cost, no tokens, a model with no price anywhere: no price was found, so
    it is unpriced ($0), whether it comes in the first run (which re-prices everything) or
    in a later one (which re-prices nothing); one with a price is estimated at $0."""
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0, response_id="1"))
    run(tmp_path / "state", db_url)
    write(sessions, f"{SID_B}.jsonl", header(SID_B),
          assistant(T0, inp=0, out=0, cost=None, provider="local", model="my-llama",
                    response_id="2"),
          assistant(T0 + 1, inp=0, out=0, cost=None, provider="openai", model="gpt-4o",
                    response_id="3"))
    later = run(tmp_path / "state", db_url)
    cold = f"sqlite:///{tmp_path / 'cold.db'}"
    first = run(tmp_path / "state", cold)
    sql = "SELECT model, cost, cost_source FROM messages WHERE response_id != '1' ORDER BY model"
    want = [("gpt-4o", 0.0, "estimated"), ("my-llama", 0.0, "unpriced")]
    assert query(db_url, sql) == query(cold, sql) == want
    assert later["unpriced_calls"] == first["unpriced_calls"] == 1


def test_c4_subscription_providers_are_flagged(tmp_path: Path, db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
          assistant(T0, provider="openai-codex", model="gpt-5.1", response_id="1"),
          assistant(T0 + 1, provider="openai", model="gpt-5.1", response_id="2"))
    run(tmp_path / "state", db_url)
    assert dict(query(db_url, "SELECT provider, subscription FROM messages")) == {
        "openai-codex": True, "openai": False}


@pytest.mark.parametrize("where", ["auth-profiles.json", "agent database", "global database"])
def test_c4_logins_are_read_from_files_and_databases(tmp_path: Path, db_url: str,
                                                     where: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A),
          assistant(T0, provider="anthropic", model="claude-sonnet-4-6", response_id="1"),
          assistant(T0 + 1, provider="openai", model="gpt-5.1", response_id="2"))
    store = json.dumps({"version": 1, "profiles": {
        "anthropic:claude-login": {"type": "token", "provider": "anthropic", "token": "secret"},
        "openai:default": {"type": "api_key", "provider": "openai", "key": "sk-secret"}}})
    state, agent_dir = tmp_path / "state", sessions.parent / "agent"
    agent_dir.mkdir()
    if where == "auth-profiles.json":
        (agent_dir / "auth-profiles.json").write_text(store)
    else:
        path = (agent_dir / "openclaw-agent.sqlite" if where == "agent database"
                else state / "state" / "openclaw.sqlite")
        path.parent.mkdir(exist_ok=True)
        table = "auth_profile_store" if where == "agent database" else "auth_profile_stores"
        with sqlite3.connect(path) as db:
            db.execute(f"CREATE TABLE {table} (store_key TEXT PRIMARY KEY, store_json TEXT, "
                       "updated_at INTEGER)")
            db.execute(f"INSERT INTO {table} VALUES ('primary', ?, 1)", (store,))
        db.close()
    run(state, db_url)
    assert dict(query(db_url, "SELECT provider, subscription FROM messages")) == {
        "anthropic": True, "openai": False}
    assert "secret" not in json.dumps(query(db_url, "SELECT * FROM session_attribution"))


# -- D: sessions, tools, time ----------------------------------------------------------------
def test_d1_session_fields(tmp_path: Path, db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A, T0),
          {"type": "thinking_level_change", "id": "t1", "parentId": None,
           "timestamp": iso(T0 + 1), "thinkingLevel": "low"},
          assistant(T0 + 10, model="m1", response_id="1", inp=1, out=2, cr=3, cw=4, cost=0.1),
          assistant(T0 + 20, model="m2", response_id="2", cost=0.2),
          assistant(T0 + 30, model="m2", response_id="3", cost=0.3),
          {"type": "thinking_level_change", "id": "t2", "parentId": None,
           "timestamp": iso(T0 + 40), "thinkingLevel": "high"},
          user("bye", T0 + 90_000))
    run(tmp_path / "state", db_url)
    row = query(db_url, "SELECT start_time, end_time, model, thinking_level, total_messages, "
                        "total_input_tokens, total_cost FROM sessions")[0]
    assert str(row[0]).startswith("2026-11-24 03:13:20")
    assert str(row[1]).startswith("2026-11-24 03:14:50")
    assert row[2:5] == ("m2", "high", 3)
    assert row[5] == 201 and row[6] == pytest.approx(0.6)


def test_d2_tool_calls_joined_to_results_and_bridge_resolved(tmp_path: Path,
                                                             db_url: str) -> None:
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
          assistant(T0, response_id="1", latency=1000, tools=[
              tool_call("c1", "read", path="x"), tool_call("c2", "tool_call", id="sessions_spawn",
                                                           args={"task": "t"})]),
          tool_result("c1", "read", T0 + 1500, error=True),
          tool_result("c2", "tool_call", T0 + 4000, duration=1234))
    run(tmp_path / "state", db_url)
    rows = query(db_url, "SELECT tool_call_id, tool_name, bridge_name, is_error, duration_ms "
                         "FROM tool_calls ORDER BY tool_call_id")
    assert rows == [("c1", "read", None, True, 500), ("c2", "sessions_spawn", "tool_call", False,
                                                      1234)]
    assert query(db_url, "SELECT total_tool_calls FROM sessions") == [(2,)]


def test_d2_result_in_a_later_run_is_joined(tmp_path: Path, db_url: str) -> None:
    path = write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
                 assistant(T0, response_id="1", tools=[tool_call("c1", "exec")]))
    run(tmp_path / "state", db_url)
    with path.open("ab") as handle:
        handle.write(json.dumps(tool_result("c1", "exec", T0 + 9000, error=True)).encode() + b"\n")
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT is_error FROM tool_calls") == [(True,)]


def test_d3_attribution_from_store_and_kept_after_it_forgets(tmp_path: Path,
                                                             db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0, response_id="1"))
    store = sessions / "sessions.json"
    store.write_text(json.dumps({"agent:main:telegram:group:-100": {
        "sessionId": SID_A, "channel": "telegram", "label": "Ops room"}}))
    run(tmp_path / "state", db_url)
    store.write_text("{}")
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT session_key, kind, channel, label FROM sessions") == [
        ("agent:main:telegram:group:-100", "group", "telegram", "Ops room")]


@pytest.mark.parametrize(("key", "kind", "channel"), [
    ("agent:main:main", "main", None),
    ("agent:main:home", "main", None),  # session.mainKey = home
    ("global", "main", None),
    ("agent:main:main:thread:1700000000.123", "thread", None),  # a DM thread: no channel
    ("agent:main:discord:channel:42:thread:9", "thread", "discord"),
    ("agent:main:telegram:direct:7", "direct", "telegram"),
    ("agent:ops:cron:job-1:run:abc", "cron", None),
    ("agent:main:homework", "unknown", None),
])
def test_d3_session_key_grammar(key: str, kind: str, channel: str | None) -> None:
    info = parse_key(key, ("main", "home"))
    assert (info.kind, info.channel) == (kind, channel)


def test_e4_a_display_name_is_neither_label_nor_cron_job(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0, response_id="1"))
    (sessions / "sessions.json").write_text(json.dumps({"agent:main:telegram:direct:7": {
        "sessionId": SID_A, "displayName": "Cron: remind me, my PIN is 4711"}}))
    run(tmp_path / "state", db_url)
    assert "4711" not in json.dumps(query(db_url, "SELECT * FROM sessions"), default=str)
    assert "4711" not in json.dumps(query(db_url, "SELECT * FROM session_attribution"),
                                    default=str)


def test_d3_main_key_setting_is_read(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0, response_id="1"))
    (sessions / "sessions.json").write_text(json.dumps({"agent:main:home": {"sessionId": SID_A}}))
    (tmp_path / "state" / "openclaw.json").write_text(json.dumps({"session": {"mainKey": "home"}}))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT session_key, kind FROM sessions") == [("agent:main:home", "main")]


def test_d3_orphan_cron_and_subagent_from_text_markers(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A),
          user("[cron:job-1 nightly-digest] Digest now", T0), assistant(T0 + 5, response_id="1"))
    write(sessions, f"{SID_B}.jsonl.deleted.2026-11-24T03-00-00.000Z", header(SID_B),
          user("[Subagent Context] You are running as a subagent (depth 1/1).", T0),
          assistant(T0 + 5, response_id="2"))
    run(tmp_path / "state", db_url)
    assert dict((r[0], r[1:]) for r in query(
        db_url, "SELECT session_id, kind, cron_job_id, cron_job_name FROM sessions")) == {
        SID_A: ("cron", "job-1", "nightly-digest"), SID_B: ("subagent", None, None)}


def test_d3_subagent_parent_is_the_session_active_at_spawn(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    old_main, new_main, child = SID_A, SID_B, "cccccccc-0000-4000-8000-000000000003"
    write(sessions, f"{old_main}.jsonl.reset.2026-11-24T03-00-00.000Z", header(old_main, T0),
          assistant(T0 + 5, response_id="1"))
    write(sessions, f"{new_main}.jsonl", header(new_main, T0 + 100_000),
          assistant(T0 + 100_005, response_id="2"))
    write(sessions, f"{child}.jsonl", header(child, T0 + 50_000),
          assistant(T0 + 50_005, response_id="3"))
    (sessions / "sessions.json").write_text(json.dumps({
        "agent:main:main": {"sessionId": new_main, "compactionCheckpoints": [
            {"sessionId": old_main, "sessionKey": "agent:main:main"}]},
        "agent:main:subagent:x": {"sessionId": child, "spawnedBy": "agent:main:main",
                                  "spawnDepth": 1}}))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT kind, parent_session_id FROM sessions WHERE session_id = :s",
                 s=child) == [("subagent", old_main)]


def test_d3_no_parent_that_started_after_the_child(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    main, child = SID_A, SID_B
    write(sessions, f"{main}.jsonl", header(main, T0 + 100_000),
          assistant(T0 + 100_005, response_id="1"))
    write(sessions, f"{child}.jsonl", header(child, T0), assistant(T0 + 5, response_id="2"))
    (sessions / "sessions.json").write_text(json.dumps({
        "agent:main:main": {"sessionId": main},
        "agent:main:subagent:x": {"sessionId": child, "spawnedBy": "agent:main:main"}}))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT parent_session_id FROM sessions WHERE session_id = :s",
                 s=child) == [(None,)]


@pytest.mark.parametrize("parent_file", ["{}.jsonl", "{}.jsonl.reset.2026-11-24T05-00-00.000Z"])
def test_d3_fork_parent_from_the_header(tmp_path: Path, db_url: str, parent_file: str) -> None:
    sessions = state_dir(tmp_path)
    parent, fork = SID_A, SID_B  # the header names the parent's file as it was then
    write(sessions, parent_file.format(parent), header(parent),
          assistant(T0 + 5, response_id="1"))
    write(sessions, f"2026-11-24T04-00-00-000Z_{fork}.jsonl",
          header(fork, T0 + 1000, parentSession=f"/elsewhere/.openclaw/agents/main/sessions/"
                                                f"{parent}.jsonl"),
          assistant(T0 + 2005, response_id="2"))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT parent_session_id FROM sessions WHERE session_id = :s",
                 s=fork) == [(parent,)]


def test_d3_header_id_unlike_the_file_name_still_gets_the_store_entry(tmp_path: Path,
                                                                       db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_B), assistant(T0 + 5, response_id="1"))
    (sessions / "sessions.json").write_text(json.dumps({
        "agent:main:telegram:group:-100": {"sessionId": SID_A, "channel": "telegram"}}))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT session_id, session_key, kind, channel FROM sessions") == [
        (SID_B, "agent:main:telegram:group:-100", "group", "telegram")]


def test_d3_a_cron_run_log_never_replaces_the_stores_key(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0, response_id="1"))
    (sessions / "sessions.json").write_text(json.dumps({"agent:main:cron:job1": {
        "sessionId": SID_A}}))
    runs = tmp_path / "state" / "cron" / "runs"
    runs.mkdir(parents=True)
    (runs / "job1.jsonl").write_text(json.dumps({
        "jobId": "job1", "sessionId": SID_A,
        "sessionKey": f"agent:main:cron:job1:run:{SID_A}"}) + "\n")
    run(tmp_path / "state", db_url)
    (sessions / "sessions.json").write_text(json.dumps({"agent:main:cron:job1": {
        "sessionId": SID_A, "updatedAt": 2}}))  # rewritten later: read again
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT session_key, kind, cron_job_id FROM sessions") == [
        ("agent:main:cron:job1", "cron", "job1")]


def test_d4_times_are_naive_utc_and_sqlite_date_functions_work(tmp_path: Path,
                                                               sqlite_url: str) -> None:
    entry = assistant(T0, response_id="1")
    entry["timestamp"] = "2026-11-24T03:53:20.500+02:00"
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), entry)
    run(tmp_path / "state", sqlite_url)
    assert query(sqlite_url, "SELECT timestamp, date(timestamp) FROM messages") == [
        ("2026-11-24 01:53:20.500000", "2026-11-24")]


# -- E: runs -----------------------------------------------------------------------------------
def test_e1_appended_lines_only_are_read(tmp_path: Path, db_url: str) -> None:
    path = write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
                 assistant(T0, response_id="1"))
    assert run(tmp_path / "state", db_url)["new_calls"] == 1
    with path.open("ab") as handle:
        handle.write(json.dumps(assistant(T0 + 10, response_id="2")).encode() + b"\n")
    summary = run(tmp_path / "state", db_url)
    assert (summary["new_calls"], summary["sources_read"]) == (1, 1)
    assert run(tmp_path / "state", db_url)["sources_read"] == 0


def test_e1_rename_to_reset_is_not_counted_again(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    path = write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0, response_id="1"))
    run(tmp_path / "state", db_url)
    path.rename(sessions / f"{SID_A}.jsonl.reset.2026-11-24T03-27-29.882Z")
    summary = run(tmp_path / "state", db_url)
    assert (summary["new_calls"], summary["sources_read"]) == (0, 0)
    assert query(db_url, "SELECT rel_path, kind, present FROM sources") == [
        (f"agents/main/sessions/{SID_A}.jsonl.reset.2026-11-24T03-27-29.882Z", "file:reset", True)]


def test_e1_line_trim_compact_bak_plus_shorter_primary(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    calls = [assistant(T0 + i, response_id=f"r{i}", cost=0.01) for i in range(5)]
    path = write(sessions, f"{SID_A}.jsonl", header(SID_A), *calls)
    run(tmp_path / "state", db_url)
    path.rename(sessions / f"{SID_A}.jsonl.bak.2026-11-24T03-00-00.000Z")
    write(sessions, f"{SID_A}.jsonl", *calls[-2:], assistant(T0 + 9, response_id="new"))
    run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 6


def test_e1_shrunk_or_rewritten_file_replaces_its_contribution(tmp_path: Path,
                                                               db_url: str) -> None:
    sessions = state_dir(tmp_path)
    path = write(sessions, f"{SID_A}.jsonl", header(SID_A),
                 *[assistant(T0 + i, response_id=f"r{i}") for i in range(4)])
    run(tmp_path / "state", db_url)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0 + 7, response_id="only"))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT response_id FROM messages") == [("only",)]
    same_size = path.read_bytes().replace(b'"only"', b'"onlz"')
    path.write_bytes(same_size)
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT response_id FROM messages") == [("onlz",)]
    assert query(db_url, "SELECT total_messages FROM sessions") == [(1,)]


@pytest.mark.parametrize("same_size", [True, False])
def test_e1_a_rewritten_file_s_calls_are_stored_as_it_now_holds_them(
        tmp_path: Path, db_url: str, same_size: bool) -> None:
    """A call only the rewritten file held takes its values from the file as it is now,
    as a first ingest of it would (E1: its earlier contribution replaced; B4: not how many
    runs it took): cost, tokens and how it ended; the summary counts no call as new."""
    sessions = state_dir(tmp_path)
    path = write(sessions, f"{SID_A}.jsonl", header(SID_A),
                 assistant(T0, response_id="r1", cost=0.125, inp=111),
                 assistant(T0 + 10, response_id="r2", cost=0.001))
    run(tmp_path / "state", db_url)
    if same_size:
        path.write_bytes(path.read_bytes().replace(b'"total": 0.125', b'"total": 0.375')
                         .replace(b'"input": 111,', b'"input": 333,'))
    else:
        write(sessions, f"{SID_A}.jsonl", header(SID_A),
              assistant(T0, response_id="r1", cost=0.375, inp=333, stop="error",
                        errorMessage="boom"),
              assistant(T0 + 10, response_id="r2", cost=0.001))
    summary = run(tmp_path / "state", db_url)
    assert summary["new_calls"] == 0
    got = totals(db_url)
    assert (got["llm_calls"], got["input"], round(got["cost"], 6)) == (2, 433, 0.376)
    assert got["errors"] == (0 if same_size else 1)
    assert query(db_url, "SELECT total_input_tokens, total_cost FROM sessions") == [
        (433, pytest.approx(0.376))]
    assert query(db_url, "SELECT sum(input), sum(cost), sum(errors) FROM usage_quarter_hours") == [
        (433, pytest.approx(0.376), 0 if same_size else 1)]
    run(tmp_path / "state", db_url, "--full")
    assert totals(db_url) == got


def test_e1_e2_a_run_killed_while_storing_rewritten_calls_anew_is_finished_exactly(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewritten files' calls stay stored until read again (no hole in the dashboards for
    the length of a run), and a run killed half-way through storing them anew is finished
    by the next as an uninterrupted run would have."""
    sessions = state_dir(tmp_path)
    paths = [write(sessions, f"{sid}.jsonl", header(sid, T0 + i),
                   assistant(T0 + 10 + i, response_id=f"r{i}", cost=0.125))
             for i, sid in enumerate((SID_A, SID_B))]
    run(tmp_path / "state", db_url)
    for path in paths:
        path.write_bytes(path.read_bytes().replace(b'"total": 0.125', b'"total": 0.375'))
    original = Writer.commit
    commits = []

    def dies_after_one(self: Writer) -> None:
        original(self)
        commits.append(1)
        if len(commits) == 1:
            raise RuntimeError("killed")

    monkeypatch.setattr(Writer, "commit", dies_after_one)
    with pytest.raises(RuntimeError):
        ingest(tmp_path / "state", db_url, "--batch-size", "1", "--jobs", "1")
    monkeypatch.setattr(Writer, "commit", original)
    half = totals(db_url)
    assert (half["llm_calls"], half["cost"]) == (2, 0.5)  # one renewed, one not yet
    assert run(tmp_path / "state", db_url)["new_calls"] == 0
    assert (totals(db_url)["llm_calls"], totals(db_url)["cost"]) == (2, 0.75)
    assert query(db_url, "SELECT sum(cost) FROM usage_quarter_hours") == [(pytest.approx(0.75),)]


def test_e1_data_of_deleted_files_stays(tmp_path: Path, db_url: str) -> None:
    path = write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A),
                 assistant(T0, response_id="1"))
    run(tmp_path / "state", db_url)
    path.unlink()
    summary = run(tmp_path / "state", db_url)
    assert summary["sources_gone"] == 1
    assert totals(db_url)["llm_calls"] == 1
    assert run(tmp_path / "state", db_url, "--full")["new_calls"] == 0
    assert totals(db_url)["llm_calls"] == 1


def test_e3_bad_input_costs_only_itself(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    good = [json.dumps(assistant(T0 + i, response_id=f"r{i}")).encode() for i in range(4)]
    bad_number = assistant(T0 + 50, response_id="bn")
    bad_number["message"]["usage"]["output"] = "many"
    surrogate = json.dumps(assistant(T0 + 60, response_id="sur", errorMessage="x\ud83d")).encode()
    body = b"\n".join([
        json.dumps(header(SID_A)).encode(), good[0], b"{not json", good[1],
        b'{"type":"message","message":{"role":"assistant","provider":"p\xff\xfe","model":"m",'
        b'"responseId":"utf","usage":{"input":1,"output":1}},"timestamp":"2026-11-24T01:00:00Z"}',
        json.dumps(bad_number).encode(), surrogate, b'{"type":"mystery"}', b"[1,2]", good[2],
        good[3][:40]])  # unterminated last line: left for the next run
    (sessions / f"{SID_A}.jsonl").write_bytes(body)
    summary = run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 6  # 3 good, invalid utf-8, bad number, surrogate
    assert summary["bad_input"] == {"bad_number": 1, "invalid_utf8": 1, "lone_surrogate": 1,
                                    "malformed_json": 1, "not_an_object": 1,
                                    "unknown_entry_type": 1}
    issues = query(db_url, "SELECT path, position, kind FROM parse_issues ORDER BY position")
    assert issues[0] == (f"agents/main/sessions/{SID_A}.jsonl", 3, "malformed_json")
    with (sessions / f"{SID_A}.jsonl").open("ab") as handle:
        handle.write(good[3][40:] + b"\n")
    assert run(tmp_path / "state", db_url)["new_calls"] == 1
    assert run(tmp_path / "state", db_url, "--full")["bad_input"]["malformed_json"] == 1
    assert totals(db_url)["llm_calls"] == 7


def test_e3_unreadable_file_is_reported_and_the_run_succeeds(tmp_path: Path,
                                                             db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, f"{SID_A}.jsonl", header(SID_A), assistant(T0, response_id="1"))
    (sessions / f"{SID_B}.jsonl").mkdir()  # a directory where a file is expected: skipped
    broken = tmp_path / "state" / "agents" / "main" / "agent"
    broken.mkdir()
    (broken / "openclaw-agent.sqlite").write_bytes(b"this is not a database" * 100)
    summary = run(tmp_path / "state", db_url)
    assert summary["new_calls"] == 1
    assert any("openclaw-agent.sqlite" in u for u in summary["unreadable"])


def test_e4_no_message_text_is_stored(tmp_path: Path, sqlite_url: str) -> None:
    secret = "my-very-secret-prompt-text"
    write(state_dir(tmp_path), f"{SID_A}.jsonl", header(SID_A), user(secret, T0),
          assistant(T0 + 5, response_id="1", tools=[tool_call("c1", "exec", command=secret)]),
          tool_result("c1", "exec", T0 + 10))
    run(tmp_path / "state", sqlite_url)
    dump = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    assert secret.encode() not in dump


@pytest.mark.parametrize(("cost", "split"), [
    ({"input": 0.5, "output": 0.25, "cacheRead": 0.125, "cacheWrite": 0.125, "total": 1.0},
     (0.5, 0.25, 0.125, 0.125)),
    ({"input": 0.5, "output": 0.5, "total": 1.0}, (0.5, 0.5, 0.0, 0.0)),  # a part missing: 0
    ({"input": 1, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 1}, (1.0, 0, 0, 0)),
    ({"input": 0.1, "output": 0.2, "cacheRead": 0, "cacheWrite": 0, "total": 0.30000000000000004},
     (0.1, 0.2, 0.0, 0.0)),  # rounded apart
    ({"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0.002}, None),
    ({"input": -0.5, "output": 1.5, "total": 1.0}, None),
    ({"input": True, "output": 0.0, "total": 1.0}, None),
    ({"input": float("nan"), "output": 1.0, "total": 1.0}, None),
    ({"input": "0.5", "output": 0.5, "total": 1.0}, None),
    ({"input": 0.5, "output": 0.5}, None),  # no total: nothing recorded
])
def test_the_recorded_cost_by_kind_counts_when_its_parts_make_the_total(
        cost: dict[str, object], split: tuple[float, ...] | None) -> None:
    """OpenClaw's `usage.cost` parts are a call's cost by kind only when each is a number
    from 0 and together they make the total (contract C2's recorded cost); the parts are
    extra, so they never make a problem of their own."""
    problems: list[str] = []
    assert recorded_cost({"cost": cost}, problems).split == split
    assert problems == []
