"""`session_parser.py report daily|monthly|session|model` (issue 14 item 4): `--json` totals
equal the database's for every kind and filter, the days are the dashboards' days, the
rich tables show the totals row, and mistakes are one line with a documented code."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import query
from export_db import BERLIN, GW_A, GW_B, at, build_fleet

from openclaw_telemetry import cli, read
from openclaw_telemetry.doors import EXIT_NOINPUT, EXIT_USAGE
from openclaw_telemetry.read import Scope
from openclaw_telemetry.read.reports import usage_report
from openclaw_telemetry.store import open_existing
from openclaw_telemetry.timeframe import Unit, zone

KINDS = ("daily", "monthly", "model", "session")
CALL_SUMS = ("SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
             "coalesce(sum(cache_write_tokens), 0), coalesce(sum(cache_read_tokens), 0), "
             "coalesce(sum(cost), 0), "
             "coalesce(sum(CASE WHEN cost_source = 'unpriced' THEN 1 ELSE 0 END), 0), "
             "coalesce(sum(CASE WHEN cost_source = 'unpriced' THEN input_tokens + output_tokens "
             "+ cache_write_tokens + cache_read_tokens ELSE 0 END), 0) "
             "FROM messages WHERE 1 = 1{where}")
SESSION_SUMS = ("SELECT count(*), coalesce(sum(total_messages), 0), "
                "coalesce(sum(total_input_tokens), 0), coalesce(sum(total_output_tokens), 0), "
                "coalesce(sum(total_cache_write_tokens), 0), "
                "coalesce(sum(total_cache_read_tokens), 0), coalesce(sum(total_cost), 0), "
                "coalesce(sum(unpriced_calls), 0) FROM sessions WHERE 1 = 1{where}")


def report(url: str, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["report", *args, "--db", url], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def as_json(url: str, *args: str) -> dict[str, Any]:
    code, out, err = report(url, *args, "--json", "--tz", BERLIN)
    assert code == 0, err
    answer: dict[str, Any] = json.loads(out)
    return answer


def figures(calls: int, inp: int, out: int, create: int, read_: int, cost: float,
            unpriced: int, unpriced_tokens: int | None = None) -> dict[str, Any]:
    """A report line's figures; sessions keep no unpriced tokens (`unpriced_tokens` None)."""
    tokens = {} if unpriced_tokens is None else {"unpriced_tokens": int(unpriced_tokens)}
    return {"calls": int(calls), "input": int(inp), "output": int(out),
            "cache_create": int(create), "cache_read": int(read_),
            "total_tokens": int(inp + out + create + read_), "cost": pytest.approx(float(cost)),
            "unpriced_calls": int(unpriced), **tokens}


@pytest.fixture
def fleet(db_url: str) -> str:
    build_fleet(db_url).dispose()
    return db_url


@pytest.mark.parametrize(("args", "calls_where", "sessions_where"), [
    ((), "", ""),
    (("--gateway", GW_B), f" AND gateway = '{GW_B}'", f" AND gateway = '{GW_B}'"),
    (("--agent", "ops"), " AND agent_id = 'ops'", " AND agent_id = 'ops'"),
    (("--since", "2026-01-11", "--until", "2026-01-11"),
     " AND timestamp >= '2026-01-10 23:00:00' AND timestamp < '2026-01-11 23:00:00'",
     " AND start_time < '2026-01-11 23:00:00' AND end_time >= '2026-01-10 23:00:00'"),
    (("--since", "2027-01-01"), " AND timestamp >= '2026-12-31 23:00:00'",
     " AND end_time >= '2026-12-31 23:00:00'"),
    (("--gateway", GW_A, "--agent", "ops", "--until", "2026-01-10"),
     " AND gateway = 'gw-a' AND agent_id = 'ops' AND timestamp < '2026-01-10 23:00:00'",
     " AND gateway = 'gw-a' AND agent_id = 'ops' AND start_time < '2026-01-10 23:00:00'"),
])
def test_json_totals_are_the_databases(fleet: str, args: tuple[str, ...], calls_where: str,
                                       sessions_where: str) -> None:
    want = figures(*query(fleet, CALL_SUMS.format(where=calls_where))[0])
    for kind in ("daily", "monthly", "model"):
        answer = as_json(fleet, kind, *args)
        assert answer["totals"] == want, kind
        rows = answer["rows"]
        for name in ("calls", "input", "cache_read", "total_tokens"):
            assert sum(r[name] for r in rows) == want[name], (kind, name)
    count, *sums = query(fleet, SESSION_SUMS.format(where=sessions_where))[0]
    sessions = as_json(fleet, "session", *args, "--limit", "0")
    assert sessions["totals"] == {"sessions": count, **figures(*sums)}
    assert len(sessions["rows"]) == count
    assert sum(r["cost"] for r in sessions["rows"]) == pytest.approx(float(sums[-2]))


