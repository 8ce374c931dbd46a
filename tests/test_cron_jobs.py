"""A cron job is a job, not a name: two agents' jobs named "hourly-tick" (and one job id
on two gateways sharing a database) are separate rows and series, each with its own cost
and runs, on every page that lists cron jobs, through the read functions those pages call.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import Engine
from telemetry_db import build, call, session
from test_dashboard_apptest import app, charts, ok

from openclaw_telemetry import read
from openclaw_telemetry.names import JOB_ID
from openclaw_telemetry.read.sqlkit import Scope
from openclaw_telemetry.read.status import known_names

UTC = ZoneInfo("UTC")
GW_A, GW_B = "gw-a", "gw-b"
NOWHERE = Scope(gateways=("nope",))


def runs(when: datetime) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """On gw-a, agents main and ops each have a job named "hourly-tick" (main's ran twice,
    $1 + $2; ops' once, $4); job id "digest-1", named "digest", runs on gw-a ($0.5) and on
    gw-b ($8): PostgreSQL databases shared by two gateways hold both."""
    def run(sid: str, gateway: str, agent: str, job_id: str, name: str) -> dict[str, object]:
        return session(sid, gateway=gateway, agent_id=agent, kind="cron", cron_job_id=job_id,
                       cron_job_name=name, session_key=f"agent:{agent}:cron:{job_id}:run:{sid}",
                       start_time=when)
    rows = [run("m1", GW_A, "main", "tick-main", "hourly-tick"),
            run("m2", GW_A, "main", "tick-main", "hourly-tick"),
            run("o1", GW_A, "ops", "tick-ops", "hourly-tick"),
            run("d1", GW_A, "main", "digest-1", "digest"),
            run("d1", GW_B, "main", "digest-1", "digest")]
    calls = [call("m1", when, 1.0, gateway=GW_A), call("m2", when, 2.0, gateway=GW_A),
             call("o1", when, 4.0, gateway=GW_A, agent_id="ops"),
             call("d1", when, 0.5, gateway=GW_A), call("d1", when, 8.0, gateway=GW_B)]
    return rows, calls


@pytest.fixture
def jobs_db(db_url: str) -> Engine:
    rows, calls = runs(datetime(2026, 1, 10, 8))
    return build(db_url, rows, calls)


def test_two_agents_jobs_of_one_name_are_two_jobs(jobs_db: Engine) -> None:
    activity = read.cron_activity(jobs_db, scope=Scope(), tz=UTC)
    got = {job: (gateway, int(n), float(cost)) for job, gateway, n, cost in zip(
        activity.jobs["job"], activity.jobs["gateway"], activity.jobs["runs"],
        activity.jobs["cost"], strict=True)}
    assert got == {"digest · on gw-b": (GW_B, 1, 8.0), "digest · on gw-a": (GW_A, 1, 0.5),
                   "ops: hourly-tick": (GW_A, 1, 4.0),
                   "main: hourly-tick": (GW_A, 2, 3.0)}
    assert activity.jobs.loc[activity.jobs["job"] == "main: hourly-tick",
                             "avg_run"].item() == 1.5
    assert sorted(activity.daily["job"]) == sorted(got)  # one series per job
    assert sorted(activity.runs["job"]) == sorted(
        ["main: hourly-tick"] * 2 + ["ops: hourly-tick", "digest · on gw-a",
                                            "digest · on gw-b"])
    jobs_db.dispose()


def test_one_gateway_names_its_jobs_as_it_sees_them(jobs_db: Engine) -> None:
    """gw-a alone: the digest is a name of its own there (no gateway added); gw-b alone:
    every job's name is its own; a filter that selects nothing lists none."""
    only_a = read.cron_activity(jobs_db, scope=Scope(gateways=(GW_A,)), tz=UTC).jobs
    assert sorted(only_a["job"]) == ["digest", "main: hourly-tick",
                                     "ops: hourly-tick"]
    only_ops = read.cron_activity(jobs_db, scope=Scope(agents=("ops",)), tz=UTC).jobs
    assert list(only_ops["job"]) == ["hourly-tick"]
    nothing = read.cron_activity(jobs_db, scope=NOWHERE, tz=UTC)
    assert nothing.jobs.empty and nothing.daily.empty and nothing.runs.empty
    jobs_db.dispose()


def test_comparisons_compare_jobs_not_names(jobs_db: Engine) -> None:
    options = read.compare_options(jobs_db, dimension="cron_job", scope=Scope())
    assert list(zip(options["label"], options["cost"], strict=True)) == [
        ("digest · on gw-b", 8.0), ("ops: hourly-tick", 4.0),
        ("main: hourly-tick", 3.0), ("digest · on gw-a", 0.5)]
    compared = read.compare(jobs_db, dimension="cron_job", items=tuple(options["item"]),
                            scope=Scope())
    assert list(compared["cost"]) == [8.0, 4.0, 3.0, 0.5]
    assert list(compared["sessions"]) == [1, 1, 2, 1]
    assert read.compare_options(jobs_db, dimension="cron_job", scope=NOWHERE).empty
    jobs_db.dispose()


def test_a_budget_names_jobs_by_id_or_name(jobs_db: Engine) -> None:
    """A name in a budget's `cron_jobs` matches every job of that name (both agents'
    hourly-tick, $7); an id matches its job on every gateway; unknown names match none."""
    def spent(*jobs: str) -> float:
        return float(read.daily_spend(jobs_db, scope=Scope(), tz=UTC, cron_jobs=jobs)["cost"].sum())
    assert (spent("hourly-tick"), spent("tick-ops"), spent("digest-1"), spent("nope")) == (
        7.0, 4.0, 8.5, 0.0)
    keys = sorted(value for field, value in known_names(jobs_db)
                  if field in ("cron job", JOB_ID))
    assert keys == ["digest", "digest-1", "hourly-tick", "tick-main", "tick-ops"]
    jobs_db.dispose()


@pytest.mark.parametrize(("jobs", "labels"), [
    ([("tick", "main", GW_A, "t1"), ("digest", "main", GW_A, "d1")], ["tick", "digest"]),
    ([("tick", "main", GW_A, "t1"), ("tick", "ops", GW_A, "t2")],
     ["main: tick", "ops: tick"]),
    ([("tick", "main", GW_A, "t1"), ("tick", "main", GW_B, "t1")],
     ["tick · on gw-a", "tick · on gw-b"]),
    ([("tick", "main", GW_A, "t1"), ("tick", "ops", GW_B, "t2")],
     ["main: tick · on gw-a", "ops: tick · on gw-b"]),
    ([("tick", "main", GW_A, "t1"), ("tick", "main", GW_A, "t2")],
     ["tick · id t1", "tick · id t2"]),
    ([("tick", "main", GW_A, "t1"), ("tick", "main", GW_A, None)],
     ["tick · id t1", "tick · no id"]),
])
def test_a_label_adds_only_what_tells_two_jobs_apart(
        jobs: list[tuple[str, str, str, str | None]], labels: list[str]) -> None:
    from openclaw_telemetry.names import job_labels

    frame = pd.DataFrame(jobs, columns=["name", "agent_id", "gateway", "job_id"])
    assert job_labels(frame) == labels


def page_db(tmp_path: Path) -> Path:
    db = tmp_path / "jobs.db"
    rows, calls = runs(datetime.now().replace(microsecond=0) - timedelta(hours=1))
    build(f"sqlite:///{db}", rows, calls).dispose()
    return db


def job_rows(at: object) -> list[tuple[str, float]]:
    """(Job, Cost) of the table; with its Gateway column, the job's name has no gateway
    (names.off_gateway): then (Job @ Gateway, Cost)."""
    (table,) = [d for d in at.dataframe if "avg_run" in d.value.columns]  # type: ignore[attr-defined]
    jobs = table.value["job"]
    if "gateway" in table.proto.column_order:
        jobs = jobs + " @ " + table.value["gateway"]
    return list(zip(jobs, table.value["cost"], strict=True))


@pytest.mark.parametrize("script", ["dashboard_enhanced.py", "dashboard.py"])
def test_the_cron_page_shows_each_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      script: str) -> None:
    at = app(script, page_db(tmp_path), monkeypatch).run()
    if script == "dashboard.py":
        at.segmented_control(key="view").set_value("automation").run()
    else:
        at.switch_page("openclaw_telemetry/ui/pages/automation.py").run()
    ok(at)
    assert job_rows(at) == [("digest @ gw-b", 8.0), ("ops: hourly-tick @ gw-a", 4.0),
                            ("main: hourly-tick @ gw-a", 3.0), ("digest @ gw-a", 0.5)]
    (daily,) = charts(at, "cron-daily")
    bars = json.loads(daily.proto.spec)["data"]
    colours = {bar["name"]: bar["marker"]["color"] for bar in bars}
    assert sorted(colours) == ["digest · on gw-a", "digest · on gw-b", "main: hourly-tick",
                               "ops: hourly-tick"]  # no Gateway column beside a series
    assert len(set(colours.values())) == 4  # one colour per job, not per name
    at.multiselect(key="gateways").set_value([GW_A]).run()
    ok(at)
    assert job_rows(at) == [("ops: hourly-tick @ gw-a", 4.0),
                            ("main: hourly-tick @ gw-a", 3.0), ("digest @ gw-a", 0.5)]
    (daily,) = charts(at, "cron-daily")
    kept = {bar["name"]: bar["marker"]["color"] for bar in json.loads(daily.proto.spec)["data"]}
    assert kept["ops: hourly-tick"] == colours["ops: hourly-tick"]
    assert kept["digest"] == colours["digest · on gw-a"]  # a job keeps its colour


