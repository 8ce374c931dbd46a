"""Planning the JSONL era: which files on disk need reading, and from where.

Every counted file found is matched to its remembered source of this gateway (two passes,
so a rename is found whichever of the old and the new name is listed first): new,
unchanged, appended, renamed (reset, delete, backup: contract E1), rewritten (its old
contribution is forgotten and its calls re-decided at the end of the run), returned, or
gone (its data stays).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, delete, select, update

from openclaw_telemetry.ingest.state import Change, SourceState, compare, same_bytes
from openclaw_telemetry.ingest.writer import chunks, insert_ignore, now, time_writer
from openclaw_telemetry.schema import (
    message_occurrences,
    parse_issues,
    pending_keys,
    session_events,
    sessions,
    sources,
)
from openclaw_telemetry.sources.discover import SourceFile, StateRoot, iter_source_files

Found = tuple[StateRoot, SourceFile, os.stat_result]


def load_states(conn: Connection, gateway: str) -> list[SourceState]:
    """Every remembered source of the gateway: files, and sessions of agent databases."""
    return [SourceState.from_row(row)
            for row in conn.execute(select(sources).where(sources.c.gateway == gateway))]


@dataclass(slots=True)
class Work:
    """A file that needs reading, with what is known of it."""

    file: SourceFile
    stat: os.stat_result
    state: SourceState

    @property
    def bytes_to_read(self) -> int:
        """An archive is read whole; a file from its last complete line."""
        return self.stat.st_size - (0 if self.file.compressed else
                                    min(self.state.read_offset, self.stat.st_size))


def rel_path(root: StateRoot, path: Path) -> str:
    """A source's path as shown: relative to its state directory when inside it."""
    try:
        return path.relative_to(root.path).as_posix()
    except ValueError:
        return str(path)


def discover(roots: list[StateRoot], warn: Callable[[str], None]) -> list[Found]:
    """Every counted file of the roots with its stat; what cannot be used goes to `warn`."""
    found: list[Found] = []
    for root in roots:
        for message in root.problems:
            warn(message)
        for file in iter_source_files(root, warn):
            try:
                str(file.path).encode("utf-8")
            except UnicodeEncodeError:
                warn(f"{str(file.path).encode('utf-8', 'backslashreplace')!r}:"
                     " file name is not valid UTF-8; skipped")
                continue
            try:
                found.append((root, file, file.path.stat()))
            except OSError as exc:
                warn(f"{file.path}: {exc.strerror}")
    return found


class FilePlan:
    """Matches files on disk to a gateway's sources; `full` re-reads every one."""

    def __init__(self, gateway: str, *, full: bool) -> None:
        self.gateway = gateway
        self.full = full

    def plan(self, conn: Connection, states: list[SourceState],
             found: list[Found]) -> tuple[list[Work], int]:
        """The files to read, and how many remembered files are gone."""
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
        gone = self._mark_gone(conn, [s for s in states if s.present and id(s) not in kept])
        return work, gone

    def _follow_renames(self, conn: Connection, states: list[SourceState],
                        found: list[Found]) -> dict[str, SourceState]:
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

    @staticmethod
    def _move(conn: Connection, state: SourceState, path: str,
              by_path: dict[str, SourceState], found: list[Found]) -> None:
        """OpenClaw renamed the file (reset, delete, bak): same source, new name (E1)."""
        root, file = next((r, f) for r, f, _ in found if str(f.path) == path)
        squatter = by_path.get(path)
        if squatter is not None and squatter is not state:  # a stale row held the name
            squatter.path = f"{path}#replaced-{squatter.source_id}"
            conn.execute(update(sources).where(sources.c.source_id == squatter.source_id)
                         .values(path=squatter.path, present=False))
        state.path, state.rel_path, state.kind = path, rel_path(root, file.path), file.kind.value
        conn.execute(update(sources).where(sources.c.source_id == state.source_id)
                     .values(path=state.path, rel_path=state.rel_path, kind=state.kind))

    def _classify(self, conn: Connection, state: SourceState, file: SourceFile,
                  stat: os.stat_result) -> Work | None:
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
        return Work(file, stat, state)

    def _new_sources(self, conn: Connection, files: list[Found]) -> dict[str, SourceState]:
        """Remember files seen for the first time (one insert, one read back)."""
        stamp = now()
        insert_ignore(conn, sources, [
            {"gateway": self.gateway, "path": str(f.path), "rel_path": rel_path(root, f.path),
             "kind": f.kind.value, "agent_id": f.agent_id, "device": st.st_dev,
             "inode": st.st_ino, "size": -1, "mtime_ns": -1,
             "first_seen_at": time_writer(conn.engine)(stamp)}
            for root, f, st in files])
        paths = [str(f.path) for _, f, _ in files]
        found: dict[str, SourceState] = {}
        for part in chunks(paths):
            for row in conn.execute(select(sources).where(sources.c.gateway == self.gateway,
                                                          sources.c.path.in_(part))):
                state = SourceState.from_row(row)
                found[state.path] = state
        return found

    def _replace(self, conn: Connection, state: SourceState) -> None:
        """Forget what this source contributed; its calls are re-decided at the end. Each
        stays stored meanwhile; read again, one no other source holds takes the values the
        file now gives it (`Writer`: a pending call read anew)."""
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

    @staticmethod
    def _mark_gone(conn: Connection, gone: list[SourceState]) -> int:
        """Files OpenClaw removed: their data stays (E1), the source is marked absent."""
        ids = [s.source_id for s in gone if not s.kind.startswith("sqlite:")]
        for part in chunks(ids):
            conn.execute(update(sources).where(sources.c.source_id.in_(part)).values(present=False))
        return len(ids)
