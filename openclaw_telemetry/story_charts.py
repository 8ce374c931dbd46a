"""Figures of the session explorer and the comparisons page (same rules as `charts.py`:
DataFrame in, figure out, no Streamlit, names from the data HTML-escaped).

The session story is one figure of stacked panels over the call number, so a marker, a
jump in context and an expensive call line up: markers (errors, retries, compactions,
resets, model and thinking-level switches), cost per call, context size, cache hit rate
and latency. WebGL scatter traces keep a 5,000-call session quick to draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from openclaw_telemetry.charts import ERROR_COLOUR, Colours, _layout, colour, empty, safe
from openclaw_telemetry.model import THINKING_LEVELS

MARKER_STYLE = {  # kind -> (label, symbol, colour)
    "error": ("error", "x", ERROR_COLOUR),
    "retry": ("retry", "circle-open", "#FF9F1C"),
    "compaction": ("compaction", "diamond", "#1F77B4"),
    "reset": ("reset", "square", "#444444"),
    "model_switch": ("model switch", "triangle-up", "#2CA02C"),
    "thinking_switch": ("thinking switch", "star", "#9467BD"),
    "prompt_error": ("prompt error", "x-thin-open", "#D62728"),
}
# a thinking level's colour wherever levels are drawn (the comparison bars, cost by level):
# grey for off, then purples darkening with the level; other values get `colour`'s own
THINKING_COLOURS = dict(zip(THINKING_LEVELS, ("#BAB0AC", "#CBC9E2", "#9E9AC8", "#807DBA",
                                              "#6A51A3", "#3F007D"), strict=True))
_LINE_KINDS = ("compaction", "reset", "model_switch", "thinking_switch")
# a rate: up to three decimals of a percent, trailing zeros dropped (d3-format "~"), so
# ticks read 0.5%, 1%, 1.5% and a 0.2 % error rate is not a row of "0%" ticks
_RATE = ".3~%"
_MAX_LINES = 60  # vertical lines are shapes: past a few dozen they only add clutter


def session_story(timeline: pd.DataFrame, marks: pd.DataFrame,
                  colours: Colours | None = None) -> go.Figure:
    """Panels over call #: markers, cost per call (by model, failed calls marked x),
    context tokens, cache hit rate, latency."""
    title = "Call by call"
    if timeline.empty:
        return empty(title)
    # Titles are short and the panels well apart, so nothing overlaps at a phone's width.
    fig = make_subplots(rows=5, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        row_heights=[0.12, 0.28, 0.22, 0.19, 0.19],
                        subplot_titles=("Markers", "Cost per call", "Context tokens",
                                        "Cache hit rate", "Latency"))
    _marker_row(fig, marks)
    _cost_row(fig, timeline, colours)
    calls = timeline["n"]
    dot = 4 if len(calls) > 200 else 7
    # a call without usage (a failed one) has no context: a gap, not a fall to 0 that
    # reads as a reset (the cache-hit panel's NaN does the same)
    context = timeline["context"].where(timeline["context"] > 0)
    fig.add_trace(go.Scattergl(x=calls, y=context, mode="lines", name="context",
                               line={"color": "#4C78A8"}, showlegend=False,
                               hovertemplate="call %{x}: %{y:,} tokens<extra></extra>"), 3, 1)
    fig.add_trace(go.Scattergl(x=calls, y=timeline["cache_hit"], mode="markers",
                               name="cache hit", marker={"size": dot, "color": "#54A24B"},
                               showlegend=False,
                               hovertemplate="call %{x}: %{y:.0%}<extra></extra>"), 4, 1)
    fig.add_trace(go.Scattergl(x=calls, y=timeline["latency_ms"] / 1000, mode="markers",
                               name="latency", marker={"size": dot, "color": "#72B7B2"},
                               showlegend=False,
                               hovertemplate="call %{x}: %{y:,.1f} s<extra></extra>"), 5, 1)
    _marker_lines(fig, marks)
    fig.update_yaxes(rangemode="tozero", row=3, col=1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], row=4, col=1)
    fig.update_yaxes(ticksuffix=" s", rangemode="tozero", row=5, col=1)
    fig.update_xaxes(title="call #", row=5, col=1)
    fig.update_layout(hovermode="closest", legend={"orientation": "h", "y": -0.12},
                      bargap=0.1)
    return _layout(fig, title, height=820)


def _marker_row(fig: go.Figure, marks: pd.DataFrame) -> None:
    placed = marks.dropna(subset=["n"])
    kinds = [k for k in MARKER_STYLE if k in set(placed["kind"])]
    for kind in kinds:
        label, symbol, tint = MARKER_STYLE[kind]
        part = placed[placed["kind"] == kind]
        fig.add_trace(go.Scattergl(
            x=part["n"], y=[label] * len(part), mode="markers", name=label, legendgroup=kind,
            marker={"symbol": symbol, "size": 9, "color": tint},
            customdata=[safe(d) for d in part["detail"].fillna("")],
            hovertemplate=f"call %{{x}}: {label}<br>%{{customdata}}<extra></extra>"), 1, 1)
    # One line per kind; the legend names them (tick labels would overlap in 80 px).
    fig.update_yaxes(showticklabels=False, row=1, col=1, categoryorder="array",
                     categoryarray=[MARKER_STYLE[k][0] for k in kinds])
    if not kinds:
        # not a blank band (markers after the last call are in the table only); placed on
        # the paper: by "x domain"/"y domain" the page drew it under the next title
        low, high = fig.layout.yaxis.domain
        fig.add_annotation(
            text="No errors, model switches, compactions or resets" if marks.empty
            else "Nothing marked up to the last call",
            xref="paper", yref="paper", x=0.5, y=(low + high) / 2, showarrow=False,
            font={"size": 12, "color": "#666"})


def _cost_row(fig: go.Figure, timeline: pd.DataFrame, colours: Colours | None) -> None:
    """One bar trace per model, in its colour and named once in the legend; a failed call
    is an x on its bar (a shape: no colour is safe beside a palette of 24), toggled with
    the Markers panel's errors."""
    models = timeline["model"].astype(str)
    for model in sorted(set(models)):
        part = timeline[models == model]
        fig.add_trace(go.Bar(
            x=part["n"], y=part["cost"], name=safe(model), legendrank=1,  # models first
            marker={"color": colour(model, colours), "line": {"width": 0}},
            hovertemplate="call %{x}: $%{y:,.4f}<br>%{fullData.name}<extra></extra>"), 2, 1)
    failed = timeline[timeline["is_error"].astype(bool)]
    fig.add_trace(go.Scatter(
        x=failed["n"], y=failed["cost"], mode="markers", name="failed call",
        legendgroup="error", showlegend=False, cliponaxis=False,
        marker={"symbol": "x", "size": 10, "color": ERROR_COLOUR,
                "line": {"width": 1, "color": "white"}},  # seen on a bar of any colour
        hovertemplate="call %{x} failed: $%{y:,.4f}<extra></extra>"), 2, 1)
    fig.update_yaxes(tickprefix="$", rangemode="nonnegative", row=2, col=1)
    fig.update_layout(barmode="overlay")


