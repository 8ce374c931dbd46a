"""What the writer stores: one named record per kind of row, its fields named and ordered
as the columns they fill (`bulk_insert` takes the column list from `_fields`)."""

from __future__ import annotations

from typing import Any, NamedTuple


class MessageRow(NamedTuple):
    """A `messages` row: one LLM call."""

    message_id: str
    gateway: str
    session_id: str | None
    agent_id: str | None
    timestamp: Any  # in the backend's form (`writer.time_writer`)
    role: str
    model: str | None
    provider: str | None
    api: str | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    total_tokens: int
    cost: float
    cost_source: str
    recorded_cost: float | None
    stop_reason: str | None
    is_error: bool
    error_message: str | None
    response_id: str | None
    response_model: str | None
    latency_ms: int | None
    subscription: bool
    entry_id: str | None
    source_id: int
    tool_call_count: int
    input_cost: float | None
    output_cost: float | None
    cache_read_cost: float | None
    cache_write_cost: float | None


class ToolCallRow(NamedTuple):
    """A `tool_calls` row; `is_error` and `duration_ms` None until its result is seen."""

    tool_call_id: str
    gateway: str
    tool_name: str
    bridge_name: str | None
    session_id: str | None
    message_id: str
    timestamp: Any
    call_index: int
    is_error: bool | None
    duration_ms: int | None


class ResultRow(NamedTuple):
    """A `tool_results` row: a result waiting for its call."""

    gateway: str
    session_id: str | None
    tool_call_id: str
    is_error: bool
    timestamp: Any
    duration_ms: int | None


class OccurrenceRow(NamedTuple):
    """A `message_occurrences` row: where a call was found."""

    message_id: str
    gateway: str
    source_id: int
    session_id: str | None


class EventRow(NamedTuple):
    """A `session_events` row."""

    session_id: str | None
    gateway: str
    source_id: int
    position: int
    timestamp: Any
    kind: str
    value: str | None
    tokens_before: int | None
    tokens_after: int | None


class IssueRow(NamedTuple):
    """A `parse_issues` row: bad input with its place."""

    gateway: str
    source_id: int
    path: str
    position: int
    byte_offset: int | None
    kind: str
    detail: str | None
    run_id: int


class PendingRow(NamedTuple):
    """A `pending_keys` row: a call whose owner is decided at the end of the run."""

    message_id: str
    gateway: str


class SessionStub(NamedTuple):
    """A `sessions` row as first written; `finalize` fills in the rest."""

    session_id: str
    gateway: str
    agent_id: str | None
    kind: str
    dirty: bool
