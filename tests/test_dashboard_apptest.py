"""Both dashboards under Streamlit's AppTest: every page on databases built from the
samples (KPIs equal expected.json), the empty, missing and foreign database pages, one
interaction per filter, and user text that must not render as Markdown or HTML."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from conftest import (
    SAMPLE_VERSIONS,
    copy_sample,
    daytime_zone,
    ingest,
    query,
    sample_figures,
)
from sqlalchemy import delete, insert, text
from streamlit.testing.v1 import AppTest
from telemetry_db import build, call, session

from openclaw_telemetry.charts import PALETTE
from openclaw_telemetry.schema import ingest_runs
from openclaw_telemetry.store import open_db
from openclaw_telemetry.ui import bmaster
from openclaw_telemetry.ui import format as fmt

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["overview", "timeline", "models", "tools", "sessions", "automation", "statistics",
         "compare", "alert_center"]
TIMEOUT = 60


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    bmaster.reset()
    monkeypatch.delenv("OPENCLAW_TELEMETRY_ALERTS", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./alerts.toml, and nothing written next to the repo
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module", params=SAMPLE_VERSIONS)
def sample_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("sample")
    copy_sample(request.param, root / "state")
    db = root / "telemetry.db"
    assert ingest(root / "state", str(db)).code == 0
    return request.param, db


def app(script: str, db: Path, monkeypatch: pytest.MonkeyPatch, tz: str = "UTC") -> AppTest:
    monkeypatch.setenv("OPENCLAW_TELEMETRY_DB", str(db))
    at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
    at.context["timezone"] = tz
    return at


def opened(script: str, db: Path, monkeypatch: pytest.MonkeyPatch,
           **query: str | list[str]) -> AppTest:
    """The app opened by a link with this query string, run, with no exception."""
    at = app(script, db, monkeypatch)
    at.query_params.update(query)
    at.run()
    ok(at)
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def charts(at: AppTest, key: str) -> list[Any]:
    """The Plotly charts drawn with that widget key."""
    return [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]


def plotted(values: Any) -> list[Any]:
    """A trace's values as the browser gets them (numbers arrive base64-packed)."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"]).tolist()
    return list(values)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def check_kpis(at: AppTest, version: str) -> None:
    want = sample_figures(version)["total"]
    shown = metrics(at)
    assert shown["Cost"] == fmt.money(want["cost"])
    assert shown["LLM calls"] == f"{want['llm_calls']:,}"
    assert shown["Tool calls"] == f"{want['tool_calls']:,}"
    assert shown["Error rate"] == fmt.percent(want["errors"] / want["llm_calls"])
    for key, label in (("input", "Input tokens"), ("output", "Output tokens"),
                       ("cache_read", "Cache read"), ("cache_write", "Cache write")):
        assert shown[label] == f"{want[key]:,}", label