def test_the_comparisons_page_compares_each_job(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    at = app("dashboard_enhanced.py", page_db(tmp_path), monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/automation.py").run()
    (daily,) = charts(at, "cron-daily")
    drawn = {bar["name"]: bar["marker"]["color"] for bar in json.loads(daily.proto.spec)["data"]}
    at.switch_page("openclaw_telemetry/ui/pages/compare.py").run()
    at.segmented_control(key="compare-dimension").set_value("cron_job").run()
    ok(at)
    picker = at.multiselect(key="compare-items-cron_job")
    assert picker.options == ["digest · on gw-b", "ops: hourly-tick",
                              "main: hourly-tick", "digest · on gw-a"]
    (table,) = [t for t in at.dataframe if "measure" in t.value.columns]
    assert list(table.value.columns) == ["measure", "digest · on gw-b",
                                         "ops: hourly-tick"]
    (cost,) = charts(at, "compare-cost")
    (bars,) = json.loads(cost.proto.spec)["data"]
    assert dict(zip(bars["x"], bars["marker"]["color"], strict=True)) == {
        name: drawn[name] for name in ("digest · on gw-b", "ops: hourly-tick")}
    at.multiselect(key="gateways").set_value([GW_B]).run()
    ok(at)
    said = [i.value for i in at.info]
    assert "1 cron job in this range and filter: comparing needs at least two." in said


def test_a_phone_shows_each_jobs_cost_runs_and_cost_per_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 18 (390 px: 358 px of table): beside a job's name as wide as its text, a
    phone showed Cost, Job, Runs and half of 'Avg $/run'; Max $/run, Calls and the rest
    were off to the right. The name has a width of its own, and the per-run headers are
    no wider than their amounts (what they mean is in their help); test_browser_tables
    measures the columns as chromium draws them."""
    from openclaw_telemetry.ui.pages.automation import JOB_WIDTH

    rows, calls = runs(datetime.now().replace(microsecond=0) - timedelta(hours=1))
    db = tmp_path / "jobs.db"
    build(f"sqlite:///{db}", [r for r in rows if r["gateway"] == GW_A],
          [c for c in calls if c["gateway"] == GW_A]).dispose()
    at = app("dashboard_enhanced.py", db, monkeypatch).run()
    at.switch_page("openclaw_telemetry/ui/pages/automation.py").run()
    ok(at)
    (table,) = [d for d in at.dataframe if "avg_run" in d.value.columns]
    order, config = list(table.proto.column_order), json.loads(table.proto.columns)
    assert order[:5] == ["cost", "job", "runs", "avg_run", "max_run"]
    assert config["job"]["width"] == JOB_WIDTH
    assert [config[c]["label"] for c in ("avg_run", "max_run")] == ["Avg/run", "Max/run"]
    assert "on average" in config["avg_run"]["help"]
    assert "most expensive run" in config["max_run"]["help"]


def test_jobs_of_one_cost_are_listed_by_name_then_gateway(db_url: str) -> None:
    """Review 19: one install on two gateways listed its jobs of equal cost in either
    order (office-mini, vm, vm, office-mini)."""
    when = datetime(2026, 1, 10, 8)

    def run(sid: str, gateway: str, job: str) -> dict[str, object]:
        return session(sid, gateway=gateway, kind="cron", cron_job_id=job,
                       cron_job_name=job, start_time=when)
    rows = [run(f"{job}-{gw}", gw, job) for job in ("beta", "alpha") for gw in (GW_B, GW_A)]
    calls = [call(f"{job}-{gw}", when, 1.0, gateway=gw) for job in ("beta", "alpha")
             for gw in (GW_B, GW_A)]
    engine = build(db_url, rows, calls)
    jobs = read.cron_activity(engine, scope=Scope(), tz=UTC).jobs
    engine.dispose()
    assert list(zip(jobs["job"], jobs["gateway"], strict=True)) == [
        ("alpha · on gw-a", GW_A), ("alpha · on gw-b", GW_B), ("beta · on gw-a", GW_A),
        ("beta · on gw-b", GW_B)]
