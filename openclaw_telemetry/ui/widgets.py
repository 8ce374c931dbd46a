"""Small Streamlit building blocks shared by the pages: KPI tiles, column formats, charts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

DeltaColor = Literal["normal", "inverse", "off"]


@dataclass(frozen=True, slots=True)
class Tile:
    label: str
    value: str
    delta: str | None = None
    colour: DeltaColor = "normal"
    help: str | None = None
    spark: Sequence[float] | None = None


def tiles(row: Sequence[Tile]) -> None:
    """One row of bordered metrics; deltas are against the previous period."""
    for column, tile in zip(st.columns(len(row)), row, strict=True):
        with column:
            st.metric(tile.label, tile.value, tile.delta, delta_color=tile.colour,
                      help=tile.help, border=True,
                      chart_data=list(tile.spark) if tile.spark is not None else None,
                      chart_type="area")


def money_column(label: str, digits: int = 4) -> Any:
    return st.column_config.NumberColumn(label, format=f"$%.{digits}f")


def count_column(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="%,d")


def percent_column(label: str) -> Any:
    return st.column_config.NumberColumn(label, format="percent")


def time_column(label: str) -> Any:
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm:ss")


def chart(figure: go.Figure, key: str) -> None:
    st.plotly_chart(figure, key=key, config={"displaylogo": False})


def local_times(frame: pd.DataFrame, columns: Sequence[str], tz: Any) -> pd.DataFrame:
    """Naive-UTC datetime columns -> naive wall-clock times of `tz` (for display)."""
    out = frame.copy()
    for name in columns:
        stamps = pd.to_datetime(out[name])
        out[name] = stamps.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    return out


def nothing(what: str) -> None:
    st.info(f"No {what} in this range and filter.", icon=":material/filter_alt_off:")
