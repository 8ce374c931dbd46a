"""Alert rules: every severity boundary, TOML validation, windows, and `alerts.py`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from telemetry_db import build, call, session, today_before

from openclaw_telemetry import rulesfile
from openclaw_telemetry.alert_check import active_alerts, alert_history, alert_summary
from openclaw_telemetry.alert_cli import exit_code, main
from openclaw_telemetry.alerting import (
    DEFAULT_RULES,
    SESSION_METRICS,
    Alert,
    Metric,
    Rule,
    Severity,
    evaluate,
    format_value,
    load_rules,
    parse_rules,
    parse_window,
)
from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.timeframe import to_utc, zone

ROOT = Path(__file__).resolve().parents[1]
THREE = ((Severity.INFO, 1.0), (Severity.WARNING, 2.0), (Severity.CRITICAL, 3.0))


def observations(*values: float, calls: int = 100) -> pd.DataFrame:
    return pd.DataFrame({"subject": [f"s{i}" for i in range(len(values))],
                         "label": [f"session {i}" for i in range(len(values))],
                         "at": [datetime(2026, 1, 1)] * len(values), "value": list(values),
                         "calls": [calls] * len(values)})


@pytest.mark.parametrize(("value", "expected"), [
    (0.0, None), (1.0, None), (1.0000001, Severity.INFO), (2.0, Severity.INFO),
    (2.0000001, Severity.WARNING), (3.0, Severity.WARNING), (3.0000001, Severity.CRITICAL),
    (1e9, Severity.CRITICAL)])
def test_every_severity_boundary_is_strictly_over(value: float, expected: Severity | None
                                                  ) -> None:
    rule = Rule("r", Metric.SESSION_COST, THREE)
    fired = evaluate(rule, observations(value))
    assert [a.severity for a in fired] == ([] if expected is None else [expected])


@pytest.mark.parametrize(("metric", "value", "expected"), [
    (Metric.SESSION_COST, 1.0, None), (Metric.SESSION_COST, 1.01, Severity.WARNING),
    (Metric.SESSION_COST, 5.01, Severity.CRITICAL),
    (Metric.SESSION_TOKENS, 100_000, None), (Metric.SESSION_TOKENS, 100_001, Severity.INFO),
    (Metric.SESSION_TOKENS, 1_000_001, Severity.WARNING),
    (Metric.DAILY_COST, 10.0, None), (Metric.DAILY_COST, 10.01, Severity.WARNING),
    (Metric.DAILY_COST, 25.01, Severity.CRITICAL),
    (Metric.ERROR_RATE, 0.05, None), (Metric.ERROR_RATE, 0.051, Severity.INFO),
    (Metric.ERROR_RATE, 0.11, Severity.WARNING), (Metric.ERROR_RATE, 0.26, Severity.CRITICAL)])
def test_default_rules(metric: Metric, value: float, expected: Severity | None) -> None:
    rule = next(r for r in DEFAULT_RULES if r.metric is metric)
    fired = evaluate(rule, observations(value))
    assert [a.severity for a in fired] == ([] if expected is None else [expected])


def test_only_some_severities_and_min_calls() -> None:
    rule = Rule("r", Metric.ERROR_RATE, ((Severity.CRITICAL, 0.5),), min_calls=10)
    assert evaluate(rule, observations(0.9, calls=9)) == []
    assert [a.severity for a in evaluate(rule, observations(0.9, calls=10))] == [
        Severity.CRITICAL]
    assert evaluate(rule, observations(0.5, calls=10)) == []


def test_alerts_sorted_and_described() -> None:
    fired = evaluate(Rule("Costly", Metric.SESSION_COST, THREE), observations(1.5, 9.0, 2.5))
    assert [a.severity for a in fired] == [Severity.CRITICAL, Severity.WARNING, Severity.INFO]
    assert fired[0].message == "Costly: session 1 at $9.00 in the last 24 h (over $3.00)"
    assert exit_code(fired) == 2
    assert exit_code([a for a in fired if a.severity is not Severity.CRITICAL]) == 1
    assert exit_code([fired[-1]]) == 0
    assert exit_code([]) == 0


def test_values_read_as_on_the_dashboards() -> None:
    """Messages printed "$0.4403 (over $0.1000)" and budgets "$0.0000 of $10.00" where the
    dashboards show "$0.44" and "$0.00": one money formatter now (`ui.format`)."""
    rule = Rule("Pricey", Metric.SESSION_COST, ((Severity.WARNING, 0.1),))
    (alert,) = evaluate(rule, observations(0.4403))
    assert alert.message == "Pricey: session 0 at $0.44 in the last 24 h (over $0.10)"
    (tiny,) = evaluate(Rule("Tiny", Metric.SESSION_COST, ((Severity.INFO, 0.0),)),
                       observations(0.0012))
    assert tiny.message == "Tiny: session 0 at $0.0012 in the last 24 h (over $0.00)"  # never "$0.00"
    assert format_value(Metric.ERROR_RATE, 0.0004) == "<0.1%"
    assert format_value(Metric.SESSION_TOKENS, 1234567) == "1,234,567 tokens"


GOOD = """
[[rule]]
name = "Big session"
metric = "session_cost"
window = "6h"
warning = 0.5
critical = 2
agents = ["main"]
kinds = "cron"

