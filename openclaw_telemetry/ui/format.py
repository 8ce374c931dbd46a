"""Number and text formatting for the dashboards; no Streamlit.

User-controlled text (session labels and keys, model names, error messages) is never
passed to a Markdown-rendering call: it is shown with `st.text`, in dataframes, or
escaped with `escape_md`, so a label like `<b>x</b>` or `**x**` shows as typed.
"""

from __future__ import annotations

import math
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def escape_md(text: object) -> str:
    """Backslash-escape Markdown, HTML and Streamlit directive characters."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def money(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 1000:
        return f"${value:,.0f}"
    return f"${value:,.2f}" if abs(value) >= 1 else f"${value:,.4f}"


def count(value: float | None, exact_below: float = 10_000_000) -> str:
    """Whole numbers with separators ('373,664') below `exact_below`, else compact
    ('22.3B'); '—' for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) < exact_below:
        return f"{value:,.0f}"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:,.0f}"


def percent(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}%}"


def change(current: float, previous: float | None) -> str | None:
    """'+12.5%' against the previous period; None when there is nothing to compare."""
    if previous is None or math.isnan(previous):
        return None
    if previous == 0:
        return None if current == 0 else "new"
    return f"{(current - previous) / previous:+.1%}"


def points(current: float, previous: float | None) -> str | None:
    """A change of a rate in percentage points: '+1.2 pp'."""
    if previous is None or math.isnan(previous) or math.isnan(current):
        return None
    return f"{(current - previous) * 100:+.1f} pp"


def duration(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
