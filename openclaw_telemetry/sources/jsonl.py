"""Transcript lines -> model records. Pure and total: it never raises on input.

One `TranscriptParser` follows one transcript (a JSONL file, a zstd archive or the rows of
one session in an agent database) line by line, keeping the little running context the
format needs (current model, thinking level, header). Both storage eras share it, because
SQLite rows hold the same pi-shaped entries as JSONL lines (format §10).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from openclaw_telemetry.model import (
    Batch,
    Call,
    Marker,
    ParseIssue,
    SessionEvent,
    SessionMeta,
    ToolCall,
    ToolResult,
    Usage,
)
from openclaw_telemetry.sources.usage import (
    MAX_COUNT,
    normalize_usage,
    recorded_cost,
    stored_total,
)

_KNOWN_TYPES = frozenset({
    "session", "message", "model_change", "thinking_level_change", "compaction",
    "branch_summary", "custom", "custom_message", "label", "session_info", "reset",
})
_KNOWN_ROLES = frozenset({"user", "assistant", "toolResult", "bashExecution", "custom", "system"})
_SYNTHETIC_PROVIDER = "openclaw"  # format §4.6: delivery-mirror, gateway-injected, acp-runtime
_GOOGLE_BUGGY_APIS = frozenset({"google-generative-ai", "google-vertex"})
_BRIDGE_TOOL = "tool_call"  # format §12.2: Tool Search bridge; arguments.id names the tool
_PROMPT_ERROR = "openclaw:prompt-error"  # format §4.8
_WORD = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_MAX_ERROR_TEXT = 500
_MAX_LATENCY_MS = 12 * 3600 * 1000
_EPOCH = datetime(1970, 1, 1)

_SURROGATE = re.compile("[\ud800-\udfff]")
_CRON_MARKER = re.compile(r"\[cron:([A-Za-z0-9._:-]+)(?: ([^\]\n]*))?\]")
_SUBAGENT_MARKER = "[Subagent Context]"
_HEARTBEAT_MARKER = "Read HEARTBEAT.md"


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 string or epoch milliseconds -> naive UTC datetime (contract D4)."""
    if isinstance(value, str):
        if len(value) == 24 and value[-1] == "Z":  # pi's own form: 2026-11-24T03:13:20.000Z
            try:
                return datetime.fromisoformat(value[:-1])
            except ValueError:
                return None
        try:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:  # year 1 east of UTC has no UTC time: overflow
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):
            return None
        return parsed
    if isinstance(value, int | float) and not isinstance(value, bool) and _finite(value):
        try:
            return _EPOCH + timedelta(milliseconds=value)
        except OverflowError:
            return None
    return None


def _finite(value: int | float) -> bool:
    """math.isfinite without its OverflowError for integers too large for a float."""
    return isinstance(value, int) or math.isfinite(value)


