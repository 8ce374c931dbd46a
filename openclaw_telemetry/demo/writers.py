"""Where generated entries go: JSONL files, zstd archives, agent databases, sidecars.

A sink receives every entry of one session as `(line, entry, epoch_ms)` — `line` is the
serialised JSON without its newline — and writes it as OpenClaw would: appended to a
`.jsonl` file (format §4.1), split into a `.jsonl.bak.<ts>` copy plus a line-trimmed
primary (§5.2 "line-trim compact"), compressed into a `.jsonl.deleted.<ts>.<hex>.zst`
(kept in the agent database too) or `cold/<sha256>.jsonl.zst` archive (§10, §12.2), or
inserted into `transcript_events` (§10; events of 2 KiB and more, and some of 1 KiB,
zstd-compressed into `event_zstd` with `event_json` NULL, as schema 23 does). Sinks
stream: nothing but a small tail buffer is kept in memory, whatever the size of the
session.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson
import zstandard

from openclaw_telemetry.demo.models import Totals
from openclaw_telemetry.demo.plan import iso_ms

BATCH_ROWS = 2_000
WRITE_BUFFER = 1 << 20

AGENT_SCHEMA = """
CREATE TABLE schema_meta (
  meta_key TEXT NOT NULL PRIMARY KEY, role TEXT NOT NULL, schema_version INTEGER NOT NULL,
  agent_id TEXT, app_version TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE session_nodes (
  session_key TEXT NOT NULL PRIMARY KEY, current_session_id TEXT NOT NULL,
  entry_json TEXT NOT NULL, legacy_acp_migration_json TEXT,
  entry_valid INTEGER NOT NULL DEFAULT 0 CHECK (entry_valid IN (-1, 0, 1)),
  updated_at INTEGER NOT NULL,
  status TEXT CHECK (status IS NULL OR status IN ('running', 'done', 'failed', 'killed',
                                                   'timeout')),
  created_at INTEGER,
  created_via TEXT CHECK (created_via IS NULL OR created_via IN ('operator', 'spawn', 'channel',
                          'cron', 'talk', 'run', 'plugin', 'internal')),
  parent_session_key TEXT, spawned_by TEXT, label TEXT, display_name TEXT, archived_at INTEGER,
  last_interaction_at INTEGER, last_activity_at INTEGER
) STRICT;
CREATE INDEX idx_agent_session_nodes_current_session_id ON session_nodes(current_session_id);
CREATE TABLE session_windows (
  session_id TEXT NOT NULL PRIMARY KEY, session_key TEXT NOT NULL, previous_session_id TEXT,
  reason TEXT CHECK (reason IS NULL OR reason IN ('initial', 'reset', 'rollover', 'fork',
                     'rewind', 'switch', 'recovery', 'compaction')),
  session_scope TEXT NOT NULL DEFAULT 'conversation',
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, started_at INTEGER,
  ended_at INTEGER, status TEXT, chat_type TEXT, channel TEXT, model_provider TEXT,
  model TEXT, agent_harness_id TEXT, parent_session_key TEXT, spawned_by TEXT,
  display_name TEXT
) STRICT;
CREATE INDEX idx_agent_session_windows_session_key ON session_windows(session_key);
CREATE TABLE session_transcript_archives (
  session_id TEXT NOT NULL,
  generation TEXT NOT NULL,
  session_key TEXT NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('deleted', 'reset')),
  encoding TEXT NOT NULL CHECK (encoding IN ('identity', 'zstd')),
  archive_blob BLOB NOT NULL,
  archive_sha256 TEXT NOT NULL CHECK (length(archive_sha256) = 64),
  archive_name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  published_at INTEGER,
  publish_attempts INTEGER NOT NULL DEFAULT 0 CHECK (publish_attempts >= 0),
  last_publish_attempt_at INTEGER,
  last_publish_error TEXT,
  PRIMARY KEY (session_id, generation),
  CHECK (archive_name NOT LIKE '%/%' AND archive_name NOT LIKE '%\\%')
) STRICT;
CREATE TABLE transcript_events (
  session_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event_json TEXT,
  created_at INTEGER NOT NULL,
  event_zstd BLOB,
  event_utf8_bytes INTEGER CHECK (event_utf8_bytes IS NULL OR event_utf8_bytes >= 0),
  navigation_json TEXT,
  PRIMARY KEY (session_id, seq),
  FOREIGN KEY (session_id) REFERENCES "session_windows"(session_id) ON DELETE CASCADE,
  CHECK (
    (event_json IS NOT NULL AND event_zstd IS NULL)
    OR (
      event_json IS NULL AND event_zstd IS NOT NULL
      AND event_utf8_bytes IS NOT NULL
      AND event_utf8_bytes BETWEEN 1 AND 4194304
      AND length(event_zstd) BETWEEN 1 AND 4194304
      AND navigation_json IS NOT NULL
    )
  )
) STRICT;
"""


class Sink(Protocol):
    def write(self, line: bytes, entry: dict[str, Any], ms: int) -> None: ...

    def close(self) -> None: ...


def is_counted_call(entry: dict[str, Any]) -> bool:
    message = entry.get("message")
    return (entry.get("type") == "message" and isinstance(message, dict)
            and message.get("role") == "assistant" and message.get("provider") != "openclaw")


class JsonlSink:
    """Appends lines to one JSONL file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = path.open("wb", buffering=WRITE_BUFFER)

    def write(self, line: bytes, entry: dict[str, Any], ms: int) -> None:
        self.file.write(line + b"\n")

    def close(self) -> None:
        self.file.close()


