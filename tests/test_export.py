"""`session_parser.py export` (issue 14 item 3): every kind in every format read back and
compared with the database, the filters (also one that selects nothing: a valid empty
file), stdout, the errors and their exit codes; and the dashboards' CSV download, which
must be the export's CSV."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import streamlit as st
from conftest import query
from export_db import BERLIN, GW_A, GW_B, build_fleet
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from openclaw_telemetry import cli, read
from openclaw_telemetry.doors import EXIT_CANTCREAT, EXIT_NOINPUT, EXIT_USAGE
from openclaw_telemetry.read import Scope
from openclaw_telemetry.store import open_existing
from openclaw_telemetry.timeframe import Unit, zone

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("csv", "json", "parquet")
# what -> (SQL of the rows it must hold: count, then sums), the columns compared
SQL = {
    "calls": ("SELECT count(*), sum(cost), sum(input_tokens + output_tokens + "
              "cache_read_tokens + cache_write_tokens) FROM messages{where}",
              ("cost", "total_tokens")),
    "sessions": ("SELECT count(*), sum(total_cost), sum(total_input_tokens + "
                 "total_output_tokens + total_cache_read_tokens + total_cache_write_tokens) "
                 "FROM sessions{where}", ("total_cost", "total_tokens")),
    "tool-calls": ("SELECT count(*), sum(coalesce(duration_ms, 0)), sum(CASE WHEN is_error "
                   "THEN 1 ELSE 0 END) FROM tool_calls{where}", ("duration_ms", "is_error")),
}


class Ran:
    def __init__(self, code: int, out: bytes, err: str) -> None:
        self.code, self.out, self.err = code, out, err


class Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def export(url: str, *args: str, terminal: bool = False) -> Ran:
    raw = io.BytesIO()
    out = (Terminal if terminal else io.TextIOWrapper)(raw, encoding="utf-8")
    err = io.StringIO()
    code = cli.run(["export", "--db", url, *args], out=out, err=err)
    out.flush()
    return Ran(code, raw.getvalue(), err.getvalue())


def read_back(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "json":
        return pd.read_json(path, lines=True) if path.stat().st_size else pd.DataFrame()
    return pq.read_table(path).to_pandas()


@pytest.fixture
def fleet(db_url: str) -> str:
    build_fleet(db_url).dispose()
    return db_url


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("what", ["calls", "sessions", "tool-calls"])
def test_every_row_comes_back_with_the_databases_totals(fleet: str, tmp_path: Path,
                                                       what: str, fmt: str) -> None:
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / f"out.{fmt}"
    ran = export(fleet, "--what", what, "--format", fmt, "-o", str(path))
    assert ran.code == 0, ran.err
    assert ran.out == b""
    got = read_back(path, fmt)
    sql, columns = SQL[what]
    count, *sums = query(fleet, sql.format(where=""))[0]
    assert len(got) == count
    for column, want in zip(columns, sums, strict=True):
        assert float(got[column].astype("float64").sum()) == pytest.approx(float(want))
    assert set(got["gateway"]) == {GW_A, GW_B}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left


def test_calls_are_the_stored_rows_in_time_order(fleet: str, tmp_path: Path) -> None:
    stored = query(fleet, "SELECT message_id, gateway, timestamp, cost, is_error, "
                          "cache_read_tokens, error_message FROM messages "
                          "ORDER BY timestamp, gateway, message_id")
    for fmt in FORMATS:
        path = tmp_path / f"calls.{fmt}"
        assert export(fleet, "--what", "calls", "--format", fmt, "-o", str(path)).code == 0
        got = read_back(path, fmt)
        stamps = pd.to_datetime(got["timestamp"], utc=True).dt.tz_localize(None)
        assert list(got["message_id"]) == [r[0] for r in stored], fmt
        assert list(stamps) == [pd.Timestamp(r[2]) for r in stored], fmt
        assert list(got["cost"]) == [r[3] for r in stored], fmt
        assert [bool(v) for v in got["is_error"]] == [bool(r[4]) for r in stored], fmt
        assert list(got["cache_read_tokens"]) == [r[5] for r in stored], fmt


@pytest.mark.parametrize("fmt", FORMATS)
def test_calls_carry_their_cost_by_kind_empty_where_not_stored(fleet: str, tmp_path: Path,
                                                              fmt: str) -> None:
    path = tmp_path / f"calls.{fmt}"
    assert export(fleet, "--what", "calls", "--format", fmt, "-o", str(path)).code == 0
    got = read_back(path, fmt)
    kinds = ["input_cost", "output_cost", "cache_read_cost", "cache_write_cost"]
    assert list(got.columns[-4:]) == kinds  # appended: the older columns keep their places
    first = got.iloc[0]
    assert [first[k] for k in kinds] == [0.125, 0.25, 0.0625, 0.0625]
    assert sum(first[k] for k in kinds) == first["cost"]
    assert got[kinds].iloc[1:].isna().all().all()  # not stored: empty, never 0


@pytest.mark.parametrize("what", ["sessions", "daily"])
def test_dollars_to_a_billionth_without_float_noise(tmp_path: Path, what: str) -> None:
    """0.1 + 0.2 was exported as 0.30000000000000004 (a spreadsheet shows the noise); as
    `report --json`, sums are rounded to nine decimals, far below any price. (A call's
    own amounts are exported as stored: `test_calls_are_the_stored_rows_in_time_order`.)"""
    from telemetry_db import build, call, session
    url = f"sqlite:///{tmp_path / 'noise.db'}"
    t = pd.Timestamp("2026-01-10T08:00").to_pydatetime()
    build(url, [session("s1")], [
        call("s1", t, 0.1, cost_source="estimated"), call("s1", t.replace(minute=5), 0.2),
        call("s1", t.replace(minute=9), 1 / 3, input_cost=1 / 3 - 0.2, output_cost=0.2,
             cache_read_cost=0.0, cache_write_cost=0.0)]).dispose()
    ran = export(url, "--what", what, "--format", "json")
    assert ran.code == 0, ran.err
    rows = [json.loads(line) for line in ran.out.splitlines()]
    money = [(name, value) for row in rows for name, value in row.items()
             if name.endswith("cost") and isinstance(value, float)]
    assert money
    for name, value in money:
        assert value == round(value, 9) and len(repr(value)) <= 12, (name, value)
    assert rows[0]["total_cost" if what == "sessions" else "cost"] == 0.633333333


def test_raw_values_iso_utc_times_and_a_typed_parquet_schema(fleet: str, tmp_path: Path
                                                             ) -> None:
    ran = export(fleet, "--what", "calls", "--format", "csv")
    header, first = ran.out.decode().splitlines()[:2]
    row = dict(zip(header.split(","), first.split(","), strict=True))
    assert row["timestamp"] == "2026-01-10T08:00:00.000000Z" and row["cost"] == "0.5"
    assert row["is_error"] == "false" and row["recorded_cost"] == ""
    line = json.loads(export(fleet, "--what", "calls", "--format", "json").out.splitlines()[0])
    assert (line["timestamp"], line["cost"], line["recorded_cost"]) == (
        "2026-01-10T08:00:00.000000Z", 0.5, None)
    path = tmp_path / "c.parquet"
    assert export(fleet, "--what", "calls", "--format", "parquet", "-o", str(path)).code == 0
    schema = pq.read_schema(path)
    assert str(schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    assert (str(schema.field("cost").type), str(schema.field("input_tokens").type),
            str(schema.field("is_error").type)) == ("double", "int64", "bool")
    sessions = export(fleet, "--what", "sessions").out.decode()
    assert '"chat with, ""quotes"""' in sessions  # CSV quoting of user text


