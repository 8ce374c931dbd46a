"""Models, prices and call accounting of the generated OpenClaw histories.

Prices are USD per million tokens, written to the corpus's `openclaw.json`
(`models.providers.<p>.models[].cost`, format §8). A recorded `usage.cost` is computed the
way pi does at call time (`price / 1e6 * tokens` per bucket, total = the four summed in
order), so the float noise matches what OpenClaw writes (format §12.1). Models whose
`records_cost` is False are written with all-zero cost although they have tokens
(format §8: a price pi did not know at call time); the contract (C2) then estimates
their cost from `openclaw.json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One provider/model pair as OpenClaw writes it on assistant messages."""

    provider: str
    model: str
    api: str
    prices: tuple[float, float, float, float]  # input, output, cacheRead, cacheWrite
    dialect: str  # "anthropic" (cache write reported) or "openai" (cached prompt only)
    records_cost: bool = True
    reasoning: bool = False


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("anthropic", "claude-sonnet-4-6", "anthropic-messages",
              (3.0, 15.0, 0.3, 3.75), "anthropic", reasoning=True),
    ModelSpec("anthropic", "claude-haiku-4-5", "anthropic-messages",
              (1.0, 5.0, 0.1, 1.25), "anthropic"),
    ModelSpec("anthropic", "claude-opus-4-6", "anthropic-messages",
              (5.0, 25.0, 0.5, 6.25), "anthropic", reasoning=True),
    ModelSpec("openai", "gpt-5.1", "openai-responses",
              (1.25, 10.0, 0.125, 0.0), "openai", reasoning=True),
    ModelSpec("openai", "gpt-5-mini", "openai-responses",
              (0.25, 2.0, 0.025, 0.0), "openai"),
    ModelSpec("openai-codex", "gpt-5.1-codex", "openai-codex-responses",
              (1.25, 10.0, 0.125, 0.0), "openai", reasoning=True),
    ModelSpec("openrouter", "moonshotai/kimi-k2.5", "openai-completions",
              (0.6, 2.5, 0.15, 0.0), "openai"),
    ModelSpec("deepseek", "deepseek-v4-flash", "openai-completions",
              (0.27, 1.1, 0.07, 0.0), "openai", records_cost=False),
)

# How long a provider keeps a session's prompt cache after its last use: 5 minutes, and an
# hour for Anthropic models of the agents openclaw.json gives `cacheRetention: "long"`
# (`agents.list[].params`). A call within it misses the cache only rarely (STRAY_MISS).
CACHE_LIFETIME_MS = 5 * 60_000
LONG_CACHE_LIFETIME_MS = 60 * 60_000
LONG_CACHE_AGENTS = frozenset({"research"})
STRAY_MISS = 0.01
# Anthropic prices a cache write kept an hour at twice the input price (the price table's
# `cacheWrite` is the 5-minute rate, 1.25 times it). Newer pi records the part of
# `cacheWrite` written for an hour as `usage.cacheWrite1h` and prices it so (format §4.5,
# §8); the contract's estimate (C2) knows one cache-write rate.
HOUR_WRITE_RATE = 2.0

# Relative use of each model, per kind of session (cron and sub-agents run cheaper models).
MODEL_WEIGHTS: dict[str, tuple[float, ...]] = {
    "chat": (44, 8, 5, 15, 6, 10, 8, 4),
    "small": (20, 35, 0, 8, 20, 5, 8, 4),
}


def openclaw_config(agent_ids: list[str]) -> dict[str, object]:
    """The `openclaw.json` of the corpus: the price table and the agent list (with the
    agents that keep their prompt cache an hour)."""
    providers: dict[str, dict[str, object]] = {}
    for spec in MODELS:
        entry = providers.setdefault(spec.provider, {"api": spec.api, "models": []})
        models = entry["models"]
        assert isinstance(models, list)
        p_in, p_out, p_cr, p_cw = spec.prices
        models.append({"id": spec.model, "name": spec.model,
                       "cost": {"input": p_in, "output": p_out,
                                "cacheRead": p_cr, "cacheWrite": p_cw}})
    return {
        "models": {"mode": "merge", "providers": providers},
        "agents": {"defaults": {"model": {"primary": "anthropic/claude-sonnet-4-6"}},
                   "list": [_agent_entry(agent_id) for agent_id in agent_ids]},
    }


