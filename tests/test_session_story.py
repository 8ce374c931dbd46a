"""The session explorer's read layer (issue #13): one session told call by call, each
marker kind from the fixture that has it, the cache in money, tools, the sub-agent tree
and the rule-based "what drove the cost" summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, create_engine, text

from openclaw_telemetry import read
from openclaw_telemetry.config import default_gateway
from openclaw_telemetry.read.cost_drivers import drivers
from tests.conftest import SAMPLE_VERSIONS, copy_sample, ingest
from tests.entries import (
    T0,
    assistant,
    header,
    model_change,
    model_snapshot,
    reset,
    state_dir,
    write,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SID = "turning-points"
GATEWAY = default_gateway()  # the gateway the ingest names when not told


@pytest.fixture
def story(tmp_path: Path, db_url: str) -> Engine:
    sessions = tmp_path / "state" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copy(FIXTURES / "turning_points.jsonl", sessions / "turning_points.jsonl")
    ran = ingest(tmp_path / "state", db_url, "-q")
    assert ran.code == 0, ran.err
    return create_engine(db_url)


@pytest.mark.parametrize(("kind", "call", "value"), [
    ("error", 2, None), ("retry", 3, None), ("thinking_switch", 4, "high"),
    ("compaction", 5, None), ("model_switch", 5, "claude-opus-4-1"),
    ("prompt_error", 6, "claude-opus-4-1"), ("reset", 6, "reset")])
def test_each_marker_kind_from_the_fixture(story: Engine, kind: str, call: int,
                                           value: str | None) -> None:
    marks = read.session_markers(story, session_id=SID, gateway=GATEWAY)
    found = marks[marks["kind"] == kind]
    assert len(found) == 1, marks
    assert int(found["n"].iloc[0]) == call
    if value is not None:
        assert found["value"].iloc[0] == value


def test_every_change_of_model_between_calls_is_one_switch(tmp_path: Path, db_url: str) -> None:
    """Real OpenClaw writes one `model_change` at the top of a file (again after a reset)
    and records /model as a `model-snapshot` entry (format §4.8, §12), so the switches
    of the samples' main session (gpt-4o, sonnet, reasoner, gpt-4o) were never marked:
    the calls were read only when no `model_change` existed at all. The reset's entry
    agrees with the calls: one marker there, not two."""
    sessions = state_dir(tmp_path)
    models = ["fake-gpt-4o"] * 3 + ["fake-claude-sonnet"] * 2 + ["fake-reasoner"] * 2
    entries = [header("snap"), model_change(T0 + 10, "fakeoa", "fake-gpt-4o"),
               model_snapshot(T0 + 20, "fakeoa", "fake-gpt-4o")]
    for i, model in enumerate(models):
        ms = T0 + 1000 * (i + 1)
        if i and model != models[i - 1]:
            provider = "fakeanth" if "claude" in model else "fakeoa"
            entries.append(model_snapshot(ms - 100, provider, model))
        entries.append(assistant(ms, provider="fakeanth" if "claude" in model else "fakeoa",
                                 model=model, response_id=f"r{i}"))
    entries += [reset(T0 + 9000), model_change(T0 + 9010, "fakeoa", "fake-gpt-4o"),
                assistant(T0 + 10000, response_id="r-after-reset")]
    write(sessions, "snap.jsonl", *entries)
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    marks = read.session_markers(create_engine(db_url), session_id="snap", gateway=GATEWAY)
    switches = marks[marks["kind"] == "model_switch"]
    assert list(switches["n"]) == [4, 6, 8]
    assert list(switches["detail"]) == ["fake-gpt-4o → fake-claude-sonnet",
                                         "fake-claude-sonnet → fake-reasoner",
                                         "fake-reasoner → fake-gpt-4o"]
    assert list(marks[marks["kind"] == "reset"]["n"]) == [8]


def test_a_reset_says_what_did_it_once(story: Engine) -> None:
    """OpenClaw's reason for /new and /reset is "reset": not "session reset (reset)"."""
    marks = read.session_markers(story, session_id=SID, gateway=GATEWAY)
    assert list(marks[marks["kind"] == "reset"]["detail"]) == ["session reset (/new or /reset)"]


