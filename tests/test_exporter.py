"""The Prometheus exporter (`exporter.py`): its totals equal the accounting contract's, its
exposition passes Prometheus' own `promtool check metrics`, it serves, follows new data,
survives a missing database, and fails with one line for a person's mistake.

`promtool` comes from Debian's `prometheus` package (scripts/test.sh installs it): missing,
the check skips outside CI and fails under CI.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import CollectorRegistry
from test_deploy import SYSTEMD, environment_file, require_tool, unit_settings

from openclaw_telemetry.model import COST_DECIMALS
from openclaw_telemetry.prometheus import DEFAULT_PORT, RECENT, TelemetryCollector
from tests.conftest import (
    SAMPLE_VERSIONS,
    copy_sample,
    ingest,
    sample_figures,
    samples_dir,
)
from tests.entries import assistant, header, state_dir, tool_call, tool_result, write

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "openclaw-telemetry.rules.yml"
SCRAPE = PROMETHEUS / "openclaw-telemetry.scrape.yml"
RULE_TESTS = ROOT / "tests" / "fixtures" / "prometheus" / "openclaw-telemetry.rules.test.yml"
GRAFANA = ROOT / "deploy" / "grafana" / "openclaw-telemetry.json"
# Grafana's own variables, as Grafana would fill them in for a query
GRAFANA_VARIABLES = {"$__range": "1d", "$gateway": ".*", "$agent": ".*"}


def exporter(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "exporter.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=timeout)


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Parsed exposition: metric sample name -> [(labels, value)]."""
    found: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name].append((sample.labels, sample.value))
    return found


def summed(found: dict[str, list[tuple[dict[str, str], float]]], name: str,
           **labels: str) -> float:
    return sum(value for have, value in found[name]
               if all(have.get(k) == v for k, v in labels.items()))


def served_metrics(text: str) -> set[str]:
    """Every metric the exposition declares, also those with no sample yet."""
    return set(re.findall(r"^# HELP (\S+) ", text, flags=re.MULTILINE))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> tuple[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.headers["Content-Type"], response.read().decode()


def wait_for_scrape(port: int, process: subprocess.Popen[str]) -> tuple[str, str]:
    deadline = time.monotonic() + 30
    while True:
        try:
            return scrape(port)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS, indirect=True)
def test_totals_equal_the_expected_ones(sample: Path, db_url: str) -> None:
    assert ingest(sample, db_url, "-q").code == 0
    ran = exporter("--db", db_url, "--once")
    assert ran.returncode == 0, ran.stderr
    found = samples(ran.stdout)
    want = sample_figures(sample.name)["total"]
    assert summed(found, "openclaw_llm_calls") == want["llm_calls"]
    assert summed(found, "openclaw_llm_call_errors") == want["errors"]
    assert summed(found, "openclaw_cost_usd") == pytest.approx(want["cost"], abs=1e-8)
    dollars = [value for name, rows in found.items() if name.endswith("_usd")
               for _, value in rows]
    assert dollars and all(value == round(value, COST_DECIMALS) for value in dollars), (
        "dollars to COST_DECIMALS places, as reports give them, not 1.0729762500000002")
    for kind in ("input", "output", "cache_read", "cache_write"):
        assert summed(found, "openclaw_tokens", type=kind) == want[kind], kind
    assert summed(found, "openclaw_tool_calls") == want["tool_calls"]
    assert summed(found, "openclaw_tool_calls", outcome="error") == want["tool_errors"]
    assert summed(found, "openclaw_telemetry_database_up") == 1
    assert summed(found, "openclaw_sessions") >= 1
    assert summed(found, "openclaw_last_llm_call_timestamp_seconds") > 1.7e9


def test_recent_windows_are_exact_at_the_scrape(tmp_path: Path, db_url: str) -> None:
    now = int(time.time() * 1000)
    minutes = (30, 5 * 60, 30 * 60, -120)  # 30 minutes, 5 and 30 hours ago; in 2 hours
    write(state_dir(tmp_path), "s.jsonl", header("s", now - 31 * 3600_000),
          *(assistant(now - m * 60_000, response_id=f"r{m}", cost=0.25, inp=100, out=10)
            for m in minutes))
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    found = samples(exporter("--db", db_url, "--once").stdout)
    assert summed(found, "openclaw_llm_calls") == 4
    assert summed(found, "openclaw_recent_llm_calls", window="1h") == 1  # not the future one
    assert summed(found, "openclaw_recent_llm_calls", window="24h") == 2
    assert summed(found, "openclaw_recent_cost_usd", window="24h") == pytest.approx(0.5)
    assert summed(found, "openclaw_recent_tokens", window="1h", type="input") == 100


