"""Replay: a session's conversation, read at view time from OpenClaw's own files or agent
databases, never stored (issue #13, contract E4).

Opt-in (`config.replay_settings`), and refused when the dashboard listens on an address
that is not loopback unless a second setting allows it. The transcript is found through
the sources the ingest recorded for the session (JSONL files, `.zst` archives, rows of an
agent database, zstd rows included), read-only; a transcript OpenClaw has since deleted
says so. No Streamlit here: the page renders the `Turn`s (`ui/replay_view.py`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import zstandard
from sqlalchemy import Engine, select

from openclaw_telemetry.errors import TelemetryError
from openclaw_telemetry.schema import sources
from openclaw_telemetry.sources import sqlite_store

PREVIEW = 600  # characters of a tool argument or result shown before "show all"
FULL = 100_000  # at most this much of one block is ever shown
MAX_TURNS = 5_000
_PREFERENCE = ("file:primary", "sqlite:transcript_events", "file:import-archive", "file:cold",
               "file:deleted", "file:reset", "file:bak")
_DB_MARK = "#transcript_events/"


@dataclass(frozen=True, slots=True)
class Turn:
    """One shown entry: `kind` is user, assistant, thinking, tool_call, tool_result or
    note; `text` is the whole (capped) text, `preview` its shown part."""

    kind: str
    text: str
    timestamp: str | None = None
    name: str | None = None
    is_error: bool = False

    @property
    def preview(self) -> str:
        return self.text if len(self.text) <= PREVIEW else self.text[:PREVIEW] + " …"

    @property
    def truncated(self) -> bool:
        return len(self.text) > PREVIEW


@dataclass(frozen=True, slots=True)
class Replay:
    turns: list[Turn]
    source: str | None  # where it was read (relative path), None when nothing was
    note: str | None  # why nothing (or not everything) is shown


def refusal(enabled: bool, remote_allowed: bool, address: str | None) -> str | None:
    """Why replay is not offered, or None when it is. An empty address is Streamlit's
    default, every interface: not loopback."""
    if not enabled:
        return ("Replay is off. Start the dashboard with OPENCLAW_TELEMETRY_REPLAY=1 (or "
                "--replay after --) to read conversations from OpenClaw's files.")
    if remote_allowed or is_loopback(address):
        return None
    return (f"Replay is refused: this dashboard listens on {address or 'every address'}, "
            "not only on this machine. Set OPENCLAW_TELEMETRY_REPLAY_REMOTE=1 (or "
            "--replay-remote) to allow it there.")


def is_loopback(address: str | None) -> bool:
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def conversation(engine: Engine, *, session_id: str, gateway: str) -> Replay:
    """The session's (its id on its gateway) conversation from the best source still on
    disk."""
    with engine.connect() as conn:
        rows = conn.execute(select(sources.c.path, sources.c.rel_path, sources.c.kind)
                            .where(sources.c.session_id == session_id,
                                   sources.c.gateway == gateway)).all()
    ranked = sorted(rows, key=lambda r: _PREFERENCE.index(r.kind)
                    if r.kind in _PREFERENCE else len(_PREFERENCE))
    if not ranked:
        return Replay([], None, "No transcript of this session was ever read.")
    for path, rel_path, kind in ranked:
        try:
            lines = _lines(str(path), str(kind))
            turns = _turns(lines)
        except FileNotFoundError:
            continue
        except (OSError, zstandard.ZstdError, TelemetryError) as exc:
            return Replay([], str(rel_path), f"The transcript could not be read: {exc}")
        note = None if len(turns) < MAX_TURNS else f"Only the first {MAX_TURNS:,} entries."
        return Replay(turns[:MAX_TURNS], str(rel_path), note)
    return Replay([], None, "OpenClaw has since deleted this session's transcript: its "
                            "figures stay, its conversation is gone.")


def _lines(path: str, kind: str) -> Iterator[bytes]:
    if kind.startswith("sqlite:") and _DB_MARK in path:
        db_path, session_id = path.split(_DB_MARK, 1)
        if not Path(db_path).exists():
            raise FileNotFoundError(db_path)
        return _rows(Path(db_path), session_id)
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(path)
    if file.suffix == ".zst":
        with file.open("rb") as raw:
            data = zstandard.ZstdDecompressor().decompressobj().decompress(raw.read())
        return iter(data.splitlines())
    return iter(file.read_bytes().splitlines())


def _rows(db_path: Path, session_id: str) -> Iterator[bytes]:
    found: list[bytes] = []
    with sqlite_store.open_readonly(db_path) as conn:
        for _seq, event, _problem in sqlite_store.iter_events(conn, session_id, -1):
            if event is not None:
                found.append(event)
    if not found:
        raise FileNotFoundError(f"{db_path}: no rows of {session_id}")
    return iter(found)


def _turns(lines: Iterator[bytes]) -> list[Turn]:
    turns: list[Turn] = []
    for line in lines:
        if len(turns) >= MAX_TURNS:
            break
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            turns.extend(_entry_turns(entry))
    return turns


def _entry_turns(entry: dict[str, Any]) -> list[Turn]:
    when = entry.get("timestamp") if isinstance(entry.get("timestamp"), str) else None
    kind = entry.get("type")
    if kind == "compaction":
        return [Turn("note", "— context compacted —", when)]
    if kind == "reset":
        return [Turn("note", "— session reset —", when)]
    if kind == "model_change":
        return [Turn("note", f"— model: {entry.get('provider')}/{entry.get('modelId')} —", when)]
    if kind == "thinking_level_change":
        return [Turn("note", f"— thinking level: {entry.get('thinkingLevel')} —", when)]
    msg = entry.get("message")
    if kind != "message" or not isinstance(msg, dict):
        return []
    role = msg.get("role")
    if role == "toolResult":
        return [Turn("tool_result", _text(msg.get("content")), when,
                     _short(msg.get("toolName")), msg.get("isError") is True)]
    if role not in ("user", "assistant"):
        return []
    return list(_blocks(str(role), msg, when))


def _blocks(role: str, msg: dict[str, Any], when: str | None) -> Iterator[Turn]:
    content = msg.get("content")
    if isinstance(content, str):
        yield Turn(role, _cap(content), when)
        return
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "text" and isinstance(block.get("text"), str):
            yield Turn(role, _cap(block["text"]), when)
        elif btype == "thinking" and isinstance(block.get("thinking"), str):
            yield Turn("thinking", _cap(block["thinking"]), when)
        elif btype in ("toolCall", "tool_use"):
            args = block.get("arguments", block.get("input"))
            yield Turn("tool_call", _cap(_json(args)), when, _short(block.get("name")))
        elif btype == "tool_result":
            yield Turn("tool_result", _text(block.get("content")), when, None,
                       block.get("is_error") is True)
    if msg.get("stopReason") in ("error", "aborted") and isinstance(msg.get("errorMessage"), str):
        yield Turn("note", _cap(f"call failed: {msg['errorMessage']}"), when, is_error=True)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return _cap(content)
    parts = [b.get("text") for b in content if isinstance(b, dict)] if isinstance(
        content, list) else []
    return _cap("\n".join(p for p in parts if isinstance(p, str)))


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        return str(value)


def _cap(text: str) -> str:
    return text if len(text) <= FULL else text[:FULL] + f"\n[… {len(text) - FULL:,} more characters]"


def _short(value: Any) -> str | None:
    return value[:80] if isinstance(value, str) else None
