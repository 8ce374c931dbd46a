"""Time ranges and time-zone arithmetic for the dashboards, alerts and queries.

Pure functions over `datetime` and `zoneinfo`; no SQL, no Streamlit. The database stores
naive UTC (contract D4); what the user picks is local to a time zone. Two invariants:

- a `Window` is a half-open interval `[since, until)` of naive UTC datetimes, `None` meaning
  unbounded; its `previous` is the period of the same nominal length right before it
  (for "Today": yesterday up to the same wall-clock time), used for KPI deltas;
- `offset_segments` describes a zone's UTC offset over an interval exactly (DST and
  half-hour zones alike), so the queries can convert timestamps to local time in SQL.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Preset(StrEnum):
    """The time ranges a user can pick. The page's URL keeps the label shown
    (`?range=Last+7+days`): Streamlit binds a select box by the text it shows."""

    ALL = "all"
    TODAY = "today"
    LAST_24H = "24h"
    LAST_7D = "7d"
    LAST_30D = "30d"
    LAST_90D = "90d"
    THIS_MONTH = "month"
    LAST_MONTH = "last-month"
    CUSTOM = "custom"


PRESET_LABELS: dict[Preset, str] = {
    Preset.ALL: "All time", Preset.TODAY: "Today", Preset.LAST_24H: "Last 24 hours",
    Preset.LAST_7D: "Last 7 days", Preset.LAST_30D: "Last 30 days",
    Preset.LAST_90D: "Last 90 days", Preset.THIS_MONTH: "This month",
    Preset.LAST_MONTH: "Last month", Preset.CUSTOM: "Custom dates",
}
_DAYS = {Preset.LAST_7D: 7, Preset.LAST_30D: 30, Preset.LAST_90D: 90}


class Unit(StrEnum):
    """Timeline bucket sizes, in the user's time zone."""

    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Window:
    """`[since, until)` in naive UTC; `None` = unbounded. `previous` is for deltas."""

    since: datetime | None
    until: datetime | None
    previous: tuple[datetime, datetime] | None = None

    def contains(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until)


def zone(name: str | None) -> ZoneInfo:
    """The zone of that IANA name; UTC for an empty, unknown or malformed name."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_names() -> list[str]:
    """Every IANA zone name this Python knows, sorted, UTC first."""
    return ["UTC", *sorted(name for name in available_timezones() if name != "UTC")]


def to_utc(moment: datetime) -> datetime:
    """An aware datetime -> naive UTC (the database's form)."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant of a local calendar day, as naive UTC (exact across DST)."""
    return to_utc(datetime.combine(day, time(0), tzinfo=tz))


def resolve(preset: Preset, *, now: datetime, tz: tzinfo,
            start: date | None = None, end: date | None = None) -> Window:
    """The window a preset means at `now` (aware) in zone `tz`.

    Day presets end at the next local midnight and "Last 24 hours" at the end of the
    current minute, so a call dated in the future (a skewed clock) is never in them; their
    previous period ends at the same offset from its start as `now`. "Last 24 hours" is 24
    real hours, also across a daylight-saving change.
    """
    now = now.astimezone(tz).replace(second=0, microsecond=0)
    today = now.date()
    if preset is Preset.ALL:
        return Window(None, None)
    if preset is Preset.LAST_24H:
        until = to_utc(now) + timedelta(minutes=1)
        since = until - timedelta(hours=24, minutes=1)
        return Window(since, until, (since - timedelta(hours=24), since))
    if preset in (Preset.THIS_MONTH, Preset.LAST_MONTH):
        return _month(today, tz, now, this=preset is Preset.THIS_MONTH)
    if preset is Preset.CUSTOM:
        first, last = sorted((start or today, end or start or today))
        since, until = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
        days = (last - first).days + 1
        return Window(since, until, (local_midnight(first - timedelta(days=days), tz), since))
    days = _DAYS.get(preset, 1)
    first = today - timedelta(days=days - 1)
    wall = now.replace(tzinfo=None) - timedelta(days=days)
    prev_until = to_utc(wall.replace(tzinfo=tz))
    return Window(local_midnight(first, tz), local_midnight(today + timedelta(days=1), tz),
                  (local_midnight(first - timedelta(days=days), tz), prev_until))


def _month_start(day: date, back: int = 0) -> date:
    """The first day of the calendar month `back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month(today: date, tz: tzinfo, now: datetime, *, this: bool) -> Window:
    """This calendar month (previous period: last month up to the same day and time) or
    last month (previous period: the month before it), in local time (billing periods)."""
    if not this:
        first, nxt = _month_start(today, 1), _month_start(today)
        before = _month_start(today, 2)
        return Window(local_midnight(first, tz), local_midnight(nxt, tz),
                      (local_midnight(before, tz), local_midnight(first, tz)))
    first, nxt = _month_start(today), _month_start(_month_start(today) + timedelta(days=32))
    before = _month_start(today, 1)
    same = now.replace(tzinfo=None) - (first - before)  # as far into last month as now is
    prev_until = min(to_utc(same.replace(tzinfo=tz)), local_midnight(first, tz))
    return Window(local_midnight(first, tz), local_midnight(nxt, tz),
                  (local_midnight(before, tz), prev_until))


def default_unit(window: Window, *, now: datetime, first_call: datetime | None) -> Unit:
    """Hourly up to 2 days, daily up to ~6 months, monthly beyond."""
    start = window.since or first_call
    if start is None:
        return Unit.DAY
    span = (window.until or to_utc(now)) - start
    if span <= timedelta(days=2):
        return Unit.HOUR
    return Unit.DAY if span <= timedelta(days=190) else Unit.MONTH


@dataclass(frozen=True, slots=True)
class Segments:
    """A zone's UTC offset over time: `offsets[i]` holds from `starts[i]` (naive UTC).

    `starts[0]` is `None` (since forever); offsets are whole seconds east of UTC.
    """

    starts: tuple[datetime | None, ...]
    offsets: tuple[int, ...]

    def offset_at(self, moment: datetime) -> int:
        keys = [s for s in self.starts[1:] if s is not None]
        return self.offsets[bisect_right(keys, moment)]


def _offset(tz: tzinfo, moment: datetime) -> int:
    delta = moment.replace(tzinfo=UTC).astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _transition(tz: tzinfo, low: datetime, high: datetime) -> datetime:
    """The first instant in (low, high] with the offset of `high` (to the second)."""
    target = _offset(tz, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _offset(tz, middle) == target:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def offset_segments(tz: tzinfo, first: datetime, last: datetime) -> Segments:
    """The offsets of `tz` between two naive UTC instants, with exact transition times.

    Scans day by day (no zone changes offset twice within a day) and bisects each change.
    """
    step = timedelta(days=1)
    starts: list[datetime | None] = [None]
    offsets = [_offset(tz, first)]
    cursor = first
    while cursor < last:
        following = min(cursor + step, last)
        current = _offset(tz, following)
        if current != offsets[-1]:
            starts.append(_transition(tz, cursor, following))
            offsets.append(current)
        cursor = following
    return Segments(tuple(starts), tuple(offsets))


def iso(value: datetime) -> str:
    """A stored (naive UTC) moment as ISO 8601 UTC, as exports and `report --json` write it:
    always to the microsecond (as stored), so that times sort as text,
    '2026-01-10T08:00:00.000000Z'."""
    return value.isoformat(timespec="microseconds") + "Z"
