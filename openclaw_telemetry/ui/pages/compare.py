"""Comparisons: 2–4 agents, models, cron jobs, thinking levels or time periods side by
side (cost, calls, cost per call and per session, tokens per call, cache hit rate, error
rate, latency p50/p95, tool error rate), the difference to the first one highlighted;
and cost by thinking level as a standing chart (issue #13 item 3).

Agents, models, cron jobs and thinking levels are compared over the sidebar's range and
filters; time periods are the range and the periods of the same length before it (for
"All time", which has no length: the last 30 days and the 30-day periods before them),
each column named by what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from openclaw_telemetry import read, story_charts
from openclaw_telemetry.read.compare import DIMENSIONS
from openclaw_telemetry.timeframe import PRESET_LABELS, Preset, resolve, to_utc
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import chart

# measure -> (label, kind, higher is better); the kind picks the format and the difference:
# amounts and counts change by a percentage, rates by percentage points (as on the Overview)
MEASURES = {
    "cost": ("Cost", "money", False), "calls": ("LLM calls", "count", None),
    "sessions": ("Sessions", "count", None),
    "cost_per_call": ("Cost per call", "money", False),
    "cost_per_session": ("Cost per session", "money", False),
    "tokens_per_call": ("Tokens per call", "count", False),
    "cache_hit_rate": ("Cache hit rate", "rate", True),
    "error_rate": ("Error rate", "rate", False),
    "latency_p50_ms": ("Latency p50 (ms)", "count", False),
    "latency_p95_ms": ("Latency p95 (ms)", "count", False),
    "tool_calls": ("Tool calls", "count", None),
    "tool_error_rate": ("Tool error rate", "rate", False),
}
# measure charted -> what there is none of when every bar would be zero
CHARTED = {"cost": "cost", "cost_per_call": "cost", "cache_hit_rate": "cache hits",
           "error_rate": "errors"}


def _periods(ctx: shell.Ctx, count: int
             ) -> tuple[tuple[str, ...], tuple[tuple[datetime, datetime], ...], str]:
    """The chosen range and the `count - 1` periods of the same length before it, each
    named by what it is (the range's name, then its dates), and a sentence saying so.
    "All time" has no length: the last 30 days (as that range means them) stand in."""
    window, name = ctx.window, ctx.view.filters.describe()
    if window.since is None:
        window = resolve(Preset.LAST_30D, now=ctx.now, tz=ctx.tz)
        name = PRESET_LABELS[Preset.LAST_30D]
    until = window.until or to_utc(ctx.now)
    since = window.since or until - timedelta(days=30)
    length = until - since
    spans = tuple((since - i * length, until - i * length) for i in range(count))
    names = (name, *(_dates(ctx, *span) for span in spans[1:]))
    each = fmt.duration(length.total_seconds())
    before = f"the {each} before it" if count == 2 else \
        f"the {count - 1} periods of {each} before it"
    return names, spans, f"{name} and {before}."


def _dates(ctx: shell.Ctx, since: datetime, until: datetime) -> str:
    """A period by its local dates ('2026-03-01 – 2026-03-07', last day included), or by
    date and time when it does not start and end at midnight."""
    first, end = ctx.local(since), ctx.local(until)
    if first == first.normalize() and end == end.normalize():
        last = (end - timedelta(days=1)).date()
        return str(first.date()) if last == first.date() else f"{first.date()} – {last}"
    return f"{first:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def _shown(kind: str, values: list[float]) -> Callable[[float], str]:
    """The format of one row: amounts with the same decimals, enough for two significant
    digits of the smallest under a dollar (so "$0.0166" stands against "$0.0064", not
    "$0.02", and "$0.018" against "$0.011", not "$0.02" against "$0.01")."""
    if kind == "money":
        decimals = fmt.money_decimals(values, below=1.0)
        return lambda value: fmt.money(value, decimals)
    return fmt.percent if kind == "rate" else fmt.count


def _differ(kind: str) -> Callable[[float, float | None], str | None]:
    """How a measure's difference to the first item reads (None: '=')."""
    return fmt.points if kind == "rate" else fmt.change


def side_by_side(frame: pd.DataFrame) -> pd.DataFrame:
    """Measures as rows, items as columns, each after the first with its difference (in
    percentage points for a rate)."""
    first = frame.iloc[0]
    rows = []
    for measure, (label, kind, _better) in MEASURES.items():
        shown = _shown(kind, [float(v) for v in frame[measure]])
        differ = _differ(kind)
        row = {"measure": label}
        for _, item in frame.iterrows():
            value = item[measure]
            text = shown(value)
            if item["item"] != first["item"] and pd.notna(value) and pd.notna(first[measure]):
                text += f"  ({differ(float(value), float(first[measure])) or '='})"
            row[str(item["item"])] = text
        rows.append(row)
    return pd.DataFrame(rows)


def _highlight(table: pd.DataFrame, frame: pd.DataFrame) -> pd.io.formats.style.Styler:
    """Green where an item is better than the first, red where worse; no colour where its
    difference reads '=' (94.31 % against 94.29 % is '(=)', not worse)."""
    def colour(row: pd.Series) -> list[str]:
        measure = list(MEASURES)[int(str(row.name))]
        _label, kind, better = MEASURES[measure]
        differ = _differ(kind)
        base = frame[measure].iloc[0]
        out = [""]
        for value in frame[measure]:
            if better is None or pd.isna(value) or pd.isna(base) \
                    or differ(float(value), float(base)) is None:
                out.append("")
            else:
                good = (value > base) == better
                out.append("background-color: #d8f3dc" if good else "background-color: #fde2e4")
        return out
    return table.style.apply(colour, axis=1)


def render(ctx: shell.Ctx) -> None:
    dimension = st.segmented_control("Compare", list(DIMENSIONS), default="model",
                                     required=True, format_func=DIMENSIONS.__getitem__,
                                     key="compare-dimension")
    dimension = str(dimension or "model")
    if dimension == "period":
        count = st.slider("Periods", 2, 4, 2, key="compare-periods")
        names, spans, said = _periods(ctx, count)
        st.caption(said)
        # oldest first, as time runs: each later column's difference is to the oldest, so
        # with two periods the range reads as its change since the one before it (the
        # Overview's deltas), not the older period as a change from the range
        names, spans = names[::-1], spans[::-1]
        frame = data.ask(read.compare, ctx.src, dimension="period", items=names,
                         scope=ctx.scope, periods=spans)
        labels = dict(zip(names, names, strict=True))
    else:
        options = data.ask(read.compare_options, ctx.src, dimension=dimension, scope=ctx.scope)
        if len(options) < 2:
            noun = DIMENSIONS[dimension].lower().removesuffix("s")  # "cron jobs": "cron job"
            st.info(f"{fmt.counted(len(options), noun)} in this range and filter: comparing "
                    "needs at least two.", icon=":material/filter_alt_off:")
            _thinking(ctx)
            return
        labels = dict(zip(options["item"].astype(str), options["label"].astype(str),
                          strict=True))
        choices = list(labels)
        picked = st.multiselect(f"{DIMENSIONS[dimension]} (2 to 4; most expensive first)",
                                choices, default=choices[:2], max_selections=4,
                                format_func=labels.__getitem__,
                                key=f"compare-items-{dimension}")
        if len(picked) < 2:
            st.info("Pick at least two to compare.")
            _thinking(ctx)
            return
        frame = data.ask(read.compare, ctx.src, dimension=dimension, items=tuple(picked),
                         scope=ctx.scope)
        frame = frame.assign(item=frame["item"].map(labels))
    colours = _colours(ctx, dimension, labels)
    shown = side_by_side(frame)
    st.dataframe(_highlight(shown, frame), hide_index=True, key="compare-table",
                 column_config={"measure": "Measure"})
    st.caption("In brackets: the difference to the first column; green is better, red worse.")
    shown_names = [str(i) for i in frame["item"]]
    measures = list(CHARTED.items())
    pairs = [measures[at:at + 2] for at in range(0, len(measures), 2)]
    for pair in pairs:  # a row of columns per pair: a phone stacks them in reading order
        for column, (measure, none_of) in zip(st.columns(2), pair, strict=False):
            with column:
                chart(story_charts.compare_bars(
                    frame, measure=measure, title=MEASURES[measure][0], names=shown_names,
                    colours=colours, money=measure.startswith("cost"),
                    percent=measure.endswith("_rate"), nothing=none_of), f"compare-{measure}")
    _thinking(ctx)


def _colours(ctx: shell.Ctx, dimension: str, labels: dict[str, str]) -> dict[str, str]:
    """The app-wide colour of each item, under the name its column shows (a cron job's
    colour is its job's, `ctx.job_colours`)."""
    if dimension == "thinking":
        return dict(story_charts.THINKING_COLOURS)
    if dimension == "cron_job":
        return ctx.job_colours(labels)
    return ctx.colours("model" if dimension == "model" else "agent")


def _thinking(ctx: shell.Ctx) -> None:
    levels = data.ask(read.thinking_cost, ctx.src, scope=ctx.scope)
    if levels.empty:  # no call in the selection: said above, not again under a heading
        return
    st.subheader("Cost by thinking level")
    chart(story_charts.thinking_cost(levels), "thinking-cost")


if __name__ == "__main__":
    shell.page(render, "compare", "Comparisons")
