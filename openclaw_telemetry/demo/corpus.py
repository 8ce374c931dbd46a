"""Writing a realistic OpenClaw state directory of any size, deterministically.

`generate(out, options)` makes `out` an OpenClaw state directory (`openclaw.json`,
`agents/<id>/sessions/…`, `agents/<id>/agent/openclaw-agent.sqlite`, `cron/…`,
`state/openclaw.sqlite`) shaped like what OpenClaw 2026.7.1 (JSONL era) and 2026.9.6
(SQLite era) write (format §2, §4, §5, §10, §12): `plan.py` decides the sessions,
`entries.py` their lines, `writers.py` and `stores.py` the files. Output is streamed, so
memory stays small whatever the size; the same options always give the same bytes.

`out/expected_totals.json` (`EXPECTED_NAME`) holds what a correct ingest must find under
the accounting contract: LLM calls, the four token kinds and cost, every call counted once
even when it is stored twice (`.bak` copies, the duplicated `.zst` archive, mixed-era
imports). Its presence also marks `out` as generated: `clear_generated` only ever removes
such a folder. The product's demo (`build.py`) and the benchmark's corpora
(`bench/generate_corpus.py`) are both written here.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from openclaw_telemetry.demo.entries import SessionBuilder, Shared
from openclaw_telemetry.demo.models import openclaw_config
from openclaw_telemetry.demo.plan import (
    END_MS,
    CorpusPlan,
    SessionPlan,
    archive_stamp,
    plan_corpus,
    uuid4,
)
from openclaw_telemetry.demo.stores import (
    SessionRecord,
    write_cron,
    write_db_sessions,
    write_session_stores,
    write_subagent_runs,
)
from openclaw_telemetry.demo.writers import (
    AgentDb,
    BakSplitSink,
    DeletionArchiveSink,
    JsonlSink,
    Sink,
    Tee,
    TrajectorySink,
    ZstSink,
)
from openclaw_telemetry.errors import TelemetryError
from openclaw_telemetry.sources.discover import AGENT_DB_NAME, IMPORT_ARCHIVE_DIR

GENERATOR_VERSION = 4
EXPECTED_NAME = "expected_totals.json"


@dataclass(frozen=True, slots=True)
class Options:
    """What to generate. `era`: "jsonl" (2026.7), "sqlite" (2026.9) or "mixed" (an install
    upgraded from one to the other); `files`: transcripts (default calls/50, at most 2,000);
    `max_file_mb`: make the main agent's main session one file of about that size;
    `end_ms`: when the history ends (epoch ms), `days` before it is when it starts."""

    calls: int
    era: str = "jsonl"
    agents: int = 3
    files: int | None = None
    seed: int = 42
    max_file_mb: float | None = None
    days: int = 60
    end_ms: int = END_MS


class NotGeneratedError(TelemetryError):
    """A folder to replace holds something else than a generated state directory."""


def clear_generated(out: Path) -> None:
    """Remove `out` when it holds a generated state directory; leave it when it is missing
    or empty; refuse anything else (never remove a folder someone else filled)."""
    if not out.exists() or not any(out.iterdir()):
        return
    if not (out / EXPECTED_NAME).is_file():
        raise NotGeneratedError(f"{out} is not empty and holds no generated OpenClaw data "
                                f"({EXPECTED_NAME}): not replacing it")
    shutil.rmtree(out)


def generate(out: Path, options: Options) -> dict[str, Any]:
    """Write the state directory into `out` (an empty or missing directory); return the
    expected totals, also written to `out/expected_totals.json`."""
    plan = plan_corpus(calls=options.calls, era=options.era, agents=options.agents,
                       files=options.files, seed=options.seed,
                       max_file_mb=options.max_file_mb, days=options.days,
                       end_ms=options.end_ms)
    shared = Shared(options.seed)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "openclaw.json", openclaw_config(plan.agents))
    dbs: dict[str, AgentDb] = {}
    # a sub-agent starts when its parent's spawn call runs (entries.py): parents go first
    parents_first = sorted(plan.sessions, key=lambda s: s.kind == "subagent")
    records = [_write_session(s, plan, shared, out, dbs) for s in parents_first]
    write_session_stores(out, plan, records)
    write_db_sessions(dbs, records)
    write_subagent_runs(out, records)
    write_cron(out, plan, records)
    for db in dbs.values():
        db.close()
    expected = {
        "about": "Totals a correct ingest must find (accounting.md): every LLM call once.",
        "generator": {"module": __name__, "version": GENERATOR_VERSION},
        "options": asdict(options),
        **shared.totals.as_dict(),
        "sessions": len(plan.sessions),
        "appended_calls": 0,
    }
    write_json(out / EXPECTED_NAME, expected)
    return expected


def _write_session(plan: SessionPlan, corpus: CorpusPlan, shared: Shared, out: Path,
                   dbs: dict[str, AgentDb]) -> SessionRecord:
    before = _usage_snapshot(shared)
    sink, in_db, duplicated = _open_sinks(plan, corpus, shared, out, dbs)
    end = plan.start_ms
    for entry, ms in SessionBuilder(plan, shared, _store_label(plan, corpus.era)).entries():
        sink.write(orjson.dumps(entry), entry, ms)
        end = ms
    sink.close()
    after = _usage_snapshot(shared)
    calls = after[0] - before[0]
    if duplicated:
        shared.totals.duplicated_calls += calls
    tokens = (after[1] - before[1], after[2] - before[2], after[3] - before[3],
              after[4] - before[4])
    return SessionRecord(plan, end, calls, tokens, after[5] - before[5], in_db)


def _usage_snapshot(shared: Shared) -> tuple[int, int, int, int, int, float]:
    t = shared.totals
    return (t.llm_calls, t.input_tokens, t.output_tokens, t.cache_read_tokens,
            t.cache_write_tokens, t.cost)


def _store_label(plan: SessionPlan, era: str) -> str:
    """Where a call was first stored, for the `calls_by_store` breakdown."""
    if plan.storage == "jsonl":
        if era == "mixed":
            return "file:import-archive"
        return {"reset": "file:reset", "deleted": "file:deleted"}.get(plan.fate, "file:primary")
    return {"deleted": "file:deleted-zst", "cold": "file:cold-zst"}.get(
        plan.fate, "sqlite:transcript_events")


def _open_sinks(plan: SessionPlan, corpus: CorpusPlan, shared: Shared, out: Path,
                dbs: dict[str, AgentDb]) -> tuple[Sink, bool, bool]:
    """The sink(s) of one session; also whether it is in a database and stored twice."""
    if plan.storage == "jsonl":
        return _jsonl_sinks(plan, corpus, shared, out, dbs)
    agent = out / "agents" / plan.agent_id
    sid = plan.session_id
    if plan.fate == "deleted":
        return DeletionArchiveSink(agent / "sessions" / _deleted_zst_name(plan),
                                   _db(dbs, out, plan.agent_id, corpus.seed), sid, plan.key,
                                   _generation(plan), plan.fate_ms), False, False
    if plan.fate == "cold":
        digest = hashlib.sha256(sid.encode()).hexdigest()
        return ZstSink(agent / "sessions" / "cold" / f"{digest}.jsonl.zst"), False, False
    db_sink = _db(dbs, out, plan.agent_id, corpus.seed).sink(sid)
    if plan.zst_copy:
        return Tee([db_sink, ZstSink(agent / "sessions" / _deleted_zst_name(plan))]), True, True
    return db_sink, True, False


def _jsonl_sinks(plan: SessionPlan, corpus: CorpusPlan, shared: Shared, out: Path,
                 dbs: dict[str, AgentDb]) -> tuple[Sink, bool, bool]:
    agent = out / "agents" / plan.agent_id
    folder = agent / (IMPORT_ARCHIVE_DIR if corpus.era == "mixed" else "sessions")
    sid = plan.session_id
    path = folder / _jsonl_name(plan)
    rng = random.Random(f"extras:{corpus.seed}:{plan.index}")
    sinks: list[Sink] = []
    if plan.bak:
        split = max(1, int(plan.calls * rng.uniform(0.4, 0.8)))
        sinks.append(BakSplitSink(path, split, rng.randint(20, 80), shared.totals))
    else:
        sinks.append(JsonlSink(path))
    if plan.sidecar:
        sinks.append(TrajectorySink(folder / f"{sid}.trajectory.jsonl", sid, plan.key,
                                    plan.agent_id))
    if plan.checkpoint:
        sinks.append(JsonlSink(folder / f"{sid}.checkpoint.{uuid4(rng)}.jsonl"))
    if plan.imported:
        sinks.append(_db(dbs, out, plan.agent_id, corpus.seed).sink(sid))
    sink: Sink = sinks[0] if len(sinks) == 1 else Tee(sinks)
    return sink, plan.imported, plan.imported


def _jsonl_name(plan: SessionPlan) -> str:
    if plan.fate in ("reset", "deleted"):
        return f"{plan.session_id}.jsonl.{plan.fate}.{archive_stamp(plan.fate_ms)}"
    return f"{plan.session_id}.jsonl"


def _deleted_zst_name(plan: SessionPlan) -> str:
    return (f"{plan.session_id}.jsonl.deleted.{archive_stamp(plan.fate_ms)}."
            f"{_generation(plan)}.zst")


def _generation(plan: SessionPlan) -> str:
    """The 32 hex digits naming a deletion archive's generation (§12.2)."""
    return hashlib.md5(f"archive:{plan.session_id}".encode()).hexdigest()


def _db(dbs: dict[str, AgentDb], out: Path, agent_id: str, seed: int) -> AgentDb:
    if agent_id not in dbs:
        path = out / "agents" / agent_id / "agent" / AGENT_DB_NAME
        dbs[agent_id] = AgentDb(path, agent_id, seed, 1_790_000_000_000)
    return dbs[agent_id]


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a JSON document atomically (a reader never sees half of it)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    tmp.replace(path)
