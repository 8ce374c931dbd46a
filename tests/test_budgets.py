"""Budgets: the rules file's [[budget]] tables, calendar periods, the forecast, the read
layer's budget questions and `alerts.py --json` / exit codes with budgets."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from telemetry_db import build, call, session

from openclaw_telemetry import read, rulesfile
from openclaw_telemetry.alert_cli import main
from openclaw_telemetry.alerting import DEFAULT_RULES, Severity
from openclaw_telemetry.budgets import Budget, Period, period_days, severity_of
from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.forecast import project
from openclaw_telemetry.read import Scope
from openclaw_telemetry.timeframe import zone

ROOT = Path(__file__).resolve().parents[1]
BERLIN = zone("Europe/Berlin")


def test_rules_file_with_budgets_and_notify() -> None:
    config = rulesfile.parse("""
notify = ["json://127.0.0.1:9/x"]
notify_repeat = "2h"
[[budget]]
name = "Monthly"
amount = 50
[[budget]]
name = "Cron"
period = "week"
amount = 5
notify_at = [1.0, 0.9]
cron_jobs = ["nightly"]
agents = "main"
""", "t.toml", env={})
    assert config.rules == DEFAULT_RULES
    monthly, cron = config.budgets
    assert (monthly.period, monthly.amount, monthly.notify_at) == (Period.MONTH, 50.0,
                                                                  (0.5, 0.8, 1.0))
    assert (cron.period, cron.notify_at, cron.cron_jobs, cron.agents) == (
        Period.WEEK, (0.9, 1.0), ("nightly",), ("main",))
    assert config.notify == ("json://127.0.0.1:9/x",)
    assert config.repeat == timedelta(hours=2)
    assert "json://" not in repr(config)  # URLs are secrets
    env = {"OPENCLAW_TELEMETRY_NOTIFY": "ntfy://a/b mailto://u:p@h"}
    assert rulesfile.parse("", "t", env=env).notify == ("ntfy://a/b", "mailto://u:p@h")


@pytest.mark.parametrize(("text", "message"), [
    ("[[budget]]\nname = 'B'\n", "budget 1 (B): amount must be a number over 0"),
    ("[[budget]]\nname = 'B'\namount = inf\n", "amount must be a number over 0, not inf"),
    ("[[budget]]\nname = 'B'\namount = nan\n", "amount must be a number over 0, not nan"),
    ("[[budget]]\nname = 'B'\namount = 5\nperiod = 'year'\n", "budget 1 (B): period must be"),
    ("[[budget]]\nname = 'B'\namount = 5\nnotify_at = [0]\n", "budget 1 (B): notify_at"),
    ("[[budget]]\nname = 'B'\namount = 5\nmonth_start_day = 31\n", "(B): month_start_day"),
    ("[[budget]]\nname = 'B'\namount = 5\nperiod = 'day'\nmonth_start_day = 3\n",
     "month_start_day applies to period = 'month' only"),
    ("[[budget]]\nname = 'B'\namount = 5\ncolour = 1\n", "(B): unknown key 'colour'"),
    ("[[budget]]\namount = 5\n", "budget 1: name is required"),
    ("[[budget]]\nname = 'B'\namount = 1\n[[budget]]\nname = 'B'\namount = 2\n",
     "two budgets are named 'B'"),
    ("notify = 'x'\nnotify_repeat = 'soon'\n", "notify_repeat: window must look like"),
    ("notify = [1]\n", "notify must be a list of Apprise URLs"),
    ("notify_min_severity = 'loud'\n", "notify_min_severity must be"),
    ("dashboard_url = 'telemetry.local:8501'\n", "dashboard_url must be the address"),
    ("dashboard_url = 8501\n", "dashboard_url must be the address"),
    ("dashboard_url = 'https://t.example/?view=sessions'\n", "without a query"),
    ("dashboard_url = 'https://t.example/oc x'\n", "dashboard_url must be the address"),
])
def test_bad_budgets_name_the_budget_and_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        rulesfile.parse(text, "t.toml", env={})
    assert message in str(caught.value)


MISTAKES = ("notify_min_severity = 'loud'\nnotify_repeat = 'soon'\n"
            "dashboard_url = 'telemetry.local'\n"
            "[[rule]]\nname = 'a'\nmetric = 'cost'\nwindow = '1x'\nwarning = 1\n"
            "[[rule]]\nname = 'fine'\nmetric = 'cost'\nwarning = 1\n"
            "[[rule]]\nname = 'c'\nmetric = 'nonsense'\nwarning = 1\n"
            "[[budget]]\nname = 'Fine'\namount = 5\n"
            "[[budget]]\nname = 'M'\namount = -3\n")
MISTAKE_LINES = [
    "t.toml: notify_repeat: window must look like '15m', '1h' or '7d', not 'soon'",
    "t.toml: notify_min_severity must be info, warning or critical",
    "t.toml: dashboard_url must be the address you open the dashboard at",
    "t.toml: rule 1 (a): window must look like '15m', '1h' or '7d', not '1x'",
    "t.toml: rule 3 (c): metric must be one of",
    "t.toml: budget 2 (M): amount must be a number over 0, not -3",
]


def test_every_mistake_of_a_rules_file_is_told_at_once() -> None:
    """A line per mistake, the top-level keys first (a TOML file writes them first), then
    the tables in the file's order: fixing one a run, a user would meet the next only on
    the run after."""
    with pytest.raises(ConfigError) as caught:
        rulesfile.parse(MISTAKES, "t.toml", env={})
    lines = str(caught.value).splitlines()
    assert len(lines) == len(MISTAKE_LINES)
    assert all(line.startswith(start) for line, start in zip(lines, MISTAKE_LINES, strict=True))


def test_every_mistake_of_one_table_is_told_at_once() -> None:
    text = ("[[budget]]\nname = 'x'\nperiod = 'fortnight'\namount = -1\nbogus = 1\nzz = 2\n"
            "[[rule]]\nname = 'r'\nmetric = 'cost'\nwindow = '2x'\nwarning = 5\ninfo = 9\n"
            "kinds = ['nope']\n[[rule]]\nmetric = 'cost'\nwarning = 1\nenabled = false\n")
    with pytest.raises(ConfigError) as caught:
        rulesfile.parse(text, "t.toml", env={})
    assert [line.split(": ", 2)[1:] for line in caught.value.lines] == [
        ["budget 1 (x)", "unknown keys 'bogus', 'zz' (known: agents, amount, cron_jobs, "
                         "description, enabled, gateway, kinds, models, month_start_day, name, "
                         "notify_at, period)"],
        ["budget 1 (x)", "period must be one of day, week, month, not 'fortnight'"],
        ["budget 1 (x)", "amount must be a number over 0, not -1"],
        ["rule 1 (r)", "thresholds must increase from info to warning to critical"],
        ["rule 1 (r)", "window must look like '15m', '1h' or '7d', not '2x'"],
        ["rule 1 (r)", "kinds: 'nope' is not a session kind (main, direct, group, channel, "
                       "thread, cron, subagent, heartbeat, acp, hook, dashboard, unknown)"],
        ["rule 2", "name is required"]]


def test_keys_duplicates_and_switches_are_told_with_the_rest() -> None:
    """Unknown top-level keys, two tables of one name and an `enabled` that is no boolean
    are mistakes among the others, not one run each; a disabled table is checked too; the
    budgets come before the rules when the file has them first."""
    text = ("bogus = 1\nalso = 2\n"
            "[[budget]]\nname = 'B'\namount = 1\n[[budget]]\nname = 'B'\namount = 2\n"
            "[[rule]]\nname = 'off'\nmetric = 'cost'\nwarning = 1\nwindow = 'zz'\n"
            "enabled = false\n[[rule]]\nname = 's'\nmetric = 'cost'\nwarning = 1\n"
            "enabled = 'false'\n")
    with pytest.raises(ConfigError) as caught:
        rulesfile.parse(text, "t.toml", env={})
    assert caught.value.lines == [
        "t.toml: unknown top-level keys 'also', 'bogus' (known: budget, dashboard_url, "
        "notify, notify_min_severity, notify_repeat, rule)",
        "t.toml: two budgets are named 'B'",
        "t.toml: rule 1 (off): window must look like '15m', '1h' or '7d', not 'zz'",
        "t.toml: rule 2 (s): enabled must be true or false, not 'false'"]
    assert rulesfile.parse("[[rule]]\nname = 'off'\nmetric = 'cost'\nwarning = 1\n"
                           "enabled = false\n", "t.toml", env={}).rules == ()


def test_alerts_py_prints_every_mistake_of_the_rules_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "t.toml"
    rules.write_text(MISTAKES)
    assert main(["--db", str(tmp_path / "none.db"), "--alerts", str(rules)]) == 64
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(MISTAKE_LINES)
    assert all(line.startswith(f"alerts.py: error: {tmp_path}/{start}")
               for line, start in zip(err, MISTAKE_LINES, strict=True))


@pytest.mark.parametrize(("period", "today", "start_day", "expected"), [
    (Period.DAY, date(2026, 12, 31), 1, (date(2026, 12, 31), date(2027, 1, 1))),
    (Period.WEEK, date(2026, 12, 4), 1, (date(2026, 11, 30), date(2026, 12, 7))),
    (Period.MONTH, date(2026, 12, 4), 1, (date(2026, 12, 1), date(2027, 1, 1))),
    (Period.MONTH, date(2026, 12, 4), 15, (date(2026, 11, 15), date(2026, 12, 15))),
    (Period.MONTH, date(2027, 1, 3), 15, (date(2026, 12, 15), date(2027, 1, 15))),
    (Period.MONTH, date(2026, 12, 15), 15, (date(2026, 12, 15), date(2027, 1, 15))),
])
def test_calendar_periods(period: Period, today: date, start_day: int,
                          expected: tuple[date, date]) -> None:
    assert period_days(period, today, start_day) == expected


def test_thresholds_and_severities() -> None:
    budget = Budget("B", Period.MONTH, 10.0)
    assert [budget.reached(f) for f in (0.49, 0.5, 0.79, 0.8, 0.99, 1.0, 3.0)] == [
        None, 0.5, 0.5, 0.8, 0.8, 1.0, 1.0]
    assert [severity_of(f) for f in (0.5, 0.8, 1.0)] == [Severity.INFO, Severity.WARNING,
                                                       Severity.CRITICAL]


def test_forecast_pace_range_and_run_out() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    end = datetime(2027, 1, 1, tzinfo=UTC)
    now = start + timedelta(days=10)
    steady = project(spent=10.0, history=[1.0] * 10, now=now, start=start, end=end, amount=20)
    assert steady.projected == pytest.approx(31.0)
    assert steady.low == steady.high == pytest.approx(31.0)  # no spread, no range
    assert steady.runs_out == now + timedelta(days=10)
    noisy = project(spent=10.0, history=[0.0, 2.0] * 5, now=now, start=start, end=end)
    assert noisy.low < noisy.projected < noisy.high
    assert noisy.projected == pytest.approx(31.0)
    assert noisy.runs_out is None  # no amount
    young = project(spent=3.0, history=[], now=start + timedelta(hours=12), start=start,
                    end=end, amount=100)
    assert young.pace == 3.0 and young.runs_out is None  # 100 is not reached in the month
    assert project(spent=30.0, history=[1.0] * 5, now=now, start=start, end=end,
                   amount=20).runs_out == now
    assert young.low >= young.spent


def _db(url: str, now: datetime) -> str:
    """Berlin: 1 $ a day for the last 20 days of agent main, a nightly cron job of 0.5 $
    a day, and 3 $ of agent ops today."""
    naive = now.astimezone(UTC).replace(tzinfo=None)
    calls = [call("s", naive - timedelta(days=d, minutes=2), 1.0) for d in range(20)]
    calls += [call("cron", naive - timedelta(days=d, minutes=5), 0.5) for d in range(20)]
    calls += [call("o", naive - timedelta(minutes=1), 3.0, agent_id="ops")]
    build(url, [session("s"), session("cron", kind="cron", cron_job_id="j1",
                                      cron_job_name="nightly"),
                session("o", agent_id="ops")], calls).dispose()
    return url


def test_read_layer_budget_questions(db_url: str) -> None:
    """On SQLite and PostgreSQL: the questions behind budgets, the overview's month tiles
    and the Budgets page."""
    from openclaw_telemetry.store import make_engine
    now = datetime(2026, 12, 10, 12, 0, tzinfo=BERLIN)
    engine = make_engine(_db(db_url, now), create=False)
    days = read.daily_spend(engine, scope=Scope(since=datetime(2026, 12, 1),
                                                until=datetime(2026, 12, 11)), tz=BERLIN,
                            cron_jobs=("nightly",))
    assert list(days.columns) == ["day", "cost", "calls"]
    assert days["cost"].sum() == pytest.approx(0.5 * 10)
    # the same calls by kind come from the roll-up, not SQL: the same days
    kind = read.daily_spend(engine, scope=Scope(since=datetime(2026, 12, 1),
                                                until=datetime(2026, 12, 11), kinds=("cron",)),
                            tz=BERLIN)
    pd.testing.assert_frame_equal(kind, days)
    month = read.spend_outlook(engine, scope=Scope(agents=("main",)), tz=BERLIN, now=now).iloc[0]
    assert month["spent"] == pytest.approx(1.5 * 10)  # 10 days of December, main only
    assert month["start"] == pd.Timestamp("2026-12-01", tz=BERLIN)
    assert month["pace"] == pytest.approx(1.5)
    left = (month["end"] - pd.Timestamp(now)) / pd.Timedelta(days=1)
    assert month["forecast"] == pytest.approx(15 + 1.5 * left)
    budgets = (Budget("Cron", Period.MONTH, 5.0, cron_jobs=("j1",)),
               Budget("Ops today", Period.DAY, 2.0, agents=("ops",)),
               Budget("All", Period.MONTH, 1000.0))
    status = read.budget_status(engine, budgets=budgets, now=now, tz=BERLIN)
    cron, ops, everything = (row for _, row in status.iterrows())
    assert (cron["spent"], cron["reached"], cron["severity"]) == (5.0, 1.0, "critical")
    assert cron["runs_out"] == pd.Timestamp(now)
    assert (ops["spent"], ops["fraction"], ops["severity"]) == (3.0, 1.5, "critical")
    assert everything["severity"] == "" and pd.isna(everything["reached"])
    spent_by = read.budget_sessions(engine, budget=budgets[1], now=now, tz=BERLIN)
    assert list(spent_by["session_id"]) == ["o"] and list(spent_by["cost"]) == [3.0]
    assert list(read.budget_sessions(engine, budget=budgets[0], now=now, tz=BERLIN)
                ["session_id"]) == ["cron"]
    assert pd.isna(everything["runs_out"])
    engine.dispose()


def test_alerts_json_and_exit_code_with_budgets(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    db = _db(f"sqlite:///{tmp_path / 'budgets.db'}", now).removeprefix("sqlite:///")
    rules = tmp_path / "rules.toml"
    quiet = "[[rule]]\nname = 'q'\nmetric = 'session_cost'\nwarning = 1000\n"
    rules.write_text(quiet + "[[budget]]\nname = 'Ops'\nperiod = 'day'\namount = 3.5\n"
                     "agents = ['ops']\n")
    assert main(["--db", db, "--alerts", str(rules), "--json", "--tz", "UTC"]) == 1  # 86 %
    payload = json.loads(capsys.readouterr().out)
    assert payload["alerts"] == []
    (ops,) = payload["budgets"]
    assert (ops["name"], ops["spent"], ops["amount"], ops["reached"], ops["severity"]) == (
        "Ops", 3.0, 3.5, 0.8, "warning")
    assert set(ops["forecast"]) == {"projected", "p10", "p90", "pace_per_day", "runs_out"}
    assert payload["month"]["spent"] > 3.0
    rules.write_text(quiet + "[[budget]]\nname = 'Ops'\nperiod = 'day'\namount = 3\n"
                     "agents = ['ops']\n")
    assert main(["--db", db, "--alerts", str(rules), "--tz", "UTC"]) == 2  # at 100 %
    out = capsys.readouterr().out
    assert "BUDGET   Ops: $3.00 of $3.00 (100%) today" in out and "used up" in out
    assert "MONTH" in out


@pytest.mark.parametrize(("period", "start", "end", "words", "last"), [
    ("month", "2026-12-01", "2027-01-01", "this month", "2026-12-31"),
    ("month", "2026-11-24", "2026-12-24", "in the cycle from 2026-11-24", "2026-12-23"),
    ("week", "2026-11-30", "2026-12-07", "this week", "2026-12-06"),
    ("day", "2026-12-04", "2026-12-05", "today", "2026-12-04"),
])
def test_a_budget_line_names_its_period_and_the_last_day_of_the_forecast(
        period: str, start: str, end: str, words: str, last: str) -> None:
    """`end` is the first moment after the period: the forecast runs to the day before."""
    from openclaw_telemetry.budget_report import budget_line
    row = pd.Series({"budget": "B", "period": period, "spent": 41.0, "amount": 50.0,
                     "fraction": 0.82, "forecast": 60.0, "forecast_low": 55.0,
                     "forecast_high": 70.0, "runs_out": pd.NaT,
                     "start": pd.Timestamp(start, tz="Europe/Berlin"),
                     "end": pd.Timestamp(end, tz="Europe/Berlin")})
    assert budget_line(row) == (f"B: $41.00 of $50.00 (82%) {words}; forecast $60.00 "
                                f"($55.00–$70.00) by the end of {last}")


def test_example_file_documents_every_field_and_its_examples_parse() -> None:
    import re

    from openclaw_telemetry.alerting import _RULE_KEYS, FILE_KEYS
    from openclaw_telemetry.budgets import _KEYS
    text = (ROOT / "alerts.example.toml").read_text()
    assert "[[rule]] tables" in text and "[[budget]] tables" in text
    for key in (*FILE_KEYS[2:], *_KEYS, *_RULE_KEYS):
        assert re.search(rf"^#\s+(\w+ / )*{key}\b", text, re.M), key
    examples = re.sub(r"^# (notify|\[\[budget|name = |period = |amount = |notify_at = "
                      r"|cron_jobs = |gateway = )", r"\1", text, flags=re.M)
    config = rulesfile.parse(examples, "alerts.example.toml", env={})
    assert [b.name for b in config.budgets] == ["Monthly", "Nightly cron", "Office host"]
    assert config.budgets[2].gateways == ("office",)
    assert len(config.notify) == 1


@pytest.mark.parametrize(("fraction", "reached", "title"), [
    (2.0, 1.0, "[OpenClaw] Budget Monthly tight at 200% (over 100%)"),
    (0.86, 0.8, "[OpenClaw] Budget Monthly tight at 86% (over 80%)"),
    (0.8, 0.8, "[OpenClaw] Budget Monthly tight at 80%"),
    (1.002, 1.0, "[OpenClaw] Budget Monthly tight at 100%"),
])
def test_a_budget_notification_is_titled_by_its_level(fraction: float, reached: float,
                                                      title: str) -> None:
    """"Budget Monthly tight at 100%" over a body saying 200 %: the title named the
    threshold crossed as if it were the level. It names the level, and the threshold when
    it reads otherwise."""
    from openclaw_telemetry.dispatch import budget_events
    row = {"budget": "Monthly tight", "period": "month", "spent": 100.0 * fraction,
           "amount": 100.0, "fraction": fraction, "forecast": 300.0, "forecast_low": 250.0,
           "forecast_high": 350.0, "runs_out": pd.NaT, "reached": reached,
           "severity": "critical" if reached >= 1 else "warning",
           "start": pd.Timestamp("2026-12-01", tz="UTC"),
           "end": pd.Timestamp("2027-01-01", tz="UTC")}
    (event,) = budget_events(pd.DataFrame([row]))
    assert event.title == title
    assert event.episode == f"budget|Monthly tight|2026-12-01|{reached:g}"  # as before
    assert f"({fraction:.0%})" in event.body
