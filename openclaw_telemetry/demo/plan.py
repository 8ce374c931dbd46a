"""The shape of a generated OpenClaw history, decided before any byte is written.

`plan_corpus` turns the generator's options into a list of `SessionPlan`s: which agent,
session key and kind (main, direct, group, channel, cron run, sub-agent; format §3.1),
how many LLM calls, when it ran, where it is stored (JSONL file or agent database,
format §2, §10), what became of it (current, reset, deleted, orphan, cold) and which
session spawned each sub-agent. Every choice comes from one `random.Random(seed)` (a
sub-agent's run id from one of its own), so the same arguments always give the same plan.
Sessions are small records; a million-call corpus plans in a few milliseconds.
"""

from __future__ import annotations

import functools
import math
import random
import time
from dataclasses import dataclass, field

from openclaw_telemetry.demo.models import MODEL_WEIGHTS, MODELS, ModelSpec

END_MS = 1_795_478_400_000  # 2026-11-24T00:00:00Z, fixed so corpora are reproducible
DAY_MS = 86_400_000
BYTES_PER_CALL = 1_400  # average file bytes per call, used to size --max-file-mb sessions

AGENT_NAMES = ("main", "work", "ops", "research", "support", "coder", "family", "sales")
CHAT_KINDS = ("main", "direct", "group", "channel")
KIND_SHARES = {"cron": 0.25, "subagent": 0.25, "main": 0.08, "direct": 0.22,
               "group": 0.12, "channel": 0.08}
CRON_NAMES = ("hourly-tick", "inbox-triage", "daily-digest", "repo-watch", "backup-check",
              "price-alerts", "standup-notes", "feed-reader")
THINKING = ("off", "minimal", "low", "medium", "high")


@dataclass(frozen=True, slots=True)
class CronJob:
    job_id: str
    name: str
    agent_id: str


@dataclass(slots=True)
class SessionPlan:
    """One OpenClaw sessionId and everything needed to write it."""

    index: int
    session_id: str
    agent_id: str
    kind: str
    key: str
    calls: int
    start_ms: int = 0
    span_ms: int = 0
    storage: str = "jsonl"  # "jsonl" or "sqlite"
    fate: str = "current"  # current | reset | deleted | orphan | cold
    fate_ms: int = 0
    model: ModelSpec = MODELS[0]
    thinking: str = "off"
    cron_job: CronJob | None = None
    after_reset: bool = False
    bak: bool = False
    sidecar: bool = False
    checkpoint: bool = False
    zst_copy: bool = False
    imported: bool = False
    parent_key: str | None = None  # a sub-agent's: the key of the session that spawned it
    run_id: str = ""  # a sub-agent's run id, in its parent's spawn result
    children: list[SessionPlan] = field(default_factory=list, repr=False)  # it spawned
    big: bool = False

    @property
    def version(self) -> int:
        """Session header version: 3 for JSONL-era files, 4 for SQLite-era rows (§12)."""
        return 3 if self.storage == "jsonl" else 4

    @property
    def spawn_label(self) -> str:
        """A sub-agent's label: its parent's spawn call names it, its store entry keeps it."""
        return f"sub-{self.session_id[:6]}"

    def move_to(self, start_ms: int) -> None:
        """Start at `start_ms`; what became of it follows after the same delay."""
        self.fate_ms += start_ms - self.start_ms
        self.start_ms = start_ms


@dataclass(slots=True)
class CorpusPlan:
    seed: int
    era: str
    agents: list[str]
    sessions: list[SessionPlan]
    cron_jobs: list[CronJob] = field(default_factory=list)
    days: int = 60


@functools.lru_cache(maxsize=8192)
def _iso_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def iso_ms(ms: int) -> str:
    """ISO-8601 with milliseconds and Z, as OpenClaw writes entry timestamps."""
    second, milli = divmod(ms, 1000)
    return f"{_iso_second(second)}.{milli:03d}Z"


