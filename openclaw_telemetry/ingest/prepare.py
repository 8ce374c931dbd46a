"""A parsed batch turned into the rows the writer stores, before any database is asked.

Everything about a call that does not depend on what the database already holds is decided
here: its price (contract C2-C4), its `messages` row with times in the backend's form
(D4), its tool calls joined to the results of the same slice (D2), the place where it was
found. The writer is left with the decisions that need the database: whether the call is
new or a copy (B3), and then its owner (B4). Preparing is pure, so it runs where the
batch was parsed: in the writing process, or in the parsing worker (`parse_worker`), which
then hands over rows ready to insert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openclaw_telemetry.ingest.rows import (
    EventRow,
    MessageRow,
    OccurrenceRow,
    ResultRow,
    ToolCallRow,
)
from openclaw_telemetry.ingest.state import SourceState
from openclaw_telemetry.model import Batch, Call, ParseIssue, ToolResult
from openclaw_telemetry.pricing import NO_SPLIT, PriceBook, google_repaired

ERROR_STOPS = frozenset({"error", "aborted", "timeout"})
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(slots=True)
class Pricing:
    """The prices and the login providers that apply where a call was read."""

    book: PriceBook
    subscription: Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a slice was read, and what its rows need to know about the database."""

    gateway: str
    source_id: int
    session_id: str | None
    agent_id: str | None
    pricing: Pricing
    sqlite: bool  # times as SQLite text (contract D4), else datetimes

    @classmethod
    def of(cls, state: SourceState, gateway: str, pricing: Pricing, *, sqlite: bool) -> Place:
        """The place of what is read from a source now (its session is known from line 1)."""
        return cls(gateway, state.source_id, state.session_id, state.agent_id, pricing, sqlite)


Values = tuple[Any, ...]  # a row record's values (`rows`) as a plain tuple


@dataclass(slots=True)
class SliceRows:
    """What one slice of a source stores, but for the database's decisions.

    Per call, in step: its `messages` row, its `tool_calls` rows, the places in `results`
    of the results its tool calls were joined to and of any result with the same id on
    the same line (none of them waits for its call if this call is new), and its
    `message_occurrences` row. Rows are the values of their records (`MessageRow` …) as
    plain tuples: they cross the pipe from the parsing worker at a third of the cost of
    named tuples, and go to the driver as they are.
    """

    messages: list[Values]
    tools: list[tuple[Values, ...]]
    answered: list[tuple[int, ...]]
    occurrences: list[Values]
    results: list[Values]
    events: list[Values]
    issues: list[ParseIssue]


def sqlite_time(value: datetime | None) -> str | None:
    """How SQLAlchemy's DateTime stores times in SQLite (contract D4)."""
    if value is None:
        return None
    text = value.isoformat(" ")
    return text if len(text) == 26 else f"{text}.000000"


def _same(value: datetime | None) -> datetime | None:
    return value


def time_form(sqlite: bool) -> Callable[[datetime | None], Any]:
    """Times as the backend stores them: SQLite text, else the datetime itself."""
    return sqlite_time if sqlite else _same


def tool_duration(called: datetime, result_time: datetime | None,
                  recorded_ms: int | None) -> int | None:
    """A tool call's duration: the result's `durationMs`, else result time minus call
    time in whole milliseconds (none when negative or unknown)."""
    if recorded_ms is not None or result_time is None:
        return recorded_ms
    gap = round((result_time - called) / _MILLISECOND)
    return gap if gap >= 0 else None


def prepare(batch: Batch, place: Place) -> SliceRows:
    """The rows of a batch read at `place` (none but its problems without a session)."""
    rows = SliceRows([], [], [], [], [], [], batch.issues)
    if place.session_id is None:
        return rows
    when = time_form(place.sqlite)
    waiting: dict[str, list[int]] = {}
    alike: dict[tuple[str, int], list[int]] = {}
    for index, done in enumerate(batch.results):
        waiting.setdefault(done.tool_call_id, []).append(index)
        alike.setdefault((done.tool_call_id, done.position), []).append(index)
    for call in batch.calls:
        _add_call(rows, call, place, when, batch.results, waiting, alike)
    rows.results = [tuple(ResultRow(place.gateway, place.session_id, r.tool_call_id,
                                    r.is_error, when(r.timestamp), r.duration_ms))
                    for r in batch.results]
    rows.events = [tuple(EventRow(place.session_id, place.gateway, place.source_id,
                                  e.position, when(e.timestamp), e.kind, e.value,
                                  e.tokens_before, e.tokens_after))
                   for e in batch.events]
    return rows


def _add_call(rows: SliceRows, call: Call, place: Place,
              when: Callable[[datetime | None], Any], results: list[ToolResult],
              waiting: dict[str, list[int]], alike: dict[tuple[str, int], list[int]]) -> None:
    """A call's rows. Every call takes its results in order, new or not, so a reused id
    (call_0 in every response) pairs each call with the result that follows it."""
    stamp = when(call.timestamp)
    tools: list[Values] = []
    answered: list[int] = []
    for tool in call.tool_calls:
        index = _answer(results, waiting, tool.tool_call_id, call.position)
        if index is None:
            is_error, duration = None, None
        else:
            result = results[index]
            answered += alike[(result.tool_call_id, result.position)]
            is_error = result.is_error
            duration = tool_duration(call.timestamp, result.timestamp, result.duration_ms)
        tools.append(tuple(ToolCallRow(tool.tool_call_id, place.gateway, tool.tool_name,
                                       tool.bridge_name, place.session_id, call.key, stamp,
                                       tool.place, is_error, duration)))
    rows.messages.append(tuple(_message(call, place, stamp)))
    rows.tools.append(tuple(tools))
    rows.answered.append(tuple(answered))
    rows.occurrences.append(tuple(OccurrenceRow(call.key, place.gateway, place.source_id,
                                                place.session_id)))


def _answer(results: list[ToolResult], waiting: dict[str, list[int]], call_id: str,
            position: int) -> int | None:
    """Take the first result for this id that comes after the call in the transcript."""
    queue = waiting.get(call_id, [])
    for at, index in enumerate(queue):
        if results[index].position > position:
            return queue.pop(at)
    return None


def _message(call: Call, place: Place, stamp: Any) -> MessageRow:
    priced = place.pricing.book.price(call)
    usage = call.usage
    inp, out, read, write = priced.split or NO_SPLIT
    return MessageRow(
        message_id=call.key, gateway=place.gateway, session_id=place.session_id,
        agent_id=place.agent_id, timestamp=stamp, role="assistant", model=call.model,
        provider=call.provider, api=call.api, input_tokens=usage.input,
        output_tokens=usage.output, cache_read_tokens=usage.cache_read,
        cache_write_tokens=usage.cache_write, total_tokens=usage.total, cost=priced.cost,
        cost_source=priced.source.value,
        recorded_cost=google_repaired(call) if call.google_fix else call.recorded_cost,
        stop_reason=call.stop_reason, is_error=call.stop_reason in ERROR_STOPS,
        error_message=call.error_message, response_id=call.response_id,
        response_model=call.response_model, latency_ms=call.latency_ms,
        subscription=place.pricing.subscription(call.provider), entry_id=call.entry_id,
        source_id=place.source_id, tool_call_count=len(call.tool_calls), input_cost=inp,
        output_cost=out, cache_read_cost=read, cache_write_cost=write)