def test_days_and_months_are_the_dashboards(fleet: str) -> None:
    engine = open_existing(fleet)
    try:
        timeline = read.timeline(engine, scope=Scope(), tz=zone(BERLIN), unit=Unit.DAY,
                                 by="model")
    finally:
        engine.dispose()
    timeline = timeline[timeline["calls"] > 0]  # the dashboards draw empty days as zeros
    per_day = timeline.groupby(timeline["bucket"].dt.strftime("%Y-%m-%d"))[
        ["calls", "cost"]].sum()
    rows = as_json(fleet, "daily")["rows"]
    assert [r["date"] for r in rows] == ["2026-01-10", "2026-01-11", "2026-01-12"]
    assert {r["date"]: (r["calls"], pytest.approx(r["cost"])) for r in rows} == {
        day: (int(v["calls"]), float(v["cost"])) for day, v in per_day.iterrows()}
    assert [r["models"] for r in rows] == [["m1"], ["m1", "m2"], ["m1", "m2", "m3"]]
    utc = json.loads(report(fleet, "daily", "--json", "--tz", "UTC")[1])["rows"]
    assert [r["calls"] for r in utc] == [4, 2, 3]  # 23:30 UTC is the 10th in UTC
    months = as_json(fleet, "monthly")["rows"]
    assert [(m["month"], m["calls"]) for m in months] == [("2026-01", 9)]
    models = as_json(fleet, "model")["rows"]
    assert [m["model"] for m in models] == ["m1", "m2", "m3"]  # most expensive first


def test_partial_quarter_hours_are_read_from_the_calls(fleet: str) -> None:
    engine = open_existing(fleet)
    try:
        since, until = at("2026-01-10T08:00:00.5"), at("2026-01-11T08:07:03.5")
        lines = usage_report(engine, scope=Scope(since, until), tz=zone(BERLIN), by="day")
    finally:
        engine.dispose()
    count, cost = query(fleet, "SELECT count(*), sum(cost) FROM messages WHERE timestamp >= "
                               "'2026-01-10 08:00:00.500000' AND timestamp < "
                               "'2026-01-11 08:07:03.500000'")[0]
    assert sum(u.calls for u in lines) == count == 4
    assert sum(u.cost for u in lines) == pytest.approx(cost)


def test_session_report_lists_the_most_expensive_and_counts_all(fleet: str) -> None:
    answer = as_json(fleet, "session", "--limit", "1")
    assert len(answer["rows"]) == 1 and answer["totals"]["sessions"] == 3
    top = answer["rows"][0]
    assert (top["gateway"], top["session_id"], top["cost"]) == (GW_B, "s1", 12.0)
    assert top["last_activity"] == "2026-01-12T11:00:00.000000Z"
    assert top["started"] == "2026-01-10T09:00:00.000000Z"  # its first call (export_db)
    code, out, _ = report(fleet, "session", "--limit", "1")
    assert code == 0 and "The 1 most expensive of 3 sessions" in out


@pytest.mark.parametrize("kind", KINDS)
def test_json_to_a_binary_stream_is_the_same_text(fleet: str, kind: str) -> None:
    """Standard output has a binary buffer: the JSON goes there as bytes, the same text."""
    text = io.StringIO()
    binary = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    for out in (text, binary):
        assert cli.run(["report", kind, "--json", "--db", fleet], out=out,
                       err=io.StringIO()) == 0
    binary.flush()
    assert binary.buffer.getvalue().decode() == text.getvalue()  # type: ignore[attr-defined]
    assert text.getvalue().endswith("}\n")


