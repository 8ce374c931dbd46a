"""Recount a generated corpus from its bytes alone and compare with `expected_totals.json`.

    python bench/verify_corpus.py CORPUS_DIR [--quiet]

An independent check of the generator, written from `accounting.md` and not sharing its
bookkeeping: every counted transcript (plain, `.zst`, cold, import archive) and every
`transcript_events` row (`event_json` or zstd `event_zstd`) is parsed; LLM calls are
assistant messages whose provider is not `openclaw` (B1), identified by
`(provider, responseId)` or the usage fingerprint (B3) so that copies count once; cost
follows C2 with the prices of the corpus's `openclaw.json`. It also checks the structure:
a session header first (except line-trimmed primaries), every `parentId` pointing at an
earlier entry of the same transcript, `event_utf8_bytes` and `navigation_json` on rows.
Exit code 1 on any mismatch or structural problem.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import zstandard
from corpus_files import agent_databases, transcript_files

TOKEN_KEYS = ("input", "output", "cacheRead", "cacheWrite")
TOTAL_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass(slots=True)
class Recount:
    calls: int = 0
    tokens: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    cost: float = 0.0
    copies: int = 0
    synthetic: int = 0
    lines: int = 0
    sources: int = 0
    problems: list[str] = field(default_factory=list)
    seen: set[tuple[Any, ...]] = field(default_factory=set)

    def problem(self, text: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(text)


def load_prices(root: Path) -> dict[tuple[str, str], tuple[float, float, float, float]]:
    config = json.loads((root / "openclaw.json").read_text())
    prices = {}
    for provider, entry in config["models"]["providers"].items():
        for model in entry["models"]:
            cost = model["cost"]
            prices[(provider, model["id"])] = (cost["input"], cost["output"], cost["cacheRead"],
                                               cost["cacheWrite"])
    return prices


def file_lines(path: Path) -> Iterator[bytes]:
    if path.name.endswith(".zst"):
        with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
            buffered = _LineReader(reader)
            yield from buffered
        return
    with path.open("rb") as file:
        yield from file


class _LineReader:
    """Lines from a binary stream without io.BufferedReader (zstd readers lack peek)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        pending = b""
        while chunk := self.stream.read(1 << 20):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line + b"\n"
        if pending:
            yield pending


