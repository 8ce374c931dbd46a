"""The query layer: golden totals on the real samples, time-zone bucketing across
midnight, DST and half-hour zones, exact partial hours, and the session-level reads.

Each database test runs on SQLite and, when scripts/test.sh started one, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_VERSIONS, copy_sample, ingest, query, sample_figures
from sqlalchemy import Engine, delete, insert, update
from telemetry_db import GATEWAY, build, call, session, tool

from openclaw_telemetry import read
from openclaw_telemetry.budgets import Budget, Period
from openclaw_telemetry.read import Scope, calls, reports, rollups
from openclaw_telemetry.read import sessions as read_sessions
from openclaw_telemetry.schema import ingest_runs, messages, session_events, sources
from openclaw_telemetry.schema import sessions as sessions_table
from openclaw_telemetry.store import make_engine
from openclaw_telemetry.timeframe import Preset, Unit, offset_segments, resolve, zone

BERLIN, KOLKATA, NEW_YORK, UTC_ZONE = (zone("Europe/Berlin"), zone("Asia/Kolkata"),
                                       zone("America/New_York"), zone("UTC"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("version", SAMPLE_VERSIONS)
def test_totals_equal_the_samples_golden_figures(version: str, tmp_path: Path,
                                                 db_url: str) -> None:
    state = tmp_path / "state"
    copy_sample(version, state)
    assert ingest(state, db_url).code == 0
    engine = make_engine(db_url, create=False)
    row = read.totals(engine, scope=Scope(), tz=BERLIN).iloc[0]
    want = sample_figures(version)["total"]
    for key in ("input", "output", "cache_read", "cache_write"):
        assert int(row[key]) == want[key], key
    assert int(row["calls"]) == want["llm_calls"]
    assert int(row["errors"]) == want["errors"]
    assert int(row["tool_calls"]) == want["tool_calls"]
    tools = read.tool_totals(engine, scope=Scope()).iloc[0]
    assert int(tools["tool_calls"]) == want["tool_calls"]
    assert int(tools["tool_errors"]) == want["tool_errors"]
    assert row["cost"] == pytest.approx(want["cost"], abs=1e-9)
    sessions = query(db_url, "SELECT count(DISTINCT session_id) FROM messages")[0][0]
    assert int(row["sessions"]) == sessions
    assert read.schema_status(engine) == "ready"
    assert read.data_version(engine) >= 1
    engine.dispose()


@pytest.mark.parametrize("version", SAMPLE_VERSIONS)
def test_every_run_of_a_cron_job_is_named_after_it(version: str, tmp_path: Path) -> None:
    """OpenClaw labels only a job's latest run ("Cron: hourly-tick"; 2026.9 "Automation:
    hourly-tick"); an earlier run kept its bare key (agent:main:cron:<id>:run:<id>) and read
    as two unrelated sessions. Every run reads "Cron: hourly-tick", of either version."""
    state, url = tmp_path / "state", f"sqlite:///{tmp_path / 't.db'}"
    copy_sample(version, state)
    assert ingest(state, url).code == 0
    engine = make_engine(url, create=False)
    cron = Scope(kinds=("cron",))
    labels = {row[0] for row in query(url, "SELECT label FROM sessions WHERE kind = 'cron' "
                                           "AND label IS NOT NULL")}
    table = read.session_table(engine, scope=cron)
    assert len(table) >= 2
    assert set(table["label"]) == {"Cron: hourly-tick"}, table["label"]
    assert labels & {"Cron: hourly-tick", "Automation: hourly-tick"}  # OpenClaw's, stored
    names = [s.name for s in reports.session_report(engine, scope=cron).sessions]
    assert sorted(names) == sorted(table["label"])
    seen = read.session_observations(engine, metric="session_cost", scope=cron)
    assert sorted(seen["label"]) == sorted(table["label"])
    calls_seen = read.alert_observations(engine, metric="session_cost", scope=cron, tz=UTC)
    assert sorted(calls_seen["label"]) == sorted(table["label"])
    engine.dispose()


# Calls chosen to sit on both sides of local midnights and DST changes:
#   c1 2026-01-10 23:30Z  Berlin 01-11 00:30 · New York 01-10 18:30 · Kolkata 01-11 05:00
#   c2 2026-01-10 18:15Z  Kolkata 01-10 23:45          c3 18:45Z  Kolkata 01-11 00:15
#   c4 2026-03-29 00:30Z  Berlin 01:30 CET             c5 01:30Z  Berlin 03:30 CEST
#   c6 2026-11-01 05:30Z  New York 01:30 EDT           c7 06:30Z  New York 01:30 EST
CALLS = [("s1", "2026-01-10T23:30", 1), ("s1", "2026-01-10T18:15", 2),
         ("s1", "2026-01-10T18:45", 4), ("s2", "2026-03-29T00:30", 8),
         ("s2", "2026-03-29T01:30", 16), ("s3", "2026-11-01T05:30", 32),
         ("s3", "2026-11-01T06:30", 64)]


@pytest.fixture
def tz_db(db_url: str) -> Engine:
    sessions_ = [session("s1"), session("s2", kind="cron", cron_job_name="digest", model="m2"),
                 session("s3", agent_id="ops")]
    calls = [call(sid, at(when), cost, model="m2" if sid == "s2" else "m1",
                  agent_id="ops" if sid == "s3" else "main") for sid, when, cost in CALLS]
    return build(db_url, sessions_, calls)


def per_bucket(frame: pd.DataFrame) -> dict[str, float]:
    sums = frame.groupby("bucket")["cost"].sum()
    return {stamp.isoformat(): float(v) for stamp, v in sums.items() if v}


@pytest.mark.parametrize(("tz", "unit", "expected"), [
    (BERLIN, Unit.DAY, {"2026-01-10T00:00:00+01:00": 6, "2026-01-11T00:00:00+01:00": 1,
                        "2026-03-29T00:00:00+01:00": 24, "2026-11-01T00:00:00+01:00": 96}),
    (KOLKATA, Unit.DAY, {"2026-01-10T00:00:00+05:30": 2, "2026-01-11T00:00:00+05:30": 5,
                         "2026-03-29T00:00:00+05:30": 24, "2026-11-01T00:00:00+05:30": 96}),
    (NEW_YORK, Unit.DAY, {"2026-01-10T00:00:00-05:00": 7, "2026-03-28T00:00:00-04:00": 24,
                          "2026-11-01T00:00:00-04:00": 96}),
    (BERLIN, Unit.MONTH, {"2026-01-01T00:00:00+01:00": 7, "2026-03-01T00:00:00+01:00": 24,
                          "2026-11-01T00:00:00+01:00": 96}),
])
def test_local_days_and_months_across_midnight(tz_db: Engine, tz: object, unit: Unit,
                                               expected: dict[str, float]) -> None:
    frame = read.timeline(tz_db, scope=Scope(until=at("2026-11-02")), tz=tz, unit=unit)  # type: ignore[arg-type]
    assert per_bucket(frame) == expected


def test_gaps_are_zero_buckets_not_missing(tz_db: Engine) -> None:
    frame = read.timeline(tz_db, scope=Scope(at("2026-01-09"), at("2026-01-14")), tz=UTC_ZONE,
                             unit=Unit.DAY)
    days = frame.groupby("bucket")["cost"].sum()
    assert [d.day for d in days.index] == [9, 10, 11, 12, 13]
    assert list(days) == [0, 7, 0, 0, 0]


def test_spring_forward_hour_does_not_exist(tz_db: Engine) -> None:
    scope = Scope(at("2026-03-28T23:00"), at("2026-03-29T02:00"))
    frame = read.timeline(tz_db, scope=scope, tz=BERLIN, unit=Unit.HOUR)
    hours = frame.groupby("bucket")["cost"].sum()
    assert [h.isoformat() for h in hours.index] == [
        "2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00"]
    assert list(hours) == [0, 8, 16]


def test_fall_back_hour_happens_twice(tz_db: Engine) -> None:
    scope = Scope(at("2026-11-01T04:00"), at("2026-11-01T08:00"))
    frame = read.timeline(tz_db, scope=scope, tz=NEW_YORK, unit=Unit.HOUR)
    hours = frame.groupby("bucket")["cost"].sum()
    assert [h.isoformat() for h in hours.index] == [
        "2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]
    assert list(hours) == [0, 32, 64, 0]


def test_half_hour_zone_hours(tz_db: Engine) -> None:
    scope = Scope(at("2026-01-10T18:00"), at("2026-01-10T19:30"))
    frame = read.timeline(tz_db, scope=scope, tz=KOLKATA, unit=Unit.HOUR)
    assert per_bucket(frame) == {"2026-01-10T23:00:00+05:30": 2, "2026-01-11T00:00:00+05:30": 4}


def test_hourly_grid_after_a_half_hour_dst_shift() -> None:
    """Lord Howe moves its clocks by 30 minutes: local hours are then 30 minutes apart once,
    and the grid must still hold the local hours the calls are bucketed in."""
    tz = zone("Australia/Lord_Howe")
    grid = rollups.grid(at("2026-10-03T12:00"), at("2026-10-03T19:00"), tz, Unit.HOUR)
    assert grid.is_unique and grid.is_monotonic_increasing
    moments = [at("2026-10-03T12:00") + timedelta(minutes=10 * i) for i in range(42)]
    buckets = {pd.Timestamp(rollups._hour_floor(m, tz), tz="UTC") for m in moments}
    assert buckets <= set(grid.tz_convert("UTC"))  # every call's bucket is on the grid


@pytest.mark.parametrize("fine", [True, False], ids=["hours", "days-then-hours"])
@pytest.mark.parametrize("tz", [UTC_ZONE, BERLIN, KOLKATA])
def test_partial_hours_are_read_exactly(tz_db: Engine, tz: object, fine: bool) -> None:
    """A range ending and starting inside hours (or days): cached whole rows + exact
    edges, from the hourly history and from the one by day before its last two days."""
    history = calls._history(tz_db, read.stamp(tz_db), tz, False, fine)  # type: ignore[arg-type]
    assert (history.cut is None) == fine

    def fetch(lo: datetime, hi: datetime) -> pd.DataFrame:
        return read.call_rollup(tz_db, tz=tz, since=lo, until=hi)  # type: ignore[arg-type]

    for since, until, cost in [("2026-01-10T18:30", None, 1 + 4 + 8 + 16 + 32 + 64),
                               ("2026-01-10T18:20", "2026-01-10T23:40", 5),
                               ("2026-01-10T18:16", "2026-01-10T18:44", 0),
                               (None, "2026-03-29T00:31", 15)]:
        scope = Scope(at(since) if since else None, at(until) if until else None)
        rows = rollups.in_scope(history.rows, history.cut, fetch, scope,
                                tz)  # type: ignore[arg-type]
        assert rows["cost"].sum() == cost
        direct = read.totals(tz_db, scope=scope).iloc[0]
        assert direct["cost"] == cost


@pytest.mark.parametrize("tz", [BERLIN, KOLKATA, NEW_YORK])
def test_history_by_day_answers_as_by_hour(tz_db: Engine, tz: object) -> None:
    """The cached history holds whole local days before its last two days: any range,
    its ends a second before or after a call (across midnights and DST changes), gets the
    same sums per local day, agent and model as from the history by the hour."""
    def around(*seconds: int) -> list[datetime | None]:
        return [None, *(at(when) + timedelta(seconds=s) for _, when, _ in CALLS
                        for s in seconds)]

    keys = ["day", "agent", "model"]
    for since in around(-1, 1):
        for until in around(1):
            if since is not None and until is not None and since >= until:
                continue
            scope = Scope(since, until)
            sums = []
            for by_hour in (False, True):
                rows = read.hourly(tz_db, scope=scope, tz=tz, by_hour=by_hour)  # type: ignore[arg-type]
                rows = rows.assign(day=rollups.bucket_of(rows["hour"], Unit.DAY, tz))  # type: ignore[arg-type]
                sums.append(rows.groupby(keys)[["calls", "cost"]].sum().sort_index())
            pd.testing.assert_frame_equal(*sums, check_dtype=False)


def test_dimension_filters(tz_db: Engine) -> None:
    def cost(scope: Scope) -> float:
        return float(read.totals(tz_db, scope=scope).iloc[0]["cost"])

    assert cost(Scope(agents=("ops",))) == 96
    assert cost(Scope(models=("m2",))) == 24
    assert cost(Scope(kinds=("cron",))) == 24
    assert cost(Scope(kinds=("direct",), agents=("main",))) == 7
    assert read.session_count(tz_db, scope=Scope(kinds=("direct",))) == 2


def test_timeline_by_kind_and_models(tz_db: Engine) -> None:
    frame = read.timeline(tz_db, scope=Scope(), tz=UTC_ZONE, unit=Unit.MONTH, by="kind",
                             until=at("2026-11-30"))
    assert frame.groupby("series")["cost"].sum().to_dict() == {"cron": 24, "direct": 103}
    per_model = read.models(tz_db, scope=Scope())
    assert list(per_model["model"]) == ["m1", "m2"]
    assert list(per_model["cost"]) == [103, 24]
    assert list(per_model["sessions"]) == [2, 1]
    assert list(read.models(tz_db, scope=Scope(agents=("ops",)))["sessions"]) == [1]


def test_offset_segments_find_exact_transitions() -> None:
    segments = offset_segments(BERLIN, at("2026-03-01"), at("2026-11-01"))
    assert segments.starts == (None, at("2026-03-29T01:00"), at("2026-10-25T01:00"))
    assert segments.offsets == (3600, 7200, 3600)
    assert offset_segments(KOLKATA, at("2026-01-01"), at("2026-12-31")).offsets == (19800,)
    assert segments.offset_at(at("2026-03-29T00:59")) == 3600
    assert segments.offset_at(at("2026-03-29T01:00")) == 7200


def test_session_totals_answer_as_the_calls_do(sessions_db: Engine,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the whole history the session counts and sub-agent sums come from the
    sessions' totals (`totals_hold`); they equal the same questions asked of the calls."""
    same_from_totals_and_calls(sessions_db, monkeypatch)


