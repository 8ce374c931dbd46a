"""The sweep (issue #11, item 4): every page and view of both dashboards, under a grid of
filters and under every control of the page, on a busy install, an idle one (no call for
8 days), both in one database as two gateways (the fleet: the same session ids on each,
swept under gateway filters) and an empty database (tests/installs.py).

Each combination is checked four ways, each a test of its own, so a failure names the
database, page, filters (and control) and what broke:

- `exception`: no exception element, and no error element showing a traceback;
- `none`: no table cell (of any type: Streamlit writes `None` for every missing value)
  and no metric showing `None` or `nan`; #11 asks for blank or "—";
- `empty-chart`: no chart without data (no trace, or only zeros: empty axes, a blank
  donut) unless the page says "No … in this range";
- `colours`: every model, agent, kind, cron job and tool drawn in the colour All time
  gives it (on the enhanced Overview, Timeline by kind, Cron jobs, Tools over time). Not a
  cron job of the fleet: a job's colour is its job's (its id on its gateway), so gw-b's
  "Daily digest" is another job than the busy install's (tests/test_cron_jobs.py keeps
  one job's colour across pages and filters).

Speed: one AppTest per page and database, re-run with the filters set through session
state (the keys the URL binds); the first check of a combination runs the app, the others
read what that run showed. Controls run on an AppTest of their own, so the grid sees
every control at its default.

The install's data sits at the same local hours of every day, in a zone where it is past
midday now, so which combination selects what does not depend on the clock. Every
combination must pass: the defects #11 lists were strict xfails here until each was fixed.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import installs
import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from openclaw_telemetry.timeframe import Preset, Window, resolve
from openclaw_telemetry.ui import bmaster
from openclaw_telemetry.ui.app import ENHANCED, VIEWS

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60
NOW = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
ZONE = installs.noon_zone(NOW)
TODAY = NOW.replace(tzinfo=UTC).astimezone(ZoneInfo(ZONE)).date()
PLANS = {"busy": installs.busy(NOW), "idle": installs.idle(NOW)}
CHECKS = ("exception", "none", "empty-chart", "colours")
TRACEBACK = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b")
NO_DATA = re.compile(r"\bno\b.*\bin this range", re.IGNORECASE)
SHOWN_AS_NONE = {"None", "none", "nan", "NaN", "NaT", "<NA>", "null"}


@dataclass(frozen=True)
class Filters:
    """A sidebar setting: range, custom dates (local), agents, kinds, models, gateways."""

    name: str
    preset: Preset = Preset.ALL
    days: tuple[date, date] | None = None
    agents: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"range": self.preset.value, "agent": list(self.agents),
                                 "kind": list(self.kinds), "model": list(self.models),
                                 "gateways": list(self.gateways), "tz": ZONE}
        if self.days is not None:
            state["from"], state["to"] = self.days
        return state

    def window(self) -> Window:
        start, end = self.days or (None, None)
        return resolve(self.preset, now=NOW.replace(tzinfo=UTC), tz=ZoneInfo(ZONE),
                       start=start, end=end)


def _matches(filters: Filters, agent: str, kind: str, model: str) -> bool:
    return ((not filters.agents or agent in filters.agents)
            and (not filters.kinds or kind in filters.kinds)
            and (not filters.models or model in filters.models))


def selection(db: str, filters: Filters) -> dict[str, frozenset[str]]:
    """Dimension (model, agent, kind, job, tool) -> the names with calls that `filters`
    select in `db`'s plan."""
    plan = PLANS.get(db)
    if plan is None:
        return {}
    window = filters.window()
    rows = [row for row in plan.calls if window.contains(row["timestamp"]) and _matches(
        filters, row["agent_id"], plan.sessions[row["session_id"]]["kind"], row["model"])]
    ids = {row["message_id"] for row in rows}
    owners = [plan.sessions[row["session_id"]] for row in rows]
    return {"model": frozenset(row["model"] for row in rows),
            "agent": frozenset(row["agent_id"] for row in rows),
            "kind": frozenset(owner["kind"] for owner in owners),
            "job": frozenset(owner["cron_job_name"] for owner in owners
                             if owner["kind"] == "cron"),
            "tool": frozenset(t["tool_name"] for t in plan.tools if t["message_id"] in ids)}


