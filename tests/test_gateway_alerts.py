"""Alert rules and budgets of a database of several gateways (issue 14): the `gateway`
filter of rules and budgets, its errors, alerts and budgets on two gateways (SQLite and
PostgreSQL), session alerts that name their gateway, and delivery episodes that stay those
of a single-gateway install."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from receivers import HttpReceiver
from sqlalchemy import Engine, select
from telemetry_db import build, call, session, today_before

from openclaw_telemetry import read, rulesfile
from openclaw_telemetry.alert_check import active_alerts, alert_history
from openclaw_telemetry.alert_cli import main
from openclaw_telemetry.alerting import Metric, Rule, Severity, parse_rules
from openclaw_telemetry.budgets import Budget, Period
from openclaw_telemetry.dispatch import alert_events, check
from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.read import Scope
from openclaw_telemetry.schema import notifications
from openclaw_telemetry.timeframe import to_utc, zone

UTC_ZONE = zone("UTC")
NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
COSTLY = Rule("Costly", Metric.SESSION_COST, ((Severity.WARNING, 1.0),
                                              (Severity.CRITICAL, 5.0)))


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


def _fleet(url: str, now: datetime) -> Engine:
    """Two gateways: `home` with a $6 session (30 minutes ago) and a $0.50 call of cron job
    `nightly`; `office` with a $2 session (20 minutes ago) and a $0.25 call of its own
    cron job also named `nightly`, in a session whose id is the home one's."""
    sessions = [session("h1", gateway="home"), session("o1", gateway="office"),
                session("job", gateway="home", kind="cron", cron_job_name="nightly"),
                session("job", gateway="office", kind="cron", cron_job_name="nightly")]
    calls = [call("h1", today_before(now, timedelta(minutes=30)), 6.0, gateway="home"),
             call("o1", today_before(now, timedelta(minutes=20)), 2.0, gateway="office"),
             call("job", today_before(now, timedelta(minutes=10)), 0.5, gateway="home"),
             call("job", today_before(now, timedelta(minutes=10)), 0.25, gateway="office")]
    return build(url, sessions, calls)


# --- the rules file ---------------------------------------------------------------------


def test_gateway_filter_of_rules_and_budgets() -> None:
    config = rulesfile.parse("""
[[rule]]
name = "One"
metric = "cost"
warning = 1
gateway = "home"
[[rule]]
name = "Two"
metric = "cost"
warning = 1
gateway = [" home ", "office", "home"]
[[rule]]
name = "All"
metric = "cost"
warning = 1
[[budget]]
name = "Office"
amount = 5
gateway = "office"
""", "t.toml", env={})
    assert [r.gateways for r in config.rules] == [("home",), ("home", "office"), ()]
    assert config.budgets[0].gateways == ("office",)


@pytest.mark.parametrize("value", [
    "5", "[]", "''", "'   '", "[1]", "['a', 2]", "{ name = 'a' }", f"'{'x' * 101}'",
    '"a\\tb"'])  # a TAB: not printable
@pytest.mark.parametrize("table", ["rule", "budget"])
def test_a_bad_gateway_is_one_clear_line(table: str, value: str) -> None:
    text = (f"[[rule]]\nname = 'R'\nmetric = 'cost'\nwarning = 1\ngateway = {value}\n"
            if table == "rule" else f"[[budget]]\nname = 'R'\namount = 1\ngateway = {value}\n")
    with pytest.raises(ConfigError) as caught:
        rulesfile.parse(text, "t.toml", env={})
    message = str(caught.value)
    assert message.startswith(f"t.toml: {table} 1 (R): ") and "gateway" in message
    assert "\n" not in message


# --- alerts -------------------------------------------------------------------------------


def test_rules_filtered_to_a_gateway_see_only_its_usage(db_url: str) -> None:
    now = NOON
    engine = _fleet(db_url, now)
    try:
        office = parse_rules("""
[[rule]]
name = "Office sessions"
metric = "session_cost"
warning = 1
gateway = "office"
[[rule]]
name = "Office today"
metric = "daily_cost"
info = 0.1
gateway = "office"
[[rule]]
name = "Home hour"
metric = "cost"
window = "1h"
info = 0.1
gateway = ["home"]
""")
        alerts = active_alerts(engine, office, now=now, tz=UTC_ZONE)
        fired = {(a.rule, a.subject, a.gateway): a.value for a in alerts}
        assert fired == {("Office sessions", "o1", "office"): 2.0,
                         ("Office today", "2026-06-10", ""): 2.25,
                         ("Home hour", "window", ""): 6.5}
        # an alert of no one session names the gateways its rule counts, in its message
        # and in alerts.py --json ("gateways"; null: every gateway)
        said = {a.rule: (a.message, a.as_dict()["gateway"], a.as_dict()["gateways"])
                for a in alerts}
        assert said["Office today"] == (
            "Office today: 2026-06-10 (gateway office) at $2.25 (over $0.10)", None,
            ["office"])
        assert said["Home hour"][1:] == (None, ["home"])
        assert said["Office sessions"][1:] == ("office", ["office"])
        assert active_alerts(engine, (COSTLY,), now=now, tz=UTC_ZONE)[0].as_dict()[
            "gateways"] is None
        # the sidebar's gateway narrows a rule's own; together they may select nothing
        only_home = Scope(gateways=("home",))
        assert active_alerts(engine, office[:2], now=now, tz=UTC_ZONE, within=only_home) == []
        everywhere = active_alerts(engine, (COSTLY,), now=now, tz=UTC_ZONE, within=only_home)
        assert [(a.subject, a.gateway) for a in everywhere] == [("h1", "home")]
        history = alert_history(engine, office[:1], since=None, now=now, tz=UTC_ZONE)
        assert [(a.subject, a.gateway, a.value) for a in history] == [("o1", "office", 2.0)]
    finally:
        engine.dispose()


