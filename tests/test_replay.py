"""Replay (issue #13 item 2): read at view time from OpenClaw's own files and databases
(zstd rows and .zst archives included), nothing stored, refused off loopback, a deleted
transcript says so; and the session explorer and comparisons pages in AppTest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import zstandard
from sqlalchemy import create_engine
from streamlit.testing.v1 import AppTest

from openclaw_telemetry import replay
from openclaw_telemetry.config import default_gateway, replay_settings
from openclaw_telemetry.ui import replay_view
from openclaw_telemetry.ui import session_story as story
from tests.conftest import ingest, query
from tests.entries import (
    T0,
    assistant,
    header,
    lines,
    state_dir,
    tool_call,
    tool_result,
    user,
    write,
)
from tests.test_sqlite_era import SID, add_events, agent_db

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SECRET = "the launch code is 0000"
LONG = "x" * 5000
GATEWAY = default_gateway()  # the gateway the ingest names when not told


def _events() -> list[dict[str, object]]:
    return [header(SID), user(SECRET, T0),
            assistant(T0 + 1000, response_id="r1",
                      tools=[{"type": "thinking", "thinking": "pondering"},
                             {"type": "text", "text": "<b>reply</b> **bold**"},
                             tool_call("t1", "exec", command=LONG)]),
            tool_result("t1", "exec", T0 + 2000, error=True),
            assistant(T0 + 3000, response_id="r2", stop="error", errorMessage="boom")]


def _check(got: replay.Replay) -> None:
    kinds = [t.kind for t in got.turns]
    assert kinds == ["user", "thinking", "assistant", "tool_call", "tool_result",
                     "assistant", "note"]
    assert got.turns[0].text == SECRET
    assert got.turns[2].text == "<b>reply</b> **bold**"
    call = got.turns[3]
    assert call.name == "exec" and call.truncated and LONG in call.text
    assert len(call.preview) < 700
    assert got.turns[4].is_error
    assert got.turns[-1].text == "call failed: boom"


@pytest.mark.parametrize("store", ["jsonl", "zstd_rows", "zst_archive"])
def test_replay_reads_each_store_and_stores_nothing(tmp_path: Path, sqlite_url: str,
                                                   store: str) -> None:
    state = tmp_path / "state"
    sessions = state / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    if store == "jsonl":
        (sessions / f"{SID}.jsonl").write_bytes(lines(*_events()))
    elif store == "zstd_rows":
        conn = agent_db(state)
        add_events(conn, SID, _events(), compress_every=2)  # user text, tool call: zstd
        conn.close()
    else:
        name = f"{SID}.jsonl.deleted.2026-11-24T03-20-54.439Z.119a582429b04014ac67f23e76195.zst"
        (sessions / name).write_bytes(zstandard.ZstdCompressor(level=1).compress(
            lines(*_events())))
    assert ingest(state, sqlite_url, "-q").code == 0
    got = replay.conversation(create_engine(sqlite_url), session_id=SID, gateway=GATEWAY)
    assert got.note is None and got.source
    _check(got)
    # E4: replay read the text, and the database still holds none of it
    tables = ("sessions", "session_attribution", "messages", "tool_calls", "parse_issues",
              "session_events", "sources")
    stored = json.dumps([query(sqlite_url, f"SELECT * FROM {t}") for t in tables], default=str)
    assert SECRET not in stored and "pondering" not in stored and LONG not in stored


def test_a_deleted_transcript_says_so(tmp_path: Path, sqlite_url: str) -> None:
    sessions = tmp_path / "state" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / f"{SID}.jsonl").write_bytes(lines(*_events()))
    assert ingest(tmp_path / "state", sqlite_url, "-q").code == 0
    (sessions / f"{SID}.jsonl").unlink()
    got = replay.conversation(create_engine(sqlite_url), session_id=SID, gateway=GATEWAY)
    assert got.turns == [] and got.note is not None and "deleted" in got.note
    unknown = replay.conversation(create_engine(sqlite_url), session_id="nope", gateway=GATEWAY)
    assert unknown.note == "No transcript of this session was ever read."


@pytest.mark.parametrize(("address", "remote", "refused"), [
    ("127.0.0.1", False, False), ("localhost", False, False), ("::1", False, False),
    ("0.0.0.0", False, True), ("", False, True), ("192.168.1.5", False, True),
    ("192.168.1.5", True, False)])
def test_replay_is_refused_off_loopback(address: str, remote: bool, refused: bool) -> None:
    reason = replay.refusal(True, remote, address)
    assert (reason is not None) == refused
    if refused:
        assert "OPENCLAW_TELEMETRY_REPLAY_REMOTE=1" in str(reason)
    assert replay.refusal(False, True, "127.0.0.1") is not None  # off by default


def test_replay_settings() -> None:
    assert replay_settings([], {}) == (False, False)
    assert replay_settings(["--replay"], {}) == (True, False)
    assert replay_settings([], {"OPENCLAW_TELEMETRY_REPLAY": "1",
                                "OPENCLAW_TELEMETRY_REPLAY_REMOTE": "1"}) == (True, True)


def _app(db: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> AppTest:
    monkeypatch.setenv("OPENCLAW_TELEMETRY_DB", str(db))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(str(ROOT / "dashboard_enhanced.py"), default_timeout=60)
    at.context["timezone"] = "UTC"
    return at


@pytest.fixture
def turning_db(tmp_path: Path) -> Path:
    sessions = tmp_path / "state" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copy(FIXTURES / "turning_points.jsonl", sessions / "turning_points.jsonl")
    db = tmp_path / "t.db"
    assert ingest(tmp_path / "state", f"sqlite:///{db}", "-q").code == 0
    return db


@pytest.mark.parametrize("address", ["127.0.0.1", "0.0.0.0"])
def test_session_page_sections_and_replay_in_the_app(
        turning_db: Path, monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    at = _app(turning_db, monkeypatch, OPENCLAW_TELEMETRY_REPLAY="1")
    at.query_params["session"] = "turning-points"
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    assert not at.exception
    assert "thinking levels: low, high" in at.text[0].value
    assert any("thinking level high from call 4 on" in t.value for t in at.text)
    for section in ("cache", "tools", "tree", "calls"):
        at.segmented_control(key="session-section").set_value(section).run()
        assert not at.exception, section
    monkeypatch.setattr("streamlit.get_option", lambda name: address)
    at.segmented_control(key="session-section").set_value("replay").run()
    assert not at.exception
    if address == "0.0.0.0":
        assert "Replay is refused" in at.warning[0].value
    else:
        assert not at.warning
        assert any(t.value == "question 1" for t in at.text)


def test_replay_times_are_in_the_chosen_zone(turning_db: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's header said 04:13 in Berlin, its conversation "2026-11-24T03:13:23.000Z"
    as the file has it."""
    monkeypatch.setattr("streamlit.get_option", lambda name: "127.0.0.1")  # (loopback)
    at = _app(turning_db, monkeypatch, OPENCLAW_TELEMETRY_REPLAY="1")
    at.query_params["session"] = "turning-points"
    at.query_params["tz"] = "Europe/Berlin"
    at.query_params["section"] = "replay"
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    assert not at.exception
    labels = [c.value.replace("\\", "") for c in at.caption]  # (Markdown-escaped)
    assert "user · 2026-11-24 04:13:23" in labels, labels
    assert not any("T03:13" in label for label in labels)