[[rule]]
name = "Flaky"
metric = "error_rate"
window = "15m"
info = 0.1
min_calls = 3

[[rule]]
name = "Off"
metric = "cost"
warning = 1
enabled = false
"""


def test_parse_rules() -> None:
    big, flaky = parse_rules(GOOD)
    assert big.thresholds == ((Severity.WARNING, 0.5), (Severity.CRITICAL, 2.0))
    assert (big.window, big.agents, big.kinds) == (timedelta(hours=6), ("main",), ("cron",))
    assert (flaky.window, flaky.min_calls) == (timedelta(minutes=15), 3)
    assert parse_rules("") == DEFAULT_RULES


@pytest.mark.parametrize(("text", "message"), [
    ("[[rule]\n", "not valid TOML"),
    ("[[rule]]\nmetric = 'cost'\nwarning = 1", "name is required"),
    ("[[rule]]\nname = 'x'\nmetric = 'money'\nwarning = 1", "metric must be one of"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'", "at least one threshold"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = 2\ncritical = 1", "must increase"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = -1", "0 or more"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = true", "must be a number"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = nan", "must be a number of 0 or more"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\ncritical = inf", "must be a number of 0 or more"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = 1\nwindow = '2 weeks'", "window must"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = 1\ncolour = 'red'", "unknown key"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = 1\nagents = [1]", "list of strings"),
    ("[[rule]]\nname = 'x'\nmetric = 'cost'\nwarning = 1\n[[rule]]\nname = 'x'\n"
     "metric = 'cost'\nwarning = 2", "two rules are named"),
    ("rules = 1", "unknown top-level key"),
])
def test_bad_rules_are_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_rules(text, "alerts.toml")
    assert "\n" not in str(caught.value).strip() or "TOML" in str(caught.value)


def test_load_rules_file(tmp_path: Path) -> None:
    assert load_rules(None) == DEFAULT_RULES
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "missing.toml")
    (tmp_path / "a.toml").write_text(GOOD)
    assert len(load_rules(tmp_path / "a.toml")) == 2
    assert parse_window("1d", "x") == timedelta(days=1)


def test_example_file_is_valid() -> None:
    rules = load_rules(ROOT / "alerts.example.toml")
    assert {r.metric for r in rules} >= {Metric.SESSION_COST, Metric.SESSION_TOKENS,
                                        Metric.DAILY_COST, Metric.ERROR_RATE}


def test_daily_window_starts_at_local_midnight() -> None:
    rule = Rule("d", Metric.DAILY_COST, ((Severity.WARNING, 1.0),), timedelta(days=1))
    now = datetime(2026, 1, 10, 20, 0, tzinfo=UTC)
    assert rule.since(now, zone("Asia/Kolkata")) == datetime(2026, 1, 10, 18, 30)
    assert rule.since(now, zone("America/New_York")) == datetime(2026, 1, 10, 5, 0)
    hourly = Rule("h", Metric.COST, ((Severity.WARNING, 1.0),), timedelta(hours=1))
    assert hourly.since(now, zone("UTC")) == datetime(2026, 1, 10, 19, 0)


def _db(tmp_path: Path) -> str:
    now = datetime.now(UTC).replace(tzinfo=None)
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    calls = [call("big", now - timedelta(minutes=30), 6.0),
             call("small", now - timedelta(minutes=20), 0.2),
             call("old", now - timedelta(days=3), 2.0)]
    build(url, [session("big"), session("small"), session("old")], calls).dispose()
    return url


def test_active_and_history(tmp_path: Path) -> None:
    from openclaw_telemetry.store import make_engine
    engine = make_engine(_db(tmp_path), create=False)
    now = datetime.now(UTC)
    rules = (Rule("Costly", Metric.SESSION_COST, ((Severity.WARNING, 1.0),
                                                  (Severity.CRITICAL, 5.0))),)
    active = active_alerts(engine, rules, now=now, tz=zone("UTC"))
    assert [(a.subject, a.severity) for a in active] == [("big", Severity.CRITICAL)]
    history = alert_history(engine, rules, since=None, now=now, tz=zone("UTC"))
    assert [a.subject for a in history] == ["big", "old"]
    assert all(isinstance(a, Alert) for a in history)
    earlier = to_utc(now) - timedelta(days=1)  # a range that ended a day ago
    assert [a.subject for a in alert_history(engine, rules, since=None, until=earlier,
                                             now=now, tz=zone("UTC"))] == ["old"]
    daily = (Rule("Daily", Metric.DAILY_COST, ((Severity.WARNING, 1.0),)),)
    assert [a.value for a in alert_history(engine, daily, since=None, until=earlier, now=now,
                                           tz=zone("UTC"))] == [2.0]
    # what the Alerts page caches: the latest few, the count, per day, the first
    summary = alert_summary(engine, rules, since=None, now=now, tz=zone("UTC"), limit=1)
    assert ([a.subject for a in summary.latest], summary.fired) == (["big"], 2)
    assert summary.per_day["alerts"].sum() == 2 and len(summary.per_day) == 2
    assert summary.first == min(a.at for a in history)
    none = alert_summary(engine, rules, since=None, until=earlier - timedelta(days=9),
                         now=now, tz=zone("UTC"))
    assert (none.latest, none.fired, none.first, none.per_day.empty) == ([], 0, None, True)


def test_alerts_honour_the_sidebar_filters(tmp_path: Path) -> None:
    """#11 defect 6: with agent `ops` chosen the page still listed other agents' alerts."""
    from openclaw_telemetry.read import Scope
    from openclaw_telemetry.store import make_engine
    now = datetime.now(UTC)
    url = f"sqlite:///{tmp_path / 'agents.db'}"
    build(url, [session("a", agent_id="main"), session("b", agent_id="ops")],
          [call("a", today_before(now, timedelta(minutes=30)), 6.0, agent_id="main"),
           call("b", today_before(now, timedelta(minutes=20)), 7.0, agent_id="ops")]).dispose()
    engine = make_engine(url, create=False)
    costly = Rule("Costly", Metric.SESSION_COST, ((Severity.WARNING, 1.0),))
    daily = Rule("Daily", Metric.DAILY_COST, ((Severity.WARNING, 1.0),))
    only_main = Rule("Main", Metric.SESSION_COST, ((Severity.WARNING, 1.0),), agents=("main",))
    ops = Scope(agents=("ops",))
    for find in (lambda r: active_alerts(engine, r, now=now, tz=zone("UTC"), within=ops),
                 lambda r: alert_history(engine, r, since=None, now=now, tz=zone("UTC"),
                                         within=ops)):
        assert [a.subject for a in find((costly,))] == ["b"]
        assert [a.value for a in find((daily,))] == [7.0]
        assert find((only_main,)) == []  # the rule's agent and the sidebar's: nothing
    engine.dispose()


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _db(tmp_path).removeprefix("sqlite:///")
    assert main(["--db", db]) == 2
    assert "CRITICAL" in capsys.readouterr().out
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\nname = 'w'\nmetric = 'session_cost'\nwarning = 1\n")
    assert main(["--db", db, "--alerts", str(rules), "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert [a["severity"] for a in payload["alerts"]] == ["warning"]
    assert payload["budgets"] == []
    rules.write_text("[[rule]]\nname = 'q'\nmetric = 'session_cost'\nwarning = 100\n")
    assert main(["--db", db, "--alerts", str(rules)]) == 0
    assert capsys.readouterr().out.strip() == "No alert rule fires."
    assert main(["--db", db, "--notify", "--test-notify"]) == 64  # one or the other
    assert "not allowed with argument" in capsys.readouterr().err


def test_whole_window_alerts_name_their_span_and_times_their_zone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rule over its whole window printed "w: window at $6.00": the placeholder subject.
    It reads "last 7 d"; `at` in --json was naive UTC beside budgets' "+00:00"."""
    db = _db(tmp_path).removeprefix("sqlite:///")
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\nname = 'w'\nmetric = 'cost'\nwindow = '7d'\nwarning = 1\n")
    assert main(["--db", db, "--alerts", str(rules), "--json"]) == 1
    (alert,) = json.loads(capsys.readouterr().out)["alerts"]
    assert alert["message"].startswith("w: last 7 d at $")
    assert alert["subject"] == "window"  # (its identity: episodes already sent stay sent)
    assert datetime.fromisoformat(alert["at"]).utcoffset() == timedelta(0)


@pytest.mark.parametrize(("metric", "window"), [("cost", "30d"), ("error_rate", "1h")])
def test_an_alert_over_a_rules_window_is_at_its_last_call(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], metric: str, window: str) -> None:
    """"at" of a whole-window alert was the start of its window, a moment no call was made
    (the start of a 30-day window a month ago); a session alert is at its last call."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    last = now - timedelta(minutes=7)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    build(url, [session("a"), session("b")],
          [call("a", now - timedelta(minutes=40), 2.0, is_error=True),
           call("b", last, 1.0, is_error=True)]).dispose()
    rules = tmp_path / "rules.toml"
    extra = "min_calls = 1\n" if metric == "error_rate" else ""
    rules.write_text(f"[[rule]]\nname = 'w'\nmetric = '{metric}'\nwindow = '{window}'\n"
                     f"warning = 0.5\n{extra}")
    assert main(["--db", url.removeprefix("sqlite:///"), "--alerts", str(rules),
                 "--json"]) == 1
    (alert,) = json.loads(capsys.readouterr().out)["alerts"]
    assert alert["subject"] == "window"
    assert datetime.fromisoformat(alert["at"]) == last.replace(tzinfo=UTC)


def test_names_the_database_has_never_seen_are_warned_about(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in a budget's gateway would read $0 forever: said on stderr, exit code as
    ever; the built-in rules name nothing."""
    db = _db(tmp_path).removeprefix("sqlite:///")
    main(["--db", db])
    assert "warning" not in capsys.readouterr().err
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\nname = 'r'\nmetric = 'session_cost'\nwarning = 100\n"
                     "agents = ['nobody']\n"
                     "[[budget]]\nname = 'B'\namount = 1000\ngateway = 'nope'\n")
    assert main(["--db", db, "--alerts", str(rules)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("alerts.py: warning: ") for line in err)
    assert "rule 'r': no agent 'nobody' in the database (known: " in err[0]
    assert "budget 'B': no gateway 'nope' in the database" in err[1]


def test_a_cron_job_the_database_has_never_seen_is_warned_about(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A budget's cron_jobs match a job's id or name: one matching neither counted nothing,
    without a word (the README's own example `cron_jobs = ["nightly-digest"]`)."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    now = datetime.now(UTC).replace(tzinfo=None)
    build(url, [session("c1", kind="cron", cron_job_id="job-1", cron_job_name="digest")],
          [call("c1", now - timedelta(minutes=5), 0.5)]).dispose()
    rules = tmp_path / "rules.toml"
    for known in ("job-1", "digest"):
        rules.write_text(f"[[budget]]\nname = 'B'\namount = 10\ncron_jobs = ['{known}']\n")
        main(["--db", url.removeprefix("sqlite:///"), "--alerts", str(rules)])
        assert "warning" not in capsys.readouterr().err
    rules.write_text("[[budget]]\nname = 'B'\namount = 10\ncron_jobs = ['nightly-digest']\n")
    main(["--db", url.removeprefix("sqlite:///"), "--alerts", str(rules)])
    (line,) = capsys.readouterr().err.splitlines()
    assert "budget 'B': no cron job 'nightly-digest' in the database (known: digest, or a job's id)" \
        in line


def test_a_listed_cron_job_that_has_not_run_yet_is_no_typo(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A job in OpenClaw's cron/jobs.json (where the README says to take ids from) without a
    run yet was warned about as "no cron job 'repo-watch' in the database … it counts
    nothing until the database holds one", by its name and by its id: it is in the database, and counts
    from its first run. A name matching no job still warns, listing names before ids."""
    from conftest import ingest
    from entries import assistant, header, state_dir, write
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    write(state_dir(tmp_path), "s1.jsonl", header("s1", now_ms - 60_000),
          assistant(now_ms - 30_000, cost=0.5, response_id="r1"))
    cron = tmp_path / "state" / "cron"
    cron.mkdir()
    cron.joinpath("jobs.json").write_text(json.dumps({"version": 1, "jobs": [
        {"id": "78461b8d-133b-4996", "name": "repo-watch", "agentId": "main",
         "enabled": True, "schedule": {"kind": "cron", "expr": "0 * * * *"}}]}))
    db = tmp_path / "jobs.db"
    assert ingest(tmp_path / "state", str(db)).code == 0
    rules = tmp_path / "rules.toml"
    for job in ("repo-watch", "78461b8d-133b-4996", "repo-wtach"):
        rules.write_text(f"[[rule]]\nname = 'q'\nmetric = 'cost'\nwarning = 100\n"
                         f"[[budget]]\nname = 'Repo'\namount = 1\ncron_jobs = ['{job}']\n")
        assert main(["--db", str(db), "--alerts", str(rules)]) == 0
        err = capsys.readouterr().err
        if job != "repo-wtach":
            assert "warning" not in err, job
    assert err.splitlines() == [
        "alerts.py: warning: budget 'Repo': no cron job 'repo-wtach' in the database (known: "
        "repo-watch, or a job's id); it counts nothing until the database holds one"]


def test_a_cron_job_listed_later_changes_the_data_the_dashboards_cache(
        tmp_path: Path) -> None:
    """A job added to cron/jobs.json between two runs, with no call of its own yet, is new
    data: the run that learns it counts as changing the database (`data_version`, which
    every cached dashboard answer is keyed on), so the Budgets page no longer warns that
    a budget naming it names no job. A run that learns nothing new changes nothing."""
    from conftest import ingest
    from entries import assistant, header, state_dir, write

    from openclaw_telemetry.read.status import data_version, known_names
    from openclaw_telemetry.store import make_engine
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    write(state_dir(tmp_path), "s1.jsonl", header("s1", now_ms - 60_000),
          assistant(now_ms - 30_000, cost=0.5, response_id="r1"))
    cron = tmp_path / "state" / "cron"
    cron.mkdir()
    job = {"agentId": "main", "enabled": True, "schedule": {"kind": "cron", "expr": "0 * * * *"}}
    listed = [{"id": "j1", "name": "repo-watch", **job}]
    cron.joinpath("jobs.json").write_text(json.dumps({"version": 1, "jobs": listed}))
    db = tmp_path / "jobs.db"
    assert ingest(tmp_path / "state", str(db)).code == 0
    engine = make_engine(f"sqlite:///{db}", create=False, reader=True)
    try:
        before = data_version(engine)
        listed.append({"id": "j2", "name": "inbox-triage", **job})
        cron.joinpath("jobs.json").write_text(json.dumps({"version": 1, "jobs": listed}))
        ran = ingest(tmp_path / "state", str(db), "--json")
        assert ran.code == 0 and json.loads(ran.out)["cron_jobs_learned"] == 1
        assert data_version(engine) > before
        assert ("cron job", "inbox-triage") in known_names(engine)
        after = data_version(engine)
        assert ingest(tmp_path / "state", str(db)).code == 0
        assert data_version(engine) == after
    finally:
        engine.dispose()


def test_a_file_of_budgets_has_the_built_in_rules_unless_it_says_rule_is_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A rules file without [[rule]] tables has the built-in rules (as every key left out
    has its default), delivered like any other: documented, and `rule = []` says "no alert
    rules", for a file of budgets only."""
    db = _db(tmp_path).removeprefix("sqlite:///")  # a $6 session: Expensive session fires
    rules = tmp_path / "rules.toml"
    budget = "[[budget]]\nname = 'B'\namount = 1000\n"
    rules.write_text(budget)
    assert rulesfile.load(str(rules), env={}).rules == DEFAULT_RULES
    assert main(["--db", db, "--alerts", str(rules), "--json"]) == 2
    assert "Expensive session" in {a["rule"] for a in json.loads(capsys.readouterr().out)
                                   ["alerts"]}
    rules.write_text("rule = []\n" + budget)
    config = rulesfile.load(str(rules), env={})
    assert (config.rules, [b.name for b in config.budgets]) == ((), ["B"])
    assert main(["--db", db, "--alerts", str(rules), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["alerts"] == [] and [b["name"] for b in payload["budgets"]] == ["B"]
    assert parse_rules("") == DEFAULT_RULES  # (no file at all: the built-in rules)
    with pytest.raises(ConfigError, match="rules are written as"):
        parse_rules("rule = 1\n")


@pytest.mark.parametrize("table", ["rule", "budget"])
def test_a_session_kind_that_does_not_exist_is_refused(table: str) -> None:
    """kinds is a fixed vocabulary: `kinds = ["crom"]` can never match, and counted $0."""
    from openclaw_telemetry.model import SESSION_KINDS
    from openclaw_telemetry.ui.filters import KIND_LABELS
    assert tuple(KIND_LABELS) == SESSION_KINDS  # (the Kind filter names each of them)
    extra = "metric = 'cost'\nwarning = 1\n" if table == "rule" else "amount = 1\n"
    with pytest.raises(ConfigError, match="kinds: 'crom' is not a session kind "
                                          r"\(main, direct, group, "):
        rulesfile.parse(f"[[{table}]]\nname = 'x'\n{extra}kinds = ['cron', 'crom']\n",
                        "rules.toml", {})


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--nope"], 64, "unrecognized arguments"),
    (["--tz", "Mars/Olympus"], 64, "unknown time zone"),
    (["--alerts", "missing.toml"], 64, "not found"),
    (["--db", "missing.db"], 66, ".venv/bin/python session_parser.py --db missing.db"),
])
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], code: int, message: str
                                 ) -> None:
    ran = subprocess.run([sys.executable, str(ROOT / "alerts.py"), *args], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert ran.returncode == code
    assert message in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert "Traceback" not in ran.stderr


def test_unknown_tz_variable_is_warned_about(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = _db(tmp_path).removeprefix("sqlite:///")
    monkeypatch.setenv("TZ", "Garbage/Zone")
    main(["--db", db])
    assert ("alerts.py: warning: TZ='Garbage/Zone' is not a known time zone; 'today' is the "
            "UTC day") in capsys.readouterr().err


def test_cli_help() -> None:
    ran = subprocess.run([sys.executable, str(ROOT / "alerts.py"), "--help"],
                         capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0
    assert "2 a critical" in ran.stdout


def test_history_and_summary_are_the_rules_evaluated_one_by_one(tmp_path: Path) -> None:
    """The history is counted on rows and only the latest alerts become objects: the same
    alerts, in the same order (latest first; of one moment, each rule's own order), as
    every rule evaluated one by one, on two gateways, with ties in time and in value."""
    from dataclasses import replace as with_

    from openclaw_telemetry import alert_check
    from openclaw_telemetry.read import Scope
    from openclaw_telemetry.store import make_engine
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    base = datetime(2026, 3, 1, 8, 0)
    sessions_, calls = [], []
    for n in range(40):
        gateway = "a" if n % 3 else "b"
        sid = f"s{n:02d}"
        at = base + timedelta(hours=5 * (n // 4))  # four sessions end at each moment
        sessions_.append(session(sid, gateway=gateway))
        calls.append(call(sid, at, cost=float(1 + n % 5), gateway=gateway,
                          is_error=n % 7 == 0, input_tokens=1000 * (n % 6)))
    url = f"sqlite:///{tmp_path / 'many.db'}"
    build(url, sessions_, calls).dispose()
    rules = (Rule("Costly", Metric.SESSION_COST, THREE),
             Rule("Heavy", Metric.SESSION_TOKENS, ((Severity.WARNING, 2000.0),)),
             Rule("Daily", Metric.DAILY_COST, ((Severity.INFO, 3.0), (Severity.CRITICAL, 9.0))),
             Rule("Hourly", Metric.COST, ((Severity.WARNING, 2.5),), timedelta(hours=1)),
             Rule("Errors", Metric.ERROR_RATE, ((Severity.WARNING, 0.1),), timedelta(hours=1)))
    engine = make_engine(url, create=False)
    try:
        for since, tz in ((None, zone("UTC")), (datetime(2026, 3, 3), zone("Europe/Berlin"))):
            expected: list[Alert] = []
            for rule in rules:
                scope = alert_check.rule_scope(rule, since, to_utc(now))
                assert scope is not None
                for gateway, part in alert_check.per_gateway(rule, scope, ["a", "b"]):
                    frame = alert_check._history_frame(engine, rule, part, tz)
                    expected += evaluate(rule, frame, gateway)
            expected.sort(key=lambda a: a.at, reverse=True)
            assert len(expected) > 10
            history = alert_history(engine, rules, since=since, now=now, tz=tz)
            assert history == expected
            for limit in (1, 7, 1000):
                summary = alert_summary(engine, rules, since=since, now=now, tz=tz,
                                        within=Scope(), limit=limit)
                assert summary.latest == expected[:limit]
                assert summary.fired == len(expected)
                assert summary.first == min(a.at for a in expected)
                assert summary.per_day["alerts"].sum() == len(expected)
        assert all(with_(a, gateway="") != a for a in history if a.metric in SESSION_METRICS)
    finally:
        engine.dispose()
