"""One session told call by call: what the session page of the explorer shows.

Part of the read layer (same rules): every function takes the engine first and the
session's id and gateway (ids are unique per gateway) as keywords, reads by the indexes on
`session_id`, and returns a DataFrame
whose columns its docstring lists. Nothing here reads message text: the figures come from
`messages`, `tool_calls`, `sessions` and the turning points of `session_events`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from openclaw_telemetry.measures import M, S, flag, session_label, total, where
from openclaw_telemetry.model import Usage
from openclaw_telemetry.pricing import library_cost
from openclaw_telemetry.read.rollups import TOKEN_KINDS
from openclaw_telemetry.read.sqlkit import frame, is_session
from openclaw_telemetry.schema import session_events, tool_calls

T = tool_calls.c
E = session_events.c
MARKER_KINDS = ("error", "retry", "compaction", "reset", "model_switch", "thinking_switch",
                "prompt_error")


def session_profile(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """Who and what, from the calls (one row, none for a session without calls).

    Columns: calls, errors, cost, recorded_cost, estimated_cost, unpriced_calls,
    subscription_cost, first_call, last_call, models (most used first, ', '-joined),
    thinking_levels (in the order set, ', '-joined; '' when none was recorded).
    """
    is_ = {k: M.cost_source == k for k in ("recorded", "estimated", "unpriced")}
    stmt = select(func.count().label("calls"), total(flag(M.is_error)).label("errors"),
                  total(M.cost).label("cost"),
                  *(total(func.coalesce(M.cost, 0) * flag(is_[k])).label(f"{k}_cost")
                    for k in ("recorded", "estimated")),
                  total(flag(is_["unpriced"])).label("unpriced_calls"),
                  total(M.cost * flag(M.subscription)).label("subscription_cost"),
                  func.min(M.timestamp).label("first_call"),
                  func.max(M.timestamp).label("last_call")
                  ).where(is_session(M, session_id, gateway))
    out = frame(engine, stmt)
    if out.empty or int(out["calls"].iloc[0]) == 0:
        return out.iloc[0:0]
    models = frame(engine, select(M.model, func.count().label("n"))
                   .where(is_session(M, session_id, gateway)).group_by(M.model)
                   .order_by(func.count().desc(), M.model))
    marks = session_markers(engine, session_id=session_id, gateway=gateway, all_settings=True)
    levels = marks.loc[marks["kind"] == "thinking_switch", "value"].dropna()
    out["models"] = ", ".join(str(m) for m in models["model"])
    out["thinking_levels"] = ", ".join(dict.fromkeys(str(v) for v in levels))
    return out


def session_timeline(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """Every LLM call of the session in order, with what drives its cost.

    Columns: n (1-based place), timestamp, model, provider, input, output, cache_read,
    cache_write, context (input + cache_read + cache_write), cache_hit (cache_read /
    context; NaN for an empty context), cost, cumulative_cost, latency_ms, stop_reason,
    is_error, retry (the call follows a failed one), tool_calls, message_id.
    """
    stmt = (select(M.timestamp, M.model, M.provider, M.input_tokens.label("input"),
                   M.output_tokens.label("output"), M.cache_read_tokens.label("cache_read"),
                   M.cache_write_tokens.label("cache_write"), M.cost, M.latency_ms,
                   M.stop_reason, M.is_error, M.tool_call_count.label("tool_calls"),
                   M.message_id)
            .where(is_session(M, session_id, gateway)).order_by(M.timestamp, M.message_id))
    out = frame(engine, stmt)
    out.insert(0, "n", np.arange(1, len(out) + 1, dtype="int64"))
    out["is_error"] = out["is_error"].astype(bool)
    context = out["input"] + out["cache_read"] + out["cache_write"]
    out.insert(8, "context", context.astype("int64"))
    out.insert(9, "cache_hit", out["cache_read"] / context.where(context > 0))
    out.insert(11, "cumulative_cost", out["cost"].cumsum())
    out.insert(15, "retry", out["is_error"].shift(1, fill_value=False).astype(bool))
    return out


def _event_rows(engine: Engine, session_id: str, gateway: str) -> pd.DataFrame:
    """Turning points of the session, each once (copies of a transcript repeat them)."""
    stmt = (select(E.kind, E.timestamp, E.value, func.max(E.tokens_before).label("tokens_before"),
                   func.max(E.tokens_after).label("tokens_after"))
            .where(is_session(E, session_id, gateway), E.timestamp.is_not(None))
            .group_by(E.kind, E.timestamp, E.value).order_by(E.timestamp, E.kind))
    return frame(engine, stmt)


def _switches(chain: pd.DataFrame, marker: str, keep_first: bool) -> list[dict[str, Any]]:
    """Rows of `chain` (timestamp, value, n: the call, NaN to be placed) that change the
    value before them; the first value is a setting, not a switch, unless `keep_first`."""
    rows: list[dict[str, Any]] = []
    previous: str | None = None
    for when, value, n in zip(chain["timestamp"], chain["value"], chain["n"], strict=True):
        text = None if pd.isna(value) else str(value)
        if text != previous and (previous is not None or keep_first):
            rows.append({"kind": marker, "timestamp": when, "n": n, "value": text,
                         "detail": f"{previous} → {text}" if previous else str(text)})
        previous = text
    return rows


def session_markers(engine: Engine, *, session_id: str, gateway: str,
                    all_settings: bool = False) -> pd.DataFrame:
    """What happened along the session, in time order, each placed on the call it
    precedes or is.

    kind is one of MARKER_KINDS: error (a failed call), retry (the call after a failed
    one), compaction, reset, model_switch, thinking_switch, prompt_error (from the entries
    OpenClaw wrote). A model switch is a change of model (as the calls and the chart's
    colours name it) between two consecutive calls: OpenClaw writes a `model_change` at
    the top of a file and after a reset only, and records /model as a `model-snapshot`
    entry (format §4.8, §12), so only the calls show every switch. `all_settings` keeps the first
    thinking level set and the first call's model too. Columns: kind, timestamp, n (the
    call it is on, or the first call after it; NaN after the last call), value (model,
    level or reason), detail (a short description), tokens_before, tokens_after
    (compactions).
    """
    calls = frame(engine, select(M.timestamp, M.model, M.is_error)
                  .where(is_session(M, session_id, gateway)).order_by(M.timestamp, M.message_id))
    events = _event_rows(engine, session_id, gateway)
    rows: list[dict[str, Any]] = []
    failed = calls["is_error"].astype(bool).to_numpy()
    for i in np.flatnonzero(failed):
        rows.append({"kind": "error", "timestamp": calls["timestamp"].iloc[i], "n": i + 1,
                     "detail": "the call failed"})
        if i + 1 < len(calls):
            rows.append({"kind": "retry", "timestamp": calls["timestamp"].iloc[i + 1],
                         "n": i + 2, "detail": "called again after a failure"})
    levels = events.loc[events["kind"] == "thinking_change", ["timestamp", "value"]]
    rows += _switches(levels.assign(n=np.nan), "thinking_switch", all_settings)
    models = pd.DataFrame({"timestamp": calls["timestamp"], "value": calls["model"],
                           "n": np.arange(1, len(calls) + 1)})
    rows += _switches(models, "model_switch", all_settings)
    for row in events[events["kind"].isin(["compaction", "reset", "prompt_error"])].itertuples(
            index=False):
        rows.append({"kind": row.kind, "timestamp": row.timestamp, "value": row.value,
                     "tokens_before": row.tokens_before, "tokens_after": row.tokens_after,
                     "detail": _event_detail(row)})
    return _placed(pd.DataFrame(rows, columns=[
        "kind", "timestamp", "n", "value", "detail", "tokens_before", "tokens_after"]), calls)


def _event_detail(row: Any) -> str:
    if row.kind == "compaction":
        before, after = row.tokens_before, row.tokens_after
        if pd.notna(before) and pd.notna(after):
            return f"context compacted: {int(before):,} → {int(after):,} tokens"
        return f"context compacted from {int(before):,} tokens" if pd.notna(before) else \
            "context compacted"
    if row.kind == "reset":
        # OpenClaw writes reason "reset" for /new and /reset: only another one says more
        reason = row.value if isinstance(row.value, str) else "reset"
        return "session reset (/new or /reset)" if reason == "reset" else \
            f"session reset ({reason})"
    return f"a prompt failed before any call ({row.value})" if row.value else \
        "a prompt failed before any call"


def _placed(rows: pd.DataFrame, calls: pd.DataFrame) -> pd.DataFrame:
    """Give every marker without a call number the first call at or after it."""
    rows["timestamp"] = pd.to_datetime(rows["timestamp"])
    if len(calls):
        times = pd.to_datetime(calls["timestamp"]).to_numpy()
        at = np.searchsorted(times, rows["timestamp"].to_numpy(), side="left") + 1
        placed = pd.Series(np.where(at <= len(calls), at, np.nan), index=rows.index)
        rows["n"] = rows["n"].astype("float64").fillna(placed)
    rows["n"] = rows["n"].astype("float64")
    return rows.sort_values(["timestamp", "kind"], kind="stable", ignore_index=True)


def session_tool_calls(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """Each tool call of the session in order. Columns: timestamp, tool_name, bridge_name,
    duration_ms, outcome ('ok', 'error' or 'no result'), message_id."""
    out = frame(engine, select(T.timestamp, T.tool_name, T.bridge_name, T.duration_ms,
                               T.is_error, T.message_id)
                .where(is_session(T, session_id, gateway))
                .order_by(T.timestamp, T.message_id, T.call_index))
    out["outcome"] = np.where(out["is_error"].isna(), "no result",
                              np.where(out["is_error"] == True, "error", "ok"))  # noqa: E712
    return out.drop(columns="is_error")


def session_tool_summary(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """Per tool of the session, most used first. Columns: tool_name, calls, errors,
    unanswered (no result seen), total_ms, max_ms (NaN without durations)."""
    stmt = (select(T.tool_name, func.count().label("calls"),
                   total(flag(T.is_error)).label("errors"),
                   (func.count() - func.count(T.is_error)).label("unanswered"),
                   func.sum(T.duration_ms).label("total_ms"),
                   func.max(T.duration_ms).label("max_ms"))
            .where(is_session(T, session_id, gateway)).group_by(T.tool_name)
            .order_by(func.count().desc(), T.tool_name))
    return frame(engine, stmt)


def session_tree(engine: Engine, *, session_id: str, gateway: str,
                 max_depth: int = 20) -> pd.DataFrame:
    """The sub-agents the session spawned, and theirs, depth first (all on its gateway).

    Columns: session_id, gateway, parent_session_id, depth (1 = a child), label, session_key, kind,
    agent_id, start_time, calls, own_cost (the session's total), rolled_cost (its own and
    all its descendants'), descendants.
    """
    cols = [S.session_id, S.gateway, S.parent_session_id, session_label().label("label"),
            S.session_key, S.kind, S.agent_id,
            S.start_time, S.total_messages.label("calls"), S.total_cost.label("own_cost")]
    found: list[pd.DataFrame] = []
    parents, seen = [session_id], {session_id}
    for depth in range(1, max_depth + 1):
        level = frame(engine, select(*cols).where(S.parent_session_id.in_(parents),
                                                  S.gateway == gateway)
                      .order_by(S.start_time, S.session_id))
        level = level[~level["session_id"].isin(seen)]
        if level.empty:
            break
        found.append(level.assign(depth=depth))
        parents = list(level["session_id"])
        seen.update(parents)
    names = [c.key for c in cols] + ["depth"]
    tree = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=names)
    return _rolled_up(tree, session_id)


def _rolled_up(tree: pd.DataFrame, root: str) -> pd.DataFrame:
    children: dict[str, list[str]] = {}
    for child, parent in zip(tree["session_id"], tree["parent_session_id"], strict=True):
        children.setdefault(str(parent), []).append(str(child))
    own = dict(zip(tree["session_id"].astype(str), tree["own_cost"].astype(float), strict=True))
    rolled: dict[str, tuple[float, int]] = {}

    def visit(node: str) -> tuple[float, int]:
        cost, count = own.get(node, 0.0), 0
        for child in children.get(node, []):
            sub_cost, sub_count = rolled[child] if child in rolled else visit(child)
            cost, count = cost + sub_cost, count + sub_count + 1
        rolled[node] = (cost, count)
        return cost, count

    order: list[str] = []

    def walk(node: str) -> None:
        for child in children.get(node, []):
            order.append(child)
            walk(child)

    visit(root)
    walk(root)
    out = tree.set_index("session_id").loc[order].reset_index() if order else tree
    out["rolled_cost"] = [rolled[str(s)][0] for s in out["session_id"]]
    out["descendants"] = [rolled[str(s)][1] for s in out["session_id"]]
    return out.reset_index(drop=True)


# Prices are read at 100k tokens: at a million, long-context tiers (above 200k tokens per
# request) would apply, which a session's calls rarely reach.
_PROBE = 100_000


def _list_prices(models: pd.DataFrame) -> np.ndarray:
    """USD per million tokens of each of TOKEN_KINDS (columns) for each (model, provider)
    row, at the price library's list prices; NaN where it does not know the model."""
    grid = [[_per_million(str(p), str(m), Usage(**{kind: _PROBE})) for kind in TOKEN_KINDS]
            for m, p in zip(models["model"], models["provider"], strict=True)]
    return np.array(grid, dtype="float64").reshape(len(models), len(TOKEN_KINDS))


def _per_million(provider: str, model: str, usage: Usage) -> float:
    price = library_cost(provider, model, usage)
    return float("nan") if price is None else price * 1_000_000 / _PROBE


def session_cache(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """The cache in money, per model of the session: what the cache reads would have cost
    as input, and what the cache writes cost. At the rates the calls were charged, where
    the ingest stored their cost by kind (OpenClaw's record, or the price table's), else at
    the price library's list prices.

    Columns: model, provider, calls, cache_read, cache_write, input, price_input,
    price_output, price_cache_read, price_cache_write (USD per million tokens; NaN when
    neither is known), saved (cache reads × (input − cache-read price)), write_cost (cache
    writes × cache-write price), write_premium (cache writes × (cache-write − input
    price)), net (saved − write_premium). A count of 0 costs 0 at any price.
    """
    stored = M.input_cost.is_not(None)
    kinds = [getattr(M, f"{kind}_tokens") for kind in TOKEN_KINDS]
    parts = [M.input_cost, M.output_cost, M.cache_read_cost, M.cache_write_cost]
    stmt = (select(M.model, M.provider, func.count().label("calls"),
                   total(M.cache_read_tokens).label("cache_read"),
                   total(M.cache_write_tokens).label("cache_write"),
                   total(M.input_tokens).label("input"),
                   *[total(c * where(stored)).label(f"stored_{k}")
                     for c, k in zip(kinds, TOKEN_KINDS, strict=True)],
                   *[total(c).label(f"part_{k}") for c, k in zip(parts, TOKEN_KINDS,
                                                               strict=True)])
            .where(is_session(M, session_id, gateway)).group_by(M.model, M.provider)
            .order_by(total(M.cache_read_tokens).desc(), M.model))
    out = frame(engine, stmt)
    listed = _list_prices(out).T
    for kind, prices in zip(TOKEN_KINDS, listed, strict=True):
        counted = out.pop(f"stored_{kind}").to_numpy(dtype="float64")
        paid = out.pop(f"part_{kind}").to_numpy(dtype="float64")
        charged = np.divide(paid * 1e6, counted, out=np.full(len(out), np.nan),
                            where=counted > 0)
        out[f"price_{kind}"] = np.where(np.isfinite(charged), charged, prices)
    out["saved"] = _at(out["cache_read"], out["price_input"] - out["price_cache_read"])
    out["write_cost"] = _at(out["cache_write"], out["price_cache_write"])
    out["write_premium"] = _at(out["cache_write"],
                               out["price_cache_write"] - out["price_input"])
    out["net"] = out["saved"] - out["write_premium"]
    return out


def _at(count: pd.Series, price: pd.Series) -> pd.Series:
    """`count` tokens at `price` $/M: 0 for none, whatever the price (also unknown)."""
    return (count * price / 1e6).where(count > 0, 0.0)


def session_cost_split(engine: Engine, *, session_id: str, gateway: str) -> pd.DataFrame:
    """The session's cost by token kind: each call's own split where the ingest stored one
    (the parts OpenClaw recorded, else the price table's rates: `messages.input_cost` …),
    and the cost of the other calls of each model divided in the proportions of their
    tokens at the price library's list prices (exact where the cost is the list price).

    One row per kind of TOKEN_KINDS, then 'unsplit' (calls without a split of models the
    library does not know) when they cost something; none for a session without calls.
    Columns: kind, tokens (of the calls split), cost (USD), share (of the session's cost;
    0 when it cost nothing), estimated (of that cost, what was split at list prices).
    """
    stored = M.input_cost.is_not(None)
    kinds = [getattr(M, f"{kind}_tokens") for kind in TOKEN_KINDS]
    parts = [M.input_cost, M.output_cost, M.cache_read_cost, M.cache_write_cost]
    stmt = (select(M.model, M.provider,
                   *[total(c * where(~stored)).label(k) for c, k in zip(kinds, TOKEN_KINDS,
                                                                     strict=True)],
                   total(M.cost * where(~stored)).label("cost"),
                   *[total(c * where(stored)).label(f"stored_{k}")
                     for c, k in zip(kinds, TOKEN_KINDS, strict=True)],
                   *[total(c).label(f"part_{k}") for c, k in zip(parts, TOKEN_KINDS,
                                                               strict=True)],
                   total(M.cost).label("spent"))
            .where(is_session(M, session_id, gateway)).group_by(M.model, M.provider))
    per_model = frame(engine, stmt)
    if per_model.empty:
        return pd.DataFrame(columns=["kind", "tokens", "cost", "share", "estimated"])
    tokens = per_model[TOKEN_KINDS].to_numpy(dtype="float64")
    cost = per_model["cost"].to_numpy(dtype="float64")
    at_list = tokens * _list_prices(per_model) / 1e6
    whole = at_list.sum(axis=1)
    known = np.isfinite(whole) & (whole > 0)
    estimated = np.where(known[:, None], at_list * (cost / np.where(known, whole, 1))[:, None],
                         0)
    split = estimated + per_model[[f"part_{k}" for k in TOKEN_KINDS]].to_numpy(dtype="float64")
    counted = (np.where(known[:, None], tokens, 0)
               + per_model[[f"stored_{k}" for k in TOKEN_KINDS]].to_numpy(dtype="float64"))
    rows = [(kind, int(count), float(part), float(guess)) for kind, count, part, guess in zip(
        TOKEN_KINDS, counted.sum(axis=0), split.sum(axis=0), estimated.sum(axis=0),
        strict=True)]
    if cost[~known].sum() > 0:
        rows.append(("unsplit", int(tokens[~known].sum()), float(cost[~known].sum()), 0.0))
    out = pd.DataFrame(rows, columns=["kind", "tokens", "cost", "estimated"])
    spent = float(per_model["spent"].sum())
    out["share"] = out["cost"] / spent if spent > 0 else 0.0
    return out[["kind", "tokens", "cost", "share", "estimated"]]