def call_key(provider: str, response_id: str | None, model: str, request_ts: Any,
             usage: Usage) -> str:
    """The identity of a billed call (contract B3); never entry ids or file names."""
    if response_id:
        ident = f"r\x1f{provider}\x1f{response_id}"
    else:
        ident = (f"f\x1f{provider}\x1f{model}\x1f{request_ts}\x1f{usage.input}\x1f"
                 f"{usage.output}\x1f{usage.cache_read}\x1f{usage.cache_write}")
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def clean_text(value: Any, limit: int = 200) -> str | None:
    """A short string safe to store: lone surrogates replaced (format §9 Unicode)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text[:limit]
    if text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


_PADDING = b" \t\r\n\x00"
_BOM = b"\xef\xbb\xbf"
_WARNINGS = {
    "nul_bytes": "NUL bytes around the line ignored (a zero-filled tail after a crash?)",
    "invalid_utf8": "invalid UTF-8 replaced with U+FFFD",
    "lone_surrogate": "lone surrogate replaced with U+FFFD",
    "nonstandard_json": "non-standard JSON accepted (NaN, Infinity or an out-of-range number)",
}


def _decode(line: bytes) -> tuple[Any, str | None]:
    """Parse one line; return (object, issue kind or None). Raises ValueError if not JSON."""
    try:
        return orjson.loads(line), None
    except orjson.JSONDecodeError:
        pass
    core = line.strip(_PADDING)
    nul = len(core) != len(line.strip())
    if core.startswith(_BOM):  # an editor's byte-order mark: nothing is wrong with the data
        core = core[len(_BOM):]
    if not core:
        raise ValueError("the line holds only NUL bytes")
    if core != line:
        try:
            return orjson.loads(core), "nul_bytes" if nul else None
        except orjson.JSONDecodeError:
            pass
    text = core.decode("utf-8", "replace")
    kind = "invalid_utf8" if "\ufffd" in text and b"\xef\xbf\xbd" not in core else None
    try:
        obj = json.loads(text)  # accepts lone surrogates, which orjson rejects
    except (ValueError, RecursionError) as exc:
        raise ValueError(str(exc)) from None
    if kind is None:
        kind = "lone_surrogate" if _has_surrogate(obj) else "nonstandard_json"
    return obj, kind


def _has_surrogate(obj: Any) -> bool:
    try:
        orjson.dumps(obj)
    except (TypeError, orjson.JSONEncodeError):
        return True
    return False


class TranscriptParser:
    """Follows one transcript; call `feed` per line, read `batch` and `meta` after."""

    def __init__(self, meta: SessionMeta | None = None, model: str | None = None,
                 provider: str | None = None) -> None:
        self.meta = meta or SessionMeta()
        self.batch = Batch()
        self.model = model
        self.provider = provider

    # -- entry points -------------------------------------------------------------
    def feed(self, line: bytes, position: int, byte_offset: int | None = None) -> None:
        stripped = line.strip()
        if not stripped:
            return
        try:
            obj, warning = _decode(stripped)
        except ValueError as exc:
            self._issue(position, byte_offset, "malformed_json", str(exc))
            return
        if warning is not None:
            self._issue(position, byte_offset, warning, _WARNINGS[warning])
        if not isinstance(obj, dict):
            self._issue(position, byte_offset, "not_an_object", type(obj).__name__)
            return
        try:
            self._entry(obj, position, byte_offset)
        except RecursionError:
            self._issue(position, byte_offset, "malformed_entry", "nesting too deep")
        except (ValueError, OverflowError) as exc:  # a value no rule foresaw costs only its
            self._issue(position, byte_offset, "malformed_entry",  # line; the type only: an
                        f"unreadable entry ({type(exc).__name__})")  # error may quote text

    def take(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        return batch

    # -- entries ------------------------------------------------------------------
    def _issue(self, position: int, offset: int | None, kind: str, detail: str) -> None:
        self.batch.issues.append(ParseIssue(position, offset, kind, clean_text(detail, 300) or ""))

    def _entry(self, obj: dict[str, Any], position: int, offset: int | None) -> None:
        raw_type = obj.get("type")
        etype = raw_type if isinstance(raw_type, str) else repr(raw_type)[:40]
        when = parse_time(obj.get("timestamp"))
        if etype == "session":
            self._header(obj, when)
            return
        if when is not None:
            meta = self.meta
            if meta.first_time is None or when < meta.first_time:
                meta.first_time = when
            if meta.last_time is None or when > meta.last_time:
                meta.last_time = when
        if etype == "message":
            self._message(obj, when, position, offset)
        elif etype == "model_change":
            self.provider = _str(obj.get("provider")) or self.provider
            self.model = _str(obj.get("modelId")) or _str(obj.get("model")) or self.model
            self._event("model_change", when, position, _model_name(self.provider, self.model))
        elif etype == "thinking_level_change":
            self._thinking(obj.get("thinkingLevel"), when)
            self._event("thinking_change", when, position, _str(obj.get("thinkingLevel")))
        elif etype == "compaction":
            self._event("compaction", when, position, None,
                        _non_negative_int(obj.get("tokensBefore")),
                        _non_negative_int(obj.get("tokensAfter")))
        elif etype == "reset":
            self._event("reset", when, position, _word(obj.get("reason")))
        elif etype == "custom" and obj.get("customType") == _PROMPT_ERROR:
            data = obj.get("data")
            model = _str(data.get("model")) if isinstance(data, dict) else None
            self._event("prompt_error", when, position, model)  # never the error text (E4)
        elif etype not in _KNOWN_TYPES:
            self._issue(position, offset, "unknown_entry_type", repr(etype))

    def _event(self, kind: str, when: datetime | None, position: int, value: str | None,
               before: int | None = None, after: int | None = None) -> None:
        self.batch.events.append(SessionEvent(kind, when, position, value, before, after))

    def _header(self, obj: dict[str, Any], when: datetime | None) -> None:
        meta = self.meta
        sid = _str(obj.get("id"))
        if sid and meta.session_id is None:
            meta.session_id = sid
        if when is not None and (meta.header_time is None or when < meta.header_time):
            meta.header_time = when
        meta.parent_session = _str(obj.get("parentSession")) or meta.parent_session
        # v1 headers carried the model and thinking level (format §4.2)
        self.provider = _str(obj.get("provider")) or self.provider
        self.model = _str(obj.get("modelId")) or self.model
        if obj.get("thinkingLevel") is not None:
            self._thinking(obj.get("thinkingLevel"), when)

    def _thinking(self, level: Any, when: datetime | None) -> None:
        text = _str(level)
        if text is None:
            return
        meta = self.meta
        if meta.thinking_time is None or when is None or when >= meta.thinking_time:
            meta.thinking_level = text
            meta.thinking_time = when or meta.thinking_time

    def _message(self, obj: dict[str, Any], when: datetime | None, position: int,
                 offset: int | None) -> None:
        msg = obj.get("message")
        if not isinstance(msg, dict):
            self._issue(position, offset, "malformed_entry", "message is not an object")
            return
        raw_role = msg.get("role")
        role = raw_role if isinstance(raw_role, str) else repr(raw_role)[:40]
        if role == "assistant":
            self._assistant(obj, msg, when, position, offset)
        elif role == "toolResult":
            self._tool_result(msg, when, position)
        elif role == "user":
            self._user(msg, when, position)
        elif role not in _KNOWN_ROLES:
            self._issue(position, offset, "unknown_role", repr(role))

    def _assistant(self, entry: dict[str, Any], msg: dict[str, Any], when: datetime | None,
                   position: int, offset: int | None) -> None:
        provider = _str(msg.get("provider")) or _str(entry.get("provider")) or self.provider
        if provider == _SYNTHETIC_PROVIDER:
            return
        model = _str(msg.get("model")) or _str(entry.get("model")) or self.model or "unknown"
        provider = provider or "unknown"
        raw_usage = msg.get("usage")
        if not isinstance(raw_usage, dict):
            raw_usage = entry.get("usage")
        problems: list[str] = []
        usage_dict = raw_usage if isinstance(raw_usage, dict) else {}
        if raw_usage is not None and not isinstance(raw_usage, dict):
            problems.append(f"usage={raw_usage!r}"[:120])
        usage = normalize_usage(usage_dict, problems)
        recorded = recorded_cost(usage_dict, problems)
        api = _str(msg.get("api")) or _str(entry.get("api"))
        google_fix = _google_double_count(api, usage, usage_dict)
        if google_fix:
            usage = Usage(max(usage.input - usage.cache_read, 0), usage.output,
                          usage.cache_read, usage.cache_write)
        for problem in problems:
            self._issue(position, offset, "bad_number", problem)
        request_ts = msg.get("timestamp")
        timestamp = when or parse_time(request_ts) or self.meta.last_time
        if timestamp is None:
            self._issue(position, offset, "missing_timestamp", "call dated 1970-01-01")
            timestamp = _EPOCH
        response_id = _str(msg.get("responseId")) or _str(entry.get("responseId"))
        key_ts = request_ts if request_ts is not None else entry.get("timestamp")
        key = call_key(provider, response_id, model, key_ts, usage)
        self.batch.calls.append(Call(
            key=key, timestamp=timestamp, provider=provider, model=model, api=api, usage=usage,
            recorded_cost=recorded.total, recorded_input_cost=recorded.input,
            recorded_split=recorded.split, google_fix=google_fix,
            stop_reason=_str(msg.get("stopReason")),
            error_message=clean_text(msg.get("errorMessage"), _MAX_ERROR_TEXT),
            response_id=response_id, response_model=_str(msg.get("responseModel")),
            latency_ms=_latency(when, request_ts), entry_id=_str(entry.get("id")),
            position=position, tool_calls=_tool_calls(msg, key),
        ))

    def _tool_result(self, msg: dict[str, Any], when: datetime | None, position: int) -> None:
        call_id = _str(msg.get("toolCallId"))
        if not call_id:
            return
        details = msg.get("details")
        duration = details.get("durationMs") if isinstance(details, dict) else None
        self.batch.results.append(ToolResult(
            tool_call_id=call_id, is_error=msg.get("isError") is True,
            timestamp=parse_time(msg.get("timestamp")) or when,
            duration_ms=_non_negative_int(duration), position=position,
        ))

    def _user(self, msg: dict[str, Any], when: datetime | None, position: int) -> None:
        content = msg.get("content")
        if isinstance(content, list):  # Anthropic-style tool_result blocks (format §4.5)
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    call_id = _str(block.get("tool_use_id"))
                    if call_id:
                        self.batch.results.append(ToolResult(
                            call_id, block.get("is_error") is True, when, None, position))
        if not self.meta.user_seen:
            self.meta.user_seen = True
            self.meta.marker = self.meta.marker or _marker(_first_text(content))


def _str(value: Any) -> str | None:
    if value.__class__ is not str or not value:
        return None
    return value if len(value) <= 300 and value.isascii() else clean_text(value, 300)


def _model_name(provider: str | None, model: str | None) -> str | None:
    if model is None:
        return None
    return f"{provider}/{model}" if provider else model


def _word(value: Any) -> str | None:
    """A short identifier-like value (a reset reason), or None: never free text."""
    return value if isinstance(value, str) and _WORD.fullmatch(value) else None


def _non_negative_int(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return int(value)  # (NaN fails the comparison, so does infinity)
    return None


def _latency(when: datetime | None, request_ts: Any) -> int | None:
    """Entry time minus message.timestamp approximates the call's latency (format §4.4)."""
    start = parse_time(request_ts) if isinstance(request_ts, int | float) else None
    if when is None or start is None:
        return None
    millis = int((when - start).total_seconds() * 1000)
    return millis if 0 <= millis <= _MAX_LATENCY_MS else None