def test_daily_is_the_dashboards_daily_timeline(fleet: str, tmp_path: Path) -> None:
    for fmt in FORMATS:
        path = tmp_path / f"daily.{fmt}"
        ran = export(fleet, "--what", "daily", "--format", fmt, "--tz", BERLIN, "-o",
                     str(path))
        assert ran.code == 0, ran.err
        got = read_back(path, fmt)
        days = [str(d)[:10] for d in got["day"]]
        engine = open_existing(fleet)
        want = read.timeline(engine, scope=Scope(), tz=zone(BERLIN), unit=Unit.DAY,
                             by="model")
        engine.dispose()
        want = want[want["calls"] > 0]
        assert sorted(zip(days, got["model"], got["cost"], got["calls"], strict=True)) == sorted(
            zip(want["bucket"].dt.strftime("%Y-%m-%d"), want["series"], want["cost"],
                want["calls"], strict=True)), fmt
    assert days == ["2026-01-10", "2026-01-11", "2026-01-11", "2026-01-12", "2026-01-12",
                    "2026-01-12"]
    # counts are whole numbers on PostgreSQL too, where SUM(bigint) is NUMERIC (review 19:
    # "17505.0,97.0" there, "17505,97" on SQLite)
    ran = export(fleet, "--what", "daily", "--format", "csv", "--tz", BERLIN)
    header, first = ran.out.decode().splitlines()[:2]
    row = dict(zip(header.split(","), first.split(","), strict=True))
    for name in ("calls", "input", "output", "cache_read", "cache_write", "tokens"):
        assert row[name].isdigit(), (name, row)


