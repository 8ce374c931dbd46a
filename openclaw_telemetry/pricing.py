"""A call's cost: recorded, estimated from prices, or unpriced (contract C2-C4).

Price precedence: the user's `openclaw.json` (`models.providers.<p>.models[].cost`), then the
agent's `agent/models.json`, then the shipped `genai-prices` library. Rates are USD per
million tokens in OpenClaw's token meaning (input excludes cached tokens).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import json5
import orjson

from openclaw_telemetry.model import Call, CostSource, Split, Usage
from openclaw_telemetry.sources.files import read_regular

# Subscription / login routes: their cost is a list-price equivalent (contract C4).
SUBSCRIPTION_PROVIDERS = frozenset({
    "openai-codex", "github-copilot", "google-gemini-cli", "google-antigravity",
    "claude-cli", "codex-cli",
})
# OpenClaw's provider ids -> the price library's (genai-prices) where they differ (format §8
# lists OpenClaw's own aliases; the targets are the library's ids, checked by a test).
LIBRARY_PROVIDER = {
    "openai-codex": "openai", "xai": "x-ai", "z-ai": "zai", "google-gemini-cli": "google",
    "google-vertex": "google", "moonshot": "moonshotai", "kimi": "moonshotai",
    "kimi-coding": "moonshotai", "amazon-bedrock": "aws",
}


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float
    cache_write: float

    def cost(self, usage: Usage) -> float:
        return (usage.input * self.input + usage.output * self.output
                + usage.cache_read * self.cache_read
                + usage.cache_write * self.cache_write) / 1e6

    def split(self, usage: Usage) -> Split:
        """The cost of each kind of token at these prices."""
        return (usage.input * self.input / 1e6, usage.output * self.output / 1e6,
                usage.cache_read * self.cache_read / 1e6,
                usage.cache_write * self.cache_write / 1e6)

    def shares(self, usage: Usage, total: float) -> Split | None:
        """`total` divided in the proportions of the tokens' cost at these prices (None
        when they cost nothing here)."""
        parts = self.split(usage)
        whole = sum(parts)
        if whole <= 0:
            return None
        inp, out, read, write = (total * part / whole for part in parts)
        return inp, out, read, write


NO_SPLIT = (None, None, None, None)  # a `messages` row's split columns without a split


class Priced(NamedTuple):  # one per call: a named tuple is the cheapest record
    """A call's cost, how it was obtained, and its split by kind where it is known: the
    parts OpenClaw recorded, else the price table's (config or models.json) rates; None
    from the price library (the dashboards split those at its list prices, `read`)."""

    cost: float
    source: CostSource
    split: Split | None = None


def load_json_file(path: Path, report: Callable[[str], None] | None = None) -> Any:
    """JSON or JSON5 (OpenClaw's config allows comments); None when absent. A file that
    exists but cannot be read or parsed (also: is not a regular file, is nested too deeply
    for the parser) is also None, and is told to `report`."""
    try:
        data = read_regular(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if report is not None:
            report(f"{path}: {exc.strerror or exc}; not used")
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass  # JSON5 is far slower: only for files that need it (comments, trailing commas)
    try:
        return json5.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        if report is not None:
            deep = " (nested too deeply)" if isinstance(exc, RecursionError) else ""
            report(f"{path}: not valid JSON (nor JSON5){deep}; not used")
        return None


def prices_from_config(doc: Any) -> dict[tuple[str, str], Price]:
    """`{models: {providers: {p: {models: [{id, cost}]}}}}` or `{providers: …}` -> prices."""
    if not isinstance(doc, dict):
        return {}
    models = doc.get("models")
    providers = models.get("providers") if isinstance(models, dict) else doc.get("providers")
    if not isinstance(providers, dict):
        return {}
    found: dict[tuple[str, str], Price] = {}
    for provider, spec in providers.items():
        entries = spec.get("models") if isinstance(spec, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            price = _price(entry.get("cost")) if isinstance(entry, dict) else None
            if price is not None and isinstance(entry.get("id"), str):
                found[(str(provider), entry["id"])] = price
    return found


def _price(cost: Any) -> Price | None:
    if not isinstance(cost, dict):
        return None
    values = [cost.get(k, 0) for k in ("input", "output", "cacheRead", "cacheWrite")]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               and v >= 0 for v in values):
        return None
    return Price(*(float(v) for v in values))


def normalize_model(model: str) -> str:
    """Anthropic dotted versions -> dashed (claude-sonnet-4.5 -> claude-sonnet-4-5)."""
    return model.replace(".", "-") if model.startswith("claude") else model


class PriceBook:
    """Looks up a price per (provider, model) in precedence order, memoised."""

    def __init__(self, config: dict[tuple[str, str], Price],
                 agent_prices: dict[tuple[str, str], Price]) -> None:
        self._tables = (config, agent_prices)
        self._memo: dict[tuple[str, str], Price | None] = {}

    def table_price(self, provider: str, model: str) -> Price | None:
        key = (provider, model)
        if key not in self._memo:
            self._memo[key] = self._lookup(provider, model)
        return self._memo[key]

    def _lookup(self, provider: str, model: str) -> Price | None:
        for table in self._tables:
            for candidate in (model, normalize_model(model), model.rsplit("/", 1)[-1]):
                price = table.get((provider, candidate))
                if price is not None:
                    return price
        return None

    def estimate(self, provider: str, model: str, usage: Usage) -> Priced | None:
        """From the first price found: config, the agent's models.json, the library."""
        price = self.table_price(provider, model)
        if price is not None:
            return Priced(price.cost(usage), CostSource.ESTIMATED, price.split(usage))
        library = library_cost(provider, model, usage)
        return None if library is None else Priced(library, CostSource.ESTIMATED)

    def price(self, call: Call) -> Priced:
        """Contract C2: recorded when trustworthy, else estimated, else unpriced (0)."""
        usage = call.usage
        recorded = call.recorded_cost
        if (recorded is not None and not call.google_fix
                and (recorded > 0 or usage.total == 0)):
            split = call.recorded_split
            if split is None:
                price = self.table_price(call.provider, call.model)
                split = None if price is None else price.shares(usage, recorded)
            return Priced(recorded, CostSource.RECORDED, split)
        # (no tokens and nothing recorded: $0 all the same, but estimated only with a price
        # found, as `reprice` decides it; with none anywhere it is unpriced)
        estimate = self.estimate(call.provider, call.model, usage)
        if estimate is not None:
            return estimate
        repaired = google_repaired(call)
        if repaired is not None:
            return Priced(repaired, CostSource.ESTIMATED)
        return Priced(0.0, CostSource.UNPRICED)


def google_repaired(call: Call) -> float | None:
    """No price anywhere: remove the double-counted cached input from pi's own figure."""
    if not call.google_fix or call.recorded_cost is None or not call.recorded_input_cost:
        return None
    old_input = call.usage.input + call.usage.cache_read
    if old_input <= 0:
        return None
    per_token = call.recorded_input_cost / old_input
    return max(call.recorded_cost - per_token * call.usage.cache_read, 0.0)


_library_memo: dict[tuple[str, str, int, int, int, int], float | None] = {}


def library_cost(provider: str, model: str, usage: Usage) -> float | None:
    """Estimate from genai-prices; None when the library does not know the model."""
    memo_key = (provider, model, usage.input, usage.output, usage.cache_read, usage.cache_write)
    if memo_key in _library_memo:
        return _library_memo[memo_key]
    from genai_prices import Usage as LibUsage  # imported lazily: most calls are recorded
    from genai_prices import calc_price

    lib_usage = LibUsage(input_tokens=usage.input + usage.cache_read + usage.cache_write,
                         output_tokens=usage.output, cache_read_tokens=usage.cache_read,
                         cache_write_tokens=usage.cache_write)
    result: float | None = None
    lib_provider = LIBRARY_PROVIDER.get(provider, provider)
    for provider_id in (lib_provider, None):
        for ref in (model, normalize_model(model), model.rsplit("/", 1)[-1]):
            try:
                result = float(calc_price(lib_usage, ref, provider_id=provider_id).total_price)
            except (LookupError, ValueError, TypeError):
                continue
            break
        if result is not None:
            break
    if len(_library_memo) < 100_000:
        _library_memo[memo_key] = result
    return result


def is_subscription(provider: str, oauth_providers: frozenset[str]) -> bool:
    """Subscription or login routes (contract C4): list-price equivalents, not spend."""
    return provider in SUBSCRIPTION_PROVIDERS or provider in oauth_providers


def oauth_providers(auth_profiles: Any) -> frozenset[str]:
    """Providers an agent reaches through a login (`auth-profiles.json`, type oauth/token)."""
    found: set[str] = set()
    profiles = auth_profiles.get("profiles", auth_profiles) if isinstance(auth_profiles, dict) else {}
    for name, profile in profiles.items() if isinstance(profiles, dict) else []:
        if isinstance(profile, dict) and profile.get("type") in ("oauth", "token"):
            provider = profile.get("provider") or str(name).split(":", 1)[0]
            found.add(str(provider))
    return frozenset(found)