class ZstSink:
    """A zstd-compressed JSONL archive, streamed (level 1, like OpenClaw's archives)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = path.open("wb")
        self.writer: BinaryIO = zstandard.ZstdCompressor(level=1).stream_writer(raw, closefd=True)

    def write(self, line: bytes, entry: dict[str, Any], ms: int) -> None:
        self.writer.write(line + b"\n")

    def close(self) -> None:
        self.writer.close()


class DeletionArchiveSink(ZstSink):
    """A session deleted in the SQLite era: its published `<id>.jsonl.deleted.<ts>.<generation>
    .zst`, whose bytes the agent database also keeps in `session_transcript_archives`
    with the session's key (as 2026.9.6 does, §12.2)."""

    def __init__(self, path: Path, db: AgentDb, session_id: str, key: str, generation: str,
                 deleted_ms: int) -> None:
        super().__init__(path)
        self.path = path
        self.db = db
        self.row = {"session_id": session_id, "generation": generation, "session_key": key,
                    "reason": "deleted", "encoding": "zstd", "archive_name": path.name,
                    "created_at": deleted_ms, "published_at": deleted_ms + 69,
                    "publish_attempts": 1, "last_publish_attempt_at": deleted_ms + 69}

    def close(self) -> None:
        super().close()
        blob = self.path.read_bytes()
        self.db.add_archive({**self.row, "archive_blob": blob,
                             "archive_sha256": hashlib.sha256(blob).hexdigest()})


class BakSplitSink:
    """Line-trim compact: the history so far becomes `<file>.bak.<ms>`, the primary keeps
    only its last `keep` lines (header gone) and then grows again (format §5.2)."""

    def __init__(self, primary: Path, split_after_calls: int, keep: int, totals: Totals) -> None:
        self.primary = primary
        self.split_after = split_after_calls
        self.tail: deque[tuple[bytes, bool]] = deque(maxlen=keep)
        self.totals = totals
        self.calls = 0
        self.sink: JsonlSink | None = None
        self.pending = primary.with_name(primary.name + ".pending-bak")
        self.bak_file = self.pending.open("wb", buffering=WRITE_BUFFER)
        self.last_ms = 0

    def write(self, line: bytes, entry: dict[str, Any], ms: int) -> None:
        if self.sink is None and self.calls >= self.split_after and _is_user(entry):
            self._split()
        if self.sink is not None:
            self.sink.write(line, entry, ms)
            return
        counted = is_counted_call(entry)
        self.calls += counted
        self.bak_file.write(line + b"\n")
        self.tail.append((line, counted))
        self.last_ms = ms

    def _split(self) -> None:
        self.bak_file.close()
        self.pending.rename(self.primary.with_name(f"{self.primary.name}.bak.{self.last_ms}"))
        self.sink = JsonlSink(self.primary)
        for line, counted in self.tail:
            self.sink.file.write(line + b"\n")
            self.totals.duplicated_calls += counted

    def close(self) -> None:
        if self.sink is None:
            self._split()
        assert self.sink is not None
        self.sink.close()


def _is_user(entry: dict[str, Any]) -> bool:
    message = entry.get("message")
    return isinstance(message, dict) and message.get("role") == "user"


