"""Answers from the call roll-up: pure pandas over an already aggregated frame.

`calls.call_rollup` aggregates the 15-minute `usage_quarter_hours` roll-up (or, for
the odd zone, `messages`) in SQL into one row per local hour (or local day), gateway,
agent, model, provider (and session kind). Everything here reduces such a frame further
(a few thousand rows, never the raw calls): filtering by scope, totals, timelines with
every bucket present, per-model breakdowns. Because the roll-up is cached once per data
version and time zone, changing a filter costs milliseconds.

Exactness: a roll-up row covers a whole local hour or day, so a range whose ends fall
inside one is answered from the rows fully inside it plus the two partial pieces read
exactly (`split` says which, `calls.call_rollup(since=, until=)` reads them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo

import pandas as pd

from openclaw_telemetry.read.sqlkit import Scope
from openclaw_telemetry.timeframe import Unit, local_midnight, to_utc

MEASURES = ["calls", "errors", "input", "output", "cache_read", "cache_write", "cost",
            "estimated_cost", "unpriced_calls", "unpriced_tokens", "subscription_cost",
            "tool_calls"]
TOKEN_KINDS = ["input", "output", "cache_read", "cache_write"]
Fetch = Callable[[datetime, datetime], pd.DataFrame]


def _hour_floor(moment: datetime, tz: tzinfo) -> datetime:
    """Start (naive UTC) of the local hour holding a naive-UTC moment."""
    local = pd.Timestamp(moment, tz="UTC").tz_convert(tz)
    start = local - pd.Timedelta(minutes=local.minute, seconds=local.second,
                                 microseconds=local.microsecond)
    return to_utc(start.to_pydatetime())


def _day_floor(moment: datetime, tz: tzinfo) -> datetime:
    """Start (naive UTC) of the local day holding a naive-UTC moment."""
    return local_midnight(pd.Timestamp(moment, tz="UTC").tz_convert(tz).date(), tz)


def _floor(moment: datetime, tz: tzinfo, cut: datetime | None) -> datetime:
    """The last row boundary at or before a moment: local hours from `cut` on, local days
    before it (`cut` is a local midnight, so both kinds meet there)."""
    return _hour_floor(moment, tz) if cut is None or moment >= cut else _day_floor(moment, tz)


def _ceil(moment: datetime, tz: tzinfo, cut: datetime | None) -> datetime:
    """The first row boundary at or after a moment."""
    floor = _floor(moment, tz, cut)
    if floor == moment:
        return floor
    if cut is None or moment >= cut:
        return floor + timedelta(hours=1)
    day = pd.Timestamp(moment, tz="UTC").tz_convert(tz).date()
    return local_midnight(day + timedelta(days=1), tz)


def split(since: datetime | None, until: datetime | None, tz: tzinfo,
          cut: datetime | None = None
          ) -> tuple[datetime | None, datetime | None, list[tuple[datetime, datetime]]]:
    """`[since, until)` -> (first row boundary in it, last row boundary in it, partial
    pieces to read). Rows are local hours, or local days before `cut`."""
    edges: list[tuple[datetime, datetime]] = []
    start = None if since is None else _ceil(since, tz, cut)
    end = None if until is None else _floor(until, tz, cut)
    if start is not None and end is not None and start >= end:
        if since is not None and until is not None and since < until:
            return start, start, [(since, until)]
        return start, start, []
    if since is not None and start is not None and since < start:
        edges.append((since, start))
    if until is not None and end is not None and end < until:
        edges.append((end, until))
    return start, end, edges


def clip(rollup: pd.DataFrame, since: datetime | None, until: datetime | None
         ) -> pd.DataFrame:
    """Rows whose hour (or day) starts in `[since, until)` (naive UTC; None = open)."""
    keep = pd.Series(True, index=rollup.index)
    if since is not None:
        keep &= rollup["utc"] >= pd.Timestamp(since)
    if until is not None:
        keep &= rollup["utc"] < pd.Timestamp(until)
    return rollup[keep]


def in_scope(rollup: pd.DataFrame, cut: datetime | None, fetch: Fetch, scope: Scope,
             tz: tzinfo) -> pd.DataFrame:
    """The roll-up rows of a scope: whole rows from `rollup` (local days before `cut`,
    hours after), partial pieces from `fetch`."""
    start, end, edges = split(scope.since, scope.until, tz, cut)
    parts = [clip(rollup, start, end)] + [fetch(lo, hi) for lo, hi in edges]
    rows = pd.concat([p for p in parts if not p.empty] or [rollup.iloc[:0]],
                     ignore_index=True)
    return dimensions(rows, scope)


def dimensions(rows: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """Rows matching the agent / model / kind / gateway filters of a scope."""
    keep = pd.Series(True, index=rows.index)
    for column, values in (("agent", scope.agents), ("model", scope.models),
                           ("kind", scope.kinds), ("gateway", scope.gateways)):
        if values:
            keep &= rows[column].isin(values)
    return rows[keep]


def totals(rows: pd.DataFrame) -> pd.DataFrame:
    """One row: MEASURES summed, plus tokens (the four kinds) and error_rate."""
    summed = rows[MEASURES].sum().to_frame().T
    summed["tokens"] = summed[TOKEN_KINDS].sum(axis=1)
    summed["error_rate"] = ratio(summed["errors"], summed["calls"])
    return summed


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is 0."""
    out: pd.Series = (numerator / denominator.where(denominator != 0)).astype("float64")
    return out


