"""Edge cases found in review: each reproduces a bug that once broke a contract rule."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import zstandard

from openclaw_telemetry.ingest import parse_worker
from openclaw_telemetry.sources import sqlite_store
from tests.conftest import ingest, query, totals
from tests.entries import (
    T0,
    assistant,
    header,
    iso,
    lines,
    state_dir,
    tool_call,
    tool_result,
    write,
)
from tests.test_sqlite_era import add_events, agent_db


def run(state: Path, url: str, *extra: str) -> dict[str, object]:
    ran = ingest(state, url, "--json", *extra)
    assert ran.code == 0, ran.err
    return json.loads(ran.out)


def test_database_row_with_seq_zero_is_read(tmp_path: Path, db_url: str) -> None:
    """OpenClaw numbers transcript_events from 0: the header row must count (D1)."""
    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, "s-hdr", [header("s-hdr", T0), assistant(T0 + 60_000, response_id="1")])
    add_events(conn, "s-trim", [assistant(T0 + 5, response_id="2"),
                                assistant(T0 + 6, response_id="3")])
    conn.close()
    run(state, db_url)
    assert totals(db_url)["llm_calls"] == 3
    start = query(db_url, "SELECT start_time FROM sessions WHERE session_id = 's-hdr'")[0][0]
    assert str(start).startswith("2026-11-24 03:13:20")
    run(state, db_url, "--full")
    assert totals(db_url)["llm_calls"] == 3


@pytest.mark.parametrize("field, value", [("input", 1e300), ("output", 2**64 - 1)])
def test_absurd_numbers_are_bad_input_not_a_crash(tmp_path: Path, db_url: str, field: str,
                                                   value: float) -> None:
    entry = assistant(T0, response_id="big")
    entry["message"]["usage"][field] = value
    write(state_dir(tmp_path), "s.jsonl", header("s"), entry, assistant(T0 + 1, response_id="ok"),
          tool_result("c1", "exec", T0 + 2, duration=10**300))
    summary = run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 2
    assert summary["bad_input"] == {"bad_number": 1}


def test_lone_surrogate_in_the_store_is_cleaned(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, "s1.jsonl", header("s1"), assistant(T0, response_id="1"))
    (sessions / "sessions.json").write_text(
        '{"agent:main:main": {"sessionId": "s1", "label": "Trip planning \\ud83d"}}')
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT label FROM sessions") == [("Trip planning \ufffd",)]


def test_new_archive_on_a_reused_inode_is_not_a_rename(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    old = write(sessions, "aaaa.jsonl", header("aaaa"), assistant(T0, response_id="a", cost=0.5))
    run(tmp_path / "state", db_url)
    # as when retention deletes a file and the file system hands its inode to a new one
    old.write_bytes(zstandard.ZstdCompressor().compress(
        lines(header("bbbb"), assistant(T0 + 5, response_id="b", cost=0.25))))
    old.rename(sessions / "bbbb.jsonl.deleted.2026-11-24T03-20-54.439Z.119a5824.zst")
    run(tmp_path / "state", db_url)
    assert sorted(query(db_url, "SELECT session_id, response_id FROM messages")) == [
        ("aaaa", "a"), ("bbbb", "b")]


def test_invalid_utf8_in_one_database_row_costs_only_that_row(tmp_path: Path,
                                                              db_url: str) -> None:
    state = tmp_path / "state"
    conn = agent_db(state)
    add_events(conn, "s-a", [header("s-a"), assistant(T0, response_id="1")])
    conn.execute("INSERT INTO transcript_events (session_id, seq, event_json, created_at) "
                 "VALUES ('s-a', 2, CAST(? AS TEXT), 0)",
                 (json.dumps(assistant(T0 + 1, response_id="2")).encode().replace(
                     b'"ok"', b'"o\xe2\x82"'),))
    add_events(conn, "s-b", [header("s-b"), assistant(T0 + 2, response_id="3")])
    conn.close()
    summary = run(state, db_url)
    assert summary["unreadable"] == []
    assert totals(db_url)["llm_calls"] == 3
    assert summary["bad_input"] == {"invalid_utf8": 1}


def wal_without_shm(state: Path, sessions: int = 1) -> Path:
    """An agent database as a partial copy leaves it: the -wal, no -shm."""
    conn = agent_db(state)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    for number in range(sessions):
        add_events(conn, f"s{number}", [header(f"s{number}"),
                                        assistant(T0, response_id=f"{number}")])
    folder = state / "agents" / "main" / "agent"
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    conn.close()
    for name, data in saved.items():
        if not name.endswith("-shm"):
            (folder / name).write_bytes(data)
    (folder / "openclaw-agent.sqlite-shm").unlink(missing_ok=True)
    return folder / "openclaw-agent.sqlite"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_database_with_wal_but_no_shm_is_read_without_creating_one(
        tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    """It is read from a private copy (SQLite would create the -shm beside it). That copy
    was made at every opening, by the ingest and by each parsing process: made once a
    run now, checkpointed into one file that the parsing processes read as it is."""
    database = wal_without_shm(tmp_path / "state", sessions=3)
    folder = database.parent
    before = sorted(p.name for p in folder.iterdir())
    copies: list[str] = []
    copy = sqlite_store.shutil.copyfile
    monkeypatch.setattr(sqlite_store.shutil, "copyfile",
                        lambda src, dst: copies.append(str(src)) or copy(src, dst))
    given: list[object] = []
    start = parse_worker.ParseWorker.__init__

    def worker(self: parse_worker.ParseWorker, jobs: Any, *args: Any, **kwargs: Any) -> None:
        given.extend(jobs)
        start(self, jobs, *args, **kwargs)

    monkeypatch.setattr(parse_worker.ParseWorker, "__init__", worker)
    run(tmp_path / "state", sqlite_url, "--jobs", jobs)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert totals(sqlite_url)["llm_calls"] == 3
    assert copies == [str(database), f"{database}-wal"]  # once, for the whole run
    for job in given:  # (--jobs 2) what the parsing processes open: the copy, one file
        assert isinstance(job, parse_worker.SessionJob) and job.database == database
        assert job.read_from != database and not Path(f"{job.read_from}-wal").exists()
    assert len(given) == (3 if jobs == "2" else 0)


def test_a_private_copy_lasts_one_run(tmp_path: Path) -> None:
    database = wal_without_shm(tmp_path / "state")
    opened = []
    with sqlite_store.private_copies():
        for _ in range(2):
            with sqlite_store.open_readonly(database) as conn:
                opened.append(Path(conn.execute("PRAGMA database_list").fetchone()[2]))
        assert opened[0] == opened[1] == sqlite_store.readable(database) != database
        assert sqlite_store.readable(tmp_path) == tmp_path  # (no copy: the path itself)
    assert not opened[0].exists()
    with sqlite_store.open_readonly(database) as conn:  # outside a run: a copy of its own
        alone = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    assert alone != database and not alone.exists()


_HOLD_OPEN = ("import sqlite3, sys\n"
              "conn = sqlite3.connect(sys.argv[1])\n"
              "print(conn.execute('SELECT count(*) FROM transcript_events').fetchone()[0], "
              "flush=True)\n"
              "sys.stdin.read()\n")


@pytest.mark.parametrize("running", [False, True], ids=["after-a-crash", "openclaw-running"])
def test_a_corrupt_shm_beside_a_wal_is_never_written(tmp_path: Path, sqlite_url: str,
                                                     running: bool) -> None:
    """OpenClaw's -shm is OpenClaw's: a reader never rebuilds it (contract A3)."""
    state = tmp_path / "state"
    conn = agent_db(state)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    add_events(conn, "s", [header("s"), *(assistant(T0 + i, response_id=f"{i}")
                                          for i in range(3))])
    folder = state / "agents" / "main" / "agent"
    database = folder / "openclaw-agent.sqlite"
    with contextlib.ExitStack() as stack:
        if running:  # another process keeps the database open
            holder = stack.enter_context(subprocess.Popen(
                [sys.executable, "-c", _HOLD_OPEN, str(database)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True))
            assert holder.stdout is not None and holder.stdout.readline().strip() == "4"
            conn.close()
        else:  # as a crash leaves it: the -wal with the calls, and the -shm
            saved = {p.name: p.read_bytes() for p in folder.iterdir()}
            conn.close()
            for name, data in saved.items():
                (folder / name).write_bytes(data)
        shm = folder / "openclaw-agent.sqlite-shm"
        shm.write_bytes(bytes(range(256)) * (shm.stat().st_size // 256))
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        run(state, sqlite_url)
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert totals(sqlite_url)["llm_calls"] == 3


def test_unterminated_tail_of_a_file_later_archived_is_read(tmp_path: Path,
                                                            db_url: str) -> None:
    sessions = state_dir(tmp_path)
    path = sessions / "s.jsonl"
    path.write_bytes(lines(header("s"), assistant(T0, response_id="1"))
                     + json.dumps(assistant(T0 + 5, response_id="2")).encode())
    run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 1
    path.rename(sessions / "s.jsonl.reset.2026-11-24T03-27-29.882Z")
    run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 2
    assert run(tmp_path / "state", db_url)["sources_read"] == 0


def test_file_name_that_is_not_utf8_is_reported(tmp_path: Path, sqlite_url: str) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, "good.jsonl", header("good"), assistant(T0, response_id="1"))
    bad = os.path.join(os.fsencode(sessions), b"caf\xe9.jsonl")
    with open(bad, "wb") as handle:
        handle.write(lines(header("bad"), assistant(T0 + 1, response_id="2")))
    summary = run(tmp_path / "state", sqlite_url)
    assert totals(sqlite_url)["llm_calls"] == 1
    assert any("not valid UTF-8" in u for u in summary["unreadable"])  # type: ignore[union-attr]


def test_subagent_runs_attributed_on_the_first_run(tmp_path: Path, db_url: str) -> None:
    state = tmp_path / "state"
    conn = agent_db(state, "work")
    add_events(conn, "child-1", [header("child-1"), assistant(T0, response_id="1")])
    conn.execute("INSERT INTO session_windows VALUES ('child-1', 'agent:work:subagent:abc', "
                 "NULL, NULL, NULL, NULL)")
    conn.close()
    (state / "state").mkdir()
    with sqlite3.connect(state / "state" / "openclaw.sqlite") as global_db:
        global_db.execute("CREATE TABLE subagent_runs (child_session_key TEXT, "
                          "requester_session_key TEXT, label TEXT)")
        global_db.execute("INSERT INTO subagent_runs VALUES ('agent:work:subagent:abc', "
                          "'agent:work:main', 'research task')")
    global_db.close()
    run(state, db_url)
    assert query(db_url, "SELECT kind, parent_session_key, label FROM sessions") == [
        ("subagent", "agent:work:main", "research task")]


def test_entry_times_in_iso_with_offset_still_order_correctly(tmp_path: Path,
                                                              db_url: str) -> None:
    entry = assistant(T0, response_id="1")
    entry["timestamp"] = iso(T0).replace("Z", "+00:00")
    write(state_dir(tmp_path), "s.jsonl", header("s"), entry)
    run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 1


def test_prices_added_later_reprice_estimated_calls(tmp_path: Path, db_url: str) -> None:
    write(state_dir(tmp_path), "s.jsonl", header("s"),
          assistant(T0, inp=1_000_000, out=0, cost=0, response_id="1"))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT cost, cost_source FROM messages") == [(0.0, "unpriced")]
    (tmp_path / "state" / "openclaw.json").write_text(json.dumps({"models": {"providers": {
        "fakeoa": {"models": [{"id": "fake-gpt-4o", "cost": {"input": 2.5, "output": 10}}]}}}}))
    run(tmp_path / "state", db_url)
    assert query(db_url, "SELECT cost, cost_source FROM messages") == [(2.5, "estimated")]
    assert query(db_url, "SELECT total_cost, unpriced_calls FROM sessions") == [(2.5, 0)]
    # the price's split by kind goes with it (the session page's cost by token kind)
    assert query(db_url, "SELECT input_cost, output_cost, cache_read_cost, cache_write_cost"
                         " FROM messages") == [(2.5, 0.0, 0.0, 0.0)]


def test_a_first_ingest_does_not_reprice_what_it_has_just_priced(
        tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-pricing is for calls stored by earlier runs: a first ingest priced every call with
    the same prices (on jsonl-100k it cost 0.1 s). A price file that changes later still
    re-prices them (above)."""
    from openclaw_telemetry.ingest import run as ingest_run

    repriced: list[str] = []
    real = ingest_run.reprice
    monkeypatch.setattr(ingest_run, "reprice", lambda conn, gateway, pricing: (
        repriced.append(gateway), real(conn, gateway, pricing))[1])
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "openclaw.json").write_text(json.dumps({"models": {"providers": {
        "fakeoa": {"models": [{"id": "fake-gpt-4o", "cost": {"input": 2.5, "output": 10}}]}}}}))
    write(state_dir(tmp_path), "s.jsonl", header("s"),
          assistant(T0, inp=1_000_000, out=0, cost=0, response_id="1"))
    run(tmp_path / "state", db_url)
    assert repriced == []
    assert query(db_url, "SELECT cost, cost_source FROM messages") == [(2.5, "estimated")]
    run(tmp_path / "state", db_url, "--gateway", "office")  # its first, beside another's calls
    assert repriced == []
    (tmp_path / "state" / "openclaw.json").write_text(json.dumps({"models": {"providers": {
        "fakeoa": {"models": [{"id": "fake-gpt-4o", "cost": {"input": 3, "output": 10}}]}}}}))
    run(tmp_path / "state", db_url)
    assert len(repriced) == 1
    assert query(db_url, "SELECT cost, cost_source FROM messages WHERE gateway <> 'office'"
                 ) == [(3.0, "estimated")]


