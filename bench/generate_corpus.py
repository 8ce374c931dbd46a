"""The benchmark's corpora: OpenClaw state directories of any size, deterministically.

    python bench/generate_corpus.py OUT_DIR --calls N [--era jsonl|sqlite|mixed]
        [--agents K] [--files F] [--seed S] [--max-file-mb M] [--days D] [--force]
    python bench/generate_corpus.py --append-one DIR

The command line of the product's generator, `openclaw_telemetry.demo.corpus` (the one
`start.sh --demo` runs; see it and its modules for what goes where, format §2, §4, §5, §10,
§12). `--files` is the number of transcripts (JSONL files, or sessions in the databases);
`--max-file-mb` makes the main agent's main session one file of about that size. The same
arguments always give the same bytes.

`OUT_DIR/expected_totals.json` holds what a correct ingest must find under
`accounting.md`, plus the corpus's size counted by `corpus_files.py` (which the bench
keeps independent of the package it measures).

`--append-one DIR` appends exactly one LLM call (a user message and an assistant reply) to
the largest primary `.jsonl` of DIR — or, in a SQLite-era corpus, to the largest session
in the agent database — and updates `expected_totals.json`.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import zstandard
from corpus_files import AGENT_DB, corpus_size, transcript_files

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from openclaw_telemetry.demo.corpus import (
    EXPECTED_NAME,
    GENERATOR_VERSION,
    NotGeneratedError,
    Options,
    clear_generated,
    generate,
    write_json,
)
from openclaw_telemetry.demo.models import MODELS, recorded_cost
from openclaw_telemetry.demo.plan import END_MS, iso_ms, uuid4

__all__ = ["EXPECTED_NAME", "GENERATOR_VERSION", "append_one", "generate_corpus"]


def generate_corpus(out: Path, options: Options) -> dict[str, Any]:
    """Generate the corpus, then add its size and largest file to the expected totals."""
    expected = generate(out, options)
    files = list(transcript_files(out))
    largest = max(files, key=lambda p: p.stat().st_size, default=None)
    expected["size"] = corpus_size(out)
    expected["largest_file"] = {"path": str(largest.relative_to(out)) if largest else None,
                                "bytes": largest.stat().st_size if largest else 0}
    write_json(out / EXPECTED_NAME, expected)
    return expected


# -- append one call -----------------------------------------------------------------


def append_one(root: Path) -> dict[str, Any]:
    """Append exactly one LLM call to the corpus at `root` and update its expected totals."""
    expected_path = root / EXPECTED_NAME
    expected = json.loads(expected_path.read_text())
    primaries = [p for p in transcript_files(root) if p.name.endswith(".jsonl")
                 and p.parent.name == "sessions"]
    serial = int(expected.get("appended_calls", 0)) + 1
    if primaries:
        target = max(primaries, key=lambda p: (p.stat().st_size, p.name))
        usage, cost = _append_to_file(target, serial)
        where = str(target.relative_to(root))
    else:
        usage, cost, where = _append_to_database(root, serial)
    _add_to_expected(expected, usage, cost)
    write_json(expected_path, expected)
    return {"appended_to": where, "llm_calls": expected["llm_calls"]}


def _append_to_file(path: Path, serial: int) -> tuple[tuple[int, int, int, int], float]:
    last = _last_line(path)
    lines, usage, cost = _one_call(orjson.loads(last), serial, path.stat().st_size)
    with path.open("ab") as file:
        file.write(b"".join(line + b"\n" for line, _ in lines))
    return usage, cost


def _last_line(path: Path) -> bytes:
    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - 1_048_576))
        tail = file.read()
    return tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]


def _append_to_database(root: Path, serial: int) -> tuple[tuple[int, int, int, int], float, str]:
    path = next(iter(sorted(root.glob(f"agents/*/agent/{AGENT_DB}"))))
    conn = sqlite3.connect(path)
    with conn:
        sid, seq = conn.execute("SELECT session_id, max(seq) FROM transcript_events "
                                "GROUP BY session_id ORDER BY count(*) DESC, session_id "
                                "LIMIT 1").fetchone()
        text, blob = conn.execute("SELECT event_json, event_zstd FROM transcript_events "
                                  "WHERE session_id = ? AND seq = ?", (sid, seq)).fetchone()
        last = text.encode() if text is not None else zstandard.ZstdDecompressor().decompress(blob)
        lines, usage, cost = _one_call(orjson.loads(last), serial, seq)
        for offset, (line, ms) in enumerate(lines, start=1):
            conn.execute("INSERT INTO transcript_events (session_id, seq, event_json, "
                         "created_at, event_utf8_bytes) VALUES (?, ?, ?, ?, ?)",
                         (sid, seq + offset, line.decode(), ms, len(line)))
    conn.close()
    return usage, cost, f"{path.relative_to(root)}#{sid}"


def _one_call(last: dict[str, Any], serial: int, salt: int,
              ) -> tuple[list[tuple[bytes, int]], tuple[int, int, int, int], float]:
    """A user message and one assistant reply, chained after `last`, same id style."""
    rng = random.Random(f"append:{serial}:{salt}")
    v4 = len(str(last.get("id", ""))) > 8
    spec = MODELS[0]
    base_ms = _entry_ms(last) + 60_000
    user_id, reply_id = (uuid4(rng), uuid4(rng)) if v4 else (
        f"{rng.getrandbits(32):08x}", f"{rng.getrandbits(32):08x}")
    usage = (rng.randint(1, 12), rng.randint(20, 400), rng.randint(20_000, 60_000),
             rng.randint(0, 2_000))
    cost = recorded_cost(spec, usage)
    user = {"type": "message", "id": user_id, "parentId": last.get("id"),
            "timestamp": iso_ms(base_ms),
            "message": {"role": "user", "content": "One more question, appended by the bench.",
                        "timestamp": base_ms - 400}}
    reply = {"type": "message", "id": reply_id, "parentId": user_id,
             "timestamp": iso_ms(base_ms + 1_500),
             "message": {"role": "assistant",
                         "content": [{"type": "text", "text": "Here is the answer."}],
                         "api": spec.api, "provider": spec.provider, "model": spec.model,
                         "usage": {"input": usage[0], "output": usage[1], "cacheRead": usage[2],
                                   "cacheWrite": usage[3], "totalTokens": sum(usage),
                                   "cost": cost},
                         "stopReason": "stop", "timestamp": base_ms + 30,
                         "responseId": f"msg_01ap{serial:06d}{salt:012x}"}}
    lines = [(orjson.dumps(user), base_ms), (orjson.dumps(reply), base_ms + 1_500)]
    return lines, usage, cost["total"]


def _entry_ms(entry: dict[str, Any]) -> int:
    stamp = entry.get("timestamp")
    if isinstance(stamp, str):
        return int(datetime.fromisoformat(stamp).timestamp() * 1000)
    return int(time.time() * 1000)


def _add_to_expected(expected: dict[str, Any], usage: tuple[int, int, int, int],
                     cost: float) -> None:
    expected["llm_calls"] += 1
    for key, value in zip(("input_tokens", "output_tokens", "cache_read_tokens",
                           "cache_write_tokens"), usage, strict=True):
        expected[key] += value
    expected["cost"] = round(expected["cost"] + cost, 8)
    expected["appended_calls"] = int(expected.get("appended_calls", 0)) + 1
    by_store = expected.setdefault("calls_by_store", {})
    by_store["appended"] = by_store.get("appended", 0) + 1


# -- command line ----------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", nargs="?", help="state directory to create")
    parser.add_argument("--calls", type=int, help="number of LLM calls (required)")
    parser.add_argument("--era", choices=("jsonl", "sqlite", "mixed"), default="jsonl")
    parser.add_argument("--agents", type=int, default=3, help="number of agents (default 3)")
    parser.add_argument("--files", type=int, help="transcripts (default calls/50, max 2000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-file-mb", type=float,
                        help="make the main session one file of about this many MB")
    parser.add_argument("--days", type=int, default=60, help="history length (default 60)")
    parser.add_argument("--end", type=_end_ms, default=END_MS, metavar="YYYY-MM-DD|now",
                        help="when the history ends (default 2026-11-24, fixed so corpora are "
                             "reproducible; `now`: this minute)")
    parser.add_argument("--force", action="store_true",
                        help="replace OUT_DIR if it holds an earlier generated corpus")
    parser.add_argument("--append-one", metavar="DIR",
                        help="append one LLM call to an existing corpus and exit")
    args = parser.parse_args(argv)
    if args.append_one is None and (args.out_dir is None or args.calls is None):
        parser.error("OUT_DIR and --calls are required (or use --append-one DIR)")
    if args.calls is not None and args.calls < 1:
        parser.error("--calls must be at least 1")
    if args.agents < 1 or (args.files is not None and args.files < 1):
        parser.error("--agents and --files must be at least 1")
    return args


def _end_ms(value: str) -> int:
    """`YYYY-MM-DD` (midnight UTC) or `now` (this minute) -> epoch ms."""
    if value == "now":
        return int(time.time() // 60 * 60_000)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r}") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.append_one is not None:
        target = Path(args.append_one)
        if not (target / EXPECTED_NAME).is_file():
            sys.exit(f"error: {target} has no {EXPECTED_NAME}: not a generated corpus")
        print(json.dumps(append_one(target)))
        return 0
    out = Path(args.out_dir)
    if out.exists() and any(out.iterdir()) and not args.force:
        sys.exit(f"error: {out} is not empty (use --force to replace a generated corpus)")
    try:
        clear_generated(out)
    except NotGeneratedError as exc:
        sys.exit(f"error: {exc}")
    options = Options(args.calls, args.era, args.agents, args.files, args.seed,
                      args.max_file_mb, args.days, args.end)
    started = time.perf_counter()
    expected = generate_corpus(out, options)
    size = expected["size"]
    print(json.dumps({"out": str(out), "seconds": round(time.perf_counter() - started, 2),
                      "llm_calls": expected["llm_calls"],
                      "transcript_files": size["transcript_files"],
                      "transcript_mb": round(size["transcript_bytes"] / 1e6, 1),
                      "database_mb": round(size["database_bytes"] / 1e6, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
