"""Parsing in worker processes (`--jobs N`, `ingest/parse_worker.py`; issue 15 item 2): the
database is the one a single process writes, row for row, whatever the batch size and the
number of workers; a file that cannot be read costs only itself; a bug in a worker is an
error, never a silent end; a stop ends every process with one line."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from openclaw_telemetry.demo.corpus import Options, generate
from openclaw_telemetry.errors import WorkerLost
from openclaw_telemetry.ingest import parse_worker
from openclaw_telemetry.ingest.prepare import Pricing
from openclaw_telemetry.ingest.state import SourceState
from openclaw_telemetry.pricing import PriceBook
from tests.conftest import SAMPLE_VERSIONS, copy_sample, ingest, totals
from tests.entries import T0, assistant, header, lines, write

ROOT = Path(__file__).resolve().parents[1]
STOPPED = "session_parser.py: interrupted; the next run continues where this one stopped"
VOLATILE = {"ingest_runs", "sqlite_sequence"}
NO_LOGINS = frozenset[str]().__contains__  # no provider is a login (and it can be pickled)
SKIP_COLUMNS = {"applied_at", "first_seen_at", "last_read_at", "run_id", "updated_at"}  # when


def dump(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (times of the run itself left out), sorted."""
    conn = sqlite3.connect(db)
    try:
        tables = [t for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'") if t not in VOLATILE]
        out = {}
        for table in tables:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")
                       if c[1] not in SKIP_COLUMNS and not (table == "parse_issues"
                                                            and c[1] == "id")]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def _same_with_workers(state: Path, tmp_path: Path, *extra: str,
                       jobs: tuple[str, ...] = ("2",)) -> None:
    one = tmp_path / "one.db"
    assert ingest(state, f"sqlite:///{one}", "-q", "--jobs", "1", *extra).code == 0
    for n in jobs:
        more = tmp_path / f"jobs{n}.db"
        ran = ingest(state, f"sqlite:///{more}", "-q", "--jobs", n, *extra)
        assert ran.code == 0, ran.err
        assert dump(one) == dump(more), f"--jobs {n}"


@pytest.mark.parametrize("version", SAMPLE_VERSIONS)
@pytest.mark.parametrize("batch", ["7", "10000"])
def test_the_samples_are_stored_alike_by_one_and_two_processes(
        tmp_path: Path, version: str, batch: str) -> None:
    state = copy_sample(version, tmp_path / "state")
    _same_with_workers(state, tmp_path, "--batch-size", batch)


@pytest.mark.parametrize("era", ["jsonl", "mixed"])
def test_a_generated_history_is_stored_alike(tmp_path: Path, era: str) -> None:
    """Hundreds of files, archives, bad lines, copies of calls in several files (whose
    first copy read must be the same with any number of workers): batches cross files and
    files batches."""
    state = tmp_path / "state"
    generate(state, Options(calls=3000, era=era, files=120, seed=7))
    _same_with_workers(state, tmp_path, "--batch-size", "250", jobs=("2", "3"))


def test_more_workers_than_files(tmp_path: Path) -> None:
    state = tmp_path / "state"
    sessions = state / "agents" / "main" / "sessions"
    write(sessions, "a.jsonl", header("a"), assistant(T0, response_id="1"))
    write(sessions, "b.jsonl", header("b"), assistant(T0 + 1000, response_id="2"))
    _same_with_workers(state, tmp_path, jobs=("2", "8"))


def test_a_rerun_and_an_append_with_two_jobs(tmp_path: Path, sqlite_url: str) -> None:
    state = tmp_path / "state"
    sessions = state / "agents" / "main" / "sessions"
    write(sessions, "a.jsonl", header("a"), assistant(T0, response_id="1"))
    assert ingest(state, sqlite_url, "-q", "--jobs", "2").code == 0
    with (sessions / "a.jsonl").open("ab") as out:  # a line OpenClaw appended meanwhile
        out.write(lines(assistant(T0 + 1000, response_id="2")))
    assert ingest(state, sqlite_url, "-q", "--jobs", "2").code == 0
    assert ingest(state, sqlite_url, "-q", "--jobs", "2").code == 0
    assert totals(sqlite_url)["llm_calls"] == 2


