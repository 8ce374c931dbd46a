"""The sessions table and the session page's tables, as the dashboards draw them (AppTest):
what fits at 1440 px, the kinds by name, the cache rows that add up, tool times as
durations and the bridge a tool was called through."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import daytime_zone
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest
from telemetry_db import build, call, session, tool
from test_dashboard_apptest import app, fresh_caches, gateways_db, ok  # noqa: F401 (a fixture)

from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui import widgets
from openclaw_telemetry.ui.pages.sessions import MODEL_WIDTH, NAME_WIDTH

SESSIONS_PAGE = "openclaw_telemetry/ui/pages/sessions.py"
SONNET = {"model": "claude-sonnet-4-5", "provider": "anthropic"}


def _found(at: AppTest, *first: str) -> Any:
    (found,) = [t for t in at.dataframe
                if (list(t.proto.column_order) or list(t.value.columns))[:len(first)]
                == list(first)]
    return found


def drawn(at: AppTest, *first: str) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    """The one table whose first columns are `first`: its cells, its column order and its
    column formats (only a selectable table has a key to find it by)."""
    found = _found(at, *first)
    return found.value, list(found.proto.column_order), json.loads(found.proto.columns or "{}")


def seen(at: AppTest, *first: str) -> pd.DataFrame:
    """The cells of that table as the browser shows them: the display values a Styler gave
    (`widgets.table`'s durations and formatted numbers, numbers underneath), else the cells."""
    found = _found(at, *first)
    shown = found.proto.arrow_data.styler.display_values
    return convert_arrow_bytes_to_pandas_df(shown) if shown else found.value


def sessions_db(path: Path) -> Path:
    now = datetime.now().replace(microsecond=0) - timedelta(hours=2)
    build(f"sqlite:///{path}", [
        session("p", label="planning", kind="main"),
        session("c", kind="subagent", parent_session_id="p"),
        session("u", kind="unknown", session_key=None)],
        [call("p", now, 2.0), call("p", now + timedelta(minutes=5), 1.0),
         call("c", now + timedelta(minutes=1), 0.5), call("u", now, 0.25)]).dispose()
    return path


@pytest.mark.parametrize("script", ["dashboard_enhanced.py", "dashboard.py"])
def test_the_sessions_table_reads_at_a_glance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              script: str) -> None:
    """At 1440 px only 8 of 15 columns fitted: the Session name repeated the start time,
    Start was cut, kinds were codes, Key and Id stood among the useful columns. What is read
    at a glance comes first, in widths that fit beside the sidebar."""
    at = app(script, sessions_db(tmp_path / "s.db"), monkeypatch)
    if script == "dashboard.py":
        at.query_params["view"] = "sessions"
        at.run()
    else:
        at.run()
        at.switch_page(SESSIONS_PAGE).run()
    ok(at)
    cells, order, config = drawn(at, "cost", "name")
    # review 17: what OpenClaw kept (why an id has no key) was past the edge at 1440 px;
    # review 18: so were Tools and Tokens, after Duration, Kind and Agent (which a key
    # already says) and a name as wide as a cron run's key (test_browser_tables measures)
    assert order[:9] == ["cost", "name", "note", "start_time", "model", "calls", "errors",
                         "tool_calls", "tokens"]
    assert order[-2:] == ["session_key", "session_id"]
    assert order.index("model") < order.index("cron_job_name")
    assert config["name"]["width"] == NAME_WIDTH and config["model"]["width"] == MODEL_WIDTH
    assert config["tokens"]["type_config"]["format"] == "compact"  # '36M', not 35,712,644
    assert config["note"]["label"] == "Transcript" and "orphan" in config["note"]["help"]
    by_id = cells.set_index("session_id")
    assert by_id.loc["p", "name"] == "planning"  # no '· started …': Start stands beside it
    assert not any("started" in name for name in cells["name"])
    assert by_id.loc["c", "kind"] == "sub-agent" and by_id.loc["u", "kind"] == "unknown"
    assert by_id.loc["p", "kind"] == "main chat"
    assert (by_id.loc["u", "note"], by_id.loc["p", "note"]) == ("no key", "—")
    assert config["model"]["label"] == "Main model"  # most calls, not most cost: said
    # under a model filter a "Cost" column read as that model's cost (review, Session 21)
    # ("Total", no wider than "Cost": a wider head pushed Tokens out of view at 1440 px)
    assert config["cost"]["label"] == "Total" and "every model" in config["cost"]["help"]
    assert "most of the session's calls" in config["model"]["help"]
    start = config["start_time"]
    assert start["type_config"]["format"] == "YYYY-MM-DD HH:mm"
    assert int(start["width"]) >= 120  # its text whole in chromium (review 19, measured)
    assert list(cells["cost"]) == [3.0, 0.5, 0.25]  # numbers: the column sorts by value
    at.segmented_control(key="sessions-order").set_value("recent").run()
    ok(at)
    assert drawn(at, "cost", "name")[0]["session_id"].tolist()[0] == "c"