def bucket_of(hours: pd.Series, unit: Unit, tz: tzinfo) -> pd.Series:
    """Local hour starts (tz-aware) -> start of their local hour / day / month."""
    if unit is Unit.HOUR:
        return hours
    wall = hours.dt.tz_localize(None).dt.normalize()
    if unit is Unit.MONTH:
        wall = wall.dt.to_period("M").dt.to_timestamp()
    local: pd.Series = wall.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return local


def grid(start: datetime, end: datetime, tz: tzinfo, unit: Unit) -> pd.DatetimeIndex:
    """Every local bucket start from the one holding `start` to the one holding `end`."""
    first = pd.Timestamp(_hour_floor(start, tz), tz="UTC").tz_convert(tz)
    last = pd.Timestamp(end, tz="UTC").tz_convert(tz)
    if unit is Unit.HOUR:  # local hours, as the calls are bucketed: after a 30-minute DST
        # shift (Lord Howe) they are not a real hour apart; every offset is whole quarters
        steps = pd.date_range(first, last, freq="15min")
        return pd.DatetimeIndex((steps - pd.to_timedelta(steps.minute, unit="m")).unique())
    low = first.tz_localize(None).normalize()
    if unit is Unit.MONTH:
        low = low.replace(day=1)
    walls = pd.date_range(low, last.tz_localize(None), freq="D" if unit is Unit.DAY else "MS")
    return walls.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def timeline(rows: pd.DataFrame, *, tz: tzinfo, unit: Unit, by: str,
             start: datetime | None, end: datetime,
             measures: list[str] | None = None) -> pd.DataFrame:
    """Measures per local bucket and `by` value, every bucket present (gaps are zero).

    Columns: bucket (tz-aware), series, calls, errors, input, output, cache_read,
    cache_write, cost, estimated_cost, unpriced_calls, unpriced_tokens,
    subscription_cost, tokens (or just `measures`). `start`/`end` (naive UTC) span the
    grid; `start=None` begins at the first call.
    """
    measures = measures or MEASURES
    frame = rows.assign(bucket=bucket_of(rows["hour"], unit, tz),
                        series=rows[by].fillna("(none)").astype(str))
    grouped = frame.groupby(["bucket", "series"], as_index=False)[measures].sum()
    if grouped.empty:
        return grouped.assign(tokens=0) if measures is MEASURES else grouped
    first = start or to_utc(grouped["bucket"].min().to_pydatetime())
    last = max(end, to_utc(grouped["bucket"].max().to_pydatetime()))
    index = pd.MultiIndex.from_product(
        [grid(first, last, tz, unit), sorted(grouped["series"].unique())],
        names=["bucket", "series"])
    full = grouped.set_index(["bucket", "series"]).reindex(index, fill_value=0).reset_index()
    if measures is MEASURES:
        full["tokens"] = full[TOKEN_KINDS].sum(axis=1)
    return full


def observations(rows: pd.DataFrame, *, metric: str, unit: Unit, tz: tzinfo) -> pd.DataFrame:
    """Alert observations per local bucket from roll-up rows: subject and label (the
    bucket, e.g. '2026-01-10'), at (naive-UTC bucket start), value (cost, or errors /
    calls for error_rate), calls. Buckets without calls are left out."""
    frame = rows.assign(bucket=bucket_of(rows["hour"], unit, tz))
    sums = frame.groupby("bucket", as_index=False)[["calls", "errors", "cost"]].sum()
    sums = sums[sums["calls"] > 0]
    names = sums["bucket"].dt.strftime({Unit.HOUR: "%Y-%m-%d %H:%M", Unit.DAY: "%Y-%m-%d",
                                        Unit.MONTH: "%Y-%m"}[unit])
    value = sums["errors"] / sums["calls"] if metric == "error_rate" else sums["cost"]
    return pd.DataFrame({"subject": names, "label": names,
                         "at": sums["bucket"].dt.tz_convert("UTC").dt.tz_localize(None),
                         "value": value.astype("float64"), "calls": sums["calls"]}
                        ).reset_index(drop=True)


def models(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, provider), most expensive first: MEASURES, tokens,
    avg_cost_per_call, cache_hit_rate (cache_read / (input + cache_read + cache_write))."""
    out = rows.groupby(["model", "provider"], as_index=False, dropna=False)[MEASURES].sum()
    out["tokens"] = out[TOKEN_KINDS].sum(axis=1)
    out["avg_cost_per_call"] = ratio(out["cost"], out["calls"])
    prompt = out["input"] + out["cache_read"] + out["cache_write"]
    out["cache_hit_rate"] = ratio(out["cache_read"], prompt)
    return out.sort_values(["cost", "calls"], ascending=False, ignore_index=True)


def breakdown(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per value of `by`, most expensive first: MEASURES summed, plus tokens."""
    out = rows.groupby(by, as_index=False, dropna=False)[MEASURES].sum()
    out["tokens"] = out[TOKEN_KINDS].sum(axis=1)
    return out.sort_values(["cost", "calls"], ascending=False, ignore_index=True)