def _google_double_count(api: str | None, usage: Usage, raw: dict[str, Any]) -> bool:
    """Old Google rows counted cached tokens inside input (format §4.5, issue #15265)."""
    if api not in _GOOGLE_BUGGY_APIS or usage.cache_read <= 0:
        return False
    total = stored_total(raw)
    if total is None:
        return False
    return abs(total - (usage.input + usage.output)) <= max(1, total // 1000)


def _tool_calls(msg: dict[str, Any], key: str) -> tuple[ToolCall, ...]:
    found: list[ToolCall] = []
    content = msg.get("content")
    blocks = content if isinstance(content, list) else []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype in ("toolCall", "tool_use"):
            args = block.get("arguments") if btype == "toolCall" else block.get("input")
            found.append(_tool_call(block.get("id"), block.get("name"), args, key, len(found)))
    openai_calls = msg.get("tool_calls")
    for item in openai_calls if isinstance(openai_calls, list) else []:
        if isinstance(item, dict):
            fn = item.get("function")
            name = fn.get("name") if isinstance(fn, dict) else item.get("name")
            found.append(_tool_call(item.get("id"), name, None, key, len(found)))
    return tuple(found)


def _tool_call(call_id: Any, name: Any, args: Any, key: str, index: int) -> ToolCall:
    tool_name = _str(name) or "unknown"
    bridge = None
    if tool_name == _BRIDGE_TOOL and isinstance(args, dict) and _str(args.get("id")):
        bridge, tool_name = tool_name, _str(args.get("id")) or tool_name
    return ToolCall(_str(call_id) or f"{key}:{index}", tool_name, bridge, index)


def _first_text(content: Any) -> str:
    if isinstance(content, str):
        return content[:2000]
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                text = block.get("text")
                if isinstance(text, str):
                    return text[:2000]
    return ""


def _marker(text: str) -> Marker | None:
    """Session kind from the first user text of an orphan or archive (format §6.3)."""
    head = text[:400]
    cron = _CRON_MARKER.search(head)
    if cron:
        name = cron.group(2).strip() if cron.group(2) else None
        return Marker("cron", cron.group(1), name or None)
    if _SUBAGENT_MARKER in head:
        return Marker("subagent")
    if head.lstrip().startswith(_HEARTBEAT_MARKER):
        return Marker("heartbeat")
    return None
