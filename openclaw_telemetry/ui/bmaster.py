"""Optional bmasterai adapter: record the dashboard's metrics and fired alerts in its monitor.

bmasterai is an optional extra. Its 0.2.x releases fail on import without `fastmcp`, and
its logger creates a `logs/` folder in the working directory. This adapter therefore only
uses the in-memory monitor (`bmasterai.monitoring.get_monitor()`; never its logger, never
`start_monitoring()`, which starts a thread), changes no working directory, and turns
anything bmasterai raises into a one-line status. Without it the dashboard is unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openclaw_telemetry.alerting import Alert
from openclaw_telemetry.ui import format as fmt

_monitor: Any = None
_problem: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    ok: bool
    message: str
    stats: Mapping[str, Any]


def _load() -> Any:
    """bmasterai's monitor, imported once per process; None with `_problem` set if not."""
    global _monitor, _problem
    if _monitor is not None or _problem is not None:
        return _monitor
    try:
        package = importlib.import_module("bmasterai")
        _monitor = package.get_monitor()
    except ModuleNotFoundError as exc:
        missing = exc.name or "bmasterai"
        _problem = ("bmasterai is not installed" if missing == "bmasterai" else
                    f"bmasterai cannot be imported: it needs {missing}")
    except Exception as exc:  # any failure of the optional package is only reported
        _problem = f"bmasterai cannot be imported: {str(exc).splitlines()[0][:160]}"
    return _monitor


def record(totals: Mapping[str, float], alerts: Sequence[Alert],
           labels: Mapping[str, str]) -> Status:
    """Record totals (cost, calls, tokens, errors) and fired alerts; never raises."""
    monitor = _load()
    if monitor is None:
        return Status(False, f"{_problem} — showing the native metrics only.", {})
    try:
        base = dict(labels)
        for name in ("cost", "calls", "tokens", "errors"):
            monitor.record_custom_metric(f"openclaw_{name}", float(totals[name]), base)
        for alert in alerts:
            monitor.record_custom_metric(
                "openclaw_alert", float(alert.severity.rank + 1),
                {**base, "rule": alert.rule, "severity": str(alert.severity),
                 "subject": alert.subject})
        stats = {name: monitor.get_metric_stats(f"openclaw_{name}", 60)
                 for name in ("cost", "calls", "alert")}
    except Exception as exc:  # bmasterai's own failures must not break the page
        return Status(False, f"bmasterai failed: {str(exc).splitlines()[0][:160]} — "
                             "showing the native metrics only.", {})
    return Status(True, f"bmasterai: recorded 4 metrics and {fmt.counted(len(alerts), 'alert')} in its "
                        "monitor (custom metrics openclaw_*).", stats)


def reset() -> None:
    """Forget the import attempt (tests)."""
    global _monitor, _problem
    _monitor, _problem = None, None
