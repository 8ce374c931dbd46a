"""What drove a session's cost: a few rules over the figures of `session_story`.

The stories users chase are few: a few calls far dearer than the rest (most often calls
that missed the cache), calls after a pause the cache did not outlive, context that grew
with every turn, a cache that stopped hitting, a tool loop, a sub-agent fan-out, a switch
to an expensive model or a high thinking level, failed calls that were billed. Each rule
looks at numbers only (never text) and, when it holds, says so in one sentence with the
numbers that show it, weighted by the share of the cost it concerns, so the page can list
the strongest first. `RULES` says what each looks for, so that a page with no finding
claims only what was checked.

A call that must fill the cache anew (the session's first, the first after a compaction,
a reset, a model switch or a change of thinking level) misses it in every session and
nothing avoids it: it is never a finding by itself.

A pause is the time since the last call that reached the provider's cache, which is the
last call billed for a prompt (input, cache read or cache write above 0), whether it
succeeded or not. A provider keeps a cache for a while after its last use: a call that
read it renews it, one that wrote it starts it anew, and OpenAI caches every prompt it is
sent without ever saying so (its `cacheWrite` is always 0, format §4.5), so any call
billed for a prompt touched the cache. A call that failed before the provider read its
prompt touched nothing: `error` stubs, which usually have all-zero usage, and `aborted`
streams cut before any usage event (§4.5, §8); the pause before a call that follows one
runs on from the call before the failure. An `aborted` Anthropic stream that carries the
input and cache counts of its `message_start` was billed for them (§4.5): it read or
wrote the cache like any other call, and counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from openclaw_telemetry.read.session_story import (
    session_markers,
    session_timeline,
    session_tool_calls,
    session_tree,
)
from openclaw_telemetry.ui import format as fmt

Finding = tuple[str, float, str]  # rule, weight (share of cost concerned), sentence
HIGH_THINKING = frozenset({"high", "xhigh", "max"})
MISSED = 0.5  # a call that read less than this share of its context from the cache missed it
SPIKE = 3  # a spike costs more than this many times the median of the calls around it
AROUND = 11  # the calls around a call: itself and 5 on each side
# How long a provider keeps a cache after its last use: Anthropic's default (OpenAI's lasts
# 5 to 10 min), and an hour with OpenClaw's `cacheRetention: "long"`.
LIFETIMES = (pd.Timedelta(minutes=5), pd.Timedelta(hours=1))
# Turning points after which the cache holds nothing to read: a compaction or a reset
# rewrites the context, another model has its own cache, and Anthropic drops the cached
# messages when the thinking budget changes.
REFILLS = frozenset({"compaction", "reset", "model_switch", "thinking_switch"})


class Figures(NamedTuple):
    """What the rules read: the session's calls, markers, tool calls and sub-agent tree."""

    timeline: pd.DataFrame
    marks: pd.DataFrame
    tools: pd.DataFrame
    tree: pd.DataFrame


# Each rule with what it looks for, in words a page can list when none of them holds.
RULES: tuple[tuple[str, Callable[[Figures], Finding | None]], ...] = (
    ("a few calls far dearer than those around them (not those that must fill the cache "
     "anew, as a session's first does)",
     lambda f: _spikes(f.timeline, f.marks)),
    ("calls that missed a cache expired during a pause", lambda f: _expired(f.timeline, f.marks)),
    ("context that grew and made the later calls dearer",
     lambda f: _context_growth(f.timeline)),
    ("last calls that cost clearly more than their share", lambda f: _tail(f.timeline)),
    ("a cache that stopped hitting, rarely hit or was never read", lambda f: _cache(f.timeline)),
    ("a model that cost clearly more than its share of the calls", lambda f: _models(f.timeline)),
    ("a high thinking level", lambda f: _thinking(f.timeline, f.marks)),
    ("failed calls that were billed", lambda f: _failures(f.timeline)),
    ("a tool loop", lambda f: _tool_loop(f.tools, f.timeline)),
    ("compactions", lambda f: _compactions(f.marks)),
    ("sub-agents that cost a fifth of the tree or more", lambda f: _fan_out(f.timeline, f.tree)),
)


