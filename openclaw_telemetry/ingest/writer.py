"""Writing batches: rows and the read state of their sources in one transaction.

This is where contract E2 holds: a batch's calls, tool calls, results, problems and the
read state of every source it came from commit together or not at all, and every write is
idempotent (natural keys, insert-or-ignore), so a run killed at any moment is finished
exactly by the next. Batches span sources (many small files commit together) and are
bounded by `batch_calls`; rows go through the driver's executemany, which is what keeps a
cold ingest close to the speed of reading the files. The rows come prepared (`prepare`):
what is left here is what needs the database, which calls are new and who owns the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Table, bindparam, delete, select, update

from openclaw_telemetry import usage
from openclaw_telemetry.ingest.prepare import (
    Place,
    Pricing,
    SliceRows,
    Values,
    prepare,
    time_form,
)
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
from openclaw_telemetry.model import Batch, CostSource
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
_KEY, _TIME = MessageRow._fields.index("message_id"), MessageRow._fields.index("timestamp")
# what a rewrite of a call's file can change of it (`Writer._renewable`)
_RENEWED = ("model", "provider", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_write_tokens", "recorded_cost", "stop_reason", "is_error", "error_message",
            "tool_call_count")
_RENEWED_AT = tuple(MessageRow._fields.index(name) for name in _RENEWED)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def drop_calls(conn: Connection, gateway: str, keys: Sequence[str]) -> list[datetime]:
    """Delete calls and their tool calls; return their times (the roll-up buckets they
    leave)."""
    times: list[datetime] = []
    for part in chunks(keys):
        times += conn.execute(select(messages.c.timestamp)
                              .where(messages.c.gateway == gateway,
                                     messages.c.message_id.in_(part))).scalars()
        conn.execute(delete(tool_calls).where(tool_calls.c.gateway == gateway,
                                              tool_calls.c.message_id.in_(part)))
        conn.execute(delete(messages).where(messages.c.gateway == gateway,
                                            messages.c.message_id.in_(part)))
    return times


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


def time_writer(engine: Engine) -> Callable[[datetime | None], Any]:
    return time_form(engine.dialect.name == "sqlite")


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

    def add(self, rows: list[Values]) -> None:
        """Count new calls: `messages` rows (`MessageRow`'s values)."""
        column = MessageRow._fields.index
        inp, out, cr, cw, total, cost, source = (column(c) for c in (
            "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
            "total_tokens", "cost", "cost_source"))
        for row in rows:
            self.input += row[inp]
            self.output += row[out]
            self.cache_read += row[cr]
            self.cache_write += row[cw]
            self.cost += row[cost]
            if row[source] == CostSource.ESTIMATED:
                self.estimated_cost += row[cost]
            elif row[source] == CostSource.UNPRICED:
                self.unpriced_calls += 1
                self.unpriced_tokens += row[total]
        self.new_calls += len(rows)


@dataclass(slots=True)
class _Slice:
    """One source's contribution to the open batch, with its state as of that moment."""

    state: dict[str, Any]
    source_id: int
    session_id: str | None
    agent_id: str | None
    rel_path: str
    rows: SliceRows


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
        self.renewed: set[str] = set()  # calls stored anew from a rewritten file (`_renewable`)
        self.gateway = gateway
        self.cold = cold  # a first ingest: its finalize re-derives the whole roll-up
        self.pricing = pricing
        self.run_id = run_id
        self.totals = totals
        self.batch_calls = batch_calls
        self._open = _Open()
        self.sqlite = engine.dialect.name == "sqlite"

    def flush(self, state: SourceState, batch: Batch) -> None:
        """Queue what a source produced and its read state; commit when the batch is full."""
        self.add(state.source_id, state.values(), prepare(batch, self.place(state)))

    def place(self, state: SourceState) -> Place:
        """Where rows read from this source now are from (`prepare`)."""
        return Place.of(state, self.gateway, self.pricing(state.path, state.agent_id),
                        sqlite=self.sqlite)

    def add(self, source_id: int, values: dict[str, Any], rows: SliceRows) -> None:
        """Queue a slice's rows with the read state its source had right after it."""
        self._open.slices.append(_Slice(values, source_id, values["session_id"],
                                        values["agent_id"], values["rel_path"], rows))
        self._open.calls += len(rows.messages) + 1
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
        keys = list({m[_KEY] for s in with_rows for m in s.rows.messages})
        owners, stored = self._existing(conn, gateway, keys)
        renewable = self._renewable(conn, gateway, sorted(stored))
        renew: list[str] = []
        rows: list[Values] = []
        tools: list[Values] = []
        results: list[Values] = []
        occurrences: list[Values] = []
        earlier: list[tuple[str, Any]] = []
        pending: set[str] = set()
        for piece in with_rows:
            sid = piece.session_id
            joined: set[int] = set()
            made = piece.rows
            for message, tool_rows, answered in zip(made.messages, made.tools, made.answered,
                                                    strict=True):
                key = message[_KEY]
                owner = owners.get(key)
                if (owner is not None and key in renewable
                        and renewable.pop(key) <= {piece.source_id}
                        and stored[key] != tuple(message[i] for i in _RENEWED_AT)):
                    renew.append(key)  # the rewritten file's copy: stored as it is now
                    owner = None
                if owner is None:
                    owners[key] = sid or ""
                    rows.append(message)
                    tools += tool_rows
                    joined.update(answered)
                    continue
                if owner != sid:
                    pending.add(key)
                earlier.append((key, message[_TIME]))  # any copy may be earlier
            occurrences += made.occurrences
            # results joined above are done; the others wait for their call (end of run)
            results += [r for i, r in enumerate(made.results) if i not in joined]
        self.renewed.update(renew)
        again = set(renew)  # (stored before: not new)
        self.totals.add([r for r in rows if r[_KEY] not in again] if again else rows)
        left = drop_calls(conn, gateway, renew)
        if left:  # (no renewal in a first ingest, whose finalize re-derives every bucket)
            usage.refresh(conn, gateway, left)
        bulk_insert(conn, messages, MessageRow._fields, rows)
        bulk_insert(conn, tool_calls, ToolCallRow._fields, tools)
        bulk_insert(conn, tool_results, ResultRow._fields, results)
        bulk_insert(conn, message_occurrences, OccurrenceRow._fields, occurrences)
        insert_rows(conn, pending_keys, [PendingRow(k, gateway) for k in sorted(pending)])
        bulk_insert(conn, session_events, EventRow._fields,
                    [e for piece in with_rows for e in piece.rows.events])
        self._earlier_times(conn, gateway, earlier, refresh=not self.cold)
        self._issues(conn, slices)  # also of a source that yielded no session (a bad archive)
        self._save_states(conn, slices)

    def _issues(self, conn: Connection, slices: list[_Slice]) -> None:
        issues = [IssueRow(self.gateway, s.source_id, s.rel_path, i.position, i.byte_offset,
                           i.kind, i.detail, self.run_id) for s in slices for i in s.rows.issues]
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

    def _renewable(self, conn: Connection, gateway: str, keys: list[str]
                   ) -> dict[str, set[int]]:
        """Of the stored calls read again, those a rewritten file held (contract E1: its
        earlier contribution is replaced; `file_plan` left them pending, their places in
        it forgotten), each with the sources that still hold it. A call held by no other
        source than the one read now, and read with other values of `_RENEWED`, takes
        them, as a first ingest would (B4: not how many runs it took); the others keep
        theirs (an unchanged call is not written again: `--full` reads every file as
        rewritten). Once per run and call."""
        pending: set[str] = set()
        for part in chunks(keys):
            pending.update(conn.execute(
                select(pending_keys.c.message_id).where(pending_keys.c.gateway == gateway,
                                                        pending_keys.c.message_id.in_(part))
            ).scalars())
        held: dict[str, set[int]] = {key: set() for key in pending - self.renewed}
        o = message_occurrences.c
        for part in chunks(sorted(held)):
            for key, source in conn.execute(select(o.message_id, o.source_id).where(
                    o.gateway == gateway, o.message_id.in_(part))):
                held[key].add(source)
        return held

    @staticmethod
    def _existing(conn: Connection, gateway: str, keys: list[str]
                  ) -> tuple[dict[str, str], dict[str, tuple[Any, ...]]]:
        """Owner of each key already stored, and what it stores of `_RENEWED`
        (driver-level: this runs for every call)."""
        marker = "?" if conn.dialect.name == "sqlite" else "%s"
        owners: dict[str, str] = {}
        stored: dict[str, tuple[Any, ...]] = {}
        for part in chunks(keys):
            for key, owner, *values in conn.exec_driver_sql(
                    f"SELECT message_id, session_id, {', '.join(_RENEWED)} "  # noqa: S608
                    f"FROM messages WHERE gateway = {marker} AND message_id IN "
                    f"({', '.join([marker] * len(part))})", (gateway, *part)):
                owners[key] = owner
                stored[key] = tuple(values)
        return owners, stored

    @staticmethod
    def _earlier_times(conn: Connection, gateway: str, rows: list[tuple[str, Any]], *,
                       refresh: bool) -> None:
        """A call's time is its earliest record, whichever copy is read first. A call that
        moves leaves its roll-up bucket (its owner may not be touched this run), so both
        buckets are re-derived here (`refresh`), unless the run will re-derive them all.
        `rows` are (key, time in the backend's form: SQLite's text is read back)."""
        if not rows:
            return
        earliest: dict[str, datetime] = {}
        for key, stored in rows:
            when = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
            if key not in earliest or when < earliest[key]:
                earliest[key] = when
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