def test_prices_added_later_reprice_a_repaired_google_call(tmp_path: Path,
                                                            db_url: str) -> None:
    call = assistant(T0, inp=1000, out=50, cr=600, cost=0.00165, response_id="g",
                     provider="google", model="gemini-inhouse-tuned", api="google-generative-ai")
    usage = call["message"]["usage"]
    usage["cost"]["input"], usage["totalTokens"] = 0.001, 1050  # counted cache inside input
    write(state_dir(tmp_path), "s.jsonl", header("s"), call)
    run(tmp_path / "state", db_url)
    ((cost,),) = query(db_url, "SELECT cost FROM messages")
    assert cost == pytest.approx(0.00105)  # no price anywhere: pi's figure, repaired
    (tmp_path / "state" / "openclaw.json").write_text(json.dumps({"models": {"providers": {
        "google": {"models": [{"id": "gemini-inhouse-tuned",
                               "cost": {"input": 2, "output": 10, "cacheRead": 0.5}}]}}}}))
    run(tmp_path / "state", db_url)
    ((cost, source),) = query(db_url, "SELECT cost, cost_source FROM messages")
    assert (cost, source) == (pytest.approx(0.0016), "estimated")
    (tmp_path / "state" / "openclaw.json").write_text("{}")  # the price removed again
    run(tmp_path / "state", db_url)
    ((cost, source),) = query(db_url, "SELECT cost, cost_source FROM messages")
    assert (cost, source) == (pytest.approx(0.00105), "estimated")  # as a first ingest


