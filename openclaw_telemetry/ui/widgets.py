"""Small Streamlit building blocks shared by the pages: KPI tiles, column formats, charts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from openclaw_telemetry.links import GATEWAY_PARAM
from openclaw_telemetry.names import on_gateway
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.filters import KIND_LABELS, carried

DeltaColor = Literal["normal", "inverse", "off"]


@dataclass(frozen=True, slots=True)
class Tile:
    label: str
    value: str
    delta: str | None = None
    colour: DeltaColor = "normal"
    help: str | None = None
    spark: Sequence[float] | None = None
    note: str | None = None  # plain text under the tile (no arrow, no colour)


def tiles(row: Sequence[Tile]) -> None:
    """One row of bordered metrics; deltas are against the previous period. The tiles of
    a row are one height (a tile without a sparkline beside those with one stretches to
    theirs), unless a note stands under one: the tile is then only part of its column."""
    height: Literal["content", "stretch"] = (
        "content" if any(tile.note is not None for tile in row) else "stretch")
    for column, tile in zip(st.columns(len(row)), row, strict=True):
        with column:
            st.metric(tile.label, tile.value, tile.delta, delta_color=tile.colour,
                      help=tile.help, border=True, height=height,
                      chart_data=list(tile.spark) if tile.spark is not None else None,
                      chart_type="area")
            if tile.note is not None:
                st.caption(fmt.escape_md(tile.note))


# money_column's formats -> their decimals; `table` gives a column more where it must
_MONEY_FORMATS = {"dollar": 2, "$%.4f": 4}
_PERCENT = "%.1f%%"  # of values in percent: `table` scales a `percent_column`'s shares


def session_total_column() -> Any:
    """A session's cost in a table of sessions: all its calls, whatever the filters select
    of them (a model filter selects sessions that used the model, not their calls)."""
    return money_column("Total", help="the session's whole cost: all its calls, of every "
                                      "model and time; the filters choose which sessions "
                                      "are listed")


def money_column(label: str, *, per_call: bool = False, help: str | None = None) -> Any:
    """US$ with cents, as `format.money` shows totals; `per_call` amounts (a single LLM
    call is often under a cent, a cron run a few cents) with four decimals. In a `table`,
    a column holding a non-zero amount under a cent gets the decimals it needs
    (`format.money_decimals`), so that it never reads '$0.00'; the cells stay numbers,
    sorted by value."""
    return st.column_config.NumberColumn(label, format="$%.4f" if per_call else "dollar",
                                         help=help)


def _money_decimals(frame: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` with each money column's format widened to what its amounts need."""
    out = dict(config)
    for name, column in config.items():
        kind = column.get("type_config", {}) if isinstance(column, dict) else {}
        least = _MONEY_FORMATS.get(str(kind.get("format")))
        if kind.get("type") != "number" or least is None or name not in frame.columns:
            continue
        decimals = fmt.money_decimals(frame[name].tolist(), least)
        if decimals != least:
            out[name] = {**column, "type_config": {**kind, "format": f"$%.{decimals}f"}}
    return out


def count_column(label: str, help: str | None = None, *, compact: bool = False) -> Any:
    """Whole numbers with thousands separators; `compact` ('11.8M', '555.2K') where a table
    has no room for every digit (the CSV download and the session page have them all)."""
    return st.column_config.NumberColumn(label, format="compact" if compact else "localized",
                                         help=help)


def main_model_column(width: int | None = None) -> Any:
    """A session's `model`: the one most of its calls used (set as it is ingested), which
    is not always the one most of its cost went to; `width` in px (None: the names')."""
    return st.column_config.TextColumn(
        "Main model", width=width,
        help="The model most of the session's calls used; its cost by model is on the "
             "session page")


def percent_column(label: str, help: str | None = None) -> Any:
    """A share (0.584) with one decimal ('58.4%'), as `format.percent` writes it elsewhere
    (Streamlit's own "percent" gave '58.42%' beside '73.2%'). Only for a `table`, which
    shows the column's values in percent and keeps them numbers, sorted by value."""
    return st.column_config.NumberColumn(label, format=_PERCENT, help=help)