class TrajectorySink:
    """`<id>.trajectory.jsonl` runtime sidecar: never counted, repeats usage (§2.3)."""

    def __init__(self, path: Path, session_id: str, key: str, agent_id: str,
                 max_events: int = 40) -> None:
        self.file = path.open("wb", buffering=WRITE_BUFFER)
        self.base = {"traceSchema": "openclaw-trajectory", "schemaVersion": 1,
                     "traceId": session_id, "source": "runtime", "sessionId": session_id,
                     "sessionKey": key}
        self.seq = 0
        self.budget = max_events
        self.last_ms = 0
        pointer = {"traceSchema": "openclaw-trajectory-pointer", "schemaVersion": 1,
                   "sessionId": session_id,
                   "runtimeFile": f"/home/claw/.openclaw/agents/{agent_id}/sessions/{path.name}"}
        path.with_name(f"{session_id}.trajectory-path.json").write_bytes(
            orjson.dumps(pointer, option=orjson.OPT_INDENT_2))

    def _event(self, kind: str, ms: int, data: dict[str, Any]) -> None:
        self.seq += 1
        event = dict(self.base, type=kind, ts=iso_ms(ms), seq=self.seq, data=data)
        self.file.write(orjson.dumps(event) + b"\n")

    def write(self, line: bytes, entry: dict[str, Any], ms: int) -> None:
        self.last_ms = ms
        if entry.get("type") == "session":
            self._event("session.started", ms, {"trigger": "user"})
        elif is_counted_call(entry) and self.seq < self.budget:
            message = entry["message"]
            self._event("model.completed", ms, {
                "aborted": message["stopReason"] == "aborted", "timedOut": False,
                "usage": message["usage"], "assistantTexts": [],
                "provider": message["provider"], "modelId": message["model"]})

    def close(self) -> None:
        self._event("session.ended", self.last_ms, {"status": "success"})
        self.file.close()


class Tee:
    """Sends every line to several sinks (a session stored twice)."""

    def __init__(self, sinks: list[Sink]) -> None:
        self.sinks = sinks

    def write(self, line: bytes, entry: dict[str, Any], ms: int) -> None:
        for sink in self.sinks:
            sink.write(line, entry, ms)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


class AgentDb:
    """One agent's `openclaw-agent.sqlite`, written in one transaction, left in WAL mode."""

    def __init__(self, path: Path, agent_id: str, seed: int, created_ms: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.executescript(AGENT_SCHEMA)
        self.conn.execute("BEGIN")
        self.conn.execute("INSERT INTO schema_meta VALUES ('primary', 'agent', 23, ?, "
                          "'2026.9.6', ?, ?)", (agent_id, created_ms, created_ms))
        self.rows: list[tuple[Any, ...]] = []
        self.rng = random.Random(f"db:{seed}:{agent_id}")
        self.zstd = zstandard.ZstdCompressor(level=1, write_checksum=True,
                                             write_content_size=True)

    def sink(self, session_id: str) -> SqliteSink:
        return SqliteSink(self, session_id)

    def add_event(self, session_id: str, seq: int, line: bytes, entry: dict[str, Any],
                  ms: int) -> None:
        size = len(line)
        row: tuple[Any, ...]
        if size >= 2048 or (size >= 1024 and self.rng.random() < 0.3):
            row = (session_id, seq, None, ms, self.zstd.compress(line), size,
                   navigation_json(entry, size))
        else:
            row = (session_id, seq, line.decode(), ms, None, size, None)
        self.rows.append(row)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        self.conn.executemany("INSERT INTO transcript_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                              self.rows)
        self.rows.clear()

    def add_window(self, row: dict[str, Any]) -> None:
        self._insert("session_windows", row)

    def add_node(self, row: dict[str, Any]) -> None:
        self._insert("session_nodes", row)

    def add_archive(self, row: dict[str, Any]) -> None:
        self._insert("session_transcript_archives", row)

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (fixed names)
        self.conn.execute(sql, tuple(row.values()))

    def close(self) -> None:
        self.flush()
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


class SqliteSink:
    """One session's events as `transcript_events` rows, `seq` from 0."""

    def __init__(self, db: AgentDb, session_id: str) -> None:
        self.db = db
        self.session_id = session_id
        self.seq = 0

    def write(self, line: bytes, entry: dict[str, Any], ms: int) -> None:
        self.db.add_event(self.session_id, self.seq, line, entry, ms)
        self.seq += 1

    def close(self) -> None:
        """Rows are flushed in batches by the database."""


def navigation_json(entry: dict[str, Any], size: int) -> str:
    """The navigation summary 2026.9.6 stores beside a compressed event (§12.2)."""
    head = {k: entry[k] for k in ("id", "parentId", "timestamp", "type") if k in entry}
    nav: dict[str, Any] = {"type": entry.get("type"), **{k: head[k] for k in head if k != "type"}}
    message = entry.get("message")
    reset = dict(nav)
    model = dict(nav)
    if isinstance(message, dict):
        nav["message"] = {"role": message.get("role"), "__openclaw": message.get("__openclaw")}
        reset["message"] = {"role": message.get("role")}
        model["message"] = {k: v for k, v in message.items()
                            if k in ("role", "toolCallId", "toolName", "isError", "timestamp")}
        model["message"]["content"] = []
    document = {"version": 1, "report": {"kind": "canonical",
                                         "hasParentId": entry.get("parentId") is not None,
                                         "entry": head},
                "navigation": nav, "reset": reset, "model": model, "modelBytes": size,
                "modelWithoutCheckpointBytes": size, "withoutCustomDataBytes": size}
    return orjson.dumps(document).decode()
