"""Delivery through Apprise to real receivers on 127.0.0.1 (json://, ntfy://, mailto://):
once per episode and target, across runs and across two processes at once; a receiver
that is down and comes back; resolved and repeated messages; secrets kept out of the
output and the database; `--test-notify`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from receivers import HttpReceiver, SmtpReceiver
from sqlalchemy import select
from telemetry_db import build, call, session, today_before

from openclaw_telemetry import rulesfile
from openclaw_telemetry.alert_cli import main
from openclaw_telemetry.dispatch import check
from openclaw_telemetry.notify import target
from openclaw_telemetry.schema import notifications
from openclaw_telemetry.store import open_db
from openclaw_telemetry.timeframe import to_utc, zone

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3tT0ken42"
RULES = """
[[rule]]
name = "Expensive session"
metric = "session_cost"
window = "24h"
critical = 5.0

[[budget]]
name = "Daily main"
period = "day"
amount = 5
agents = ["main"]
"""


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


def _db(tmp_path: Path, now: datetime | None = None) -> str:
    """A $6 session of agent main earlier today: one critical alert, a daily budget at
    120 %."""
    at = today_before(now or datetime.now(UTC), timedelta(minutes=30))
    build(f"sqlite:///{tmp_path / 'n.db'}", [session("big")], [call("big", at, 6.0)]).dispose()
    return str(tmp_path / "n.db")


def _rules(tmp_path: Path, *urls: str, extra: str = "") -> str:
    path = tmp_path / "rules.toml"
    path.write_text(f"notify = {json.dumps(list(urls))}\n{extra}{RULES}")
    return str(path)


def _stored(db: str) -> list[dict[str, object]]:
    engine = open_db(f"sqlite:///{db}")
    with engine.connect() as conn:
        out = [dict(row._mapping) for row in conn.execute(select(notifications))]
    engine.dispose()
    return out


def test_json_ntfy_and_mail_receive_each_episode_once(
        tmp_path: Path, http: HttpReceiver, capsys: pytest.CaptureFixture[str]) -> None:
    smtp = SmtpReceiver().start()
    try:
        db = _db(tmp_path)
        rules = _rules(tmp_path, f"json://127.0.0.1:{http.port}/hook",
                       f"ntfy://127.0.0.1:{http.port}/budget-topic",
                       f"mailto://127.0.0.1:{smtp.port}?to=me@example.com&"
                       "from=openclaw@example.com&mode=insecure")
        assert main(["--db", db, "--alerts", rules, "--notify", "--tz", "UTC"]) == 2
        out = capsys.readouterr().out
        assert out.count("SENT     new") == 6  # two episodes, three targets
        hook = [json.loads(b) for b in http.bodies("/hook")]
        assert sorted(m["title"] for m in hook) == [
            "[OpenClaw] Budget Daily main at 120% (over 100%)", "[OpenClaw] CRITICAL: Expensive session"]
        assert any("$6.00 of $5.00 (120%)" in m["message"] for m in hook)
        ntfy = [r for r in http.requests if not r.path.startswith("/hook")]
        assert len(ntfy) == 2 and all("budget-topic" in r.path + r.body for r in ntfy)
        assert len(smtp.mails) == 2
        assert any("Subject: [OpenClaw] Budget Daily main at 120% (over 100%)" in m for m in smtp.mails)
        assert main(["--db", db, "--alerts", rules, "--notify", "--json", "--tz", "UTC"]) == 2
        assert json.loads(capsys.readouterr().out)["deliveries"] == []  # once only
        assert len(http.requests) == 4 and len(smtp.mails) == 2
    finally:
        smtp.stop()


def test_mail_shows_names_from_the_data_as_text_never_as_html(tmp_path: Path) -> None:
    """A session label comes from outside (a chat's title): a mail's HTML part carried it
    as markup (`<img … onerror=…>`), and its text part showed it stripped. Sent as text,
    the mail is plain text holding the label as it is."""
    import email
    from email.message import Message

    label = "<b>Pwn</b> <img src=x onerror=alert(1)> & co"
    at = today_before(datetime.now(UTC), timedelta(minutes=30))
    build(f"sqlite:///{tmp_path / 'n.db'}", [session("big", label=label)],
          [call("big", at, 6.0)]).dispose()
    smtp = SmtpReceiver().start()
    try:
        rules = _rules(tmp_path, f"mailto://127.0.0.1:{smtp.port}?to=me@example.com&"
                                 "from=openclaw@example.com&mode=insecure")
        assert main(["--db", str(tmp_path / "n.db"), "--alerts", rules, "--notify"]) == 2
        (mail,) = [m for m in smtp.mails if "Expensive session" in m]
    finally:
        smtp.stop()
    parts: dict[str, str] = {}
    for part in email.message_from_string(mail).walk():
        assert isinstance(part, Message)
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode()
    assert label in parts["text/plain"]  # (as markup it had been stripped to "Pwn  & co")
    assert "<img" not in parts.get("text/html", "")


def test_a_session_alert_names_its_session_id(tmp_path: Path, http: HttpReceiver) -> None:
    """Two sessions of one key (a chat reset with /new) read the same in a message: the
    message also gives the session's id, which the dashboard's session page opens."""
    at = today_before(datetime.now(UTC), timedelta(minutes=30))
    key = "agent:main:telegram:direct:1015401035"
    build(f"sqlite:///{tmp_path / 'n.db'}",
          [session("first-id", session_key=key), session("second-id", session_key=key)],
          [call("first-id", at, 6.0), call("second-id", at, 7.0)]).dispose()
    rules = _rules(tmp_path, f"json://127.0.0.1:{http.port}/hook")
    assert main(["--db", str(tmp_path / "n.db"), "--alerts", rules, "--notify"]) == 2
    sent = sorted(json.loads(b)["message"] for b in http.bodies("/hook")
                  if "Expensive session" in b)
    # the session's calls in the rule's window (24 h), not the session's cost
    assert sent == [
        f"Expensive session: {key} at $6.00 in the last 24 h (over $5.00)\nSession id: first-id",
        f"Expensive session: {key} at $7.00 in the last 24 h (over $5.00)\nSession id: second-id"]


def test_messages_link_to_the_dashboard(tmp_path: Path, http: HttpReceiver) -> None:
    """With `dashboard_url`, a session alert links to its session (a link both dashboards
    open: the basic one's view picker, the enhanced one's page), with its gateway when the
    database holds several; a budget's message links to the Budgets page."""
    at = today_before(datetime.now(UTC), timedelta(minutes=30))
    build(f"sqlite:///{tmp_path / 'n.db'}", [session("big/1 é"), session("other", gateway="lab")],
          [call("big/1 é", at, 6.0), call("other", at, 0.5, gateway="lab")]).dispose()
    rules = _rules(tmp_path, f"json://127.0.0.1:{http.port}/hook",
                   extra='dashboard_url = "https://telemetry.example.com/oc"\n')
    assert main(["--db", str(tmp_path / "n.db"), "--alerts", rules, "--notify"]) == 2
    sent = {json.loads(b)["title"]: json.loads(b)["message"] for b in http.bodies("/hook")}
    assert sent["[OpenClaw] CRITICAL: Expensive session"].endswith(
        "\nSession id: big/1 é\nOpen: https://telemetry.example.com/oc/"
        "?view=sessions&session=big%2F1%20%C3%A9&gateway=local")
    assert sent["[OpenClaw] Budget Daily main at 130% (over 100%)"].endswith(
        "\nOpen: https://telemetry.example.com/oc/?view=budgets")


def test_receiver_down_then_back_and_secrets_never_shown(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    receiver = HttpReceiver()  # down: nothing listens on its port yet
    db = _db(tmp_path)
    rules = _rules(tmp_path, f"json://bot:{SECRET}@127.0.0.1:{receiver.port}/hook")
    assert main(["--db", db, "--alerts", rules, "--notify", "--tz", "UTC"]) == 2
    first = capsys.readouterr()
    assert first.out.count("FAILED") == 2
    assert "retried on the next run" in first.err
    assert {r["state"] for r in _stored(db)} == {"failed"}
    receiver.start()
    try:
        assert main(["--db", db, "--alerts", rules, "--notify", "--tz", "UTC"]) == 2
        second = capsys.readouterr()
        assert second.out.count("SENT     retry") == 2
        assert len(receiver.requests) == 2
        assert all(r.headers.get("Authorization", "").startswith("Basic ")
                   for r in receiver.requests)  # the secret did reach the receiver
        assert main(["--db", db, "--alerts", rules, "--notify", "--tz", "UTC"]) == 2
        assert len(receiver.requests) == 2
        stored = _stored(db)
        assert {r["state"] for r in stored} == {"sent"}
        assert all(r["attempts"] == 2 for r in stored)
    finally:
        receiver.stop()
    shown = first.out + first.err + second.out + second.err + repr(_stored(db))
    assert SECRET not in shown
    assert f"json://bot:****@127.0.0.1:{receiver.port}/hook" in second.out


def test_two_processes_at_once_deliver_once(tmp_path: Path, http: HttpReceiver) -> None:
    db = _db(tmp_path)
    rules = _rules(tmp_path, f"json://127.0.0.1:{http.port}/hook")
    command = [sys.executable, str(ROOT / "alerts.py"), "--db", db, "--alerts", rules,
               "--notify", "--tz", "UTC"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [2, 2]
    assert len(http.requests) == 2  # the alert and the budget, once each
    assert sum(out.count("SENT") for out, _ in outputs) == 2
    assert all("Traceback" not in err for _, err in outputs)


def test_resolved_and_repeated_messages(tmp_path: Path, http: HttpReceiver) -> None:
    # Noon: the checks 70 and 80 minutes on fall in the same day as the budget's call.
    now, utc = datetime.now(UTC).replace(hour=12, minute=0), zone("UTC")
    db = _db(tmp_path, now)
    config = rulesfile.load(_rules(tmp_path, f"json://127.0.0.1:{http.port}/hook",
                                   extra='notify_repeat = "1h"\n'), env={})
    engine = open_db(f"sqlite:///{db}")
    try:
        assert len(check(engine, config, now=now, tz=utc, notify=True).outcomes) == 2
        later = check(engine, config, now=now + timedelta(minutes=70), tz=utc, notify=True)
        assert sorted(o.what for o in later.outcomes) == ["repeat", "repeat"]
        assert all("(still firing)" in o.title for o in later.outcomes)
        assert check(engine, config, now=now + timedelta(minutes=80), tz=utc,
                     notify=True).outcomes == []
        # A day later the session's 24 h window has passed: the alert resolves, once; the
        # budget of yesterday is not an alert and is not "resolved".
        cleared = check(engine, config, now=now + timedelta(days=1, hours=1), tz=utc,
                        notify=True)
        assert [(o.what, o.title) for o in cleared.outcomes] == [
            ("resolved", "[OpenClaw] Resolved: CRITICAL: Expensive session")]
        assert json.loads(http.requests[-1].body)["type"] == "success"
        assert check(engine, config, now=now + timedelta(days=1, hours=2), tz=utc,
                     notify=True).outcomes == []
    finally:
        engine.dispose()


def test_runners_of_other_rules_leave_each_others_alerts_alone(
        tmp_path: Path, http: HttpReceiver) -> None:
    """Review 19: `alerts.py --notify` of a rules file with no alert rules (budgets only)
    and one with them, run in turn (cron and a `--watch --alerts` service with other
    files), said "Resolved: … No longer firing" of the other's alert, which then fired
    again: 7 messages every run, the "resolved" ones false. An episode of a rule this
    runner does not have is left to the runner that has it."""
    db = _db(tmp_path)
    url = f"json://127.0.0.1:{http.port}/hook"
    alerting = _rules(tmp_path, url)
    budgets_only = tmp_path / "budgets.toml"
    budgets_only.write_text(f'notify = ["{url}"]\nrule = []\n'
                            '[[budget]]\nname = "Daily"\nperiod = "day"\namount = 5\n')
    for _ in range(2):
        for rules in (alerting, str(budgets_only)):
            main(["--db", db, "--alerts", rules, "--notify", "--tz", "UTC"])
    titles = [json.loads(body)["title"] for body in http.bodies("/hook")]
    assert not [t for t in titles if "Resolved" in t], titles
    assert len(titles) == len(set(titles)), titles  # each episode once


def test_test_notify_says_which_url_worked(tmp_path: Path, http: HttpReceiver,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    closed = HttpReceiver()  # never started
    rules = _rules(tmp_path, f"json://127.0.0.1:{http.port}/ok",
                   f"json://user:{SECRET}@127.0.0.1:{closed.port}/down", "nonsense://x")
    assert main(["--alerts", rules, "--test-notify"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"OK       json://127.0.0.1:{http.port}/ok"
    assert lines[1].startswith(f"FAILED   json://user:****@127.0.0.1:{closed.port}/down: ")
    assert lines[2] == "FAILED   nonsense://(not a valid Apprise URL): not a valid Apprise URL"
    assert SECRET not in "\n".join(lines)
    assert json.loads(http.requests[0].body)["title"] == "[OpenClaw] Test message"


def test_https_receivers_say_what_is_wrong_with_their_certificate(tmp_path: Path) -> None:
    """A self-signed receiver: with ?verify=no (trusted on purpose) urllib3's two-line
    warning with its file path went to stderr; without it the reason read only "A
    Connection error occurred…", nothing about the certificate."""
    from test_deploy import make_certificate

    https = HttpReceiver(tls=make_certificate(tmp_path)).start()
    try:
        urls = (f"jsons://127.0.0.1:{https.port}/trusted?verify=no "
                f"jsons://127.0.0.1:{https.port}/checked")
        ran = subprocess.run([sys.executable, str(ROOT / "alerts.py"), "--test-notify"],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path,
                             env={"PATH": "/usr/bin:/bin", "OPENCLAW_TELEMETRY_NOTIFY": urls})
    finally:
        https.stop()
    assert ran.returncode == 1 and ran.stderr == ""
    trusted, checked = ran.stdout.splitlines()
    assert trusted.startswith("OK       jsons://127.0.0.1:")
    assert checked.startswith("FAILED   jsons://127.0.0.1:")
    assert checked.endswith("(certificate verify failed: self-signed certificate)")
    assert [r.path for r in https.requests] == ["/trusted"]


def test_test_notify_to_a_reader_that_leaves(tmp_path: Path, http: HttpReceiver) -> None:
    """`alerts.py --test-notify | head -1`: a BrokenPipeError traceback (exit 120)."""
    from test_doors import with_reader_gone

    rules = _rules(tmp_path, f"json://127.0.0.1:{http.port}/a", f"json://127.0.0.1:{http.port}/b")
    ran = with_reader_gone("alerts.py", "--alerts", rules, "--test-notify", cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, "")
    assert [r.path for r in http.requests] == ["/a", "/b"]


def test_no_urls_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENCLAW_TELEMETRY_NOTIFY", raising=False)
    rules = tmp_path / "r.toml"
    rules.write_text(RULES)
    assert main(["--alerts", str(rules), "--notify"]) == 64
    assert "no notify URLs" in capsys.readouterr().err


def test_redaction_of_apprise_urls() -> None:
    telegram = target("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234567")
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in telegram.label + repr(telegram)
    assert telegram.redact("error for bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") == \
        "error for bot ***:***"


def test_read_layer_delivery_record(tmp_path: Path) -> None:
    from openclaw_telemetry import read
    db = _db(tmp_path)
    config = rulesfile.load(_rules(tmp_path, f"json://bot:{SECRET}@127.0.0.1:9/hook"), env={})
    engine = open_db(f"sqlite:///{db}")
    try:
        now = datetime.now(UTC)
        check(engine, config, now=now, tz=zone("UTC"), notify=True)
        record = read.deliveries(engine, until=to_utc(now) + timedelta(minutes=1))
        assert list(record.columns) == ["episode", "kind", "severity", "title", "target",
                                        "state", "attempts", "sent_at", "resolved_at",
                                        "updated_at", "error", "target_id"]
        assert sorted(record["kind"]) == ["alert", "budget"]
        assert set(record["target_id"]) == {target(config.notify[0]).id}
        assert set(record["state"]) == {"failed"} and set(record["attempts"]) == {1}
        assert set(record["target"]) == {"json://bot:****@127.0.0.1:9/hook"}
        assert SECRET not in record.to_csv()
        assert read.deliveries(engine, until=to_utc(now) - timedelta(minutes=1)).empty
    finally:
        engine.dispose()


def test_once_only_on_both_dialects(db_url: str, tmp_path: Path, http: HttpReceiver) -> None:
    """The claims are plain conditional statements: the same on SQLite and PostgreSQL."""
    now = datetime.now(UTC)
    at = today_before(now, timedelta(minutes=30))
    engine = build(db_url, [session("big")], [call("big", at, 6.0)])
    config = rulesfile.load(_rules(tmp_path, f"json://127.0.0.1:{http.port}/hook"), env={})
    try:
        first = check(engine, config, now=now, tz=zone("UTC"), notify=True)
        assert sorted(o.what for o in first.outcomes) == ["new", "new"]
        assert check(engine, config, now=now, tz=zone("UTC"), notify=True).outcomes == []
        assert len(http.requests) == 2
    finally:
        engine.dispose()


def test_many_messages_at_once_are_one_digest(tmp_path: Path, http: HttpReceiver) -> None:
    """A loose rule over 42 sessions sent 42 messages in one run, one after the other (a
    Telegram chat flooded, and rate limited). More than `DIGEST_AFTER` messages due to one
    URL at once are one message: each line an alert, the highest severity its level; each
    episode is still recorded, sent once, retried and resolved as before."""
    from openclaw_telemetry.dispatch import DIGEST_AFTER

    now, utc = datetime.now(UTC).replace(hour=12, minute=0), zone("UTC")
    at = today_before(now, timedelta(minutes=30))
    count = DIGEST_AFTER + 3
    db = tmp_path / "d.db"
    engine = build(f"sqlite:///{db}", [session(f"s{i}") for i in range(count)],
                   [call(f"s{i}", at, 0.5 + i) for i in range(count)])
    rules = tmp_path / "rules.toml"
    rules.write_text(f'notify = ["json://127.0.0.1:{http.port}/hook"]\n'
                     'dashboard_url = "https://t.example/"\n'
                     '[[rule]]\nname = "Loose"\nmetric = "session_cost"\nwindow = "24h"\n'
                     'warning = 0.1\ncritical = 7.0\n')
    config = rulesfile.load(str(rules), env={})
    try:
        first = check(engine, config, now=now, tz=utc, notify=True)
        assert len(first.outcomes) == count and all(o.error is None for o in first.outcomes)
        assert len(http.requests) == 1
        digest = json.loads(http.requests[0].body)
        assert digest["title"] == f"[OpenClaw] {count} alerts: 1 critical, {count - 1} warning"
        assert digest["type"] == "failure"  # the level of its highest severity
        lines = digest["message"].splitlines()
        assert sum(line.startswith("• CRITICAL: Loose") for line in lines) == 1
        assert sum(line.startswith("• WARNING: Loose") for line in lines) == count - 1
        assert "Open: https://t.example/?view=sessions&session=s0" in digest["message"]
        assert {r["state"] for r in _stored(str(db))} == {"sent"}
        assert check(engine, config, now=now, tz=utc, notify=True).outcomes == []
        assert len(http.requests) == 1
        # a day later every session's window has passed: one digest of the resolutions
        cleared = check(engine, config, now=now + timedelta(days=1, hours=1), tz=utc,
                        notify=True)
        assert [o.what for o in cleared.outcomes] == ["resolved"] * count
        assert len(http.requests) == 2
        resolved = json.loads(http.requests[1].body)
        assert resolved["title"] == f"[OpenClaw] {count} alerts: {count} resolved"
        assert resolved["type"] == "success"
    finally:
        engine.dispose()


def test_a_long_digest_lists_twelve_and_links_the_rest() -> None:
    from openclaw_telemetry.delivery_log import Event
    from openclaw_telemetry.dispatch import DIGEST_LISTED, _digest, _Due

    due = [_Due(Event(f"alert|r|s{i}|warning", "alert", "warning",
                      "[OpenClaw] WARNING: Loose", f"Session s{i} at $1\nSession id: s{i}"),
                "new") for i in range(DIGEST_LISTED + 3)]
    due.append(_Due(Event("budget|B|2026-12-01|1", "budget", "critical",
                          "[OpenClaw] Budget B at 100%", "$10 of $10"), "new"))
    title, body, level = _digest(due, "https://t.example/")
    assert title == f"[OpenClaw] {DIGEST_LISTED + 4} notifications: 1 critical, " \
                    f"{DIGEST_LISTED + 3} warning"
    assert level == "critical"
    assert body.count("• ") == DIGEST_LISTED
    assert body.endswith("… and 4 more\nOpen: https://t.example/?view=alert_center")
    assert "• WARNING: Loose\n  Session s0 at $1\n  Session id: s0" in body