def test_a_search_that_matches_nothing_says_so(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    at = app("dashboard_enhanced.py", sessions_db(tmp_path / "s.db"), monkeypatch).run()
    at.switch_page(SESSIONS_PAGE).run()
    at.text_input(key="sessions-search").input("no such session").run()
    ok(at)
    assert not at.dataframe
    assert any("No sessions" in i.value for i in at.info)


def session_page(at: AppTest, session_id: str, section: str) -> AppTest:
    at.query_params["session"] = session_id
    at.query_params["section"] = section
    at.run()
    at.switch_page(SESSIONS_PAGE).run()
    ok(at)
    return at


def test_the_sub_agent_tree_names_kinds(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    at = app("dashboard_enhanced.py", sessions_db(tmp_path / "s.db"), monkeypatch)
    cells, _, _ = drawn(session_page(at, "p", "tree"), "open", "name")
    assert cells["kind"].tolist() == ["sub-agent"]


def test_the_cache_rows_add_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved $91.24 − Write cost $4.19 ≠ Net $90.40: Net is Saved − the write premium,
    which was only in a tile; the table shows it beside Net."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    db = tmp_path / "cache.db"
    build(f"sqlite:///{db}", [session("s", **SONNET), session("x", model="nobody-knows")],
          [call("s", now, 1.0, cache_read_tokens=1_000_000, cache_write_tokens=100_000,
                **SONNET), call("x", now, 1.0, cache_read_tokens=5000,
                                model="nobody-knows")]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch)
    cells, order, _ = drawn(session_page(at, "s", "cache"), "model")
    assert order[-3:] == ["write_cost", "write_premium", "net"]
    row = cells.iloc[0]
    saved, premium = 1_000_000 * (3.0 - 0.3) / 1e6, 100_000 * (3.75 - 3.0) / 1e6
    assert (row["saved"], row["write_premium"], row["net"]) == (
        fmt.money(saved), fmt.money(premium), fmt.money(saved - premium))
    assert any("Net = Saved − Write premium" in c.value for c in at.caption)
    at = app("dashboard_enhanced.py", db, monkeypatch)
    cells, _, _ = drawn(session_page(at, "x", "cache"), "model")
    # a price nobody knows: '—'; but no cache writes cost nothing at any price
    assert (cells.iloc[0]["saved"], cells.iloc[0]["write_premium"], cells.iloc[0]["net"]) == (
        "—", "$0.00", "—")


def test_tool_times_are_durations_and_the_bridge_is_explained(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    first, second = call("s", now), call("s", now + timedelta(minutes=1))
    bridged = {**tool(second, "web_fetch", duration=489_331), "bridge_name": "tool_call"}
    db = tmp_path / "tools.db"
    build(f"sqlite:///{db}", [session("s"), session("quiet")],
          [first, second, call("quiet", now)],
          [tool(first, "exec", duration=1500), bridged]).dispose()
    at = session_page(app("dashboard_enhanced.py", db, monkeypatch), "s", "tools")
    summary, _, config = drawn(at, "tool_name")
    assert summary.set_index("tool_name").loc["web_fetch", "total_s"] == 489.331  # sorts so
    by_tool = seen(at, "tool_name").set_index("tool_name")
    assert by_tool.loc["web_fetch", "total_s"] == fmt.duration(489.331) == "8 min 09 s"
    assert by_tool.loc["exec", "max_s"] == fmt.duration(1.5)
    assert (config["total_s"]["label"], config["max_s"]["label"]) == ("Time", "Longest")
    calls, _, config = drawn(at, "timestamp")
    assert calls["bridge_name"].tolist() == ["—", "tool_call"]
    assert seen(at, "timestamp")["duration_s"].tolist() == [fmt.duration(1.5),
                                                            fmt.duration(489.331)]
    through = config["bridge_name"]
    assert through["label"] == "Called through" and "tool_call" in through["help"]
    at = session_page(app("dashboard_enhanced.py", db, monkeypatch), "quiet", "tools")
    assert "No tool calls in this session." in [t.value for t in at.text]


def test_the_overviews_top_sessions_name_kinds_and_the_main_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app("dashboard_enhanced.py", sessions_db(tmp_path / "s.db"), monkeypatch).run()
    ok(at)
    cells, _order, config = drawn(at, "open", "cost", "name")
    by_id = cells.set_index("session_id")
    assert by_id.loc["c", "kind"] == "sub-agent" and by_id.loc["p", "kind"] == "main chat"
    assert config["model"]["label"] == "Main model"


def test_call_by_call_tables_show_cost_and_what_happened_on_a_phone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Browser review (story15), 390 px: the per-call table showed #, Status, Time and
    Model, so Cost needed a sideways scroll; the markers table put "What happened" after
    the full date and time and the marker's name, past the edge (a cell never wraps).
    Cost comes right after the status, what happened right after the call's number, times
    later. A model switch says the models as the chart's legend and the Model column name
    them (not provider/model: 'anthropic/claude-haiku-4-5' is a phone's width alone)."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    db = tmp_path / "calls.db"
    build(f"sqlite:///{db}", [session("s", **SONNET)],
          [call("s", now, 0.5, **SONNET),
           call("s", now + timedelta(minutes=1), 0.2, model="gpt-4o", provider="openai")]
          ).dispose()
    at = session_page(app("dashboard_enhanced.py", db, monkeypatch), "s", "calls")
    _, order, config = drawn(at, "n", "status")
    assert order[:4] == ["n", "status", "cost", "model"]
    assert config["cost"]["label"] == "Cost"
    marks, order, _ = drawn(at, "n", "detail")
    assert order == ["n", "detail", "kind", "timestamp"]
    assert marks["detail"].tolist() == ["claude-sonnet-4-5 → gpt-4o"]


def linked_db(path: Path) -> Path:
    """A chat that spawned a sub-agent, a cron run, a transcript without a key: every kind
    of row a session table links."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{path}", [
        session("p", label="planning", kind="main"),
        session("c", kind="subagent", parent_session_id="p"),
        session("r", kind="cron", cron_job_name="digest", cron_job_id="j1"),
        session("u", kind="unknown", session_key=None)],
        [call("p", now, 2.0), call("c", now + timedelta(minutes=1), 0.5),
         call("r", now, 0.3), call("u", now, 0.25)]).dispose()
    return path


@pytest.mark.parametrize("gateways", [False, True])
def test_the_link_to_a_session_is_the_first_column_of_every_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gateways: bool) -> None:
    """Review 17 (390 px): Open, the only way to a session's page, stood after a name as
    wide as a phone (Top sessions) or last (Alerts, cron runs, sub-agents), off-screen to
    the right. It is the first column of every table that has one, pinned, so it stays in
    view when the table scrolls sideways; the gateway column stays beside the first."""
    db = (gateways_db(tmp_path / "gw.db", ("gw-a", "gw-b")) if gateways
          else linked_db(tmp_path / "l.db"))
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "Pricey"\nmetric = "session_cost"\nwarning = 0.1\n'
                     '[[budget]]\nname = "Daily"\nperiod = "day"\namount = 1.0\n')
    monkeypatch.setenv("OPENCLAW_TELEMETRY_ALERTS", str(rules))
    # (the day's budget lists today's sessions: calls an hour old are today's there)
    at = app("dashboard_enhanced.py", db, monkeypatch, tz=daytime_zone()).run()
    seen = {}
    for page in ("overview", "automation", "alert_center", "budgets"):
        at.switch_page(f"openclaw_telemetry/ui/pages/{page}.py").run()
        ok(at)
        seen[page] = [t for t in at.dataframe if "open" in t.value.columns]
    if not gateways:
        seen["tree"] = [t for t in session_page(at, "p", "tree").dataframe
                        if "open" in t.value.columns]
    for page, tables in seen.items():
        assert tables, page
        for shown in tables:
            order = list(shown.proto.column_order)
            assert order[0] == "open", (page, order)
            assert json.loads(shown.proto.columns)["open"].get("pinned") is True, page
            if gateways and page != "tree":
                assert order[2] == "gateway", (page, order)
    assert len(seen["automation"]) == (1 if gateways else 2)  # runs; and sub-agents
    assert len(seen["alert_center"]) == 2  # firing now, and the history



def test_a_table_too_large_for_a_styler_is_drawn_with_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A session with ~40k tool calls: Streamlit refuses a Styler over pandas' cell limit,
    which a traceback would have said; such a table's durations are text instead. (Not an
    AppTest of a function: its temporary script stays the process's __main__, which the
    parsing processes of later tests on the same worker would then fail to start from.)"""
    drawn: list[Any] = []
    monkeypatch.setattr(widgets.st, "dataframe", lambda data, **_: drawn.append(data))
    rows = 40_000  # 7 columns: over pandas' 262,144 cells for a Styler
    frame = pd.DataFrame({f"c{i}": range(rows) for i in range(6)}).assign(duration_s=1.5)
    widgets.table(frame, key="big", durations=["duration_s"])
    widgets.table(frame.head(10), key="small", durations=["duration_s"])
    big, small = drawn
    assert isinstance(big, pd.DataFrame) and big["duration_s"].iloc[0] == fmt.duration(1.5)
    assert small.data["duration_s"].iloc[0] == 1.5  # a Styler: numbers under the text
