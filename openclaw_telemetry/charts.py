"""Plotly figure builders: a DataFrame from `queries.py` in, a `Figure` out.

No Streamlit and no SQL here, so figures can be built and checked in tests or notebooks.
Colours are stable per name (a model keeps its colour on every chart and every page);
money is shown in dollars, and every figure has a title that says what is measured.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2",
           "#FF9DA6", "#9D755D", "#BAB0AC", "#2F4B7C", "#D45087", "#665191", "#A05195")
ERROR_COLOUR = "#B00020"
SEVERITY_COLOURS = {"critical": "#D62728", "warning": "#FF9F1C", "info": "#1F77B4"}
MEASURES = {"cost": ("Cost", "$%{y:,.4f}"), "tokens": ("Tokens", "%{y:,.0f}"),
            "calls": ("LLM calls", "%{y:,.0f}"), "errors": ("Errors", "%{y:,.0f}")}
_DAY_MS = 86_400_000
_WIDTH_MS = {"hour": 3_600_000 * 0.85, "day": _DAY_MS * 0.85, "month": _DAY_MS * 26}
_TOKEN_KINDS = (("input", "Input"), ("output", "Output"), ("cache_read", "Cache read"),
                ("cache_write", "Cache write"))


def colour(name: str, names: Iterable[str] | None = None) -> str:
    """A colour per name: by alphabetical position among `names` (distinct colours for up
    to 14 names; the same set of models gets the same colours on every chart), else by a
    hash of the name."""
    ordered = sorted(set(names)) if names is not None else []
    if name in ordered:
        return PALETTE[ordered.index(name) % len(PALETTE)]
    return PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]


def _layout(fig: go.Figure, title: str, *, height: int = 360) -> go.Figure:
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"}, height=height,
                      margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1,
                              "xanchor": "right", "title": None},
                      hovermode="x unified", bargap=0.1)
    return fig


def _order(frame: pd.DataFrame, measure: str, column: str = "series") -> list[str]:
    """Series by total, largest first (drawn at the bottom of a stack)."""
    totals = frame.groupby(column)[measure].sum().sort_values(ascending=False)
    return [str(name) for name in totals.index]


def timeline(frame: pd.DataFrame, *, measure: str = "cost", by: str = "model",
             unit: str = "day") -> go.Figure:
    """Stacked bars: `measure` per bucket, one colour per series (zero-filled buckets)."""
    label, hover = MEASURES.get(measure, (measure, "%{y:,}"))
    width = _WIDTH_MS.get(unit)
    names = [str(n) for n in frame["series"].unique()] if not frame.empty else []
    fig = go.Figure()
    for name in _order(frame, measure) if not frame.empty else []:
        part = frame[frame["series"] == name]
        fig.add_bar(x=part["bucket"], y=part[measure], name=name,
                    marker_color=colour(name, names),
                    width=width, hovertemplate=f"{name}: {hover}<extra></extra>")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=label, tickprefix="$" if measure == "cost" else "",
                     rangemode="tozero")
    return _layout(fig, f"{label} per {unit}, by {by}")


def share_pie(frame: pd.DataFrame, *, names: str, values: str, title: str) -> go.Figure:
    """Donut of each row's share of `values` (rows with 0 left out)."""
    part = frame[frame[values] > 0]
    labels = [str(n) for n in part[names]]
    every = [str(n) for n in frame[names]]
    fig = go.Figure(go.Pie(labels=labels, values=part[values], hole=0.45, sort=True,
                           marker={"colors": [colour(n, every) for n in labels]},
                           texttemplate="%{label}<br>%{percent}", textposition="inside"))
    fig.update_layout(showlegend=False)
    return _layout(fig, title)


def ranked_bars(frame: pd.DataFrame, *, names: str, values: str, title: str,
                money: bool = False, top: int = 15) -> go.Figure:
    """Horizontal bars, largest on top."""
    part = frame.nlargest(top, values).iloc[::-1]
    labels = [str(n) for n in part[names]]
    every = [str(n) for n in frame[names]]
    fig = go.Figure(go.Bar(x=part[values], y=labels, orientation="h",
                           marker_color=[colour(n, every) for n in labels],
                           hovertemplate=("$%{x:,.4f}" if money else "%{x:,}") + "<extra></extra>"))
    fig.update_xaxes(tickprefix="$" if money else "")
    fig.update_layout(hovermode="closest")
    return _layout(fig, title, height=max(240, 40 + 28 * len(part)))


