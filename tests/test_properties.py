"""Hypothesis properties of the parser and the incremental engine (design.md §7)."""

from __future__ import annotations

import json
import random
import shutil

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openclaw_telemetry.sources import jsonl
from openclaw_telemetry.sources.jsonl import TranscriptParser
from tests.conftest import ingest, query, totals
from tests.entries import T0, assistant, header, lines, tool_call, tool_result, user

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parser_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    parser = TranscriptParser()
    for number, line in enumerate(data.split(b"\n"), 1):
        parser.feed(line, number, 0)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300) | st.floats()
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                     children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["type", "message", "timestamp", "usage", "provider",
                                        "id", "role", "content"]), json_values))
@example({"timestamp": 10**400})
@example({"usage": {"input": 10**400, "totalTokens": 10**400, "cost": {"total": 0, "input": 10**400}}})
@example({"content": [], "details": {"durationMs": 10**400}, "role": "toolResult",
          "toolCallId": "c1"})
def test_parser_never_raises_on_arbitrary_entries(entry: dict[str, object]) -> None:
    """Every shape has a rule: none ends as an entry the parser could not read (the fuzz
    found 300-digit numbers did; a bad number costs only itself, contract E3)."""
    parser = TranscriptParser()
    parser.feed(json.dumps({"type": "message", **entry}).encode(), 1, 0)
    msg = {"role": "assistant", **{k: v for k, v in entry.items() if k != "type"}}
    parser.feed(json.dumps({"type": "message", "message": msg}).encode(), 2, 0)
    assert [i for i in parser.batch.issues if i.detail.startswith("unreadable entry")] == []


def _transcript(count: int) -> bytes:
    entries: list[dict[str, object]] = [header("prop-session")]
    for i in range(count):
        entries.append(user(f"turn {i}", T0 + i * 1000))
        entries.append(assistant(T0 + i * 1000 + 10, response_id=f"r{i}", cost=0.01 * (i + 1),
                                 tools=[tool_call(f"c{i}", "exec", command="ls")]))
        entries.append(tool_result(f"c{i}", "exec", T0 + i * 1000 + 500, error=i % 3 == 0))
    return lines(*entries)


def _fingerprint(url: str) -> tuple[object, ...]:
    """Everything a user sees; sums of floats compared to 1e-9 (summation order differs)."""
    sums = {k: round(v, 9) if isinstance(v, float) else v for k, v in totals(url).items()}
    return (tuple(sorted(sums.items())),
            tuple(query(url, "SELECT session_id, total_messages, total_tool_calls, "
                             "round(total_cost, 9) FROM sessions ORDER BY session_id")),
            tuple(query(url, "SELECT tool_call_id, is_error, duration_ms FROM tool_calls "
                             "ORDER BY tool_call_id")))


@FAST
@given(count=st.integers(1, 6), cuts=st.lists(st.integers(0, 10_000), max_size=6))
def test_appending_in_chunks_equals_reading_once(tmp_path_factory: object, count: int,
                                                 cuts: list[int]) -> None:
    base = tmp_path_factory.mktemp("chunks")  # type: ignore[attr-defined]
    data = _transcript(count)
    whole_dir = base / "whole" / "agents" / "main" / "sessions"
    whole_dir.mkdir(parents=True)
    (whole_dir / "s.jsonl").write_bytes(data)
    whole_url = f"sqlite:///{base / 'whole.db'}"
    assert ingest(base / "whole", whole_url, "-q").code == 0

    chunk_dir = base / "chunked" / "agents" / "main" / "sessions"
    chunk_dir.mkdir(parents=True)
    chunked_url = f"sqlite:///{base / 'chunked.db'}"
    points = [*sorted({min(c, len(data)) for c in cuts}), len(data)]
    start = 0
    with (chunk_dir / "s.jsonl").open("wb") as handle:
        for point in points:
            handle.write(data[start:point])
            handle.flush()
            start = point
            assert ingest(base / "chunked", chunked_url, "-q").code == 0
    assert _fingerprint(chunked_url) == _fingerprint(whole_url)


@FAST
@given(seed=st.integers(0, 10_000))
def test_result_does_not_depend_on_file_order(tmp_path_factory: object, seed: int) -> None:
    """Copies spread over sessions and runs: same owners and totals in any order (B4)."""
    base = tmp_path_factory.mktemp("order")  # type: ignore[attr-defined]
    shared = [assistant(T0 + i, response_id=f"shared{i}", cost=0.1) for i in range(3)]
    files = {
        f"s{n}.jsonl": lines(header(f"s{n}", T0 + n * 60_000), *shared[: n + 1],
                             assistant(T0 + n * 60_000 + 5, response_id=f"own{n}"))
        for n in range(3)}
    files["s0.jsonl.bak.2026-11-24T00-00-00.000Z"] = files["s0.jsonl"]
    results = []
    for variant in range(2):
        names = sorted(files)
        random.Random(seed + variant).shuffle(names)
        folder = base / f"v{variant}" / "agents" / "main" / "sessions"
        folder.mkdir(parents=True)
        url = f"sqlite:///{base / f'v{variant}.db'}"
        for name in names:  # one file appears per run, in a random order
            (folder / name).write_bytes(files[name])
            assert ingest(base / f"v{variant}", url, "-q").code == 0
        results.append(_fingerprint(url))
        assert dict(query(url, "SELECT response_id, session_id FROM messages "
                               "WHERE response_id LIKE 'shared%'")) == {
            "shared0": "s0", "shared1": "s1", "shared2": "s2"}
        shutil.rmtree(folder)
    assert results[0] == results[1]


@pytest.mark.parametrize("bug", [TypeError, AttributeError, KeyError, IndexError, NameError])
def test_a_coding_bug_in_the_parser_is_not_taken_for_bad_input(
        monkeypatch: pytest.MonkeyPatch, bug: type[Exception]) -> None:
    def broken(*_args: object) -> object:
        raise bug("a bug")

    monkeypatch.setattr(jsonl, "_tool_calls", broken)
    with pytest.raises(bug):
        TranscriptParser().feed(lines(assistant(T0)).strip(), 1, 0)