@pytest.mark.parametrize(("args", "where"), [
    (("--since", "2026-01-11"), " WHERE timestamp >= '2026-01-10 23:00:00'"),
    (("--until", "20260110"), " WHERE timestamp < '2026-01-10 23:00:00'"),
    (("--since", "2026-01-11", "--until", "2026-01-11"),
     " WHERE timestamp >= '2026-01-10 23:00:00' AND timestamp < '2026-01-11 23:00:00'"),
    (("--gateway", GW_B), f" WHERE gateway = '{GW_B}'"),
    (("--gateway", GW_A, "--gateway", GW_B), ""),
    (("--agent", "ops"), " WHERE agent_id = 'ops'"),
    (("--agent", "ops", "--gateway", GW_B), " WHERE agent_id = 'ops' AND gateway = 'gw-b'"),
    (("--since", "2027-01-01"), " WHERE timestamp >= '2026-12-31 23:00:00'"),
])
def test_filters(fleet: str, tmp_path: Path, args: tuple[str, ...], where: str) -> None:
    count, cost, _tokens = query(fleet, SQL["calls"][0].format(where=where))[0]
    for fmt in FORMATS:
        path = tmp_path / f"f.{fmt}"
        ran = export(fleet, "--what", "calls", "--format", fmt, "--tz", BERLIN, "-o",
                     str(path), *args)
        assert ran.code == 0, ran.err
        got = read_back(path, fmt)
        assert len(got) == count, fmt
        assert float(got["cost"].sum() if count else 0.0) == pytest.approx(float(cost or 0))


@pytest.mark.parametrize("what", ["calls", "sessions", "tool-calls", "daily"])
def test_a_filter_that_selects_nothing_is_a_valid_empty_file(fleet: str, tmp_path: Path,
                                                             what: str) -> None:
    nothing = ("--agent", "ops", "--gateway", GW_B)
    for fmt in FORMATS:
        path = tmp_path / f"empty.{fmt}"
        ran = export(fleet, "--what", what, "--format", fmt, "-o", str(path), *nothing)
        assert ran.code == 0, ran.err
        assert f"0 rows written to {path} ({what})" in ran.err
        if fmt == "csv":
            header = path.read_text().splitlines()
            assert len(header) == 1 and header[0].startswith(
                "day,model" if what == "daily" else "gateway,")
        elif fmt == "json":
            assert path.read_bytes() == b""
        else:
            table = pq.read_table(path)
            assert table.num_rows == 0 and len(table.schema) > 5
            assert table.schema.names[0] == ("day" if what == "daily" else "gateway")