@pytest.mark.parametrize("kind", KINDS)
def test_rich_tables_have_the_columns_and_a_totals_row(fleet: str, kind: str) -> None:
    code, out, err = report(fleet, kind, "--tz", BERLIN)
    assert code == 0 and err == ""
    for header in ("Input", "Output", "Cache Create", "Cache Read", "Total Tokens", "Cost"):
        assert header in out
    total = next(line for line in out.splitlines() if "Total" in line and "$" in line)
    assert "$15.88" in total and "1,065" not in total
    assert "1,725" in total  # every token of the nine calls, formatted as a count
    if kind == "daily":
        assert "2026-01-11" in out and "- m2" in out


def test_sessions_of_several_gateways_name_their_gateway(fleet: str) -> None:
    """s1 is a session of gw-a and of gw-b: the table tells them apart, one gateway not."""
    code, out, _ = report(fleet, "session")
    assert code == 0 and "┃ Gateway ┃" in out
    rows = [line.split("│") for line in out.splitlines() if line.startswith("│ ")]
    assert [r[2].strip() for r in rows] == [GW_B, GW_A, GW_A, ""]  # the totals row last
    code, out, _ = report(fleet, "session", "--gateway", GW_A)
    assert code == 0 and "Gateway" not in out
    code, out, _ = report(fleet, "session", "--limit", "1")  # one listed, of two gateways
    assert code == 0 and "┃ Gateway ┃" in out


@pytest.mark.parametrize("kind", KINDS)
def test_unpriced_calls_are_shown_never_hidden_in_a_total(fleet: str, kind: str) -> None:
    """Contract C3: the m3 call has no known price; its line's cost and the total are
    marked, and a note says how many calls (and tokens) the cost leaves out."""
    answer = as_json(fleet, kind, "--tz", BERLIN)
    assert answer["totals"]["unpriced_calls"] == 1
    assert answer["totals"].get("unpriced_tokens", 15) == 15  # sessions keep no tokens
    assert sum(r["unpriced_calls"] for r in answer["rows"]) == 1
    code, out, _ = report(fleet, kind, "--tz", BERLIN)
    assert code == 0
    total = next(line for line in out.splitlines() if "Total" in line and "$" in line)
    assert "$15.88 *" in total
    assert sum("*" in line for line in out.splitlines() if "$" in line) == 2  # line, total
    note = "* Unpriced (a model with no known price), counted in the tokens but not in Cost"
    assert note in out and ("calls 1." in out if kind == "session" else "calls 1, tokens 15." in out)
    code, out, _ = report(fleet, kind, "--gateway", GW_A)
    assert code == 0 and "*" not in out  # nothing unpriced selected: no mark, no note


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_selected_is_an_empty_report(fleet: str, kind: str) -> None:
    answer = as_json(fleet, kind, "--since", "2027-01-01")
    assert answer["rows"] == [] and answer["totals"]["cost"] == 0
    code, out, _ = report(fleet, kind, "--since", "2027-01-01")
    assert code == 0 and "Total" in out
    assert kind == "session" or "No LLM calls in this selection." in out


@pytest.mark.parametrize(("args", "code", "message"), [
    (("daily", "--since", "2026-02-30"), EXIT_USAGE, "is not a date"),
    (("daily", "--gateway", "nope"), EXIT_USAGE, "no such gateway"),
    (("daily", "--agent", "nope"), EXIT_USAGE, "no such agent"),
    (("weekly",), EXIT_USAGE, "error: invalid choice: 'weekly' (choose from 'daily', "),
    (("session", "--limit", "-1"), EXIT_USAGE, "--limit must be"),
    (("daily", "--limit", "3"), EXIT_USAGE, "--limit applies to report session only"),
    (("daily", "--until", "9999-12-31"), EXIT_USAGE, "--until 9999-12-31: too far from today"),
    (("session", "--since", "0001-01-01", "--tz", "Asia/Tokyo"), EXIT_USAGE,
     "--since 0001-01-01: too far from today (no such moment in Asia/Tokyo)"),
])
def test_errors_are_one_line_and_a_documented_code(fleet: str, args: tuple[str, ...],
                                                   code: int, message: str) -> None:
    got, out, err = report(fleet, *args)
    assert got == code and out == ""
    assert len(err.splitlines()) == 1 and message in err, err
    assert err.startswith("session_parser.py report: error: ")


