"""The read layer: every figure the dashboards, `alerts.py`, the exporter and scripts show.

One function per question. Each takes the engine first and keyword-only filters after it
(a `Scope`: a `[since, until)` range of call timestamps in naive UTC plus agent, call-model,
session-kind and gateway filters; a `tz` for anything bucketed by local time), aggregates in SQL
with bound parameters, and returns a DataFrame whose columns its docstring lists. Cost and
token totals always filter on call timestamps, never on session start. A session is its
id on its gateway: joins of its rows match both (`sqlkit.same_session`, `in_sessions`).

How a figure travels to the screen: a page asks `ui/data.ask(read.<question>, …)`, which
caches the answer per database file, data version and arguments and otherwise calls the
function here with the same arguments; tests call the same functions. Call-level figures
come from `calls.hourly` (the cached history, by local day and by the hour for its last
days, plus the exact partial days or hours of a range); session, tool and alert
questions read their tables directly.

Modules: `status` (data version, bounds, filter values), `calls` (call totals, timelines,
breakdowns, statistics), `budgets` (daily spend, period outlooks, budget status),
`deliveries` (what was notified), `tools`, `sessions` (tables, one session, cron jobs,
sub-agents, alert observations), `session_story` and `cost_drivers` (one session told
call by call, and what drove its cost), `compare` (side by side), `metrics` (the
exporter's gauges); `sqlkit` and `rollups` are their building blocks.

Also `export` (rows streamed for `session_parser.py export` and the CSV downloads) and
`reports` (the terminal reports, without pandas). Importing the package is cheap: a name is
imported from its module when first used (PEP 562), so a command that needs one lean
module (`reports`) does not pay for the rest.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openclaw_telemetry.read.budgets import (
        budget_sessions,
        budget_status,
        daily_spend,
        spend_outlook,
    )
    from openclaw_telemetry.read.calls import (
        breakdown,
        call_rollup,
        cost_statistics,
        hourly,
        models,
        session_count,
        timeline,
        totals,
    )
    from openclaw_telemetry.read.compare import compare, compare_options, thinking_cost
    from openclaw_telemetry.read.cost_drivers import cost_drivers
    from openclaw_telemetry.read.deliveries import deliveries
    from openclaw_telemetry.read.metrics import (
        NO_SESSION,
        ingest_status,
        issue_counts,
        recent_usage,
        session_counts,
        tool_outcomes,
        usage_totals,
    )
    from openclaw_telemetry.read.session_story import (
        session_cache,
        session_cost_split,
        session_markers,
        session_profile,
        session_timeline,
        session_tool_calls,
        session_tool_summary,
        session_tree,
    )
    from openclaw_telemetry.read.sessions import (
        CronActivity,
        alert_observations,
        cron_activity,
        session_calls,
        session_detail,
        session_observations,
        session_table,
        subagent_rollup,
    )
    from openclaw_telemetry.read.sqlkit import Scope
    from openclaw_telemetry.read.status import (
        call_bounds,
        data_version,
        file_identity,
        filter_options,
        known_names,
        schema_status,
        stamp,
        totals_hold,
    )
    from openclaw_telemetry.read.tools import tool_timeline, tool_totals, tools

_MODULES = ("budgets", "calls", "compare", "cost_drivers", "deliveries", "metrics",
            "session_story", "sessions", "sqlkit", "status", "tools")

__all__ = [
    "NO_SESSION",
    "CronActivity",
    "Scope",
    "alert_observations",
    "breakdown",
    "budget_sessions",
    "budget_status",
    "call_bounds",
    "call_rollup",
    "compare",
    "compare_options",
    "cost_drivers",
    "cost_statistics",
    "cron_activity",
    "daily_spend",
    "data_version",
    "deliveries",
    "file_identity",
    "filter_options",
    "hourly",
    "ingest_status",
    "issue_counts",
    "known_names",
    "models",
    "recent_usage",
    "schema_status",
    "session_cache",
    "session_calls",
    "session_cost_split",
    "session_count",
    "session_counts",
    "session_detail",
    "session_markers",
    "session_observations",
    "session_profile",
    "session_table",
    "session_timeline",
    "session_tool_calls",
    "session_tool_summary",
    "session_tree",
    "spend_outlook",
    "stamp",
    "subagent_rollup",
    "thinking_cost",
    "timeline",
    "tool_outcomes",
    "tool_timeline",
    "tool_totals",
    "tools",
    "totals",
    "totals_hold",
    "usage_totals",
]


def __getattr__(name: str) -> Any:
    """The read function `name`, imported from its module on first use."""
    if name in __all__:
        for module in _MODULES:
            found = getattr(importlib.import_module(f"{__name__}.{module}"), name, None)
            if found is not None:
                globals()[name] = found
                return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Read(types.ModuleType):
    """Four modules share their name with their question (`tools`, `compare`,
    `cost_drivers`, `deliveries`): when one is imported, the import system binds the module
    to that name here; the name stays the function, as `read.tools(…)` expects."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in __all__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Read
