"""The current database schema as SQLAlchemy Core tables.

The names of `sessions`, `messages` and `tool_calls` and their documented columns are a
public contract (users' SQL relies on them). Migrations in `migrations.py` produce exactly
this schema; a test compares the two. Times are naive UTC (`DateTime`), so SQLite's own
`date()` and `datetime('now', ...)` work on them (contract D4).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _gateway() -> Column[str]:
    """The gateway (OpenClaw host) a row was read from: ids are unique per gateway."""
    return Column("gateway", String, nullable=False)


sessions = Table(
    "sessions", metadata,
    Column("session_id", String, nullable=False),
    _gateway(),
    Column("agent_id", String),
    Column("session_key", String),
    Column("kind", String, nullable=False, server_default="unknown"),
    Column("start_time", DateTime),
    Column("end_time", DateTime),
    Column("model", String),
    Column("provider", String),
    Column("thinking_level", String),
    Column("total_messages", Integer, nullable=False, server_default="0"),
    Column("total_tool_calls", Integer, nullable=False, server_default="0"),
    Column("total_input_tokens", BigInteger, nullable=False, server_default="0"),
    Column("total_output_tokens", BigInteger, nullable=False, server_default="0"),
    Column("total_cache_read_tokens", BigInteger, nullable=False, server_default="0"),
    Column("total_cache_write_tokens", BigInteger, nullable=False, server_default="0"),
    Column("total_cost", Float, nullable=False, server_default="0"),
    Column("total_errors", Integer, nullable=False, server_default="0"),
    Column("estimated_cost", Float, nullable=False, server_default="0"),
    Column("unpriced_calls", Integer, nullable=False, server_default="0"),
    Column("cron_job_id", String),
    Column("cron_job_name", String),
    Column("parent_session_key", String),
    Column("parent_session_id", String),
    Column("channel", String),
    Column("label", String),
    Column("spawn_depth", Integer),
    Column("updated_at", DateTime),
    Column("dirty", Boolean, nullable=False, server_default="0"),
    PrimaryKeyConstraint("session_id", "gateway", name="pk_sessions"),
)
Index("ix_sessions_start_time", sessions.c.start_time)
Index("ix_sessions_agent", sessions.c.agent_id)
Index("ix_sessions_kind", sessions.c.kind)
Index("ix_sessions_key", sessions.c.session_key)
Index("ix_sessions_cost", sessions.c.total_cost)
Index("ix_sessions_dirty", sessions.c.dirty)

messages = Table(
    "messages", metadata,
    Column("message_id", String, nullable=False),
    _gateway(),
    Column("session_id", String, nullable=False),
    Column("agent_id", String),
    Column("timestamp", DateTime, nullable=False),
    Column("role", String, nullable=False, server_default="assistant"),
    Column("model", String),
    Column("provider", String),
    Column("api", String),
    Column("input_tokens", BigInteger, nullable=False, server_default="0"),
    Column("output_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_read_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cache_write_tokens", BigInteger, nullable=False, server_default="0"),
    Column("total_tokens", BigInteger, nullable=False, server_default="0"),
    Column("cost", Float, nullable=False, server_default="0"),
    Column("cost_source", String, nullable=False),
    Column("recorded_cost", Float),  # usage.cost.total (old Google rows: repaired, format §4.5)
    Column("stop_reason", String),
    Column("is_error", Boolean, nullable=False, server_default="0"),
    Column("error_message", Text),
    Column("response_id", String),
    Column("response_model", String),
    Column("latency_ms", Integer),
    Column("subscription", Boolean, nullable=False, server_default="0"),
    Column("entry_id", String),
    Column("source_id", Integer),
    Column("tool_call_count", Integer, nullable=False, server_default="0"),
    # the cost by kind of token (`pricing.Priced.split`): OpenClaw's recorded parts, else
    # the price table's rates; NULL where neither is known (the dashboards then split it at
    # the price library's list prices)
    Column("input_cost", Float),
    Column("output_cost", Float),
    Column("cache_read_cost", Float),
    Column("cache_write_cost", Float),
    PrimaryKeyConstraint("message_id", "gateway", name="pk_messages"),
)
Index("ix_messages_timestamp", messages.c.timestamp, messages.c.cost)
Index("ix_messages_session", messages.c.session_id, messages.c.gateway, messages.c.timestamp,
      messages.c.cost)
Index("ix_messages_model_session", messages.c.model, messages.c.session_id, messages.c.gateway,
      messages.c.timestamp)

message_occurrences = Table(
    "message_occurrences", metadata,
    Column("message_id", String, primary_key=True),
    Column("source_id", Integer, primary_key=True),
    _gateway(),
    Column("session_id", String, nullable=False),
)
Index("ix_occurrences_source", message_occurrences.c.source_id)

# Calls whose owner (contract B4) must be re-decided at the end of the run; written in the
# same transaction as the rows that made it necessary, so a crash cannot lose the work.
pending_keys = Table(
    "pending_keys", metadata,
    Column("message_id", String, nullable=False),
    _gateway(),
    PrimaryKeyConstraint("message_id", "gateway", name="pk_pending_keys"),
)

tool_calls = Table(
    "tool_calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tool_call_id", String, nullable=False),
    _gateway(),
    Column("tool_name", String, nullable=False),
    Column("bridge_name", String),
    Column("session_id", String, nullable=False),
    Column("message_id", String, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("is_error", Boolean),
    Column("duration_ms", Integer),
    # the block's place among its call's tool calls: ids can repeat inside one response
    Column("call_index", Integer, nullable=False, server_default="0"),
    UniqueConstraint("message_id", "gateway", "call_index", name="uq_tool_calls_message_index"),
)
Index("ix_tool_calls_timestamp", tool_calls.c.timestamp)
Index("ix_tool_calls_session", tool_calls.c.session_id)
Index("ix_tool_calls_name_outcome", tool_calls.c.tool_name, tool_calls.c.session_id,
      tool_calls.c.gateway, tool_calls.c.timestamp, tool_calls.c.is_error)
# Tool calls still waiting for their result: the join at the end of a run reads only these.
# The migrations' SQL makes it partial on both databases; from here only `ingest.bulk`
# builds it, on SQLite only, so no `postgresql_where`, which would load SQLAlchemy's
# PostgreSQL dialect into every command, a report's start-up too.
Index("ix_tool_calls_open", tool_calls.c.tool_call_id,
      sqlite_where=tool_calls.c.is_error.is_(None))

# Results waiting for their call, per session: tool-call ids are unique only within a
# session (some servers number them call_0, call_1, … in every response), so a waiting call
# takes the first result of its session and id at or after its own time. Rows kept from
# before m003 have session_id '' and match a call of any session.
tool_results = Table(
    "tool_results", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _gateway(),
    Column("session_id", String, nullable=False),
    Column("tool_call_id", String, nullable=False),
    Column("is_error", Boolean, nullable=False),
    Column("timestamp", DateTime),
    Column("duration_ms", Integer),
    UniqueConstraint("gateway", "session_id", "tool_call_id", "timestamp",
                     name="uq_tool_results_answer"),
)

# Turning points OpenClaw wrote into a session's transcript (format §4.3): model and
# thinking-level switches, compactions, reset boundaries, prompt errors; one row per entry
# of a source (the same entry in two copies of a transcript is told apart when read).
# `value` is a model id, a level or a reason, never message text (contract E4).
session_events = Table(
    "session_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String, nullable=False),
    _gateway(),
    Column("source_id", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("timestamp", DateTime),
    Column("kind", String, nullable=False),
    Column("value", String),
    Column("tokens_before", BigInteger),
    Column("tokens_after", BigInteger),
    UniqueConstraint("source_id", "position", name="uq_session_events_place"),
)
Index("ix_session_events_session", session_events.c.session_id, session_events.c.timestamp)

sources = Table(
    "sources", metadata,
    Column("source_id", Integer, primary_key=True, autoincrement=True),
    _gateway(),
    Column("path", Text, nullable=False),
    Column("rel_path", Text, nullable=False),
    Column("kind", String, nullable=False),
    Column("agent_id", String),
    Column("session_id", String),
    Column("device", BigInteger),
    Column("inode", BigInteger),
    Column("size", BigInteger, nullable=False, server_default="0"),
    Column("mtime_ns", BigInteger, nullable=False, server_default="0"),
    Column("read_offset", BigInteger, nullable=False, server_default="0"),
    Column("line_no", Integer, nullable=False, server_default="0"),
    Column("head_hash", String),
    Column("tail_hash", String),
    Column("present", Boolean, nullable=False, server_default="1"),
    Column("header_time", DateTime),
    Column("first_time", DateTime),
    Column("last_time", DateTime),
    Column("thinking_level", String),
    Column("thinking_time", DateTime),
    Column("parent_session", Text),
    Column("marker_kind", String),
    Column("marker_cron_job_id", String),
    Column("marker_cron_job_name", String),
    Column("user_seen", Boolean, nullable=False, server_default="0"),
    Column("model_state", String),
    Column("provider_state", String),
    Column("first_seen_at", DateTime),
    Column("last_read_at", DateTime),
    UniqueConstraint("gateway", "path", name="uq_sources_path"),
)
Index("ix_sources_session", sources.c.session_id)
Index("ix_sources_inode", sources.c.device, sources.c.inode)

session_attribution = Table(
    "session_attribution", metadata,
    Column("session_id", String, nullable=False),
    _gateway(),
    Column("agent_id", String),
    Column("session_key", String),
    Column("kind", String),
    Column("cron_job_id", String),
    Column("cron_job_name", String),
    Column("parent_session_key", String),
    Column("channel", String),
    Column("label", String),
    Column("spawn_depth", Integer),
    Column("learned_from", String),
    Column("updated_at", DateTime),
    PrimaryKeyConstraint("session_id", "gateway", name="pk_session_attribution"),
)
Index("ix_attribution_key", session_attribution.c.session_key)

cron_jobs = Table(
    "cron_jobs", metadata,
    Column("job_id", String, nullable=False),
    _gateway(),
    Column("agent_id", String),
    Column("name", String),
    Column("schedule", String),
    Column("updated_at", DateTime),
    PrimaryKeyConstraint("job_id", "gateway", name="pk_cron_jobs"),
)

ingest_runs = Table(
    "ingest_runs", metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    _gateway(),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String, nullable=False),
    Column("changed", Boolean, nullable=False, server_default="0"),
    Column("sources_read", Integer, nullable=False, server_default="0"),
    Column("new_calls", Integer, nullable=False, server_default="0"),
    Column("issues", Integer, nullable=False, server_default="0"),
    Column("summary_json", Text),
)

parse_issues = Table(
    "parse_issues", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _gateway(),
    Column("source_id", Integer, nullable=False),
    Column("path", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("byte_offset", BigInteger),
    Column("kind", String, nullable=False),
    Column("detail", Text),
    Column("run_id", Integer),
    UniqueConstraint("source_id", "position", "kind", name="uq_parse_issues_place"),
)
Index("ix_parse_issues_run", parse_issues.c.run_id)

# Calls summed per 15-minute UTC bucket (start, naive UTC), gateway, agent, model, provider and the
# owning session's kind (NULL: no session row), kept equal to a GROUP BY over `messages` by
# the end of every ingest run (`usage.refresh`). Every real zone offset is a multiple of 15
# minutes, so each bucket lies inside one local hour: hourly reads need not scan the calls.
usage_quarter_hours = Table(
    "usage_quarter_hours", metadata,
    Column("bucket", DateTime, nullable=False),
    _gateway(),
    Column("agent", String, nullable=False),
    Column("model", String, nullable=False),
    Column("provider", String, nullable=False),
    Column("kind", String),
    Column("calls", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("input", BigInteger, nullable=False),
    Column("output", BigInteger, nullable=False),
    Column("cache_read", BigInteger, nullable=False),
    Column("cache_write", BigInteger, nullable=False),
    Column("cost", Float, nullable=False),
    Column("estimated_cost", Float, nullable=False),
    Column("unpriced_calls", Integer, nullable=False),
    Column("unpriced_tokens", BigInteger, nullable=False),
    Column("subscription_cost", Float, nullable=False),
    Column("tool_calls", Integer, nullable=False),
)
Index("ix_usage_bucket", usage_quarter_hours.c.bucket)

meta = Table(
    "meta", metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

# One row per notification episode and delivery target: an alert rule firing on a subject at
# a severity (`alert|rule|subject|severity`; a session subject is `id@gateway` when the database
# holds several gateways) or a budget reaching a fraction in a period
# (`budget|name|period start|fraction`). `target` is a hash of the Apprise URL and
# `target_label` Apprise's privacy form of it: the URL's secrets are never stored. A runner
# sends only what it claimed with a conditional INSERT/UPDATE of `state` (sending, sent,
# failed, resolving, resolved, resolve_failed), so two runners never send the same thing.
notifications = Table(
    "notifications", metadata,
    Column("episode", String, primary_key=True),
    Column("target", String, primary_key=True),
    Column("target_label", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("claimed_at", DateTime),
    Column("sent_at", DateTime),
    Column("resolved_at", DateTime),
    Column("updated_at", DateTime, nullable=False),
    Column("error", Text),
)
Index("ix_notifications_state", notifications.c.state)
