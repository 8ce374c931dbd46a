"""The hand-written fixtures of tests/fixtures/ (one edge case each; see its README)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ingest, query, totals

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _ingest(tmp_path: Path, name: str, url: str) -> None:
    sessions = tmp_path / "state" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copy(FIXTURES / name, sessions / name)
    ran = ingest(tmp_path / "state", url, "-q")
    assert ran.code == 0, ran.err


def test_v1_session(tmp_path: Path, db_url: str) -> None:
    _ingest(tmp_path, "v1_session.jsonl", db_url)
    assert query(db_url, "SELECT provider, model, cost, cost_source FROM messages") == [
        ("anthropic", "claude-sonnet-4-5", pytest.approx(0.0006), "recorded")]
    assert query(db_url, "SELECT session_id, thinking_level FROM sessions") == [
        ("v1-session", "low")]


def test_foreign_tool_spellings(tmp_path: Path, db_url: str) -> None:
    _ingest(tmp_path, "foreign_tool_spellings.jsonl", db_url)
    t = totals(db_url)
    assert (t["llm_calls"], t["input"], t["output"], t["cache_read"]) == (2, 150, 15, 1200)
    assert query(db_url, "SELECT tool_name, is_error, duration_ms FROM tool_calls "
                         "ORDER BY tool_name") == [("exec", True, 1000), ("read", False, 1500)]


def test_synthetic_and_errors(tmp_path: Path, db_url: str) -> None:
    _ingest(tmp_path, "synthetic_and_errors.jsonl", db_url)
    t = totals(db_url)
    assert (t["llm_calls"], t["errors"], t["input"], t["cache_read"]) == (2, 2, 1200, 800)
    assert t["cost"] == pytest.approx(0.00384)
