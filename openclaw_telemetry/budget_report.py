"""Budget figures as words and JSON: the rows of `read.budget_status` / `read.spend_outlook`
turned into the lines `alerts.py` prints, the objects `--json` prints and the text of
notifications. No figures are computed here beyond rounding for display.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from openclaw_telemetry.alerting import Metric, Severity, format_value


def money(value: float) -> str:
    """Dollars as alert messages show them."""
    return format_value(Metric.COST, float(value))


def _when(value: Any) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).isoformat()


def outlook_dict(row: pd.Series) -> dict[str, Any]:
    """A `spend_outlook` row as JSON-ready values (times ISO 8601 with their offset)."""
    return {"start": _when(row["start"]), "end": _when(row["end"]),
            "spent": round(float(row["spent"]), 6), "days_left": round(float(row["days_left"]), 3),
            "forecast": {"projected": round(float(row["forecast"]), 6),
                         "p10": round(float(row["forecast_low"]), 6),
                         "p90": round(float(row["forecast_high"]), 6),
                         "pace_per_day": round(float(row["pace"]), 6),
                         "runs_out": _when(row["runs_out"])}}


def budget_dict(row: pd.Series) -> dict[str, Any]:
    """A `budget_status` row as JSON-ready values."""
    return {"name": row["budget"], "period": row["period"], "amount": float(row["amount"]),
            "fraction": round(float(row["fraction"]), 6),
            "reached": None if pd.isna(row["reached"]) else float(row["reached"]),
            "severity": row["severity"] or None, **outlook_dict(row)}


def forecast_text(row: pd.Series) -> str:
    """The forecast to the end of the period (`end` is the first moment after it)."""
    last_day = pd.Timestamp(row["end"]) - pd.Timedelta(days=1)
    return (f"forecast {money(row['forecast'])} ({money(row['forecast_low'])}–"
            f"{money(row['forecast_high'])}) by the end of {last_day:%Y-%m-%d}")


def _period_words(row: pd.Series) -> str:
    """'today', 'this week', 'this month', or the dates of a month that starts on
    another day than the 1st ('the cycle from 2026-11-24')."""
    start = pd.Timestamp(row["start"])
    if row["period"] == "day":
        return "today"
    if row["period"] == "month" and start.day != 1:
        return f"in the cycle from {start:%Y-%m-%d}"
    return f"this {row['period']}"


def budget_line(row: pd.Series) -> str:
    """'Monthly: $41.00 of $50.00 (82%) this month; forecast … ; runs out around …'."""
    runs_out = row["runs_out"]
    out = "" if pd.isna(runs_out) else (
        "; used up" if float(row["fraction"]) >= 1 else
        f"; runs out around {pd.Timestamp(runs_out):%Y-%m-%d %H:%M} at this pace")
    return (f"{row['budget']}: {money(row['spent'])} of {money(row['amount'])} "
            f"({float(row['fraction']):.0%}) {_period_words(row)}; {forecast_text(row)}{out}")


def budget_title(row: pd.Series) -> str:
    """A budget notification's title: its level, and the `notify_at` fraction it reached
    when that reads otherwise ('Monthly at 200% (over 100%)', 'Monthly at 80%')."""
    level, reached = f"{float(row['fraction']):.0%}", f"{float(row['reached']):.0%}"
    return f"Budget {row['budget']} at {level}" + (f" (over {reached})" if level != reached
                                                   else "")


def budget_severity(row: pd.Series) -> Severity | None:
    return Severity(row["severity"]) if row["severity"] else None