def cost_drivers(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """Findings about the session (its id on its gateway), strongest first. Columns: rule,
    weight (0..1: the share of the cost the finding concerns), text. Empty when no rule
    holds."""
    sid, gw = session_id, gateway
    return drivers(session_timeline(engine, session_id=sid, gateway=gw),
                   session_markers(engine, session_id=sid, gateway=gw),
                   session_tool_calls(engine, session_id=sid, gateway=gw),
                   session_tree(engine, session_id=sid, gateway=gw))


def drivers(timeline: pd.DataFrame, marks: pd.DataFrame, tools: pd.DataFrame,
            tree: pd.DataFrame) -> pd.DataFrame:
    """The rules, on the figures (a pure function: the tests feed it frames)."""
    figures = Figures(timeline, marks, tools, tree)
    found = [f for f in (rule(figures) for _, rule in RULES) if f is not None]
    out = pd.DataFrame(found, columns=["rule", "weight", "text"])
    return out.sort_values("weight", ascending=False, kind="stable", ignore_index=True)


def _pct(value: float) -> str:
    return fmt.percent(value, 0)  # "67%", as the pages show shares


def _total(timeline: pd.DataFrame) -> float:
    return float(timeline["cost"].sum())


def _share(timeline: pd.DataFrame, mask: pd.Series) -> float:
    total = _total(timeline)
    return float(timeline.loc[mask, "cost"].sum()) / total if total > 0 else 0.0


def _stands_out(timeline: pd.DataFrame, calls: pd.Series, least: float) -> float | None:
    """The share of the cost of `calls` when it is at least `least` and clearly more than
    their share of the calls (else they cost what any calls would)."""
    share = _share(timeline, calls)
    if share < least or share < 1.5 * int(calls.sum()) / len(timeline):
        return None
    return share


def _missed(timeline: pd.DataFrame) -> pd.Series:
    return timeline["cache_hit"] < MISSED


def _refills(timeline: pd.DataFrame, marks: pd.DataFrame) -> pd.Series:
    """The calls that missed the cache because it held nothing yet (the module's docstring):
    the first that sent a context from the start and from each of REFILLS (a call that
    failed before sending one filled nothing)."""
    starts = [1, *marks.loc[marks["kind"].isin(list(REFILLS)), "n"].dropna().astype(int)]
    sent = timeline.loc[timeline["context"] > 0, "n"].to_numpy()
    at = np.searchsorted(sent, starts)
    return _missed(timeline) & timeline["n"].isin(list(sent[at[at < len(sent)]]))


def _pauses(timeline: pd.DataFrame) -> pd.Series:
    """The time since the last call before that reached the cache, being billed for a
    prompt (the module's docstring; NaT when none did)."""
    when = pd.to_datetime(timeline["timestamp"])
    return when - when.where(timeline["context"] > 0).shift().ffill()


def _expired_calls(timeline: pd.DataFrame, marks: pd.DataFrame) -> pd.Series:
    """Calls that missed the cache after a pause longer than it lives, where an earlier
    call had used it (a provider that caches nothing has none to lose). It lives the
    shortest of LIFETIMES that the session's calls show: one that read the cache after a
    longer pause shows it was kept longer (at least that pause)."""
    pauses, missed = _pauses(timeline), _missed(timeline)
    kept = pauses[~missed & (timeline["cache_read"] > 0)].max()  # the longest it outlived
    life = LIFETIMES[0] if pd.isna(kept) else next((t for t in LIFETIMES if kept <= t), kept)
    used = (timeline["cache_read"] + timeline["cache_write"]).cumsum().shift(fill_value=0) > 0
    return missed & used & (pauses > life) & ~_refills(timeline, marks)


def _spikes(timeline: pd.DataFrame, marks: pd.DataFrame) -> Finding | None:
    """The few calls that stand out in the per-call chart: each over SPIKE times the median
    of the calls around it, together at least a fifth of the cost and clearly more than
    their share of the calls; named by the cache when they missed it. Calls that filled
    the cache anew, or missed one a pause expired (`_expired` says them), are no spikes."""
    cost = timeline["cost"]
    spikes = cost > SPIKE * cost.rolling(AROUND, center=True, min_periods=1).median()
    spikes &= ~_refills(timeline, marks) & ~_expired_calls(timeline, marks)
    share = _stands_out(timeline, spikes, 0.2)
    if share is None:
        return None
    count, missed = int(spikes.sum()), spikes & _missed(timeline)
    calls = fmt.counted(count, "call")
    if int(missed.sum()) == count:
        return ("spikes", share, f"{calls} that missed the cache ({_uncached(timeline[missed])})"
                                 f" cost {_pct(share)}")
    each = "each " if count > 1 else ""
    text = f"{calls} cost {_pct(share)}, {each}over {SPIKE}× the calls around it"
    if missed.any():
        text += (f"; {int(missed.sum()):,} of them missed the cache "
                 f"({_uncached(timeline[missed])})")
    return ("spikes", share, text)


def _expired(timeline: pd.DataFrame, marks: pd.DataFrame) -> Finding | None:
    """Calls that missed a cache a pause let expire, with the pauses: from a tenth of the
    cost and clearly more than their share of the calls (cheap ones lost nothing)."""
    expired = _expired_calls(timeline, marks)
    share = _stands_out(timeline, expired, 0.1)
    if share is None:
        return None
    minutes = _pauses(timeline)[expired].dt.total_seconds().floordiv(60)  # enough here
    low, high = (fmt.duration(60 * float(m)) for m in (minutes.min(), minutes.max()))
    after = f"after a pause of {low}" if len(minutes) == 1 else \
        f"after pauses of {low} to {high}" if low != high else f"after pauses of {low}"
    return ("cache_expired", share,
            f"{fmt.counted(len(minutes), 'call')} {after} missed the expired cache "
            f"({_uncached(timeline[expired])}) and cost {_pct(share)}")


def _uncached(calls: pd.DataFrame) -> str:
    """What calls that missed the cache paid for: the context they wrote to it, or sent as
    plain input where the provider writes nothing (whichever is more)."""
    written, plain = int(calls["cache_write"].sum()), int(calls["input"].sum())
    if written >= plain:
        return f"wrote {fmt.count(written)} tokens to it"
    return f"{fmt.count(plain)} tokens of context at the full input price"


def _context_growth(timeline: pd.DataFrame) -> Finding | None:
    """Context that grew at least 3× and made the later calls dearer: the second half of
    the calls cost more than the first (a move to a cheaper model can undo the growth)."""
    context = timeline["context"][timeline["context"] > 0]
    if len(context) < 10:
        return None
    tenth = max(len(context) // 10, 1)
    first, last = float(context.iloc[:tenth].median()), float(context.iloc[-tenth:].median())
    if first <= 0 or last < 3 * first:
        return None
    later = _share(timeline, timeline["n"] > len(timeline) // 2)
    if later <= 0.5:
        return None
    return ("context_growth", later,
            f"context grew {last / first:.0f}× over {len(timeline):,} calls "
            f"(from {first:,.0f} to {last:,.0f} tokens per call); the second half of the "
            f"calls cost {_pct(later)}")


def _tail(timeline: pd.DataFrame) -> Finding | None:
    count = len(timeline)
    if count < 20:
        return None
    tail = min(100, count // 5) if count >= 500 else count // 5
    share = _share(timeline, timeline["n"] > count - tail)
    if share < 1.5 * tail / count:  # clearly more than its share of the calls
        return None
    return ("tail", share, f"the last {tail:,} calls cost {_pct(share)}")


def _cache(timeline: pd.DataFrame) -> Finding | None:
    context = timeline["context"]
    if len(timeline) < 6 or context.sum() == 0:
        return None
    half = len(timeline) // 2
    rate = [float(part["cache_read"].sum()) / max(float(part["context"].sum()), 1.0)
            for part in (timeline.iloc[:half], timeline.iloc[half:])]
    overall = float(timeline["cache_read"].sum()) / float(context.sum())
    if rate[0] >= 0.5 and rate[1] <= rate[0] - 0.3:
        low = timeline.iloc[half:]
        start = int(low["n"].iloc[int(np.argmax((low["cache_hit"].fillna(0) < MISSED).to_numpy()))])
        return ("cache_stopped", _share(timeline, timeline["n"] >= start),
                f"the cache stopped hitting around call {start:,}: hit rate "
                f"{_pct(rate[0])} in the first half, {_pct(rate[1])} in the second")
    if overall < 0.3 and float(context.median()) >= 10_000:
        return ("cache_cold", 0.5, f"the cache rarely hit: {_pct(overall)} of the context "
                                   "was read from cache" if overall > 0 else
                "the cache was never read: none of the context of the "
                f"{len(timeline):,} calls came from it")
    return None


def _models(timeline: pd.DataFrame) -> Finding | None:
    if timeline["model"].nunique() < 2:
        return None
    per = timeline.groupby("model").agg(calls=("n", "size"), cost=("cost", "sum"))
    per = per.sort_values("cost", ascending=False)
    top, total = per.index[0], _total(timeline)
    cost_share = float(per["cost"].iloc[0]) / total if total > 0 else 0.0
    call_share = float(per["calls"].iloc[0]) / len(timeline)
    if cost_share < call_share + 0.2:
        return None
    return ("model", cost_share, f"{top} made {_pct(call_share)} of the calls and "
                                 f"{_pct(cost_share)} of the cost")


def _thinking(timeline: pd.DataFrame, marks: pd.DataFrame) -> Finding | None:
    switches = marks[(marks["kind"] == "thinking_switch")
                     & marks["value"].isin(list(HIGH_THINKING))]
    if switches.empty:
        return None
    first = switches.iloc[0]
    start = int(first["n"]) if pd.notna(first["n"]) else len(timeline) + 1
    share = _share(timeline, timeline["n"] >= start)
    if share <= 0:
        return None
    return ("thinking", share, f"thinking level {first['value']} from call {start:,} on: "
                               f"those calls cost {_pct(share)}")


def _failures(timeline: pd.DataFrame) -> Finding | None:
    """Failed calls, by what they were billed: the call after one did the work and is no
    waste. A driver from a twentieth of the cost."""
    failed = timeline["is_error"]
    share = _share(timeline, failed)
    if share < 0.05:
        return None
    return ("failures", share, f"{fmt.counted(int(failed.sum()), 'failed call')} cost "
                               f"{fmt.money(float(timeline.loc[failed, 'cost'].sum()))}, "
                               f"{_pct(share)} of the cost")


def _tool_loop(tools: pd.DataFrame, timeline: pd.DataFrame) -> Finding | None:
    if len(tools) < 10:
        return None
    names = tools["tool_name"].astype(str).to_numpy()
    breaks = np.flatnonzero(names[1:] != names[:-1]) + 1
    starts = np.concatenate([[0], breaks])
    lengths = np.diff(np.concatenate([starts, [len(names)]]))
    best = int(np.argmax(lengths))
    run = int(lengths[best])
    if run < 10:
        return None
    first = int(starts[best])
    ids = set(tools["message_id"].iloc[first:first + run])
    share = _share(timeline, timeline["message_id"].isin(ids))
    errors = int((tools["outcome"].iloc[first:first + run] == "error").sum())
    return ("tool_loop", share, f"tool loop: {names[first]} called {run:,} times in a row"
                                f" ({errors:,} failed); the calls that made them cost "
                                f"{_pct(share)}")


def _compactions(marks: pd.DataFrame) -> Finding | None:
    count = int((marks["kind"] == "compaction").sum())
    if count == 0:
        return None
    return ("compaction", 0.05, f"the context was compacted {fmt.counted(count, 'time')}: the "
                                "summarising calls are billed but not recorded by OpenClaw")


def _fan_out(timeline: pd.DataFrame, tree: pd.DataFrame) -> Finding | None:
    if tree.empty:
        return None
    children = float(tree.loc[tree["depth"] == 1, "rolled_cost"].sum())
    whole = _total(timeline) + children
    if whole <= 0 or children / whole < 0.2:
        return None
    return ("fan_out", children / whole,
            f"{fmt.counted(len(tree), 'sub-agent session')} cost {fmt.money(children)}, "
            f"{_pct(children / whole)} of the tree's cost")
