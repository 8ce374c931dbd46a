"""The sidebar filters and refresh settings, kept in the URL query string.

Every widget is bound to a query parameter (`bind="query-params"`), so a view can be
shared or bookmarked: `?range=Last+7+days&model=gpt-5&tz=Europe/Berlin` (Streamlit keeps
the option as shown; a range's short name, `?range=7d`, is that range). Values not
offered are dropped, and said (`link_notice`); defaults are left out of the URL.
The gateway filter (`gateways`: `gateway` alone names the gateway of the session a page
opens) is drawn only when the database holds more than one gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from openclaw_telemetry.read import Scope
from openclaw_telemetry.timeframe import PRESET_LABELS, Preset, Window, resolve, zone, zone_names

INTERVALS = {10: "10 s", 30: "30 s", 60: "1 min", 300: "5 min"}
KIND_LABELS = {"main": "main chat", "direct": "direct message", "group": "group",
               "channel": "channel", "thread": "thread", "cron": "cron job",
               "subagent": "sub-agent", "heartbeat": "heartbeat", "acp": "ACP",
               "hook": "hook", "dashboard": "dashboard", "unknown": "unknown"}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the user chose; `window()` turns it into UTC bounds at a given moment."""

    preset: Preset = Preset.ALL
    start: date | None = None
    end: date | None = None
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tz: str = "UTC"
    gateways: tuple[str, ...] = ()

    def window(self, now: datetime) -> Window:
        return resolve(self.preset, now=now, tz=zone(self.tz), start=self.start, end=self.end)

    def scope(self, window: Window) -> Scope:
        return Scope(window.since, window.until, self.agents, self.models, self.kinds,
                     self.gateways)

    def previous(self, window: Window) -> Scope | None:
        if window.previous is None:
            return None
        return self.scope(window).between(*window.previous)

    def describe(self) -> str:
        if self.preset is Preset.CUSTOM:
            return f"{self.start} – {self.end}"
        return PRESET_LABELS[self.preset]


@dataclass(frozen=True, slots=True)
class Refresh:
    live: bool = True
    every: int = 30


def _values(options: pd.DataFrame, field: str) -> list[str]:
    return [str(v) for v in options.loc[options["field"] == field, "value"]]


def gateways(options: pd.DataFrame) -> tuple[str, ...]:
    """Every gateway the database holds (of `read.filter_options`)."""
    return tuple(_values(options, "gateway"))


# query parameter -> its field in `read.filter_options`, the filter's name for one value
# and for all of them
_LISTS = {"agent": ("agent", "agent", "agents"), "model": ("model", "model", "models"),
          "kind": ("kind", "session kind", "kinds"),
          "gateways": ("gateway", "gateway", "gateways")}
_LACKING = "filters-lacking"  # session state: (the notice, the filters it is about)
# the query parameters the filters are bound to, which a link to another page carries
FILTER_PARAMS = ("range", "from", "to", *_LISTS, "tz")


def carried() -> str:
    """The filters of this page's address as the tail of another's ('&agent=main&tz=…'):
    a link that opens a session keeps the view it was clicked in, as the navigation does."""
    pairs = [(name, value) for name in FILTER_PARAMS for value in st.query_params.get_all(name)]
    return f"&{urlencode(pairs)}" if pairs else ""


def _lacking(options: pd.DataFrame, zones: list[str], default_tz: str) -> str | None:
    """What the URL asks the filters for that is no time range or zone, or that the
    database does not hold (Streamlit drops such values in silence: a link shared for one
    agent would show everyone's spend, one for last month all time)."""
    wrong: list[str] = []  # no such range or zone
    lacks: list[str] = []  # no such agent, model … in this database
    emptied: list[tuple[str, bool]] = []  # what is shown instead, and whether it is plural
    for param, one, offered, default in (
            ("range", "time range", PRESET_LABELS.values(), PRESET_LABELS[Preset.ALL]),
            ("tz", "time zone", zones, default_tz)):
        asked = st.query_params.get(param)
        if asked is not None and asked not in offered:
            wrong.append(f"no {one} '{asked}'")
            emptied.append((default, False))
    for param, (field, one, every) in _LISTS.items():
        asked_all = st.query_params.get_all(param)
        held = set(_values(options, field))
        gone = [value for value in asked_all if value not in held]
        lacks += [f"no {one} '{value}'" for value in gone]
        if gone and len(gone) == len(asked_all):
            emptied.append((f"all {every}", True))
    if not wrong and not lacks:
        return None
    said = " and ".join(wrong)
    said = said[:1].upper() + said[1:]
    if lacks:
        said += f"{', and t' if wrong else 'T'}his database holds {' and '.join(lacks)}"
    which = "it was" if len(wrong) + len(lacks) == 1 else "those were"
    plural = len(emptied) > 1 or any(many for _, many in emptied)
    shown = (f", so {' and '.join(text for text, _ in emptied)} {'are' if plural else 'is'}"
             " shown" if emptied else "")
    return f"{said}: {which} left out of the filters{shown}."