@dataclass(frozen=True)
class Page:
    dashboard: str  # "basic": a value of the View control; "enhanced": a page of ENHANCED
    name: str

    @property
    def script(self) -> str:
        return "dashboard.py" if self.dashboard == "basic" else "dashboard_enhanced.py"

    def __str__(self) -> str:
        return f"{self.dashboard}:{self.name}"


@dataclass(frozen=True)
class Control:
    """Values for the page's own widgets; `pick` then chooses the first session listed."""

    name: str
    values: tuple[tuple[str, Any], ...]
    pick: bool = False


def _timeline_controls() -> list[Control]:
    def one(name: str, measure: str = "cost", by: str = "model", unit: str = "day") -> Control:
        return Control(name, (("tl-measure", measure), ("tl-by", by), ("tl-unit", unit)))
    return ([one(f"measure={m}", measure=m) for m in ("cost", "tokens", "calls", "errors")]
            + [one(f"by={b}", by=b) for b in ("kind", "agent", "provider")]
            + [one(f"unit={u}", unit=u) for u in ("hour", "month")])


def _session_controls() -> list[Control]:
    controls = [Control(f"order={order},search={search or 'none'}",
                        (("sessions-order", order), ("sessions-search", search),
                         ("session", None)))
                for order in ("cost", "recent") for search in ("", "cron", "zz-no-such")]
    pick = (("sessions-order", "cost"), ("sessions-search", ""))
    return [*controls, Control("pick-first-session", pick, pick=True)]


TIMELINE = _timeline_controls()
CONTROLS: dict[str, list[Control]] = {
    "timeline": TIMELINE,
    "tools": [Control(f"durations={d},over-time={o}",
                      (("tools-durations", d), ("tools-over-time", o)))
              for d in (False, True) for o in (False, True)],
    "sessions": _session_controls(),
}
PAGES = ([Page("basic", view) for view in VIEWS]
         + [Page("enhanced", name) for name, _title, _icon in ENHANCED])


def controls(page: Page) -> list[Control]:
    """The page's own controls; the basic dashboard's timeline is swept on its Models view."""
    own = CONTROLS.get(page.name, [])
    return own + TIMELINE if page == Page("basic", "models") else own


def ranges() -> list[Filters]:
    """Every preset, an empty custom range and one holding yesterday and today."""
    return [*(Filters(p.value, p) for p in Preset if p is not Preset.CUSTOM),
            Filters("custom-empty", Preset.CUSTOM, (date(2019, 12, 30), date(2019, 12, 31))),
            Filters("custom-yesterday-today", Preset.CUSTOM, (TODAY - timedelta(days=1), TODAY))]


def grid() -> list[Filters]:
    agents = [Filters(f"agent={a}", agents=(a,)) for a in installs.AGENTS]
    kinds = [Filters(f"kind={k}", kinds=(k,)) for k in installs.KINDS]
    models = [Filters(f"model={m}", models=(m,)) for m in ("claude-sonnet-4-5", "llama3.3:70b")]
    combined = [  # the first two are #11's examples of defect 1
        Filters("today+agent=ops", Preset.TODAY, agents=("ops",)),
        Filters("24h+kind=cron", Preset.LAST_24H, kinds=("cron",)),
        Filters("agent=ops+kind=subagent", agents=("ops",), kinds=("subagent",)),
        Filters("today+kind=unknown", Preset.TODAY, kinds=("unknown",)),
        Filters("agent=research+model=claude-haiku-4-5", agents=("research",),
                models=("claude-haiku-4-5",)),
    ]
    return ranges() + agents + kinds + models + combined


def gateway_grid() -> list[Filters]:
    """The fleet's filters: each gateway, both, and with other filters, down to nothing
    (gw-b is the idle install: no call today)."""
    a, b = installs.FLEET
    return [Filters("all-gateways"), Filters(f"gateway={a}", gateways=(a,)),
            Filters(f"gateway={b}", gateways=(b,)), Filters("both-gateways", gateways=(a, b)),
            Filters(f"7d+gateway={b}", Preset.LAST_7D, gateways=(b,)),
            Filters(f"today+gateway={b}", Preset.TODAY, gateways=(b,)),
            Filters(f"gateway={a}+kind=cron+agent=ops", agents=("ops",), kinds=("cron",),
                    gateways=(a,))]