def job(path: Path, stat: os.stat_result, state: SourceState | None,
        hint: str) -> parse_worker.Job:
    """A file for the worker, priced by the shipped library only, for SQLite."""
    pricing = Pricing(PriceBook({}, {}), NO_LOGINS)
    return parse_worker.Job(path, stat, state, False, hint, "gw", pricing,  # type: ignore[arg-type]
                            True)


def _worker_says(jobs: list[parse_worker.Job]) -> list[object]:
    """What the worker's main sends for these jobs, run in this process."""
    receiving, sending = multiprocessing.Pipe(duplex=False)
    taking, giving = multiprocessing.Pipe(duplex=False)
    with giving:  # (small: the pipe holds them)
        giving.send_bytes(pickle.dumps(jobs))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        parse_worker._work(sending, taking, 100)
    finally:  # (the worker's main ignores stop signals: not this test process)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    sending.close()
    said = []
    with contextlib.suppress(EOFError):  # (a few small messages: the pipe holds them all)
        while True:
            said.append(pickle.loads(receiving.recv_bytes()))
    return said


def test_a_worker_lost_as_they_start_leaves_no_process(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The second worker's jobs cannot be handed over (it died starting): the first, which
    ignores SIGTERM, is not left waiting for jobs that never come."""
    files = [write(tmp_path, f"{n}.jsonl", header(n), assistant(T0, response_id=n))
             for n in ("a", "b")]
    jobs = [job(f, f.stat(), unread(i, f), f.stem) for i, f in enumerate(files, 1)]
    send = multiprocessing.connection.Connection.send_bytes
    sent: list[int] = []

    def second_fails(self: multiprocessing.connection.Connection, data: bytes) -> None:
        sent.append(len(data))
        if len(sent) == 2:
            raise BrokenPipeError("the worker is gone")
        send(self, data)

    monkeypatch.setattr(multiprocessing.connection.Connection, "send_bytes", second_fails)
    with pytest.raises(WorkerLost, match="without finishing"):
        parse_worker.ParseWorker(jobs, 100, workers=2)
    assert multiprocessing.active_children() == []


def unread(source_id: int, path: Path) -> SourceState:
    """The state of a source never read before."""
    known = {"source_id": source_id, "path": str(path), "rel_path": path.name,
             "kind": "primary", "size": 0, "mtime_ns": 0, "read_offset": 0, "line_no": 0,
             "present": True, "user_seen": False}
    return SourceState(**{f.name: known.get(f.name) for f in fields(SourceState)})


def test_a_file_that_cannot_be_read_costs_only_itself(tmp_path: Path) -> None:
    good = write(tmp_path, "good.jsonl", header("g"), assistant(T0, response_id="1"))
    gone = tmp_path / "gone.jsonl"  # seen when the run was planned, deleted before reading
    stat = good.stat()
    jobs = [job(gone, stat, unread(1, gone), "gone"), job(good, stat, unread(2, good), "g")]
    said = _worker_says(jobs)
    done = [m for m in said if isinstance(m, parse_worker.SourceDone)]
    assert done[0].error is not None and str(gone) in done[0].error
    assert done[1] == parse_worker.SourceDone(None)
    flushed = [m for m in said if isinstance(m, parse_worker.Flushed)]
    assert [m.source_id for m in flushed] == [2] and len(flushed[0].rows.messages) == 1
    assert said[-1] is None  # the end mark: all was read


def test_a_bug_in_the_worker_is_an_error_with_its_traceback(tmp_path: Path) -> None:
    good = write(tmp_path, "good.jsonl", header("g"))
    said = _worker_says([job(good, good.stat(), None, "g")])  # no state: a bug
    assert isinstance(said[-1], str) and "Traceback" in said[-1]


def test_the_ingest_raises_what_broke_the_worker(tmp_path: Path) -> None:
    good = write(tmp_path, "good.jsonl", header("g"))
    broken = unread(1, good)
    broken.read_offset = "nowhere"  # type: ignore[assignment]  # (the worker cannot seek)
    with (parse_worker.ParseWorker([job(good, good.stat(), broken, "g")], 100) as worker,
          pytest.raises(parse_worker.WorkerFailed, match="Traceback")):
        list(worker.messages())


@pytest.fixture(scope="module")
def big_history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A state directory large enough to stop mid-run (40k calls in 400 files), shared by
    the tests that stop or kill a run (an ingest never writes into it), with the totals of
    its cold ingest in one process."""
    where = tmp_path_factory.mktemp("big-history")
    state = where / "state"
    generate(state, Options(calls=40000, era="jsonl", files=400, seed=3))
    cold = where / "cold.db"
    assert ingest(state, f"sqlite:///{cold}", "-q", "--jobs", "1").code == 0
    return state, totals(f"sqlite:///{cold}")


def _running(pid: int) -> str | None:
    """The state of a process ('R', 'S' …), None when it is gone or a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None
    return None if state in ("Z", "X") else state


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "group", "delay"), [
    (signal.SIGTERM, False, 0), (signal.SIGINT, False, 0), (signal.SIGTERM, True, 0),
    (signal.SIGINT, True, 0), (signal.SIGINT, True, 0.05), (signal.SIGTERM, True, 0.15),
    (signal.SIGINT, True, 0.3)], ids=[
    "SIGTERM", "SIGINT", "SIGTERM to the group", "SIGINT to the group",
    "SIGINT to the group, 50 ms on", "SIGTERM to the group, 150 ms on",
    "SIGINT to the group, 300 ms on"])
def test_a_stop_while_the_worker_parses_ends_both_processes(
        tmp_path: Path, big_history: tuple[Path, dict[str, Any]], signum: int, group: bool,
        delay: float) -> None:
    """The ingest alone (`kill`), or every process of its group (Ctrl-C in a terminal,
    `systemctl stop`): one line, the signal's exit code, no process left."""
    state, cold_totals = big_history
    db = tmp_path / "t.db"
    proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--sessions-dir",
                             str(state), "--db", str(db), "--jobs", "2"],
                            stderr=subprocess.PIPE, text=True, start_new_session=group)
    assert proc.stderr is not None
    err = []
    for line in proc.stderr:  # the progress lines: reading has begun
        err.append(line.rstrip("\n"))
        if "Scanning" in line:
            break
    # the first child: multiprocessing's resource tracker or a worker; then `delay`, so
    # the signal comes as the workers start (a worker killed before it ignored the signal
    # hung the ingest; one interrupted during its start-up printed a traceback) or parse
    while not _children(proc.pid) and proc.poll() is None:
        time.sleep(0.01)
    time.sleep(delay)
    workers = _children(proc.pid)
    assert workers, "the run ended before it started a worker"
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    err += proc.stderr.read().splitlines()
    assert proc.wait(timeout=60) == 128 + signum
    assert "Traceback" not in "\n".join(err), err
    assert err[-1] == STOPPED
    deadline = time.monotonic() + 10  # the worker, and multiprocessing's resource tracker,
    while [pid for pid in workers if _running(pid)]:  # not left running for nobody
        assert time.monotonic() < deadline, [_running(pid) for pid in workers]
        time.sleep(0.05)
    assert ingest(state, f"sqlite:///{db}", "-q").code == 0
    assert totals(f"sqlite:///{db}") == cold_totals