def test_first_settings_are_not_switches_and_copies_count_once(story: Engine) -> None:
    marks = read.session_markers(story, session_id=SID, gateway=GATEWAY)
    assert set(marks["kind"]) == {"error", "retry", "thinking_switch", "compaction",
                                  "model_switch", "prompt_error", "reset"}
    compaction = marks[marks["kind"] == "compaction"].iloc[0]
    assert (compaction["tokens_before"], compaction["tokens_after"]) == (150000, 12000)
    settings = read.session_markers(story, session_id=SID, gateway=GATEWAY, all_settings=True)
    assert list(settings[settings["kind"] == "thinking_switch"]["value"]) == ["low", "high"]


def test_no_text_of_the_entries_is_stored(story: Engine) -> None:
    with story.connect() as conn:
        rows = conn.execute(text("SELECT * FROM session_events")).all()
    assert rows and not any("SECRET" in str(value) for row in rows for value in row)


def test_timeline_context_cache_hit_and_retry(story: Engine) -> None:
    tl = read.session_timeline(story, session_id=SID, gateway=GATEWAY)
    assert list(tl["n"]) == [1, 2, 3, 4, 5, 6]
    assert list(tl["context"]) == [2100, 0, 2420, 2850, 3200, 1300]
    assert tl["cache_hit"].iloc[2] == pytest.approx(2000 / 2420)
    assert pd.isna(tl["cache_hit"].iloc[1])
    assert list(tl["retry"]) == [False, False, True, False, False, False]
    assert tl["cumulative_cost"].iloc[-1] == pytest.approx(0.155)


def test_profile_models_levels_and_cost_split(story: Engine) -> None:
    profile = read.session_profile(story, session_id=SID, gateway=GATEWAY).iloc[0]
    assert profile["calls"] == 6 and profile["errors"] == 1
    assert profile["models"] == "claude-sonnet-4-5, claude-opus-4-1"
    assert profile["thinking_levels"] == "low, high"
    assert profile["recorded_cost"] == pytest.approx(0.155)
    assert profile["estimated_cost"] == 0 and profile["subscription_cost"] == 0
    assert read.session_profile(story, session_id="nope", gateway=GATEWAY).empty


def test_tools_in_order_and_per_tool(story: Engine) -> None:
    calls = read.session_tool_calls(story, session_id=SID, gateway=GATEWAY)
    assert list(calls["tool_name"]) == ["exec", "read", "exec"]
    assert list(calls["outcome"]) == ["ok", "error", "ok"]
    summary = read.session_tool_summary(story, session_id=SID, gateway=GATEWAY).set_index("tool_name")
    assert (summary.loc["exec", "calls"], summary.loc["exec", "errors"]) == (2, 0)
    assert (summary.loc["read", "calls"], summary.loc["read", "errors"]) == (1, 1)


def test_cache_in_money_uses_list_prices(story: Engine) -> None:
    cache = read.session_cache(story, session_id=SID, gateway=GATEWAY).set_index("model")
    sonnet = cache.loc["claude-sonnet-4-5"]
    assert sonnet["cache_read"] == 4300
    assert sonnet["price_input"] == pytest.approx(3.0)
    assert sonnet["saved"] == pytest.approx(4300 * (3.0 - 0.3) / 1e6)
    assert sonnet["write_cost"] == pytest.approx(2700 * 3.75 / 1e6)


def test_cost_split_by_token_kind_in_list_price_proportions(tmp_path: Path,
                                                           db_url: str) -> None:
    """A call records one cost, not one per kind: each model's cost is divided in the
    proportions of its tokens at the price library's list prices (claude-sonnet-4-5: input
    3, output 15, cache read 0.3, cache write 3.75 $/M; here recorded at twice those). A
    model the library does not know stays unsplit."""
    sonnet = assistant(T0 + 1000, inp=1000, out=1000, cr=100_000, cw=10_000, cost=0.171,
                       provider="anthropic", model="claude-sonnet-4-5", response_id="r1",
                       entry_id="a1")
    odd = assistant(T0 + 2000, inp=500, out=10, cost=0.029, provider="nowhere",
                    model="no-such-model", response_id="r2", entry_id="a2")
    write(state_dir(tmp_path), "split.jsonl", header("split"), sonnet, odd)
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    split = read.session_cost_split(create_engine(db_url), session_id="split",
                                    gateway=GATEWAY).set_index("kind")
    assert list(split.index) == ["input", "output", "cache_read", "cache_write", "unsplit"]
    assert list(split["tokens"]) == [1000, 1000, 100_000, 10_000, 510]
    assert list(split["cost"]) == pytest.approx([0.006, 0.03, 0.06, 0.075, 0.029])
    assert list(split["share"]) == pytest.approx([0.03, 0.15, 0.3, 0.375, 0.145])
    assert read.session_cost_split(create_engine(db_url), session_id="nope",
                                   gateway=GATEWAY).empty


