"""The optional bmasterai adapter: records when bmasterai works, one line when it is
absent or broken, and never starts a thread or writes a `logs/` folder. The real, pinned
bmasterai (requirements-bmasterai.txt, part of requirements-dev.txt) is exercised too:
without it that test skips and says so, and under CI it fails."""

from __future__ import annotations

import re
import sys
import threading
import tomllib
import types
from collections.abc import Iterator
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from test_pg_server import running_in_ci

from openclaw_telemetry.alerting import Alert, Metric, Severity
from openclaw_telemetry.ui import bmaster

ROOT = Path(__file__).resolve().parents[1]
TOTALS = {"cost": 1.5, "calls": 10.0, "tokens": 1000.0, "errors": 1.0}
ALERT = Alert("Costly", Metric.SESSION_COST, Severity.WARNING, "s1", "<b>x</b>", 2.0, 1.0,
              datetime(2026, 1, 1))


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    bmaster.reset()
    monkeypatch.chdir(tmp_path)
    yield
    bmaster.reset()


class Monitor:
    def __init__(self) -> None:
        self.points: list[tuple[str, float, dict[str, str]]] = []

    def record_custom_metric(self, name: str, value: float, labels: dict[str, str]) -> None:
        self.points.append((name, value, labels))

    def get_metric_stats(self, name: str, minutes: int) -> dict[str, float]:
        return {"count": float(sum(p[0] == name for p in self.points))}


def fake(monkeypatch: pytest.MonkeyPatch, **attributes: Any) -> None:
    module = types.ModuleType("bmasterai")
    for name, value in attributes.items():
        setattr(module, name, value)
    monkeypatch.setitem(sys.modules, "bmasterai", module)


def test_records_metrics_and_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    monitor = Monitor()
    fake(monkeypatch, get_monitor=lambda: monitor)
    status = bmaster.record(TOTALS, [ALERT], {"range": "All time"})
    assert status.ok
    assert [p[0] for p in monitor.points] == ["openclaw_cost", "openclaw_calls",
                                              "openclaw_tokens", "openclaw_errors",
                                              "openclaw_alert"]
    assert monitor.points[-1][2]["severity"] == "warning"
    assert status.stats["alert"] == {"count": 1.0}


def test_the_status_counts_alerts_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """"recorded 4 metrics and 1 alert(s)": one or several, said as such."""
    fake(monkeypatch, get_monitor=Monitor)
    assert "and 1 alert in its monitor" in bmaster.record(TOTALS, [ALERT], {}).message
    assert "and 2 alerts in" in bmaster.record(TOTALS, [ALERT, ALERT], {}).message
    assert "and 0 alerts in" in bmaster.record(TOTALS, [], {}).message


def test_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "bmasterai", None)
    status = bmaster.record(TOTALS, [ALERT], {})
    assert not status.ok
    assert status.message.startswith("bmasterai is not installed")


def test_broken_import_and_broken_monitor(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode() -> None:
        raise ImportError("FastMCP not found. Please install with: pip install fastmcp")

    fake(monkeypatch, get_monitor=explode)
    status = bmaster.record(TOTALS, [], {})
    assert not status.ok and "FastMCP not found" in status.message
    assert "\n" not in status.message
    bmaster.reset()

    class Broken(Monitor):
        def record_custom_metric(self, name: str, value: float, labels: dict[str, str]
                                 ) -> None:
            raise RuntimeError("disk full")

    fake(monkeypatch, get_monitor=Broken)
    status = bmaster.record(TOTALS, [], {})
    assert not status.ok and status.message.startswith("bmasterai failed: disk full")


def pins(lines: list[str]) -> dict[str, str]:
    return dict(re.findall(r"^([\w.-]+)==(\S+)$", "\n".join(line.strip() for line in lines),
                           re.MULTILINE))


def test_the_extra_is_the_requirements_file() -> None:
    """`pip install '.[bmasterai]'` and ./start.sh --with-bmasterai install the same pins:
    bmasterai and fastmcp, which bmasterai imports without declaring it."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["bmasterai"]
    required = pins((ROOT / "requirements-bmasterai.txt").read_text().splitlines())
    assert pins(extra) == required
    assert set(required) == {"bmasterai", "fastmcp"}
    assert "-r requirements-bmasterai.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_the_real_package_records_through_its_monitor(tmp_path: Path) -> None:
    """The pinned bmasterai imports and the adapter records into its monitor: no exception,
    no thread, nothing written to the working directory."""
    wanted = pins((ROOT / "requirements-bmasterai.txt").read_text().splitlines())
    try:
        installed = {name: metadata.version(name) for name in wanted}
    except metadata.PackageNotFoundError as exc:
        problem = f"{exc.name} is not installed (pip install -r requirements-bmasterai.txt)"
        if running_in_ci():
            pytest.fail(f"under CI the real bmasterai must be tested: {problem}")
        pytest.skip(problem)
    assert installed == wanted
    before = threading.active_count()

    status = bmaster.record(TOTALS, [ALERT], {"range": "All time"})

    assert status.ok, status.message
    assert status.message.startswith("bmasterai: recorded 4 metrics and 1 alert in")
    assert status.stats["cost"]["latest"] == TOTALS["cost"]
    assert status.stats["alert"]["latest"] == ALERT.severity.rank + 1
    assert threading.active_count() == before
    assert list(tmp_path.iterdir()) == []
