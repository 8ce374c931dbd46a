"""Parsing transcripts in worker processes while this one writes (issue 15: both cores).

A cold ingest spends about half of its CPU parsing lines and the rest writing rows and
indexes; in one process they take turns. With spare cores, worker processes read and
parse the sources of a run, transcript files and sessions of agent databases (dealt to
them in turn: job i to worker i mod N), and hand each batch to the ingest
(`Ingest._read_files`, `_read_databases`), which takes them source by source in the run's
order and writes them exactly as if it had parsed them itself: the same batches, the same
read states, the same transactions, so the database does not depend on N. Reading moves,
and so does preparing the rows (`prepare`: prices, row records, times in the backend's
form, with the prices of each source resolved by the ingest before the workers start); the
decisions about the database (which calls are new, owners of copies) stay in the writer.
A worker opens the agent databases itself, in a snapshot of its own, and checks each
session against the plan made in the ingest's snapshot (`readers.read_session`).
With one worker the writer waited for the parsing; with two, parsing and writing share
the two cores (bench/README.md).

The hand-off is one pickle per batch: the rows are plain tuples of plain values (a third
of the cost of named tuples), so a batch crosses the pipe as a few kilobytes per hundred
calls, with no dicts. Each worker runs ahead by at most `AHEAD` bytes of batches the
ingest has not taken (it waits when it is that far ahead), so memory stays bounded.

A worker is a fresh interpreter (`spawn`: no copy of the parent's database connections,
threads or signal handlers). It ignores Ctrl-C and SIGTERM (a terminal or `systemctl
stop` signals every process of the group; the ingest stops them), starting with them
blocked until it does, and dies with its pipe when the ingest is killed; killed itself,
it ends the run with one line (`WorkerLost`), never a traceback.
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import signal
import sqlite3
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from multiprocessing import get_context, resource_tracker
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from openclaw_telemetry import stopping
from openclaw_telemetry.errors import WorkerLost
from openclaw_telemetry.ingest.prepare import Place, Pricing, SliceRows, prepare
from openclaw_telemetry.ingest.readers import (
    DATABASE_ERRORS,
    database_problem,
    file_problem,
    read_jsonl,
    read_session,
)
from openclaw_telemetry.ingest.state import SourceState
from openclaw_telemetry.model import Batch
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.sqlite_store import SessionHead

if TYPE_CHECKING:  # (not imported at run time: the worker's start-up has no SQLAlchemy)
    from openclaw_telemetry.ingest.file_plan import Work

MIN_BYTES = 16 * 1024 * 1024  # less is read in well under a second: a worker would not pay
# Not measured beyond 2 (the bench machine has 2 cores): during the reading the writer
# uses about a third of the CPU the two workers use, so past 3 or 4 it is the bound.
MAX_WORKERS = 4
PROGRESS_UNITS = 1024  # bytes or rows read between two progress messages, at least
# pickled batches a worker may hold that the ingest has not read: with two workers on the
# 1 GB history the three processes peaked at 311 MB together with 32 MiB, 273 MB with 8 MiB,
# at the same speed (bench/README.md)
AHEAD = 8 * 1024 * 1024
# glibc's mallopt parameter, and the size above which a worker's blocks are mapped apart
M_MMAP_THRESHOLD, MAPPED_ABOVE = -3, 128 * 1024


def wanted(nbytes: int) -> int:
    """How many parsing processes pay for reading `nbytes` (1: none, the ingest parses):
    one per usable core (affinity, CPU quota), up to `MAX_WORKERS`, when there are enough
    bytes and two cores. Even with both cores of a 2-core machine kept busy by other
    processes, two workers were faster than none (jsonl-100k: 6.7–7.3 s against 8.4–8.9 s;
    one core busy: 5.0 against 5.5 s), so the load of the machine does not switch them
    off."""
    if nbytes < MIN_BYTES:  # (an hourly run: no control-group files read)
        return 1
    cores = len(os.sched_getaffinity(0))
    limit = cgroup_cpus()
    if limit is not None:
        cores = min(cores, max(1, int(limit)))
    return 1 if cores < 2 else min(cores, MAX_WORKERS)


def cgroup_cpus(root: Path = Path("/sys/fs/cgroup"),
                own: Path = Path("/proc/self/cgroup")) -> float | None:
    """The CPUs this process may use by its control groups' quotas (a container's
    `--cpus`, a service's `CPUQuota=`), the smallest along its group and the groups above
    it: cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`. None when no
    quota is set or none can be read (cores alone then count)."""
    try:
        lines = own.read_text(errors="replace").splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        if line.count(":") < 2:
            continue
        _hierarchy, controllers, path = line.split(":", 2)
        if not path.startswith("/"):
            continue
        if controllers == "":
            base, read = root, _v2_quota
        elif "cpu" in controllers.split(","):
            base, read = root / "cpu", _v1_quota
        else:
            continue
        group = Path(path)
        # every level up to the root (in a container the host's path is not there, and
        # the container's own group is the root)
        for folder in (group, *group.parents):
            found = read(base / folder.relative_to("/"))
            if found is not None:
                limits.append(found)
    return min(limits, default=None)


def _v2_quota(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _v1_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


@dataclass(frozen=True, slots=True)
class Flushed:
    """The rows of a batch of a source and its read state right after it (`Writer.add`)."""

    source_id: int
    values: dict[str, Any]
    rows: SliceRows


@dataclass(frozen=True, slots=True)
class Job:
    """A file to read, with what its rows need: prices, gateway, the backend's times."""

    path: Path
    stat: os.stat_result
    state: SourceState
    compressed: bool
    hint: str
    gateway: str
    pricing: Pricing
    sqlite: bool


@dataclass(frozen=True, slots=True)
class SessionJob:
    """A session of an agent database to read (`readers.read_session`: the worker opens the
    database itself, `read_from`: the run's private copy of it, if it has one), with its
    head as planned and what its rows need."""

    database: Path
    read_from: Path
    head: SessionHead
    state: SourceState
    gateway: str
    pricing: Pricing
    sqlite: bool


def file_jobs(work: list[Work], gateway: str, pricing: Callable[[str, str | None], Pricing],
              *, sqlite: bool) -> list[Job]:
    return [Job(w.file.path, w.stat, w.state, w.file.compressed, w.file.session_hint,
                gateway, pricing(str(w.file.path), w.state.agent_id), sqlite) for w in work]


@dataclass(frozen=True, slots=True)
class Progressed:
    """Units of the current source read: bytes of a file, rows of a session."""

    units: int


@dataclass(frozen=True, slots=True)
class SourceDone:
    """The current source is finished; `error` says why it could not be read (an OSError,
    an agent database that cannot be opened or read)."""

    error: str | None


Message = Flushed | Progressed | SourceDone


class WorkerFailed(RuntimeError):
    """The worker stopped on an error that is no input problem (a bug): its traceback."""


class ParseWorker:
    """The worker processes for `jobs` (a context manager: leaving it ends them). The jobs
    are dealt to `workers` processes in turn; their messages come back in the jobs' order."""

    def __init__(self, jobs: Sequence[Job | SessionJob], batch_calls: int, *,
                 workers: int = 1) -> None:
        context = get_context("spawn")
        self._jobs = len(jobs)
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        count = max(1, min(workers, len(jobs)))
        giving: list[Connection] = []
        resource_tracker.ensure_running()  # (now: starting, it unblocks the stop signals)
        try:
            for _ in range(count):
                receiving, sending = context.Pipe(duplex=False)
                taking, give = context.Pipe(duplex=False)
                giving.append(give)
                process = context.Process(target=_work, args=(sending, taking, batch_calls),
                                          name="openclaw-telemetry parser", daemon=True)
                # A worker starts with the stop signals blocked (a mask survives exec), so
                # one sent to the whole group while it starts waits until `_work` ignores
                # it; blocked here they wait for this process too, then are noted.
                mask = signal.pthread_sigmask(signal.SIG_BLOCK, stopping.SIGNALS)
                try:
                    process.start()
                finally:
                    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                sending.close()  # the worker holds the only writing end: its end is our EOF
                taking.close()  # and the only reading end of its jobs: its end, our EPIPE
                self._pipes.append(receiving)
                self._processes.append(process)
            # The jobs go down a pipe of their own, not as the process's arguments: those
            # are written while multiprocessing itself holds the pipe's reading end, so a
            # worker that died starting would leave that write blocked.
            for number, give in enumerate(giving):
                with give:
                    try:
                        give.send_bytes(pickle.dumps(jobs[number::count],
                                                     protocol=pickle.HIGHEST_PROTOCOL))
                    except OSError:
                        self._failed(number)
        except BaseException:  # a stop, a lost worker: end those started (they ignore SIGTERM)
            for give in giving:
                give.close()
            self.__exit__()
            raise

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *_exc: object) -> None:
        for process in self._processes:
            if process.is_alive():  # a stop or an error here: nothing more is wanted
                process.kill()
        for process, pipe in zip(self._processes, self._pipes, strict=True):
            process.join()
            pipe.close()

    def messages(self) -> Iterator[Message]:
        """What the workers send, job by job in the run's order, until they are done."""
        for number in range(self._jobs):
            which = number % len(self._pipes)
            while True:
                message = self._receive(which)
                if message is None:  # (its last word before its jobs were done: a bug)
                    raise WorkerFailed("a parsing process ended before its last job")
                yield message
                if isinstance(message, SourceDone):
                    break
        for which in range(len(self._pipes)):  # each worker's last word: done
            if self._receive(which) is not None:
                raise WorkerFailed("a parsing process sent more than its jobs")

    def _receive(self, which: int) -> Message | None:
        try:
            message: Message | str | None = pickle.loads(self._pipes[which].recv_bytes())
        except (EOFError, OSError):  # (OSError: it ended in the middle of a message)
            self._failed(which)
        if isinstance(message, str):
            raise WorkerFailed(message)
        return message

    def _failed(self, which: int) -> NoReturn:
        """Worker `which` is gone: a stop, when the ingest was told of one too (Ctrl-C
        or `systemctl stop` signal every process), else it was lost."""
        stopping.check()
        process = self._processes[which]
        process.join(1)
        code = process.exitcode
        how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
               and -code in signal.valid_signals() else f"exit code {code}")
        raise WorkerLost(f"a parsing process ended without finishing ({how}"
                         f"{', perhaps out of memory' if code == -signal.SIGKILL else ''})"
                         "; the next run reads again what it had not handed over "
                         "(--jobs 1 parses in the ingest's own process)") from None


class _Sink:
    """The reader's `Sink` in the worker: batches go down the pipe. A thread of the
    worker's own writes to the pipe, so parsing goes on while the ingest is busy writing
    and not reading the pipe; it runs ahead by at most `AHEAD` bytes of pickled batches."""

    def __init__(self, pipe: Connection, batch_calls: int) -> None:
        self.pipe = pipe
        self.batch_calls = batch_calls
        self.job: Job | SessionJob | None = None  # the source being read
        self._progressed = 0
        self._queue: deque[bytes | None] = deque()
        self._queued = 0
        self._room = threading.Condition()
        self._broken = False
        self._sender = threading.Thread(target=self._send_all, name="sender", daemon=True)
        self._sender.start()

    def flush(self, state: SourceState, batch: Batch) -> None:
        job = self.job
        assert job is not None
        place = Place.of(state, job.gateway, job.pricing, sqlite=job.sqlite)
        self.told()
        self.send(Flushed(state.source_id, state.values(), prepare(batch, place)))

    def progress(self, units: int) -> None:
        """Units read, sent on when they make `PROGRESS_UNITS` (a chunk of a file at once;
        the rows of a session, each told apart, would be a message per row)."""
        self._progressed += units
        if self._progressed >= PROGRESS_UNITS:
            self.told()

    def told(self) -> None:
        """Send the units read and not yet sent."""
        if self._progressed:
            self.send(Progressed(self._progressed))
            self._progressed = 0

    def send(self, message: Message | str | None) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._room:
            self._room.wait_for(lambda: self._queued < AHEAD or self._broken)
            if self._broken:
                raise BrokenPipeError("the ingest stopped reading")
            self._queue.append(data)
            self._queued += len(data)
            self._room.notify_all()

    def close(self, last: str | None) -> None:
        """Send the last word (None: all was read; else a traceback) and wait until
        everything is in the pipe."""
        self.send(last)
        with self._room:  # and the sending thread's own end
            self._queue.append(None)
            self._room.notify_all()
        self._sender.join()
        if self._broken:
            raise BrokenPipeError("the ingest stopped reading")

    def _send_all(self) -> None:
        while True:
            with self._room:
                self._room.wait_for(lambda: bool(self._queue))
                data = self._queue.popleft()
            if data is None:
                return
            try:
                self.pipe.send_bytes(data)
            except OSError:
                with self._room:
                    self._broken = True
                    self._room.notify_all()
                return
            with self._room:
                self._queued -= len(data)
                self._room.notify_all()


class _Databases:
    """The agent database the worker reads (one open at a time: the jobs come database by
    database), and those that could not be read: the rest of their sessions are not tried."""

    def __init__(self) -> None:
        self._open = ExitStack()
        self._path: Path | None = None
        self._db: sqlite3.Connection | None = None
        self.failed: dict[Path, str] = {}

    def get(self, path: Path) -> sqlite3.Connection:
        if path != self._path or self._db is None:
            self.close()
            self._db = self._open.enter_context(sqlite_store.open_readonly(path))
            self._path = path
        return self._db

    def close(self) -> None:
        self._open.close()
        self._path = self._db = None


def _read(job: Job | SessionJob, sink: _Sink, databases: _Databases) -> str | None:
    """Read one job; the error that made it unreadable, None when it was read."""
    if isinstance(job, Job):
        try:
            read_jsonl(job.path, job.stat, job.state, job.compressed, job.hint, sink,
                       sink.progress)
        except OSError as exc:
            return file_problem(job.path, exc)
        return None
    if job.database in databases.failed:
        return databases.failed[job.database]
    try:
        read_session(databases.get(job.read_from), job.state, job.head, sink, sink.progress)
    except DATABASE_ERRORS as exc:
        databases.close()
        said = database_problem(job.database, exc)
        databases.failed[job.database] = said
        return said
    return None


def _map_large_blocks() -> None:
    """Blocks over `MAPPED_ABOVE` are mapped apart and given back when freed (glibc; a
    no-op elsewhere). By default glibc raises that threshold to the largest block freed
    (the 1 MiB chunks a file is read in, long texts), after which such blocks come from
    the heap, whose holes keep a worker at its high-water mark: on the 1 GB history the
    two workers held 70–78 and 58 MB, with this 53–59 (bench/README.md)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MAPPED_ABOVE)


def _work(pipe: Connection, taking: Connection, batch_calls: int) -> None:
    """The worker's main: take its jobs, read each in order, then say so. It ignores the
    stop signals a whole process group gets (Ctrl-C, `systemctl stop`): the ingest stops it."""
    for stop in stopping.SIGNALS:
        signal.signal(stop, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping.SIGNALS)  # (blocked while it started)
    gc.disable()  # no reference cycles, only churn: as the ingest's reading (`run.py`)
    _map_large_blocks()
    with taking:
        try:
            jobs: list[Job | SessionJob] = pickle.loads(taking.recv_bytes())
        except (EOFError, OSError):  # the ingest is gone before it gave them all
            return
    sink = _Sink(pipe, batch_calls)
    databases = _Databases()
    try:
        for job in jobs:
            sink.job = job
            error = _read(job, sink, databases)
            sink.told()
            sink.send(SourceDone(error))
        databases.close()
        last = None
    except BrokenPipeError:  # the ingest is gone (killed): nobody to tell
        return
    except Exception:  # a bug: the ingest raises it with this traceback
        last = traceback.format_exc()
    with suppress(BrokenPipeError):
        sink.close(last)