def test_comparisons_page(turning_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(turning_db, monkeypatch)
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/compare.py").run()
    assert not at.exception
    assert at.dataframe  # two models of the fixture, side by side
    for dimension in ("thinking", "agent", "period", "cron_job"):
        at.segmented_control(key="compare-dimension").set_value(dimension).run()
        assert not at.exception, dimension


def test_a_link_opens_a_section_and_close_forgets_it(turning_db: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(turning_db, monkeypatch)
    at.query_params["session"] = "turning-points"
    at.query_params["section"] = "tools"
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    assert not at.exception
    assert at.segmented_control(key="session-section").value == "tools"
    at.segmented_control(key="session-section").set_value("tree").run()
    assert at.query_params["section"] == "tree"
    at.button(key="session-close").click().run()
    assert not at.exception
    assert "session" not in at.query_params and "section" not in at.query_params


def _calm_db(tmp_path: Path) -> Path:
    """Session "calm": six like calls of claude-sonnet-4-5, nothing stands out."""
    calls = [assistant(T0 + 1000 * i, inp=100, out=50, cr=2000, cw=100, cost=0.002,
                       provider="anthropic", model="claude-sonnet-4-5", response_id=f"r{i}",
                       entry_id=f"a{i:07d}") for i in range(1, 7)]
    write(state_dir(tmp_path), "calm.jsonl", header("calm"), *calls)
    db = tmp_path / "calm.db"
    assert ingest(tmp_path / "state", f"sqlite:///{db}", "-q").code == 0
    return db


def test_the_drivers_box_says_what_it_looked_for(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With no finding the box claims only what the rules checked, not that the cost was
    spread evenly over the calls."""
    at = _app(_calm_db(tmp_path), monkeypatch)
    at.query_params["session"] = "calm"
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    assert not at.exception
    shown = " ".join([t.value for t in at.text] + [c.value for c in at.caption])
    assert "Nothing stands out" in shown and "spread evenly" not in shown
    assert "looked for a few calls far dearer than those around them" in shown


def test_the_drivers_box_splits_the_cost_by_token_kind(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Each call: 100 input, 50 output, 2,000 cache read, 100 cache write tokens of
    claude-sonnet-4-5 ($2,025 per million calls at list prices), recorded at $0.002; an
    estimate, and the box says so."""
    at = _app(_calm_db(tmp_path), monkeypatch)
    at.query_params["session"] = "calm"
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    assert not at.exception
    assert any(t.value == "Cost by token kind: output $0.0044 (37%) · cache read $0.0036 "
                          "(30%) · cache write $0.0022 (19%) · input $0.0018 (15%)"
               for t in at.text)
    assert any("$0.01 of calls stored without their split" in c.value
               and "at the library's list prices" in c.value for c in at.caption)


def test_the_cost_by_token_kind_shows_amounts_side_by_side_alike() -> None:
    """$0.0126 against $0.0108, not $0.01 against $0.01 (format.money_decimals)."""
    split = pd.DataFrame({"kind": ["input", "output", "cache_read", "cache_write", "unsplit"],
                          "cost": [0.0036, 0.0108, 0.0126, 0.1087, 0.0],
                          "share": [0.03, 0.08, 0.09, 0.8, 0.0]})
    assert story.cost_split_text(split) == (
        "Cost by token kind: cache write $0.1087 (80%) · cache read $0.0126 (9%) · "
        "output $0.0108 (8%) · input $0.0036 (3%)")
    assert story.cost_split_text(split.assign(cost=0.0)) is None


def test_the_cost_by_token_kind_says_what_was_estimated() -> None:
    """Each call's own split needs no excuse; an estimate at list prices, and calls left
    unsplit, are said with what they are."""
    own = pd.DataFrame({"kind": ["input", "output"], "cost": [0.5, 0.5],
                        "share": [0.5, 0.5], "estimated": [0.0, 0.0]})
    assert story.cost_split_note(own) == (
        "Each call's cost by kind as OpenClaw recorded it, or at the rates of your price "
        "table (openclaw.json, models.json).")
    mixed = pd.concat([own.assign(estimated=[0.25, 0.0]), pd.DataFrame(
        {"kind": ["unsplit"], "cost": [1.0], "share": [0.5], "estimated": [0.0]})])
    note = story.cost_split_note(mixed)
    assert "; $0.25 of calls stored without their split" in note
    assert note.endswith("; not split: calls without their split, of models the library "
                         "does not know.")


def test_a_long_conversation_is_shown_a_page_at_a_time(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 19: the replay of a 590-call session was one page 249,623 px tall (34,749
    DOM nodes, 12 s to draw). Its turns come REPLAY_PAGE at a time, the page picked by
    the turns it holds; the last page holds the rest."""
    entries = [header("long")]
    for i in range(130):
        entries += [user(f"question {i}", T0 + i * 10_000),
                    assistant(T0 + i * 10_000 + 1000, response_id=f"r{i}")]
    write(state_dir(tmp_path), "long.jsonl", *entries)
    db = tmp_path / "t.db"
    assert ingest(tmp_path / "state", f"sqlite:///{db}", "-q").code == 0
    monkeypatch.setattr("streamlit.get_option", lambda name: "127.0.0.1")  # (loopback)
    at = _app(db, monkeypatch, OPENCLAW_TELEMETRY_REPLAY="1")
    at.query_params["session"] = "long"
    at.query_params["section"] = "replay"
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    assert not at.exception
    asked = [t.value for t in at.text if t.value.startswith("question ")]
    assert asked == [f"question {i}" for i in range(replay_view.REPLAY_PAGE // 2)]
    pages = at.selectbox(key="replay-page-long")
    assert pages.options == ["turns 1–100 of 260", "turns 101–200 of 260",
                             "turns 201–260 of 260"]
    pages.set_value(200).run()
    assert not at.exception
    asked = [t.value for t in at.text if t.value.startswith("question ")]
    assert asked == [f"question {i}" for i in range(100, 130)]
