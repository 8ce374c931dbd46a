"""Frozen records passed from the source readers to the ingest engine.

Readers are pure: bytes in, these records out. Nothing here touches a database. The
per-call records are named tuples: cheap to build and to pickle (a cold ingest makes
hundreds of thousands and hands them from the parsing process to the writing one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

# OpenClaw's thinking levels, least first (`thinking_level_change`, docs/openclaw-format.md
# §4.3): the order charts and tables show them in
THINKING_LEVELS = ("off", "minimal", "low", "medium", "high", "xhigh")

# Decimals of the US dollar amounts reports and exports print: a billionth of a dollar,
# below any price per token, above the float noise of adding the same costs in another
# order (one total read …05000007 per session, …05000003 per model; 0.1 + 0.2 …04)
COST_DECIMALS = 9

# Session kinds as stored (`sources.attribution` decides them; rules and budgets filter by them)
SESSION_KINDS = ("main", "direct", "group", "channel", "thread", "cron", "subagent",
                 "heartbeat", "acp", "hook", "dashboard", "unknown")


class SourceKind(StrEnum):
    """Where a transcript came from; the value is shown to users and stored."""

    PRIMARY = "file:primary"
    RESET = "file:reset"
    DELETED = "file:deleted"
    BAK = "file:bak"
    COLD = "file:cold"
    IMPORT_ARCHIVE = "file:import-archive"
    SQLITE = "sqlite:transcript_events"


class CostSource(StrEnum):
    RECORDED = "recorded"
    ESTIMATED = "estimated"
    UNPRICED = "unpriced"


class Usage(NamedTuple):
    """Token counts in OpenClaw's meaning: input excludes cached tokens (contract C1)."""

    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_read + self.cache_write


class ToolCall(NamedTuple):
    tool_call_id: str
    tool_name: str
    bridge_name: str | None = None
    place: int = 0  # its place among the call's tool calls (ids may repeat)


class ToolResult(NamedTuple):
    tool_call_id: str
    is_error: bool
    timestamp: datetime | None
    duration_ms: int | None
    position: int  # line (or seq) in its transcript: a result answers the call before it


Split = tuple[float, float, float, float]  # a cost by kind of token: input, output, cache
# read, cache write (US$)


class Call(NamedTuple):
    """One LLM call as stored in one place; `key` is its identity across copies (B3)."""

    key: str
    timestamp: datetime
    provider: str
    model: str
    api: str | None
    usage: Usage
    recorded_cost: float | None
    recorded_input_cost: float | None
    recorded_split: Split | None  # the recorded cost by kind, when its parts add up
    google_fix: bool
    stop_reason: str | None
    error_message: str | None
    response_id: str | None
    response_model: str | None
    latency_ms: int | None
    entry_id: str | None
    position: int
    tool_calls: tuple[ToolCall, ...] = ()


class SessionEvent(NamedTuple):
    """A turning point OpenClaw wrote into a transcript (format §4.3): a model or thinking
    level switch, a compaction, a reset boundary, a prompt error. `value` is a model id,
    a level or a reason, never message text (contract E4)."""

    kind: str
    timestamp: datetime | None
    position: int
    value: str | None = None
    tokens_before: int | None = None
    tokens_after: int | None = None


class ParseIssue(NamedTuple):
    """A problem in the input that cost only itself (contract E3)."""

    position: int
    byte_offset: int | None
    kind: str
    detail: str


@dataclass(slots=True)
class Marker:
    """Attribution learned from transcript text (format §6.3); never stores the text."""

    kind: str
    cron_job_id: str | None = None
    cron_job_name: str | None = None


@dataclass(slots=True)
class SessionMeta:
    """What a source says about its session besides calls; merged across sources."""

    session_id: str | None = None
    header_time: datetime | None = None
    first_time: datetime | None = None
    last_time: datetime | None = None
    thinking_level: str | None = None
    thinking_time: datetime | None = None
    parent_session: str | None = None
    marker: Marker | None = None
    user_seen: bool = False


@dataclass(slots=True)
class Batch:
    """Everything one slice of a source produced."""

    calls: list[Call] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)
    events: list[SessionEvent] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
