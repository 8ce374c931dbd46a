"""Normalising the many spellings of `usage` into OpenClaw's meaning (format §4.5).

`input` excludes cached tokens; `cache_read` and `cache_write` are separate; `output`
includes reasoning. The rules follow OpenClaw's own `normalizeUsage` (src/agents/usage.ts,
2026.9): the first spelling present wins, and a prompt count that includes the cache is
reduced to the uncached part. OpenAI-style cached counts (`cached_tokens`, also inside
`input_tokens_details`/`prompt_tokens_details`) are always inside the prompt count; a CLI's
`cached_input_tokens`/`cached` and the cache-write spellings of OpenAI-style details are
inside it unless the entry has pi's own `input`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from openclaw_telemetry.model import Split, Usage

_INPUT = ("input", "inputTokens", "input_tokens", "promptTokens", "prompt_tokens", "prompt_n")
_OUTPUT = ("output", "outputTokens", "output_tokens", "completionTokens", "completion_tokens",
           "predicted_n")
_CACHE_READ = ("cacheRead", "cache_read", "cache_read_input_tokens", "cached_input_tokens",
               "cached", "cached_tokens", "cacheReadTokens", "cache_read_tokens",
               "cacheReadInputTokens")
_CACHE_WRITE = ("cacheWrite", "cache_write", "cache_creation_input_tokens",
                "cache_write_input_tokens", "cacheWriteTokens", "cache_write_tokens",
                "cacheCreationInputTokens")
_DETAILS = ("input_tokens_details", "prompt_tokens_details")  # OpenAI Responses, Chat
_DETAIL_READ = ("cached_tokens",)
_DETAIL_WRITE = ("cache_write_tokens", "cache_creation_input_tokens")
_TIMINGS = "timings"  # llama.cpp: prompt_n / predicted_n
# Spellings whose count is part of the prompt count (see the module docstring).
_READ_IN_PROMPT = ("cached_tokens",)
_CLI_READ_IN_PROMPT = ("cached_input_tokens", "cached")
_WRITE_IN_PROMPT = ("cache_write_input_tokens",)


MAX_COUNT = 2**53  # larger counts are corrupt data (and would overflow a 64-bit column)


class BadNumber(ValueError):
    """A usage field holds something that is not a non-negative finite number."""


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadNumber(f"{name}={value!r}")
    if not 0 <= value <= MAX_COUNT:  # NaN and infinity fail it too; an int never overflows it
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


def _has(usage: dict[str, Any], names: tuple[str, ...]) -> bool:
    return any(usage.get(name) is not None for name in names)


def normalize_usage(usage: dict[str, Any], problems: list[str]) -> Usage:
    """Return the four token counts; bad numbers count as 0 and are added to `problems`."""
    i, o, r, w = (usage.get("input"), usage.get("output"), usage.get("cacheRead"),
                  usage.get("cacheWrite"))
    if (type(i) is int and type(o) is int and type(r) is int and type(w) is int
            and 0 <= i <= MAX_COUNT and 0 <= o <= MAX_COUNT and 0 <= r <= MAX_COUNT
            and 0 <= w <= MAX_COUNT):  # pi's own spelling: the common case
        return Usage(i, o, r, w)
    details = [d for d in (usage.get(name) for name in _DETAILS) if isinstance(d, dict)]
    timings = usage.get(_TIMINGS)
    timings = timings if isinstance(timings, dict) else {}
    places = (usage, *details)
    cache_read = _first_of(places, (_CACHE_READ, *[_DETAIL_READ] * len(details)), problems)
    cache_write = _first_of(places, (_CACHE_WRITE, *[_DETAIL_WRITE] * len(details)), problems)
    prompt = _first_of((usage, timings), (_INPUT, ("prompt_n",)), problems)
    out = _first_of((usage, timings), (_OUTPUT, ("predicted_n",)), problems)
    direct = usage.get("input") is not None
    if prompt is not None:
        if _has(usage, _READ_IN_PROMPT) or any(_has(d, _DETAIL_READ) for d in details) or (
                not direct and _has(usage, _CLI_READ_IN_PROMPT)):
            prompt -= cache_read or 0
        if not direct and (_has(usage, _WRITE_IN_PROMPT)
                           or any(_has(d, _DETAIL_WRITE) for d in details)):
            prompt -= cache_write or 0
    return Usage(max(prompt or 0, 0), out or 0, cache_read or 0, cache_write or 0)


def _first_of(places: tuple[dict[str, Any], ...], names: tuple[tuple[str, ...], ...],
              problems: list[str]) -> int | None:
    """The first spelling present, looking in each place with its names in turn."""
    for place, spellings in zip(places, names, strict=True):
        found = _first(place, spellings, problems)
        if found is not None:
            return found
    return None


class Recorded(NamedTuple):
    """What a call's `usage.cost` says: its total, its input part (for the repair of old
    Google rows) and its split by kind when the four parts add up to the total."""

    total: float | None
    input: float | None
    split: Split | None


_PARTS = ("input", "output", "cacheRead", "cacheWrite")


def recorded_cost(usage: dict[str, Any], problems: list[str]) -> Recorded:
    """The recorded `cost.total`, `cost.input` and split, None where absent or not a
    number (only a bad total is a problem: the parts are extra)."""
    cost = usage.get("cost")
    if cost.__class__ is dict:  # the common case: {"total": 0.0123, "input": …}
        total, part = cost.get("total"), cost.get("input")
        if (total.__class__ is float and 0 <= total <= MAX_COUNT
                and (part is None or part.__class__ is float)):
            return Recorded(total, part, _split(cost, total))
    if isinstance(cost, bool) or cost is None:
        return Recorded(None, None, None)
    if isinstance(cost, int | float):
        return Recorded(_checked(cost, "cost", problems), None, None)
    if not isinstance(cost, dict):
        problems.append(f"cost={cost!r}"[:120])
        return Recorded(None, None, None)
    total = _checked(cost.get("total"), "cost.total", problems)
    part = cost.get("input")
    part_value = (float(part) if isinstance(part, int | float) and not isinstance(part, bool)
                  and abs(part) <= MAX_COUNT else None)
    return Recorded(total, part_value, None if total is None else _split(cost, total))


def _split(cost: dict[str, Any], total: float) -> Split | None:
    """The four parts (a missing one is 0) when each is a number from 0 to MAX_COUNT and
    together they make the total (to a millionth of it: they are rounded apart)."""
    parts = [cost.get(name, 0) for name in _PARTS]
    if not all(p.__class__ in (float, int) and 0 <= p <= MAX_COUNT for p in parts):
        return None
    inp, out, read, write = (float(p) for p in parts)
    if abs(inp + out + read + write - total) > 1e-12 + 1e-6 * total:
        return None
    return inp, out, read, write


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
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= MAX_COUNT:
        return int(value)
    return None
