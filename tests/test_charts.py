"""Figure builders: what a reader of the chart would otherwise get wrong."""

from __future__ import annotations

import pandas as pd

from openclaw_telemetry import charts


def test_alert_history_of_one_day_is_a_day_on_a_week_axis() -> None:
    """One day of alerts must not fill the axis with hour ticks (plotly's default)."""
    frame = pd.DataFrame({"day": [pd.Timestamp("2026-11-24")] * 2,
                          "severity": ["info", "critical"], "alerts": [2, 1]})
    fig = charts.severity_timeline(frame, ["info", "warning", "critical"])
    low, high = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert high - low >= pd.Timedelta(days=7)
    assert low < pd.Timestamp("2026-11-18") and high > pd.Timestamp("2026-11-24")
    assert fig.layout.xaxis.tickformat == "%b %d"
    assert fig.layout.yaxis.dtick == 1  # whole alerts, not 0.5 steps
    assert {t.name: t.marker.color for t in fig.data if len(t.x)} == {
        "info": charts.SEVERITY_COLOURS["info"], "critical": charts.SEVERITY_COLOURS["critical"]}


def test_empty_alert_history_keeps_plotly_defaults() -> None:
    frame = pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]"),
                          "severity": pd.Series([], dtype=str), "alerts": pd.Series([], dtype=int)})
    assert charts.severity_timeline(frame, ["info"]).layout.xaxis.range is None