def test_basic_dashboard_every_view(sample_db: tuple[str, Path],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    version, db = sample_db
    at = app("dashboard.py", db, monkeypatch).run()
    ok(at)
    check_kpis(at, version)
    for view in ("models", "tools", "sessions", "automation"):
        at.segmented_control(key="view").set_value(view).run()
        ok(at)


def test_enhanced_dashboard_every_page(sample_db: tuple[str, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    version, db = sample_db
    at = app("dashboard_enhanced.py", db, monkeypatch, tz="Asia/Kolkata").run()
    ok(at)
    check_kpis(at, version)
    top = [d.value for d in at.dataframe if "open" in d.value.columns]
    assert top and all(link.startswith("sessions?session=") for link in top[0]["open"])
    for page in PAGES[1:]:
        at.switch_page(f"openclaw_telemetry/ui/pages/{page}.py").run()
        ok(at)
        assert at.header[0].value
        if page == "tools":
            assert not {"p50_ms", "p95_ms"} & set(at.dataframe[0].proto.column_order)
            assert not charts(at, "tools-timeline")
            at.toggle(key="tools-durations").set_value(True).run()
            at.toggle(key="tools-over-time").set_value(True).run()
            ok(at)
            (over_time,) = charts(at, "tools-timeline")
            layout = json.loads(over_time.proto.spec)["layout"]
            assert layout["title"]["text"].startswith("Tool calls per ")
            assert layout["yaxis"]["title"]["text"] == "Tool calls"
            assert {"p50_ms", "p95_ms"} <= set(at.dataframe[0].proto.column_order)
            assert charts(at, "tools-timeline")
    assert any("bmasterai" in c.value for c in at.caption)


def test_one_interaction_per_filter(sample_db: tuple[str, Path],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    version, db = sample_db
    at = app("dashboard.py", db, monkeypatch).run()
    want = sample_figures(version)["total"]
    at.selectbox(key="range").set_value("custom").run()
    ok(at)
    at.date_input(key="from").set_value(datetime(2026, 11, 24).date()).run()
    at.date_input(key="to").set_value(datetime(2026, 11, 24).date()).run()
    ok(at)
    assert metrics(at)["LLM calls"] == f"{want['llm_calls']:,}"
    at.date_input(key="from").set_value(datetime(2026, 11, 1).date()).run()
    at.date_input(key="to").set_value(datetime(2026, 11, 2).date()).run()
    assert metrics(at)["LLM calls"] == "0"
    at.selectbox(key="range").set_value("all").run()
    at.multiselect(key="agent").set_value(["main"]).run()
    assert metrics(at)["LLM calls"] == f"{want['llm_calls']:,}"
    at.multiselect(key="kind").set_value(["cron"]).run()
    ok(at)
    cron_calls = int(metrics(at)["LLM calls"].replace(",", ""))
    assert 0 < cron_calls < want["llm_calls"]
    at.multiselect(key="kind").set_value([]).run()
    model = at.multiselect(key="model").options[0]
    at.multiselect(key="model").set_value([model]).run()
    ok(at)
    at.multiselect(key="model").set_value([]).run()
    at.selectbox(key="tz").set_value("Pacific/Chatham").run()
    ok(at)
    at.toggle(key="live").set_value(False).run()
    ok(at)
    for key, value in (("tl-measure", "tokens"), ("tl-by", "kind"), ("tl-unit", "month")):
        at.segmented_control(key=key).set_value(value).run()
        ok(at)
    at.selectbox(key="range").set_value("today").run()
    ok(at)


def test_kinds_are_named_alike_on_every_page(sample_db: tuple[str, Path],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Timeline stacked by kind said 'subagent' and 'cron' where the tables say 'sub-agent'
    and 'cron job'; a session's header said 'kind: direct'."""
    from openclaw_telemetry.ui.filters import KIND_LABELS

    _, db = sample_db
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/timeline.py").run()
    at.segmented_control(key="tl-by").set_value("kind").run()
    ok(at)
    (drawn,) = charts(at, "tl-chart")
    names = {trace["name"] for trace in json.loads(drawn.proto.spec)["data"]}
    assert names and names <= set(KIND_LABELS.values()), names
    (table,) = [d.value for d in at.dataframe if "series" in d.value.columns]
    assert set(table["series"]) == names
    wanted = most_expensive_session(db)
    page = opened("dashboard.py", db, monkeypatch, view="sessions", session=wanted)
    header = next(t.value for t in page.text if "kind: " in t.value)
    kind = header.split("kind: ", 1)[1].split(" · ", 1)[0]
    assert kind in KIND_LABELS.values(), header


def test_the_tiles_of_a_day_draw_its_hours(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """On "Last 24 hours" each sparkline was two daily points, a straight line; a range of
    two days or less draws its hours, a longer one its days."""
    db = tmp_path / "hours.db"
    now = datetime.now().replace(microsecond=0)
    build(f"sqlite:///{db}", [session("s1")],
          [call("s1", now - timedelta(hours=h), 0.1 * (h + 1)) for h in (1, 3, 5, 30, 80)]
          ).dispose()
    for asked, points in (("Last 24 hours", range(24, 26)), ("Last 7 days", range(4, 8))):
        at = opened("dashboard_enhanced.py", db, monkeypatch, range=asked)
        (cost,) = [m for m in at.metric if m.label == "Cost"]
        assert len(cost.proto.chart_data) in points, (asked, list(cost.proto.chart_data))


def test_url_query_string_sets_the_filters(sample_db: tuple[str, Path],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _, db = sample_db
    at = opened("dashboard.py", db, monkeypatch, range="Last 7 days", kind="subagent")
    assert at.selectbox(key="range").value == "7d"
    assert at.multiselect(key="kind").value == ["subagent"]


@pytest.mark.parametrize(("asked", "shown"), [("7d", "7d"), ("custom", "custom"),
                                              ("LAST 30 DAYS", "30d")])
def test_a_range_by_its_short_name_or_in_any_case_is_that_range(
        sample_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, asked: str,
        shown: str) -> None:
    """Review 19: `?range=custom` (not the label, "Custom dates") was dropped in silence
    and the page showed All time."""
    _, db = sample_db
    at = opened("dashboard_enhanced.py", db, monkeypatch, range=asked)
    assert at.selectbox(key="range").value == shown
    assert not [w.value for w in at.warning if "time range" in w.value]


def test_a_range_or_zone_a_link_gets_wrong_is_said(
        sample_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, db = sample_db
    at = opened("dashboard.py", db, monkeypatch, range="fortnight", tz="Mars/Base")
    said = [w.value.replace("\\", "") for w in at.warning if "fortnight" in w.value]
    assert said == ["No time range 'fortnight' and no time zone 'Mars/Base': those were "
                    "left out of the filters, so All time and UTC are shown."], [
        w.value for w in at.warning]
    assert at.selectbox(key="range").value == "all"
    at = opened("dashboard.py", db, monkeypatch, range="fortnight")
    assert [w.value.replace("\\", "") for w in at.warning if "fortnight" in w.value] == [
        "No time range 'fortnight': it was left out of the filters, so All time is shown."]


@pytest.mark.parametrize("script", ["dashboard.py", "dashboard_enhanced.py"])
def test_a_link_naming_what_the_database_lacks_says_so(
        sample_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """`?agent=ghost` was dropped in silence and the page showed every agent's spend: a
    link shared for one agent must not pass for it. Kept while the filters stay as the
    link left them (the page re-runs every 30 s), gone once the user changes one."""
    _, db = sample_db
    at = opened(script, db, monkeypatch, agent="ghost", kind=["subagent", "nokind"])
    said = [w.value.replace("\\", "") for w in at.warning if "ghost" in w.value]
    assert said == ["This database holds no agent 'ghost' and no session kind 'nokind': "
                    "those were left out of the filters, so all agents are shown."], [
        w.value for w in at.warning]
    assert at.multiselect(key="agent").value == []
    assert at.multiselect(key="kind").value == ["subagent"]
    at.run()
    assert [w.value.replace("\\", "") for w in at.warning if "ghost" in w.value] == said
    at.multiselect(key="kind").set_value([]).run()
    ok(at)
    assert not [w.value for w in at.warning if "ghost" in w.value]


def most_expensive_session(db: Path) -> str:
    engine = open_db(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = conn.execute(text("SELECT session_id FROM sessions "
                                  "ORDER BY total_cost DESC LIMIT 1")).scalar_one()
    engine.dispose()
    return str(found)


def test_session_drill_down(sample_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
                            ) -> None:
    """A session opens by id (`?session=<id>`) and stays open across range changes
    (#11 defect 2: the URL held the label, and a range without the session lost it)."""
    _, db = sample_db
    wanted = most_expensive_session(db)
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    ok(at)
    at.text_input(key="sessions-search").input("main").run()
    at.segmented_control(key="sessions-order").set_value("recent").run()
    ok(at)
    at.query_params["session"] = wanted
    at.run()
    ok(at)
    assert at.subheader[0].value == "Session"
    assert wanted in at.text[0].value
    assert len(at.dataframe) >= 2
    assert at.get("plotly_chart")
    for preset in ("today", "30d", "all"):  # the samples are older than 30 days
        at.selectbox(key="range").set_value(preset).run()
        ok(at)
        assert at.subheader[0].value == "Session", preset
        assert not at.warning, preset
    assert at.query_params["session"] == wanted


def test_session_link_of_the_basic_dashboard(sample_db: tuple[str, Path],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The links of the cron, sub-agent and alert tables open `?view=sessions&session=<id>`
    on the basic dashboard: its view picker is in the URL too."""
    _, db = sample_db
    wanted = most_expensive_session(db)
    at = app("dashboard.py", db, monkeypatch)
    at.query_params["view"] = "sessions"
    at.query_params["session"] = wanted
    at.run()
    ok(at)
    assert at.segmented_control(key="view").value == "sessions"
    # the session the link opened comes first: below the tiles and the timeline it was
    # 4.5 phone screens down, and a link opens a page at its top
    headings = [h.value for h in at.subheader]
    assert headings[0] == "Session" and headings.count("Session") == 1, headings
    assert any(wanted in t.value for t in at.text)
    at.button(key="session-close").click().run()
    ok(at)
    assert "session" not in at.query_params
    # a session opened later by a row of the table (the user is down at the table) opens
    # where it did, above the table
    at.query_params["session"] = wanted
    at.run()
    ok(at)
    headings = [h.value for h in at.subheader]
    assert headings.index("Session") > headings.index("Timeline"), headings


def test_the_enhanced_dashboard_opens_the_basic_ones_links(
        sample_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A notification links `?view=sessions&session=<id>` (`links.session_query`), which
    the basic dashboard's view picker opens; the enhanced dashboard opens that page, with
    the other parameters, and leaves `view` out of its URL."""
    _, db = sample_db
    wanted = most_expensive_session(db)
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params["view"] = "sessions"
    at.query_params["session"] = wanted
    at.run()
    ok(at)
    assert at.subheader[0].value == "Session"
    assert wanted in at.text[0].value
    assert at.query_params["session"] == wanted
    assert "view" not in at.query_params


@pytest.mark.parametrize("view, query, title", [
    ("automation", {"agent": "main"}, "Cron jobs and sub-agents"),
    ("alert_center", {"range": "Last 7 days"}, "Alerts"),
    ("models", {"tz": "Europe/Berlin", "kind": "subagent"}, "Models"),
])
def test_the_enhanced_dashboard_opens_a_view_link_with_its_filters(
        sample_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, view: str,
        query: dict[str, str], title: str) -> None:
    """The basic dashboard's address with filters (`?view=automation&agent=main`) opened a
    traceback on the enhanced one: a filter bound to its widget cannot be set when
    switching page after the filters are drawn. It opens the page, filters kept."""
    _, db = sample_db
    at = opened("dashboard_enhanced.py", db, monkeypatch, view=view, **query)
    assert at.header[0].value == title
    for key, value in query.items():
        assert at.query_params[key] == value
    assert "view" not in at.query_params


@pytest.mark.parametrize("view", ["models", "tools", "automation"])
def test_a_link_opens_the_view_it_names(sample_db: tuple[str, Path],
                                        monkeypatch: pytest.MonkeyPatch, view: str) -> None:
    """`?view=<key>` (the session page's "Cron jobs" button links `?view=automation`)
    opens that view; picking a view puts its key in the URL, the default none."""
    _, db = sample_db
    at = opened("dashboard.py", db, monkeypatch, view=view)
    assert at.segmented_control(key="view").value == view
    at.segmented_control(key="view").set_value("sessions").run()
    assert "view" not in at.query_params
    at.segmented_control(key="view").set_value(view).run()
    assert at.query_params["view"] == view


def test_labels_are_shown_as_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    label = "<b>bold</b> **stars** :red[red] [link](http://x)"
    db = tmp_path / "labels.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1", label=label, session_key="agent:main:<i>k</i>")],
          [call("s1", now, 2.0)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params["session"] = "s1"
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    ok(at)
    texts = [t.value for t in at.text]
    assert any(label in t and "agent:main:<i>k</i>" in t for t in texts)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("<b>bold</b>" in value or "**stars**" in value for value in rendered)
    at.switch_page("openclaw_telemetry/ui/pages/alert_center.py").run()
    ok(at)
    assert label in at.dataframe[0].value["subject"].tolist()  # the session's alert, as typed
    assert not any("<b>bold</b>" in m.value for m in at.markdown)


def test_missing_database_shows_the_command(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "nowhere" / "telemetry.db"
    for script in ("dashboard.py", "dashboard_enhanced.py"):
        at = app(script, db, monkeypatch).run()
        assert not at.exception
        assert at.info
        assert f".venv/bin/python session_parser.py --db {db}" in [c.value for c in at.code]
    assert not db.exists()


@pytest.mark.parametrize(("url", "said"), [
    ("postgres://me@127.0.0.1:9/telemetry", "postgresql+psycopg://"),  # no such dialect
    ("postgresql+psycopg2://me@127.0.0.1:9/telemetry", "postgresql+psycopg://"),  # no driver
    ("postgresql+psycopg://me:s3cret@127.0.0.1:9/telemetry", "is the PostgreSQL server "
                                                             "running"),  # nothing listens
])
def test_a_database_that_cannot_be_opened_says_why(
        url: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL with a wrong scheme or driver read "No telemetry database here yet. Build it
    with: session_parser.py --db postgres://…", which fails the same way; a server that is
    down said "Cannot read the database: connection failed…" without naming it."""
    monkeypatch.setenv("OPENCLAW_TELEMETRY_DB", url)
    for script in ("dashboard.py", "dashboard_enhanced.py"):
        at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT).run()
        assert not at.exception and not at.info and not at.code
        (error,) = [e.value for e in at.error]
        assert said in error and "127.0.0.1:9/telemetry" in error
        assert "s3cret" not in error


def test_db_argument_after_double_dash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "given.db"
    monkeypatch.setattr("sys.argv", ["dashboard.py", "--db", str(db)])
    monkeypatch.setenv("OPENCLAW_TELEMETRY_DB", str(tmp_path / "other.db"))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert f".venv/bin/python session_parser.py --db {db}" in [c.value for c in at.code]


def test_demo_database_has_a_banner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openclaw_telemetry.demo import DEFAULT_TEXT, mark_demo
    db = tmp_path / "demo.db"
    engine = open_db(f"sqlite:///{db}")
    mark_demo(engine)  # marked while empty, then filled, as start.sh --demo does
    engine.dispose()
    build(f"sqlite:///{db}", [session("s1")], [call("s1", datetime(2026, 1, 1), 1.0)]).dispose()
    for script in ("dashboard.py", "dashboard_enhanced.py"):
        at = app(script, db, monkeypatch).run()
        assert DEFAULT_TEXT in [w.value for w in at.warning]


def test_empty_and_foreign_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.db"
    open_db(f"sqlite:///{empty}").dispose()
    blank = tmp_path / "blank.db"
    blank.write_bytes(b"")
    for db in (empty, blank):
        for script in ("dashboard.py", "dashboard_enhanced.py"):
            at = app(script, db, monkeypatch).run()
            assert not at.exception
            assert at.info
            assert f".venv/bin/python session_parser.py --db {db}" in [c.value for c in at.code]
    theirs = tmp_path / "openclaw-agent.sqlite"  # one of OpenClaw's own: never filled
    with sqlite3.connect(theirs) as conn:
        conn.execute("CREATE TABLE transcript_events (session_id TEXT)")
    for script in ("dashboard.py", "dashboard_enhanced.py"):
        at = app(script, theirs, monkeypatch).run()
        assert not at.exception and not at.code
        assert "is not an OpenClaw Telemetry database" in at.error[0].value
        assert "transcript_events" in at.error[0].value


def test_every_page_on_each_backend(db_url: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The same pages over SQLite and PostgreSQL (the one dialect seam is in sqlkit)."""
    version = "openclaw-2026.9.6"
    copy_sample(version, tmp_path / "state")
    assert ingest(tmp_path / "state", db_url).code == 0
    monkeypatch.setenv("OPENCLAW_TELEMETRY_DB", db_url)
    at = AppTest.from_file(str(ROOT / "dashboard_enhanced.py"), default_timeout=TIMEOUT)
    at.context["timezone"] = "America/New_York"
    at.run()
    ok(at)
    check_kpis(at, version)
    for page in PAGES[1:]:
        at.switch_page(f"openclaw_telemetry/ui/pages/{page}.py").run()
        ok(at)
    wanted = query(db_url, "SELECT session_id FROM sessions ORDER BY total_cost DESC")[0][0]
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py")
    at.query_params["session"] = wanted
    at.run()
    ok(at)
    assert at.subheader[0].value == "Session"
    for section in ("cache", "tools", "tree"):
        at.segmented_control(key="session-section").set_value(section).run()
        ok(at)


def test_a_database_replaced_under_the_dashboard_is_shown(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """#11 defect 13: `./start.sh --demo` again replaced the database under a running
    dashboard, which kept showing the old data. Here the worst case: the new database is
    written over the old file (same inode) and has the same data version."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    db, other = tmp_path / "live.db", tmp_path / "other.db"
    build(f"sqlite:///{db}", [session("s1")], [call("s1", now, 2.0)]).dispose()
    engine = build(f"sqlite:///{other}", [session("s2")], [call("s2", now, 7.0)])
    with engine.begin() as conn:  # another database: its first run started at another time
        conn.execute(text("UPDATE ingest_runs SET started_at = '2026-02-02 00:00:00'"))
    engine.dispose()
    at = app("dashboard.py", db, monkeypatch).run()
    ok(at)
    assert at.metric[0].value == "$2.00"
    shutil.copyfile(other, db)  # same file, new contents
    at.run()
    ok(at)
    assert at.metric[0].value == "$7.00"


def alerts_page(db: Path, rules: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> AppTest:
    """The enhanced dashboard's Alerts page on `db`, with a rules file of `rules`."""
    path = tmp_path / "rules.toml"
    path.write_text(rules)
    monkeypatch.setenv("OPENCLAW_TELEMETRY_ALERTS", str(path))
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/alert_center.py").run()
    ok(at)
    return at


def gateways_db(path: Path, gateways: tuple[str, ...]) -> Path:
    """Session "shared" on each gateway, costing $0.10 on the first, $0.20 on the next …,
    and a $0.30 cron session on the first only."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    rows = [session("shared", gateway=g, label=f"chat on {g}") for g in gateways]
    rows.append(session("nightly", gateway=gateways[0], kind="cron", cron_job_name="digest"))
    calls = [call("shared", now, 0.1 * (i + 1), gateway=g) for i, g in enumerate(gateways)]
    calls.append(call("nightly", now, 0.3, gateway=gateways[0]))
    build(f"sqlite:///{path}", rows, calls).dispose()
    return path


def links(at: AppTest) -> list[str]:
    return [link for d in at.dataframe if "open" in d.value.columns for link in d.value["open"]]


def test_an_open_link_keeps_the_filters_in_force(
        sample_db: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """"Open" on the Overview of agent=main opened the session page with every agent's
    list ("119 of 119 sessions"): the link now carries the filters, as the navigation does;
    with none chosen it is as it always was."""
    _, db = sample_db
    script = "dashboard_enhanced.py"  # (the basic one opens a session by its table's box)
    at = opened(script, db, monkeypatch, agent="main", tz="Europe/Berlin")
    assert links(at) and all(link.endswith("&agent=main&tz=Europe%2FBerlin") and
                             "session=" in link for link in links(at) if link)
    target = next(link for link in links(at) if link)
    again = app(script, db, monkeypatch)
    again.query_params.update(parse_qsl(target.split("?", 1)[1]))
    again.switch_page("openclaw_telemetry/ui/pages/sessions.py")
    again.run()
    ok(again)
    assert again.multiselect(key="agent").value == ["main"]
    assert again.selectbox(key="tz").value == "Europe/Berlin"
    assert "Session" in [h.value for h in again.subheader]
    plain = opened(script, db, monkeypatch)
    assert all(link.count("&") <= 1 for link in links(plain))  # view= and session= only


def test_one_gateway_draws_no_gateway_filter(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A database of one gateway looks as it always did: no filter, no column, links
    without `&gateway=` (so links made before gateways keep working)."""
    db = gateways_db(tmp_path / "one.db", ("solo",))
    for script in ("dashboard.py", "dashboard_enhanced.py"):
        at = app(script, db, monkeypatch).run()
        ok(at)
        assert not [m for m in at.multiselect if m.key == "gateways"]
        assert all("gateway" not in d.proto.column_order for d in at.dataframe)
    assert links(at) and not any("gateway=" in link for link in links(at))
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py")
    at.query_params["session"] = "shared"
    at.run()
    ok(at)
    assert any("chat on solo" in t.value and "gateway:" not in t.value for t in at.text)


def status_line(at: AppTest) -> str:
    return next(c.value for c in at.caption if "newest call" in c.value).replace("\\", "")


def test_the_status_line_speaks_of_the_gateways_in_view(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'Data as of' is the stalest ingest of the gateways in view, named: a host whose
    ingest stopped must not hide behind another's fresh data; a run still going leaves
    the time of the last one that finished."""
    db = gateways_db(tmp_path / "two.db", ("gw-a", "gw-b"))
    engine = open_db(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(delete(ingest_runs))
        conn.execute(insert(ingest_runs), [
            {"gateway": "gw-a", "started_at": datetime(2026, 3, 1, 8), "status": "ok",
             "finished_at": datetime(2026, 3, 1, 8, 5), "changed": True},
            {"gateway": "gw-b", "started_at": datetime(2026, 3, 2, 9), "status": "ok",
             "finished_at": datetime(2026, 3, 2, 9, 5), "changed": True},
            {"gateway": "gw-b", "started_at": datetime(2026, 3, 2, 10), "status": "running",
             "finished_at": None, "changed": False}])
    engine.dispose()
    at = app("dashboard.py", db, monkeypatch).run()
    ok(at)
    assert "2 gateways: data as of 2026-03-01 08:05 (stalest: gw-a)" in status_line(at)
    at.multiselect(key="gateways").set_value(["gw-b"]).run()
    ok(at)
    line = status_line(at)
    assert "data as of 2026-03-02 09:05 · newest call" in line and "gateways" not in line


def test_two_gateways_draw_a_filter_that_reaches_every_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = gateways_db(tmp_path / "two.db", ("gw-a", "gw-b"))
    at = app("dashboard.py", db, monkeypatch).run()
    ok(at)
    assert at.multiselect(key="gateways").options == ["gw-a", "gw-b"]
    assert metrics(at)["Cost"] == "$0.60"
    at.multiselect(key="gateways").set_value(["gw-b"]).run()
    ok(at)
    assert metrics(at)["Cost"] == "$0.20"
    at.multiselect(key="kind").set_value(["cron"]).run()  # gw-b has no cron session
    ok(at)
    assert metrics(at)["LLM calls"] == "0"
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params["gateways"] = "gw-a"
    at.run()
    ok(at)
    assert at.multiselect(key="gateways").value == ["gw-a"]
    assert metrics(at)["Cost"] == "$0.40"
    for page in PAGES[1:]:
        at.switch_page(f"openclaw_telemetry/ui/pages/{page}.py").run()
        ok(at)
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    table = next(d for d in at.dataframe if "session_id" in d.value.columns)
    assert "gateway" in table.proto.column_order
    assert set(table.value["gateway"]) == {"gw-a"}
    at.multiselect(key="gateways").set_value([]).run()
    at.switch_page("openclaw_telemetry/ui/pages/overview.py").run()
    assert sorted(link for link in links(at) if "session=shared" in link) == [
        "sessions?session=shared&gateway=gw-a", "sessions?session=shared&gateway=gw-b"]


@pytest.mark.parametrize("gateways", [("solo",), ("gw-a", "gw-b")])
def test_a_session_alert_opens_its_session_on_its_gateway(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gateways: tuple[str, ...]) -> None:
    """The Alerts page links a session alert to the session of its own gateway (the id
    "shared" is on both; only gw-b's is over the threshold), and names the gateway; with
    one gateway the links and columns are those of before gateways."""
    db = gateways_db(tmp_path / "gw.db", gateways)
    at = alerts_page(db, '[[rule]]\nname = "Pricey"\nmetric = "session_cost"\nwarning = 0.15\n'
                     f'gateway = {list(gateways)!r}\n', tmp_path, monkeypatch)
    tables = [d for d in at.dataframe if "open" in d.value.columns]
    assert len(tables) == 2  # firing now, and the history
    (rule,) = [d.value for d in at.dataframe if "filters" in d.value.columns]
    assert list(rule["filters"]) == [f"gateways: {', '.join(gateways)}"]
    if len(gateways) == 1:
        assert set(links(at)) == {"sessions?session=nightly"}
        assert all("gateway" not in d.proto.column_order for d in tables)
        return
    assert set(links(at)) == {"sessions?session=shared&gateway=gw-b",
                              "sessions?session=nightly&gateway=gw-a"}
    for shown in tables:
        assert "gateway" in shown.proto.column_order
        assert dict(zip(shown.value["subject"], shown.value["gateway"], strict=True)) == {
            "chat on gw-b": "gw-b", "Cron: digest": "gw-a"}  # its job names a cron run


def test_an_alert_of_no_one_session_names_the_gateways_it_counts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day's spend is no one session's: with several gateways its Gateway cell says whose
    calls it counts, 'all' (never 'None'; '—' read as "none") and it opens nothing: an
    empty Session cell (None read 'None')."""
    db = gateways_db(tmp_path / "gw.db", ("gw-a", "gw-b"))
    at = alerts_page(db, '[[rule]]\nname = "Spendy day"\nmetric = "daily_cost"\n'
                     'warning = 0.01\n', tmp_path, monkeypatch)
    tables = [d for d in at.dataframe if "open" in d.value.columns]
    assert tables
    for shown in tables:
        assert "gateway" in shown.proto.column_order
        assert list(shown.value["gateway"]) == ["all"] * len(shown.value)
        assert (shown.value["open"] == "").all()


@pytest.mark.parametrize(("gateway", "shown"), [('"gw-b"', "gw-b"),
                                               ('["gw-a", "gw-b"]', "gw-a, gw-b")])
def test_an_alert_over_a_rules_window_names_its_gateways_and_its_last_call(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gateway: str, shown: str) -> None:
    """A cost rule limited to gateway gw-b read "—" in the Gateway column, and was "at"
    the start of its 30-day window, where no call was: it names the rule's gateways and
    is at the last call it counted, as a session alert is."""
    db = gateways_db(tmp_path / "gw.db", ("gw-a", "gw-b"))
    ((last,),) = query(f"sqlite:///{db}", "SELECT max(timestamp) FROM messages")
    at = alerts_page(db, '[[rule]]\nname = "Spend"\nmetric = "cost"\nwindow = "30d"\n'
                     f'warning = 0.01\ngateway = {gateway}\n', tmp_path, monkeypatch)
    active, history = [d.value for d in at.dataframe if "open" in d.value.columns]
    assert list(active["subject"]) == ["last 30 d"]
    assert list(active["gateway"]) == [shown] and list(history["gateway"]) == [shown]
    assert list(active["at"]) == [pd.Timestamp(last)]


@pytest.mark.parametrize(("text", "said"), [
    ("[[budget]]\nname = 'B'\namount = 5\n",
     "The built-in rules: {path} has no [[rule]] tables"),
    ("rule = []\n[[budget]]\nname = 'B'\namount = 5\n",
     "No alert rules: {path} says rule = []"),
])
def test_the_alerts_page_says_whose_rules_it_uses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, said: str) -> None:
    """A file of budgets only has the built-in rules, but the page said "Rules from
    rules.toml"; `rule = []` (no alert rules) draws the page, saying so."""
    db = gateways_db(tmp_path / "gw.db", ("solo",))
    at = alerts_page(db, text, tmp_path, monkeypatch)
    wanted = fmt.escape_md(said.format(path=tmp_path / "rules.toml"))
    assert any(c.value.startswith(wanted) for c in at.caption), [c.value for c in at.caption]


class _Monitor:
    """bmasterai's monitor as far as the page uses it: statistics with unrounded floats."""

    def __init__(self, stats: dict[str, float]) -> None:
        self.stats = stats

    def record_custom_metric(self, name: str, value: float, labels: dict[str, str]) -> None:
        pass

    def get_metric_stats(self, name: str, minutes: int) -> dict[str, float]:
        if name == "openclaw_alert" and self.stats:  # severities: 1 info … 3 critical
            return {"count": 3, "min": 1, "max": 3, "avg": 2.0, "median": 2, "latest": 3}
        return dict(self.stats)


@pytest.mark.parametrize("stats", [
    {"count": 3, "min": 1.5, "max": 27.678211740000002, "avg": 10.123456, "median": 2.0,
     "latest": 27.678211740000002},
    {}])  # nothing recorded in the hour
def test_the_rules_and_the_monitor_read_as_tables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stats: dict[str, float]) -> None:
    """Alerts › Rules had raw headers (rule, metric, window), raw metric codes
    (session_cost) and a cut-off description; the bmasterai expander was raw JSON with
    27.678211740000002."""
    db = tmp_path / "rules.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1")], [call("s1", now, 2.0)]).dispose()
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "Pricey"\nmetric = "session_cost"\ninfo = 1.0\n'
                     'description = "A session that costs more than a coffee, which is a '
                     'long sentence to read in full"\n')
    monkeypatch.setenv("OPENCLAW_TELEMETRY_ALERTS", str(rules))
    module = type(sys)("bmasterai")
    module.get_monitor = lambda: _Monitor(stats)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bmasterai", module)
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/alert_center.py").run()
    ok(at)
    (rule,) = [d for d in at.dataframe if "filters" in d.value.columns]
    assert list(rule.value["metric"]) == ["Session cost"]
    config = json.loads(rule.proto.columns)
    assert {name: column.get("label") for name, column in config.items()
            if name != "_index"} == {
        "rule": "Rule", "metric": "Metric", "window": "Window", "thresholds": "Thresholds",
        "filters": "Filters", "description": "Description"}
    assert config["description"]["width"] == "large"
    (monitor,) = [d for d in at.dataframe if "latest" in d.value.columns]
    shown = monitor.value.set_index("metric")
    assert not at.json
    if stats:
        assert shown.loc["Cost", "latest"] == "$27.68"
        assert shown.loc["Cost", "average"] == "$10.12"
        assert shown.loc["LLM calls", "latest"] == "28"
        assert shown.loc["Alerts", "count"] == "3"
        assert shown.loc["Alerts", "latest"] == "critical"
    else:
        assert (shown == "—").all().all()
    assert any("every time this page is drawn" in c.value for c in at.caption)


def job_table(at: AppTest) -> Any:
    """The Cron page's table of jobs (the one with their average cost per run)."""
    (found,) = [d for d in at.dataframe if "avg_run" in d.value.columns]
    return found


def test_a_cron_job_of_each_gateway_is_a_row_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cron jobs of one name on two hosts are two jobs on the Cron page (each with its
    Gateway, and named by it) and two series of its chart; the gateway filter keeps one,
    named by its name alone (no other job of that name is listed beside it)."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    rows = [session("run", gateway=g, kind="cron", cron_job_name="hourly-digest")
            for g in ("gw-a", "gw-b")]
    calls = [call("run", now, cost, gateway=g) for g, cost in (("gw-a", 0.1), ("gw-b", 0.2))]
    db = tmp_path / "cron.db"
    build(f"sqlite:///{db}", rows, calls).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/automation.py").run()
    ok(at)
    jobs = job_table(at)
    assert "gateway" in jobs.proto.column_order
    # a run costs a few cents: "$0.03" against "$0.04" hid runs of $0.0346 and $0.0355
    formats = {name: c["type_config"]["format"]
               for name, c in json.loads(jobs.proto.columns).items()
               if "format" in c.get("type_config", {})}
    assert (formats["avg_run"], formats["max_run"], formats["cost"]) == (
        "$%.4f", "$%.4f", "dollar")
    # beside its Gateway column a job is named without it (review 19: "main: hourly-tick ·
    # on of…" was cut at 1440 px, next to "office-mini"); its chart's series say it
    assert jobs.value[["job", "gateway", "cost"]].values.tolist() == [
        ["hourly-digest", "gw-b", 0.2], ["hourly-digest", "gw-a", 0.1]]
    (daily,) = charts(at, "cron-daily")
    assert sorted(bar["name"] for bar in json.loads(daily.proto.spec)["data"]) == [
        "hourly-digest · on gw-a", "hourly-digest · on gw-b"]
    at.multiselect(key="gateways").set_value(["gw-a"]).run()
    ok(at)
    assert job_table(at).value[["job", "gateway"]].values.tolist() == [
        ["hourly-digest", "gw-a"]]


@pytest.mark.parametrize(("gateway", "shown", "said"), [
    ("gw-b", "chat on gw-b", None),
    (None, "chat on gw-a", "this is the one on gw-a"),  # a link made before gateways
    ("nope", None, "No gateway named 'nope' in this database"),
])
def test_a_session_page_names_its_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          gateway: str | None, shown: str | None,
                                          said: str | None) -> None:
    db = gateways_db(tmp_path / "two.db", ("gw-a", "gw-b"))
    at = app("dashboard.py", db, monkeypatch)
    at.query_params["view"] = "sessions"
    at.query_params["session"] = "shared"
    if gateway is not None:
        at.query_params["gateway"] = gateway
    at.run()
    ok(at)
    texts = [t.value for t in at.text]
    if shown is not None:
        assert any(shown in t and f"gateway: {shown.split()[-1]}" in t for t in texts)
    else:
        assert not any("chat on" in t for t in texts)
    notes = [w.value.replace("\\", "") for w in at.warning] + [
        c.value.replace("\\", "") for c in at.caption]
    if said is not None:
        assert any(said in note for note in notes), notes
    at.query_params["session"] = "nightly"
    at.query_params["gateway"] = "gw-b"
    at.run()
    ok(at)
    assert any("No session with id 'nightly' on gateway 'gw-b'; that id is on 'gw-a'" in
               w.value.replace("\\", "") for w in at.warning)


def test_a_lost_parent_gets_no_session_link(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Sub-agents whose parent is unknown are listed (their cost counts) with an empty
    Session cell: before, the table's '—' for a missing value became a link to '—'."""
    db = tmp_path / "t.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("lost", kind="subagent"), session("p", kind="main"),
                              session("c", kind="subagent", parent_session_id="p")],
          [call("lost", now, 2.0), call("p", now, 1.0), call("c", now, 3.0)]).dispose()
    at = app("dashboard.py", db, monkeypatch).run()
    at.segmented_control(key="view").set_value("automation").run()
    ok(at)
    rolled = next(t.value for t in at.dataframe if "subagent_cost" in t.value.columns)
    links = dict(zip(rolled["parent"], rolled["open"], strict=True))
    assert links["(unknown parent)"] == ""  # an empty cell (None would read 'None')
    assert [v for k, v in links.items() if k != "(unknown parent)"] == [
        "?view=sessions&session=p"]


def compare_periods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *ages: timedelta,
                    **params: str) -> AppTest:
    """The Comparisons page over time periods, on a database of one call per age."""
    db = tmp_path / "periods.db"
    now = datetime.now().replace(microsecond=0)
    build(f"sqlite:///{db}", [session("s1")],
          [call("s1", now - age, 1.0, is_error=i == 0) for i, age in enumerate(ages)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/compare.py").run()
    at.segmented_control(key="compare-dimension").set_value("period").run()
    ok(at)
    return at


def test_all_time_periods_are_named_for_what_they_hold(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    at = compare_periods(tmp_path, monkeypatch, timedelta(hours=1), timedelta(days=40))
    table = at.dataframe[0].value
    today = datetime.now(UTC).date()  # the app's time zone
    before = f"{today - timedelta(days=59)} – {today - timedelta(days=30)}"
    assert list(table.columns) == ["measure", before, "Last 30 days"]  # oldest first
    calls = table.set_index("measure").loc["LLM calls"]
    assert calls[before] == "1" and calls["Last 30 days"].startswith("1")
    assert "(=)" in calls["Last 30 days"]  # the range against the period before it
    assert "Last 30 days and the 30 d before it." in [c.value for c in at.caption]
    (errors,) = charts(at, "compare-error_rate")
    figure = json.loads(errors.proto.spec)
    assert plotted(figure["data"][0]["y"]) == [0.0, 1.0]  # the newer call failed, not the older
    assert figure["layout"]["xaxis"]["type"] == "category"
    assert figure["layout"]["yaxis"]["tickformat"] == ".3~%"
    at.slider(key="compare-periods").set_value(3).run()
    ok(at)
    names = list(at.dataframe[0].value.columns)
    assert names[1:] == [f"{today - timedelta(days=89)} – {today - timedelta(days=60)}",
                         before, "Last 30 days"]
    assert "Last 30 days and the 2 periods of 30 d before it." in [c.value for c in at.caption]
    assert not any("(s)" in str(value) for value in [*names, *(c.value for c in at.caption)])


@pytest.mark.parametrize("days_ago", [0, 2])
def test_one_day_periods_are_bars_named_as_the_table_names_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, days_ago: int) -> None:
    """A one-day period is named by its date ("2026-12-06"): plotly took the names for
    dates, drew a time axis of milliseconds and dropped the bar named "Today" (Today, and
    a custom range of one day)."""
    day = str(datetime.now(UTC).date() - timedelta(days=days_ago))
    query = {"range": "Today"} if days_ago == 0 else {"range": "custom", "from": day, "to": day}
    at = compare_periods(tmp_path, monkeypatch, timedelta(days=days_ago, seconds=1),
                         timedelta(days=days_ago + 1), **query)
    columns = list(at.dataframe[0].value.columns)[1:]
    assert len(columns) == 2 and columns[0] != columns[1]
    for key in ("compare-cost", "compare-cost_per_call"):
        (drawn,) = charts(at, key)
        figure = json.loads(drawn.proto.spec)
        assert figure["layout"]["xaxis"]["type"] == "category"
        assert figure["data"][0]["x"] == columns


def test_periods_of_a_range_that_selects_nothing(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    at = compare_periods(tmp_path, monkeypatch, timedelta(days=200), range="Last 7 days")
    table = at.dataframe[0].value
    today = datetime.now(UTC).date()
    before = f"{today - timedelta(days=13)} – {today - timedelta(days=7)}"
    assert list(table.columns) == ["measure", before, "Last 7 days"]
    assert [v[0] for v in table.set_index("measure").loc["LLM calls"]] == ["0", "0"]
    assert list(table.set_index("measure").loc["Cost per call"]) == ["—", "—"]
    assert list(table.set_index("measure").loc["Error rate"]) == ["—", "—"]
    assert "Last 7 days and the 7 d before it." in [c.value for c in at.caption]
    (errors,) = charts(at, "compare-error_rate")
    figure = json.loads(errors.proto.spec)
    assert not figure["data"]
    assert figure["layout"]["annotations"][0]["text"] == "No errors in this range and filter"


def test_compare_charts_stack_in_reading_order(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A phone stacks a row's columns one under the other: the charts were laid out in two
    columns of several charts each, so a phone showed cost, cache hits, … then cost per
    call, errors, …; each pair now has a row of its own, so the order is the table's."""
    from openclaw_telemetry.ui.pages.compare import CHARTED

    at = compare_periods(tmp_path, monkeypatch, timedelta(hours=1), timedelta(days=40))
    drawn = [c.proto.id.rsplit("-compare-", 1)[-1] for c in at.get("plotly_chart")
             if "-compare-" in c.proto.id]
    assert drawn == list(CHARTED)
    for row in at.main.get("horizontal_block"):
        assert len(row.get("column")) <= 2


def test_compared_values_can_be_checked_by_eye() -> None:
    """Comparisons: "$0.02" against "$0.0064 (-61.7%)" (the first was $0.0166), and an
    error rate's change as "(-18.1%)" of a rate where the Overview says percentage points."""
    from openclaw_telemetry.ui.pages.compare import _highlight, side_by_side
    frame = pd.DataFrame({"item": ["a", "b"], "cost": [16.6, 6.4], "calls": [1000, 1000],
                          "cost_per_call": [0.0166, 0.0064], "cost_per_session": [1.5, 0.5],
                          "tokens_per_call": [100.0, 90.0], "cache_hit_rate": [0.5, 0.6],
                          "error_rate": [0.0033, 0.0027], "latency_p50_ms": [100.0, 90.0],
                          "latency_p95_ms": [200.0, 180.0],
                          "tool_error_rate": [float("nan"), float("nan")],
                          "sessions": [12, 3], "tool_calls": [0, 40]})
    table = side_by_side(frame).set_index("measure")
    # every measure the README's Comparisons section promises, in its order
    assert list(table.index) == [
        "Cost", "LLM calls", "Sessions", "Cost per call", "Cost per session", "Tokens per call",
        "Cache hit rate", "Error rate", "Latency p50 (ms)", "Latency p95 (ms)", "Tool calls",
        "Tool error rate"]
    assert list(table.loc["Sessions"]) == ["12", "3  (-75.0%)"]
    assert list(table.loc["Tool calls"]) == ["0", "40  (new)"]
    assert list(table.loc["Cost per call"]) == ["$0.0166", "$0.0064  (-61.4%)"]
    assert list(table.loc["Cost"]) == ["$16.60", "$6.40  (-61.4%)"]
    assert list(table.loc["Error rate"]) == ["0.3%", "0.3%  (-0.1 pp)"]
    assert list(table.loc["Cache hit rate"]) == ["50.0%", "60.0%  (+10.0 pp)"]
    assert list(table.loc["Tool error rate"]) == ["—", "—"]
    assert list(table.loc["Cost per session"]) == ["$1.50", "$0.50  (-66.7%)"]
    # a difference that reads "(=)" is not coloured worse (94.3 % against 94.3 %)
    close = frame.assign(cache_hit_rate=[0.94312, 0.94298], error_rate=[0.01, 0.02])
    styles = _highlight(side_by_side(close), close)._compute().ctx
    rows = list(side_by_side(close)["measure"])
    assert not styles.get((rows.index("Cache hit rate"), 2))
    assert styles[(rows.index("Error rate"), 2)]  # +1.0 pp: worse, coloured
    cents = side_by_side(frame.assign(cost_per_call=[0.0179, 0.0110])).set_index("measure")
    assert list(cents.loc["Cost per call"]) == ["$0.018", "$0.011  (-38.5%)"]


def test_overview_says_what_its_deltas_and_month_tiles_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A custom range without data showed "Deltas compare with the previous period…" under
    tiles without a delta; the month tiles, which ignore the range, said so only in a (?)."""
    db = tmp_path / "ov.db"
    now = datetime.now().replace(microsecond=0)
    build(f"sqlite:///{db}", [session("s1")],
          [call("s1", now - timedelta(hours=1), 2.0),
           call("s1", now - timedelta(days=10), 1.0)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params["range"] = "Last 7 days"
    at.run()
    ok(at)
    said = [c.value for c in at.caption]
    assert any(c.startswith("Deltas compare with the previous period") for c in said)
    assert any(c.startswith("This month, whatever the sidebar's time range") for c in said)
    at.selectbox(key="range").set_value("custom").run()
    at.date_input(key="from").set_value(datetime(2020, 11, 1).date()).run()
    at.date_input(key="to").set_value(datetime(2020, 11, 2).date()).run()
    ok(at)
    assert metrics(at)["LLM calls"] == "0"
    assert not any(m.proto.delta for m in at.metric)
    said = [c.value for c in at.caption]
    assert not any(c.startswith("Deltas compare") for c in said)
    assert any(c.startswith("This month, whatever the sidebar's time range") for c in said)


@pytest.mark.parametrize(("range_", "unit"), [("All time", "day"), ("Last 7 days", "hour")])
def test_hourly_buckets_over_a_long_range_are_days(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, range_: str, unit: str) -> None:
    """Timeline › Hourly with All time: 1,425 bars, every tick "00:00", 28 s to draw; and the
    download said "daily" whatever the buckets without saying it always is."""
    db = tmp_path / "tl.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1")],
          [call("s1", now - timedelta(days=days), 1.0) for days in (0, 1, 40)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params["range"] = range_
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/timeline.py").run()
    at.segmented_control(key="tl-unit").set_value("hour").run()
    ok(at)
    (drawn,) = charts(at, "tl-chart")
    figure = json.loads(drawn.proto.spec)
    buckets = len(plotted(figure["data"][0]["x"]))
    said = [i.value for i in at.info]
    (button,) = at.get("download_button")
    assert button.proto.label == "Download daily usage as CSV"
    assert "one row per day" in button.proto.help
    if unit == "day":
        assert buckets <= 45
        assert any(s.startswith("Hourly buckets are drawn for ranges of up to 14 days")
                   for s in said)
        assert any(c.value.endswith("days without calls show as zero.") for c in at.caption)
    else:
        assert buckets > 100  # hours
        assert not any("Hourly buckets" in s for s in said)
    at.selectbox(key="range").set_value("custom").run()
    at.date_input(key="from").set_value(datetime(2020, 11, 1).date()).run()
    at.date_input(key="to").set_value(datetime(2020, 11, 2).date()).run()
    ok(at)
    assert not charts(at, "tl-chart")
    assert not any("Hourly buckets" in i.value for i in at.info)


@pytest.mark.parametrize(("first", "last", "calls"), [
    (datetime(2026, 12, 5).date(), datetime(2026, 11, 1).date(), "1"),
    (datetime(2020, 12, 5).date(), datetime(2020, 11, 1).date(), "0")])  # nothing in range
def test_a_custom_range_from_after_to_says_what_it_shows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: Any, last: Any,
        calls: str) -> None:
    """From 2026-12-05 To 2026-11-01 was silently read as Nov 1 – Dec 5 while the status
    line said "2026-12-05 – 2026-11-01"."""
    db = tmp_path / "range.db"
    build(f"sqlite:///{db}", [session("s1")], [call("s1", datetime(2026, 11, 20, 12), 1.0),
                                               call("s1", datetime(2026, 12, 20, 12), 1.0)]
          ).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.selectbox(key="range").set_value("custom").run()
    at.date_input(key="from").set_value(first).run()
    at.date_input(key="to").set_value(last).run()
    ok(at)
    (warning,) = [w.value for w in at.warning if "From is after To" in w.value]
    assert warning == f"From is after To: showing {last} – {first}."
    said = " ".join(c.value for c in at.caption)
    assert f"{fmt.escape_md(f'{last} – {first}')}" in said
    assert f"{fmt.escape_md(f'{first} – {last}')}" not in said
    assert metrics(at)["LLM calls"] == calls
    at.date_input(key="from").set_value(last).run()
    ok(at)
    assert not [w for w in at.warning if "From is after To" in w.value]


def test_one_model_is_not_a_comparison(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Comparisons said "No two models to compare in this range and filter."."""
    db = tmp_path / "one.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1")], [call("s1", now, 1.0)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/compare.py").run()
    ok(at)
    said = [i.value for i in at.info]
    assert "1 model in this range and filter: comparing needs at least two." in said
    at.segmented_control(key="compare-dimension").set_value("cron_job").run()
    ok(at)
    said = [i.value for i in at.info]
    assert "0 cron jobs in this range and filter: comparing needs at least two." in said
    assert not any("(s)" in s or "No two" in s for s in said)
    assert any(h.value == "Cost by thinking level" for h in at.subheader)  # its one call
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params.update({"range": "Custom dates", "from": "2019-12-30",
                            "to": "2019-12-31"})  # selects nothing
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/compare.py").run()
    ok(at)
    # review 19: a heading over an empty 200 px chart repeated what the note above says
    assert "0 models in this range and filter: comparing needs at least two." in [
        i.value for i in at.info]
    assert not any(h.value == "Cost by thinking level" for h in at.subheader)


def table_of(at: AppTest, *columns: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The one table showing these columns first: its cells and its column formats."""
    (found,) = [t for t in at.dataframe
                if list(t.proto.column_order[:len(columns)]) == list(columns)]
    return found.value, json.loads(found.proto.columns or "{}")


def test_cheap_amounts_never_read_as_free(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """3 calls at $0.0015 showed "$0.00" (the "dollar" format); an estimated $0.0076 of
    $100 read "(0.0%)". The cells stay numbers, so the columns sort by value."""
    db = tmp_path / "cheap.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1"), session("s2")],
          [*(call("s1", now, 0.0015, model="cheap") for _ in range(3)),
           call("s2", now, 100.0, is_error=True),
           call("s2", now, 0.0076, cost_source="estimated")]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    ok(at)
    assert any("estimated from price tables: $0.0076 (<0.1%)" in c.value for c in at.caption)
    at.switch_page("openclaw_telemetry/ui/pages/timeline.py").run()
    ok(at)
    cells, config = table_of(at, "cost", "series")
    assert config["cost"]["type_config"]["format"] == "$%.4f"
    at.segmented_control(key="tl-measure").set_value("errors").run()  # one error
    ok(at)
    (errors,) = charts(at, "tl-chart")
    axis = json.loads(errors.proto.spec)["layout"]["yaxis"]
    assert (axis["tickformat"], axis["dtick"]) == (",d", 1)
    assert cells.set_index("series")["cost"].round(6).to_dict() == {"cheap": 0.0045,
                                                                     "m1": 100.0076}
    at.switch_page("openclaw_telemetry/ui/pages/models.py").run()
    ok(at)
    cells, config = table_of(at, "cost", "model", "provider")
    assert config["cost"]["type_config"]["format"] == "$%.4f"
    assert config["avg_cost_per_call"]["type_config"]["format"] == "$%.4f"
    assert config["estimated_cost"]["type_config"]["format"] == "$%.4f"  # $0 and $0.0076


def test_shares_in_tables_read_as_everywhere_else(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 19: the Models table's cache hit rate read '58.42%' beside '73.2%' (the
    table's own percent format), where the tiles and charts say '94.8%'. A share in a
    table has one decimal, as `format.percent` writes it, and stays a number that sorts."""
    db = tmp_path / "shares.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1")],
          [call("s1", now, 1.0, model="a", input_tokens=4158, cache_read_tokens=5842),
           call("s1", now, 1.0, model="b", input_tokens=2680, cache_read_tokens=7320)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/models.py").run()
    ok(at)
    cells, config = table_of(at, "cost", "model", "provider")
    assert config["cache_hit_rate"]["type_config"]["format"] == "%.1f%%"
    rates = cells.set_index("model")["cache_hit_rate"].round(4).to_dict()
    assert rates == {"a": 58.42, "b": 73.2}  # drawn "58.4%", "73.2%"


def test_money_columns_keep_cents_without_cheap_amounts(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "dear.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1")], [call("s1", now, 2.5)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/timeline.py").run()
    ok(at)
    _, config = table_of(at, "cost", "series")
    assert config["cost"]["type_config"]["format"] == "dollar"
    at.segmented_control(key="tl-measure").set_value("errors").run()  # no errors at all
    ok(at)
    assert not charts(at, "tl-chart") and any("No errors" in i.value for i in at.info)
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params["range"] = "Last month"  # selects nothing: no table, a note
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/timeline.py").run()
    ok(at)
    assert not at.dataframe and at.info


@pytest.mark.parametrize(("threshold", "said"), [
    (2.5, "1 info alert firing"), (1.0, "2 info alerts firing"),
    (9.0, None)])  # none firing: no info box
def test_info_alerts_are_announced_as_information(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: float, said: str | None
        ) -> None:
    """Info alerts were "2 info alert(s) firing" in a blue box with a warning triangle."""
    db = tmp_path / "info.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("s1"), session("s2")],
          [call("s1", now, 2.0), call("s2", now, 3.0)]).dispose()
    at = alerts_page(db, f'[[rule]]\nname = "Pricey"\nmetric = "session_cost"\n'
                     f'info = {threshold}\n', tmp_path, monkeypatch)
    assert not at.warning
    boxes = [(box.value, box.proto.icon) for box in at.info if "firing" in box.value]
    if said is None:
        assert not boxes and "No alert is firing." in [s.value for s in at.success]
    else:
        assert boxes == [(said, ":material/info:")]


def test_recent_windows_show_when_the_range_has_no_call(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Cost statistics, Today before the day's first call: the page said "No LLM calls"
    and hid the Recent windows too, though the last 24 hours hold calls. (In a zone where
    it is day now: at 23:57 UTC a call at 23:55 yesterday is no longer in the last 24
    hours, and at 00:03 it is in the last 15 minutes.)"""
    zone = daytime_zone()
    local = datetime.now(ZoneInfo(zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(
        UTC).replace(tzinfo=None)
    db = tmp_path / "yesterday.db"
    build(f"sqlite:///{db}", [session("late")],
          [call("late", midnight - timedelta(minutes=5), 2.0)]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch, tz=zone).run()
    at.switch_page("openclaw_telemetry/ui/pages/statistics.py").run()
    at.selectbox(key="range").set_value("today").run()
    ok(at)
    assert any("No LLM calls in this range" in i.value for i in at.info)
    assert not at.metric  # no tiles of nothing
    assert [s.value for s in at.subheader] == ["Recent windows"]
    (windows,) = [t.value for t in at.dataframe if "window" in t.value.columns]
    assert windows.set_index("window").loc["Last 24 hours", "sessions"] == 1
    # a window without a session: '—', where an empty number cell reads 'None' in the
    # browser whatever a Styler says (Session 21: numbers that sort broke this at first)
    assert windows.set_index("window").loc["Last hour", "mean"] == "—"


def test_the_sub_agent_share_says_what_it_is_a_share_of(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Cron & sub-agents: the "Share" column had no help; it is Sub-agent $ of Total $
    (the spawning session's own calls plus its sub-agents' calls, in the range)."""
    db = tmp_path / "t.db"
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    build(f"sqlite:///{db}", [session("p", kind="main"),
                              session("c", kind="subagent", parent_session_id="p")],
          [call("p", now, 1.0), call("c", now, 3.0)]).dispose()
    at = app("dashboard.py", db, monkeypatch).run()
    at.segmented_control(key="view").set_value("automation").run()
    ok(at)
    (rolled,) = [t for t in at.dataframe if "subagent_share" in t.value.columns]
    row = rolled.value.iloc[0]
    assert (row["subagent_cost"], row["total_cost"], row["subagent_share"]) == (3.0, 4.0, 75.0)
    share = json.loads(rolled.proto.columns)["subagent_share"]
    assert share["label"] == "Share"
    assert "Sub-agent $" in share["help"] and "Total $" in share["help"]
    assert row["kind"] == "main chat"  # the kind by name, as on the Sessions page


def test_cron_jobs_are_drawn_in_the_palettes_colours(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Cron jobs had no palette (colours derived from each name), so daily-digest and
    hourly-tick were two near teals; now they get the palette's colours in name order,
    over every job the database holds, as models and agents do."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    jobs = ("hourly-tick", "daily-digest", "inbox-triage")
    db = tmp_path / "cron.db"
    build(f"sqlite:///{db}", [session(job, kind="cron", cron_job_name=job) for job in jobs],
          [call(job, now, 0.1) for job in jobs]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/automation.py").run()
    ok(at)
    (daily,) = charts(at, "cron-daily")
    drawn = {bar["name"]: bar["marker"]["color"] for bar in json.loads(daily.proto.spec)["data"]}
    assert drawn == {"daily-digest": PALETTE[0], "hourly-tick": PALETTE[1],
                     "inbox-triage": PALETTE[2]}
    at.switch_page("openclaw_telemetry/ui/pages/compare.py").run()
    at.segmented_control(key="compare-dimension").set_value("cron_job").run()
    at.multiselect(key="compare-items-cron_job").set_value(list(jobs)).run()
    ok(at)
    (cost,) = charts(at, "compare-cost")
    (bars,) = json.loads(cost.proto.spec)["data"]
    assert dict(zip(bars["x"], bars["marker"]["color"], strict=True)) == drawn


def test_the_cron_chart_spans_the_selection_not_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All time on one gateway: the chart ran from the whole database's first call (another
    gateway's, 40 days before), its one bar squeezed at the right edge."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    db = tmp_path / "cron.db"
    build(f"sqlite:///{db}",
          [session("old", gateway="gw-a"),
           session("job", gateway="gw-b", kind="cron", cron_job_name="digest")],
          [call("old", now - timedelta(days=40), 1.0, gateway="gw-a"),
           call("job", now - timedelta(days=2), 0.1, gateway="gw-b")]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch)
    at.query_params["gateways"] = "gw-b"
    at.run()
    at.switch_page("openclaw_telemetry/ui/pages/automation.py").run()
    ok(at)
    (daily,) = charts(at, "cron-daily")
    low, _high = json.loads(daily.proto.spec)["layout"]["xaxis"]["range"]
    assert pd.Timestamp(low).date() >= (now - timedelta(days=8)).date()  # (a week at least)


def test_the_session_tiles_show_how_the_cost_was_obtained_only_when_it_was_mixed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session whose cost was all recorded had six tiles, "Recorded" equal to "Cost" and
    "Estimated $0.00" and "Subscription $0.00" among them: on a phone they pushed "What
    drove the cost" 1.5 screens down. The split by source is shown when there is one."""
    now = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    db = tmp_path / "t.db"
    build(f"sqlite:///{db}", [session("plain"), session("mixed")],
          [call("plain", now, 2.0), call("plain", now + timedelta(seconds=5), 1.0),
           call("mixed", now, 2.0),
           call("mixed", now + timedelta(seconds=5), 0.5, cost_source="estimated"),
           call("mixed", now + timedelta(seconds=9), 0.25, subscription=True)]).dispose()
    for wanted, labels in (("plain", ["Cost", "LLM calls", "Errors"]),
                           ("mixed", ["Cost", "Recorded", "Estimated", "Subscription",
                                      "LLM calls", "Errors"])):
        at = app("dashboard_enhanced.py", db, monkeypatch)
        at.query_params["view"] = "sessions"
        at.query_params["session"] = wanted
        at.run()
        ok(at)
        shown = metrics(at)
        assert list(shown)[:len(labels)] == labels, (wanted, shown)
    assert (shown["Cost"], shown["Recorded"], shown["Estimated"], shown["Subscription"]) == (
        "$2.75", "$2.25", "$0.50", "$0.25")