def _parts(inp: float, out: float, cr: float, cw: float) -> dict[str, float]:
    return {"input": inp, "output": out, "cacheRead": cr, "cacheWrite": cw,
            "total": inp + out + cr + cw}


def test_cost_split_takes_the_parts_openclaw_recorded(tmp_path: Path, db_url: str) -> None:
    """OpenClaw records a call's cost by kind (`usage.cost.input` …): where the four parts
    add up to the total, they are the split, exact, for models the price library does not
    know too. Parts that do not add up split the total at the price table's rates
    (openclaw.json), and an estimate from the table is split by its own rates."""
    parts = assistant(T0 + 1000, inp=1000, out=100, cr=10_000, cw=2000, provider="fakeoa",
                      model="fake-gpt-4o", response_id="r1", entry_id="a1")
    parts["message"]["usage"]["cost"] = _parts(0.0025, 0.001, 0.0125, 0.00625)
    wrong = assistant(T0 + 2000, inp=1000, out=1000, cost=0.0625, provider="fakeoa",
                      model="fake-gpt-4o", response_id="r2", entry_id="a2")
    wrong["message"]["usage"]["cost"] = {**_parts(0.01, 0.01, 0, 0), "total": 0.0625}
    estimated = assistant(T0 + 3000, inp=2000, out=0, cost=None, provider="fakeoa",
                          model="fake-gpt-4o", response_id="r3", entry_id="a3")
    write(state_dir(tmp_path), "parts.jsonl", header("parts"), parts, wrong, estimated)
    (tmp_path / "state" / "openclaw.json").write_text(json.dumps({"models": {"providers": {
        "fakeoa": {"models": [{"id": "fake-gpt-4o", "cost": {
            "input": 2.5, "output": 10, "cacheRead": 1.25, "cacheWrite": 3.125}}]}}}}))
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    split = read.session_cost_split(create_engine(db_url), session_id="parts",
                                    gateway=GATEWAY).set_index("kind")
    assert list(split.index) == ["input", "output", "cache_read", "cache_write"]
    assert list(split["tokens"]) == [4000, 1100, 10_000, 2000]
    # (wrong: 1000 × 2.5 and 1000 × 10 $/M, a fifth and four fifths of its 0.0625)
    assert list(split["cost"]) == pytest.approx([0.0025 + 0.0125 + 0.005, 0.001 + 0.05,
                                                 0.0125, 0.00625])
    assert split["share"].sum() == pytest.approx(1.0)
    # the Cache section: at the rates charged (the library does not know the model)
    cache = read.session_cache(create_engine(db_url), session_id="parts",
                               gateway=GATEWAY).iloc[0]
    assert [cache[f"price_{k}"] for k in ("input", "cache_read", "cache_write")] == \
        pytest.approx([0.02 / 4000 * 1e6, 1.25, 3.125])
    assert cache["saved"] == pytest.approx(10_000 * (5.0 - 1.25) / 1e6)
    assert cache["write_cost"] == pytest.approx(0.00625)


@pytest.mark.parametrize("version", SAMPLE_VERSIONS)
def test_no_session_of_the_samples_is_left_unsplit(tmp_path: Path, version: str) -> None:
    """The real samples price their models in openclaw.json only (the library knows none
    of them) and record every call's cost by kind: every session is split, to its cost."""
    url = f"sqlite:///{tmp_path / 'samples.db'}"
    assert ingest(copy_sample(version, tmp_path / version), url, "-q").code == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT session_id, gateway, total_cost FROM sessions"
                                 " WHERE total_cost > 0")).all()
    assert rows
    for sid, gateway, cost in rows:
        split = read.session_cost_split(engine, session_id=sid, gateway=gateway)
        assert "unsplit" not in set(split["kind"]), sid
        assert split["cost"].sum() == pytest.approx(cost), sid