@pytest.mark.parametrize("sample", SAMPLE_VERSIONS, indirect=True)
def test_exposition_passes_promtool(sample: Path, sqlite_url: str, tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    assert ingest(sample, sqlite_url, "-q").code == 0
    ran = exporter("--db", sqlite_url, "--once")
    assert ran.returncode == 0, ran.stderr
    checked = subprocess.run([promtool, "check", "metrics"], input=ran.stdout, text=True,
                             capture_output=True, check=False, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == ""  # no lint remarks


def test_help_texts_name_metrics_of_their_own_family(tmp_path: Path, sqlite_url: str) -> None:
    """A HELP text that names a metric names one the exporter serves, and a windowed one
    (`openclaw_recent_*`) names a windowed one: "the part of X" is the part of its twin."""
    state_dir(tmp_path)
    assert ingest(tmp_path / "state", sqlite_url, "-q").code == 0
    ran = exporter("--db", sqlite_url, "--once")
    assert ran.returncode == 0, ran.stderr
    helps = dict(re.findall(r"^# HELP (\S+) (.*)$", ran.stdout, flags=re.MULTILINE))
    named = {(name, other) for name, text in helps.items()
             for other in re.findall(r"\b(openclaw_\w*[a-z0-9])\b", text)}
    assert named and [(name, other) for name, other in named if other not in helps
                      or other.startswith(RECENT) != name.startswith(RECENT)] == []


USAGE_METRICS = ("openclaw_llm_calls", "openclaw_cost_usd", "openclaw_tokens",
                 "openclaw_recent_llm_calls", "openclaw_tool_calls", "openclaw_sessions")


def test_every_gateway_is_a_label_of_its_own(tmp_path: Path, db_url: str) -> None:
    """Two OpenClaw hosts in one database: each usage series names its gateway, the values
    of each gateway are its own sample's, and the exposition passes promtool."""
    fleet = {"gw-a": SAMPLE_VERSIONS[0], "gw-b": SAMPLE_VERSIONS[1]}
    for gateway, version in fleet.items():
        state = copy_sample(version, tmp_path / gateway)
        assert ingest(state, db_url, "--gateway", gateway, "-q").code == 0
    ran = exporter("--db", db_url, "--once")
    assert ran.returncode == 0, ran.stderr
    found = samples(ran.stdout)
    for name in USAGE_METRICS:
        assert all(labels.get("gateway") in fleet for labels, _ in found[name]), name
    assert {labels["gateway"] for labels, _ in found["openclaw_sessions"]} == set(fleet)
    for gateway, version in fleet.items():
        want = sample_figures(version)["total"]
        assert summed(found, "openclaw_llm_calls", gateway=gateway) == want["llm_calls"]
        assert summed(found, "openclaw_cost_usd", gateway=gateway) == pytest.approx(
            want["cost"], abs=1e-8)
        assert summed(found, "openclaw_tokens", gateway=gateway, type="output") == \
            want["output"]
        assert summed(found, "openclaw_tool_calls", gateway=gateway) == want["tool_calls"]
    checked = subprocess.run([require_tool("promtool"), "check", "metrics"], input=ran.stdout,
                             text=True, capture_output=True, check=False, timeout=60)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), \
        checked.stdout + checked.stderr


def test_recent_usage_of_one_session_id_on_two_gateways(tmp_path: Path, db_url: str) -> None:
    """The same files read by two hosts: the same session id on both, each call counted
    under its own gateway with its own session's kind (not twice, not kind 'none')."""
    now = int(time.time() * 1000)
    write(state_dir(tmp_path), "s.jsonl", header("s", now - 3600_000),
          *(assistant(now - m * 60_000, response_id=f"r{m}", cost=0.25) for m in (10, 90)))
    for gateway in ("gw-a", "gw-b"):
        assert ingest(tmp_path / "state", db_url, "--gateway", gateway, "-q").code == 0
    found = samples(exporter("--db", db_url, "--once").stdout)
    for gateway in ("gw-a", "gw-b"):
        assert summed(found, "openclaw_recent_llm_calls", gateway=gateway, window="1h") == 1
        assert summed(found, "openclaw_recent_llm_calls", gateway=gateway, window="24h") == 2
        assert summed(found, "openclaw_recent_cost_usd", gateway=gateway,
                      window="24h") == pytest.approx(0.5)
        assert summed(found, "openclaw_recent_llm_calls", gateway=gateway, kind="none") == 0
        assert summed(found, "openclaw_sessions", gateway=gateway) == 1


def test_freshness_and_input_problems_per_gateway(tmp_path: Path, db_url: str) -> None:
    """Each gateway's ingest and newest call have a series of their own (a host whose
    ingest stopped shows beside one that runs), and bad input counts for its own host."""
    now = int(time.time() * 1000)
    newest = {"gw-a": now - 10 * 60_000, "gw-b": now - 90 * 60_000}
    for gateway, ms in newest.items():
        folder = state_dir(tmp_path / gateway)
        path = write(folder, "s.jsonl", header("s", ms - 60_000),
                     assistant(ms, response_id=f"r-{gateway}"))
        if gateway == "gw-a":
            with path.open("ab") as out:
                out.write(b"{not json\n")
        assert ingest(tmp_path / gateway / "state", db_url, "--gateway", gateway,
                      "-q").code == 0
    ran = exporter("--db", db_url, "--once")
    assert ran.returncode == 0, ran.stderr
    found = samples(ran.stdout)
    assert [(labels, value) for labels, value in found["openclaw_input_problems"]] == [
        ({"gateway": "gw-a", "kind": "malformed_json"}, 1.0)]
    calls = {labels["gateway"]: value
             for labels, value in found["openclaw_last_llm_call_timestamp_seconds"]}
    assert calls == pytest.approx({gw: ms / 1000 for gw, ms in newest.items()}, abs=1)
    ingests = {labels["gateway"]: value
               for labels, value in found["openclaw_last_ingest_timestamp_seconds"]}
    assert set(ingests) == set(newest) and ingests["gw-a"] <= ingests["gw-b"] <= time.time()
    checked = subprocess.run([require_tool("promtool"), "check", "metrics"], input=ran.stdout,
                             text=True, capture_output=True, check=False, timeout=60)
    assert checked.returncode == 0 and not (checked.stdout + checked.stderr).strip(), \
        checked.stdout + checked.stderr


def test_textfile_is_written_whole(sample: Path, sqlite_url: str, tmp_path: Path) -> None:
    assert ingest(sample, sqlite_url, "-q").code == 0
    target = tmp_path / "textfile" / "openclaw.prom"
    target.parent.mkdir()
    ran = exporter("--db", sqlite_url, "--textfile", str(target))
    assert ran.returncode == 0 and ran.stdout == "", ran.stderr
    assert summed(samples(target.read_text()), "openclaw_llm_calls") == 65
    assert [p.name for p in target.parent.iterdir()] == ["openclaw.prom"]  # no temp file left


def test_serves_follows_new_data_and_stops_on_sigterm(sample: Path, tmp_path: Path) -> None:
    db = tmp_path / "telemetry.db"
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "exporter.py"), "--db", str(db),
                                "--port", str(port)], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        content_type, text = wait_for_scrape(port, process)
        assert content_type.startswith("text/plain")
        found = samples(text)  # no database yet: reported, not a failed scrape
        assert summed(found, "openclaw_telemetry_database_up") == 0
        assert "openclaw_llm_calls" not in found
        assert ingest(sample, f"sqlite:///{db}", "-q").code == 0
        found = samples(scrape(port)[1])
        assert summed(found, "openclaw_telemetry_database_up") == 1
        assert summed(found, "openclaw_llm_calls") == 65
        version = summed(found, "openclaw_telemetry_data_version")
        shutil.copytree(samples_dir() / "openclaw-2026.9.6" / "agents", sample / "agents",
                        dirs_exist_ok=True)  # a second agent database: more calls
        assert ingest(sample, f"sqlite:///{db}", "-q").code == 0
        found = samples(scrape(port)[1])
        assert summed(found, "openclaw_telemetry_data_version") > version
        assert summed(found, "openclaw_llm_calls") > 65
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "no database at" in err and "database readable" in err
    assert "Traceback" not in err


