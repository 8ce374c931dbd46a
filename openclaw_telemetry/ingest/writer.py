"""Writing one batch of one source: rows and the source's new offset in one transaction.

This is where contract E2 holds: a batch's calls, tool calls, results, problems and the
source's read state commit together or not at all, and every write is idempotent (natural
keys, insert-or-ignore), so a run killed at any moment is finished exactly by the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openclaw_telemetry.ingest.state import SourceState
from openclaw_telemetry.model import Batch, Call, CostSource
from openclaw_telemetry.pricing import PriceBook
from openclaw_telemetry.schema import (
    message_occurrences,
    messages,
    parse_issues,
    pending_keys,
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


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""
    if not rows:
        return
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(dialect_insert(table).on_conflict_do_nothing(), rows)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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


class Writer:
    def __init__(self, engine: Engine, run_id: int, totals: FlushTotals,
                 batch_calls: int = 5000) -> None:
        self.engine = engine
        self.batch_calls = batch_calls
        self.run_id = run_id
        self.totals = totals

    def flush(self, state: SourceState, batch: Batch, pricing: Pricing) -> None:
        """Commit the batch and the source's read state together."""
        with self.engine.begin() as conn:
            if state.session_id is None:  # nothing complete read yet
                save_state(conn, state)
                return
            session_id = state.session_id
            self._touch_session(conn, session_id, state.agent_id)
            self._calls(conn, state, session_id, batch.calls, pricing)
            insert_ignore(conn, tool_results, [
                {"tool_call_id": r.tool_call_id, "is_error": r.is_error,
                 "timestamp": r.timestamp, "duration_ms": r.duration_ms}
                for r in batch.results])
            insert_ignore(conn, parse_issues, [
                {"source_id": state.source_id, "path": state.rel_path, "position": i.position,
                 "byte_offset": i.byte_offset, "kind": i.kind, "detail": i.detail,
                 "run_id": self.run_id} for i in batch.issues])
            self.totals.issues += len(batch.issues)
            save_state(conn, state)

    @staticmethod
    def _touch_session(conn: Connection, session_id: str, agent_id: str | None) -> None:
        insert_ignore(conn, sessions, [{"session_id": session_id, "agent_id": agent_id,
                                        "kind": "unknown", "dirty": True}])
        conn.execute(update(sessions).where(sessions.c.session_id == session_id)
                     .values(dirty=True))

    def _calls(self, conn: Connection, state: SourceState, session_id: str,
               calls: list[Call], pricing: Pricing) -> None:
        if not calls:
            return
        unique = {call.key: call for call in reversed(calls)}  # first copy in the batch wins
        existing = self._existing(conn, list(unique))
        fresh = [call for key, call in unique.items() if key not in existing]
        self._insert_messages(conn, state, session_id, fresh, pricing)
        pending = [{"message_id": key} for key, owner in existing.items() if owner != session_id]
        insert_ignore(conn, pending_keys, pending)
        self._earlier_times(conn, [c for k, c in unique.items() if k in existing])
        insert_ignore(conn, message_occurrences, [
            {"message_id": key, "source_id": state.source_id, "session_id": session_id}
            for key in unique])

    @staticmethod
    def _existing(conn: Connection, keys: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for part in chunks(keys):
            rows = conn.execute(select(messages.c.message_id, messages.c.session_id)
                                .where(messages.c.message_id.in_(part)))
            found.update({row[0]: row[1] for row in rows})
        return found

    def _insert_messages(self, conn: Connection, state: SourceState, session_id: str,
                         calls: list[Call], pricing: Pricing) -> None:
        rows: list[dict[str, Any]] = []
        tools: list[dict[str, Any]] = []
        for call in calls:
            priced = pricing.book.price(call)
            self.totals.add(call, priced.cost, priced.source)
            rows.append(_message_row(call, priced.cost, priced.source, session_id, state,
                                     pricing.subscription(call.provider)))
            tools.extend({"tool_call_id": t.tool_call_id, "tool_name": t.tool_name,
                          "bridge_name": t.bridge_name, "session_id": session_id,
                          "message_id": call.key, "timestamp": call.timestamp}
                         for t in call.tool_calls)
        if rows:
            conn.execute(messages.insert(), rows)
        insert_ignore(conn, tool_calls, tools)

    @staticmethod
    def _earlier_times(conn: Connection, calls: list[Call]) -> None:
        """A call's time is its earliest record, whichever copy is read first."""
        if not calls:
            return
        stmt = (update(messages)
                .where(and_(messages.c.message_id == bindparam("k"),
                            messages.c.timestamp > bindparam("t")))
                .values(timestamp=bindparam("t")))
        conn.execute(stmt, [{"k": c.key, "t": c.timestamp} for c in calls])


def _message_row(call: Call, cost: float, cost_source: CostSource, session_id: str,
                 state: SourceState, subscription: bool) -> dict[str, Any]:
    usage = call.usage
    return {
        "message_id": call.key, "session_id": session_id, "agent_id": state.agent_id,
        "timestamp": call.timestamp, "role": "assistant", "model": call.model,
        "provider": call.provider, "api": call.api, "input_tokens": usage.input,
        "output_tokens": usage.output, "cache_read_tokens": usage.cache_read,
        "cache_write_tokens": usage.cache_write, "total_tokens": usage.total, "cost": cost,
        "cost_source": cost_source.value, "recorded_cost": call.recorded_cost,
        "stop_reason": call.stop_reason, "is_error": call.stop_reason in ERROR_STOPS,
        "error_message": call.error_message, "response_id": call.response_id,
        "response_model": call.response_model, "latency_ms": call.latency_ms,
        "subscription": subscription, "entry_id": call.entry_id, "source_id": state.source_id,
        "tool_call_count": len(call.tool_calls),
    }


def save_state(conn: Connection, state: SourceState) -> None:
    values = state.values()
    values["last_read_at"] = now()
    conn.execute(update(sources).where(sources.c.source_id == state.source_id).values(**values))
