"""Plotly figure builders: a DataFrame from the read layer in, a `Figure` out.

No Streamlit and no SQL here, so figures can be built and checked in tests or notebooks.
Colours come from a `palette` built over every value a dimension has ever had (the
dashboards pass one per model, agent, kind and tool), so a name keeps its colour on every
chart, page and range. Every name from the data is HTML-escaped before Plotly sees it
(Plotly renders tags such as `<a>` and `<b>` in labels). A figure with nothing to draw
says so instead of showing empty axes. Money is in dollars; every figure has a title.
"""

from __future__ import annotations

import html
import math
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2",
           "#FF9DA6", "#9D755D", "#BAB0AC", "#2F4B7C", "#D45087", "#665191", "#A05195",
           "#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E", "#E6AB02", "#A6761D",
           "#17BECF", "#BCBD22", "#8C564B")
ERROR_COLOUR = "#B00020"
SEVERITY_COLOURS = {"critical": "#D62728", "warning": "#FF9F1C", "info": "#1F77B4"}
# timeline measure -> (label, hover value, what a range without any has none of)
MEASURES = {"cost": ("Cost", "$%{y:,.2f}", "calls"), "tokens": ("Tokens", "%{y:,.0f}", "calls"),
            "calls": ("LLM calls", "%{y:,.0f}", "calls"),
            "errors": ("Errors", "%{y:,.0f}", "calls"),
            "tool_calls": ("Tool calls", "%{y:,.0f}", "tool calls")}
WHOLE = frozenset({"calls", "errors", "tool_calls"})  # counts of a few: whole-number ticks
_HOUR_MS, _DAY_MS = 3_600_000, 86_400_000
# per bucket unit: bar period, the least span the axis shows, tick label format
_UNITS = {"hour": (_HOUR_MS, pd.Timedelta(hours=24), "%H:%M\n%b %d"),
          "day": (_DAY_MS, pd.Timedelta(days=7), "%b %d"),
          "month": ("M1", pd.Timedelta(days=183), "%b %Y")}
# a bar's width (ms): without it plotly sizes bars by the gaps between them, and the one
# bar of a frame that is not zero-filled (a single day of cron runs) is a hairline
_BAR_MS = {"hour": 0.9 * _HOUR_MS, "day": 0.9 * _DAY_MS, "month": 0.9 * 28 * _DAY_MS}
_TOKEN_KINDS = (("input", "Input"), ("output", "Output"), ("cache_read", "Cache read"),
                ("cache_write", "Cache write"))
# a colour per token kind, none of them the red of errors and critical alerts (plotly's
# second colour, which cache read had)
TOKEN_COLOURS = {"input": "#4C78A8", "output": "#54A24B", "cache_read": "#72B7B2",
                 "cache_write": "#B279A2"}
Colours = Mapping[str, str]
_BAR_PX = 28  # a ranked bar's thickness at most, px (its row in a long chart)


def palette(names: Iterable[str]) -> dict[str, str]:
    """A colour per name, by alphabetical position among all `names` (distinct colours
    for up to 24 names): give it every value a dimension has, never just those in view."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(sorted(set(names)))}


def colour(name: str, colours: Colours | None = None) -> str:
    """The palette's colour of `name`, else one derived from the name itself."""
    if colours is not None and name in colours:
        return colours[name]
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]


def safe(name: object) -> str:
    """A name from the data as Plotly must get it: HTML-escaped, so it shows as typed."""
    return html.escape(str(name))


def _layout(fig: go.Figure, title: str, *, height: int = 360) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"}, height=height,
                      margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      legend={"orientation": "h", "yref": "container", "y": 0,
                              "yanchor": "bottom", "x": 0, "xanchor": "left",
                              "title": None},
                      hovermode="x unified", bargap=0.1)
    return fig


