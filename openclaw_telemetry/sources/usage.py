"""Normalising the many spellings of `usage` into OpenClaw's meaning (format §4.5).

`input` excludes cached tokens; `cache_read` and `cache_write` are separate; `output`
includes reasoning. OpenAI-style cached counts are part of the prompt count and are
subtracted from it, as OpenClaw's `normalizeUsage` does.
"""

from __future__ import annotations

import math
from typing import Any

from openclaw_telemetry.model import Usage

_INPUT = ("input", "inputTokens", "input_tokens", "prompt_tokens", "promptTokens")
_OUTPUT = ("output", "outputTokens", "output_tokens", "completion_tokens", "completionTokens")
_CACHE_READ = ("cacheRead", "cache_read", "cacheReadTokens", "cache_read_tokens",
               "cache_read_input_tokens", "cacheReadInputTokens")
_CACHE_WRITE = ("cacheWrite", "cache_write", "cacheWriteTokens", "cache_write_tokens",
                "cache_creation_input_tokens", "cacheCreationInputTokens")
# Cached counts that OpenAI-style APIs include in the prompt count.
_OPENAI_CACHED = ("cached_tokens", "cachedTokens")
_OPENAI_DETAILS = ("prompt_tokens_details", "input_tokens_details")


MAX_COUNT = 2**53  # larger counts are corrupt data (and would overflow a 64-bit column)


class BadNumber(ValueError):
    """A usage field holds something that is not a non-negative finite number."""


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadNumber(f"{name}={value!r}")
    if not math.isfinite(value) or value < 0 or value > MAX_COUNT:
        raise BadNumber(f"{name}={value!r}"[:120])
    return float(value)


def _first(usage: dict[str, Any], names: tuple[str, ...], problems: list[str]) -> int | None:
    for name in names:
        if name in usage and usage[name] is not None:
            try:
                return int(_number(usage[name], name))
            except BadNumber as exc:
                problems.append(str(exc))
                return 0
    return None


def _openai_cached(usage: dict[str, Any], problems: list[str]) -> int | None:
    found = _first(usage, _OPENAI_CACHED, problems)
    if found is not None:
        return found
    for details_name in _OPENAI_DETAILS:
        details = usage.get(details_name)
        if isinstance(details, dict):
            found = _first(details, _OPENAI_CACHED, problems)
            if found is not None:
                return found
    return None


def normalize_usage(usage: dict[str, Any], problems: list[str]) -> Usage:
    """Return the four token counts; bad numbers count as 0 and are added to `problems`."""
    i, o, r, w = (usage.get("input"), usage.get("output"), usage.get("cacheRead"),
                  usage.get("cacheWrite"))
    if (type(i) is int and type(o) is int and type(r) is int and type(w) is int
            and 0 <= i <= MAX_COUNT and 0 <= o <= MAX_COUNT and 0 <= r <= MAX_COUNT
            and 0 <= w <= MAX_COUNT):  # pi's own spelling: the common case
        return Usage(i, o, r, w)
    inp = _first(usage, _INPUT, problems) or 0
    out = _first(usage, _OUTPUT, problems) or 0
    cache_read = _first(usage, _CACHE_READ, problems)
    cache_write = _first(usage, _CACHE_WRITE, problems) or 0
    if cache_read is None:
        cached = _openai_cached(usage, problems)
        if cached is not None:
            cache_read = cached
            inp = max(inp - cached, 0)
    return Usage(inp, out, cache_read or 0, cache_write)


def recorded_cost(usage: dict[str, Any], problems: list[str]) -> tuple[float | None, float | None]:
    """The recorded `cost.total` and `cost.input`, or None where absent or not a number."""
    cost = usage.get("cost")
    if cost.__class__ is dict:  # the common case: {"total": 0.0123, "input": …}
        total, part = cost.get("total"), cost.get("input")
        if (total.__class__ is float and 0 <= total <= MAX_COUNT
                and (part is None or part.__class__ is float)):
            return total, part
    if isinstance(cost, bool) or cost is None:
        return None, None
    if isinstance(cost, int | float):
        return _checked(cost, "cost", problems), None
    if not isinstance(cost, dict):
        problems.append(f"cost={cost!r}"[:120])
        return None, None
    total = _checked(cost.get("total"), "cost.total", problems)
    part = cost.get("input")
    part_value = float(part) if isinstance(part, int | float) and not isinstance(part, bool) else None
    return total, part_value


def _checked(value: Any, name: str, problems: list[str]) -> float | None:
    if value is None:
        return None
    try:
        return _number(value, name)
    except BadNumber as exc:
        problems.append(str(exc)[:120])
        return None


def stored_total(usage: dict[str, Any]) -> int | None:
    value = usage.get("totalTokens", usage.get("total_tokens"))
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value)
    return None