def test_mistakes_give_one_line(tmp_path: Path) -> None:
    missing = exporter("--db", str(tmp_path / "none.db"), "--once")
    assert missing.returncode == 66
    assert missing.stderr.startswith("exporter.py: no database at")
    for args, code in ((["--port", "0"], 64), (["--port", "x"], 64),
                       (["--once", "--textfile", "x"], 64), (["--bogus"], 64),
                       (["--db", "nosuch://x", "--once"], 64)):
        ran = exporter(*args)
        assert ran.returncode == code, (args, ran.stderr)
        assert len(ran.stderr.strip().splitlines()) == 1, (args, ran.stderr)
        assert ran.stderr.startswith("exporter.py: ")
    assert "Traceback" not in missing.stderr


def test_unwritable_textfile_and_busy_port(sample: Path, sqlite_url: str,
                                           tmp_path: Path) -> None:
    assert ingest(sample, sqlite_url, "-q").code == 0
    ran = exporter("--db", sqlite_url, "--textfile", str(tmp_path / "no" / "dir.prom"))
    assert ran.returncode == 73  # EX_CANTCREAT, as session_parser.py export
    assert ran.stderr.strip().splitlines() == [
        f"exporter.py: cannot write {tmp_path / 'no' / 'dir.prom'}: No such file or directory"]
    folder = tmp_path / "textfile"
    (folder / "openclaw.prom").mkdir(parents=True)  # in the way: the rename fails
    ran = exporter("--db", sqlite_url, "--textfile", str(folder / "openclaw.prom"))
    assert ran.returncode == 73, ran.stderr
    assert [p.name for p in folder.iterdir()] == ["openclaw.prom"]  # no temp file left
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = exporter("--db", sqlite_url, "--port", str(port), timeout=30)
    assert busy.returncode == 1
    assert busy.stderr.strip().splitlines() == [
        f"exporter.py: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_help_names_every_option() -> None:
    ran = exporter("--help")
    assert ran.returncode == 0
    for option in ("--db", "--host", "--port", "--once", "--textfile"):
        assert option in ran.stdout


# --- deploy/prometheus: scrape settings and alerting rules ---------------------------------


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("promtool"), *args], capture_output=True, text=True,
                          check=False, timeout=120)