def _groups(tmp_path: Path, own: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "own").write_text(own)
    return root, tmp_path / "own"


@pytest.mark.parametrize(("own", "files", "expected"), [
    ("0::/\n", {}, None),  # no quota files: cores count
    ("0::/\n", {"cpu.max": "max 100000\n"}, None),
    ("0::/system.slice/oc.service\n",  # a service's CPUQuota=150%
     {"system.slice/oc.service/cpu.max": "150000 100000\n", "cpu.max": "max 100000\n"}, 1.5),
    ("0::/docker/abc\n", {"cpu.max": "100000 100000\n"}, 1.0),  # host path not mounted
    ("0::/a/b\n", {"a/b/cpu.max": "400000 100000\n", "a/cpu.max": "200000 100000\n"}, 2.0),
    ("4:cpu,cpuacct:/lxc\n0::/\n",  # cgroup v1
     {"cpu/lxc/cpu.cfs_quota_us": "50000\n", "cpu/lxc/cpu.cfs_period_us": "100000\n"}, 0.5),
    ("4:cpu,cpuacct:/\n", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000"},
     None),
    ("0::/\n", {"cpu.max": "garbage\n"}, None),
    ("0::/\n", {"cpu.max": "100000 0\n"}, None),
    ("0::\n4:cpu:\n0::relative\n", {"cpu.max": "100000 100000\n"}, None),  # odd paths
    ("garbage\n1:2\n", {}, None),
])
def test_cpu_quotas_of_the_control_groups(tmp_path: Path, own: str, files: dict[str, str],
                                          expected: float | None) -> None:
    """A container's `--cpus` or a service's `CPUQuota=` limits the CPUs, not the cores
    the process sees: the smallest quota along its group and the groups above it."""
    root, own_file = _groups(tmp_path, own, files)
    assert parse_worker.cgroup_cpus(root, own_file) == expected