def _tree_db(url: str) -> Engine:
    engine = create_engine(url)
    rows = [("root", None, 1.0), ("a", "root", 0.5), ("b", "root", 0.25), ("a1", "a", 2.0),
            ("loop", "loop", 9.0)]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE sessions (session_id TEXT, gateway TEXT, "
                          "parent_session_id TEXT, label TEXT, session_key TEXT, kind TEXT, "
                          "agent_id TEXT, start_time TIMESTAMP, total_messages INT, "
                          "total_cost FLOAT, cron_job_name TEXT)"))
        for gateway in (GATEWAY, "elsewhere"):  # the same ids on another gateway: not its tree
            for i, (sid, parent, cost) in enumerate(rows):
                conn.execute(text("INSERT INTO sessions VALUES (:s, :g, :p, NULL, NULL, "
                                  "'subagent', 'main', :t, 1, :c, NULL)"),
                             {"s": sid, "g": gateway, "p": parent,
                              "t": f"2026-01-01 00:00:0{i}", "c": cost})
    return engine


def test_subagent_tree_rolls_costs_up_depth_first(db_url: str) -> None:
    tree = read.session_tree(_tree_db(db_url), session_id="root", gateway=GATEWAY)
    assert list(tree["session_id"]) == ["a", "a1", "b"]
    assert list(tree["depth"]) == [1, 2, 1]
    assert list(tree["rolled_cost"]) == [2.5, 2.0, 0.25]
    assert list(tree["descendants"]) == [1, 0, 0]


def _timeline(contexts: list[int], costs: list[float], **extra: list[object]) -> pd.DataFrame:
    """Calls 10 s apart (the cache never expires between them) unless told otherwise."""
    count = len(contexts)
    frame = pd.DataFrame({"n": range(1, count + 1), "context": contexts, "cost": costs,
                          "timestamp": pd.Timestamp("2026-11-24 03:00")
                          + pd.to_timedelta([10 * i for i in range(count)], unit="s"),
                          "input": contexts, "cache_read": [0] * count,
                          "cache_write": [0] * count, "model": ["m"] * count,
                          "is_error": [False] * count, "retry": [False] * count,
                          "message_id": [f"c{i}" for i in range(count)]})
    for key, values in extra.items():
        frame[key] = values
    frame["cache_hit"] = frame["cache_read"] / frame["context"]
    return frame


def _cached(costs: list[float], missed: set[int], *, written: bool) -> pd.DataFrame:
    """Calls of 20,000 tokens of context read from the cache, but those in `missed` (0-based):
    written to it (Anthropic) or sent as plain input (OpenAI)."""
    count = len(costs)
    plain = [20_000 if i in missed and not written else 100 for i in range(count)]
    write = [20_000 if i in missed and written else 100 for i in range(count)]
    read = [0 if i in missed else 19_800 for i in range(count)]
    return _timeline([p + r + w for p, r, w in zip(plain, read, write, strict=True)], costs,
                     input=plain, cache_read=read, cache_write=write)


_NO_MARKS = pd.DataFrame(columns=["kind", "n", "value"])
_NO_TOOLS = pd.DataFrame(columns=["tool_name", "outcome", "message_id"])
_NO_TREE = pd.DataFrame(columns=["depth", "rolled_cost"])


def test_drivers_context_growth_and_tail() -> None:
    count = 600
    timeline = _timeline([1000 + 30 * i for i in range(count)],
                         [0.001 * (1 + i / 20) for i in range(count)])
    found = drivers(timeline, _NO_MARKS, _NO_TOOLS, _NO_TREE).set_index("rule")
    assert "context grew 10× over 600 calls (from 1,885 to 18,085" in found.loc["context_growth", "text"]
    assert found.loc["tail", "text"].startswith("the last 100 calls cost")


