"""Per-source read state and how a file on disk relates to it (contract E1).

A source is remembered by path and by (device, inode), with the offset of its last complete
line and hashes of the bytes just after its start and just before that offset. A file is
then new, unchanged, appended to, renamed by OpenClaw (same inode, same bytes), or
rewritten (shrunk, replaced, or its read bytes changed), in which case its earlier
contribution is replaced. No SQL here (`file_plan.load_states` reads the states): the
parsing worker imports this module, and without SQLAlchemy its imports take ~0.1 s, not
~0.5 s, before it can parse a line.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from openclaw_telemetry.model import Marker, SessionMeta, SourceKind
from openclaw_telemetry.sources.files import open_regular

_PROBE = 1024
NOTHING_READ = -1  # read_offset of a database session: OpenClaw numbers rows from seq 0


@dataclass(slots=True)
class SourceState:
    """One row of `sources`, mutable while a run reads the source."""

    source_id: int
    path: str
    rel_path: str
    kind: str
    agent_id: str | None
    session_id: str | None
    device: int | None
    inode: int | None
    size: int
    mtime_ns: int
    read_offset: int
    line_no: int
    head_hash: str | None
    tail_hash: str | None
    present: bool
    header_time: datetime | None
    first_time: datetime | None
    last_time: datetime | None
    thinking_level: str | None
    thinking_time: datetime | None
    parent_session: str | None
    marker_kind: str | None
    marker_cron_job_id: str | None
    marker_cron_job_name: str | None
    user_seen: bool
    model_state: str | None
    provider_state: str | None

    @classmethod
    def from_row(cls, row: Any) -> SourceState:
        mapping = row._mapping
        return cls(**{f.name: mapping[f.name] for f in fields(cls)})

    def meta(self) -> SessionMeta:
        marker = (Marker(self.marker_kind, self.marker_cron_job_id, self.marker_cron_job_name)
                  if self.marker_kind else None)
        return SessionMeta(self.session_id, self.header_time, self.first_time, self.last_time,
                           self.thinking_level, self.thinking_time, self.parent_session, marker,
                           self.user_seen)

    def forget_content(self) -> None:
        """Back to an unread source (its contribution is being replaced); a file's header
        decides its session again, a database session keeps its id."""
        database = self.kind == SourceKind.SQLITE.value
        self.read_offset = NOTHING_READ if database else 0
        self.line_no = 0
        self.session_id = self.session_id if database else None
        self.head_hash = self.tail_hash = None
        self.header_time = self.first_time = self.last_time = self.thinking_time = None
        self.thinking_level = self.parent_session = None
        self.marker_kind = self.marker_cron_job_id = self.marker_cron_job_name = None
        self.user_seen = False
        self.model_state = self.provider_state = None

    def restart_rows(self) -> None:
        """A database session to read again from its first row (OpenClaw rewrote,
        renumbered or back-filled it): what was read before stays counted, as do its times;
        only the reading position and the running parse context start over."""
        self.read_offset = NOTHING_READ
        self.line_no = 0
        self.model_state = self.provider_state = None

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source_id"}


class Change(Enum):
    UNCHANGED = "unchanged"
    APPENDED = "appended"
    REWRITTEN = "rewritten"


def _hash_range(path: Path, start: int, end: int) -> str | None:
    if end <= start:
        return None
    try:
        with open_regular(path) as handle:
            handle.seek(start)
            data = handle.read(end - start)
    except OSError:
        return None
    return hashlib.sha256(data).hexdigest() if len(data) == end - start else "short"


def head_range(offset: int) -> tuple[int, int]:
    return 0, min(offset, _PROBE)


def tail_range(offset: int) -> tuple[int, int]:
    return max(0, offset - _PROBE), offset


def fingerprints(path: Path, offset: int) -> tuple[str | None, str | None]:
    """Hashes of the first and the last (up to 1 KiB) bytes read so far."""
    return _hash_range(path, *head_range(offset)), _hash_range(path, *tail_range(offset))


def compare(state: SourceState, path: Path, stat: os.stat_result, compressed: bool) -> Change:
    """How the file at `path` relates to what was read of it before."""
    archive_tail = (not compressed and state.kind != SourceKind.PRIMARY.value
                    and state.read_offset < stat.st_size)
    if stat.st_size == state.size and stat.st_mtime_ns == state.mtime_ns and not archive_tail:
        return Change.UNCHANGED  # (a live file's unterminated tail waits; an archive's is read)
    if compressed or stat.st_size < state.read_offset:
        return Change.REWRITTEN
    head, tail = fingerprints(path, state.read_offset)
    if head != state.head_hash or tail != state.tail_hash:
        return Change.REWRITTEN
    return Change.APPENDED


def same_bytes(state: SourceState, path: Path) -> bool:
    """Does this file start with the bytes the remembered source had (rename check)?"""
    head, tail = fingerprints(path, state.read_offset)
    return head == state.head_hash and tail == state.tail_hash