CONTROL_FILTERS = [Filters(Preset.ALL.value), Filters(Preset.TODAY.value, Preset.TODAY),
                   Filters(Preset.LAST_7D.value, Preset.LAST_7D),
                   Filters("custom-empty", Preset.CUSTOM,
                           (date(2019, 12, 30), date(2019, 12, 31)))]


@dataclass(frozen=True)
class Case:
    db: str
    page: Page
    filters: Filters
    control: Control | None = None

    def __str__(self) -> str:
        tail = f"-{self.control.name}" if self.control else ""
        return f"{self.db}-{self.page}-{self.filters.name}{tail}"


def cases() -> Iterator[Case]:
    for db in ("busy", "idle"):
        for page in PAGES:
            for filters in grid():
                yield Case(db, page, filters)
    for page in PAGES:
        for control in controls(page):
            for filters in CONTROL_FILTERS:
                yield Case("busy", page, filters, control)
    for page in PAGES:
        for filters in ranges():  # no filter is drawn on an empty database
            yield Case("empty", page, filters)
    for page in PAGES:
        for filters in gateway_grid():
            yield Case("fleet", page, filters)
    for page in PAGES:
        for control in CONTROLS.get(page.name, []) if page.name == "sessions" else []:
            for filters in gateway_grid()[1:3]:
                yield Case("fleet", page, filters, control)


# -- what a run showed ----------------------------------------------------------------------

@dataclass
class Seen:
    exception: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)
    empty_chart: list[str] = field(default_factory=list)
    colours: list[tuple[str, str, str]] = field(default_factory=list)  # chart, name, colour


def _dimensions() -> dict[str, str]:
    """Name -> what it names (model, agent, kind, cron job, tool) in the busy install;
    a name of two dimensions (agent and kind `main`) may have two colours."""
    everything = selection("busy", Filters("all"))
    seen: dict[str, set[str]] = {}
    for dimension, names in everything.items():
        for name in names:
            seen.setdefault(name, set()).add(dimension)
    return {name: dims.pop() for name, dims in seen.items() if len(dims) == 1}


DIMENSIONS = _dimensions()


def _pairs(trace: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, colour) of each thing a trace draws: pie slices, a named bar series, bars
    coloured one by one (named by their label or their first custom datum)."""
    marker = trace.get("marker") or {}
    colours = marker.get("colors") if "labels" in trace else marker.get("color")
    if "labels" in trace and isinstance(colours, list):
        return list(zip(map(str, trace["labels"]), colours, strict=False))
    if isinstance(colours, str) and trace.get("name"):
        return [(str(trace["name"]), colours)]
    if isinstance(colours, list):
        if trace.get("customdata"):
            return [(str(row[0]), c) for row, c in zip(trace["customdata"], colours, strict=False)]
        labels = trace.get("y") if trace.get("orientation") == "h" else trace.get("x")
        return list(zip(map(str, _array(labels)), colours, strict=False))
    return []


def _array(value: Any) -> list[Any]:
    """A trace's x/y/values, also in Plotly's typed-array form {'dtype', 'bdata'}."""
    if isinstance(value, dict) and "bdata" in value:
        return list(np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]))
    return list(value) if isinstance(value, list) else []


def _has_data(spec: dict[str, Any]) -> bool:
    """Any trace with a non-zero number (category labels and dates are not data)."""
    for trace in spec.get("data", []):
        for key in ("x", "y", "values"):
            for item in _array(trace.get(key)):
                if (isinstance(item, int | float | np.number) and not isinstance(item, bool)
                        and math.isfinite(float(item)) and item != 0):
                    return True
    return False


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("layout", {}).get("title", {})
    return str(title.get("text") if isinstance(title, dict) else title)


def _shows_none(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip() in SHOWN_AS_NONE
    if isinstance(value, list | tuple | dict | np.ndarray):
        return False
    return bool(pd.isna(value))


def _none_cells(table: Any) -> list[str]:
    config = json.loads(table.proto.columns or "{}")
    frame = table.value
    order = list(table.proto.column_order) or [str(c) for c in frame.columns]
    found = []
    for name in order:
        if name not in frame.columns or config.get(name, {}).get("hidden"):
            continue
        shown = frame[name].map(_shows_none)
        if shown.any():
            label = config.get(name, {}).get("label", name)
            found.append(f"table {_name(table, config)}, column {label!r}: "
                         f"{int(shown.sum())} of {len(shown)} cells")
    return found


def _name(table: Any, config: dict[str, Any]) -> str:
    """A table's key when it has one in the tree, else its first column labels."""
    key = _key(table.proto.id)
    if key:
        return repr(key)
    labels = [config.get(str(c), {}).get("label", str(c)) for c in table.value.columns[:3]]
    return "(" + ", ".join(labels) + ", …)"


