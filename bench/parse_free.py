"""A cold ingest with the parsing for free: what the rest of the ingest costs on its own.

    python bench/parse_free.py CORPUS [--runs N]

Issue 15 asks whether faster parsing (compiled entry rules) would bring the cold ingest
within its targets. This answers it by measurement rather than by adding up profiles:

1. `record`: a cold ingest of CORPUS in one process (`--jobs 1`) that keeps, in order, every
   slice the writer is handed (`Writer.flush`: the source, its read state, its prepared rows).
2. `replay`, N times: a cold ingest into a fresh database in one process where reading a
   file hands the writer those recorded slices instead (`read_jsonl` replaced), so nothing is
   read, decoded, parsed or prepared, and nothing crosses a pipe; everything else is the
   product's own code: start-up, planning, the writer, the index rebuild, learning,
   finalizing. The recorded rows are loaded before the clock starts.

Prints `{"in_process_seconds": <median>, "calls": <count>}`: the replay's `elapsed_seconds`
(its run summary), to which `run_bench.py` adds the import floor for the whole command. Each
replayed database is checked to hold the same calls and sums as the recording one. JSONL era
only (`read_jsonl`).
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench_measure import REPO, db_totals, run_command

sys.path.insert(0, str(REPO))


def _ingest_args(corpus: str, db: str) -> list[str]:
    return ["--sessions-dir", corpus, "--db", db, "--jobs", "1", "--json", "-q"]


def record(corpus: str, db: str, rows_file: str) -> None:
    """A cold ingest that keeps every slice handed to the writer, by file, in order."""
    from openclaw_telemetry import cli
    from openclaw_telemetry.ingest.prepare import prepare
    from openclaw_telemetry.ingest.writer import Writer

    kept: dict[str, list[tuple[int, dict[str, Any], Any]]] = {}

    def flush(self: Writer, state: Any, batch: Any) -> None:
        rows = prepare(batch, self.place(state))
        values = state.values()
        kept.setdefault(str(state.path), []).append((state.source_id, values, rows))
        self.add(state.source_id, values, rows)

    Writer.flush = flush  # type: ignore[method-assign]
    try:
        cli.main(_ingest_args(corpus, db))
    finally:  # (main ends the process itself)
        with open(rows_file, "wb") as out:
            pickle.dump(kept, out, protocol=pickle.HIGHEST_PROTOCOL)


def replay(corpus: str, db: str, rows_file: str) -> None:
    """A cold ingest whose files are not read: the writer gets the recorded slices."""
    with open(rows_file, "rb") as source:
        kept = pickle.load(source)
    from openclaw_telemetry import cli
    from openclaw_telemetry.ingest import run

    def read_jsonl(path: Path, _stat: Any, state: Any, _compressed: bool, _hint: str,
                   writer: Any, _progress: Any) -> None:
        if str(path) not in kept:
            sys.exit(f"{path}: planned now, not read by the recording ingest")
        for source_id, values, rows in kept[str(path)]:
            if source_id != state.source_id:  # (the rows name it: same planning, same ids)
                sys.exit(f"{path}: source {state.source_id} now, {source_id} when recorded")
            writer.add(source_id, values, rows)
            for name, value in values.items():
                setattr(state, name, value)

    run.read_jsonl = read_jsonl  # type: ignore[attr-defined]
    cli.main(_ingest_args(corpus, db))  # (it ends the process)


def _elapsed(stdout: str) -> float:
    return float(json.loads(stdout)["elapsed_seconds"])


def _as_session_parser() -> None:
    """Start as `session_parser.py` does: the cyclic collector off, the stop signals noted."""
    gc.disable()
    from openclaw_telemetry import stopping

    stopping.install()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="a JSONL-era corpus (bench/corpus/jsonl-100k)")
    parser.add_argument("--runs", type=int, default=3, help="replays (median)")
    parser.add_argument("--mode", choices=("record", "replay"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--rows", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode is not None:
        _as_session_parser()
    if args.mode == "record":
        record(str(args.corpus), args.db, args.rows)
        return 0  # (`cli.main` ends the process itself)
    if args.mode == "replay":
        replay(str(args.corpus), args.db, args.rows)
        return 0
    me = [sys.executable, str(Path(__file__).resolve()), str(args.corpus.resolve())]
    with tempfile.TemporaryDirectory(prefix="oc-parse-free-") as scratch:
        folder = Path(scratch)
        rows = str(folder / "rows.pickle")
        done = run_command([*me, "--mode", "record", "--db", str(folder / "record.db"),
                            "--rows", rows])
        if done.code != 0:
            sys.exit(f"the recording ingest failed: {done.error}")
        expected = db_totals(folder / "record.db")
        free = []
        for number in range(args.runs):
            target = folder / f"replay-{number}.db"
            replayed = run_command([*me, "--mode", "replay", "--db", str(target), "--rows", rows])
            if replayed.code != 0:
                sys.exit(f"the replay failed: {replayed.error}")
            if db_totals(target) != expected:
                sys.exit("the replay stored other calls than the recording ingest")
            free.append(_elapsed(replayed.stdout))
    print(json.dumps({"in_process_seconds": round(statistics.median(free), 3),
                      "calls": expected["llm_calls"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