def test_no_control_groups_to_read(tmp_path: Path) -> None:
    assert parse_worker.cgroup_cpus(tmp_path, tmp_path / "missing") is None
    (tmp_path / "own").write_bytes(b"0::/\xff\xfe\n")  # not UTF-8
    assert parse_worker.cgroup_cpus(tmp_path, tmp_path / "own") is None


@pytest.mark.parametrize(("quota", "expected"), [(None, 4), (1.0, 1), (1.5, 1), (2.5, 2)])
def test_a_cpu_quota_limits_the_parsing_processes(monkeypatch: pytest.MonkeyPatch,
                                                  quota: float | None, expected: int) -> None:
    """On a 16-core host, a container given 1 CPU parses in one process."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(16)))
    monkeypatch.setattr(parse_worker, "cgroup_cpus", lambda: quota)
    assert parse_worker.wanted(10**9) == expected


def _workers(pid: int) -> list[int]:
    """The parsing processes among the children (spawned: not multiprocessing's resource
    tracker, and not a child between its fork and its exec)."""
    found = []
    for child in _children(pid):
        with contextlib.suppress(FileNotFoundError):
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command and b"resource_tracker" not in command:
                found.append(child)
    return found


@pytest.mark.slow
def test_a_parsing_process_killed_costs_a_clear_line_and_nothing_read(
        tmp_path: Path, big_history: tuple[Path, dict[str, Any]]) -> None:
    """A worker killed on its own (the kernel's OOM killer, a stray `kill -9`): one line
    that says so, exit code 1, no traceback; the next run reads everything."""
    state, cold_totals = big_history
    db = tmp_path / "t.db"
    proc = subprocess.Popen([sys.executable, str(ROOT / "session_parser.py"), "--sessions-dir",
                             str(state), "--db", str(db), "--jobs", "2", "-q"],
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    while not _workers(proc.pid) and proc.poll() is None:
        time.sleep(0.01)
    workers = _workers(proc.pid)
    assert workers, "the run ended before it started a worker"
    os.kill(workers[0], signal.SIGKILL)
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 1, err
    assert "Traceback" not in err, err
    assert err.splitlines() == [
        "session_parser.py: a parsing process ended without finishing (killed by SIGKILL, "
        "perhaps out of memory); the next run reads again what it had not handed over "
        "(--jobs 1 parses in the ingest's own process)"]
    assert ingest(state, f"sqlite:///{db}", "-q").code == 0
    assert totals(f"sqlite:///{db}") == cold_totals


@pytest.mark.parametrize(("cores", "nbytes", "expected"), [
    (1, 10**9, 1), (2, 10**6, 1), (2, 10**9, 2), (3, 10**9, 3), (16, 10**9, 4)])
def test_parsing_processes_by_default(monkeypatch: pytest.MonkeyPatch, cores: int,
                                      nbytes: int, expected: int) -> None:
    """One per core up to four, when there is enough to read; the load of the machine
    does not switch them off (bench/README.md: faster even with both cores busy)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(cores)))
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(parse_worker, "cgroup_cpus", lambda: None)
    assert parse_worker.wanted(nbytes) == expected


def test_large_blocks_are_mapped_apart_where_the_c_library_allows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """glibc takes the setting; a C library without `mallopt` (macOS) or none to load
    leaves the worker as it is, without an error."""
    told: list[tuple[int, int]] = []

    class Glibc:
        def mallopt(self, param: int, value: int) -> int:
            told.append((param, value))
            return 1

    monkeypatch.setattr(parse_worker.ctypes, "CDLL", lambda _name: Glibc())
    parse_worker._map_large_blocks()
    assert told == [(parse_worker.M_MMAP_THRESHOLD, parse_worker.MAPPED_ABOVE)]
    monkeypatch.setattr(parse_worker.ctypes, "CDLL", lambda _name: object())
    parse_worker._map_large_blocks()

    def missing(_name: object) -> object:
        raise OSError("no C library")
    monkeypatch.setattr(parse_worker.ctypes, "CDLL", missing)
    parse_worker._map_large_blocks()
    assert len(told) == 1
