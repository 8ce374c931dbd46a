"""Several gateways (OpenClaw hosts) in one database (issue 14): each ingest is one
gateway's, with its own read state, de-duplication, ownership, attribution and finalisation;
gateways ingest side by side, two runs of one gateway never interleave."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from openclaw_telemetry.ingest.lock import run_lock
from openclaw_telemetry.store import open_db
from tests.conftest import SAMPLE_VERSIONS, copy_sample, ingest, query, sample_figures, totals
from tests.test_golden_samples import KEYS
from tests.test_migrations import older_database
from tests.test_rollup import assert_rollup_exact

ROOT = Path(__file__).resolve().parents[1]
JSONL, SQLITE = SAMPLE_VERSIONS[0], SAMPLE_VERSIONS[1]
# gateway -> the sample its host holds; gw-c holds the very files gw-a holds, so every
# session id, call and tool call exists twice and must be kept apart by gateway
FLEET = {"gw-a": JSONL, "gw-b": SQLITE, "gw-c": JSONL}


def _assert_sample(url: str, gateway: str, version: str) -> None:
    want = sample_figures(version)["total"]
    got = totals(url, gateway=gateway)
    assert {k: got[k] for k in KEYS} == {k: want[k] for k in KEYS}, gateway
    assert got["cost"] == pytest.approx(want["cost"], abs=1e-8), gateway


def _start(state: Path, url: str, gateway: str) -> subprocess.Popen[str]:
    """One host's ingest, a process of its own. `lock_timeout`: any lock of the server
    waited on for more than a second fails the run (exit 1), and `--lock-wait 1` the run
    lock: the test proves that no gateway waits on another."""
    env = {**os.environ, "PGOPTIONS": "-c lock_timeout=1000"}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "session_parser.py"), "--sessions-dir", str(state),
         "--db", url, "--gateway", gateway, "--lock-wait", "1", "-q"],
        cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _fleet(tmp_path: Path, url: str) -> dict[str, Path]:
    states = {gw: copy_sample(version, tmp_path / gw / version) for gw, version in FLEET.items()}
    open_db(url).dispose()  # the shared database exists (its first host made it)
    runs = {gw: _start(state, url, gw) for gw, state in states.items()}
    for gw, run in runs.items():
        _out, err = run.communicate(timeout=300)
        assert run.returncode == 0, f"{gw}: {err}"
    return states


@pytest.mark.postgres
def test_three_gateways_at_once_then_a_fourth_from_the_same_path(tmp_path: Path,
                                                                   postgres_url: str) -> None:
    states = _fleet(tmp_path, postgres_url)
    for gw, version in FLEET.items():
        _assert_sample(postgres_url, gw, version)
    # a fourth host keeps its state at the very path the first one used
    assert ingest(states["gw-a"], postgres_url, "--gateway", "gw-d", "-q").code == 0
    _assert_sample(postgres_url, "gw-d", JSONL)
    for gw, version in FLEET.items():  # nobody else's figures moved
        _assert_sample(postgres_url, gw, version)
    assert query(postgres_url, "SELECT count(DISTINCT path), count(*) FROM sources "
                               "WHERE gateway IN ('gw-a', 'gw-d')")[0][1] == \
        2 * query(postgres_url, "SELECT count(*) FROM sources WHERE gateway = 'gw-a'")[0][0]
    assert_rollup_exact(postgres_url)


def test_gateways_on_sqlite_take_turns_and_stay_apart(tmp_path: Path, sqlite_url: str) -> None:
    states = _fleet(tmp_path, sqlite_url)
    assert ingest(states["gw-a"], sqlite_url, "--gateway", "gw-d", "-q").code == 0
    for gw, version in {**FLEET, "gw-d": JSONL}.items():
        _assert_sample(sqlite_url, gw, version)
    assert_rollup_exact(sqlite_url)
    # a rerun of each gateway finds nothing new, and changes nobody's figures
    for gw, state in states.items():
        ran = ingest(state, sqlite_url, "--gateway", gw, "--json")
        assert ran.code == 0 and '"new_calls": 0' in ran.out, ran.err
    for gw, version in FLEET.items():
        _assert_sample(sqlite_url, gw, version)


def test_one_session_id_on_two_gateways_is_two_sessions(tmp_path: Path,
                                                       db_url: str) -> None:
    state = copy_sample(JSONL, tmp_path / JSONL)
    for gw in ("home", "office"):
        assert ingest(state, db_url, "--gateway", gw, "-q").code == 0
    per_gateway = dict(query(db_url, "SELECT gateway, count(*) FROM sessions GROUP BY gateway"))
    assert per_gateway["home"] == per_gateway["office"] > 0
    assert query(db_url, "SELECT count(*) FROM sessions s JOIN messages m ON "
                         "m.session_id = s.session_id AND m.gateway = s.gateway "
                         "WHERE m.gateway = 'home'")[0][0] == \
        sample_figures(JSONL)["total"]["llm_calls"]


@pytest.mark.postgres
def test_one_gateway_never_interleaves_another_never_waits(tmp_path: Path,
                                                           postgres_url: str) -> None:
    state = copy_sample(JSONL, tmp_path / JSONL)
    engine = open_db(postgres_url)
    try:
        with run_lock(engine, "busy", 5.0):  # a run of gateway "busy" is under way
            began = time.monotonic()
            blocked = ingest(state, postgres_url, "--gateway", "busy", "--lock-wait", "0.3")
            assert blocked.code == 3 and "another ingest run" in blocked.err
            free = ingest(state, postgres_url, "--gateway", "idle", "--lock-wait", "0.3", "-q")
            assert free.code == 0, free.err
            assert time.monotonic() - began < 60
    finally:
        engine.dispose()
    _assert_sample(postgres_url, "idle", JSONL)
    assert query(postgres_url, "SELECT count(*) FROM messages WHERE gateway = 'busy'") == [(0,)]


def test_rows_stored_before_gateways_get_the_upgrading_hosts_name(db_url: str) -> None:
    with older_database(db_url, "m008_gateways") as conn:
        conn.execute(text("INSERT INTO sessions (session_id, agent_id, kind, total_messages, "
                          "total_tool_calls, total_input_tokens, total_output_tokens, "
                          "total_cache_read_tokens, total_cache_write_tokens, total_cost, "
                          "total_errors, estimated_cost, unpriced_calls, dirty) VALUES "
                          "('s1', 'main', 'direct', 1, 0, 10, 5, 0, 0, 0.5, 0, 0, 0, FALSE)"))
        conn.execute(text("INSERT INTO messages (message_id, session_id, agent_id, timestamp, "
                          "role, model, provider, input_tokens, output_tokens, "
                          "cache_read_tokens, cache_write_tokens, total_tokens, cost, "
                          "cost_source, is_error, subscription, tool_call_count) VALUES "
                          "('k1', 's1', 'main', '2026-11-01 10:07:00', 'assistant', 'm', 'p', "
                          "10, 5, 0, 0, 15, 0.5, 'recorded', FALSE, FALSE, 0)"))
    open_db(db_url, gateway="old-host").dispose()
    assert query(db_url, "SELECT gateway FROM sessions") == [("old-host",)]
    assert query(db_url, "SELECT gateway FROM messages") == [("old-host",)]
    assert query(db_url, "SELECT gateway, calls, cost FROM usage_quarter_hours") == [
        ("old-host", 1, 0.5)]
    assert_rollup_exact(db_url)


def test_input_problems_stored_before_get_their_sources_gateway(db_url: str) -> None:
    """m009: a problem recorded before problems named their gateway gets its source's (a
    database of several gateways keeps each problem on its own host), and one whose source
    row is missing the upgrading host's."""
    with older_database(db_url, "m009_parse_issue_gateways") as conn:
        for source_id, gateway in ((1, "home"), (2, "office")):
            conn.execute(text("INSERT INTO sources (source_id, gateway, path, rel_path, kind) "
                              "VALUES (:i, :g, :p, 's.jsonl', 'file')"),
                         {"i": source_id, "g": gateway, "p": f"/{gateway}/s.jsonl"})
        for line, source_id in enumerate((1, 2, 2, 7)):
            conn.execute(text("INSERT INTO parse_issues (source_id, path, position, kind) "
                              "VALUES (:i, 's.jsonl', :n, 'malformed_json')"),
                         {"i": source_id, "n": line})
    open_db(db_url, gateway="upgrader").dispose()
    assert query(db_url, "SELECT source_id, gateway FROM parse_issues ORDER BY id") == [
        (1, "home"), (2, "office"), (2, "office"), (7, "upgrader")]


def test_gateway_name_is_checked(tmp_path: Path, sqlite_url: str) -> None:
    state = copy_sample(JSONL, tmp_path / JSONL)
    ran = ingest(state, sqlite_url, "--gateway", "  ")
    assert ran.code == 64 and "gateway name" in ran.err
