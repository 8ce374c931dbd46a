"""What one OpenClaw session writes, entry by entry (format §4, §6.3, §12).

`SessionBuilder(plan, shared, store).entries()` yields `(entry, epoch_ms)` in file order:
the session header, `model_change`, `thinking_level_change`, `custom` entries, then turns
of user message -> assistant calls (tool calls and their `toolResult`s) -> final answer,
with heartbeats, errors (`stopReason: "error"`, zero usage), aborted calls, compactions,
model switches and `delivery-mirror` synthetic messages along the way. A session spawns
its planned sub-agents in its first tool round, one `sessions_spawn` call each, answered
with the child's key; each child starts while its call runs (`SessionPlan.move_to`), so
it is written after its parent. Version 3 sessions look like OpenClaw 2026.7.1 wrote
them (8-hex ids), version 4 like 2026.9.6 (UUID ids, `__openclaw.runId`, `idempotencyKey`,
`reset` boundaries).

Time drives the prompt cache, as with real providers: a chat's user answers within a
minute, after a break of a few minutes, or now and then after a pause (a main session's
heartbeat mostly after one), as far as the plan's pace leaves time (`_idle`); a call after
a pause longer than the cache lives (`models.CACHE_LIFETIME_MS`, an hour for
`LONG_CACHE_AGENTS` on Anthropic) misses it, one within the lifetime rarely
(`STRAY_MISS`). Cron runs and sub-agents work without pauses. The hour-long cache is
written for an hour: those calls record their writes as `usage.cacheWrite1h` too, priced
at the hour rate (`models.HOUR_WRITE_RATE`), as newer pi does.

Every LLM call is counted exactly once in `Shared.totals` at the moment it is built;
copies the writers make later are byte copies. Each session draws from its own
`random.Random`, so its content depends only on the seed and its plan; what it draws is
the same whether it spawns sub-agents or not (their spawn calls draw from their own), and
its pauses come from another (`pauses`), so they change its times only.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Iterator
from typing import Any

from openclaw_telemetry.demo.models import (
    CACHE_LIFETIME_MS,
    LONG_CACHE_LIFETIME_MS,
    MODELS,
    STRAY_MISS,
    ModelSpec,
    Totals,
    long_cache,
    recorded_cost,
)
from openclaw_telemetry.demo.plan import CHAT_KINDS, SessionPlan, iso_ms, uuid4
from openclaw_telemetry.demo.text import TextPools
from openclaw_telemetry.demo.tools import ToolFactory, ToolUse

Entry = tuple[dict[str, Any], int]
HEARTBEAT_PROMPT = ("Read HEARTBEAT.md if it exists (workspace context). Follow it strictly. "
                    "Do not infer or repeat old tasks from prior chats. If nothing needs "
                    "attention, reply HEARTBEAT_OK.")
RESET_GREETING = ("A new session was started via /new or /reset. Execute your Session Startup "
                  "sequence now - read the required files before responding to the user.")
SUBAGENT_CONTEXT = ("[Subagent Context] You are running as a subagent (depth 1/1). Results "
                    "auto-announce to your requester; do not busy-poll for status.")
ERRORS = (
    ("429", "rate_limit_error", "429 Rate limit reached for requests"),
    ("500", "api_error", "500 Internal server error"),
    ("529", "overloaded_error", "529 Overloaded"),
    ("400", "invalid_request_error", "400 prompt is too long: 212345 tokens > 200000 maximum"),
)
IMAGE_RATE = 0.00005  # user messages with an inline base64 image (format §9: huge lines)
ZERO_COST = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}
MINUTE_MS = 60_000
PAUSE_RATE = 0.12  # chat turns after a pause longer than a cache lives
HEARTBEAT_PAUSE_RATE = 0.5  # heartbeats after one (they run every 30 min when idle)
BREAK_RATE = 0.2  # chat turns after a break of a few minutes, which the cache outlives


class Shared:
    """State shared by all sessions of one corpus: text pools, id counters, totals."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.text = TextPools(seed)
        self.totals = Totals()
        self._responses = 0
        self._error_keys: set[tuple[str, str, int]] = set()

    def response_id(self, spec: ModelSpec, rng: random.Random) -> str:
        """Unique by construction (a corpus-wide counter), shaped like the provider's."""
        self._responses += 1
        n = self._responses
        if spec.dialect == "anthropic":
            return f"msg_01{n:010x}{rng.getrandbits(48):012x}"
        if spec.api.endswith("responses"):
            return f"resp_{n:012x}{rng.getrandbits(144):036x}"
        return f"chatcmpl-{n:08x}{rng.getrandbits(48):012x}"

    def unique_error_time(self, spec: ModelSpec, ms: int) -> int:
        """Error stubs have no responseId: keep their fingerprint (B3) unique."""
        while (spec.provider, spec.model, ms) in self._error_keys:
            ms += 1
        self._error_keys.add((spec.provider, spec.model, ms))
        return ms


