"""Reading the new part of one source and handing it to the writer in batches.

JSONL files are read from the offset of their last complete line; an unterminated last
line is left for the next run (contract E3), except in archives OpenClaw will never append
to again. Compressed archives are read whole. Agent databases are read per session from
the last seq, inside one read snapshot per database (and per parsing process); the plan
was made in an earlier one, so each session is checked again first (`read_session`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import zstandard

from openclaw_telemetry import stopping
from openclaw_telemetry.ingest.state import SourceState, fingerprints
from openclaw_telemetry.model import Batch, ParseIssue, SourceKind
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.discover import problem as os_problem
from openclaw_telemetry.sources.files import open_regular
from openclaw_telemetry.sources.jsonl import TranscriptParser

READ_CHUNK = 1024 * 1024  # a larger read is an mmap'd buffer per call: 2x slower on small files
ZSTD_CHUNK = 256 * 1024  # compressed bytes per step: JSONL inflates ~10x
BATCH_BYTES = 64 * 1024 * 1024
_LIVE_KINDS = frozenset({SourceKind.PRIMARY.value})

Progress = Callable[[int], None]  # told the bytes of a file read, or the rows of a session


class Sink(Protocol):
    """Where batches go (the database writer; a protocol keeps readers free of SQL)."""

    batch_calls: int

    def flush(self, state: SourceState, batch: Batch) -> None: ...


def _parser_for(state: SourceState) -> TranscriptParser:
    return TranscriptParser(state.meta(), state.model_state, state.provider_state)


def _absorb(state: SourceState, parser: TranscriptParser, hint: str) -> None:
    """Copy the parser's running context into the source state before a flush."""
    meta = parser.meta
    if state.session_id is None and state.line_no > 0:  # decided by line 1: header or not
        state.session_id = meta.session_id or hint
    state.header_time, state.first_time = meta.header_time, meta.first_time
    state.last_time, state.parent_session = meta.last_time, meta.parent_session
    state.thinking_level, state.thinking_time = meta.thinking_level, meta.thinking_time
    state.user_seen = meta.user_seen
    if meta.marker is not None:
        state.marker_kind = meta.marker.kind
        state.marker_cron_job_id = meta.marker.cron_job_id
        state.marker_cron_job_name = meta.marker.cron_job_name
    state.model_state, state.provider_state = parser.model, parser.provider


def read_jsonl(path: Path, stat: os.stat_result, state: SourceState, compressed: bool,
               hint: str, writer: Sink, progress: Progress) -> None:
    """Read from `state.read_offset` to the last complete line, flushing in batches.

    The size and mtime seen *before* reading are saved with the last batch only, so a run
    that stops half-way, or a file that grows meanwhile, is looked at again next time.
    `progress` is told the bytes read from the file (compressed ones for an archive).
    """
    parser = _parser_for(state)
    with open_regular(path) as raw:
        if compressed:
            chunks = _zstd_chunks(raw, progress)
        else:
            raw.seek(state.read_offset)
            chunks = _counted(iter(lambda: raw.read(READ_CHUNK), b""), progress)
        try:
            _read_lines(chunks, None if compressed else path, state, parser, hint, writer,
                        final=compressed or state.kind not in _LIVE_KINDS)
        except (zstandard.ZstdError, TruncatedArchive) as exc:
            parser.batch.issues.append(ParseIssue(state.line_no + 1, None, "bad_zstd", str(exc)))
    _absorb(state, parser, hint)
    if not compressed:
        state.head_hash, state.tail_hash = fingerprints(path, state.read_offset)
    state.size, state.mtime_ns = stat.st_size, stat.st_mtime_ns
    writer.flush(state, parser.take())


class TruncatedArchive(Exception):
    """A zstd archive that ends inside a frame (a copy cut short, a full disk)."""


def _counted(chunks: Iterator[bytes], progress: Progress) -> Iterator[bytes]:
    for chunk in chunks:
        progress(len(chunk))
        yield chunk


