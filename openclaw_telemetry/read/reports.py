"""The terminal reports' questions (`session_parser.py report`): usage per local day, month
or model, and sessions with their totals.

Part of the read layer (engine first, keyword-only filters, aggregation in SQL), but
without pandas: a report must answer in well under half a second, interpreter start-up
included, so these functions return small frozen records instead of DataFrames and this
module imports nothing heavier than SQLAlchemy (the package imports lazily).

Usage figures come from the 15-minute roll-up `usage_quarter_hours` for the buckets
wholly inside the range, and from the calls themselves for the partial quarter hours at
its ends (none when the range runs from local midnight to local midnight), exactly as
`calls.call_rollup` does; in a zone whose offsets are not whole quarter hours every figure
is read from the calls. The days are the local days the dashboards' daily timeline shows
(a test compares the two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, Engine, Select, func, literal, select, union_all

from openclaw_telemetry import usage
from openclaw_telemetry.measures import M, S, session_name, tokens, total, where
from openclaw_telemetry.read.sqlkit import (
    LocalTime,
    Scope,
    active_sessions,
    call_conditions,
    local_time,
    positions,
    time_conditions,
)
from openclaw_telemetry.schema import usage_quarter_hours
from openclaw_telemetry.timeframe import Unit

U = usage_quarter_hours.c
By = Literal["day", "month", "model"]
_SUMS = ("calls", "input", "output", "cache_write", "cache_read", "unpriced_calls",
         "unpriced_tokens")


class Usage(NamedTuple):
    """One line of a report: `key` is the local day ('2026-01-10'), the month ('2026-01'),
    the model, or 'Total'; `models` the models of the calls it counts."""

    key: str
    models: tuple[str, ...]
    calls: int
    input: int
    output: int
    cache_write: int
    cache_read: int
    cost: float
    unpriced_calls: int = 0  # calls of models with no known price: in the tokens, not in
    unpriced_tokens: int | None = 0  # `cost` (contract C3); tokens: None for sessions

    @property
    def tokens(self) -> int:
        """Total tokens as the accounting contract counts them (C1)."""
        return self.input + self.output + self.cache_write + self.cache_read


def summed(rows: list[Usage], key: str = "Total") -> Usage:
    """The lines added up (models: every model of any line, sorted)."""
    tokens = [r.unpriced_tokens for r in rows]
    return _line(key, tuple(sorted({m for r in rows for m in r.models})),
                 [*(sum(getattr(r, name) for r in rows) for name in _SUMS[:-1]),
                  None if None in tokens else sum(t or 0 for t in tokens)],
                 sum(r.cost for r in rows))


def _line(key: str, models: tuple[str, ...], sums: Sequence[Any], cost: Any) -> Usage:
    """A `Usage` from sums in `_SUMS` order (None or Decimal from SQL too; unpriced tokens
    may be missing: None)."""
    calls, input_, output, cache_write, cache_read, unpriced, unpriced_tokens = sums
    return Usage(key, models, int(calls or 0), int(input_ or 0), int(output or 0),
                 int(cache_write or 0), int(cache_read or 0), float(cost or 0),
                 int(unpriced or 0), None if unpriced_tokens is None else int(unpriced_tokens))


def usage_report(engine: Engine, *, scope: Scope, tz: tzinfo, by: By) -> list[Usage]:
    """Calls of the scope per local day, local month or model (oldest day first; models
    most expensive first): calls, the four token kinds and cost, and the models used."""
    local = local_time(engine, scope, tz)
    calls = union_all(*_parts(scope, local)).subquery()
    key: Any = (calls.c.model if by == "model"
                else local.label(calls.c.at, Unit.DAY if by == "day" else Unit.MONTH))
    stmt = (select(key.label("key"), calls.c.model,
                   *(total(calls.c[name]).label(name) for name in (*_SUMS, "cost")))
            .group_by(*positions(2)))
    lines: dict[str, list[Usage]] = {}
    with engine.connect() as conn:
        for row in conn.execute(stmt).all():
            name = str(row.key)[:7] if by == "month" else str(row.key)
            lines.setdefault(name, []).append(
                _line(name, (str(row.model),), row[2:9], row.cost))
    out = [summed(parts, name) for name, parts in lines.items()]
    if by == "model":
        return sorted(out, key=lambda u: (-u.cost, u.key))
    return sorted(out, key=lambda u: u.key)


def _parts(scope: Scope, local: LocalTime) -> list[Select[Any]]:
    """The calls of a scope as rows (at, model, calls, tokens, cost): roll-up buckets for
    the whole quarter hours, the calls themselves at the range's partial ends."""
    low = None if scope.since is None else usage.ceil(scope.since)
    high = None if scope.until is None else usage.floor(scope.until)
    if not local.quarter_exact() or (low is not None and high is not None and low >= high):
        return [_calls(scope)]
    parts = [_buckets(scope.between(low, high))]
    if scope.since is not None and low is not None and scope.since < low:
        parts.append(_calls(scope.between(scope.since, low)))
    if scope.until is not None and high is not None and high < scope.until:
        parts.append(_calls(scope.between(high, scope.until)))
    return parts