def _key(element_id: str) -> str:
    parts = element_id.split("-", 2)
    return parts[2] if len(parts) == 3 else element_id


def look(at: AppTest) -> Seen:
    seen = Seen()
    seen.exception += [f"exception: {e.value}" for e in at.exception]
    seen.exception += [f"error: {e.value}" for e in at.error if TRACEBACK.search(e.value)]
    for table in at.dataframe:
        seen.none += _none_cells(table)
    seen.none += [f"metric {m.label!r} shows {m.value!r}" for m in at.metric
                  if _shows_none(m.value) or "nan" in str(m.value).lower()]
    texts = [e.value for kind in ("info", "warning", "caption", "markdown", "success")
             for e in at.get(kind)]
    said = any(NO_DATA.search(str(t)) for t in texts)
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        seen.colours += [(_key(chart.proto.id), name, colour) for trace in spec.get("data", [])
                         for name, colour in _pairs(trace) if name in DIMENSIONS]
        notes = [a.get("text", "") for a in spec.get("layout", {}).get("annotations", [])]
        if not said and not _has_data(spec) and not any(NO_DATA.search(n) for n in notes):
            seen.empty_chart.append(f"chart {_title(spec)!r} ({_key(chart.proto.id)}) "
                                    "has no data and no 'No … in this range' message")
    return seen


# -- running the apps -------------------------------------------------------------------------

class Sweep:
    """One AppTest per (database, page, grid or controls); the last case's view kept."""

    def __init__(self, urls: dict[str, str], home: Path) -> None:
        self.urls, self.home = urls, home
        self.apps: dict[tuple[str, Page, bool], AppTest] = {}
        self.last: tuple[Case, Seen] | None = None
        self.palette: dict[str, set[str]] | None = None

    @contextmanager
    def _env(self, db: str) -> Iterator[None]:
        before = Path.cwd()
        os.chdir(self.home)  # no ./alerts.toml
        try:
            with mock.patch.dict(os.environ, {"OPENCLAW_TELEMETRY_DB": self.urls[db]}):
                os.environ.pop("OPENCLAW_TELEMETRY_ALERTS", None)
                yield
        finally:
            os.chdir(before)

    def _app(self, case: Case) -> AppTest:
        key = (case.db, case.page, case.control is not None)
        if key not in self.apps:
            at = AppTest.from_file(str(ROOT / case.page.script), default_timeout=TIMEOUT)
            at.context["timezone"] = ZONE
            if case.page.dashboard == "basic":
                at.session_state["view"] = case.page.name
            with self._env(case.db):
                at.run()
                if case.page.dashboard == "enhanced":
                    at.switch_page(f"openclaw_telemetry/ui/pages/{case.page.name}.py").run()
            self.apps[key] = at
        return self.apps[key]

    def seen(self, case: Case) -> Seen:
        if self.last is not None and self.last[0] == case:
            return self.last[1]
        at = self._app(case)
        for key, value in case.filters.state().items():
            at.session_state[key] = value
        for key, value in case.control.values if case.control else ():
            at.session_state[key] = value
        at.query_params.clear()
        with self._env(case.db):
            at.run()
            if case.control is not None and case.control.pick:  # what a row click does
                listed = [t.value for t in at.dataframe if "session_id" in t.value.columns]
                if listed and not listed[0].empty:
                    at.query_params["session"] = str(listed[0]["session_id"].iloc[0])
                    at.query_params["gateway"] = str(listed[0]["gateway"].iloc[0])
                    at.run()
        seen = look(at)
        if case.db == "empty" and not at.info:
            seen.exception.append("the empty database shows no hint (st.info with the command)")
        self.last = (case, seen)
        return seen

    def reference(self) -> dict[str, set[str]]:
        """Name -> colours under All time on the busy install: the enhanced Overview
        (models, agents), Timeline by kind, Cron & sub-agents (jobs) and Tools over time."""
        if self.palette is None:
            self.palette = {}
            for case in REFERENCE:
                for _chart, name, colour in self.seen(case).colours:
                    self.palette.setdefault(name, set()).add(colour)
        return self.palette

    def colours(self, case: Case) -> list[str]:
        """Names drawn in another colour than under All time (status colours ignored)."""
        palette = self.reference()
        known = set().union(*palette.values())
        return [f"{name!r} is {colour} in {chart}, {sorted(palette[name])} under All time"
                for chart, name, colour in self.seen(case).colours
                if name in palette and colour in known and colour not in palette[name]
                and not (case.db == "fleet" and DIMENSIONS.get(name) == "job")]


