"""One ingest run: find sources, read what is new, finish the sessions (contract E).

Order of work: learn attribution from stores; plan (`file_plan`: every file on disk
matched to its remembered source — new, unchanged, appended, renamed, rewritten, gone;
`db_plan`: the agent databases that changed); read files and agent databases in batches
(`writer`); finalize; record the run (`bookkeeping`). Prices come from `prices`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from openclaw_telemetry import stopping
from openclaw_telemetry.ingest import bookkeeping, bulk, learn, parse_worker
from openclaw_telemetry.ingest.bookkeeping import RunSummary
from openclaw_telemetry.ingest.db_plan import DbPlan, DbWork
from openclaw_telemetry.ingest.file_plan import FilePlan, Work, discover, load_states
from openclaw_telemetry.ingest.finalize import finalize
from openclaw_telemetry.ingest.prepare import Pricing
from openclaw_telemetry.ingest.prices import Prices
from openclaw_telemetry.ingest.readers import (
    DATABASE_ERRORS,
    database_problem,
    file_problem,
    read_jsonl,
    read_session,
)
from openclaw_telemetry.ingest.reprice import reprice
from openclaw_telemetry.ingest.state import SourceState
from openclaw_telemetry.ingest.writer import Writer
from openclaw_telemetry.model import SourceKind
from openclaw_telemetry.progress import Portion, ProgressSink
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.attribution import from_agent_db
from openclaw_telemetry.sources.discover import StateRoot


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Reading makes millions of short-lived dicts and tuples and no reference cycles
    (reference counting frees each line's objects), so the cyclic collector would only
    walk them, and the batch waiting to be written, again and again: about a tenth of a
    cold ingest for nothing (bench/README.md). It runs again after the reading."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Ingest:
    """A gateway's run over its state roots: what it read goes to `summary`."""

    def __init__(self, engine: Engine, roots: list[StateRoot], *, gateway: str,
                 config_path: Path | None, full: bool = False, batch_calls: int = 10000,
                 progress: ProgressSink | None = None,
                 warn: Callable[[str], None] = lambda _msg: None,
                 jobs: int | None = None) -> None:
        self.engine = engine
        self.gateway = gateway  # every row read and written is this gateway's
        self.roots = roots
        self.full = full
        self.batch_calls = batch_calls
        self.jobs = jobs  # processes parsing transcripts; None: as many as pay (`parse_worker`)
        self.progress = progress or ProgressSink()
        self.warn = warn
        self.summary = RunSummary(roots=[str(r.path) for r in roots])
        self.prices = Prices(roots, config_path, self._unreadable)
        self.files = FilePlan(gateway, full=full)
        self.databases = DbPlan(gateway, full=full)

    def run(self) -> RunSummary:
        with sqlite_store.private_copies():  # (an agent database that cannot be read in place)
            return self._run()

    def _run(self) -> RunSummary:
        started = time.perf_counter()
        with self.engine.begin() as conn:
            self.summary.run_id = bookkeeping.start(conn, self.gateway)
            # a first ingest killed half-way left them dropped, and its roll-up unfinished
            interrupted = bulk.restore(conn)
        work, db_work, first = self._plan()
        with self.engine.begin() as conn:
            cold = bool(work or db_work) and bulk.defer_if_empty(conn)
        writer = Writer(self.engine, self.gateway, self.summary.run_id, self.summary.totals,
                        self.prices.of_source, self.batch_calls, cold=cold)
        self.progress.start(len(work), sum(w.bytes_to_read for w in work)
                            + sum(d.stamp[0] for d in db_work))  # (their sessions: `more`)
        with _no_cycle_collection():
            self._read_files(work, writer)
            self._read_databases(db_work, writer)
            writer.commit()
        self.progress.close()
        stopping.check()
        with self.engine.begin() as conn:
            bulk.restore(conn)
        stopping.check()  # (a stop below rolls back learning and finalizing: the next run does them)
        with self.engine.begin() as conn:
            # after reading: sub-agent runs (state DB) name session keys that the agent
            # databases' session tables, read above, map to sessionIds
            for root in self.roots:
                self.summary.cron_jobs_learned += learn.learn_root(
                    conn, self.gateway, root, self._unreadable)
            stopping.check()
            # The gateway's first ingest priced every call it stored with these very
            # prices. (`changed` first: it also records the price files as seen.)
            if self.prices.changed(conn, self.gateway, full=self.full) and not first:
                reprice(conn, self.gateway, self.prices.of_source)
            self.summary.sessions_updated = finalize(
                conn, self.gateway, self.prices.of_source, whole_rollup=cold or interrupted,
                main_keys=sorted({root.main_key for root in self.roots} | {"main"}))
            bookkeeping.finish(conn, self.summary, time.perf_counter() - started)
        return self.summary

    def _unreadable(self, message: str) -> None:
        if message not in self.summary.unreadable:  # e.g. one openclaw.json, many agents
            self.summary.unreadable.append(message)
            self.warn(message)

    def _plan(self) -> tuple[list[Work], list[DbWork], bool]:
        """The files to read, the agent databases that changed since they were read, and
        whether this is the gateway's first ingest (no source of its read before)."""
        found = discover(self.roots, self._unreadable)
        with self.engine.begin() as conn:
            everything = load_states(conn, self.gateway)
            states = [s for s in everything if not s.kind.startswith("sqlite:")]
            work, self.summary.sources_gone = self.files.plan(conn, states, found)
            db_work = [d for d in (self.databases.work(conn, root, agent)
                                   for root in self.roots for agent in root.agents
                                   if agent.database is not None) if d is not None]
        self.summary.sources_total = len(found) + sum(
            1 for s in everything if s.kind == SourceKind.SQLITE.value)
        return work, db_work, not everything

    def _read_files(self, work: list[Work], writer: Writer) -> None:
        """The files in order: parsed here, or by worker processes while this one writes
        (`parse_worker`; with `jobs=None` as many as pay)."""
        jobs = (parse_worker.wanted(sum(w.bytes_to_read for w in work)) if self.jobs is None
                else self.jobs)
        if jobs < 2 or not work:
            for item in work:
                stopping.check()
                self._read_file(item, writer)
            return
        sources = parse_worker.file_jobs(work, self.gateway, self.prices.of_source,
                                         sqlite=writer.sqlite)
        with parse_worker.ParseWorker(sources, self.batch_calls, workers=jobs) as worker:
            messages = worker.messages()
            for item in work:
                portion = Portion(self.progress, item.bytes_to_read, item.bytes_to_read)
                self._file_done(portion, _take(messages, writer, portion))
            for _ in messages:  # the workers' last word: done
                pass

    def _file_done(self, portion: Portion, error: str | None) -> None:
        portion.finish()
        if error is not None:
            self._unreadable(error)
            return
        self.summary.sources_read += 1
        self.progress.source_done()

    def _read_file(self, item: Work, writer: Writer) -> None:
        portion = Portion(self.progress, item.bytes_to_read, item.bytes_to_read)
        try:
            read_jsonl(item.file.path, item.stat, item.state, item.file.compressed,
                       item.file.session_hint, writer, portion)
        except OSError as exc:
            self._file_done(portion, file_problem(item.file.path, exc))
            return
        self._file_done(portion, None)

    def _read_databases(self, db_work: list[DbWork], writer: Writer) -> None:
        """The agent databases that changed: every one planned first, then their sessions
        read here, or by worker processes while this one writes; each database is marked
        read after its rows (a database that could not be read is looked at again next run)."""
        plans = []
        for database in db_work:
            stopping.check()
            plan = self._plan_database(database)
            if plan is not None:
                plans.append(plan)
        jobs = (parse_worker.wanted(sum(p.nbytes for p in plans)) if self.jobs is None
                else self.jobs)
        if jobs < 2 or not any(p.states for p in plans):
            for plan in plans:
                stopping.check()
                self._database_done(plan, self._read_planned(plan, writer), writer)
            return
        sources = [parse_worker.SessionJob(p.path, sqlite_store.readable(p.path),
                                           p.heads[s.session_id or ""], s, self.gateway,
                                           p.pricing, writer.sqlite)
                   for p in plans for s in p.states]
        with parse_worker.ParseWorker(sources, self.batch_calls, workers=jobs) as worker:
            messages = worker.messages()
            for plan in plans:
                portion = Portion(self.progress, plan.work.stamp[0], plan.rows)
                error = None
                for _ in plan.states:  # after a failure, its later sessions are not written,
                    # as when read here
                    failed = _take(messages, writer if error is None else None, portion)
                    if failed is None and error is None:
                        self.progress.source_done()
                    error = error or failed
                portion.finish()
                self._database_done(plan, error, writer)
            for _ in messages:  # the workers' last word: done
                pass

    def _plan_database(self, work: DbWork) -> _DbPlanned | None:
        """Its sessions with new rows (None: it cannot be read)."""
        db_path = work.agent.database
        assert db_path is not None
        # its prices and logins first: they read this database too, which must not happen
        # while a connection reads it (closing a file drops the connection's locks)
        pricing = self.prices.of_source(str(db_path), work.agent.agent_id)
        try:
            inode = db_path.stat().st_ino
            replaced = work.marker.inode is not None and work.marker.inode != inode  # a copy
            with sqlite_store.open_readonly(db_path) as db:
                heads = sqlite_store.session_heads(db)
                with self.engine.begin() as conn:
                    learn.remember(conn, self.gateway, from_agent_db(db, work.agent.agent_id))
                    states, fresh = self.databases.sessions(conn, db, work, heads, replaced)
        except (OSError, sqlite_store.ReadError) as exc:
            self._unreadable(database_problem(db_path, exc))
            Portion(self.progress, work.stamp[0], 1).finish()
            return None
        self.summary.sources_total += fresh
        self.progress.more(len(states))
        rows = sum(heads[s.session_id or ""].rows - s.line_no for s in states)
        return _DbPlanned(work, db_path, inode, pricing, heads, states, rows,
                          work.stamp[0] * rows // max(sum(h.rows for h in heads.values()), 1))

    def _read_planned(self, plan: _DbPlanned, writer: Writer) -> str | None:
        """Its planned sessions, read here; the error that made it unreadable, if any."""
        portion = Portion(self.progress, plan.work.stamp[0], plan.rows)
        if not plan.states:  # not opened again: nothing to read
            portion.finish()
            return None
        try:
            with sqlite_store.open_readonly(plan.path) as db:
                for state in plan.states:
                    read_session(db, state, plan.heads[state.session_id or ""], writer,
                                 portion)
                    self.progress.source_done()
        except DATABASE_ERRORS as exc:
            return database_problem(plan.path, exc)
        finally:
            portion.finish()
        return None

    def _database_done(self, plan: _DbPlanned, error: str | None, writer: Writer) -> None:
        if error is not None:
            self._unreadable(error)
            return
        self.summary.sources_read += len(plan.states)
        writer.commit()  # the rows first: the database is marked read only after them
        with self.engine.begin() as conn:
            DbPlan.mark_read(conn, plan.work, plan.inode)


@dataclass(slots=True)
class _DbPlanned:
    """An agent database planned for reading: its sessions with new rows (`states`), the
    rows to read and their estimated share of its bytes."""

    work: DbWork
    path: Path
    inode: int
    pricing: Pricing
    heads: dict[str, sqlite_store.SessionHead]
    states: list[SourceState]
    rows: int
    nbytes: int


def _take(messages: Iterator[parse_worker.Message], writer: Writer | None,
          portion: Portion) -> str | None:
    """One source's messages from the workers, written (`writer` None: dropped); the error
    that made it unreadable. (`messages` raises rather than end before a source's end.)"""
    while True:
        message = next(messages)
        stopping.check()
        if isinstance(message, parse_worker.Flushed):
            if writer is not None:
                writer.add(message.source_id, message.values, message.rows)
        elif isinstance(message, parse_worker.Progressed):
            portion(message.units)
        else:
            return message.error