def test_stdout_is_the_default_and_equals_the_file(fleet: str, tmp_path: Path) -> None:
    for fmt in FORMATS:
        path = tmp_path / f"s.{fmt}"
        assert export(fleet, "--what", "sessions", "--format", fmt, "-o", str(path)).code == 0
        ran = export(fleet, "--what", "sessions", "--format", fmt)
        assert ran.code == 0 and ran.err == ""
        assert ran.out == path.read_bytes(), fmt


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--what", "calls", "--since", "2026-13-01"), EXIT_USAGE, "is not a date"),
    (("--what", "calls", "--since", "yesterday"), EXIT_USAGE, "is not a date"),
    (("--what", "calls", "--since", "2026-02-01", "--until", "2026-01-01"), EXIT_USAGE,
     "is after --until"),
    (("--what", "calls", "--gateway", "nope"), EXIT_USAGE,
     "--gateway 'nope': no such gateway in the database (known: gw-a, gw-b)"),
    (("--what", "calls", "--agent", "nope"), EXIT_USAGE, "no such agent"),
    (("--what", "everything"), EXIT_USAGE, "invalid choice"),
    (("--format", "csv"), EXIT_USAGE, "required: --what"),
    (("--what", "calls", "--tz", "Mars/Olympus"), EXIT_USAGE, "unknown time zone"),
    (("--what", "calls", "--until", "9999-12-31"), EXIT_USAGE, "--until 9999-12-31: too far"),
    (("--what", "calls", "--since", "0001-01-01", "--tz", "Asia/Tokyo"), EXIT_USAGE,
     "--since 0001-01-01: too far from today (no such moment in Asia/Tokyo)"),
    (("--what", "calls", "-o", "/nonexistent-dir/out.csv"), EXIT_CANTCREAT,
     "cannot write /nonexistent-dir/out.csv"),
])
def test_errors_are_one_line_and_a_documented_code(fleet: str, args: tuple[str, ...],
                                                   code: int, message: str) -> None:
    ran = export(fleet, *args)
    assert ran.code == code
    assert len(ran.err.splitlines()) == 1 and message in ran.err, ran.err
    assert ran.err.startswith("session_parser.py export: ") and ran.out == b""


def test_an_unwritable_target_leaves_nothing_behind(fleet: str, tmp_path: Path) -> None:
    target = tmp_path / "out" / "a-directory"
    target.mkdir(parents=True)
    ran = export(fleet, "--what", "calls", "-o", str(target))
    assert ran.code == EXIT_CANTCREAT and "cannot write" in ran.err
    assert [p.name for p in target.parent.iterdir()] == ["a-directory"]


def test_a_symbolic_link_is_followed_and_a_replaced_file_keeps_its_mode(
        fleet: str, tmp_path: Path) -> None:
    real = tmp_path / "real" / "target.csv"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o644)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    ran = export(fleet, "--what", "daily", "-o", str(link))
    assert ran.code == 0, ran.err
    assert link.is_symlink() and link.resolve() == real
    assert real.read_text().startswith("day,") and real.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in real.parent.iterdir()) == ["target.csv"]
    fresh = tmp_path / "new.csv"
    assert export(fleet, "--what", "daily", "-o", str(fresh)).code == 0
    assert fresh.stat().st_mode & 0o777 == 0o600  # as the database it comes from


def test_a_fifo_is_written_into_not_replaced(fleet: str, tmp_path: Path) -> None:
    fifo = tmp_path / "out" / "pipe"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    ran = export(fleet, "--what", "daily", "-o", str(fifo))
    reader.join(30)
    assert ran.code == 0, ran.err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert got and got[0] == export(fleet, "--what", "daily").out
    assert [p.name for p in fifo.parent.iterdir()] == ["pipe"]


def test_an_empty_output_name_is_a_usage_error(fleet: str) -> None:
    ran = export(fleet, "--what", "daily", "-o", "")
    assert ran.code == EXIT_USAGE and "-o needs a file name" in ran.err


def test_parquet_is_not_written_to_a_terminal(fleet: str) -> None:
    ran = export(fleet, "--what", "calls", "--format", "parquet", terminal=True)
    assert ran.code == EXIT_USAGE and "not written to a terminal" in ran.err
    assert ran.out == b""
    assert export(fleet, "--what", "calls", "--format", "csv", terminal=True).code == 0


def test_a_missing_database_is_66(tmp_path: Path) -> None:
    ran = export(str(tmp_path / "none.db"), "--what", "calls")
    assert ran.code == EXIT_NOINPUT and "run `.venv/bin/python session_parser.py" in ran.err
    assert not (tmp_path / "none.db").exists()