def db_sessions(path: Path, recount: Recount) -> Iterator[tuple[str, list[bytes]]]:
    """Each session of an agent database as a list of event lines, by seq."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    decompressor = zstandard.ZstdDecompressor()
    current: str | None = None
    lines: list[bytes] = []
    query = ("SELECT session_id, seq, event_json, event_zstd, event_utf8_bytes, navigation_json "
             "FROM transcript_events ORDER BY session_id, seq")
    for sid, seq, text, blob, size, nav in conn.execute(query):
        if sid != current and current is not None:
            yield current, lines
            lines = []
        current = sid
        raw = text.encode() if text is not None else decompressor.decompress(blob)
        if size is not None and size != len(raw):
            recount.problem(f"{path.name}#{sid}/{seq}: event_utf8_bytes {size} != {len(raw)}")
        if blob is not None and (nav is None or not isinstance(orjson.loads(nav), dict)):
            recount.problem(f"{path.name}#{sid}/{seq}: compressed row without navigation_json")
        lines.append(raw)
    if current is not None:
        yield current, lines
    conn.close()


def count_source(name: str, lines: Iterator[bytes] | list[bytes], recount: Recount,
                 prices: dict[tuple[str, str], tuple[float, float, float, float]],
                 trimmed: bool) -> None:
    """Parse one transcript; add its calls; check header and parent links."""
    recount.sources += 1
    ids: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        recount.lines += 1
        try:
            entry = orjson.loads(raw)
        except orjson.JSONDecodeError:
            recount.problem(f"{name}:{number}: not JSON")
            continue
        _check_structure(name, number, entry, ids, trimmed, recount)
        _count_entry(entry, recount, prices)


def _check_structure(name: str, number: int, entry: dict[str, Any], ids: set[str],
                     trimmed: bool, recount: Recount) -> None:
    if number == 1 and entry.get("type") != "session" and not trimmed:
        recount.problem(f"{name}: first line is not a session header")
    parent = entry.get("parentId")
    if parent is not None and parent not in ids and not (trimmed and not ids):
        recount.problem(f"{name}:{number}: parentId {parent} not seen before")
    if entry.get("type") != "session" and "id" in entry:
        if entry["id"] in ids:
            recount.problem(f"{name}:{number}: duplicate entry id {entry['id']}")
        ids.add(entry["id"])


def _count_entry(entry: dict[str, Any], recount: Recount,
                 prices: dict[tuple[str, str], tuple[float, float, float, float]]) -> None:
    message = entry.get("message")
    if entry.get("type") != "message" or not isinstance(message, dict):
        return
    if message.get("role") != "assistant":
        return
    if message.get("provider") == "openclaw":
        recount.synthetic += 1
        return
    usage = message.get("usage") or {}
    tokens = [int(usage.get(key) or 0) for key in TOKEN_KEYS]
    identity: tuple[Any, ...] = (
        (message["provider"], message["responseId"]) if message.get("responseId") else
        (message["provider"], message["model"], message["timestamp"], *tokens))
    if identity in recount.seen:
        recount.copies += 1
        return
    recount.seen.add(identity)
    recount.calls += 1
    for index, value in enumerate(tokens):
        recount.tokens[index] += value
    recount.cost += _cost(message, usage, tokens, prices)


def _cost(message: dict[str, Any], usage: dict[str, Any], tokens: list[int],
          prices: dict[tuple[str, str], tuple[float, float, float, float]]) -> float:
    """Contract C2: recorded when finite, >= 0 and (positive or no tokens); else estimated."""
    total = (usage.get("cost") or {}).get("total")
    if isinstance(total, int | float) and math.isfinite(total) and total >= 0 and (
            total > 0 or sum(tokens) == 0):
        return float(total)
    price = prices.get((message["provider"], message["model"]))
    if price is None:
        return 0.0
    return sum(p * t for p, t in zip(price, tokens, strict=True)) / 1_000_000


def recount_corpus(root: Path) -> Recount:
    recount = Recount()
    prices = load_prices(root)
    for path in transcript_files(root):
        trimmed = path.name.endswith(".jsonl") and any(path.parent.glob(path.name + ".bak.*"))
        count_source(str(path.relative_to(root)), file_lines(path), recount, prices, trimmed)
    for db in agent_databases(root):
        for sid, lines in db_sessions(db, recount):
            count_source(f"{db.relative_to(root)}#{sid}", lines, recount, prices, False)
    return recount


def compare(recount: Recount, expected: dict[str, Any]) -> list[str]:
    """Differences between the recount and the expected totals (empty when equal)."""
    found = {"llm_calls": recount.calls, **dict(zip(TOTAL_KEYS, recount.tokens, strict=True))}
    diffs = [f"{key}: expected {expected[key]}, recounted {value}"
             for key, value in found.items() if expected[key] != value]
    if not math.isclose(recount.cost, expected["cost"], rel_tol=1e-9, abs_tol=1e-6):
        diffs.append(f"cost: expected {expected['cost']}, recounted {recount.cost:.8f}")
    if recount.copies < expected.get("duplicated_calls", 0):
        diffs.append(f"copies: expected at least {expected['duplicated_calls']}, "
                     f"found {recount.copies}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--quiet", action="store_true", help="print only problems")
    args = parser.parse_args(argv)
    expected = json.loads((args.corpus / "expected_totals.json").read_text())
    recount = recount_corpus(args.corpus)
    problems = compare(recount, expected) + recount.problems
    if not args.quiet or problems:
        print(json.dumps({"sources": recount.sources, "lines": recount.lines,
                          "llm_calls": recount.calls, "copies_skipped": recount.copies,
                          "synthetic": recount.synthetic, "cost": round(recount.cost, 8),
                          "problems": problems}, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