class EntryIds:
    """8-hex ids (v3) without collisions (a bijective scramble of a counter), or UUIDs (v4)."""

    def __init__(self, rng: random.Random, version: int) -> None:
        self.rng = rng
        self.uuids = version >= 4
        self.n = rng.getrandbits(32)

    def next(self, short: bool = False) -> str:
        if self.uuids and not short:
            return uuid4(self.rng)
        self.n = (self.n + 0x9E3779B1) & 0xFFFFFFFF
        x = self.n
        x ^= x >> 16
        x = (x * 0x45D9F3B) & 0xFFFFFFFF
        x ^= x >> 16
        return f"{x:08x}"


def subagent_task(shared: Shared, plan: SessionPlan) -> str:
    """A sub-agent's task: its parent's `sessions_spawn` argument and its first message."""
    rng = random.Random(f"task:{shared.seed}:{plan.index}")
    return shared.text.take(rng, "prose", rng.randint(60, 700))


class SessionBuilder:
    """Yields the entries of one planned session (see module docstring)."""

    def __init__(self, plan: SessionPlan, shared: Shared, store: str) -> None:
        self.plan = plan
        self.shared = shared
        self.store = store
        self.rng = random.Random(f"{shared.seed}:{plan.index}")
        self.pauses = random.Random(f"pauses:{shared.seed}:{plan.index}")
        self.cache_used: int | None = None  # when a call last sent a context
        self.v4 = plan.version == 4
        self.ids = EntryIds(self.rng, plan.version)
        self.spec = plan.model
        self.clock = plan.start_ms
        self.parent: str | None = None
        self.last_user_id = ""
        self.context = self.rng.randint(9_000, 16_000)
        self.delta = self.context
        self.per_call = max(2_000, plan.span_ms // max(1, plan.calls))
        self.run_id = ""
        self.frozen: list[dict[str, str]] = []
        self.pending = list(plan.children)  # sub-agents still to spawn
        suffix = "" if plan.agent_id == "main" else f"-{plan.agent_id}"
        self.cwd = f"/home/claw/.openclaw/workspace{suffix}"
        self.tools = self._tool_factory()

    def _tool_factory(self) -> ToolFactory:
        partial = not self.v4 and self.spec.api == "openai-completions"
        return ToolFactory(self.rng, self.shared.text, v4=self.v4, dialect=self.spec.dialect,
                           partial_args=partial, cwd=self.cwd)

    # -- the session ---------------------------------------------------------------

    def entries(self) -> Iterator[Entry]:
        yield self._header()
        yield from self._preamble()
        if self.plan.after_reset:
            yield self._delivery_mirror()
        remaining = self.plan.calls
        turn = 0
        while remaining > 0:
            size = min(remaining, self._turn_size(turn))
            if self.pending and remaining == 2:
                size = 2  # the last tool round its sub-agents can be spawned in
            yield from self._turn(turn, size)
            remaining -= size
            turn += 1
            if remaining:
                yield from self._between_turns(self.plan.calls - remaining, turn)

    def _turn_size(self, turn: int) -> int:
        if self.plan.kind in ("cron", "subagent"):
            return self.plan.calls
        if self._is_heartbeat(turn):
            return 1
        if self.rng.random() < 0.3:
            return 1
        return min(40, 2 + int(self.rng.expovariate(1 / 4)))

    def _is_heartbeat(self, turn: int) -> bool:
        return self.plan.kind == "main" and turn % 3 == 1

    def _turn(self, turn: int, size: int) -> Iterator[Entry]:
        self.run_id = uuid4(self.rng)
        heartbeat = self._is_heartbeat(turn) and size == 1
        yield self._user(self._user_text(turn, heartbeat))
        for i in range(size - 1):
            yield from self._tool_round(i)
        yield from self._final(heartbeat)
        yield self._custom("openclaw:bootstrap-context:full",
                           {"timestamp": self.clock, "runId": self.run_id,
                            "sessionId": self.plan.session_id})

    def _between_turns(self, done: int, turn: int) -> Iterator[Entry]:
        self._tick(self._idle(done, self._is_heartbeat(turn)))
        roll = self.rng.random()
        if self.context > (150_000 if self.spec.dialect == "anthropic" else 110_000):
            yield self._compaction()
        elif roll < 0.015:
            yield from self._model_switch()
        elif roll < 0.02:
            yield self._thinking(self.rng.choice(("low", "medium", "high", "off")))
        elif roll < 0.025 and self.v4:
            yield self._reset_boundary()

    def _idle(self, done: int, heartbeat: bool) -> int:
        """The wait before the next turn: `per_call // 2`, or in a chat a break of 1 to 3.5
        minutes or a pause of 6 minutes or more (a heartbeat's about its 30 minutes), as
        far as the plan's pace leaves time: the calls still to come keep `per_call` each
        (about twice what they take), so the session still ends within its planned span."""
        wait = self.per_call // 2
        if self.plan.kind not in CHAT_KINDS:
            return wait
        spare = self.plan.start_ms + done * self.per_call - self.clock
        roll, rate = self.pauses.random(), HEARTBEAT_PAUSE_RATE if heartbeat else PAUSE_RATE
        if roll < rate:
            minutes = (self.pauses.uniform(25, 35) if heartbeat else
                       6 + self.pauses.expovariate(1 / 20))
            pause = min(int(minutes * MINUTE_MS), spare)
            return pause if pause >= 6 * MINUTE_MS else wait
        if roll < rate + BREAK_RATE:
            brief = int(self.pauses.uniform(1, 3.5) * MINUTE_MS)
            return brief if brief <= spare else wait
        return wait

    # -- entries ---------------------------------------------------------------------

    def _base(self, kind: str, ms: int, *, short_id: bool = False) -> dict[str, Any]:
        entry_id = self.ids.next(short_id)
        entry = {"type": kind, "id": entry_id, "parentId": self.parent,
                 "timestamp": iso_ms(ms)}
        self.parent = entry_id
        return entry

    def _tick(self, ms: int) -> int:
        self.clock += max(1, ms)
        return self.clock

    def _header(self) -> Entry:
        header = {"type": "session", "version": self.plan.version, "id": self.plan.session_id,
                  "timestamp": iso_ms(self.clock), "cwd": self.cwd}
        return header, self.clock

    def _preamble(self) -> Iterator[Entry]:
        yield self._model_change()
        yield self._thinking(self.plan.thinking)
        yield self._snapshot()

    def _model_change(self) -> Entry:
        ms = self._tick(3)
        if not self.v4:
            entry = self._base("model_change", ms)
            entry.update(provider=self.spec.provider, modelId=self.spec.model)
            return entry, ms
        base = self._base("model_change", ms)
        entry = {"type": "model_change", "provider": self.spec.provider,
                 "modelId": self.spec.model}
        entry.update((k, base[k]) for k in ("id", "parentId", "timestamp"))
        return entry, ms

    def _thinking(self, level: str) -> Entry:
        ms = self._tick(1)
        base = self._base("thinking_level_change", ms)
        if not self.v4:
            base["thinkingLevel"] = level
            return base, ms
        entry = {"type": "thinking_level_change", "thinkingLevel": level}
        entry.update((k, base[k]) for k in ("id", "parentId", "timestamp"))
        return entry, ms

    def _custom(self, custom_type: str, data: dict[str, Any]) -> Entry:
        ms = self._tick(5)
        base = self._base("custom", ms)
        entry = {"type": "custom", "customType": custom_type, "data": data}
        entry.update((k, base[k]) for k in ("id", "parentId", "timestamp"))
        return entry, ms

    def _snapshot(self) -> Entry:
        return self._custom("model-snapshot", {
            "timestamp": self.clock + 5, "provider": self.spec.provider,
            "modelApi": self.spec.api, "modelId": self.spec.model})

    def _model_switch(self) -> Iterator[Entry]:
        self.spec = self.rng.choice(MODELS)
        self.tools = self._tool_factory()
        yield self._model_change()
        yield self._snapshot()

    def _reset_boundary(self) -> Entry:
        ms = self._tick(20)
        entry = self._base("reset", ms, short_id=True)
        entry["reason"] = "reset"
        return entry, ms

    def _compaction(self) -> Entry:
        ms = self._tick(self.rng.randint(5_000, 40_000))
        before = self.context
        summary = "## Decisions\n" + self.shared.text.take(self.rng, "prose",
                                                           self.rng.randint(400, 1_600))
        entry = self._base("compaction", ms)
        entry.update(summary=summary, firstKeptEntryId=self.last_user_id or self.parent,
                     tokensBefore=before)
        self.context = self.rng.randint(9_000, 16_000) + len(summary) // 4
        self.delta = self.context
        if self.v4:
            entry["tokensAfter"] = self.context
        entry.update(details={"readFiles": [], "modifiedFiles": []}, fromHook=False)
        return entry, ms

    def _message(self, message: dict[str, Any], ms: int) -> Entry:
        entry = self._base("message", ms)
        entry["message"] = message
        return entry, ms

    # -- user ------------------------------------------------------------------------

    def _user_text(self, turn: int, heartbeat: bool) -> str:
        plan = self.plan
        if heartbeat:
            return HEARTBEAT_PROMPT
        if turn == 0 and plan.kind == "cron" and plan.cron_job is not None:
            job = plan.cron_job
            stamp = time.strftime("%A, %B %d, %Y - %H:%M (UTC)", time.gmtime(self.clock // 1000))
            return f"[cron:{job.job_id} {job.name}] {self._prose(40, 400)}\nCurrent time: {stamp}"
        if turn == 0 and plan.kind == "subagent":
            task = subagent_task(self.shared, plan)
            return (f"{SUBAGENT_CONTEXT}\n\n[Subagent Task]\n\n{task}\n\n"
                    "Begin. Execute the assigned task to completion.")
        if turn == 0 and plan.after_reset:
            return RESET_GREETING
        return self._chat_text()

    def _chat_text(self) -> str:
        r = self.rng.random()
        length = (self.rng.randint(800, 3_000) if r < 0.03 else
                  self.rng.randint(120, 500) if r < 0.25 else self.rng.randint(10, 120))
        text = self._prose(length, length)
        stamp = time.strftime("%a %Y-%m-%d %H:%M UTC", time.gmtime(self.clock // 1000))
        if self.plan.kind == "group":
            sender = self.rng.randrange(10**8, 10**10)
            meta = ('Conversation info (untrusted metadata):\n```json\n{"chat_type": "group", '
                    f'"sender_id": "{sender}"}}\n```\n\n')
            return f"{meta}[{stamp}] {text}"
        if self.plan.kind in ("direct", "channel"):
            return f"[{stamp}] {text}"
        return text

    def _prose(self, low: int, high: int) -> str:
        return self.shared.text.take(self.rng, "prose", self.rng.randint(low, high))

    def _user(self, text: str) -> Entry:
        sent = self._tick(self.rng.randint(200, 2_000))
        ms = self._tick(self.rng.randint(20, 600))
        content: str | list[dict[str, Any]] = text
        if self.rng.random() < IMAGE_RATE:
            content = [{"type": "text", "text": text},
                       {"type": "image", "mimeType": "image/png",
                        "data": self.shared.text.base64(self.rng,
                                                        self.rng.randint(150_000, 600_000))}]
        message: dict[str, Any] = {"role": "user", "content": content, "timestamp": sent}
        if self.v4:
            message["idempotencyKey"] = f"{self.run_id}:user"
            message["__openclaw"] = {"senderIsOwner": True}
        self.delta += len(text) // 4
        self.context += len(text) // 4
        entry = self._message(message, ms)
        self.last_user_id = entry[0]["id"]
        return entry

    # -- assistant ---------------------------------------------------------------------

    def _tool_round(self, index: int) -> Iterator[Entry]:
        n_tools = 1 if self.rng.random() < 0.93 else self.rng.randint(2, 3)
        children, self.pending = self.pending, []
        uses = [self._spawn(child) for child in children]
        uses += [self.tools.call() for _ in range(n_tools)]
        content = self._thinking_blocks()
        if self.rng.random() < 0.15:
            content.append({"type": "text", "text": self._prose(20, 120)})
        content.extend(use.call_block for use in uses)
        output = self.rng.randint(15, 220) * len(uses) + self._block_tokens(content)
        entry = self._assistant(content, output, "toolUse", len(uses))
        yield entry
        started = entry[1]
        for n, use in enumerate(uses):
            if n < len(children):  # it starts while its spawn call runs (§12: both samples)
                children[n].move_to(started + use.duration_ms // 2)
            yield self._tool_result(use, started)
            started = self.clock
        if self.v4:
            yield self._cache_ttl(uses)

    def _spawn(self, child: SessionPlan) -> ToolUse:
        rng = random.Random(f"spawn-call:{self.shared.seed}:{child.index}")
        return self.tools.spawn(rng, child.key, child.run_id, child.spawn_label,
                                subagent_task(self.shared, child))

    def _final(self, heartbeat: bool) -> Iterator[Entry]:
        roll = self.rng.random()
        if roll < 0.012:
            yield self._error_stub()
            return
        if roll < 0.015:
            yield self._aborted()
            return
        content = self._thinking_blocks()
        text = "HEARTBEAT_OK" if heartbeat else self._answer_text()
        content.append({"type": "text", "text": text})
        yield self._assistant(content, len(text) // 4 + self._block_tokens(content) + 5,
                              "stop", 0)

    def _answer_text(self) -> str:
        r = self.rng.random()
        if r < 0.05:
            return "NO_REPLY"
        high = 1_200 if r < 0.08 else 300
        return self._prose(20, high)

    def _thinking_blocks(self) -> list[dict[str, Any]]:
        if self.plan.thinking == "off" or not self.spec.reasoning or self.rng.random() > 0.12:
            return []
        signature = self.shared.text.base64(self.rng, self.rng.randint(40, 200))
        return [{"type": "thinking", "thinking": self._prose(60, 500),
                 "thinkingSignature": signature}]

    @staticmethod
    def _block_tokens(content: list[dict[str, Any]]) -> int:
        return sum(len(block.get("thinking", "")) for block in content) // 4

    def _assistant(self, content: list[dict[str, Any]], output: int, stop: str,
                   n_tools: int) -> Entry:
        start = self._tick(self.rng.randint(10, 300))
        ms = self._tick(self._latency())
        usage = self._usage(output, ms)
        message = self._assistant_message(content, usage, stop, start)
        message["responseId"] = self.shared.response_id(self.spec, self.rng)
        if self.spec.dialect == "anthropic":
            message["responseModel"] = self.spec.model
        self._finish(message)
        self.shared.totals.add_call(self.spec, usage, stop_reason=stop, tools=n_tools,
                                    store=self.store, hour=self._hour(usage))
        return self._message(message, ms)

    def _hour(self, usage: tuple[int, int, int, int]) -> int:
        """The cache writes kept an hour: all of them with `cacheRetention: "long"`."""
        return usage[3] if long_cache(self.spec, self.plan.agent_id) else 0

    def _assistant_message(self, content: list[dict[str, Any]], usage: tuple[int, int, int, int],
                           stop: str, start: int) -> dict[str, Any]:
        usage_obj: dict[str, Any] = {
            "input": usage[0], "output": usage[1], "cacheRead": usage[2], "cacheWrite": usage[3]}
        if long_cache(self.spec, self.plan.agent_id) and any(usage):
            usage_obj["cacheWrite1h"] = self._hour(usage)  # newer pi (format §4.5)
        usage_obj.update(totalTokens=sum(usage),
                         cost=recorded_cost(self.spec, usage, self._hour(usage)))
        if self.spec.dialect == "anthropic" and any(usage):
            prompt = usage[0] + usage[2] + usage[3]
            usage_obj["contextUsage"] = {"state": "available", "promptTokens": prompt,
                                         "totalTokens": prompt + usage[1]}
        return {"role": "assistant", "content": content, "api": self.spec.api,
                "provider": self.spec.provider, "model": self.spec.model, "usage": usage_obj,
                "stopReason": stop, "timestamp": start}

    def _finish(self, message: dict[str, Any]) -> None:
        if self.v4:
            message["__openclaw"] = {"runId": self.run_id}

    def _latency(self) -> int:
        budget = min(45_000, self.per_call // 2)
        return int(self.rng.uniform(0.1, 1.0) * budget) + 150

    def _usage(self, output: int, ms: int) -> tuple[int, int, int, int]:
        """Prompt = running context; cached part as each dialect reports it (§4.5): none
        when the cache expired (or, rarely, was missed), else all but what is new since
        the call before."""
        prompt = self.context
        delta = min(self.delta, prompt)
        expired = self._cache_expired(ms)
        if self.spec.dialect == "anthropic":
            fresh = self.rng.randint(1, 12) if self.rng.random() < 0.7 else \
                self.rng.randint(50, 2_000)
            fresh = min(fresh, prompt)
            missed = self.rng.random() < STRAY_MISS or expired
            write = prompt - fresh if missed else min(delta, prompt - fresh)
            usage = (fresh, output, prompt - fresh - write, write)
        else:
            missed = self.rng.random() < STRAY_MISS or expired
            cached = 0 if missed else (prompt - delta) // 128 * 128
            usage = (prompt - cached, output, cached, 0)
        self.context += output
        self.delta = output
        return usage

    def _cache_expired(self, ms: int) -> bool:
        """Whether the provider dropped the cache: the pause since the last call that sent
        a context (a failed call sent none) is longer than the cache lives. Calls are timed
        by their entry's time, as the ingest dates them (the answer's end)."""
        last, self.cache_used = self.cache_used, ms
        long = long_cache(self.spec, self.plan.agent_id)
        return last is not None and ms - last > (
            LONG_CACHE_LIFETIME_MS if long else CACHE_LIFETIME_MS)

    def _error_stub(self) -> Entry:
        start = self.shared.unique_error_time(self.spec, self._tick(self.rng.randint(10, 300)))
        self.clock = start
        ms = self._tick(self.rng.randint(200, 20_000))
        code, kind, text = self.rng.choice(ERRORS)
        content = [] if self.v4 else [
            {"type": "text", "text": "[assistant turn failed before producing content]"}]
        message = self._assistant_message(content, (0, 0, 0, 0), "error", start)
        message.update(errorMessage=text, errorCode=code, errorType=kind,
                       errorBody=f'{{"message":"{text[4:]}","type":"{kind}","code":"{code}"}}')
        if self.v4:
            message["idempotencyKey"] = f"{self.run_id}:terminal-error"
        self._finish(message)
        self.shared.totals.add_call(self.spec, (0, 0, 0, 0), stop_reason="error", tools=0,
                                    store=self.store)
        return self._message(message, ms)

    def _aborted(self) -> Entry:
        start = self._tick(self.rng.randint(10, 300))
        ms = self._tick(self.rng.randint(500, 30_000))
        usage = self._usage(self.rng.randint(0, 40), ms)
        content = [{"type": "text", "text": self._prose(5, 120)}]
        message = self._assistant_message(content, usage, "aborted", start)
        message.update(responseId=self.shared.response_id(self.spec, self.rng),
                       errorMessage="Request was aborted")
        self._finish(message)
        self.shared.totals.add_call(self.spec, usage, stop_reason="aborted", tools=0,
                                    store=self.store, hour=self._hour(usage))
        return self._message(message, ms)

    def _delivery_mirror(self) -> Entry:
        ms = self._tick(40)
        text = f"✅ New session started · model: {self.spec.provider}/{self.spec.model}"
        message = {"role": "assistant", "content": [{"type": "text", "text": text}],
                   "api": "openai-responses", "provider": "openclaw", "model": "delivery-mirror",
                   "usage": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0,
                             "totalTokens": 0, "cost": dict(ZERO_COST)},
                   "stopReason": "stop", "timestamp": ms}
        self.shared.totals.synthetic_messages += 1
        return self._message(message, ms)

    # -- tool results ------------------------------------------------------------------

    def _tool_result(self, use: ToolUse, started: int) -> Entry:
        done = max(self.clock + 1, started + use.duration_ms)
        self.clock = done
        message: dict[str, Any] = {"role": "toolResult", "toolCallId": use.call_block["id"],
                                   "toolName": use.name,
                                   "content": [{"type": "text", "text": use.text}]}
        if use.details is not None:
            message["details"] = use.details
        message.update(isError=use.is_error, timestamp=done - 1)
        self._finish(message)
        self.delta += len(use.text) // 4
        self.context += len(use.text) // 4
        return self._message(message, done)

    def _cache_ttl(self, uses: list[ToolUse]) -> Entry:
        for use in uses:
            key = f"tool:{use.call_block['id']}:{self.clock - 1}"
            digest = base64.urlsafe_b64encode(self.rng.randbytes(32)).rstrip(b"=").decode()
            self.frozen.append({"key": key, "sourceHash": digest})
        self.frozen = self.frozen[-3:]
        return self._custom("openclaw.cache-ttl", {"prunedToolResults": [],
                                                   "ambiguousToolResultBaseKeys": [],
                                                   "frozenToolResults": list(self.frozen)})