def _short_range() -> None:
    """A range a link names by its short name (`?range=7d`) or in another case ('last 7
    days') as the label the select box is bound by ('Last 7 days')."""
    asked = st.query_params.get("range")
    if asked is None or asked in PRESET_LABELS.values():
        return
    for preset, label in PRESET_LABELS.items():
        if asked.strip().lower() in (preset.value, label.lower()):
            st.query_params["range"] = label
            st.session_state["range"] = preset.value
            return


def link_notice(chosen: Filters) -> str | None:
    """The notice of what a link asked for and the database lacks, while the filters are
    still those the link left (the page re-runs; the URL no longer holds the values)."""
    stored = st.session_state.get(_LACKING)
    return stored[0] if stored and stored[1] == chosen else None


def sidebar(options: pd.DataFrame, browser_tz: str | None) -> Filters:
    """Draw the filters in the sidebar; return what they say."""
    _short_range()
    names = zone_names()  # (a walk of the zone files: once per run of the page)
    default = browser_tz if browser_tz in names else "UTC"
    lacking = _lacking(options, names, default)
    chosen = _draw(options, browser_tz, names, default)
    if lacking:
        st.session_state[_LACKING] = (lacking, chosen)
    return chosen


def _draw(options: pd.DataFrame, browser_tz: str | None, names: list[str],
          default: str) -> Filters:
    with st.sidebar:
        st.header("Filters")
        preset = Preset(st.selectbox(
            "Time range", [p.value for p in Preset], key="range", bind="query-params",
            format_func=lambda v: PRESET_LABELS[Preset(v)]))
        start = end = None
        if preset is Preset.CUSTOM:
            # the zone chosen below (or the browser's): "today" is a local day
            today = datetime.now(zone(st.session_state.get("tz") or browser_tz)).date()
            start = st.date_input("From", value=today - timedelta(days=6), key="from",
                                  bind="query-params")
            end = st.date_input("To", value=today, key="to", bind="query-params")
            if isinstance(start, date) and isinstance(end, date) and start > end:
                start, end = end, start  # what the range means; said, and so described
                st.warning(f"From is after To: showing {start} – {end}.",
                           icon=":material/swap_horiz:")
        agents = st.multiselect("Agent", _values(options, "agent"), key="agent",
                                bind="query-params", placeholder="All agents")
        models = st.multiselect("Model", _values(options, "model"), key="model",
                                bind="query-params", placeholder="All models")
        kinds = st.multiselect("Session kind", _values(options, "kind"), key="kind",
                               bind="query-params", placeholder="All kinds",
                               help=", ".join(f"{k}: {v}" for k, v in KIND_LABELS.items()))
        hosts, chosen = gateways(options), []
        if len(hosts) > 1:
            chosen = st.multiselect("Gateway", hosts, key="gateways", bind="query-params",
                                    placeholder="All gateways",
                                    help="The OpenClaw host the data was read from.")
        tz = st.selectbox("Time zone", names, index=names.index(default), key="tz",
                          bind="query-params", help="Buckets and 'Today' follow this zone; "
                                                    "the default is your browser's.")
    return Filters(preset, _day(start), _day(end), tuple(agents), tuple(models),
                   tuple(kinds), str(tz), tuple(chosen))


def _day(value: object) -> date | None:
    return value if isinstance(value, date) else None


def refresh_settings() -> Refresh:
    with st.sidebar:
        st.divider()
        live = st.toggle("Auto-refresh", value=True, key="live", bind="query-params",
                         help="Re-read the database in place, without reloading the page.")
        every = st.selectbox("Every", list(INTERVALS), index=1, key="every",
                             format_func=INTERVALS.__getitem__, bind="query-params",
                             disabled=not live)
    return Refresh(bool(live), int(every))