def time_column(label: str, *, minutes: bool = False) -> Any:
    """Local date and time to the second; `minutes`: to the minute, in a column as wide as
    that text (a table with many columns gave it too little, 'YYYY-MM-DD HH:…')."""
    if minutes:
        return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm", width=120)
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm:ss")


def url_choice(label: str, options: Mapping[str, str], *, param: str, default: str,
               key: str) -> str:
    """A segmented control whose choice lives in the URL as `?<param>=<option key>`, so a
    link or a reload opens it again; a key the control does not offer opens `default`.
    (Streamlit's own `bind="query-params"` writes the displayed label, not the key.)"""
    wanted = st.query_params.get(param)

    def keep() -> None:
        picked = st.session_state[key]
        if picked and picked != default:
            st.query_params[param] = picked
        else:
            st.query_params.pop(param, None)

    chosen = st.segmented_control(label, list(options), required=True,
                                  default=wanted if wanted in options else default,
                                  format_func=options.__getitem__, key=key, on_change=keep)
    return str(chosen or default)


def chart(figure: go.Figure, key: str) -> None:
    st.plotly_chart(figure, key=key, config={"displaylogo": False})


def local_times(frame: pd.DataFrame, columns: Sequence[str], tz: Any) -> pd.DataFrame:
    """Naive-UTC datetime columns -> naive wall-clock times of `tz` (for display)."""
    out = frame.copy()
    for name in columns:
        stamps = pd.to_datetime(out[name])
        out[name] = stamps.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    return out


def link_column(label: str) -> Any:
    """A session table's links ('Open'), pinned: it stays in view when the table scrolls
    sideways (`linked_first` puts it first)."""
    return st.column_config.LinkColumn(label, display_text="Open", pinned=True)


def linked_first(ctx: Any, column_order: list[str], *, gateways: bool = True) -> list[str]:
    """A session table's column order with its link column ('open', `session_links`)
    first: on a phone (390 px) the first columns are all that shows, and a session name is
    a phone's width; the link is the only way to a session's page. With `gateways`, the
    other columns as `with_gateway` orders them (gateway beside the first)."""
    rest = [name for name in column_order if name != "open"]
    return ["open", *(with_gateway(ctx, rest) if gateways else rest)]


def session_links(ctx: Any, session_ids: Iterable[object],
                  gateways: Iterable[object] | None = None) -> pd.Series:
    """Links that open each session on this dashboard's session page, with the filters in
    force ('' for no id: an empty cell, where None would read 'None'). A
    session is its id on its gateway: with several gateways in the database the link
    names it (`gateways`, parallel to the ids); with one, links stay as they always were.
    Without `gateways` the page opens the first gateway's session of that id."""
    ids = _listed(session_ids)
    hosts = _listed(gateways) if gateways is not None else [None] * len(ids)
    view = carried()  # the filters in force: the session page's list keeps them
    links: list[str] = []
    for sid, host in zip(ids, hosts, strict=True):
        if not isinstance(sid, str) or not sid:
            links.append("")
            continue
        link = ctx.view.session_link.format(quote(sid, safe=""))
        if isinstance(host, str) and ctx.view.several_gateways:
            link += f"&{GATEWAY_PARAM}={quote(host, safe='')}"
        links.append(link + view)
    return pd.Series(links, dtype="object")


def _listed(values: Iterable[object]) -> list[object]:
    """A column's values as a list: a pandas column in one step (iterating a column of
    text walks its Arrow array one value at a time, ten times slower)."""
    return values.tolist() if isinstance(values, pd.Series) else list(values)


def with_gateway(ctx: Any, column_order: list[str]) -> list[str]:
    """A table's column order with `gateway` second (beside the first, even on a phone)
    when the database holds several gateways: the same id can name a session on each."""
    if not ctx.view.several_gateways:
        return column_order
    return [column_order[0], "gateway", *column_order[1:]]


def session_name(label: object, key: object, session_id: object) -> str:
    """A session's name from the columns a read gives (`label` as `measures.session_label`
    reads it): its label, else its key, else its id ('?' if it has none of them)."""
    return next((str(v) for v in (label, key, session_id) if isinstance(v, str) and v), "?")


