"""Writing batches: rows and the read state of their sources in one transaction.

This is where contract E2 holds: a batch's calls, tool calls, results, problems and the
read state of every source it came from commit together or not at all, and every write is
idempotent (natural keys, insert-or-ignore), so a run killed at any moment is finished
exactly by the next. Batches span sources (many small files commit together) and are
bounded by `batch_calls`; rows go through the driver's executemany, which is what keeps a
cold ingest close to the speed of reading the files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Table, bindparam, select, update

from openclaw_telemetry import usage
from openclaw_telemetry.ingest.rows import (
    EventRow,
    IssueRow,
    MessageRow,
    OccurrenceRow,
    PendingRow,
    ResultRow,
    SessionStub,
    ToolCallRow,
)
from openclaw_telemetry.ingest.state import SourceState
from openclaw_telemetry.model import Batch, Call, CostSource, ToolCall, ToolResult
from openclaw_telemetry.pricing import PriceBook, google_repaired
from openclaw_telemetry.schema import (
    message_occurrences,
    messages,
    parse_issues,
    pending_keys,
    session_events,
    sessions,
    sources,
    tool_calls,
    tool_results,
)

CHUNK = 500  # bound parameters per IN list, well under every backend's limit
ERROR_STOPS = frozenset({"error", "aborted", "timeout"})


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING for dicts (small, cold paths)."""
    if not rows:
        return
    columns = tuple(rows[0])
    bulk_insert(conn, table, columns, [tuple(r[c] for c in columns) for r in rows])


def insert_rows(conn: Connection, table: Table, rows: Sequence[NamedTuple]) -> None:
    """INSERT … ON CONFLICT DO NOTHING for named records (`rows`): columns are their fields."""
    if rows:
        bulk_insert(conn, table, rows[0]._fields, rows)


def bulk_insert(conn: Connection, table: Table, columns: tuple[str, ...],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """Driver-level executemany of INSERT … ON CONFLICT DO NOTHING (SQLite ≥ 3.24, PostgreSQL).

    Table and column names come from schema.py, never from input. Datetimes must already
    be in the backend's form (`time_writer`).
    """
    if not rows:
        return
    marker = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 (schema names)
           f"VALUES ({', '.join([marker] * len(columns))}) ON CONFLICT DO NOTHING")
    conn.exec_driver_sql(sql, rows)


_MILLISECOND = timedelta(milliseconds=1)


def tool_duration(called: datetime, result_time: datetime | None,
                  recorded_ms: int | None) -> int | None:
    """A tool call's duration: the result's `durationMs`, else result time minus call
    time in whole milliseconds (none when negative or unknown)."""
    if recorded_ms is not None or result_time is None:
        return recorded_ms
    gap = round((result_time - called) / _MILLISECOND)
    return gap if gap >= 0 else None


def _tool_row(tool: ToolCall, gateway: str, session_id: str | None, call: Call, when: Any,
              result: ToolResult | None) -> ToolCallRow:
    """A tool_calls row, joined to its result when the same slice holds it (D2); else
    left open for the join at the end of the run (`finalize`)."""
    if result is None:
        is_error, duration = None, None
    else:
        is_error = result.is_error
        duration = tool_duration(call.timestamp, result.timestamp, result.duration_ms)
    return ToolCallRow(tool.tool_call_id, gateway, tool.tool_name, tool.bridge_name,
                       session_id, call.key, when, tool.place, is_error, duration)


def _answer(waiting: dict[str, list[ToolResult]], call_id: str,
            position: int) -> ToolResult | None:
    """Take the first result for this id that comes after the call in the transcript."""
    queue = waiting.get(call_id, [])
    for index, result in enumerate(queue):
        if result.position > position:
            return queue.pop(index)
    return None


def _sqlite_time(value: datetime | None) -> str | None:
    """How SQLAlchemy's DateTime stores times in SQLite (contract D4)."""
    if value is None:
        return None
    text = value.isoformat(" ")
    return text if len(text) == 26 else f"{text}.000000"


def _same(value: datetime | None) -> datetime | None:
    return value


def time_writer(engine: Engine) -> Callable[[datetime | None], Any]:
    return _sqlite_time if engine.dialect.name == "sqlite" else _same


@dataclass(slots=True)
class Pricing:
    book: PriceBook
    subscription: Callable[[str], bool]


@dataclass(slots=True)
class FlushTotals:
    """What a run added, for its summary."""

    new_calls: int = 0
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0
    cost: float = 0.0
    estimated_cost: float = 0.0
    unpriced_calls: int = 0
    unpriced_tokens: int = 0
    issues: int = 0

    def add(self, call: Call, cost: float, source: CostSource) -> None:
        self.new_calls += 1
        self.input += call.usage.input
        self.output += call.usage.output
        self.cache_read += call.usage.cache_read
        self.cache_write += call.usage.cache_write
        self.cost += cost
        if source is CostSource.ESTIMATED:
            self.estimated_cost += cost
        elif source is CostSource.UNPRICED:
            self.unpriced_calls += 1
            self.unpriced_tokens += call.usage.total


