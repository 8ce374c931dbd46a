"""The typed fast path (`sources/typed.py`, issue 15) makes exactly what the lenient parser
makes of the same lines: the same calls, results, problems and session context, for the
fixtures, the real samples, a generated history and fuzzed entries; and the common
entries really take it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from openclaw_telemetry.demo.corpus import Options, generate
from openclaw_telemetry.sources import typed
from openclaw_telemetry.sources.jsonl import TranscriptParser
from tests.conftest import samples_dir
from tests.entries import T0, assistant, lines, tool_call, tool_result
from tests.test_properties import json_values

FIXTURES = Path(__file__).parent / "fixtures"


def _parsed(data: bytes) -> tuple[object, ...]:
    parser = TranscriptParser()
    for number, line in enumerate(data.split(b"\n"), 1):
        parser.feed(line, number, 0)
    return parser.batch, parser.meta, parser.model, parser.provider


def assert_same(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsed with the fast path, and with every line left to the lenient parser."""
    fast = _parsed(data)
    with monkeypatch.context() as patch:
        patch.setattr(typed, "decode", lambda _line: None)
        assert _parsed(data) == fast


def test_the_common_entries_take_the_fast_path() -> None:
    call = assistant(T0, response_id="r1", tools=[tool_call("c1", "exec", command="ls")])
    result = tool_result("c1", "exec", T0 + 5, duration=12)
    assert all(typed.decode(line) is not None for line in lines(call, result).split(b"\n")[:2])


def test_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    for path in sorted(FIXTURES.glob("*.jsonl")):
        assert_same(path.read_bytes(), monkeypatch)


def test_real_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    for path in sorted(samples_dir().rglob("*.jsonl*")):
        if path.is_file() and not path.name.endswith(".zst"):
            assert_same(path.read_bytes(), monkeypatch)


def test_a_generated_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(tmp_path, Options(calls=2000, era="jsonl", files=20, seed=11))
    for path in sorted(tmp_path.rglob("*.jsonl*")):
        if path.is_file() and not path.name.endswith(".zst"):
            assert_same(path.read_bytes(), monkeypatch)


# Lines one field away from the fast path's shapes: each must come out as the lenient
# parser reads it, whichever path takes it.
ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, 2**53 + 1, 2**63, 2**64, 10**30, "", "x",
                         "é" * 400, "\ud800", [], {}, {"total": 1}, {"total": -1},
                         {"total": 0.5, "input": "x"}, {"total": 2, "input": 10**20},
                         [{"type": "toolCall", "id": 5, "name": "exec"}], ["text"],
                         [{"type": "toolCall", "id": "c", "name": "tool_call",
                           "arguments": {"id": "exec"}}], {"durationMs": "5"},
                         {"durationMs": 1e300}, "2026-11-24T03:13:20Z", "google-vertex"]
FIELDS = ["provider", "model", "api", "usage", "cost", "input", "cacheRead", "timestamp",
          "responseId", "errorMessage", "content", "tool_calls", "isError", "details",
          "toolCallId", "role", "total_tokens", "input_tokens"]


def _odd_line(field: str, value: Any, *, where: str) -> bytes:
    entry = json.loads(lines(assistant(T0, response_id="r1", tools=[tool_call("c1", "x")]),
                             tool_result("c1", "x", T0 + 5, duration=3)).split(b"\n")[
        0 if where != "result" else 1])
    usage = entry["message"].get("usage", {})
    if field in ("cost", "input", "cacheRead", "total_tokens", "input_tokens") and usage:
        usage[field] = value
    elif where == "entry":
        entry[field] = value
    else:
        entry["message"][field] = value
    return json.dumps(entry).encode()


@pytest.mark.parametrize("text", [b"o\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\x80",
                                  b"\\ud800", b"caf\xc3\xa9", b"a\x01b", b"\x00"])
def test_bad_text_the_fast_path_would_skip(text: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """The message text is skipped, not read, but its bad UTF-8 is noted all the same."""
    line = lines(assistant(T0, response_id="r1")).strip().replace(b'"ok"', b'"' + text + b'"')
    assert_same(line, monkeypatch)


@pytest.mark.parametrize("where", ["message", "entry", "result"])
def test_odd_values(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for field in FIELDS:
        for value in ODD_VALUES:
            assert_same(_odd_line(field, value, where=where), monkeypatch)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FIELDS), json_values, st.sampled_from(["message", "entry", "result"]))
@example("usage", {"input": 1, "output": 2, "cacheRead": 3, "cacheWrite": 4,
                   "cost": {"total": 10**400}}, "message")
def test_fuzzed_fields(field: str, value: Any, where: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(_odd_line(field, value, where=where), monkeypatch)