def _buckets(scope: Scope) -> Select[Any]:
    conditions = time_conditions(U.bucket, scope)
    for column, values in ((U.agent, scope.agents), (U.model, scope.models),
                           (U.kind, scope.kinds), (U.gateway, scope.gateways)):
        if values:
            conditions.append(column.in_(values))
    return select(U.bucket.label("at"), U.model.label("model"), U.calls.label("calls"),
                  U.input.label("input"), U.output.label("output"),
                  U.cache_write.label("cache_write"), U.cache_read.label("cache_read"),
                  U.unpriced_calls.label("unpriced_calls"),
                  U.unpriced_tokens.label("unpriced_tokens"), U.cost.label("cost")
                  ).where(*conditions)


def _calls(scope: Scope) -> Select[Any]:
    unpriced = where(M.cost_source == "unpriced")
    return select(M.timestamp.label("at"), func.coalesce(M.model, "(none)").label("model"),
                  literal(1).label("calls"), M.input_tokens.label("input"),
                  M.output_tokens.label("output"), M.cache_write_tokens.label("cache_write"),
                  M.cache_read_tokens.label("cache_read"),
                  unpriced.label("unpriced_calls"), (tokens() * unpriced).label("unpriced_tokens"),
                  M.cost.label("cost")).where(*call_conditions(scope))


class SessionUsage(NamedTuple):
    """A session with its totals: `name` is `measures.session_name`.
    (`Usage` and `SessionUsage` are named tuples: a report of every session builds 33k
    of each at 1M calls, three times cheaper than frozen dataclasses.)"""

    gateway: str
    session_id: str
    name: str
    agent: str
    kind: str
    started: datetime | None  # naive UTC: one key is many sessions over time (/new, /reset)
    last_activity: datetime | None  # naive UTC
    usage: Usage  # key: the session id; models: its main model


@dataclass(frozen=True, slots=True)
class SessionReport:
    sessions: list[SessionUsage]  # the most expensive first, at most `limit`
    total: Usage  # over every session selected, not only those listed
    count: int  # sessions selected
    gateways: int  # the gateways of the sessions selected


_SESSION_SUMS: tuple[ColumnElement[Any], ...] = (
    S.total_messages, S.total_input_tokens, S.total_output_tokens,
    S.total_cache_write_tokens, S.total_cache_read_tokens, S.unpriced_calls)


def session_report(engine: Engine, *, scope: Scope, limit: int | None = None
                   ) -> SessionReport:
    """Sessions active in the range (as the dashboards' sessions table: started before its
    end, ended after its start; agent, kind, model and gateway filters) with their session
    totals, most expensive first; `limit` lists only the first ones, the total is always
    over all of them."""
    conditions = active_sessions(scope)
    name = session_name()
    listed = (select(S.gateway, S.session_id, name, S.agent_id, S.kind, S.start_time,
                     S.end_time, S.model,
                     *_SESSION_SUMS, S.total_cost)
              .where(*conditions).order_by(S.total_cost.desc(), S.session_id, S.gateway)
              .limit(limit))
    whole = select(func.count(), func.count(S.gateway.distinct()),
                   *(total(c) for c in _SESSION_SUMS), total(S.total_cost)).where(*conditions)
    with engine.connect() as conn:
        rows = [SessionUsage(r[0], r[1], str(r[2]), str(r[3] or ""), str(r[4] or ""), r[5],
                             r[6], _line(r[1], (r[7],) if r[7] else (), [*r[8:14], None],
                                         r[14]))
                for r in conn.execute(listed).all()]
        count, gateways, *sums = conn.execute(whole).one()
    models = tuple(sorted({m for r in rows for m in r.usage.models}))
    return SessionReport(rows, _line("Total", models, [*sums[:6], None], sums[6]), int(count),
                         int(gateways))
