"""Building blocks of the read layer: the filter scope, the dialect seam, result framing.

Everything here builds SQLAlchemy Core expressions with bound parameters, so the same
statements run on SQLite and PostgreSQL. The only dialect-specific SQL is local-time
formatting (`LocalTime`): SQLite has no time zones, so a timestamp is shifted by the zone's
offset, taken from a `CASE` over the exact transition instants (`timeframe.offset_segments`),
and formatted with `strftime`; PostgreSQL does the same with an interval and `to_char`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Executable,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)

from openclaw_telemetry.measures import (
    M,
    S,
)
from openclaw_telemetry.timeframe import Segments, Unit, offset_segments, to_utc
from openclaw_telemetry.usage import floor

if TYPE_CHECKING:  # pandas only where a frame is made: the terminal reports never load it
    import pandas as pd


@dataclass(frozen=True, slots=True)
class Scope:
    """What a question is asked about: a `[since, until)` range of call timestamps (naive
    UTC, `None` = unbounded) and optional agent, call-model, session-kind and gateway
    filters.

    Frozen and hashable, so it can key a cache.
    """

    since: datetime | None = None
    until: datetime | None = None
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    gateways: tuple[str, ...] = ()

    def between(self, since: datetime | None, until: datetime | None) -> Scope:
        return replace(self, since=since, until=until)


def same_session(a: Any, b: Any) -> ColumnElement[bool]:
    """The join of two tables' rows of one session (`.c` of each): ids are unique per
    gateway, so the gateway must match too."""
    return and_(a.session_id == b.session_id, a.gateway == b.gateway)


def is_session(c: Any, session_id: str, gateway: str) -> ColumnElement[bool]:
    """A table's rows (`.c`) of one session: its id on its gateway."""
    return and_(c.session_id == session_id, c.gateway == gateway)


