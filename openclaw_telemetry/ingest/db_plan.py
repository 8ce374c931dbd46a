"""Planning the SQLite era: which agent databases changed, and which of their sessions
have rows not read yet.

An agent database has a bookkeeping source of its own (kind `sqlite:database`) holding its
size/mtime stamp, so an unchanged database is not opened; each of its sessions is a source
(`<db>#transcript_events/<sessionId>`) read from the last seq.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, bindparam, select, update

from openclaw_telemetry.ingest.file_plan import rel_path
from openclaw_telemetry.ingest.readers import changed_below
from openclaw_telemetry.ingest.state import NOTHING_READ, SourceState
from openclaw_telemetry.ingest.writer import chunks, insert_ignore, now, time_writer
from openclaw_telemetry.model import SourceKind
from openclaw_telemetry.schema import sources
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.discover import Agent, StateRoot

DB_KIND = "sqlite:database"  # bookkeeping row per agent database: its size/mtime stamp


@dataclass(slots=True)
class DbWork:
    """An agent database that changed since it was read: its size/mtime stamp and marker."""

    root: StateRoot
    agent: Agent
    stamp: tuple[int, int]
    marker: SourceState


def db_stamp(path: Path) -> tuple[int, int]:
    """Size and latest mtime of a database and its WAL."""
    size, mtime = 0, 0
    for candidate in (path, Path(f"{path}-wal")):
        try:
            st = candidate.stat()
        except OSError:
            continue
        size += st.st_size
        mtime = max(mtime, st.st_mtime_ns)
    return size, mtime


class DbPlan:
    """A gateway's agent databases; `full` reads every session again from its first row."""

    def __init__(self, gateway: str, *, full: bool) -> None:
        self.gateway = gateway
        self.full = full

    def work(self, conn: Connection, root: StateRoot, agent: Agent) -> DbWork | None:
        """The agent's database when it changed since it was read (None: unchanged)."""
        assert agent.database is not None
        stamp = db_stamp(agent.database)
        marker = self._marker(conn, root, agent.database)
        if marker.size == stamp[0] and marker.mtime_ns == stamp[1] and not self.full:
            return None
        return DbWork(root, agent, stamp, marker)

    @staticmethod
    def mark_read(conn: Connection, work: DbWork, inode: int) -> None:
        """The database was read up to its stamp (written after its rows)."""
        conn.execute(update(sources).where(sources.c.source_id == work.marker.source_id)
                     .values(size=work.stamp[0], mtime_ns=work.stamp[1], inode=inode,
                             last_read_at=now()))

    def _marker(self, conn: Connection, root: StateRoot, db_path: Path) -> SourceState:
        found = conn.execute(select(sources).where(sources.c.gateway == self.gateway,
                                                   sources.c.path == str(db_path))).first()
        if found is not None:
            return SourceState.from_row(found)
        return self._insert_source(conn, {"path": str(db_path),
                                          "rel_path": rel_path(root, db_path),
                                          "kind": DB_KIND, "size": -1, "mtime_ns": -1,
                                          "first_seen_at": now()})

    def _insert_source(self, conn: Connection, row: Mapping[str, object]) -> SourceState:
        inserted = conn.execute(sources.insert().values(gateway=self.gateway, **row))
        source_id = inserted.inserted_primary_key[0]  # type: ignore[index]
        fetched = conn.execute(select(sources).where(sources.c.source_id == source_id)).one()
        return SourceState.from_row(fetched)

    def sessions(self, conn: Connection, db: sqlite3.Connection, work: DbWork,
                 heads: dict[str, sqlite_store.SessionHead],
                 replaced: bool) -> tuple[list[SourceState], int]:
        """Sessions of the database with rows not read yet (new ones remembered first), and
        how many sessions are new. A session OpenClaw changed below where it was read (the
        last row read is gone or different, rows were added or removed below it, a new
        rewrite generation), one of a database replaced by another file, and every one with
        --full is read again from its first row, adding what is new: rows OpenClaw has since
        removed stay counted (contract E1). For these sessions `head_hash` keeps the rewrite
        generation and `tail_hash` the fingerprint of the last row read."""
        db_path = work.agent.database
        assert db_path is not None
        prefix = f"{db_path}#transcript_events/"
        known = {s.session_id: s for s in (
            SourceState.from_row(row) for row in conn.execute(
                select(sources).where(sources.c.gateway == self.gateway,
                                      sources.c.kind == SourceKind.SQLITE.value,
                                      sources.c.path.startswith(prefix, autoescape=True))))}
        fresh = sorted(set(heads) - set(known))
        rel = f"{rel_path(work.root, db_path)}#transcript_events/"
        insert_ignore(conn, sources, [
            {"gateway": self.gateway, "path": prefix + sid, "rel_path": rel + sid,
             "kind": SourceKind.SQLITE.value, "agent_id": work.agent.agent_id,
             "session_id": sid, "read_offset": NOTHING_READ,
             "first_seen_at": time_writer(conn.engine)(now())} for sid in fresh])
        for part in chunks(fresh):
            for row in conn.execute(select(sources).where(
                    sources.c.gateway == self.gateway,
                    sources.c.path.in_([prefix + sid for sid in part]))):
                state = SourceState.from_row(row)
                known[state.session_id] = state
        todo, generations = [], []
        for session_id, head in sorted(heads.items()):
            state = known[session_id]
            if state.line_no and (self.full or replaced or changed_below(db, state, head)):
                state.restart_rows()
            new_generation = head.generation not in (None, state.head_hash)
            if new_generation:
                state.head_hash = head.generation
            if head.max_seq > state.read_offset:
                # its generation is kept with its rows: a run stopped before writing them
                # leaves the new generation for the next run to see
                todo.append(state)
            elif new_generation:  # nothing to read: kept now
                generations.append({"sid_": state.source_id, "gen": head.generation})
        if generations:
            conn.execute(update(sources).where(sources.c.source_id == bindparam("sid_"))
                         .values(head_hash=bindparam("gen")), generations)
        return todo, len(fresh)