@dataclass(slots=True)
class _Slice:
    """One source's contribution to the open batch, with its state as of that moment."""

    state: dict[str, Any]
    source_id: int
    session_id: str | None
    agent_id: str | None
    rel_path: str
    batch: Batch
    pricing: Pricing


@dataclass(slots=True)
class _Open:
    slices: list[_Slice] = field(default_factory=list)
    calls: int = 0


class Writer:
    """Collects slices of sources and commits them in bounded transactions."""

    def __init__(self, engine: Engine, gateway: str, run_id: int, totals: FlushTotals,
                 pricing: Callable[[str, str | None], Pricing], batch_calls: int = 10000,
                 *, cold: bool = False) -> None:
        self.engine = engine
        self.gateway = gateway
        self.cold = cold  # a first ingest: its finalize re-derives the whole roll-up
        self.pricing = pricing
        self.run_id = run_id
        self.totals = totals
        self.batch_calls = batch_calls
        self._open = _Open()
        self._time = time_writer(engine)

    def flush(self, state: SourceState, batch: Batch) -> None:
        """Queue what a source produced and its read state; commit when the batch is full."""
        self.add(state.source_id, state.values(), batch)

    def add(self, source_id: int, values: dict[str, Any], batch: Batch) -> None:
        """Queue a batch with the read state its source had right after it."""
        pricing = self.pricing(values["path"], values["agent_id"])
        self._open.slices.append(_Slice(values, source_id, values["session_id"],
                                        values["agent_id"], values["rel_path"], batch, pricing))
        self._open.calls += len(batch.calls) + 1
        if self._open.calls >= self.batch_calls:
            self.commit()

    def commit(self) -> None:
        """Write every queued slice and source state in one transaction."""
        work, self._open = self._open, _Open()
        if not work.slices:
            return
        with self.engine.begin() as conn:
            self._write(conn, work.slices)

    def _write(self, conn: Connection, slices: list[_Slice]) -> None:
        with_rows = [s for s in slices if s.session_id is not None]
        gateway = self.gateway
        self._touch_sessions(conn, gateway, {(s.session_id, s.agent_id) for s in with_rows
                                             if s.session_id})
        keys = list({c.key for s in with_rows for c in s.batch.calls})
        owners = self._existing(conn, gateway, keys)
        rows: list[MessageRow] = []
        tools: list[ToolCallRow] = []
        results: list[ResultRow] = []
        occurrences: list[OccurrenceRow] = []
        earlier: list[dict[str, Any]] = []
        pending: set[str] = set()
        for piece in with_rows:
            sid = piece.session_id
            waiting: dict[str, list[ToolResult]] = {}
            for done in piece.batch.results:
                waiting.setdefault(done.tool_call_id, []).append(done)
            joined: set[tuple[str, int]] = set()
            for call in piece.batch.calls:
                occurrences.append(OccurrenceRow(call.key, gateway, piece.source_id, sid))
                owner = owners.get(call.key)
                # every call takes its results in order, so a reused id (call_0 in every
                # response) pairs each call with the result that follows it
                answers = [_answer(waiting, t.tool_call_id, call.position)
                           for t in call.tool_calls]
                if owner is None:
                    owners[call.key] = sid or ""
                    rows.append(self._message(call, piece))
                    when = self._time(call.timestamp)
                    for tool, result in zip(call.tool_calls, answers, strict=True):
                        tools.append(_tool_row(tool, gateway, sid, call, when, result))
                        if result is not None:
                            joined.add((result.tool_call_id, result.position))
                    continue
                if owner != sid:
                    pending.add(call.key)
                earlier.append({"k": call.key, "t": call.timestamp})  # any copy may be earlier
            # results joined above are done; the others wait for their call (end of run)
            results.extend(ResultRow(gateway, sid, r.tool_call_id, r.is_error,
                                     self._time(r.timestamp), r.duration_ms)
                           for r in piece.batch.results
                           if (r.tool_call_id, r.position) not in joined)
        insert_rows(conn, messages, rows)
        insert_rows(conn, tool_calls, tools)
        insert_rows(conn, tool_results, results)
        insert_rows(conn, message_occurrences, occurrences)
        insert_rows(conn, pending_keys, [PendingRow(k, gateway) for k in sorted(pending)])
        insert_rows(conn, session_events, [
            EventRow(piece.session_id, gateway, piece.source_id, e.position,
                     self._time(e.timestamp), e.kind, e.value, e.tokens_before, e.tokens_after)
            for piece in with_rows for e in piece.batch.events])
        self._earlier_times(conn, gateway, earlier, refresh=not self.cold)
        self._issues(conn, slices)  # also of a source that yielded no session (a bad archive)
        self._save_states(conn, slices)

    def _message(self, call: Call, piece: _Slice) -> MessageRow:
        priced = piece.pricing.book.price(call)
        self.totals.add(call, priced.cost, priced.source)
        usage = call.usage
        return MessageRow(
            message_id=call.key, gateway=self.gateway, session_id=piece.session_id,
            agent_id=piece.agent_id, timestamp=self._time(call.timestamp), role="assistant",
            model=call.model, provider=call.provider, api=call.api, input_tokens=usage.input,
            output_tokens=usage.output, cache_read_tokens=usage.cache_read,
            cache_write_tokens=usage.cache_write, total_tokens=usage.total, cost=priced.cost,
            cost_source=priced.source.value,
            recorded_cost=google_repaired(call) if call.google_fix else call.recorded_cost,
            stop_reason=call.stop_reason, is_error=call.stop_reason in ERROR_STOPS,
            error_message=call.error_message, response_id=call.response_id,
            response_model=call.response_model, latency_ms=call.latency_ms,
            subscription=piece.pricing.subscription(call.provider), entry_id=call.entry_id,
            source_id=piece.source_id, tool_call_count=len(call.tool_calls))

    def _issues(self, conn: Connection, slices: list[_Slice]) -> None:
        issues = [IssueRow(self.gateway, s.source_id, s.rel_path, i.position, i.byte_offset,
                           i.kind, i.detail, self.run_id) for s in slices for i in s.batch.issues]
        insert_rows(conn, parse_issues, issues)
        self.totals.issues += len(issues)

    @staticmethod
    def _touch_sessions(conn: Connection, gateway: str,
                        pairs: set[tuple[str | None, str | None]]) -> None:
        ordered = sorted((sid, agent) for sid, agent in pairs if sid)
        insert_rows(conn, sessions, [SessionStub(sid, gateway, agent, "unknown", True)
                                     for sid, agent in ordered])
        ids = [sid for sid, _ in ordered]
        for part in chunks(ids):
            conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                                sessions.c.session_id.in_(part))
                         .values(dirty=True))

    @staticmethod
    def _existing(conn: Connection, gateway: str, keys: list[str]) -> dict[str, str]:
        """Owner of each key already stored (driver-level: this runs for every call)."""
        marker = "?" if conn.dialect.name == "sqlite" else "%s"
        found: dict[str, str] = {}
        for part in chunks(keys):
            found.update(conn.exec_driver_sql(
                "SELECT message_id, session_id FROM messages WHERE gateway = "  # noqa: S608
                f"{marker} AND message_id IN ({', '.join([marker] * len(part))})",
                (gateway, *part)).all())
        return found

    @staticmethod
    def _earlier_times(conn: Connection, gateway: str, rows: list[dict[str, Any]], *,
                       refresh: bool) -> None:
        """A call's time is its earliest record, whichever copy is read first. A call that
        moves leaves its roll-up bucket (its owner may not be touched this run), so both
        buckets are re-derived here (`refresh`), unless the run will re-derive them all."""
        if not rows:
            return
        earliest: dict[str, datetime] = {}
        for row in rows:
            if row["k"] not in earliest or row["t"] < earliest[row["k"]]:
                earliest[row["k"]] = row["t"]
        moved: set[datetime] = set()
        changes: list[dict[str, Any]] = []
        for part in chunks(sorted(earliest)):
            for key, when, latency in conn.execute(
                    select(messages.c.message_id, messages.c.timestamp, messages.c.latency_ms)
                    .where(messages.c.gateway == gateway, messages.c.message_id.in_(part))):
                if when > earliest[key]:
                    moved.update((when, earliest[key]))
                    # the request started when it did: an earlier record is a shorter wait
                    gap = int((when - earliest[key]).total_seconds() * 1000)
                    changes.append({"k": key, "t": earliest[key],
                                    "lat": None if latency is None else max(latency - gap, 0)})
        if changes:
            conn.execute(update(messages).where(messages.c.gateway == gateway,
                                                messages.c.message_id == bindparam("k"))
                         .values(timestamp=bindparam("t"), latency_ms=bindparam("lat")), changes)
            conn.execute(update(tool_calls).where(tool_calls.c.gateway == gateway,
                                                  tool_calls.c.message_id == bindparam("k"))
                         .values(timestamp=bindparam("t")), changes)
        if moved and refresh:
            usage.refresh(conn, gateway, moved)

    @staticmethod
    def _save_states(conn: Connection, slices: list[_Slice]) -> None:
        latest = {s.source_id: s.state for s in slices}  # the last state of each source
        stamp = now()
        rows = [{"sid_": source_id, **state, "last_read_at": stamp}
                for source_id, state in latest.items()]
        columns: dict[str, Any] = {k: bindparam(k) for k in rows[0] if k != "sid_"}
        conn.execute(update(sources).where(sources.c.source_id == bindparam("sid_"))
                     .values(columns), rows)

