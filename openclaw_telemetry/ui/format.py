"""Number and text formatting for the dashboards; no Streamlit.

User-controlled text (session labels and keys, model names, error messages) is never
passed to a Markdown-rendering call: it is shown with `st.text`, in dataframes, or
escaped with `escape_md`, so a label like `<b>x</b>` or `**x**` shows as typed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from openclaw_telemetry.errors import ConfigError

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def escape_md(text: object) -> str:
    """Backslash-escape Markdown, HTML and Streamlit directive characters."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def config_error(error: ConfigError) -> str:
    """A ConfigError as Markdown, escaped: a list item for each of its lines (a rules
    file's mistakes, `errors.Mistakes`), the line itself when it has one."""
    lines = [escape_md(line) for line in error.lines]
    return "\n".join(f"- {line}" for line in lines) if len(lines) > 1 else lines[0]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: float | None, decimals: int | None = None) -> str:
    """US$ with cents ('$1,234.56'); a non-zero amount under a cent with its first two
    significant digits ('$0.0012'), so a cheap call never reads as free; '—' if missing.
    With `decimals` (amounts shown side by side, see `money_decimals`): exactly those."""
    if _missing(value):
        return "—"
    assert value is not None
    if decimals is not None or value == 0 or abs(value) >= 0.01:
        text = f"${value:,.{2 if decimals is None else decimals}f}"
    else:
        text = f"${value:.2g}" if abs(value) >= 1e-4 else f"${value:.1e}"
    return text.replace("$-", "-$")


def money_decimals(values: Iterable[float | None], least: int = 2, *,
                   below: float = 0.01) -> int:
    """The decimals a column of amounts needs (a table's number format, which is one for
    the whole column and keeps it sorting by value) so that, as with `money`, no non-zero
    amount reads as free: `least`, or enough for the first two significant digits of the
    smallest non-zero amount under `below` (a cent; amounts compared side by side: a
    dollar, so that $0.018 stands against $0.011, not $0.02 against $0.01)."""
    small = [abs(v) for v in values if v is not None and not math.isnan(v) and v != 0]
    if not small or min(small) >= below:
        return least
    return max(least, 1 - math.floor(math.log10(min(small))))


def count(value: float | None) -> str:
    """Whole numbers with thousands separators ('11,812,345'); '—' for a missing value."""
    if _missing(value):
        return "—"
    return f"{value:,.0f}"


def counted(value: int, noun: str) -> str:
    """A count with its noun in the right number: '1 info alert', '2 info alerts'."""
    return f"{count(value)} {noun if value == 1 else noun + 's'}"


def percent(value: float | None, digits: int = 1) -> str:
    """A share ('12.5%'); one that is not zero never reads zero ('<0.1%'); '—' if missing."""
    if _missing(value):
        return "—"
    assert value is not None
    shown = f"{value:.{digits}%}"
    if value > 0 and float(shown[:-1]) == 0:
        return f"<{10.0 ** -digits:.{digits}f}%"
    return shown


def change(current: float, previous: float | None) -> str | None:
    """'+12.5%' against the previous period; None when there is nothing to compare or
    nothing changed (to the shown precision: no arrow for '+0.0%')."""
    if previous is None or math.isnan(previous):
        return None
    if previous == 0:
        return None if current == 0 else "new"
    shown = f"{(current - previous) / previous:+.1%}"
    return None if shown in ("+0.0%", "-0.0%") else shown


def points(current: float, previous: float | None) -> str | None:
    """A change of a rate in percentage points ('+1.2 pp'); None when unchanged."""
    if previous is None or math.isnan(previous) or math.isnan(current):
        return None
    shown = f"{(current - previous) * 100:+.1f} pp"
    return None if shown in ("+0.0 pp", "-0.0 pp") else shown


def duration(seconds: float | None) -> str:
    """'114 ms', '2.3 s', '42 s', '3 min 12 s', '2 h 05 min', '3 d 4 h' (a zero last part
    left out: '24 h'; below 10 s the tenths or milliseconds that tool calls take, 0 as
    '0 s'); '—' for a missing value."""
    if _missing(seconds):
        return "—"
    assert seconds is not None
    if 0 < seconds < 0.9995:
        return f"{round(seconds * 1000)} ms"
    if 0 < seconds < 9.95:
        return f"{seconds:.1f} s"
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs:02d} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h" + (f" {minutes:02d} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def text(value: object) -> str:
    """A text cell: '—' for a missing value (never 'None' or 'nan')."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    shown = str(value)
    return shown if shown.strip() else "—"