def _control(page: str, name: str) -> Control:
    return next(c for c in CONTROLS[page] if c.name == name)


REFERENCE = [Case("busy", Page("enhanced", "overview"), Filters("all")),
             Case("busy", Page("enhanced", "timeline"), Filters("all"), _control("timeline", "by=kind")),
             Case("busy", Page("enhanced", "automation"), Filters("all")),
             Case("busy", Page("enhanced", "tools"), Filters("all"),
                  _control("tools", "durations=False,over-time=True"))]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    root = tmp_path_factory.mktemp("sweep")
    urls = {name: f"sqlite:///{root / name}.db" for name in ("busy", "idle", "fleet", "empty")}
    # The same install planned again up to this moment: collection may be minutes ago, and
    # the 15-minute window of Cost statistics must still hold the newest call.
    now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    for name, planner in (("busy", installs.busy), ("idle", installs.idle),
                          ("fleet", installs.fleet)):
        installs.write(urls[name], planner(now), now=now).dispose()
    installs.empty(urls["empty"]).dispose()
    st.cache_data.clear()
    st.cache_resource.clear()
    bmaster.reset()
    yield Sweep(urls, root)
    st.cache_data.clear()
    st.cache_resource.clear()


def params() -> list[Any]:
    return [pytest.param(case, check, id=f"{case}-{check}")
            for case in cases() for check in CHECKS]


@pytest.mark.parametrize(("case", "check"), params())
def test_sweep(case: Case, check: str, sweep: Sweep) -> None:
    if check == "colours":
        problems = sweep.colours(case)
    else:
        problems = getattr(sweep.seen(case), check.replace("-", "_"))
    assert not problems, f"{case}: " + "; ".join(problems)


def test_one_colour_per_name_under_all_time(sweep: Sweep) -> None:
    """The colours the sweep compares with: each model, agent, kind, job, tool has one."""
    palette = sweep.reference()
    assert {"model", "agent", "kind", "job", "tool"} <= {DIMENSIONS[n] for n in palette}
    assert not {name: colours for name, colours in palette.items() if len(colours) > 1}


def test_cron_chart_shares_the_timelines_axis(sweep: Sweep) -> None:
    """The basic dashboard's Cron & sub-agents view draws the cost of cron runs on the
    axis of the timeline above it (days or months), under every range that buckets by day
    or month; before, All time drew it over the cron days only."""
    compared = 0
    for filters in ranges():
        case = Case("busy", Page("basic", "automation"), filters)
        sweep.seen(case)
        shown = {_key(c.proto.id): json.loads(c.proto.spec)["layout"]
                 for c in sweep._app(case).get("plotly_chart")}
        hourly = filters.preset in (Preset.TODAY, Preset.LAST_24H) or filters.days == (
            TODAY - timedelta(days=1), TODAY)  # the timeline by hour; cron stays per day
        if hourly or "cron-daily" not in shown:
            continue
        assert shown["cron-daily"]["xaxis"]["range"] == shown["tl-chart"]["xaxis"]["range"], \
            filters.name
        compared += 1
    assert compared >= 4