@pytest.mark.parametrize("name", ["s.trajectory.jsonl.deleted.2026-11-24T03-00-00.000Z",
                                  "s.checkpoint.abc.jsonl.reset.2026-11-24T03-00-00.000Z"])
def test_archived_sidecars_are_not_transcripts(tmp_path: Path, sqlite_url: str,
                                               name: str) -> None:
    write(state_dir(tmp_path), name, header("s"), assistant(T0, response_id="1"))
    run(tmp_path / "state", sqlite_url)
    assert totals(sqlite_url)["llm_calls"] == 0


@pytest.mark.parametrize("runs", ["one run", "two runs", "batch of one"])
def test_stored_call_takes_its_earliest_record_whatever_the_order(tmp_path: Path,
                                                                  db_url: str, runs: str) -> None:
    """B3/B4/D4: the same call read from two places; time, latency and agent do not depend
    on read order, batch size or the number of runs."""
    late = assistant(T0, response_id="r-1", latency=60_500)
    early = assistant(T0, response_id="r-1", latency=500)
    parent = state_dir(tmp_path, "main")
    fork = state_dir(tmp_path, "alpha")
    write(parent, "parent.jsonl", header("parent", T0 - 1000), early)
    extra = ("--batch-size", "1") if runs == "batch of one" else ()
    if runs == "two runs":
        run(tmp_path / "state", db_url)
    write(fork, "fork.jsonl", header("fork", T0 + 100), late)
    run(tmp_path / "state", db_url, *extra)
    row = query(db_url, "SELECT session_id, agent_id, timestamp, latency_ms FROM messages")[0]
    assert (row[0], row[1], row[3]) == ("parent", "main", 500)
    assert str(row[2]).startswith("2026-11-24 03:13:20.5")