def archive_stamp(ms: int) -> str:
    """The timestamp in archive names: ISO with `:` replaced by `-` (format §2.2)."""
    return iso_ms(ms).replace(":", "-")


def uuid4(rng: random.Random) -> str:
    """A UUID-4-shaped id drawn from `rng` (deterministic, unlike uuid.uuid4)."""
    h = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def plan_corpus(*, calls: int, era: str, agents: int, files: int | None, seed: int,
                max_file_mb: float | None, days: int = 60, end_ms: int = END_MS) -> CorpusPlan:
    """Decide every session of the corpus (see module docstring)."""
    rng = random.Random(seed)
    agent_ids = _agent_ids(agents)
    n_files = files if files is not None else default_files(calls)
    n_bak = 0 if era == "sqlite" else n_files // 100
    n_sessions = max(1, min(calls, n_files - n_bak))
    sessions = _draw_sessions(rng, agent_ids, n_sessions)
    jobs = _assign_keys(rng, sessions)
    _allocate_calls(rng, sessions, calls, max_file_mb)
    _place_in_time(rng, sessions, days, end_ms)
    _assign_storage(sessions, era, days, end_ms)
    _assign_fates(rng, sessions)
    _assign_parents(seed, sessions)
    _assign_models(rng, sessions)
    _assign_extras(rng, sessions, n_bak, era)
    return CorpusPlan(seed, era, agent_ids, sessions, jobs, days)


