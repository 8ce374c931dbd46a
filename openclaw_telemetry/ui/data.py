"""The dashboards' cached reads: the only module with Streamlit cache decorators.

`engine` is a `cache_resource` per database URL. Every read is a bounded `cache_data`
wrapper over `queries.py` whose key starts with the URL and the *data version* (the latest
ingest run that changed data), so a refresh with no new data costs one tiny query
(`version`) and a new ingest shows at once. Call-level numbers come from the hourly
roll-up, cached once per version and time zone; filters and ranges are applied to it in
pandas, with the partial hours at the ends of a range read exactly and cached apart.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from openclaw_telemetry import queries, rollups
from openclaw_telemetry.alert_check import active_alerts, alert_history
from openclaw_telemetry.alerting import Alert, Rule
from openclaw_telemetry.demo import is_demo
from openclaw_telemetry.sqlkit import Scope
from openclaw_telemetry.store import make_engine
from openclaw_telemetry.timeframe import Unit, zone

_BIG = 8
_SMALL = 64


@st.cache_resource(show_spinner=False, max_entries=4)
def engine(url: str) -> Engine:
    """One engine per database; never creates a file (missing -> DatabaseError)."""
    return make_engine(url, create=False)


def version(url: str) -> int:
    """The data version: one indexed MAX() on `ingest_runs`, run on every refresh."""
    return queries.data_version(engine(url))


def schema_status(url: str) -> str:
    return queries.schema_status(engine(url))


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def latest_ingest(url: str, data_version: int) -> pd.DataFrame:
    return queries.latest_ingest(engine(url))


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def demo_label(url: str, data_version: int) -> str | None:
    """The "Demo data" text of a database filled by `start.sh --demo`, else None."""
    return is_demo(engine(url))


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def call_bounds(url: str, data_version: int) -> pd.DataFrame:
    return queries.call_bounds(engine(url))


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def filter_options(url: str, data_version: int) -> pd.DataFrame:
    return queries.filter_options(engine(url))


@st.cache_data(show_spinner="Summarising calls per hour…", max_entries=_BIG)
def _rollup(url: str, data_version: int, tz: str, kinds: bool) -> pd.DataFrame:
    return queries.call_rollup(engine(url), tz=zone(tz), kinds=kinds)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def _partial(url: str, data_version: int, tz: str, kinds: bool, since: datetime,
             until: datetime) -> pd.DataFrame:
    return queries.call_rollup(engine(url), tz=zone(tz), since=since, until=until, kinds=kinds)


def calls(url: str, data_version: int, scope: Scope, tz: str, *, kinds: bool = False
          ) -> pd.DataFrame:
    """Hourly roll-up rows of a scope (columns of `queries.call_rollup`)."""
    kinds = kinds or bool(scope.kinds)
    whole = _rollup(url, data_version, tz, kinds)
    return rollups.in_scope(
        whole, lambda lo, hi: _partial(url, data_version, tz, kinds, lo, hi), scope, zone(tz))


def timeline(url: str, data_version: int, scope: Scope, tz: str, unit: Unit, by: str,
             end: datetime) -> pd.DataFrame:
    rows = calls(url, data_version, scope, tz, kinds=by == "kind")
    return rollups.timeline(rows, tz=zone(tz), unit=unit, by=by, start=scope.since, end=end)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def session_count(url: str, data_version: int, scope: Scope) -> int:
    return queries.session_count(engine(url), scope=scope)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def sessions_by_model(url: str, data_version: int, scope: Scope) -> pd.DataFrame:
    return queries.sessions_by_model(engine(url), scope=scope)


@st.cache_data(show_spinner="Reading tool calls…", max_entries=_SMALL)
def tools(url: str, data_version: int, scope: Scope, durations: bool) -> pd.DataFrame:
    return queries.tools(engine(url), scope=scope, durations=durations)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def tool_timeline(url: str, data_version: int, scope: Scope, tz: str, unit: Unit,
                  end: datetime) -> pd.DataFrame:
    return queries.tool_timeline(engine(url), scope=scope, tz=zone(tz), unit=unit, until=end)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def session_table(url: str, data_version: int, scope: Scope, search: str, order: str
                  ) -> pd.DataFrame:
    return queries.session_table(engine(url), scope=scope, search=search, order=order)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def session_detail(url: str, data_version: int, session_id: str) -> pd.DataFrame:
    return queries.session_detail(engine(url), session_id=session_id)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def session_calls(url: str, data_version: int, session_id: str) -> pd.DataFrame:
    return queries.session_calls(engine(url), session_id=session_id)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def cron_activity(url: str, data_version: int, scope: Scope, tz: str) -> queries.CronActivity:
    return queries.cron_activity(engine(url), scope=scope, tz=zone(tz))


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def subagent_rollup(url: str, data_version: int, scope: Scope) -> pd.DataFrame:
    return queries.subagent_rollup(engine(url), scope=scope)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def cost_statistics(url: str, data_version: int, scope: Scope) -> pd.DataFrame:
    return queries.cost_statistics(engine(url), scope=scope)


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def alerts_now(url: str, data_version: int, rules: tuple[Rule, ...], tz: str,
               now: datetime) -> list[Alert]:
    return active_alerts(engine(url), rules, now=now, tz=zone(tz))


@st.cache_data(show_spinner=False, max_entries=_SMALL)
def alerts_since(url: str, data_version: int, rules: tuple[Rule, ...], tz: str,
                 since: datetime | None, until: datetime | None,
                 now: datetime) -> list[Alert]:
    """The alert history of a range, from the cached roll-up and session totals."""

    def hourly(rule: Rule, start: datetime | None, end: datetime) -> pd.DataFrame:
        scope = Scope(start, end, rule.agents, rule.models, rule.kinds)
        return calls(url, data_version, scope, tz)

    return alert_history(engine(url), rules, since=since, until=until, now=now, tz=zone(tz),
                         hourly=hourly)


def clear() -> None:
    """Forget every cached read and engine (tests; a database swapped under us)."""
    st.cache_data.clear()
    st.cache_resource.clear()