def test_alerting_rules_pass_promtool_and_their_unit_tests() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_scrape_settings_are_a_valid_prometheus_config(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(SCRAPE.read_text().replace("/etc/prometheus/" + RULES.name, str(RULES)))
    checked = promtool("check", "config", str(config))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_scrape_target_is_where_the_exporter_listens() -> None:
    port = environment_file()["OPENCLAW_EXPORTER_PORT"]
    defaults = dict(value.split("=", 1) for value in
                    unit_settings(SYSTEMD / "openclaw-telemetry-exporter.service")["Environment"])
    assert port == defaults["OPENCLAW_EXPORTER_PORT"] == str(DEFAULT_PORT)
    assert f'targets: ["127.0.0.1:{port}"]' in SCRAPE.read_text()


def test_rules_use_only_metrics_the_exporter_serves(sample: Path, sqlite_url: str) -> None:
    assert ingest(sample, sqlite_url, "-q").code == 0
    served = served_metrics(exporter("--db", sqlite_url, "--once").stdout)
    used = set(re.findall(r"\b(openclaw_\w*[a-z0-9])\b", RULES.read_text()))
    assert used and used <= served, used - served


# --- deploy/grafana: the dashboard over the exporter's metrics -------------------------------


def grafana_panel_queries() -> list[tuple[str, str, str]]:
    """(panel title, panel type, query) of every query, Grafana's variables filled in."""
    dashboard = json.loads(GRAFANA.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append((panel["title"], panel["type"], expr))
    return queries


def grafana_queries() -> list[str]:
    return [expr for _, _, expr in grafana_panel_queries()]


def test_grafana_dashboard_is_well_formed() -> None:
    dashboard = json.loads(GRAFANA.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] and dashboard["title"]
    variable = {"type": "prometheus", "uid": "${datasource}"}
    for panel in dashboard["panels"]:
        assert panel["title"] and {"x", "y", "w", "h"} <= panel["gridPos"].keys()
        assert panel["datasource"] == variable
        assert all(target["datasource"] == variable for target in panel["targets"])
    assert "$" not in "".join(grafana_queries())  # every variable it uses is filled in above


def test_grafana_queries_are_valid_promql(tmp_path: Path) -> None:
    rules = tmp_path / "grafana-queries.yml"
    rules.write_text("groups:\n  - name: grafana\n    rules:\n" + "".join(
        f"      - record: grafana_panel_{n}\n        expr: {json.dumps(expr)}\n"
        for n, expr in enumerate(grafana_queries())))
    checked = promtool("check", "rules", str(rules))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_grafana_panels_follow_the_gateway_choice() -> None:
    """Every metric over the gateways' data (usage, freshness, input problems; not the
    exporter's own health) a panel reads keeps only the gateways chosen in the dashboard's
    variable."""
    dashboard = json.loads(GRAFANA.read_text())
    assert [v["name"] for v in dashboard["templating"]["list"]] == [
        "datasource", "gateway", "agent"]
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            metrics = [name for name in re.findall(r"\b(openclaw_\w+)", target["expr"])
                       if not name.startswith("openclaw_telemetry_")]
            assert metrics and target["expr"].count('gateway=~"$gateway"') == len(metrics), \
                panel["title"]


def test_grafana_uses_only_metrics_the_exporter_serves(sample: Path, sqlite_url: str) -> None:
    assert ingest(sample, sqlite_url, "-q").code == 0
    served = served_metrics(exporter("--db", sqlite_url, "--once").stdout)
    used = set(re.findall(r"\b(openclaw_\w+)", " ".join(grafana_queries())))
    assert used and used <= served, used - served


def promtool_series(exposition: str) -> list[dict[str, str]]:
    """Every sample of an exposition as a promtool input series, scraped alike for 10 minutes."""
    return [{"series": name + "{" + ",".join(f"{key}={json.dumps(value)}"
                                             for key, value in labels.items()) + "}",
             "values": " ".join([repr(value)] * 11)}
            for name, found in samples(exposition).items() for labels, value in found]


# panels whose number is not 0 when no call is recent: the freshness, a total since the
# start of the range (all of it: Prometheus has no older sample) and tool calls by tool
NOT_ZERO = {"Last ingest", "Cost in the time range", "Tool calls by tool"}


@pytest.mark.parametrize("database", ["idle", "empty", "missing"])
def test_grafana_panels_show_zero_where_zero_is_the_truth(database: str, tmp_path: Path,
                                                          sqlite_url: str) -> None:
    """A stat panel shows 0 when the exporter reads a database with nothing to count, and a
    graph a line at 0 for each gateway, agent, session kind, token type or tool the totals
    know: "No data" only when the exporter cannot read its database (not `or vector(0)`,
    which would show $0 then), or for a breakdown of nothing (a pie of no spend)."""
    if database == "missing":  # what a served exporter says: only database_up 0
        registry = CollectorRegistry(auto_describe=False)
        registry.register(TelemetryCollector(sqlite_url))
        exposition = generate_latest(registry).decode()
        assert samples(exposition).keys() == {"openclaw_telemetry_database_up"}
    else:
        sessions = state_dir(tmp_path)
        if database == "idle":  # calls and a tool call, all two days old
            ms = int(time.time() * 1000) - 48 * 3600_000
            write(sessions, "s.jsonl", header("s", ms),
                  assistant(ms + 1000, response_id="r1", cost=0.25,
                            tools=[tool_call("t1", "read")]),
                  tool_result("t1", "read", ms + 2000))
        assert ingest(tmp_path / "state", sqlite_url, "-q").code == 0
        ran = exporter("--db", sqlite_url, "--once")
        assert ran.returncode == 0, ran.stderr
        exposition = ran.stdout
    checks = []
    for title, kind, expr in grafana_panel_queries():  # what shows data, and is it 0
        shown = {"missing": False, "empty": kind == "stat",
                 "idle": kind != "piechart"}[database]
        checks.append({"expr": f"absent({expr})", "eval_time": "5m",
                       "exp_samples": [] if shown else [{"labels": "{}", "value": 1}]})
        if title not in NOT_ZERO:
            checks.append({"expr": f"({expr}) != 0", "eval_time": "5m", "exp_samples": []})
    tests = tmp_path / "grafana-panels.test.yml"
    tests.write_text(json.dumps({"rule_files": [], "tests": [{
        "interval": "1m", "input_series": promtool_series(exposition),
        "promql_expr_test": checks}]}))
    tested = promtool("test", "rules", str(tests))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_server_gone_under_a_running_exporter_is_said_as_every_door_says_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Review 19: a PostgreSQL server stopped under the running exporter was logged as
    "(psycopg.OperationalError) connection failed: …", where every other door says
    "cannot open …" and what to do."""
    from sqlalchemy import create_engine
    url = "postgresql+psycopg://nobody@127.0.0.1:1/telemetry"
    collector = TelemetryCollector(url)
    collector._engine = create_engine(url)  # opened before, its server gone since
    try:
        (up,) = list(collector.collect())
    finally:
        collector._engine.dispose()
    assert up.samples[0].value == 0
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("exporter.py: cannot open postgresql+psycopg://nobody@127.0.0.1:1/")
    assert "psycopg.OperationalError" not in line and "(is the PostgreSQL server" in line