def empty(title: str, what: str = "calls", *, where: str = "this range") -> go.Figure:
    """A figure that says there is nothing to draw (no axes, no blank donut)."""
    fig = go.Figure()
    fig.add_annotation(text=f"No {what} in {where}", showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper", font={"size": 16, "color": "#666"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=200)


def _order(frame: pd.DataFrame, measure: str, column: str = "series") -> list[str]:
    """Series by total, largest first (drawn at the bottom of a stack)."""
    totals = frame.groupby(column)[measure].sum().sort_values(ascending=False)
    return [str(name) for name in totals.index]


def time_axis(fig: go.Figure, unit: str, start: datetime | pd.Timestamp | None,
              end: datetime | pd.Timestamp | None, *, anchor: pd.Timestamp | None = None,
              range_start: bool = False) -> None:
    """Ticks that fit the bucket unit, over the range shown (at least a day of hours, a
    week of days or half a year of months, so one bucket never fills the plot); days are
    labelled from `anchor` (the first with data), else from the first shown. What the
    axis shows before `start` is shaded and says what it is: before the chosen range
    (`range_start`: `start` is where it begins), else before the chart's data (All time:
    its first call, cron run, alert …): its empty buckets are no days or months without."""
    _period, least, ticks = _UNITS.get(unit, _UNITS["day"])
    if start is not None and end is not None:
        begin, high = pd.Timestamp(start), pd.Timestamp(end)
        low = min(begin, high - least)
        fig.update_xaxes(range=[low, high])
        if low < begin:
            fig.add_vrect(x0=low, x1=begin, fillcolor="#888", opacity=0.1, line_width=0,
                          layer="below", annotation_position="top left",
                          annotation_text="before the range" if range_start
                          else "before the data",
                          annotation_font={"size": 11, "color": "#666"})
        if unit == "day":
            _day_ticks(fig, low, high, low if anchor is None else anchor)
    if unit == "month":  # a month's name in the middle of its month, over its bar
        fig.update_xaxes(dtick="M1", ticklabelmode="period")
    fig.update_xaxes(tickformat=ticks)


_DAY_LABELS = 7  # at most: "Nov 24" seven times fits a phone's plot


def _day_ticks(fig: go.Figure, low: pd.Timestamp, high: pd.Timestamp,
               anchor: pd.Timestamp) -> None:
    """A day's label under its bar's middle, every day or every few days, `anchor`'s day
    among them: plotly's own ticks are midnights it picks (every other day from the day
    after a lone bar: no label of its own)."""
    days = math.ceil((high - low.normalize()) / pd.Timedelta(days=1))
    step = max(1, math.ceil(days / _DAY_LABELS))
    fig.update_xaxes(tickmode="linear", tick0=anchor.normalize() + pd.Timedelta(hours=12),
                     dtick=step * _DAY_MS)


def count_axis(fig: go.Figure, highest: float) -> None:
    """A y axis of whole numbers from zero: whole labels, and a step of 1 up to 10 (plotly
    would tick 0, 0.5, 1, 1.5 for one or two errors)."""
    fig.update_yaxes(rangemode="tozero", tickformat=",d", dtick=1 if highest <= 10 else None)


def _bounds(frame: pd.DataFrame, unit: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The range a timeline covers: its first bucket's start to its last bucket's end."""
    first, last = pd.Timestamp(frame["bucket"].min()), pd.Timestamp(frame["bucket"].max())
    step = pd.DateOffset(months=1) if unit == "month" else pd.Timedelta(
        hours=1 if unit == "hour" else 24)
    return first, last + step


Span = tuple[pd.Timestamp | None, pd.Timestamp | None]


def timeline(frame: pd.DataFrame, *, measure: str = "cost", by: str = "model",
             unit: str = "day", colours: Colours | None = None, span: Span = (None, None)
             ) -> go.Figure:
    """Stacked bars: `measure` per bucket, one colour per series (zero-filled buckets);
    each bar spans its bucket (a month bar its month). The axis covers `span` (the chosen
    range, local time; an open end: the data's)."""
    label, hover, what = MEASURES.get(measure, (measure, "%{y:,}", "calls"))
    title = f"{label} per {unit}, by {by}"
    if frame.empty or not frame[measure].any():
        return empty(title, what)
    period = _UNITS.get(unit, _UNITS["day"])[0]
    fig = go.Figure()
    names = _order(frame, measure)
    for name in names:
        part = frame[frame["series"] == name]
        fig.add_bar(x=part["bucket"], y=part[measure], name=safe(name),
                    marker_color=colour(name, colours), xperiod=period,
                    xperiodalignment="middle", width=_BAR_MS.get(unit, _BAR_MS["day"]),
                    hovertemplate=f"%{{fullData.name}}: {hover}<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=label, tickprefix="$" if measure == "cost" else "",
                     rangemode="tozero")
    if measure in WHOLE:
        count_axis(fig, frame.groupby("bucket")[measure].sum().max())
    first, last = _bounds(frame, unit)
    time_axis(fig, unit, span[0] if span[0] is not None else first,
              span[1] if span[1] is not None else last,
              anchor=pd.Timestamp(frame.loc[frame[measure] != 0, "bucket"].min()),
              range_start=span[0] is not None)
    return _layout(fig, title, height=360 + _legend_room(len(names)))


def _legend_room(entries: int) -> int:
    """Extra height for a legend below the plot: a row per entry on a phone, where it
    wraps (up to 12 rows; beyond, the plot gives way)."""
    return 16 * min(max(entries - 3, 0), 12)


def share_pie(frame: pd.DataFrame, *, names: str, values: str, title: str,
              colours: Colours | None = None) -> go.Figure:
    """Donut of each row's share of `values` (rows with 0 left out), largest first. Every
    slice is named in the legend below it; a slice shows its percentage where that fits
    at a readable size, else nothing (a small slice's label shrank to a speck: on a phone
    small slices could not be told apart)."""
    part = frame[frame[values] > 0].sort_values(values, ascending=False, kind="stable")
    if part.empty:
        return empty(title)
    labels = [str(n) for n in part[names]]
    fig = go.Figure(go.Pie(labels=[safe(n) for n in labels], values=part[values], hole=0.45,
                           sort=False, marker={"colors": [colour(n, colours) for n in labels]},
                           texttemplate="%{percent}", textposition="inside",
                           insidetextorientation="horizontal"))
    fig.update_layout(showlegend=True, uniformtext={"minsize": 11, "mode": "hide"})
    return _layout(fig, title, height=360 + _legend_room(len(labels)))


def ranked_bars(frame: pd.DataFrame, *, names: str, values: str, title: str,
                money: bool = False, top: int = 15, colours: Colours | None = None
                ) -> go.Figure:
    """Horizontal bars, largest on top; one colour unless `colours` names each bar's. Long
    names are shortened on the axis (`short_labels`), whole in the hover: a phone's
    width went to the names, not the bars."""
    ranked = frame[frame[values] > 0].nlargest(top, values)
    if ranked.empty:
        return empty(title)
    part = ranked.iloc[::-1]  # (drawn from the bottom: the largest on top)
    labels = _distinct([str(n) for n in ranked[names]])[::-1]
    shown = [safe(n) for n in labels]
    fig = go.Figure(go.Bar(x=part[values], y=shown, orientation="h",
                           marker_color=([colour(n, colours) for n in labels]
                                         if colours is not None else PALETTE[0]),
                           hovertemplate="%{y}<br>" + ("$%{x:,.2f}" if money else "%{x:,}")
                           + "<extra></extra>"))
    fig.update_xaxes(tickprefix="$" if money else "")
    fig.update_yaxes(tickmode="array", tickvals=shown,
                     ticktext=[safe(n) for n in short_labels(labels)])
    fig.update_layout(hovermode="closest")
    height = max(240, 40 + _BAR_PX * len(part))
    # a bar at most ~28 px thick: a lone one took the whole least height (110 px)
    fig.update_traces(width=min(0.9, _BAR_PX / ((height - 90) / len(part))))
    return _layout(fig, title, height=height)


def _distinct(labels: list[str]) -> list[str]:
    """Labels that are the axis's categories, each its own: a repeated one (two cron runs
    of one job started in the same minute) gets ' (2)', ' (3)' …, else plotly draws both
    bars in one row, one over the other."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def short_labels(labels: list[str], width: int = 28) -> list[str]:
    """Labels of at most `width` characters. A long one first loses what every bar says
    alike (`_bare`: the 'agent:' every session key begins with, and the agent's id where
    all keys on the chart are one agent's), then its middle (`_middle`: the head, a key's
    channel and kind, before the end, a session's start); labels that would then read
    alike keep more of themselves, the redundant prefix last, until they differ."""
    bare = _bare(labels)
    widths = [width] * len(labels)
    while True:
        short = [label if w >= len(label) else _middle(stem, w)
                 for label, stem, w in zip(labels, bare, widths, strict=True)]
        alike = {s for s in short if short.count(s) > 1}
        grow = [i for i, s in enumerate(short) if s in alike and s != labels[i]]
        if not grow:
            return short
        for i in grow:
            widths[i] += 4


def _bare(labels: list[str]) -> list[str]:
    """Each label without the 'agent:' of a session key, nor the agent's id ('main:') where
    every key among the labels is that one agent's (a chart of one agent's sessions)."""
    keys = [parts if parts[0] == "agent" and len(parts) == 3 else None
            for parts in (label.split(":", 2) for label in labels)]
    one_agent = len({key[1] for key in keys if key is not None}) == 1
    return [label if key is None else key[2] if one_agent else f"{key[1]}:{key[2]}"
            for label, key in zip(labels, keys, strict=True)]


def _middle(label: str, width: int) -> str:
    """`label` with its middle replaced by '…' to `width` characters: 3/5 kept of its head
    (without the stub of a word it cuts: 'ops:telegram:dir' -> 'ops:telegram:'), the rest
    of its end."""
    if len(label) <= width:
        return label
    keep = (width - 1) * 3 // 5
    head = label[:keep]
    cut = max(head.rfind(":"), head.rfind(" ")) + 1
    return f"{head[:cut] if cut and keep - cut <= 4 else head}…{label[keep + 1 - width:]}"


def token_kinds(frame: pd.DataFrame, *, by: str, title: str) -> go.Figure:
    """Stacked horizontal bars of the four token kinds per `by` (e.g. provider)."""
    kinds = [k for k, _ in _TOKEN_KINDS]
    grouped = frame.groupby(by, as_index=False)[kinds].sum()
    if not grouped[kinds].to_numpy().any():
        return empty(title)
    fig = go.Figure()
    for key, label in _TOKEN_KINDS:
        fig.add_bar(y=[safe(n) for n in grouped[by]], x=grouped[key], name=label,
                    orientation="h", marker_color=TOKEN_COLOURS[key],
                    hovertemplate=f"{label}: %{{x:,}}<extra></extra>")
    fig.update_layout(barmode="stack", hovermode="y unified")
    return _layout(fig, title, height=max(240, 80 + 40 * len(grouped)))


def tool_usage(frame: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """Calls per tool split into succeeded / failed / no result seen."""
    part = frame.nlargest(top, "calls").iloc[::-1]
    if part.empty:
        return empty("Tool calls", "tool calls")
    ok = part["results"] - part["errors"]
    names = [safe(n) for n in part["tool_name"]]
    fig = go.Figure()
    for values, name, tint in ((ok, "succeeded", "#54A24B"), (part["errors"], "failed", "#E45756"),
                               (part["calls"] - part["results"], "no result", "#BAB0AC")):
        fig.add_bar(y=names, x=values, name=name, orientation="h",
                    marker_color=tint, hovertemplate=f"{name}: %{{x:,}}<extra></extra>")
    fig.update_layout(barmode="stack", hovermode="y unified")
    return _layout(fig, "Tool calls", height=max(260, 60 + 26 * len(part)))


def cron_daily(frame: pd.DataFrame, colours: Colours | None = None, *, unit: str = "day",
               span: Span = (None, None)) -> go.Figure:
    """Cron-job cost per day or month (`unit`), stacked by job, on the axis of the timeline
    of the same range: `span` (local; its ends widened to whole buckets), else the data's."""
    renamed = frame.rename(columns={"day": "bucket", "job": "series"})
    last = _bounds(renamed, unit)[1] if not renamed.empty else None
    high = span[1] if span[1] is not None else last
    return timeline(renamed, measure="cost", by="cron job", unit=unit, colours=colours,
                    span=(None if span[0] is None else _bucket_floor(span[0], unit),
                          None if high is None else _bucket_ceil(high, unit)))


def _bucket_floor(moment: pd.Timestamp, unit: str) -> pd.Timestamp:
    """The start of the local day or month holding a moment (tz-aware)."""
    day = moment.tz_localize(None).normalize()
    if unit == "month":
        day = day.replace(day=1)
    return day.tz_localize(moment.tz, ambiguous=True, nonexistent="shift_forward")


def _bucket_ceil(moment: pd.Timestamp, unit: str) -> pd.Timestamp:
    """The end of the bucket holding a moment (the moment itself on a bucket's start)."""
    start = _bucket_floor(moment, unit)
    if start == moment:
        return moment
    step = pd.DateOffset(months=1) if unit == "month" else pd.DateOffset(days=1)
    wall: pd.Timestamp = start.tz_localize(None) + step
    return wall.tz_localize(start.tz, ambiguous=True, nonexistent="shift_forward")


def severity_timeline(frame: pd.DataFrame, severities: Iterable[str], *,
                      start: datetime | None = None, end: datetime | None = None
                      ) -> go.Figure:
    """Fired alerts per local day, stacked by severity (columns day, severity, alerts),
    over the range `[start, end)` (local wall-clock times; None: the days with alerts)."""
    title = "Alerts fired per day"
    if frame.empty:
        return empty(title, "alerts")
    fig = go.Figure()
    for severity in severities:
        part = frame[frame["severity"] == severity]
        fig.add_bar(x=part["day"], y=part["alerts"], name=severity,
                    marker_color=SEVERITY_COLOURS.get(severity, "#888"), xperiod=_DAY_MS,
                    xperiodalignment="middle", width=_BAR_MS["day"],
                    hovertemplate=f"{severity}: %{{y:,}}<extra></extra>")
    fig.update_layout(barmode="stack")
    first, last = _bounds(frame.rename(columns={"day": "bucket"}), "day")
    time_axis(fig, "day", start or first, end or last, range_start=start is not None)
    count_axis(fig, frame.groupby("day")["alerts"].sum().max())
    return _layout(fig, title, height=260)