def token_kinds(frame: pd.DataFrame, *, by: str, title: str) -> go.Figure:
    """Stacked horizontal bars of the four token kinds per `by` (e.g. provider)."""
    grouped = frame.groupby(by, as_index=False)[[k for k, _ in _TOKEN_KINDS]].sum()
    fig = go.Figure()
    for key, label in _TOKEN_KINDS:
        fig.add_bar(y=grouped[by].astype(str), x=grouped[key], name=label, orientation="h",
                    hovertemplate=f"{label}: %{{x:,}}<extra></extra>")
    fig.update_layout(barmode="stack", hovermode="y unified")
    return _layout(fig, title, height=max(240, 80 + 40 * len(grouped)))


def tool_usage(frame: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """Calls per tool split into succeeded / failed / no result seen."""
    part = frame.nlargest(top, "calls").iloc[::-1]
    ok = part["results"] - part["errors"]
    fig = go.Figure()
    for values, name, tint in ((ok, "succeeded", "#54A24B"), (part["errors"], "failed", "#E45756"),
                               (part["calls"] - part["results"], "no result", "#BAB0AC")):
        fig.add_bar(y=part["tool_name"], x=values, name=name, orientation="h",
                    marker_color=tint, hovertemplate=f"{name}: %{{x:,}}<extra></extra>")
    fig.update_layout(barmode="stack", hovermode="y unified")
    return _layout(fig, "Tool calls", height=max(260, 60 + 26 * len(part)))


def cron_daily(frame: pd.DataFrame) -> go.Figure:
    """Cron-job cost per day, stacked by job."""
    renamed = frame.rename(columns={"day": "bucket", "job": "series"})
    return timeline(renamed, measure="cost", by="cron job", unit="day")


def session_calls(frame: pd.DataFrame) -> go.Figure:
    """Cost of each call of one session in order; failed calls in red."""
    models = [str(m) for m in frame["model"]]
    tints = [ERROR_COLOUR if bad else colour(model, models)
             for bad, model in zip(frame["is_error"], models, strict=True)]
    fig = go.Figure(go.Bar(
        x=list(range(1, len(frame) + 1)), y=frame["cost"], marker_color=tints,
        customdata=frame[["model", "tokens", "cost_source"]].astype(str).to_numpy(),
        hovertemplate="call %{x}: $%{y:,.5f}<br>%{customdata[0]} · %{customdata[1]} tokens"
                      " · %{customdata[2]}<extra></extra>"))
    fig.update_xaxes(title="call #")
    fig.update_yaxes(tickprefix="$")
    fig.update_layout(hovermode="closest")
    return _layout(fig, "Cost per call (errors in red)", height=280)


def severity_timeline(frame: pd.DataFrame, severities: Iterable[str]) -> go.Figure:
    """Fired alerts per day, stacked by severity (columns day, severity, alerts)."""
    fig = go.Figure()
    for severity in severities:
        part = frame[frame["severity"] == severity]
        fig.add_bar(x=part["day"], y=part["alerts"], name=severity,
                    marker_color=SEVERITY_COLOURS.get(severity, "#888"),
                    width=_WIDTH_MS["day"],
                    hovertemplate=f"{severity}: %{{y:,}}<extra></extra>")
    fig.update_layout(barmode="stack")
    if not frame.empty:  # days on the axis, at least a week of them (one bar is one day)
        last = pd.Timestamp(frame["day"].max())
        first = min(pd.Timestamp(frame["day"].min()), last - pd.Timedelta(days=6))
        fig.update_xaxes(range=[first - pd.Timedelta(hours=12), last + pd.Timedelta(hours=12)],
                         tickformat="%b %d",
                         dtick=_DAY_MS if last - first <= pd.Timedelta(days=14) else None)
        highest = frame.groupby("day")["alerts"].sum().max()
        fig.update_yaxes(rangemode="tozero", dtick=1 if highest <= 10 else None)  # counts
    return _layout(fig, "Alerts fired per day", height=260)