def test_session_alerts_name_their_gateway_only_when_there_are_several(
        tmp_path: Path) -> None:
    now = NOON
    engine = _fleet(f"sqlite:///{tmp_path / 'fleet.db'}", now)
    alerts = active_alerts(engine, (COSTLY,), now=now, tz=UTC_ZONE)
    engine.dispose()
    assert [(a.key, a.severity) for a in alerts] == [
        ("h1@home", Severity.CRITICAL), ("o1@office", Severity.WARNING)]
    assert alerts[0].message == ("Costly: agent:main:h1 (gateway home) at $6.00 "
                                 "in the last 24 h (over $5.00)")
    assert alerts[0].as_dict()["gateway"] == "home"
    assert [e.episode for e in alert_events(alerts, Severity.INFO)] == [
        "alert|Costly|h1@home|critical", "alert|Costly|o1@office|warning"]
    engine = build(f"sqlite:///{tmp_path / 'one.db'}", [session("big")],
                   [call("big", to_utc(now) - timedelta(minutes=30), 6.0)])
    alone = active_alerts(engine, (COSTLY,), now=now, tz=UTC_ZONE)
    engine.dispose()
    assert alone[0].message == "Costly: agent:main:big at $6.00 in the last 24 h (over $5.00)"
    assert alone[0].as_dict()["gateway"] is None
    # the episode of an install with one gateway is what it was before gateways existed
    assert [e.episode for e in alert_events(alone, Severity.INFO)] == [
        "alert|Costly|big|critical"]


# --- budgets ------------------------------------------------------------------------------


def test_budgets_filtered_to_a_gateway_count_only_its_spend(db_url: str) -> None:
    now = NOON
    engine = _fleet(db_url, now)
    try:
        budgets = (Budget("Office", Period.DAY, 4.0, gateways=("office",)),
                   Budget("Home cron", Period.DAY, 1.0, cron_jobs=("nightly",),
                          gateways=("home",)),
                   Budget("Cron", Period.DAY, 1.0, cron_jobs=("nightly",)),
                   Budget("All", Period.DAY, 100.0),
                   Budget("Nowhere", Period.DAY, 1.0, gateways=("attic",)))
        status = read.budget_status(engine, budgets=budgets, now=now, tz=UTC_ZONE)
        assert dict(zip(status["budget"], status["spent"], strict=True)) == pytest.approx(
            {"Office": 2.25, "Home cron": 0.5, "Cron": 0.75, "All": 8.75, "Nowhere": 0.0})
        assert list(status["severity"]) == ["info", "info", "info", "", ""]
        spent_by = read.budget_sessions(engine, budget=budgets[0], now=now, tz=UTC_ZONE)
        assert spent_by[["session_id", "gateway", "cost"]].values.tolist() == [
            ["o1", "office", 2.0], ["job", "office", 0.25]]
        jobs = read.budget_sessions(engine, budget=budgets[2], now=now, tz=UTC_ZONE)
        assert jobs[["session_id", "gateway", "cost"]].values.tolist() == [
            ["job", "home", 0.5], ["job", "office", 0.25]]
    finally:
        engine.dispose()


# --- alerts.py and delivery ---------------------------------------------------------------


def test_alerts_command_and_delivery_on_two_gateways(
        tmp_path: Path, http: HttpReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    db = tmp_path / "fleet.db"
    _fleet(f"sqlite:///{db}", now).dispose()
    rules = tmp_path / "rules.toml"
    rules.write_text(f"""notify = ["json://127.0.0.1:{http.port}/hook"]
[[rule]]
name = "Office sessions"
metric = "session_cost"
warning = 1
gateway = "office"
[[budget]]
name = "Office"
period = "day"
amount = 2
gateway = "office"
""")
    assert main(["--db", str(db), "--alerts", str(rules), "--json", "--tz", "UTC"]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert [(a["subject"], a["gateway"]) for a in payload["alerts"]] == [("o1", "office")]
    assert [(b["name"], b["spent"]) for b in payload["budgets"]] == [("Office", 2.25)]
    assert main(["--db", str(db), "--alerts", str(rules), "--notify", "--tz", "UTC"]) == 2
    assert "WARNING  Office sessions: agent:main:o1 (gateway office) at $2.00" in \
        capsys.readouterr().out
    config = rulesfile.load(str(rules), env={})
    engine = _engine(db)
    try:
        with engine.connect() as conn:
            episodes = sorted(conn.execute(select(notifications.c.episode)).scalars())
        assert episodes == ["alert|Office sessions|o1@office|warning",
                            f"budget|Office|{now.date().isoformat()}|1"]
        assert check(engine, config, now=now, tz=UTC_ZONE, notify=True).outcomes == []
    finally:
        engine.dispose()
    assert len(http.requests) == 2


def _engine(db: Path) -> Engine:
    from openclaw_telemetry.store import make_engine
    return make_engine(f"sqlite:///{db}", create=False)