def test_session_totals_answer_on_two_gateways(two_gateways: Engine,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    same_from_totals_and_calls(two_gateways, monkeypatch)


def same_from_totals_and_calls(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    scopes = [Scope(), Scope(kinds=("subagent",)), Scope(kinds=("main", "cron")), A, NOWHERE]
    assert read.totals_hold(engine, Scope())
    assert not read.totals_hold(engine, Scope(at("2026-01-01"), None))
    assert not read.totals_hold(engine, Scope(models=("m1",)))
    fast = [(read.session_count(engine, scope=s), read.subagent_rollup(engine, scope=s))
            for s in scopes]
    for module in (calls, read_sessions):
        monkeypatch.setattr(module, "totals_hold", lambda *_: False)
    for scope, (count, rolled) in zip(scopes, fast, strict=True):
        assert count == read.session_count(engine, scope=scope), scope
        pd.testing.assert_frame_equal(rolled, read.subagent_rollup(engine, scope=scope),
                                      check_dtype=False)


def test_session_totals_do_not_answer_mid_ingest_or_for_unowned_calls(sqlite_url: str
                                                                      ) -> None:
    """A session waiting for its totals (an ingest under way) or a call without a session
    row: the totals do not cover every call, so the calls are read."""
    engine = build(sqlite_url, [session("s1")], [call("s1", at("2026-01-10T09:00"), 1.0)])
    assert read.totals_hold(engine, Scope())
    with engine.begin() as conn:
        conn.execute(insert(messages), [call("gone", at("2026-01-10T09:05"), 2.0)])
        conn.execute(insert(ingest_runs), [{"gateway": GATEWAY, "status": "ok",
                                            "started_at": at("2026-01-11T00:00"),
                                            "finished_at": at("2026-01-11T00:00"),
                                            "changed": True}])
    assert not read.totals_hold(engine, Scope())
    assert read.session_count(engine, scope=Scope()) == 2
    with engine.begin() as conn:
        conn.execute(delete(messages).where(messages.c.session_id == "gone"))
        conn.execute(update(sessions_table).values(dirty=True))
        conn.execute(insert(ingest_runs), [{"gateway": GATEWAY, "status": "ok",
                                            "started_at": at("2026-01-12T00:00"),
                                            "finished_at": at("2026-01-12T00:00"),
                                            "changed": True}])
    assert not read.totals_hold(engine, Scope())
    engine.dispose()


@pytest.mark.parametrize(("preset", "now", "tz", "since", "until", "previous"), [
    (Preset.TODAY, "2026-03-29T12:00", BERLIN, "2026-03-28T23:00", "2026-03-29T22:00",
     ("2026-03-27T23:00", "2026-03-28T13:00")),
    (Preset.TODAY, "2026-01-10T20:00", KOLKATA, "2026-01-10T18:30", "2026-01-11T18:30",
     ("2026-01-09T18:30", "2026-01-09T20:00")),
    (Preset.LAST_7D, "2026-01-11T10:00", KOLKATA, "2026-01-04T18:30", "2026-01-11T18:30",
     ("2025-12-28T18:30", "2026-01-04T10:00")),
    (Preset.LAST_24H, "2026-01-11T10:07", UTC_ZONE, "2026-01-10T10:07", "2026-01-11T10:08",
     ("2026-01-09T10:07", "2026-01-10T10:07")),
    # 24 real hours across the autumn change (Berlin gains an hour on 2026-10-25)
    (Preset.LAST_24H, "2026-10-25T11:00", BERLIN, "2026-10-24T11:00", "2026-10-25T11:01",
     ("2026-10-23T11:00", "2026-10-24T11:00")),
])
def test_ranges_start_at_local_midnight_and_end_now_or_tonight(
        preset: Preset, now: str, tz: object, since: str, until: str,
        previous: tuple[str, str]) -> None:
    window = resolve(preset, now=at(now).replace(tzinfo=UTC), tz=tz)  # type: ignore[arg-type]
    assert (window.since, window.until) == (at(since), at(until))
    assert window.previous == (at(previous[0]), at(previous[1]))


def test_custom_dates_and_all_time() -> None:
    window = resolve(Preset.CUSTOM, now=datetime(2026, 1, 5, tzinfo=UTC), tz=BERLIN,
                     start=date(2026, 1, 1), end=date(2026, 1, 2))
    assert (window.since, window.until) == (at("2025-12-31T23:00"), at("2026-01-02T23:00"))
    assert window.previous == (at("2025-12-29T23:00"), at("2025-12-31T23:00"))
    assert resolve(Preset.ALL, now=datetime.now(UTC), tz=BERLIN).previous is None


@pytest.mark.parametrize(("since", "until", "tz", "expected"), [
    ("10:20", "14:10", UTC_ZONE, ("11:00", "14:00", [("10:20", "11:00"), ("14:00", "14:10")])),
    ("10:20", None, KOLKATA, ("10:30", None, [("10:20", "10:30")])),
    ("10:00", "10:40", UTC_ZONE, ("10:00", "10:00", [("10:00", "10:40")])),
])
def test_split_into_whole_hours_and_edges(since: str, until: str | None, tz: object,
                                          expected: tuple[str, str | None, list[tuple[str, str]]]
                                          ) -> None:
    def t(clock: str) -> datetime:
        return at(f"2026-01-10T{clock}")

    start, end, edges = rollups.split(t(since), t(until) if until else None, tz)  # type: ignore[arg-type]
    assert start == t(expected[0])
    assert end == (t(expected[1]) if expected[1] else None)
    assert edges == [(t(a), t(b)) for a, b in expected[2]]


@pytest.fixture
def sessions_db(db_url: str) -> Engine:
    base = at("2026-02-01T10:00")
    rows = [session("p", label="100%_done <b>x</b>", kind="main"),
            session("c1", kind="subagent", parent_session_id="p", label="100x"),
            session("c2", kind="subagent", parent_session_id="c1"),
            session("cron1", kind="cron", cron_job_name="digest"),
            session("cron2", kind="cron", cron_job_name="digest")]
    calls = [call("p", base, 1.0), call("p", base + timedelta(minutes=1), 2.0, is_error=True,
                                        stop_reason="error", error_message="500"),
             call("c1", base + timedelta(minutes=2), 4.0),
             call("c2", base + timedelta(minutes=3), 8.0),
             call("cron1", base + timedelta(hours=1), 0.5),
             call("cron2", base + timedelta(days=1), 0.25),
             call("cron1", base + timedelta(hours=14, minutes=30), 0.125)]  # past midnight
    tools = [tool(calls[0], "read"), tool(calls[0], "exec", error=True, duration=30),
             tool(calls[2], "read", duration=50), tool(calls[3], "read", error=None,
                                                        duration=None)]
    return build(db_url, rows, calls, tools)


def test_session_table_search_is_literal(sessions_db: Engine) -> None:
    found = read.session_table(sessions_db, scope=Scope(), search="100%")
    assert list(found["session_id"]) == ["p"]
    assert list(read.session_table(sessions_db, scope=Scope(), search="100_")["session_id"]
                ) == []
    assert list(read.session_table(sessions_db, scope=Scope(), search="DIGEST",
                                      order="recent")["session_id"]) == ["cron2", "cron1"]
    by_cost = read.session_table(sessions_db, scope=Scope())
    assert list(by_cost["session_id"][:2]) == ["c2", "c1"]
    assert int(by_cost["matched"].iloc[0]) == 5


def test_session_calls_in_order_with_tools(sessions_db: Engine) -> None:
    frame = read.session_calls(sessions_db, session_id="p", gateway=GATEWAY)
    assert list(frame["cost"]) == [1.0, 2.0]
    assert list(frame["is_error"]) == [False, True]
    assert list(frame["tools"]) == ["read, exec ✗", ""]
    detail = read.session_detail(sessions_db, session_id="p").iloc[0]
    assert int(detail["subagents"]) == 1
    assert detail["label"] == "100%_done <b>x</b>"


def test_subagents_roll_up_to_the_first_non_subagent(sessions_db: Engine) -> None:
    rolled = read.subagent_rollup(sessions_db, scope=Scope()).iloc[0]
    assert rolled["parent_id"] == "p"
    assert (int(rolled["subagents"]), rolled["subagent_cost"], rolled["own_cost"]) == (2, 12.0,
                                                                                        3.0)
    assert rolled["total_cost"] == 15.0


def test_a_subagent_without_a_known_parent_is_counted(sqlite_url: str) -> None:
    """Its cost stays in the roll-up, under '(unknown parent)', not dropped."""
    when = at("2026-02-01T10:00")
    engine = build(sqlite_url, [session("lost", kind="subagent"),
                                session("c", kind="subagent", parent_session_id="gone")],
                   [call("lost", when, 2.0), call("c", when, 3.0)])
    rolled = read.subagent_rollup(engine, scope=Scope())
    assert dict(zip(rolled["parent_id"], rolled["subagent_cost"], strict=True)) == {
        "gone": 3.0, "(unknown parent)": 2.0}
    assert rolled["kind"].isna().all()  # neither parent has a session row
    engine.dispose()


def test_cron_jobs_summary(sessions_db: Engine) -> None:
    jobs = read.cron_activity(sessions_db, scope=Scope(), tz=UTC_ZONE).jobs.iloc[0]
    assert (jobs["job"], int(jobs["runs"]), jobs["cost"], jobs["max_run"]) == (
        "digest", 2, 0.875, 0.625)
    assert jobs["avg_run"] == pytest.approx(0.4375)
    assert jobs["last_run"] == pd.Timestamp("2026-02-02 10:00")


def test_cron_per_day_and_per_run(sessions_db: Engine) -> None:
    """A run that goes past midnight counts on both days, and once among the runs."""
    activity = read.cron_activity(sessions_db, scope=Scope(), tz=UTC_ZONE)
    daily = activity.daily
    assert list(daily["job"]) == ["digest", "digest"]
    assert [str(d)[:10] for d in daily["day"]] == ["2026-02-01", "2026-02-02"]
    assert list(daily["cost"]) == [0.5, 0.375]
    assert list(daily["runs"]) == [1, 2]
    runs = activity.runs
    assert list(runs["session_id"]) == ["cron2", "cron1"]
    assert list(runs["calls"]) == [1, 2]
    assert list(runs["cost"]) == [0.25, 0.625]
    assert list(runs["duration_s"]) == [0.0, 13.5 * 3600]
    assert len(read.cron_activity(sessions_db, scope=Scope(), tz=UTC_ZONE,
                                     limit=1).runs) == 1


def test_tools_counts_error_rate_and_percentiles(sessions_db: Engine) -> None:
    stats = read.tools(sessions_db, scope=Scope()).set_index("tool_name")
    assert stats.loc["read", "calls"] == 3
    assert stats.loc["read", "results"] == 2
    assert stats.loc["exec", "error_rate"] == 1.0
    assert (stats.loc["read", "p50_ms"], stats.loc["read", "p95_ms"]) == (10, 50)
    totals = read.tool_totals(sessions_db, scope=Scope(models=("m1",))).iloc[0]
    assert (int(totals["tool_calls"]), int(totals["tool_errors"])) == (4, 1)


def test_cost_statistics_nearest_rank(db_url: str) -> None:
    base = at("2026-02-01T10:00")
    rows = [session(f"s{i}") for i in range(1, 11)]
    calls = [call(f"s{i}", base + timedelta(minutes=i), float(i)) for i in range(1, 11)]
    engine = build(db_url, rows, calls)
    stats = read.cost_statistics(engine, scope=Scope()).iloc[0]
    assert (stats["median"], stats["p90"], stats["p95"], stats["p99"], stats["max"]) == (
        5, 9, 10, 10, 10)
    assert stats["mean"] == pytest.approx(5.5)
    assert stats["tokens_per_dollar"] == pytest.approx(150 / 55)


def test_alert_observations(sessions_db: Engine) -> None:
    per_session = read.alert_observations(sessions_db, metric="session_cost", scope=Scope(),
                                             tz=UTC_ZONE, minimum=3.0)
    assert sorted(per_session["value"]) == [4.0, 8.0]
    daily = read.alert_observations(sessions_db, metric="daily_cost", scope=Scope(),
                                       tz=UTC_ZONE)
    assert list(daily["subject"]) == ["2026-02-01", "2026-02-02"]
    assert list(daily["value"]) == [15.5, 0.375]
    rate = read.alert_observations(sessions_db, metric="error_rate", scope=Scope(),
                                      tz=UTC_ZONE, unit=None, now=at("2026-03-01"))
    assert (float(rate["value"].iloc[0]), int(rate["calls"].iloc[0])) == (1 / 7, 7)


def test_filter_options_and_bounds(sessions_db: Engine) -> None:
    options = read.filter_options(sessions_db)
    assert set(options.loc[options["field"] == "kind", "value"]) == {"main", "subagent", "cron"}
    # every cron job is given a colour, as models and agents are (dash15): a colour per
    # job (`measures.cron_job()`, what the pages group by), not per name
    jobs = read.cron_activity(sessions_db, scope=Scope(), tz=UTC_ZONE).jobs
    assert list(options.loc[options["field"] == "cron job", "value"]) == list(jobs["job_key"])
    bounds = read.call_bounds(sessions_db).iloc[0]
    assert bounds["first_call"] == pd.Timestamp("2026-02-01T10:00")


def test_a_call_dated_in_the_future_is_not_today(sqlite_url: str) -> None:
    now = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    engine = build(sqlite_url, [session("s1")], [
        call("s1", datetime(2026, 1, 10, 9, 0), cost=1.0),
        call("s1", datetime(2026, 1, 11, 9, 0), cost=5.0)])  # a skewed clock: tomorrow
    for preset in (Preset.TODAY, Preset.LAST_24H, Preset.LAST_7D):
        window = resolve(preset, now=now, tz=UTC_ZONE)
        scope = Scope(window.since, window.until, (), (), ())
        assert float(read.totals(engine, scope=scope)["cost"].iloc[0]) == 1.0, preset
    engine.dispose()


def test_model_sessions_count_per_provider(sqlite_url: str) -> None:
    at_ = datetime(2026, 1, 10, 9, 0)
    engine = build(sqlite_url, [session("s1"), session("s2"), session("s3")], [
        call("s1", at_, model="gpt-5", provider="openai-codex"),
        call("s2", at_, model="gpt-5", provider="openai-codex"),
        call("s3", at_, model="gpt-5", provider="openai")])
    found = read.models(engine, scope=Scope(None, None, (), (), ()))
    assert dict(zip(found["provider"], found["sessions"], strict=True)) == {
        "openai-codex": 2, "openai": 1}
    engine.dispose()


def test_subagents_of_a_range_or_filter_without_any(sessions_db: Engine) -> None:
    """#11 defect 1: no sub-agent call in scope raised 'merge on float64 and object'."""
    for scope in (Scope(kinds=("cron",)), Scope(agents=("ops",)),
                  Scope(at("2030-01-01"), at("2030-01-02"))):
        rolled = read.subagent_rollup(sessions_db, scope=scope)
        assert rolled.empty
        assert "parent_id" in rolled.columns and "start_time" in rolled.columns


@pytest.mark.parametrize(("preset", "now", "tz", "since", "until", "previous"), [
    (Preset.THIS_MONTH, "2026-03-31T15:00", BERLIN, "2026-02-28T23:00", "2026-03-31T22:00",
     ("2026-01-31T23:00", "2026-02-28T23:00")),  # last month ends before the 31st
    (Preset.THIS_MONTH, "2026-01-05T15:00", UTC_ZONE, "2026-01-01T00:00", "2026-02-01T00:00",
     ("2025-12-01T00:00", "2025-12-05T15:00")),
    (Preset.LAST_MONTH, "2026-01-05T15:00", UTC_ZONE, "2025-12-01T00:00", "2026-01-01T00:00",
     ("2025-11-01T00:00", "2025-12-01T00:00")),
    (Preset.LAST_MONTH, "2026-03-31T15:00", BERLIN, "2026-01-31T23:00", "2026-02-28T23:00",
     ("2025-12-31T23:00", "2026-01-31T23:00")),
])
def test_this_and_last_month_are_local_calendar_months(
        preset: Preset, now: str, tz: object, since: str, until: str,
        previous: tuple[str, str]) -> None:
    """#11 item 3: billing periods in the user's zone; deltas against the month before
    (this month: up to the same day and time)."""
    test_ranges_start_at_local_midnight_and_end_now_or_tonight(preset, now, tz, since, until,
                                                               previous)


def test_sessions_say_what_openclaw_kept_of_them(sqlite_url: str) -> None:
    """#11 defect 3: sessions of kind unknown without a key had no hint of what they are."""
    engine = build(sqlite_url, [session(s, kind="unknown", session_key=None)
                                for s in ("live", "gone", "del", "reset")],
                   [call(s, at("2026-02-01T10:00")) for s in ("live", "gone", "del", "reset")])
    with engine.begin() as conn:
        for n, (sid, kind, present) in enumerate([
                ("live", "file:primary", True), ("gone", "file:primary", False),
                ("del", "file:deleted", True), ("reset", "file:reset", False)]):
            conn.execute(sources.insert().values(gateway=GATEWAY, path=f"/x/{n}", rel_path=str(n),
                                                 kind=kind, session_id=sid, present=present))
    table = read.session_table(engine, scope=Scope()).set_index("session_id")
    assert table.loc["live", "origin"] == ""
    assert "removed" in table.loc["gone", "origin"]
    assert "deleted" in table.loc["del", "origin"]
    assert "reset" in table.loc["reset", "origin"]
    engine.dispose()


def test_a_replaced_database_file_has_another_identity(tmp_path: Path) -> None:
    """#11 defect 13: `start.sh --demo` again replaced the file under a running dashboard."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    build(url, [session("s1")], [call("s1", at("2026-02-01T10:00"))]).dispose()
    before = read.file_identity(url)
    (tmp_path / "a.db").rename(tmp_path / "old.db")
    build(url, [session("s2")], [call("s2", at("2026-02-01T10:00"))]).dispose()
    assert before and read.file_identity(url) not in ("", before)


# -- several gateways (#14 item 2): one session id on two hosts is two sessions ----------------
# "shared" and "child" exist on both gateways with different calls, kinds and agents: every
# read keeps them apart (a join on the id alone would mix them) and filters by gateway.
GW_A, GW_B = "gw-a", "gw-b"
A, B, NOWHERE = Scope(gateways=(GW_A,)), Scope(gateways=(GW_B,)), Scope(gateways=("nope",))


@pytest.fixture
def two_gateways(db_url: str) -> Engine:
    t = at("2026-01-10T08:00")
    rows = [session("shared", gateway=GW_A, kind="cron", cron_job_id="digest",
                    cron_job_name="digest"),
            session("shared", gateway=GW_B, kind="direct", agent_id="ops", label="ops chat"),
            session("child", gateway=GW_A, kind="subagent", parent_session_id="shared"),
            session("child", gateway=GW_B, kind="subagent", parent_session_id="shared",
                    agent_id="ops")]
    calls = [call("shared", t, 1.0, gateway=GW_A, cache_read_tokens=100),
             *(call("shared", t + timedelta(hours=i), 10.0, gateway=GW_B, agent_id="ops",
                    model="m2", is_error=i == 1, latency_ms=500) for i in (1, 2, 3)),
             call("child", t + timedelta(minutes=5), 0.5, gateway=GW_A),
             *(call("child", t + timedelta(hours=4, minutes=i), 5.0, gateway=GW_B,
                    agent_id="ops") for i in (1, 2))]
    tools = [tool(calls[0], "read"), tool(calls[1], "exec", error=True),
             tool(calls[2], "exec")]
    engine = build(db_url, rows, calls, tools)
    with engine.begin() as conn:
        conn.execute(sources.insert().values(gateway=GW_B, path="/b/shared.jsonl.deleted.x",
                                             rel_path="shared.jsonl.deleted.x",
                                             kind="file:deleted", session_id="shared"))
        conn.execute(session_events.insert().values(
            session_id="shared", gateway=GW_B, source_id=1, position=0, timestamp=t,
            kind="thinking_change", value="high"))
    return engine


def _by_gateway(frame: pd.DataFrame, column: str, id_column: str = "session_id"
                ) -> dict[tuple[str, str], float]:
    return {(str(r[id_column]), str(r["gateway"])): float(r[column]) for _, r in frame.iterrows()}


def test_gateways_are_a_filter_option(two_gateways: Engine) -> None:
    options = read.filter_options(two_gateways)
    assert list(options.loc[options["field"] == "gateway", "value"]) == [GW_A, GW_B]


@pytest.mark.parametrize(("scope", "calls", "cost", "sessions"), [
    (Scope(), 7, 41.5, 4), (A, 2, 1.5, 2), (B, 5, 40.0, 2), (NOWHERE, 0, 0.0, 0),
    (Scope(kinds=("cron",)), 1, 1.0, 1), (Scope(kinds=("subagent",)), 3, 10.5, 2),
    (Scope(kinds=("cron",), gateways=(GW_B,)), 0, 0.0, 0),
    (Scope(agents=("ops",)), 5, 40.0, 2)])
def test_totals_and_roll_up_per_gateway(two_gateways: Engine, scope: Scope, calls: int,
                                        cost: float, sessions: int) -> None:
    row = read.totals(two_gateways, scope=scope, tz=BERLIN).iloc[0]
    assert (int(row["calls"]), float(row["cost"]), int(row["sessions"])) == (calls, cost,
                                                                              sessions)
    by_model = read.breakdown(two_gateways, scope=scope, tz=BERLIN, by="model")
    assert float(by_model["cost"].sum()) == cost
    assert float(read.timeline(two_gateways, scope=scope, tz=BERLIN, unit=Unit.DAY,
                               until=at("2026-01-11"))["cost"].sum()) == cost
    assert int(read.cost_statistics(two_gateways, scope=scope).iloc[0]["sessions"]) == sessions
    spend = read.daily_spend(two_gateways, scope=scope, tz=BERLIN)
    assert float(spend["cost"].sum()) == cost


def test_the_roll_up_names_each_rows_gateway(two_gateways: Engine) -> None:
    rows = read.call_rollup(two_gateways, tz=BERLIN, kinds=True)
    assert rows.groupby("gateway")["cost"].sum().to_dict() == {GW_A: 1.5, GW_B: 40.0}
    # the kind comes from the session of the call's own gateway
    assert rows.groupby(["gateway", "kind"])["calls"].sum().to_dict() == {
        (GW_A, "cron"): 1, (GW_A, "subagent"): 1, (GW_B, "direct"): 3, (GW_B, "subagent"): 2}
    partial = Scope(at("2026-01-10T08:02"), at("2026-01-10T12:01:30"), gateways=(GW_B,))
    assert float(read.hourly(two_gateways, scope=partial, tz=BERLIN)["cost"].sum()) == 35.0


def test_sessions_per_model_count_each_gateways_session(two_gateways: Engine) -> None:
    per_model = read.models(two_gateways, scope=Scope(), tz=BERLIN).set_index("model")
    assert int(per_model.loc["m1", "sessions"]) == 3 and int(per_model.loc["m2", "sessions"]) == 1
    assert read.models(two_gateways, scope=NOWHERE, tz=BERLIN).empty


def test_session_table_keeps_the_two_sessions_apart(two_gateways: Engine) -> None:
    table = read.session_table(two_gateways, scope=Scope())
    assert _by_gateway(table, "cost") == {("shared", GW_A): 1.0, ("shared", GW_B): 30.0,
                                          ("child", GW_A): 0.5, ("child", GW_B): 10.0}
    origin = dict(zip(zip(table["session_id"], table["gateway"], strict=True), table["origin"],
                      strict=True))
    assert origin[("shared", GW_A)] == "" and "deleted" in origin[("shared", GW_B)]
    assert set(read.session_table(two_gateways, scope=A)["gateway"]) == {GW_A}
    assert read.session_table(two_gateways, scope=NOWHERE).empty
    assert list(read.session_table(two_gateways, scope=Scope(kinds=("cron",)))["gateway"]) == [
        GW_A]


def test_one_session_is_its_id_on_its_gateway(two_gateways: Engine) -> None:
    both = read.session_detail(two_gateways, session_id="shared")
    assert list(both["gateway"]) == [GW_A, GW_B]
    b = read.session_detail(two_gateways, session_id="shared", gateway=GW_B).iloc[0]
    assert (b["kind"], float(b["cost"]), int(b["subagents"])) == ("direct", 30.0, 1)
    assert read.session_detail(two_gateways, session_id="shared", gateway="nope").empty
    one = {"session_id": "shared", "gateway": GW_A}
    assert len(read.session_calls(two_gateways, **one)) == 1
    assert list(read.session_calls(two_gateways, session_id="shared", gateway=GW_B)[
        "tool_errors"]) == [1, 0, 0]
    assert len(read.session_timeline(two_gateways, **one)) == 1
    profile = read.session_profile(two_gateways, **one).iloc[0]
    assert (int(profile["calls"]), float(profile["cost"]), profile["thinking_levels"]) == (
        1, 1.0, "")
    other = read.session_profile(two_gateways, session_id="shared", gateway=GW_B).iloc[0]
    assert (int(other["calls"]), other["models"], other["thinking_levels"]) == (3, "m2", "high")
    assert list(read.session_markers(two_gateways, **one)["kind"]) == []
    assert list(read.session_tool_summary(two_gateways, **one)["tool_name"]) == ["read"]
    assert list(read.session_tool_calls(two_gateways, session_id="shared", gateway=GW_B)[
        "outcome"]) == ["error", "ok"]
    assert int(read.session_cache(two_gateways, **one)["cache_read"].sum()) == 100
    tree = read.session_tree(two_gateways, **one)
    assert (list(tree["gateway"]), list(tree["own_cost"])) == ([GW_A], [0.5])
    assert read.cost_drivers(two_gateways, session_id="shared", gateway="nope").empty


def test_tools_per_gateway(two_gateways: Engine) -> None:
    assert list(read.tools(two_gateways, scope=A)["tool_name"]) == ["read"]
    exec_ = read.tools(two_gateways, scope=B).set_index("tool_name").loc["exec"]
    assert (int(exec_["calls"]), int(exec_["errors"]), int(exec_["sessions"])) == (2, 1, 1)
    assert int(read.tool_totals(two_gateways, scope=Scope(kinds=("cron",))).iloc[0][
        "tool_calls"]) == 1  # the cron session is A's; B's session of that id is a chat
    assert int(read.tool_totals(two_gateways, scope=Scope(models=("m1",))).iloc[0][
        "tool_calls"]) == 1  # the model of the call on the tool call's own gateway
    assert int(read.tool_totals(two_gateways, scope=NOWHERE).iloc[0]["tool_calls"]) == 0
    over_time = read.tool_timeline(two_gateways, scope=B, tz=BERLIN, unit=Unit.DAY,
                                   until=at("2026-01-11"))
    assert set(over_time.loc[over_time["tool_calls"] > 0, "series"]) == {"exec"}


def test_one_tools_sessions_on_two_gateways(db_url: str) -> None:
    """One session id on two gateways is two sessions using the tool (one gateway in
    scope: counted by id alone)."""
    t = at("2026-01-10T08:00")
    calls = [call("s", t, 1.0, gateway=GW_A), call("s", t, 2.0, gateway=GW_B)]
    engine = build(db_url, [session("s", gateway=GW_A), session("s", gateway=GW_B)], calls,
                   [tool(calls[0], "read"), tool(calls[1], "read")])
    try:
        assert [int(read.tools(engine, scope=s).iloc[0]["sessions"]) for s in (Scope(), A)
                ] == [2, 1]
    finally:
        engine.dispose()


def test_cron_and_subagents_per_gateway(two_gateways: Engine) -> None:
    activity = read.cron_activity(two_gateways, scope=Scope(), tz=BERLIN)
    assert list(zip(activity.runs["session_id"], activity.runs["gateway"], strict=True)) == [
        ("shared", GW_A)]
    assert read.cron_activity(two_gateways, scope=B, tz=BERLIN).runs.empty
    rolled = read.subagent_rollup(two_gateways, scope=Scope())
    assert _by_gateway(rolled, "subagent_cost", "parent_id") == {("shared", GW_A): 0.5,
                                                                 ("shared", GW_B): 10.0}
    assert _by_gateway(rolled, "own_cost", "parent_id") == {("shared", GW_A): 1.0,
                                                            ("shared", GW_B): 30.0}
    assert list(read.subagent_rollup(two_gateways, scope=A)["gateway"]) == [GW_A]
    assert read.subagent_rollup(two_gateways, scope=NOWHERE).empty


def test_one_cron_job_name_on_two_gateways_is_two_jobs(db_url: str) -> None:
    """Two hosts each run a cron job named "hourly-digest": two jobs, each with its own
    runs, cost and days; the gateway filter keeps one."""
    t = at("2026-01-10T08:00")
    rows = [session("run1", gateway=GW_A, kind="cron", cron_job_name="hourly-digest"),
            session("run1", gateway=GW_B, kind="cron", cron_job_name="hourly-digest"),
            session("run2", gateway=GW_B, kind="cron", cron_job_name="hourly-digest")]
    calls = [call("run1", t, 1.0, gateway=GW_A), call("run1", t, 2.0, gateway=GW_B),
             call("run2", t + timedelta(hours=1), 4.0, gateway=GW_B)]
    engine = build(db_url, rows, calls)
    try:
        activity = read.cron_activity(engine, scope=Scope(), tz=BERLIN)
        assert {(j, g): (int(runs), float(cost)) for j, g, runs, cost in zip(
            activity.jobs["job"], activity.jobs["gateway"], activity.jobs["runs"],
            activity.jobs["cost"], strict=True)} == {("hourly-digest · on gw-b", GW_B): (2, 6.0),
                                                     ("hourly-digest · on gw-a", GW_A): (1, 1.0)}
        assert list(activity.jobs["gateway"]) == [GW_B, GW_A]  # most expensive first
        assert {(g, int(runs), float(cost)) for g, runs, cost in zip(
            activity.daily["gateway"], activity.daily["runs"], activity.daily["cost"],
            strict=True)} == {(GW_A, 1, 1.0), (GW_B, 2, 6.0)}
        only_a = read.cron_activity(engine, scope=A, tz=BERLIN)
        assert list(only_a.jobs["gateway"]) == [GW_A] and float(only_a.jobs["cost"].sum()) == 1
        assert read.cron_activity(engine, scope=NOWHERE, tz=BERLIN).jobs.empty
    finally:
        engine.dispose()


def test_compare_per_gateway(two_gateways: Engine) -> None:
    jobs = read.compare_options(two_gateways, dimension="cron_job", scope=Scope())
    assert (list(jobs["label"]), list(jobs["calls"])) == (["digest"], [1])
    digest = read.compare(two_gateways, dimension="cron_job", items=tuple(jobs["item"]),
                          scope=Scope()).iloc[0]
    assert (int(digest["calls"]), int(digest["sessions"]), int(digest["tool_calls"])) == (1, 1, 1)
    models = read.compare(two_gateways, dimension="model", items=("m1", "m2"), scope=Scope())
    assert list(models["sessions"]) == [3, 1] and list(models["tool_calls"]) == [1, 2]
    levels = read.thinking_cost(two_gateways, scope=Scope()).set_index("level")["calls"]
    assert levels.to_dict() == {"high": 3, "not recorded": 4}  # B's level, not A's session
    assert read.thinking_cost(two_gateways, scope=A)["level"].tolist() == ["not recorded"]
    assert read.compare_options(two_gateways, dimension="agent", scope=NOWHERE).empty


def test_budget_reads_per_gateway(two_gateways: Engine) -> None:
    now = datetime(2026, 1, 20, 12, tzinfo=UTC)
    top = read.budget_sessions(two_gateways, budget=Budget("All", Period.MONTH, 100.0),
                               now=now, tz=BERLIN, limit=4)
    assert _by_gateway(top, "cost") == {("shared", GW_B): 30.0, ("child", GW_B): 10.0,
                                        ("shared", GW_A): 1.0, ("child", GW_A): 0.5}
    cron = read.budget_sessions(two_gateways, budget=Budget("Cron", Period.MONTH, 5.0,
                                                           cron_jobs=("digest",)),
                                now=now, tz=BERLIN)
    assert _by_gateway(cron, "cost") == {("shared", GW_A): 1.0}
    outlook = read.spend_outlook(two_gateways, scope=B, tz=BERLIN, now=now).iloc[0]
    assert float(outlook["spent"]) == 40.0


def test_alert_observations_per_gateway(two_gateways: Engine) -> None:
    per_session = read.alert_observations(two_gateways, metric="session_cost", scope=Scope(),
                                          tz=BERLIN)
    assert sorted(per_session["value"]) == [0.5, 1.0, 10.0, 30.0]
    assert list(read.alert_observations(two_gateways, metric="session_cost", scope=A,
                                        tz=BERLIN)["value"].sort_values()) == [0.5, 1.0]
    totals = read.session_observations(two_gateways, metric="session_cost", scope=B)
    assert sorted(totals["value"]) == [10.0, 30.0]
    assert read.alert_observations(two_gateways, metric="daily_cost", scope=NOWHERE,
                                   tz=BERLIN).empty