def test_tool_call_ids_reused_by_two_sessions_keep_their_own_results(tmp_path: Path,
                                                                        db_url: str) -> None:
    """Some OpenAI-compatible servers number tool calls `call_0`, `call_1`… per response:
    each call is joined to the result of its own session, also when the result arrives in
    a later run than its call."""
    sessions = state_dir(tmp_path)
    sid_x, sid_y = "cccccccc-0000-4000-8000-00000000000x", "dddddddd-0000-4000-8000-00000000000y"
    x = write(sessions, f"{sid_x}.jsonl", header(sid_x, T0),
              assistant(T0 + 1000, response_id="rx", tools=[tool_call("call_0", "exec")]))
    y = write(sessions, f"{sid_y}.jsonl", header(sid_y, T0 + 5000),
              assistant(T0 + 6000, response_id="ry", tools=[tool_call("call_0", "read")]))
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    with x.open("ab") as out:
        out.write(lines(tool_result("call_0", "exec", T0 + 1900, error=True)))
    with y.open("ab") as out:
        out.write(lines(tool_result("call_0", "read", T0 + 6700)))
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    assert sorted(query(db_url, "SELECT session_id, tool_name, is_error, duration_ms"
                                " FROM tool_calls")) == [
        (sid_x, "exec", True, 400), (sid_y, "read", False, 200)]


