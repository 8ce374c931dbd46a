"""Typed decoding of the two commonest entries: LLM calls and tool results (issue 15).

Most lines of a transcript are well-formed assistant messages and tool results. msgspec
decodes them straight into these structs, checking every type in C and skipping what
the ingest never reads (message text, thinking, tool arguments and outputs) without
building it. `decode` answers None for any line these types do not describe exactly:
another entry type or role, a value of an unexpected type or out of range, a missing
token count, bad UTF-8 anywhere on the line, anything `orjson` would read differently.
The lenient parser (`jsonl.TranscriptParser._entry`) takes those lines, so bad input
still costs only itself and is recorded as before.

What is accepted is what the lenient parser reads the same way: pi's own usage spelling
with all four counts (its fast case, `usage.normalize_usage`), a recorded cost whose
`total` is a number in range, integers no larger than orjson keeps as integers. Two
things it leaves to the lenient parser because they need more of the entry: Google's
double-counted cache (format §4.5: needs `totalTokens`) and the Tool Search bridge
(§12.2: needs the tool's arguments).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from openclaw_telemetry.sources.usage import MAX_COUNT

_GOOGLE_BUGGY_APIS = frozenset({"google-generative-ai", "google-vertex"})
_BRIDGE_TOOL = "tool_call"

Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
# orjson turns integers beyond 64 bits into floats: those would be other values here (and
# msgspec bounds no wider than int64)
Integer = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Time = str | Integer | float | None


class Cost(msgspec.Struct):
    total: Annotated[float, msgspec.Meta(ge=0, le=MAX_COUNT)]
    input: Annotated[float, msgspec.Meta(ge=-MAX_COUNT, le=MAX_COUNT)] | None = None


class Usage(msgspec.Struct):  # (field names as pi writes them)
    input: Count
    output: Count
    cacheRead: Count
    cacheWrite: Count
    cost: Cost | None = None


class Block(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    name: str | None = None


class Assistant(msgspec.Struct, tag_field="role", tag="assistant"):
    provider: str | None = None
    model: str | None = None
    api: str | None = None
    usage: Usage | None = None
    timestamp: Time = None
    responseId: str | None = None
    stopReason: str | None = None
    errorMessage: str | None = None
    responseModel: str | None = None
    content: list[Block] | str | None = None
    tool_calls: None = None  # OpenAI's spelling: the lenient parser reads it


class Details(msgspec.Struct):
    durationMs: Integer | float | None = None


class ToolResult(msgspec.Struct, tag_field="role", tag="toolResult"):
    toolCallId: str | None = None
    isError: bool | None = None
    timestamp: Time = None
    details: Details | None = None


class Entry(msgspec.Struct):
    type: Literal["message"]
    message: Assistant | ToolResult
    timestamp: Time = None
    id: str | None = None
    provider: str | None = None
    model: str | None = None
    api: str | None = None
    usage: Usage | None = None
    responseId: str | None = None


_decoder = msgspec.json.Decoder(Entry)


def decode(line: bytes) -> Entry | None:
    """The entry on this line, or None when the lenient parser must read it."""
    if not line.isascii():  # msgspec checks the UTF-8 of the strings it keeps, not of the
        try:  # ones it skips; orjson rejects the whole line (format §9: bad UTF-8 is noted)
            line.decode()
        except UnicodeDecodeError:
            return None
    try:
        entry = _decoder.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    msg = entry.message
    if isinstance(msg, Assistant) and ((msg.api or entry.api) in _GOOGLE_BUGGY_APIS or any(
            block.name == _BRIDGE_TOOL for block in _blocks(msg))):
        return None
    return entry


def _blocks(msg: Assistant) -> list[Block]:
    return msg.content if isinstance(msg.content, list) else []