def test_drivers_leave_out_context_growth_that_did_not_make_calls_dearer() -> None:
    """The context grew 6× while the session moved to a cheaper model: the second half of
    the calls cost 20%, so the growth drove nothing."""
    count = 100
    timeline = _timeline([10_000 + 500 * i for i in range(count)],
                         [0.02 if i < count // 2 else 0.005 for i in range(count)],
                         cache_read=[9_000 + 500 * i for i in range(count)])
    assert "context_growth" not in set(drivers(timeline, _NO_MARKS, _NO_TOOLS, _NO_TREE)["rule"])


def test_drivers_tool_loop_failures_and_fan_out() -> None:
    timeline = _timeline([100] * 30, [0.01] * 30,
                         is_error=[i % 10 == 0 for i in range(30)],
                         retry=[i % 10 == 1 for i in range(30)])
    tools = pd.DataFrame({"tool_name": ["read"] + ["exec"] * 12 + ["read"],
                          "outcome": ["ok"] * 14,
                          "message_id": [f"c{i}" for i in range(14)]})
    tree = pd.DataFrame({"depth": [1, 1, 2], "rolled_cost": [0.5, 0.3, 0.1]})
    found = drivers(timeline, _NO_MARKS, tools, tree).set_index("rule")
    assert found.loc["tool_loop", "text"].startswith("tool loop: exec called 12 times in a row")
    assert found.loc["failures", "text"] == "3 failed calls cost $0.03, 10% of the cost"
    assert "3 sub-agent sessions cost $0.80, 73% of the tree" in found.loc["fan_out", "text"]


def test_drivers_count_failed_calls_by_what_they_cost() -> None:
    """A failed call costs what it was billed; the call after it did the work and is no
    waste. Failures that cost nothing, or less than a twentieth of the cost, are not drivers."""
    free = [i in (3, 7) for i in range(20)]
    timeline = _timeline([1000] * 20, [0.0 if bad else 0.01 for bad in free], is_error=free,
                         retry=[i in (4, 8) for i in range(20)])  # these two: 11% of the cost
    assert drivers(timeline, _NO_MARKS, _NO_TOOLS, _NO_TREE).empty
    cheap = _timeline([1000] * 25, [0.01] * 25, is_error=[i == 3 for i in range(25)])
    assert drivers(cheap, _NO_MARKS, _NO_TOOLS, _NO_TREE).empty  # 1 of 25: 4%
    billed = _timeline([1000] * 10, [0.01] * 10, is_error=[i == 3 for i in range(10)])
    found = drivers(billed, _NO_MARKS, _NO_TOOLS, _NO_TREE).set_index("rule")
    assert found.loc["failures", "text"] == "1 failed call cost $0.01, 10% of the cost"


def test_drivers_say_one_as_one() -> None:
    """"compacted 1 time(s)", "1 sub-agent session(s)", "67 %" beside the pages' "67%"."""
    timeline = _timeline([100] * 10, [0.01] * 10)
    marks = pd.DataFrame({"kind": ["compaction"], "n": [5], "value": [None]})
    tree = pd.DataFrame({"depth": [1], "rolled_cost": [0.2]})
    found = drivers(timeline, marks, _NO_TOOLS, tree).set_index("rule")
    assert found.loc["compaction", "text"].startswith("the context was compacted 1 time: ")
    assert found.loc["fan_out", "text"] == "1 sub-agent session cost $0.20, 67% of the tree's cost"
    assert drivers(_timeline([], []), _NO_MARKS, _NO_TOOLS, _NO_TREE).empty


def test_drivers_name_the_few_calls_that_missed_the_cache() -> None:
    """A cron run where the third of 5 calls cost 42%, a sub-agent where the eleventh of 12
    cost 29%: each a call that wrote its whole context to the cache. No other rule sees
    them. The first call missed the cache too and cost as much, but every session pays
    that: it is not one of them."""
    cron = _cached([0.055, 0.007, 0.057, 0.011, 0.006], {0, 2}, written=True)
    found = drivers(cron, _NO_MARKS, _NO_TOOLS, _NO_TREE)
    assert list(found["text"]) == [
        "1 call that missed the cache (wrote 20,000 tokens to it) cost 42%"]
    sub = _cached([0.058] + [0.01] * 9 + [0.063, 0.008], {0, 10}, written=True)
    found = drivers(sub, _NO_MARKS, _NO_TOOLS, _NO_TREE).set_index("rule")
    assert found.loc["spikes", "text"].endswith("cost 29%")
    assert found.loc["spikes", "weight"] == pytest.approx(0.063 / 0.219, abs=0.01)


def test_drivers_leave_out_the_calls_that_must_fill_the_cache() -> None:
    """The first call of a session, and the first after a compaction, a reset, a model
    switch or a change of thinking level (Anthropic drops the cached messages then), find
    no cache to read: every session pays them and nothing avoids them. A cron run whose
    first call cost 65%, and a chat whose dear calls all came after such a turning point,
    have nothing to say (the first is the first that sent a context: a call that failed
    before sending any fills nothing); dear calls elsewhere in the chat are still said,
    and so is a first call that read a cache and was dear all the same."""
    cron = _cached([0.055, 0.007, 0.006, 0.011, 0.006], {0}, written=True)
    assert drivers(cron, _NO_MARKS, _NO_TOOLS, _NO_TREE).empty
    failed_first = _cached([0.0, 0.055, 0.007, 0.006, 0.011, 0.006], {1}, written=True)
    failed_first.loc[0, ["context", "input", "cache_read", "cache_write"]] = 0
    failed_first.loc[0, ["is_error", "cache_hit"]] = [True, float("nan")]
    assert drivers(failed_first, _NO_MARKS, _NO_TOOLS, _NO_TREE).empty  # sent nothing
    fresh = {0, 10, 20, 30, 35}
    chat = _cached([0.06 if i in fresh else 0.005 for i in range(40)], fresh, written=True)
    marks = pd.DataFrame({"kind": ["compaction", "reset", "model_switch", "thinking_switch"],
                          "n": [11.0, 21.0, 31.0, 36.0], "value": [None, "reset", "m2", "high"]})
    assert "spikes" not in set(drivers(chat, marks, _NO_TOOLS, _NO_TREE)["rule"])
    costs = [0.06 if i in fresh else 0.09 if i in (25, 38) else 0.005 for i in range(40)]
    chat = _cached(costs, fresh | {25, 38}, written=True)
    found = drivers(chat, marks, _NO_TOOLS, _NO_TREE).set_index("rule")
    assert found.loc["spikes", "text"] == (
        "2 calls that missed the cache (wrote 40,000 tokens to it) cost 28%")
    dear = _cached([0.055, 0.007, 0.006, 0.011, 0.006], set(), written=True)
    assert list(drivers(dear, _NO_MARKS, _NO_TOOLS, _NO_TREE)["text"]) == [
        "1 call cost 65%, over 3× the calls around it"]


def _paused(timeline: pd.DataFrame, pauses: dict[int, float]) -> pd.DataFrame:
    """The calls of `timeline` with a pause of so many minutes before each call of
    `pauses` (0-based)."""
    extra = pd.to_timedelta([sum(m for i, m in pauses.items() if i <= call)
                             for call in range(len(timeline))], unit="min")
    return timeline.assign(timestamp=timeline["timestamp"] + extra)


def test_drivers_name_the_calls_that_missed_a_cache_expired_in_a_pause() -> None:
    """Anthropic keeps a cache 5 minutes after its last use: the calls after a pause of 12
    and of 130 minutes wrote their whole context again. They are said with the pauses, by
    their share of the cost, and are not spikes of unknown cause."""
    costs = [0.06 if i in (10, 25) else 0.005 for i in range(40)]
    chat = _paused(_cached(costs, {0, 10, 25}, written=True), {10: 12, 25: 130})
    found = drivers(chat, _NO_MARKS, _NO_TOOLS, _NO_TREE)
    assert list(found["rule"]) == ["cache_expired"]
    assert found["text"].iloc[0] == ("2 calls after pauses of 12 min to 2 h 10 min missed the "
                                     "expired cache (wrote 40,000 tokens to it) and cost 39%")
    assert found["weight"].iloc[0] == pytest.approx(0.12 / 0.31, abs=0.01)
    one = _paused(_cached(costs, {0, 25}, written=False), {25: 7})
    assert drivers(one, _NO_MARKS, _NO_TOOLS, _NO_TREE)["text"].iloc[0] == (
        "1 call after a pause of 7 min missed the expired cache (20,000 tokens of context at "
        "the full input price) and cost 19%")


def test_drivers_do_not_blame_a_pause_the_cache_outlived() -> None:
    """A call that missed the cache after a 20-minute pause, in a session where another
    read it after a 40-minute one: the cache lives an hour there (OpenClaw's
    `cacheRetention: "long"`), so the pause did not expire it: a spike of unknown cause.
    A pause before a call that read the cache, or before a cheap one, says nothing."""
    costs = [0.06 if i == 25 else 0.005 for i in range(40)]
    kept = _paused(_cached(costs, {0, 25}, written=True), {10: 40, 25: 20})
    found = drivers(kept, _NO_MARKS, _NO_TOOLS, _NO_TREE)
    assert list(found["rule"]) == ["spikes"], found
    quiet = _paused(_cached([0.005] * 40, {0, 30}, written=True), {10: 40, 30: 9})
    assert drivers(quiet, _NO_MARKS, _NO_TOOLS, _NO_TREE).empty


def _paused_session(sessions: Path, sid: str, failed: dict[str, object], before: float,
                    after: float) -> None:
    """An Anthropic chat of 20 calls a minute apart reading a 20,000-token cache, but the
    first (it fills the cache) and the twelfth (it writes the whole context again), which
    cost 0.06 each. The eleventh is a failed call with the usage of `failed`, `before`
    minutes after the tenth; the twelfth comes `after` minutes after it."""
    entries: list[dict[str, object]] = [header(sid)]
    ms = T0
    for i in range(20):
        ms += int(60_000 * (before if i == 10 else after if i == 11 else 1))
        fresh = i in (0, 11)
        usage = failed if i == 10 else {"inp": 100, "cr": 0 if fresh else 20_000,
                                        "cw": 20_000 if fresh else 100,
                                        "cost": 0.06 if fresh else 0.005}
        entries.append(assistant(ms, provider="fakeanth", model="fake-claude-sonnet",
                                 response_id=f"{sid}-{i}", entry_id=f"a{i:07d}",
                                 **usage))  # type: ignore[arg-type]
    write(sessions, f"{sid}.jsonl", *entries)


def test_drivers_measure_a_pause_from_the_last_call_that_reached_the_cache(
        tmp_path: Path, db_url: str) -> None:
    """A call that failed before the provider read its prompt (an `error` stub, or an
    `aborted` stream cut before any usage: all-zero usage, format §4.5, §8) neither read
    nor wrote the cache, so it did not keep it alive: the call 30 seconds after such a
    failure missed a cache that expired in the 12-minute pause before it, and the page
    says so (it called it a spike of unknown cause). An aborted stream that had read the
    cache (its `message_start` counts were billed, §4.5) did keep it alive: the call 4
    minutes after it, 8 after the call before, missed a cache that had not expired."""
    sessions = state_dir(tmp_path)
    zero = {"inp": 0, "out": 0, "cr": 0, "cw": 0, "cost": 0.0}
    _paused_session(sessions, "stub", {**zero, "stop": "error",
                                       "errorMessage": "overloaded_error"}, 12, 0.5)
    _paused_session(sessions, "cut", {**zero, "stop": "aborted",
                                      "errorMessage": "Request was aborted"}, 12, 0.5)
    _paused_session(sessions, "read", {"inp": 100, "out": 0, "cr": 20_000, "cw": 0,
                                       "cost": 0.002, "stop": "aborted",
                                       "errorMessage": "Request was aborted"}, 4, 4)
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    engine = create_engine(db_url)
    for sid in ("stub", "cut"):
        found = read.cost_drivers(engine, session_id=sid, gateway=GATEWAY)
        assert list(found["text"]) == [
            "1 call after a pause of 12 min missed the expired cache (wrote 20,000 tokens to "
            "it) and cost 29%"], sid
    found = read.cost_drivers(engine, session_id="read", gateway=GATEWAY)
    assert list(found["text"]) == ["1 call that missed the cache (wrote 20,000 tokens to it) "
                                   "cost 29%"]


def test_drivers_say_a_cache_never_used_and_no_pause_expired_it() -> None:
    """A provider that caches nothing: the dear calls after pauses lost no cache, and the
    story is the cache that was never read. Two calls after the same pause say it once."""
    costs = [0.05 if i in (10, 20) else 0.01 for i in range(30)]
    never = _paused(_timeline([20_000] * 30, costs), {10: 30, 20: 45})
    found = drivers(never, _NO_MARKS, _NO_TOOLS, _NO_TREE).set_index("rule")
    assert "cache_expired" not in found.index
    assert found.loc["cache_cold", "text"] == ("the cache was never read: none of the "
                                               "context of the 30 calls came from it")
    same = _paused(_cached(costs, {0, 10, 20}, written=True), {10: 9, 20: 9})
    assert drivers(same, _NO_MARKS, _NO_TOOLS, _NO_TREE)["text"].iloc[0].startswith(
        "2 calls after pauses of 9 min missed the expired cache")


def test_drivers_name_spikes_with_or_without_a_missed_cache() -> None:
    """17 of 100 calls cost 58%: misses of a cache without writes (their context paid as
    input), then the same calls with the cache hitting (something else made them dear)."""
    spikes = set(range(3, 100, 6))
    costs = [0.026 if i in spikes else 0.0039 for i in range(100)]
    found = drivers(_cached(costs, spikes, written=False), _NO_MARKS, _NO_TOOLS, _NO_TREE)
    assert list(found["text"]) == ["17 calls that missed the cache (340,000 tokens of "
                                   "context at the full input price) cost 58%"]
    found = drivers(_cached(costs, set(), written=False), _NO_MARKS, _NO_TOOLS, _NO_TREE)
    assert list(found["text"]) == ["17 calls cost 58%, each over 3× the calls around it"]
    some = _cached(costs, {3, 9}, written=True)
    assert drivers(some, _NO_MARKS, _NO_TOOLS, _NO_TREE)["text"].iloc[0] == (
        "17 calls cost 58%, each over 3× the calls around it; 2 of them missed the cache "
        "(wrote 40,000 tokens to it)")


def test_drivers_keep_quiet_when_no_few_calls_stand_out() -> None:
    """Costs that wobble, or one dear call of 40 (a tenth of the cost): nothing to say."""
    wobbly = _cached([0.01 * (1 + (i % 3) / 2) for i in range(40)], set(), written=True)
    assert drivers(wobbly, _NO_MARKS, _NO_TOOLS, _NO_TREE).empty
    one = _cached([0.05] + [0.01] * 39, {0}, written=True)
    assert drivers(one, _NO_MARKS, _NO_TOOLS, _NO_TREE).empty


def test_drivers_of_the_fixture_name_the_expensive_model(story: Engine) -> None:
    found = read.cost_drivers(story, session_id=SID, gateway=GATEWAY)
    assert list(found.columns) == ["rule", "weight", "text"]
    texts = " | ".join(found["text"])
    assert "thinking level high from call 4 on" in texts
    assert read.cost_drivers(story, session_id="nope", gateway=GATEWAY).empty


def test_compare_and_cost_by_thinking_level(story: Engine) -> None:
    """The correlated thinking-level subquery, on SQLite and PostgreSQL alike."""
    levels = read.thinking_cost(story, scope=read.Scope())
    assert list(levels["level"]) == ["high", "low"]
    assert list(levels["calls"]) == [3, 3]
    assert list(levels["errors"]) == [0, 1]
    assert levels["cost"].round(6).tolist() == [0.14, 0.015]
    side = read.compare(story, dimension="thinking", items=("low", "high"), scope=read.Scope())
    assert list(side["item"]) == ["low", "high"]
    assert side["calls"].tolist() == [3, 3]
    assert side["tool_calls"].tolist() == [3, 0]
    assert side["tool_error_rate"].isna().tolist() == [False, True]
    models = read.compare_options(story, dimension="model", scope=read.Scope())
    assert list(models["item"]) == ["claude-opus-4-1", "claude-sonnet-4-5"]


def test_compare_latency_percentiles_by_nearest_rank(story: Engine) -> None:
    """The OFFSET percentile queries: p50 and p95 of 100, 200 ... 600 ms."""
    with story.begin() as conn:
        ids = conn.execute(text("SELECT message_id FROM messages WHERE session_id = :s "
                                "ORDER BY timestamp"), {"s": SID}).scalars().all()
        assert len(ids) == 6
        for i, message_id in enumerate(ids):
            conn.execute(text("UPDATE messages SET latency_ms = :l WHERE message_id = :m"),
                         {"l": 100 * (i + 1), "m": message_id})
    got = read.compare(story, dimension="agent", items=("main", "nobody"), scope=read.Scope())
    assert got[["latency_p50_ms", "latency_p95_ms"]].iloc[0].tolist() == [300.0, 600.0]
    assert got[["calls", "sessions"]].iloc[1].tolist() == [0, 0]
    assert got[["latency_p50_ms", "cost_per_call"]].iloc[1].isna().all()