def test_tool_call_id_reused_in_every_response_pairs_each_call_with_its_result(
        tmp_path: Path, db_url: str) -> None:
    sid = "eeeeeeee-0000-4000-8000-00000000000e"
    write(state_dir(tmp_path), f"{sid}.jsonl", header(sid, T0),
          assistant(T0 + 1000, response_id="r1", tools=[tool_call("call_0", "exec")]),
          tool_result("call_0", "exec", T0 + 1600, error=True),
          assistant(T0 + 2000, response_id="r2", tools=[tool_call("call_0", "read")]),
          tool_result("call_0", "read", T0 + 2900))
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    assert sorted(query(db_url, "SELECT tool_name, is_error, duration_ms FROM tool_calls")) == [
        ("exec", True, 100), ("read", False, 400)]


def test_byte_order_mark_and_nul_padding_cost_nothing_else(tmp_path: Path, db_url: str) -> None:
    """A header behind an editor's BOM is read; a zero-filled tail left by a crash, with
    OpenClaw's next line appended after it, is recorded and the line still counted."""
    sid = "ffffffff-0000-4000-8000-00000000000f"
    path = state_dir(tmp_path) / f"{sid}.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + lines(header(sid, T0), assistant(T0 + 1000,
                                                                        response_id="r1"))
                     + b"\x00" * 64 + lines(assistant(T0 + 2000, response_id="r2")))
    summary = run(tmp_path / "state", db_url)
    assert summary["bad_input"] == {"nul_bytes": 1}
    (found, calls, start), = query(db_url, "SELECT session_id, total_messages, start_time"
                                           " FROM sessions")
    assert (found, calls, str(start)[:19]) == (sid, 2, "2026-11-24 03:13:20")  # the header


def test_same_tool_call_id_twice_in_one_response_is_two_tool_calls(tmp_path: Path,
                                                                   db_url: str) -> None:
    """Gemini's OpenAI-compatible endpoint can give parallel calls one id: every block is
    a tool call (D2), each paired with the result that answers it in turn."""
    sid = "abababab-0000-4000-8000-0000000000ab"
    write(state_dir(tmp_path), f"{sid}.jsonl", header(sid, T0),
          assistant(T0 + 1000, response_id="r1", tools=[
              tool_call("function-call-1", "get_weather", city="Taipei"),
              tool_call("function-call-1", "get_weather", city="Tokyo")]),
          tool_result("function-call-1", "get_weather", T0 + 1700, error=True),
          tool_result("function-call-1", "get_weather", T0 + 1800))
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    assert query(db_url, "SELECT call_index, is_error, duration_ms FROM tool_calls"
                         " ORDER BY call_index") == [(0, True, 200), (1, False, 300)]
    assert query(db_url, "SELECT total_tool_calls FROM sessions") == [(2,)]