def long_cache(spec: ModelSpec, agent_id: str) -> bool:
    """Whether the agent's calls of this model keep their prompt cache an hour."""
    return spec.dialect == "anthropic" and agent_id in LONG_CACHE_AGENTS


def _agent_entry(agent_id: str) -> dict[str, object]:
    if agent_id in LONG_CACHE_AGENTS:
        return {"id": agent_id, "params": {"cacheRetention": "long"}}
    return {"id": agent_id}


def recorded_cost(spec: ModelSpec, usage: tuple[int, int, int, int],
                  hour: int = 0) -> dict[str, float]:
    """`usage.cost` as pi writes it: each bucket priced separately, then summed; `hour` of
    the cache writes (`cacheWrite1h`) at the hour rate (HOUR_WRITE_RATE)."""
    if not spec.records_cost:
        return {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}
    # JSON.stringify writes a zero cost as 0, not 0.0.
    parts: list[float] = [price / 1_000_000 * tokens if tokens else 0
                          for price, tokens in zip(spec.prices, usage, strict=True)]
    if hour:
        short = usage[3] - hour
        parts[3] = (spec.prices[3] / 1_000_000 * short if short else 0) + \
            HOUR_WRITE_RATE * spec.prices[0] / 1_000_000 * hour
    total = parts[0] + parts[1] + parts[2] + parts[3]
    return {"input": parts[0], "output": parts[1], "cacheRead": parts[2],
            "cacheWrite": parts[3], "total": total}


def contract_cost(spec: ModelSpec, usage: tuple[int, int, int, int], hour: int = 0) -> float:
    """The cost the accounting contract assigns to a call (C2): the recorded one (with its
    `hour` of cache writes at the hour rate), else the estimate at the table's rates."""
    if spec.records_cost and sum(usage) > 0:
        return recorded_cost(spec, usage, hour)["total"]
    if not spec.records_cost and sum(usage) > 0:
        return sum(p * t for p, t in zip(spec.prices, usage, strict=True)) / 1_000_000
    return 0.0


@dataclass(slots=True)
class Totals:
    """What a correct ingest must find: every LLM call once (contract B3)."""

    llm_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float = 0.0
    estimated_cost_calls: int = 0
    errors: int = 0
    aborted: int = 0
    tool_calls: int = 0
    synthetic_messages: int = 0
    duplicated_calls: int = 0
    calls_by_store: dict[str, int] = field(default_factory=dict)

    def add_call(self, spec: ModelSpec, usage: tuple[int, int, int, int], *,
                 stop_reason: str, tools: int, store: str, hour: int = 0) -> None:
        self.llm_calls += 1
        self.input_tokens += usage[0]
        self.output_tokens += usage[1]
        self.cache_read_tokens += usage[2]
        self.cache_write_tokens += usage[3]
        self.cost += contract_cost(spec, usage, hour)
        self.estimated_cost_calls += int(not spec.records_cost and sum(usage) > 0)
        self.errors += int(stop_reason == "error")
        self.aborted += int(stop_reason == "aborted")
        self.tool_calls += tools
        self.calls_by_store[store] = self.calls_by_store.get(store, 0) + 1

    def as_dict(self) -> dict[str, object]:
        return {
            "llm_calls": self.llm_calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "cost": round(self.cost, 8),
            "estimated_cost_calls": self.estimated_cost_calls,
            "errors": self.errors,
            "aborted": self.aborted,
            "tool_calls": self.tool_calls,
            "synthetic_messages": self.synthetic_messages,
            "duplicated_calls": self.duplicated_calls,
            "calls_by_store": dict(sorted(self.calls_by_store.items())),
        }