def default_files(calls: int) -> int:
    """~50 calls per file, at most 2,000 files (100k calls -> 2,000 files)."""
    return max(1, min(2_000, calls // 50))


def _agent_ids(count: int) -> list[str]:
    names = list(AGENT_NAMES[:count])
    names += [f"agent{n}" for n in range(len(names), count)]
    return names


def _draw_sessions(rng: random.Random, agent_ids: list[str], count: int) -> list[SessionPlan]:
    kinds = list(KIND_SHARES)
    weights = list(KIND_SHARES.values())
    agent_weights = [4.0] + [max(1.0, 4.0 / len(agent_ids))] * (len(agent_ids) - 1)
    sessions = []
    for index in range(count):
        agent = agent_ids[0] if index == 0 else rng.choices(agent_ids, agent_weights)[0]
        kind = "main" if index == 0 else rng.choices(kinds, weights)[0]
        sessions.append(SessionPlan(index, uuid4(rng), agent, kind, "", 0))
    return sessions


def _assign_keys(rng: random.Random, sessions: list[SessionPlan]) -> list[CronJob]:
    """Session keys (format §3.1): several sessions share a chat key (reset chains)."""
    pools: dict[tuple[str, str], list[str]] = {}
    jobs: dict[str, list[CronJob]] = {}
    for plan in sessions:
        if plan.kind == "cron":
            plan.cron_job = _cron_job(rng, jobs, plan.agent_id)
            plan.key = f"agent:{plan.agent_id}:cron:{plan.cron_job.job_id}"
        elif plan.kind == "subagent":
            plan.key = f"agent:{plan.agent_id}:subagent:{uuid4(rng)}"
        elif plan.kind == "main":
            plan.key = f"agent:{plan.agent_id}:main"
        else:
            pool = pools.setdefault((plan.agent_id, plan.kind), [])
            if not pool or rng.random() < 0.3:
                pool.append(_chat_key(rng, plan.agent_id, plan.kind))
            plan.key = rng.choice(pool)
    return [job for agent_jobs in jobs.values() for job in agent_jobs]


def _cron_job(rng: random.Random, jobs: dict[str, list[CronJob]], agent_id: str) -> CronJob:
    agent_jobs = jobs.setdefault(agent_id, [])
    if not agent_jobs or (len(agent_jobs) < len(CRON_NAMES) and rng.random() < 0.05):
        agent_jobs.append(CronJob(uuid4(rng), CRON_NAMES[len(agent_jobs)], agent_id))
    return rng.choice(agent_jobs)


def _chat_key(rng: random.Random, agent_id: str, kind: str) -> str:
    if kind == "direct":
        return f"agent:{agent_id}:telegram:direct:{rng.randrange(10**8, 10**10)}"
    if kind == "group":
        return f"agent:{agent_id}:telegram:group:-100{rng.randrange(10**9, 10**10)}"
    return f"agent:{agent_id}:discord:channel:{rng.randrange(10**17, 10**18)}"


def _allocate_calls(rng: random.Random, sessions: list[SessionPlan], calls: int,
                    max_file_mb: float | None) -> None:
    """Heavy-tailed sizes: cron runs and sub-agents are small, chats log-normal."""
    budget = calls
    if max_file_mb:
        big = sessions[0]
        big.big = True
        big.calls = max(1, min(calls - (len(sessions) - 1),
                               int(max_file_mb * 1_000_000 / BYTES_PER_CALL)))
        budget -= big.calls
    rest = [s for s in sessions if not s.big]
    weights = [_size_weight(rng, s.kind) for s in rest]
    _split(budget, rest, weights)


def _size_weight(rng: random.Random, kind: str) -> float:
    if kind == "cron":
        return float(rng.randint(2, 5))
    if kind == "subagent":
        return float(rng.randint(2, 12))
    scale = 120.0 if kind == "main" else 40.0  # the main session gathers heartbeats
    return scale * rng.lognormvariate(0.0, 1.3)


def _split(budget: int, sessions: list[SessionPlan], weights: list[float]) -> None:
    """Largest-remainder split of `budget` calls, at least one per session."""
    if not sessions:
        return
    spare = budget - len(sessions)
    total = sum(weights)
    shares = [spare * w / total for w in weights]
    counts = [int(share) for share in shares]
    order = sorted(range(len(sessions)), key=lambda i: counts[i] - shares[i])
    for i in order[: spare - sum(counts)]:
        counts[i] += 1
    for plan, count in zip(sessions, counts, strict=True):
        plan.calls = count + 1


def _place_in_time(rng: random.Random, sessions: list[SessionPlan], days: int,
                   end_ms: int) -> None:
    window = days * DAY_MS
    for plan in sessions:
        per_call = 20_000 if plan.kind in ("cron", "subagent") else 45_000
        plan.span_ms = int(window * 0.95) if plan.big else min(window // 2,
                                                                plan.calls * per_call)
        latest = end_ms - plan.span_ms - 3_600_000
        plan.start_ms = rng.randrange(end_ms - window, max(end_ms - window + 1, latest))


def _assign_storage(sessions: list[SessionPlan], era: str, days: int, end_ms: int) -> None:
    cutover = end_ms - int(days * DAY_MS * 0.4)
    for plan in sessions:
        if era == "mixed":
            plan.storage = "jsonl" if plan.start_ms < cutover else "sqlite"
        else:
            plan.storage = era


def _assign_fates(rng: random.Random, sessions: list[SessionPlan]) -> None:
    """Reset chains, deleted sub-agents and cron runs, orphaned cron files (§2.3, §12.3).
    Sub-agents are mostly kept (spawned with `cleanup: "keep"`, as both samples' were, with
    no archive time set); a tenth are deleted after they report (`cleanup: "delete"`)."""
    by_key: dict[tuple[str, str], list[SessionPlan]] = {}
    for plan in sessions:
        by_key.setdefault((plan.key, plan.storage), []).append(plan)
    for chain in by_key.values():
        chain.sort(key=lambda s: (s.start_ms, s.index))
        for position, plan in enumerate(chain):
            last = position == len(chain) - 1
            _fate(rng, plan, last, chain[position + 1] if not last else None)


def _fate(rng: random.Random, plan: SessionPlan, last: bool, successor: SessionPlan | None,
          ) -> None:
    end = plan.start_ms + plan.span_ms
    plan.fate_ms = successor.start_ms if successor else end + rng.randrange(60_000, DAY_MS)
    if plan.big or (last and plan.kind in ("main", "cron")):
        plan.fate = "current"
    elif plan.kind in CHAT_KINDS:
        plan.fate = ("deleted" if rng.random() < 0.1 else "current") if last else "reset"
    elif plan.kind == "cron":
        plan.fate = "deleted" if rng.random() < 0.6 else "orphan"
    else:
        plan.fate = "deleted" if rng.random() < 0.1 else "current"
    if successor is not None and plan.kind in CHAT_KINDS:
        successor.after_reset = True
    if plan.storage == "sqlite" and plan.fate in ("reset", "orphan") and rng.random() < 0.02:
        plan.fate = "cold"


def _assign_parents(seed: int, sessions: list[SessionPlan]) -> None:
    """Who spawned each sub-agent (`spawnedBy`, format §3.2): a chat session that can have
    spawned it, with two calls per child (entries.py starts each child during its spawn
    call) and no later session of its key starting before it ends, so that the key still
    names the parent when the child starts. Sessions OpenClaw still names (`_remembered`)
    come first, then those of the sub-agent's agent; of these, the one that started nearest
    the time drawn for the sub-agent. The sub-agents a parser cannot link are realistic
    orphans: those deleted in the JSONL era (their store entry is gone, §3) and any whose
    only possible parent OpenClaw forgot. A sub-agent is stored like its parent: they run
    at the same time."""
    starts: dict[str, list[int]] = {}
    for plan in sessions:
        starts.setdefault(plan.key, []).append(plan.start_ms)
    spawners = [s for s in sessions if s.kind in CHAT_KINDS and all(
        not s.start_ms < other <= s.start_ms + s.span_ms for other in starts[s.key])]
    for child in (s for s in sessions if s.kind == "subagent"):
        child.run_id = uuid4(random.Random(f"spawn:{seed}:{child.index}"))
        able = [s for s in spawners if s.calls >= 2 * (len(s.children) + 1)]
        pool = [s for s in able if _remembered(s)] or able
        pool = [s for s in pool if s.agent_id == child.agent_id] or pool
        if pool:
            parent = min(pool, key=lambda s: (abs(s.start_ms - child.start_ms), s.index))
            parent.children.append(child)
            child.parent_key = parent.key
            child.storage = parent.storage


def _remembered(plan: SessionPlan) -> bool:
    """Whether OpenClaw still names the session's key: 2026.7's `sessions.json` only while
    it is current, 2026.9's agent database unless it went to cold storage (§3, §10)."""
    return plan.fate == "current" if plan.storage == "jsonl" else plan.fate != "cold"


def _assign_models(rng: random.Random, sessions: list[SessionPlan]) -> None:
    for plan in sessions:
        weights = MODEL_WEIGHTS["chat" if plan.kind in CHAT_KINDS else "small"]
        plan.model = rng.choices(MODELS, weights)[0]
        plan.thinking = rng.choice(THINKING[2:]) if plan.model.reasoning else "off"


def _assign_extras(rng: random.Random, sessions: list[SessionPlan], n_bak: int,
                   era: str) -> None:
    """.bak copies, trajectory sidecars, checkpoint copies, the duplicated zst archive."""
    primaries = [s for s in sessions if s.storage == "jsonl" and s.fate == "current"
                 and s.kind in CHAT_KINDS and s.calls >= 20 and not s.big]
    for plan in rng.sample(primaries, min(n_bak, len(primaries))):
        plan.bak = True
    for plan in sessions:
        plan.sidecar = plan.storage == "jsonl" and rng.random() < 0.1
        plan.checkpoint = (plan.storage == "jsonl" and plan.calls <= 40
                           and rng.random() < 0.005)
        plan.imported = era == "mixed" and plan.storage == "jsonl" and plan.fate == "current"
    in_db = [s for s in sessions if s.storage == "sqlite" and s.fate == "current"
             and 3 <= s.calls <= 200 and not s.big]
    if in_db:
        min(in_db, key=lambda s: (abs(math.log(s.calls / 30)), s.index)).zst_copy = True