def test_reused_tool_call_id_whose_result_comes_in_a_later_run(tmp_path: Path,
                                                               db_url: str) -> None:
    """With `call_0` in every response, a result read in a later run than its call goes to
    the open call it follows, not to an earlier call of the same id; the result already
    used is not used again."""
    sid = "cdcdcdcd-0000-4000-8000-0000000000cd"
    path = write(state_dir(tmp_path), f"{sid}.jsonl", header(sid, T0),
                 assistant(T0 + 1000, response_id="r1", tools=[tool_call("call_0", "exec")]),
                 tool_result("call_0", "exec", T0 + 1600, error=True),
                 assistant(T0 + 2000, response_id="r2", tools=[tool_call("call_0", "read")]))
    backup = path.with_name(f"{sid}.jsonl.bak.2026-11-24T03-14-00.000Z")
    backup.write_bytes(path.read_bytes())  # a copy: its result of r1 is stored, unused
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    with path.open("ab") as out:
        out.write(lines(tool_result("call_0", "read", T0 + 2900)))
    assert ingest(tmp_path / "state", db_url, "-q").code == 0
    assert sorted(query(db_url, "SELECT tool_name, is_error, duration_ms FROM tool_calls")) == [
        ("exec", True, 100), ("read", False, 400)]


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_timestamp_outside_the_calendar_costs_nothing_else(tmp_path: Path, db_url: str,
                                                           stamp: str) -> None:
    odd = {"type": "custom", "id": "x1", "parentId": None, "timestamp": stamp,
           "customType": "foo"}
    call = assistant(T0 + 2000, response_id="odd")
    call["timestamp"] = stamp  # a call whose entry time has no UTC equivalent
    write(state_dir(tmp_path), "s.jsonl", header("s"), assistant(T0, response_id="r1"), odd,
          call, assistant(T0 + 4000, response_id="r2"))
    run(tmp_path / "state", db_url)
    assert totals(db_url)["llm_calls"] == 3  # dated by its request time instead


ARCHIVE = "z-1.jsonl.deleted.2026-11-24T04-00-00.000Z.0123456789abcdef0123456789abcdef.zst"


def _archived_calls(count: int, prefix: str) -> bytes:
    return lines(header("z-1"), *(assistant(T0 + i * 1000, response_id=f"{prefix}{i}",
                                            content=[{"type": "text", "text": os.urandom(400).hex()}])
                                  for i in range(count)))


def test_archive_that_is_not_zstd_is_bad_input(tmp_path: Path, db_url: str) -> None:
    sessions = state_dir(tmp_path)
    (sessions / ARCHIVE).write_bytes(b"this is not zstd at all" * 10)
    write(sessions, "ok.jsonl", header("ok"), assistant(T0, response_id="ok"))
    summary = run(tmp_path / "state", db_url)
    assert summary["bad_input"] == {"bad_zstd": 1}
    assert totals(db_url)["llm_calls"] == 1
    assert query(db_url, "SELECT path, kind FROM parse_issues") == [
        (f"agents/main/sessions/{ARCHIVE}", "bad_zstd")]


def test_archive_cut_short_keeps_what_came_before_and_says_so(tmp_path: Path,
                                                              db_url: str) -> None:
    # level-1 frames of ~128 KB blocks: the first blocks decode, the cut one cannot
    whole = zstandard.ZstdCompressor(level=1).compress(_archived_calls(400, "z"))
    (state_dir(tmp_path) / ARCHIVE).write_bytes(whole[:len(whole) * 2 // 3])
    summary = run(tmp_path / "state", db_url)
    assert summary["bad_input"].get("bad_zstd") == 1
    assert 0 < totals(db_url)["llm_calls"] < 400


def test_archive_of_several_zstd_frames_is_read_whole(tmp_path: Path, db_url: str) -> None:
    compress = zstandard.ZstdCompressor(level=3).compress
    data = _archived_calls(30, "f")
    half = data.index(b"\n", len(data) // 2) + 1
    (state_dir(tmp_path) / ARCHIVE).write_bytes(compress(data[:half]) + compress(data[half:]))
    summary = run(tmp_path / "state", db_url)
    assert summary["bad_input"] == {}
    assert totals(db_url)["llm_calls"] == 30
