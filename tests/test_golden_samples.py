"""Golden totals: both real OpenClaw samples against shared/samples/expected.json."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_VERSIONS, ingest, query, sample_figures, samples_dir, totals

VERSIONS = SAMPLE_VERSIONS
KEYS = ("llm_calls", "errors", "input", "output", "cache_read", "cache_write", "tool_calls",
        "tool_errors")


def test_every_sample_is_tested() -> None:
    """The tests are parametrized by conftest's list: it must name every sample."""
    listed = json.loads((samples_dir() / "expected.json").read_text())["versions"]
    assert sorted(listed) == sorted(SAMPLE_VERSIONS)


@pytest.mark.parametrize("sample", VERSIONS, indirect=True)
def test_totals_match_expected(sample: Path, db_url: str) -> None:
    ran = ingest(sample, db_url, "-q")
    assert ran.code == 0, ran.err
    want = sample_figures(sample.name)["total"]
    got = totals(db_url)
    assert {k: got[k] for k in KEYS} == {k: want[k] for k in KEYS}
    assert got["cost"] == pytest.approx(want["cost"], abs=1e-8)


@pytest.mark.parametrize("sample", VERSIONS, indirect=True)
def test_per_source_match_expected(sample: Path, db_url: str) -> None:
    assert ingest(sample, db_url, "-q").code == 0
    rows = query(db_url, """
        SELECT s.rel_path, s.kind, count(*), sum(m.input_tokens), sum(m.output_tokens),
               sum(m.cache_read_tokens), sum(m.cache_write_tokens), sum(m.cost),
               sum(CASE WHEN m.is_error THEN 1 ELSE 0 END), sum(m.tool_call_count)
        FROM message_occurrences o JOIN sources s ON s.source_id = o.source_id
        JOIN messages m ON m.message_id = o.message_id GROUP BY s.rel_path, s.kind""")
    got = {r[0]: r for r in rows}
    want = sample_figures(sample.name)["per_source"]
    assert sorted(got) == sorted(want)
    for path, expected in want.items():
        _, kind, calls, inp, out, cr, cw, cost, errors, tools = got[path]
        assert kind == expected["source_kind"]
        assert (calls, errors, inp, out, cr, cw, tools) == (
            expected["llm_calls"], expected["errors"], expected["input"], expected["output"],
            expected["cache_read"], expected["cache_write"], expected["tool_calls"])
        assert float(cost) == pytest.approx(expected["cost"], abs=1e-8)  # rounded to 8 places


@pytest.mark.parametrize("sample", VERSIONS, indirect=True)
def test_session_keys_attributed(sample: Path, sqlite_url: str) -> None:
    assert ingest(sample, sqlite_url, "-q").code == 0
    keys = dict(query(sqlite_url, "SELECT session_id, session_key FROM sessions"))
    for path, expected in sample_figures(sample.name)["per_source"].items():
        session_id = path.rsplit("/", 1)[-1].split(".jsonl")[0]
        for key in expected["session_keys"]:
            assert keys[session_id] == key


@pytest.mark.parametrize("sample", VERSIONS, indirect=True)
def test_sample_folder_left_untouched(sample: Path, sqlite_url: str) -> None:
    before = sorted(p.relative_to(sample) for p in sample.rglob("*"))
    assert ingest(sample, sqlite_url, "-q").code == 0
    assert sorted(p.relative_to(sample) for p in sample.rglob("*")) == before


@pytest.mark.parametrize("sample", VERSIONS, indirect=True)
def test_second_run_changes_nothing(sample: Path, db_url: str) -> None:
    assert ingest(sample, db_url, "-q").code == 0
    first = totals(db_url)
    ran = ingest(sample, db_url, "--json")
    assert json.loads(ran.out)["new_calls"] == 0
    # the database's cost as the sample's figure, without float noise (review 19:
    # 1.0729762500000002)
    assert json.loads(ran.out)["database"]["cost"] == sample_figures(sample.name)["total"][
        "cost"]
    assert totals(db_url) == first
    assert ingest(sample, db_url, "--full", "-q").code == 0
    assert totals(db_url) == first


@pytest.mark.parametrize("sample", VERSIONS, indirect=True)
def test_cron_and_subagent_attribution(sample: Path, sqlite_url: str) -> None:
    assert ingest(sample, sqlite_url, "-q").code == 0
    rows = query(sqlite_url, "SELECT kind, cron_job_name, parent_session_id IS NOT NULL, "
                             "count(*) FROM sessions WHERE kind IN ('cron', 'subagent') "
                             "GROUP BY 1, 2, 3 ORDER BY 1")
    assert rows == [("cron", "hourly-tick", False, 2), ("subagent", None, True, 2)]


@pytest.mark.parametrize(("sample", "prefix", "key"), [
    # the first cron run's file is no longer in sessions.json: cron_run_logs still names it
    ("openclaw-2026.7.1", "b9af3eb7", "agent:main:cron:ef212854-b9a6-4936-8768-82df3d1d84ec"
                                      ":run:b9af3eb7-e01b-49f3-9c96-87d141506fdd"),
    # a deleted session: its key survives in session_transcript_archives
    ("openclaw-2026.9.6", "7c93b8aa", "agent:main:scratch-del"),
], indirect=["sample"])
def test_keys_only_openclaws_databases_remember(sample: Path, sqlite_url: str, prefix: str,
                                                key: str) -> None:
    assert ingest(sample, sqlite_url, "-q").code == 0
    assert query(sqlite_url, "SELECT session_key FROM sessions WHERE session_id LIKE :p",
                 p=f"{prefix}%") == [(key,)]


def _user_texts(sample: Path) -> set[str]:
    """Every user message text of a sample (JSONL files and agent database rows alike)."""
    blobs = [p.read_bytes() for p in sample.rglob("*.jsonl*") if p.suffix != ".zst"]
    for path in sample.rglob("openclaw-agent.sqlite"):
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1",
                                                uri=True)) as db:
            blobs += [row[0].encode() for row in db.execute(
                "SELECT event_json FROM transcript_events WHERE event_json IS NOT NULL")]
    texts = set()
    for blob in blobs:
        for line in blob.splitlines():
            with contextlib.suppress(ValueError):
                message = json.loads(line).get("message") or {}
                content = message.get("content") if message.get("role") == "user" else None
                if isinstance(content, str) and len(content) >= 8:
                    texts.add(content[:40])
    return texts


@pytest.mark.parametrize("sample", VERSIONS, indirect=True)
def test_no_message_text_is_stored(sample: Path, sqlite_url: str) -> None:
    """Contract E4, on real data: 2026.9 keeps the first user message as a session's
    display name, which must not become its label."""
    texts = _user_texts(sample)
    assert texts
    assert ingest(sample, sqlite_url, "-q").code == 0
    stored = json.dumps([query(sqlite_url, f"SELECT * FROM {table}") for table in (
        "sessions", "session_attribution", "messages", "tool_calls", "parse_issues")],
        default=str)
    assert [text for text in texts if text in stored] == []