def _marker_lines(fig: go.Figure, marks: pd.DataFrame) -> None:
    lines = marks[marks["kind"].isin(_LINE_KINDS)].dropna(subset=["n"]).head(_MAX_LINES)
    for kind, n in zip(lines["kind"], lines["n"], strict=True):
        fig.add_vline(x=float(n) - 0.5, line_dash="dot", line_width=1,
                      line_color=MARKER_STYLE[str(kind)][2], row="all", col=1)


def compare_bars(frame: pd.DataFrame, *, measure: str, title: str, names: Sequence[str],
                 colours: Colours | None = None, money: bool = False,
                 percent: bool = False, nothing: str = "calls") -> go.Figure:
    """One bar per compared item (`frame` has `item` and `measure` columns); `percent`:
    the measure is a share (0–1), shown as a percentage with the decimals its ticks need
    (0.2 % never reads 0 %). When every item's value is zero or missing the figure says
    there are no `nothing` (e.g. 'errors') instead of drawing empty axes."""
    if frame.empty:
        return empty(title)
    if not frame[measure].fillna(0).any():
        return empty(title, nothing, where="this range and filter")
    order = [n for n in names if n in set(frame["item"])]
    shown = frame.set_index("item").loc[order].reset_index()
    fig = go.Figure(go.Bar(
        x=[safe(i) for i in shown["item"]], y=shown[measure],
        marker_color=[colour(str(i), colours) for i in shown["item"]],
        hovertemplate=("%{x}: $%{y:,.4f}" if money else f"%{{x}}: %{{y:{_RATE}}}" if percent
                       else "%{x}: %{y:,.3g}") + "<extra></extra>"))
    # names, never dates: periods named "2026-12-06" made a time axis that dropped "Today"
    fig.update_xaxes(type="category")
    if money:
        fig.update_yaxes(tickprefix="$")
    if percent:
        fig.update_yaxes(tickformat=_RATE, rangemode="tozero")
    return _layout(fig, title, height=300)


def thinking_cost(frame: pd.DataFrame) -> go.Figure:
    """Cost and cost per call by thinking level (columns level, calls, cost, cost_per_call),
    the levels in OpenClaw's order (others after them, alphabetically), each in its colour
    (`THINKING_COLOURS`). Untitled: the page's heading names it. No level, or no cost at
    any level, is said instead of drawn."""
    if frame.empty:
        return empty("", where="this range and filter")
    if not frame["cost"].fillna(0).any():
        return empty("", "cost by thinking level", where="this range and filter")
    rank = {level: index for index, level in enumerate(THINKING_LEVELS)}
    order = sorted(map(str, frame["level"]), key=lambda level: (rank.get(level, len(rank)),
                                                                level))
    shown = frame.assign(level=frame["level"].astype(str)).set_index("level").loc[order]
    shown = shown.reset_index()
    levels = [safe(level) for level in shown["level"]]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=levels, y=shown["cost"], name="cost",
                         marker_color=[colour(lv, THINKING_COLOURS) for lv in shown["level"]],
                         hovertemplate="%{x}: $%{y:,.2f}<extra>cost</extra>"))
    fig.add_trace(go.Scatter(x=levels, y=shown["cost_per_call"], name="cost per call",
                             mode="markers+lines", marker={"color": "#F58518"},
                             hovertemplate="%{x}: $%{y:,.4f} per call<extra></extra>"),
                  secondary_y=True)
    fig.update_yaxes(tickprefix="$", title="cost", secondary_y=False)
    # ticks of its own (not the left axis' gridlines, which made $0.0041, $0.0082), each
    # with the digits it needs and no more: $0.005, $0.01, $0.0125
    fig.update_yaxes(tickprefix="$", title="per call", secondary_y=True, rangemode="tozero",
                     tickmode="auto", tickformat=",.3~g", showgrid=False)
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    return _layout(fig, "", height=320)