def test_a_missing_database_is_66(tmp_path: Any) -> None:
    code, _, err = report(str(tmp_path / "none.db"), "daily")
    assert code == EXIT_NOINPUT and "no database at" in err


def test_every_read_name_resolves_and_a_report_loads_no_pandas(fleet: str) -> None:
    import subprocess
    import sys

    import openclaw_telemetry.read.compare
    import openclaw_telemetry.read.tools  # noqa: F401 (a module named like its question)

    assert all(getattr(read, name) is not None for name in read.__all__)
    assert callable(read.tools) and callable(read.compare) and callable(read.deliveries)
    if not fleet.startswith("sqlite"):
        return
    probe = ("import sys, io; from openclaw_telemetry import cli; "
             f"cli.run(['report', 'daily', '--db', {fleet!r}], io.StringIO()); "
             "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow', "
             "'openclaw_telemetry.ingest.run', 'sqlalchemy.dialects.postgresql') "
             "if m in sys.modules))")
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60)
    assert ran.stdout.strip() == "[]"


def test_the_whole_command_draws_the_table_and_the_totals(fleet: str) -> None:
    """The program as users run it (`session_parser.py report`: no cyclic collection, rich
    loaded while the database answers): the same totals as `--json`."""
    import subprocess
    import sys
    from pathlib import Path

    script = str(Path(__file__).resolve().parent.parent / "session_parser.py")
    ran = subprocess.run([sys.executable, script, "report", "daily", "--db", fleet],
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    code, out, _ = report(fleet, "daily", "--json")
    totals = json.loads(out)["totals"]
    total_line = next(line for line in ran.stdout.splitlines()
                      if line.lstrip("│ ").startswith("Total "))
    assert code == 0 and f"{totals['total_tokens']:,}" in total_line
    assert f"${totals['cost']:,.2f}" in total_line


def test_json_costs_carry_no_float_noise() -> None:
    """The same total read 70.61967405000007 (per session), 70.61967405000003 (per model)
    and 70.61967405 (per month): sums in other orders. Scripts comparing them saw three."""
    from openclaw_telemetry.read.reports import Usage
    from openclaw_telemetry.report_cli import _numbers

    noisy = Usage("Total", (), 3, 0, 0, 0, 0, 0.1 + 0.2)
    assert _numbers(noisy)["cost"] == 0.3
    assert _numbers(noisy._replace(cost=1216.41253996))["cost"] == 1216.41253996


def test_reading_leaves_the_file_as_it_is(tmp_path: Path) -> None:
    """The commands that only read never write on open: a database in another journal mode
    (rollback, as a copy or a backup tool may leave it) is read as it is, not switched to
    WAL (a write, which a read-only file refused: "attempt to write a readonly database")."""
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    build_fleet(url).dispose()
    with sqlite3.connect(tmp_path / "fleet.db") as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    code, _, err = report(url, "model", "--json")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "fleet.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv, to read as another user")
def test_a_database_in_a_folder_the_user_cannot_write(request: pytest.FixtureRequest) -> None:
    """As a user who may read the database but not write its folder: a file in rollback
    mode is read; a WAL file cannot be (SQLite writes its -wal and -shm beside it even to
    read), and the error says why and what to do instead of "attempt to write a readonly
    database" alone."""
    root = Path(__file__).resolve().parents[1]
    outer = Path(tempfile.mkdtemp(prefix="oc-readonly-"))  # (pytest's tmp_path is root's)
    folder = outer / "ro"
    folder.mkdir()
    db = folder / "fleet.db"
    build_fleet(f"sqlite:///{db}").dispose()
    os.chmod(db, 0o644)
    for path in (outer, folder):
        os.chmod(path, 0o755)
    request.addfinalizer(lambda: shutil.rmtree(outer))

    def as_nobody() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               sys.executable, str(root / "session_parser.py"), "report",
                               "model", "--db", str(db)], capture_output=True, text=True,
                              timeout=120, cwd="/", env={"PATH": "/usr/bin:/bin"})

    walled = as_nobody()
    assert walled.returncode == EXIT_NOINPUT
    assert f"this user cannot write to {folder}" in walled.stderr, walled.stderr
    assert "Traceback" not in walled.stderr
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    read_only = as_nobody()
    assert read_only.returncode == 0, read_only.stderr
    assert "Total" in read_only.stdout