def _zstd_chunks(raw: BinaryIO, progress: Progress) -> Iterator[bytes]:
    """The decompressed bytes of every frame of a zstd file, as they come; raises
    TruncatedArchive, after yielding all it could, when the file ends inside a frame."""
    decoder, started = zstandard.ZstdDecompressor().decompressobj(), False
    for data in _counted(iter(lambda: raw.read(ZSTD_CHUNK), b""), progress):
        while data:
            started = True
            out = decoder.decompress(data)
            if out:
                yield out
            data = b""
            if decoder.eof:  # the next frame, if any, starts in what is left
                data, started = decoder.unused_data, False
                decoder = zstandard.ZstdDecompressor().decompressobj()
    if started:
        raise TruncatedArchive("the archive ends inside a zstd frame: its last part cannot "
                               "be decompressed (what came before was read)")


def _read_lines(chunks: Iterator[bytes], path: Path | None, state: SourceState,
                parser: TranscriptParser, hint: str, writer: Sink, *, final: bool) -> None:
    pending = b""
    since_flush = 0
    offset = state.read_offset
    for chunk in chunks:
        stopping.check()  # between chunks: what was parsed and not flushed is read again
        data = pending + chunk if pending else chunk
        lines = data.split(b"\n")
        pending = lines.pop()
        for line in lines:
            state.line_no += 1
            parser.feed(line, state.line_no, offset)
            offset += len(line) + 1
        since_flush += len(chunk)
        state.read_offset = offset
        if len(parser.batch.calls) >= writer.batch_calls or since_flush >= BATCH_BYTES:
            _absorb(state, parser, hint)
            if path is not None:
                state.head_hash, state.tail_hash = fingerprints(path, offset)
            writer.flush(state, parser.take())
            since_flush = 0
    if pending.strip() and final:
        state.line_no += 1
        parser.feed(pending, state.line_no, offset)
        state.read_offset = offset + len(pending)


DATABASE_ERRORS = (OSError, sqlite3.Error, sqlite_store.ReadError)


def file_problem(path: Path, exc: OSError) -> str:
    """Why a transcript file could not be read, for a person (in one process or a worker)."""
    return f"{path}: {exc.strerror or exc}"


def database_problem(path: Path, exc: Exception) -> str:
    """Why an agent database could not be read (one of `DATABASE_ERRORS`), for a person."""
    if isinstance(exc, OSError):
        return os_problem(exc)  # (names the file: the database or a sidecar)
    return f"{path}: {exc}" if isinstance(exc, sqlite3.Error) else str(exc)


def read_session_rows(conn: sqlite3.Connection, state: SourceState, writer: Sink,
                      progress: Progress) -> None:
    """New `transcript_events` rows of one session, in seq order (format §10); `progress`
    is told each row."""
    session_id = state.session_id or ""
    parser = _parser_for(state)
    for seq, event, problem in sqlite_store.iter_events(conn, session_id, state.read_offset):
        stopping.check()
        progress(1)
        if event is None:
            parser.batch.issues.append(ParseIssue(seq, None, "bad_row", problem or ""))
        else:
            parser.feed(event, seq)
        state.read_offset = seq
        state.line_no += 1
        if len(parser.batch.calls) >= writer.batch_calls:
            _absorb(state, parser, session_id)
            writer.flush(state, parser.take())
    # where reading stopped, for the next run: the rows at or below it and the last one's
    # fingerprint (a renumbered, rewritten or back-filled session is read again from seq 0)
    state.line_no = sqlite_store.rows_through(conn, session_id, state.read_offset)
    state.tail_hash = sqlite_store.row_fingerprint(conn, session_id, state.read_offset)
    _absorb(state, parser, session_id)
    writer.flush(state, parser.take())


def changed_below(db: sqlite3.Connection, state: SourceState,
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


def read_session(db: sqlite3.Connection, state: SourceState, head: sqlite_store.SessionHead,
                 writer: Sink, progress: Progress) -> None:
    """A session planned (`DbPlan.sessions`) in an earlier snapshot of its database, read in
    this one: if OpenClaw changed it below the last row read in between, it is read again
    from its first row, as a plan made now would have decided (a new rewrite generation is
    seen by the next run's plan: `head_hash` keeps the planned one)."""
    if state.line_no and changed_below(db, state, head):
        state.restart_rows()
    read_session_rows(db, state, writer, progress)
