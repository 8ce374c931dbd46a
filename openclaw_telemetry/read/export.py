"""Rows to export (`session_parser.py export`, the dashboards' CSV downloads): every LLM
call, session or tool call of a scope, or its daily usage, streamed in chunks.

`export(engine, what=…, scope=…)` returns an `Export`: the column names with their Python
types (from the schema, so a writer can declare a typed Parquet schema) and `chunks()`, a
generator that reads lists of row tuples from a server-side cursor (PostgreSQL: a named
cursor; SQLite reads lazily anyway), so a million calls never sit in memory at once.
Values are raw: integers, floats as stored (a call's dollars as recorded or priced; the
sums of sessions and days to `COST_DECIMALS` places, below which they carry the noise of
float addition), naive-UTC datetimes, booleans, None.

What is selected is what the dashboards select: calls and tool calls by their own
timestamp (`call_conditions`, `tools.tool_scope`), sessions active in the range with their
session totals (`sessions.session_conditions`, as the sessions table), and the daily usage
from the same hourly roll-up and local days as the dashboards' daily timeline
(`calls.timeline`), one row per local day and model with calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, tzinfo
from functools import partial
from typing import Any, Literal

from sqlalchemy import BigInteger, Engine, Select, select, type_coerce

from openclaw_telemetry.measures import M, S, tokens
from openclaw_telemetry.model import COST_DECIMALS
from openclaw_telemetry.read import calls as call_reads
from openclaw_telemetry.read.rollups import MEASURES
from openclaw_telemetry.read.sessions import session_conditions
from openclaw_telemetry.read.sqlkit import Scope, call_conditions
from openclaw_telemetry.read.tools import tool_scope
from openclaw_telemetry.schema import tool_calls
from openclaw_telemetry.timeframe import Unit

T = tool_calls.c
What = Literal["calls", "sessions", "tool-calls", "daily"]
WHATS: tuple[What, ...] = ("calls", "sessions", "tool-calls", "daily")
CHUNK = 10_000  # rows per chunk: a few MB of tuples
Rows = Iterator[list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class Export:
    what: What
    columns: tuple[tuple[str, type], ...]  # name, Python type (str int float bool datetime date)
    chunks: Callable[[], Rows]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


_CALL_COLUMNS = (M.gateway, M.message_id, M.session_id, M.agent_id, M.timestamp, M.provider,
                 M.model, M.api, M.input_tokens, M.output_tokens, M.cache_read_tokens,
                 M.cache_write_tokens, type_coerce(tokens(), BigInteger).label("total_tokens"),
                 M.cost, M.cost_source, M.recorded_cost, M.subscription, M.is_error,
                 M.stop_reason, M.error_message, M.latency_ms, M.tool_call_count,
                 M.response_id, M.input_cost, M.output_cost, M.cache_read_cost,
                 M.cache_write_cost)
_SESSION_COLUMNS = (S.gateway, S.session_id, S.agent_id, S.session_key, S.label, S.kind,
                    S.channel, S.start_time, S.end_time, S.model, S.provider, S.thinking_level,
                    S.cron_job_id, S.cron_job_name, S.parent_session_id, S.parent_session_key,
                    S.spawn_depth, S.total_messages, S.total_tool_calls, S.total_input_tokens,
                    S.total_output_tokens, S.total_cache_read_tokens,
                    S.total_cache_write_tokens,
                    type_coerce(S.total_input_tokens + S.total_output_tokens
                                + S.total_cache_read_tokens + S.total_cache_write_tokens,
                                BigInteger).label("total_tokens"),
                    S.total_cost, S.estimated_cost, S.unpriced_calls, S.total_errors)
_TOOL_COLUMNS = (T.gateway, T.tool_call_id, T.message_id, T.call_index, T.session_id,
                 T.timestamp, T.tool_name, T.bridge_name, T.is_error, T.duration_ms)
DAILY_COLUMNS: tuple[tuple[str, type], ...] = (
    ("day", date), ("model", str),
    *((name, float if name.endswith("cost") else int) for name in MEASURES),
    ("tokens", int))


def export(engine: Engine, *, what: What, scope: Scope, tz: tzinfo = UTC, search: str = "",
           chunk: int = CHUNK) -> Export:
    """The rows of `what` in `scope` (`tz`: the local days of `daily`; `search`: the
    sessions table's search, for `sessions`). Columns:

    - calls: gateway, message_id, session_id, agent_id, timestamp, provider, model, api,
      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, total_tokens,
      cost, cost_source, recorded_cost, subscription, is_error, stop_reason,
      error_message, latency_ms, tool_call_count, response_id, input_cost, output_cost,
      cache_read_cost, cache_write_cost (None where no split is stored) (in time order);
    - sessions: gateway, session_id, agent_id, session_key, label, kind, channel,
      start_time, end_time, model, provider, thinking_level, cron_job_id, cron_job_name,
      parent_session_id, parent_session_key, spawn_depth, total_messages (its calls),
      total_tool_calls, total_input_tokens, total_output_tokens, total_cache_read_tokens,
      total_cache_write_tokens, total_tokens, total_cost, estimated_cost, unpriced_calls,
      total_errors (by start time);
    - tool-calls: gateway, tool_call_id, message_id, call_index, session_id, timestamp,
      tool_name, bridge_name, is_error (None: no result seen), duration_ms (in time order);
    - daily: day (local date), model, calls, errors, input, output, cache_read,
      cache_write, cost, estimated_cost, unpriced_calls, unpriced_tokens,
      subscription_cost, tool_calls, tokens (by day, then model).
    """
    if what == "daily":
        return Export(what, DAILY_COLUMNS, _rounded(
            DAILY_COLUMNS, lambda: _daily(engine, scope, tz, chunk)))
    if what == "calls":
        stmt = (select(*_CALL_COLUMNS).where(*call_conditions(scope))
                .order_by(M.timestamp, M.gateway, M.message_id))
    elif what == "sessions":
        stmt = (select(*_SESSION_COLUMNS).where(*session_conditions(scope, search))
                .order_by(S.start_time, S.gateway, S.session_id))
    else:
        stmt = tool_scope(select(*_TOOL_COLUMNS), scope).order_by(
            T.timestamp, T.gateway, T.message_id, T.call_index)
    columns = tuple((str(c.name), c.type.python_type) for c in stmt.selected_columns)
    rows = partial(_stream, engine, stmt, chunk)
    return Export(what, columns, _rounded(columns, rows) if what == "sessions" else rows)


def _rounded(columns: tuple[tuple[str, type], ...], chunks: Callable[[], Rows]
             ) -> Callable[[], Rows]:
    """`chunks` with the summed dollars (float columns named …cost) to `COST_DECIMALS`
    places, as `report --json` prints them: 0.1 + 0.2 is 0.3 in a spreadsheet. (Not a
    call's own amount: as stored, and `round` would add 8 s to a million calls.)"""
    money = [i for i, (name, kind) in enumerate(columns) if kind is float
             and name.endswith("cost")]

    def rounded() -> Rows:
        for part in chunks():
            rows = []
            for row in part:
                values = list(row)
                for i in money:
                    if values[i] is not None:
                        values[i] = round(values[i], COST_DECIMALS)
                rows.append(tuple(values))
            yield rows
    return rounded


def _stream(engine: Engine, stmt: Select[Any], chunk: int) -> Rows:
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        for part in result.partitions():
            yield [tuple(row) for row in part]


def _daily(engine: Engine, scope: Scope, tz: tzinfo, chunk: int) -> Rows:
    """The dashboards' daily timeline by model (`calls.timeline`), days with calls only."""
    days = call_reads.timeline(engine, scope=scope, tz=tz, unit=Unit.DAY, by="model")
    days = days[days["calls"] > 0]
    names = [name for name, _ in DAILY_COLUMNS[2:]]
    values = [[d.date() for d in days["bucket"]], days["series"].tolist(),
              *(days[name].tolist() for name in names)]
    rows = list(zip(*values, strict=True))
    for start in range(0, len(rows), chunk):
        yield rows[start:start + chunk]