def time_conditions(column: Any, scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.since is not None:
        conditions.append(column >= scope.since)
    if scope.until is not None:
        conditions.append(column < scope.until)
    return conditions


def session_ref(c: Any) -> ColumnElement[str]:
    """One text per session of a table's rows (`.c`): id and gateway, for COUNT(DISTINCT)
    of sessions (SQLite counts distinct values of one expression only). A gateway name is
    printable (`config.checked_gateway`): no newline, so the last one splits the two."""
    ref: ColumnElement[str] = c.session_id + literal("\n") + c.gateway
    return ref


def in_sessions(c: Any, sessions_: Select[Any]) -> ColumnElement[bool]:
    """Rows (`.c`) of the sessions that `select(session_id, gateway)` lists."""
    return tuple_(c.session_id, c.gateway).in_(sessions_)


def session_subquery(scope: Scope) -> Select[Any] | None:
    """`select(session_id, gateway)` of the sessions the agent and kind filters keep (for
    `in_sessions`), or None when unfiltered."""
    conditions = []
    if scope.agents:
        conditions.append(S.agent_id.in_(scope.agents))
    if scope.kinds:
        conditions.append(S.kind.in_(scope.kinds))
    return select(S.session_id, S.gateway).where(*conditions) if conditions else None


def active_sessions(scope: Scope) -> list[ColumnElement[bool]]:
    """Sessions active in the range (started before its end, ended after its start), with
    the agent / kind filters and the model filter on the session's main model."""
    conditions: list[ColumnElement[bool]] = []
    if scope.until is not None:
        conditions.append(S.start_time < scope.until)
    if scope.since is not None:
        conditions.append(func.coalesce(S.end_time, S.start_time) >= scope.since)
    for column, values in ((S.agent_id, scope.agents), (S.kind, scope.kinds),
                           (S.model, scope.models), (S.gateway, scope.gateways)):
        if values:
            conditions.append(column.in_(values))
    return conditions


def call_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """Filters on `messages` rows: call time, agent, call model, session kind, gateway."""
    conditions = time_conditions(M.timestamp, scope)
    if scope.agents:
        conditions.append(M.agent_id.in_(scope.agents))
    if scope.models:
        conditions.append(M.model.in_(scope.models))
    if scope.gateways:
        conditions.append(M.gateway.in_(scope.gateways))
    if scope.kinds:
        conditions.append(in_sessions(M, select(S.session_id, S.gateway)
                                      .where(S.kind.in_(scope.kinds))))
    return conditions


def by_time(engine: Engine, scope: Scope) -> list[ColumnElement[bool]]:
    """Extra `messages` conditions that make SQLite read a range from `since` by call time.
    It keeps no statistics, so a query grouped per session would rather walk every call in
    session order to skip a sort (0.1 s at 1M calls for an empty 15-minute window). For
    questions asked about recent windows; nothing on PostgreSQL or without `since`."""
    if scope.since is None or dialect_of(engine) != "sqlite":
        return []
    return [func.likelihood(M.timestamp >= scope.since, literal_column("0.01"))]


def positions(count: int) -> list[Any]:
    """GROUP BY 1, 2, ... (select-list positions: no clash between an alias and a column
    of a joined table, and PostgreSQL accepts bound parameters in grouped expressions)."""
    return [literal_column(str(i)) for i in range(1, count + 1)]


_FORMATS = {
    "sqlite": {Unit.HOUR: "%Y-%m-%d %H:00", Unit.DAY: "%Y-%m-%d", Unit.MONTH: "%Y-%m-01"},
    "postgresql": {Unit.HOUR: "YYYY-MM-DD HH24:00", Unit.DAY: "YYYY-MM-DD",
                   Unit.MONTH: "YYYY-MM-01"},
}


@dataclass(frozen=True, slots=True)
class LocalTime:
    """The dialect seam: local-time bucket labels of a naive-UTC timestamp column."""

    dialect: str
    segments: Segments

    def quarter_exact(self) -> bool:
        """Every offset and every transition instant a whole quarter hour (UTC): then a
        15-minute roll-up bucket lies in one local hour (every real zone since ~1980)."""
        return (all(o % 900 == 0 for o in self.segments.offsets)
                and all(s is None or floor(s) == s for s in self.segments.starts))

    def offset(self, column: Any) -> Any:
        """Seconds east of UTC in force at each row's time."""
        return self._piecewise(column, list(self.segments.offsets))

    def _piecewise(self, column: Any, values: list[Any]) -> Any:
        if len(values) == 1:
            return literal(values[0])
        whens = [(column < start, literal(values[i]))
                 for i, start in enumerate(self.segments.starts[1:])]
        return case(*whens, else_=literal(values[-1]))

    def label(self, column: Any, unit: Unit) -> ColumnElement[str]:
        """'YYYY-MM-DD HH:00' / 'YYYY-MM-DD' / 'YYYY-MM-01' in local time."""
        fmt = _FORMATS["postgresql" if self.dialect == "postgresql" else "sqlite"][unit]
        if self.dialect == "postgresql":
            shifted = column + self.offset(column) * literal_column("INTERVAL '1 second'")
            return func.to_char(shifted, fmt)
        if self.segments.offsets == (0,):
            return func.strftime(fmt, column)
        modifiers = [f"{offset:+d} seconds" for offset in self.segments.offsets]
        return func.strftime(fmt, column, self._piecewise(column, modifiers))


def dialect_of(engine: Engine) -> str:
    return "postgresql" if engine.dialect.name == "postgresql" else "sqlite"


def frame(engine: Engine, statement: Executable, columns: Sequence[str] | None = None
          ) -> pd.DataFrame:
    """Run a statement; its rows as a DataFrame (named columns even when empty)."""
    import pandas as pd

    with engine.connect() as conn:
        result = conn.execute(statement)
        names = list(columns) if columns is not None else list(result.keys())
        # Plain tuples: building a DataFrame from Row objects is ~10x slower.
        out = pd.DataFrame.from_records([tuple(row) for row in result], columns=names)
    for name in out.columns:  # PostgreSQL sums BIGINT as NUMERIC: Decimal -> int or float
        if out[name].dtype == object and any(isinstance(v, Decimal) for v in out[name].head(5)):
            values = out[name].tolist()
            whole = all(isinstance(v, Decimal) and v == v.to_integral_value() for v in values)
            # (a count as SQLite gives it, "17505", never "17505.0" in an export)
            out[name] = out[name].astype("int64" if whole else "float64")
    return out


def bounds() -> Select[Any]:
    """First and last call time. Two scalar subqueries: each is one index seek, while
    MIN() and MAX() in one SELECT make SQLite scan the whole table."""
    first = select(func.min(M.timestamp)).scalar_subquery().label("first_call")
    last = select(func.max(M.timestamp)).scalar_subquery().label("last_call")
    return select(first, last)


def _segments(engine: Engine, scope: Scope) -> tuple[datetime, datetime] | None:
    """The UTC interval a local-time conversion must cover: scope clipped to the data."""
    with engine.connect() as conn:
        low, high = conn.execute(bounds()).one()
    if low is None:
        return None
    first = max(scope.since or datetime.min, low)
    last = min(scope.until or datetime.max, high)
    return first - timedelta(days=1), max(first, last) + timedelta(days=1)


def local_time(engine: Engine, scope: Scope, tz: tzinfo) -> LocalTime:
    """The local-time seam for `tz` over the scope, clipped to the calls stored."""
    span = _segments(engine, scope)
    now = to_utc(datetime.now().astimezone())
    first, last = span if span is not None else (now, now)
    return LocalTime(dialect_of(engine), offset_segments(tz, first, last))


def local_buckets(rows: pd.DataFrame, tz: tzinfo, unit: Unit) -> pd.DataFrame:
    """Turn SQL bucket labels (+ utc_offset for hours) into tz-aware bucket starts."""
    import pandas as pd

    out = rows.copy()
    labels = pd.to_datetime(out["bucket"].astype("string"), format="%Y-%m-%d %H:%M"
                            if unit is Unit.HOUR else "%Y-%m-%d")
    if unit is Unit.HOUR:
        utc = labels - pd.to_timedelta(out["utc_offset"].astype("int64"), unit="s")
        out["bucket"] = utc.dt.tz_localize("UTC").dt.tz_convert(tz)
        out = out.drop(columns="utc_offset")
    else:
        out["bucket"] = labels.dt.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return out