def test_export_help_lists_its_options() -> None:
    out = io.StringIO()
    with pytest.raises(SystemExit) as stop, contextlib.redirect_stdout(out):
        cli.run(["export", "--help"])
    assert stop.value.code == 0
    for option in ("--what", "--format", "--output", "--since", "--until", "--gateway",
                   "--agent", "--db", "Exit codes: 0"):
        assert option in out.getvalue()


# -- the dashboards' download button is the export ------------------------------------------

@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], Any]]:
    """The download buttons' deferred callables, by file name, as a click would run them."""
    made: dict[str, Callable[[], Any]] = {}
    original = MediaFileManager.add_deferred

    def spy(self: MediaFileManager, data_callable: Callable[[], Any], *args: Any,
            **kwargs: Any) -> str:
        made[str(kwargs.get("file_name"))] = data_callable
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    st.cache_data.clear()
    st.cache_resource.clear()
    return made


def _app(script: str, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("OPENCLAW_TELEMETRY_DB", str(db))
    monkeypatch.delenv("OPENCLAW_TELEMETRY_ALERTS", raising=False)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(ROOT / script), default_timeout=60)
    at.context["timezone"] = BERLIN
    return at


@pytest.mark.parametrize(("query_string", "args"), [
    ({}, ()), ({"gateways": GW_B}, ("--gateway", GW_B)), ({"agent": "ops"}, ("--agent", "ops")),
    ({"range": "Custom dates", "from": "2026-01-11", "to": "2026-01-11"},
     ("--since", "2026-01-11", "--until", "2026-01-11")),
    ({"range": "Today"}, None)])
def test_the_download_buttons_are_the_exports_csv(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deferred: dict[str, Callable[[], Any]],
        query_string: dict[str, str], args: tuple[str, ...] | None) -> None:
    db = tmp_path / "t.db"
    build_fleet(f"sqlite:///{db}").dispose()
    at = _app("dashboard.py", db, monkeypatch, tmp_path)
    at.query_params.update(query_string)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if args is None:  # nothing in range: no table, no button
        assert not at.download_button and not deferred
        return
    assert {b.key for b in at.download_button} == {"sessions-csv", "timeline-csv"}
    for what in ("sessions", "daily"):
        want = export(str(db), "--what", what, "--tz", BERLIN, *args)
        assert want.code == 0
        assert deferred[f"openclaw-{what}.csv"]().decode() == want.out.decode(), what


def test_the_session_search_narrows_the_download(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                deferred: dict[str, Callable[[], Any]]
                                                ) -> None:
    db = tmp_path / "t.db"
    build_fleet(f"sqlite:///{db}").dispose()
    at = _app("dashboard_enhanced.py", db, monkeypatch, tmp_path)
    at.switch_page("openclaw_telemetry/ui/pages/sessions.py").run()
    at.text_input(key="sessions-search").input("digest").run()
    assert not at.exception, [e.value for e in at.exception]
    rows = deferred["openclaw-sessions.csv"]().decode().splitlines()
    assert len(rows) == 2 and ",s2," in rows[1]


def test_times_are_written_to_one_precision(tmp_path: Path) -> None:
    """'…06:02:50Z' beside '…06:02:38.183000Z': Python's isoformat drops the fraction when it
    is zero, so the column sorted as text put 06:02:50 before 06:02:38.183."""
    from telemetry_db import build, call, session

    url = f"sqlite:///{tmp_path / 'p.db'}"
    t = datetime(2026, 1, 10, 6, 2, 38, 183000)
    build(url, [session("s1")], [call("s1", t), call("s1", t.replace(second=50, microsecond=0))]
          ).dispose()
    for fmt in ("csv", "json"):
        out = export(url, "--what", "calls", "--format", fmt).out.decode()
        times = re.findall(r"2026-01-10T[0-9:.]+Z", out)
        assert times == ["2026-01-10T06:02:38.183000Z", "2026-01-10T06:02:50.000000Z"], fmt