def session_names(frame: pd.DataFrame, tz: Any, *, id_column: str = "session_id",
                  gateway: bool = False, started: bool = True) -> list[str]:
    """'label (else key, else id) · started YYYY-MM-DD HH:MM': one key (agent:main:main)
    is many sessions over time, so the local start tells them apart (not with
    `started=False`: where a Start column stands beside the name); with `gateway`,
    ' · on <gateway>' after the name (where no Gateway column stands beside it: a chart),
    before the start, which a bar label cut in its middle keeps (`charts.ranked_bars`)."""
    starts = (local_times(frame, ["start_time"], tz)["start_time"].dt.strftime("%Y-%m-%d %H:%M")
              if started else pd.Series([None] * len(frame), dtype="object"))
    hosts = frame["gateway"].tolist() if gateway else [None] * len(frame)
    names = []
    for label, key, sid, start, host in zip(frame["label"].tolist(),
                                            frame["session_key"].tolist(),
                                            frame[id_column].tolist(), starts.tolist(), hosts,
                                            strict=True):
        name = session_name(label, key, sid)
        name = on_gateway(name, host) if isinstance(host, str) else name
        names.append(f"{name} · started {start}" if isinstance(start, str) else name)
    return names


def kind_name(kind: object) -> str | None:
    """A session kind by the name the tables and charts show ('sub-agent', not 'subagent';
    the Kind filter lists them in its help); a kind it does not know as stored, a missing
    one None (a table shows '—')."""
    return KIND_LABELS.get(kind, kind) if isinstance(kind, str) else None


def kind_names(kinds: Iterable[object]) -> list[str | None]:
    """`kind_name` of each."""
    return [kind_name(k) for k in _listed(kinds)]


def nothing(what: str) -> None:
    st.info(f"No {what} in this range and filter.", icon=":material/filter_alt_off:")


def table(frame: pd.DataFrame, *, key: str, durations: Sequence[str] = (),
          texts: Mapping[str, Callable[[float | None], str]] | None = None,
          **options: Any) -> Any:
    """`st.dataframe` with the house's cells: missing text as '—' (never 'None'), link
    columns as they are (`session_links` gives '' for no link: an empty cell, where '—'
    would be a link to '—'), durations (seconds) as `format.duration` text, and the `texts`
    columns (numbers that may be missing: a rate without results, a percentile without
    durations) shown by their formatter, '—' where missing; returns the selection event.
    Such a column without a missing value stays numbers under its text (a Styler's display
    values), so a click on its header sorts it by value, not alphabetically ("9 h" after
    "8 min"); one with a missing value is text, since the browser writes 'None' in an empty
    number cell whatever the Styler says, and so is every one of a table too large for a
    Styler (pandas' `styler.render.max_elements` cells: Streamlit refuses it)."""
    shown = frame.copy()
    formats: dict[str, Callable[[float | None], str]] = dict.fromkeys(durations, fmt.duration)
    formats.update(texts or {})
    styled = shown.size <= pd.get_option("styler.render.max_elements")
    for name, show in list(formats.items()):
        values = pd.to_numeric(shown[name], errors="coerce").astype(float)
        if values.isna().any() or not styled:
            shown[name] = [show(None if pd.isna(v) else float(v)) for v in values.tolist()]
            del formats[name]
        else:
            shown[name] = values
    if options.get("column_config"):
        options["column_config"] = _money_decimals(frame, options["column_config"])
        for name, config in options["column_config"].items():
            if (isinstance(config, dict) and name in shown.columns
                    and config.get("type_config", {}).get("format") == _PERCENT):
                shown[name] = shown[name] * 100
    links = {name for name, config in (options.get("column_config") or {}).items()
             if isinstance(config, dict)
             and config.get("type_config", {}).get("type") == "link"}
    for name in shown.columns:
        if name not in links and (pd.api.types.is_object_dtype(shown[name])
                                  or pd.api.types.is_string_dtype(shown[name])):
            shown[name] = [fmt.text(v) for v in shown[name].tolist()]
    if not formats:
        return st.dataframe(shown, hide_index=True, key=key, **options)
    styler = shown.style
    for name, show in formats.items():
        styler = styler.format(_of_number(show), subset=[name])
    return st.dataframe(styler, hide_index=True, key=key, **options)


def _of_number(show: Callable[[float | None], str]) -> Callable[[Any], str]:
    return lambda value: show(float(value))
