"""One ingest run: find sources, read what is new, finish the sessions (contract E).

Order of work: learn attribution from stores; match every file on disk to its remembered
source (new, unchanged, appended, renamed, rewritten); read files and agent databases in
batches; mark vanished sources as gone (their data stays); finalize; record the run.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import Connection, Engine, bindparam, delete, func, select, update

from openclaw_telemetry import stopping
from openclaw_telemetry.ingest import bulk, learn
from openclaw_telemetry.ingest.finalize import finalize
from openclaw_telemetry.ingest.readers import read_jsonl, read_session_rows
from openclaw_telemetry.ingest.reprice import reprice
from openclaw_telemetry.ingest.state import (
    NOTHING_READ,
    Change,
    SourceState,
    compare,
    load_states,
    same_bytes,
)
from openclaw_telemetry.ingest.writer import (
    FlushTotals,
    Pricing,
    Writer,
    chunks,
    insert_ignore,
    now,
    time_writer,
)
from openclaw_telemetry.model import SourceKind
from openclaw_telemetry.pricing import (
    PriceBook,
    is_subscription,
    load_json_file,
    prices_from_config,
)
from openclaw_telemetry.pricing import oauth_providers as oauth_of
from openclaw_telemetry.progress import Portion, ProgressSink
from openclaw_telemetry.schema import (
    ingest_runs,
    message_occurrences,
    messages,
    parse_issues,
    pending_keys,
    session_events,
    sessions,
    sources,
)
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.attribution import from_agent_db
from openclaw_telemetry.sources.discover import (
    AGENT_DB_NAME,
    Agent,
    SourceFile,
    StateRoot,
    iter_source_files,
    problem,
)
from openclaw_telemetry.sources.jsonl import parse_time

DB_KIND = "sqlite:database"  # bookkeeping row per agent database: its size/mtime stamp


@dataclass(slots=True)
class RunSummary:
    run_id: int = 0
    roots: list[str] = field(default_factory=list)
    sources_total: int = 0
    sources_read: int = 0
    sources_gone: int = 0
    totals: FlushTotals = field(default_factory=FlushTotals)
    issues_by_kind: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    sessions_updated: int = 0
    elapsed_seconds: float = 0.0


@dataclass(slots=True)
class _Work:
    """A file that needs reading, with what is known of it."""

    file: SourceFile
    stat: os.stat_result
    state: SourceState

    @property
    def bytes_to_read(self) -> int:
        """An archive is read whole; a file from its last complete line."""
        return self.stat.st_size - (0 if self.file.compressed else
                                    min(self.state.read_offset, self.stat.st_size))


@dataclass(slots=True)
class _DbWork:
    """An agent database that changed since it was read: its size/mtime stamp and marker."""

    root: StateRoot
    agent: Agent
    stamp: tuple[int, int]
    marker: SourceState


class Ingest:
    def __init__(self, engine: Engine, roots: list[StateRoot], *, gateway: str,
                 config_path: Path | None, full: bool = False, batch_calls: int = 10000,
                 progress: ProgressSink | None = None,
                 warn: Callable[[str], None] = lambda _msg: None) -> None:
        self.engine = engine
        self.gateway = gateway  # every row read and written is this gateway's
        self.roots = roots
        self.config_path = config_path
        self.full = full
        self.batch_calls = batch_calls
        self.progress = progress or ProgressSink()
        self.warn = warn
        self.summary = RunSummary(roots=[str(r.path) for r in roots])
        self._pricing: dict[tuple[str, str], Pricing] = {}
        self._logins: dict[Path, frozenset[str]] = {}
        self._price_trouble = False

    # -- the run ----------------------------------------------------------------------
    def run(self) -> RunSummary:
        started = time.perf_counter()
        with self.engine.begin() as conn:
            inserted = conn.execute(ingest_runs.insert().values(
                gateway=self.gateway, started_at=now(), status="running"))
            self.summary.run_id = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            # a first ingest killed half-way left them dropped, and its roll-up unfinished
            interrupted = bulk.restore(conn)
        work, db_work = self._plan()
        with self.engine.begin() as conn:
            cold = bool(work or db_work) and bulk.defer_if_empty(conn)
        writer = Writer(self.engine, self.gateway, self.summary.run_id, self.summary.totals,
                        self._pricing_of_source, self.batch_calls, cold=cold)
        self.progress.start(len(work), sum(w.bytes_to_read for w in work)
                            + sum(d.stamp[0] for d in db_work))  # (their sessions: `more`)
        for item in work:
            stopping.check()
            self._read_file(item, writer)
        for database in db_work:
            stopping.check()
            self._read_database(database, writer)
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
                learn.learn_root(conn, self.gateway, root, self._unreadable)
            stopping.check()
            if self._prices_changed(conn):
                reprice(conn, self.gateway, self._pricing_of_source)
            self.summary.sessions_updated = finalize(
                conn, self.gateway, whole_rollup=cold or interrupted,
                main_keys=sorted({root.main_key for root in self.roots} | {"main"}))
            self._finish(conn, time.perf_counter() - started)
        return self.summary

    def _unreadable(self, message: str) -> None:
        if message not in self.summary.unreadable:  # e.g. one openclaw.json, many agents
            self.summary.unreadable.append(message)
            self.warn(message)

    # -- planning ---------------------------------------------------------------------
    def _plan(self) -> tuple[list[_Work], list[_DbWork]]:
        """Match every counted file on disk to its remembered source (two passes, so a
        rename is found whichever of the old and the new name is listed first); the agent
        databases that changed since they were read."""
        found: list[tuple[StateRoot, SourceFile, os.stat_result]] = []
        for root in self.roots:
            for message in root.problems:
                self._unreadable(message)
            for file in iter_source_files(root, self._unreadable):
                try:
                    str(file.path).encode("utf-8")
                except UnicodeEncodeError:
                    self._unreadable(f"{str(file.path).encode('utf-8', 'backslashreplace')!r}:"
                                     " file name is not valid UTF-8; skipped")
                    continue
                try:
                    found.append((root, file, file.path.stat()))
                except OSError as exc:
                    self._unreadable(f"{file.path}: {exc.strerror}")
        db_agents = [(r, a) for r in self.roots for a in r.agents if a.database is not None]
        with self.engine.begin() as conn:
            everything = load_states(conn, self.gateway)
            states = [s for s in everything if not s.kind.startswith("sqlite:")]
            db_sessions = sum(1 for s in everything if s.kind == SourceKind.SQLITE.value)
            assigned = self._follow_renames(conn, states, found)
            fresh = self._new_sources(conn, [(r, f, st) for r, f, st in found
                                             if str(f.path) not in assigned])
            work = []
            for _root, file, stat in found:
                state = assigned.get(str(file.path)) or fresh[str(file.path)]
                item = self._classify(conn, state, file, stat)
                if item is not None:
                    work.append(item)
            kept = {id(s) for s in assigned.values()}
            self._mark_gone(conn, [s for s in states if s.present and id(s) not in kept])
            db_work = [d for d in (self._db_work(conn, r, a) for r, a in db_agents)
                       if d is not None]
        self.summary.sources_total = len(found) + db_sessions
        return work, db_work

    def _db_work(self, conn: Connection, root: StateRoot, agent: Agent) -> _DbWork | None:
        assert agent.database is not None
        stamp = _db_stamp(agent.database)
        marker = self._db_marker(conn, root, agent.database)
        if marker.size == stamp[0] and marker.mtime_ns == stamp[1] and not self.full:
            return None
        return _DbWork(root, agent, stamp, marker)

    def _follow_renames(self, conn: Connection, states: list[SourceState],
                        found: list[tuple[StateRoot, SourceFile, os.stat_result]]
                        ) -> dict[str, SourceState]:
        """path on disk -> remembered source: by inode and bytes first, then by path."""
        by_inode: dict[tuple[int | None, int | None], tuple[StateRoot, SourceFile]] = {
            (st.st_dev, st.st_ino): (root, file) for root, file, st in found}
        assigned: dict[str, SourceState] = {}
        for state in states:
            hit = by_inode.get((state.device, state.inode))
            if hit is None:
                continue
            _root, file = hit
            if str(file.path) == state.path:
                assigned[state.path] = state
            elif not file.compressed and state.read_offset > 0 and same_bytes(state, file.path):
                assigned[str(file.path)] = state  # renamed; an archive is never a rename
        by_path = {s.path: s for s in states}
        taken = {id(s) for s in assigned.values()}
        for _root, file, _st in found:
            path = str(file.path)
            known = by_path.get(path)
            if path not in assigned and known is not None and id(known) not in taken:
                assigned[path] = known  # a new file at a known path: rewritten below
                taken.add(id(known))
        for path, state in assigned.items():
            if state.path != path:
                self._move(conn, state, path, by_path, found)
        return assigned

    def _move(self, conn: Connection, state: SourceState, path: str,
              by_path: dict[str, SourceState],
              found: list[tuple[StateRoot, SourceFile, os.stat_result]]) -> None:
        """OpenClaw renamed the file (reset, delete, bak): same source, new name (E1)."""
        root, file = next((r, f) for r, f, _ in found if str(f.path) == path)
        squatter = by_path.get(path)
        if squatter is not None and squatter is not state:  # a stale row held the name
            squatter.path = f"{path}#replaced-{squatter.source_id}"
            conn.execute(update(sources).where(sources.c.source_id == squatter.source_id)
                         .values(path=squatter.path, present=False))
        state.path, state.rel_path, state.kind = path, _rel(root, file.path), file.kind.value
        conn.execute(update(sources).where(sources.c.source_id == state.source_id)
                     .values(path=state.path, rel_path=state.rel_path, kind=state.kind))

    def _classify(self, conn: Connection, state: SourceState, file: SourceFile,
                  stat: os.stat_result) -> _Work | None:
        """None when unchanged; otherwise the work, its old contribution dropped if needed."""
        replaced = state.inode is not None and (state.device, state.inode) != (stat.st_dev,
                                                                               stat.st_ino)
        returned = not state.present
        state.present = True
        state.device, state.inode = stat.st_dev, stat.st_ino
        change = compare(state, file.path, stat, file.compressed)
        if replaced or (self.full and state.size >= 0):
            change = Change.REWRITTEN
        if change is Change.UNCHANGED:
            if returned:  # a file that had vanished is back as it was
                conn.execute(update(sources).where(sources.c.source_id == state.source_id)
                             .values(present=True))
            return None
        if change is Change.REWRITTEN and (state.size >= 0 or state.line_no > 0):
            self._replace(conn, state)  # (a source never read has nothing to forget)
        return _Work(file, stat, state)

    def _new_sources(self, conn: Connection,
                     files: list[tuple[StateRoot, SourceFile, os.stat_result]]
                     ) -> dict[str, SourceState]:
        """Remember files seen for the first time (one insert, one read back)."""
        stamp = now()
        insert_ignore(conn, sources, [
            {"gateway": self.gateway, "path": str(f.path), "rel_path": _rel(root, f.path),
             "kind": f.kind.value, "agent_id": f.agent_id, "device": st.st_dev,
             "inode": st.st_ino, "size": -1, "mtime_ns": -1, "first_seen_at": time_writer(conn.engine)(stamp)}
            for root, f, st in files])
        paths = [str(f.path) for _, f, _ in files]
        found: dict[str, SourceState] = {}
        for part in chunks(paths):
            for row in conn.execute(select(sources).where(sources.c.gateway == self.gateway,
                                                          sources.c.path.in_(part))):
                state = SourceState.from_row(row)
                found[state.path] = state
        return found

    def _insert_source(self, conn: Connection, row: Mapping[str, object]) -> SourceState:
        inserted = conn.execute(sources.insert().values(gateway=self.gateway, **row))
        source_id = inserted.inserted_primary_key[0]  # type: ignore[index]
        fetched = conn.execute(select(sources).where(sources.c.source_id == source_id)).one()
        return SourceState.from_row(fetched)

    def _replace(self, conn: Connection, state: SourceState) -> None:
        """Forget what this source contributed; its calls are re-decided at the end."""
        keys = [row[0] for row in conn.execute(
            select(message_occurrences.c.message_id)
            .where(message_occurrences.c.source_id == state.source_id))]
        insert_ignore(conn, pending_keys, [{"message_id": k, "gateway": self.gateway}
                                           for k in keys])
        conn.execute(delete(message_occurrences)
                     .where(message_occurrences.c.source_id == state.source_id))
        conn.execute(delete(parse_issues).where(parse_issues.c.source_id == state.source_id))
        conn.execute(delete(session_events)
                     .where(session_events.c.source_id == state.source_id))
        if state.session_id:
            conn.execute(update(sessions).where(sessions.c.gateway == self.gateway,
                                                sessions.c.session_id == state.session_id)
                         .values(dirty=True))
        state.forget_content()
        state.size = state.mtime_ns = -1
        conn.execute(update(sources).where(sources.c.source_id == state.source_id)
                     .values(**state.values()))

    def _mark_gone(self, conn: Connection, gone: list[SourceState]) -> None:
        """Files OpenClaw removed: their data stays (E1), the source is marked absent."""
        ids = [s.source_id for s in gone if not s.kind.startswith("sqlite:")]
        for part in chunks(ids):
            conn.execute(update(sources).where(sources.c.source_id.in_(part)).values(present=False))
        self.summary.sources_gone = len(ids)

    # -- reading ----------------------------------------------------------------------
    def _pricing_for(self, root: StateRoot, agent_id: str) -> Pricing:
        key = (str(root.path), agent_id)
        if key not in self._pricing:
            config_file = self.config_path or root.config_file
            agent_dir = root.agent_folder(agent_id)
            book = PriceBook(
                prices_from_config(load_json_file(config_file, self._price_problem)),
                prices_from_config(load_json_file(agent_dir / "models.json",
                                                  self._price_problem)))
            oauth = oauth_of(load_json_file(agent_dir / "auth-profiles.json", self._unreadable))
            for database in (agent_dir / AGENT_DB_NAME, root.global_db):
                oauth |= self._logins_in(database)
            self._pricing[key] = Pricing(book, functools.partial(is_subscription,
                                                                 oauth_providers=oauth))
        return self._pricing[key]

    def _price_problem(self, message: str) -> None:
        """A price file that cannot be used: the calls priced without it are priced again
        once it can be (`_prices_changed`)."""
        self._price_trouble = True
        self._unreadable(message)

    def _logins_in(self, database: Path) -> frozenset[str]:
        """Providers reached through a login, from the auth stores OpenClaw 2026.7+ keeps
        in its databases instead of `auth-profiles.json` (contract C4); once per run."""
        if database not in self._logins:
            try:
                stores = sqlite_store.auth_stores(database) if database.is_file() else []
            except OSError as exc:
                self._unreadable(problem(exc))
                stores = []
            except sqlite_store.ReadError as exc:
                self._unreadable(str(exc))
                stores = []
            self._logins[database] = frozenset().union(*(oauth_of(s) for s in stores))
        return self._logins[database]

    def _prices_changed(self, conn: Connection) -> bool:
        """Did a price file change since the last run (or is this a --full run)? Never
        when no state folder was found: no price file can be read, and calls priced from
        one keep their prices until it is found again."""
        if not self.roots:
            return False
        files = [self.config_path] if self.config_path else []
        for root in self.roots:
            files += [root.config_file, *(a.agent_dir / "models.json" for a in root.agents
                                          if a.agent_dir is not None)]
        changed = learn.changed_since_last(conn, self.gateway, "prices", files)
        if self._price_trouble:
            learn.forget(conn, self.gateway, "prices")
        return changed or self.full

    def _pricing_of_source(self, path: str, agent_id: str | None) -> Pricing:
        root = next((r for r in self.roots if path.startswith(f"{r.path}{os.sep}")),
                    self.roots[0])
        return self._pricing_for(root, agent_id or "main")

    def _read_file(self, item: _Work, writer: Writer) -> None:
        portion = Portion(self.progress, item.bytes_to_read, item.bytes_to_read)
        try:
            read_jsonl(item.file.path, item.stat, item.state, item.file.compressed,
                       item.file.session_hint, writer, portion)
        except OSError as exc:
            self._unreadable(f"{item.file.path}: {exc.strerror or exc}")
            return
        finally:
            portion.finish()
        self.summary.sources_read += 1
        self.progress.source_done()

    def _read_database(self, work: _DbWork, writer: Writer) -> None:
        """Its sessions with new rows; its share of the progress goes by rows read."""
        root, agent, stamp, marker = work.root, work.agent, work.stamp, work.marker
        db_path = agent.database
        assert db_path is not None
        portion = Portion(self.progress, stamp[0], 1)
        # its prices and logins first: they read this database too, which must not happen
        # while a connection reads it (closing a file drops the connection's locks)
        self._pricing_of_source(str(db_path), agent.agent_id)
        try:
            inode = db_path.stat().st_ino
            replaced = marker.inode is not None and marker.inode != inode  # a restored copy
            with sqlite_store.open_readonly(db_path) as db:
                heads = sqlite_store.session_heads(db)
                with self.engine.begin() as conn:
                    learn.remember(conn, self.gateway, from_agent_db(db, agent.agent_id))
                    states = self._db_sessions(conn, db, root, agent, db_path, heads, replaced)
                portion.units = sum(heads[s.session_id or ""].rows - s.line_no for s in states)
                self.progress.more(len(states))
                for state in states:
                    read_session_rows(db, state, writer, portion)
                    self.progress.source_done()
        except OSError as exc:
            self._unreadable(problem(exc))
            return
        except sqlite_store.ReadError as exc:
            self._unreadable(str(exc))
            return
        finally:
            portion.finish()
        self.summary.sources_read += len(states)
        writer.commit()  # the rows first: the database is marked read only after them
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.source_id == marker.source_id)
                         .values(size=stamp[0], mtime_ns=stamp[1], inode=inode,
                                 last_read_at=now()))

    def _db_marker(self, conn: Connection, root: StateRoot, db_path: Path) -> SourceState:
        found = conn.execute(select(sources).where(sources.c.gateway == self.gateway,
                                                   sources.c.path == str(db_path))).first()
        if found is not None:
            return SourceState.from_row(found)
        return self._insert_source(conn, {"path": str(db_path), "rel_path": _rel(root, db_path),
                                          "kind": DB_KIND, "size": -1, "mtime_ns": -1,
                                          "first_seen_at": now()})

    def _db_sessions(self, conn: Connection, db: sqlite3.Connection, root: StateRoot,
                     agent: Agent, db_path: Path, heads: dict[str, sqlite_store.SessionHead],
                     replaced: bool) -> list[SourceState]:
        """Sessions of the database with rows not read yet (new ones remembered first). A
        session OpenClaw changed below where it was read (the last row read is gone or
        different, rows were added or removed below it, a new rewrite generation), one of a
        database replaced by another file, and every one with --full is read again from
        its first row, adding what is new: rows OpenClaw has since removed stay counted
        (contract E1). For these sessions `head_hash` keeps the rewrite generation and
        `tail_hash` the fingerprint of the last row read."""
        prefix = f"{db_path}#transcript_events/"
        known = {s.session_id: s for s in (
            SourceState.from_row(row) for row in conn.execute(
                select(sources).where(sources.c.gateway == self.gateway,
                                      sources.c.kind == SourceKind.SQLITE.value,
                                      sources.c.path.startswith(prefix, autoescape=True))))}
        fresh = sorted(set(heads) - set(known))
        rel = f"{_rel(root, db_path)}#transcript_events/"
        insert_ignore(conn, sources, [
            {"gateway": self.gateway, "path": prefix + sid, "rel_path": rel + sid,
             "kind": SourceKind.SQLITE.value, "agent_id": agent.agent_id, "session_id": sid,
             "read_offset": NOTHING_READ, "first_seen_at": time_writer(conn.engine)(now())} for sid in fresh])
        self.summary.sources_total += len(fresh)
        for part in chunks(fresh):
            for row in conn.execute(select(sources).where(
                    sources.c.gateway == self.gateway,
                    sources.c.path.in_([prefix + sid for sid in part]))):
                state = SourceState.from_row(row)
                known[state.session_id] = state
        todo, generations = [], []
        for session_id, head in sorted(heads.items()):
            state = known[session_id]
            if state.line_no and (self.full or replaced or self._changed_below(db, state, head)):
                state.restart_rows()
            if head.generation is not None and head.generation != state.head_hash:
                state.head_hash = head.generation
                generations.append({"sid_": state.source_id, "gen": head.generation})
            if head.max_seq > state.read_offset:
                todo.append(state)
        if generations:  # kept also for sessions with nothing new to read
            conn.execute(update(sources).where(sources.c.source_id == bindparam("sid_"))
                         .values(head_hash=bindparam("gen")), generations)
        return todo

    @staticmethod
    def _changed_below(db: sqlite3.Connection, state: SourceState,
                       head: sqlite_store.SessionHead) -> bool:
        """Did OpenClaw change the session at or below the last row read?"""
        if head.max_seq < state.read_offset:
            return True
        if state.head_hash is not None and head.generation not in (None, state.head_hash):
            return True
        session_id = state.session_id or ""
        below = (head.rows if head.max_seq == state.read_offset
                 else sqlite_store.rows_through(db, session_id, state.read_offset))
        if below != state.line_no:
            return True
        return state.tail_hash is not None and state.tail_hash != sqlite_store.row_fingerprint(
            db, session_id, state.read_offset)

    # -- closing ----------------------------------------------------------------------
    def _finish(self, conn: Connection, elapsed: float) -> None:
        summary = self.summary
        summary.issues_by_kind = dict(conn.execute(
            select(parse_issues.c.kind, func.count())
            .where(parse_issues.c.run_id == summary.run_id).group_by(parse_issues.c.kind)).all())
        summary.elapsed_seconds = elapsed
        changed = bool(summary.sources_read or summary.sessions_updated)
        conn.execute(update(ingest_runs).where(ingest_runs.c.run_id == summary.run_id).values(
            finished_at=now(), status="ok", changed=changed, sources_read=summary.sources_read,
            new_calls=summary.totals.new_calls, issues=summary.totals.issues,
            summary_json=orjson.dumps(summary_dict(summary)).decode()))


def _db_stamp(path: Path) -> tuple[int, int]:
    size, mtime = 0, 0
    for candidate in (path, Path(f"{path}-wal")):
        try:
            st = candidate.stat()
        except OSError:
            continue
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return size, mtime


def _rel(root: StateRoot, path: Path) -> str:
    try:
        return path.relative_to(root.path).as_posix()
    except ValueError:
        return str(path)


def summary_dict(summary: RunSummary) -> dict[str, object]:
    t = summary.totals
    return {
        "run_id": summary.run_id, "roots": summary.roots,
        "sources_total": summary.sources_total, "sources_read": summary.sources_read,
        "sources_gone": summary.sources_gone, "new_calls": t.new_calls,
        "tokens": {"input": t.input, "output": t.output, "cache_read": t.cache_read,
                   "cache_write": t.cache_write},
        "cost": round(t.cost, 10), "cost_estimated": round(t.estimated_cost, 10),
        "unpriced_calls": t.unpriced_calls, "unpriced_tokens": t.unpriced_tokens,
        "bad_input": summary.issues_by_kind, "unreadable": summary.unreadable,
        "sessions_updated": summary.sessions_updated,
        "elapsed_seconds": round(summary.elapsed_seconds, 4),
    }


def database_totals(conn: Connection) -> dict[str, object]:
    """Totals over everything in the database (shown at the end of a run)."""
    m = messages.c
    calls, cost = conn.execute(select(func.count(), func.coalesce(func.sum(m.cost), 0.0))).one()
    count_sessions = conn.execute(select(func.count()).select_from(sessions)).scalar_one()
    return {"calls": int(calls), "cost": float(cost), "sessions": int(count_sessions)}


__all__ = ["Ingest", "RunSummary", "database_totals", "parse_time",
           "summary_dict"]
