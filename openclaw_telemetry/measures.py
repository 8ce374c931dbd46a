"""SQL expressions for call measures, shared by the ingest (roll-up upkeep) and the
queries. No pandas here: the parser imports this module and must start fast.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, literal

from openclaw_telemetry.schema import messages, sessions

M = messages.c
S = sessions.c


def flag(column: Any) -> ColumnElement[int]:
    """1 where a boolean column is true, else 0 (NULL: NULL, which SUM skips)."""
    return cast(column, Integer)


def where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where a condition holds, else 0."""
    return case((condition, 1), else_=0)


def total(expression: Any) -> ColumnElement[Any]:
    """SUM that is 0, not NULL, over no rows."""
    return func.coalesce(func.sum(expression), 0)


def session_label() -> ColumnElement[Any]:
    """A session's label as every page, report and message shows it: OpenClaw's label,
    else "Cron: <job name>" for a cron run OpenClaw left unlabelled (it labels only the
    job's latest run; the earlier ones keep a bare run key), else NULL. OpenClaw 2026.9
    labels that latest run "Automation: <job name>" (2026.7 "Cron: …"): it reads
    "Cron: <job name>" too, or one job's runs would read as two jobs side by side."""
    cron = literal("Cron: ") + S.cron_job_name
    return case((S.label == literal("Automation: ") + S.cron_job_name, cron),
                else_=func.coalesce(S.label, cron))


def session_name(session_id: Any = S.session_id) -> ColumnElement[Any]:
    """A session's name: its label (`session_label`), else its key, else its id."""
    return func.coalesce(session_label(), S.session_key, session_id)


def tokens() -> ColumnElement[int]:
    """A call's total tokens as the accounting contract counts them (C1)."""
    return M.input_tokens + M.output_tokens + M.cache_read_tokens + M.cache_write_tokens


def token_sums() -> list[ColumnElement[Any]]:
    return [total(M.input_tokens).label("input"), total(M.output_tokens).label("output"),
            total(M.cache_read_tokens).label("cache_read"),
            total(M.cache_write_tokens).label("cache_write")]


def call_dimensions() -> list[ColumnElement[str]]:
    """agent, model, provider of a call as the roll-up keys them ("(none)" when missing)."""
    return [func.coalesce(M.agent_id, "(none)").label("agent"),
            func.coalesce(M.model, "(none)").label("model"),
            func.coalesce(M.provider, "(none)").label("provider")]


_SEP = "\x1f"  # between the parts of a job's text: no gateway, agent or name holds it


def cron_job() -> ColumnElement[str]:
    """A cron session's job, as one text the pages group by and colour by: its gateway and
    job id (ids are unique per gateway, openclaw-format §6), else, for a run whose id was
    never learned, its gateway, agent and name. Never its name alone: names are free text,
    and two agents or two gateways may each have an "hourly-tick"."""
    unknown = literal(f"name{_SEP}") + func.coalesce(S.agent_id, "") + literal(_SEP) + \
        func.coalesce(S.cron_job_name, "")
    return S.gateway + literal(_SEP) + func.coalesce(literal(f"id{_SEP}") + S.cron_job_id,
                                                     unknown)


def cron_job_name() -> ColumnElement[str]:
    """A cron session's job as a person reads it: its name, else its id."""
    return func.coalesce(S.cron_job_name, S.cron_job_id, "(unnamed job)")


def call_measures() -> list[ColumnElement[Any]]:
    """The measures of `queries.call_rollup` (and the `usage_quarter_hours` columns)."""
    estimated, unpriced = M.cost_source == "estimated", M.cost_source == "unpriced"
    return [func.count().label("calls"), total(flag(M.is_error)).label("errors"),
            *token_sums(), total(M.cost).label("cost"),
            total(M.cost * where(estimated)).label("estimated_cost"),
            total(where(unpriced)).label("unpriced_calls"),
            total(tokens() * where(unpriced)).label("unpriced_tokens"),
            total(M.cost * flag(M.subscription)).label("subscription_cost"),
            total(M.tool_call_count).label("tool_calls")]
