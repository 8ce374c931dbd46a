"""Parsing transcript files in worker processes while this one writes (issue 15: both
cores).

A cold ingest spends about half of its CPU parsing lines and the rest writing rows and
indexes; in one process they take turns. With spare cores, worker processes read and
parse the files of a run (dealt to them in turn: file i to worker i mod N) and hand each
batch to the ingest (`Ingest._read_files`), which takes them file by file in the run's
order and writes them exactly as if it had parsed them itself: the same batches, the same
read states, the same transactions, so the database does not depend on N. Reading moves,
and so does preparing the rows (`prepare`: prices, row records, times in the backend's
form, with the prices of each file resolved by the ingest before the workers start); the
decisions about the database (which calls are new, owners of copies) stay in the writer.
With one worker the writer waited for the parsing; with two, parsing and writing share
the two cores (bench/README.md).

The hand-off is one pickle per batch: the rows are plain tuples of plain values (a third
of the cost of named tuples), so a batch crosses the pipe as a few kilobytes per hundred
calls, with no dicts. Each worker runs ahead by at most `AHEAD` bytes of batches the
ingest has not taken (it waits when it is that far ahead), so memory stays bounded.

A worker is a fresh interpreter (`spawn`: no copy of the parent's database connections,
threads or signal handlers). It ignores Ctrl-C (the terminal sends it to every process;
the ingest stops them) and dies with its pipe when the ingest is killed.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openclaw_telemetry.ingest.prepare import Place, Pricing, SliceRows, prepare
from openclaw_telemetry.ingest.readers import read_jsonl
from openclaw_telemetry.ingest.state import SourceState
from openclaw_telemetry.model import Batch

if TYPE_CHECKING:  # (not imported at run time: the worker's start-up has no SQLAlchemy)
    from openclaw_telemetry.ingest.file_plan import Work

MIN_BYTES = 16 * 1024 * 1024  # less is read in well under a second: a worker would not pay
MAX_WORKERS = 4  # beyond, the writing process is the bound (bench/README.md)
AHEAD = 32 * 1024 * 1024  # pickled batches the worker may hold that the ingest has not read


def wanted(work: list[Work]) -> int:
    """How many parsing processes pay for these files (1: none, the ingest parses): one per
    core, up to `MAX_WORKERS`, when there are enough bytes and a core no one else is using
    (the load average says; on a busy machine the processes only take turns)."""
    if sum(w.bytes_to_read for w in work) < MIN_BYTES:
        return 1
    cores = len(os.sched_getaffinity(0))
    if cores < 2 or os.getloadavg()[0] > cores - 1:
        return 1
    return min(cores, MAX_WORKERS)


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
class Progressed:
    """Units (bytes) of the current file read."""

    units: int


@dataclass(frozen=True, slots=True)
class FileDone:
    """The current file is finished; `error` says why it could not be read (an OSError)."""

    error: str | None


Message = Flushed | Progressed | FileDone


class WorkerFailed(RuntimeError):
    """The worker stopped on an error that is no input problem (a bug): its traceback."""


class ParseWorker:
    """The worker processes for `work` (a context manager: leaving it ends them). Files are
    dealt to `workers` processes in turn; their messages come back in the files' order."""

    def __init__(self, work: list[Work], batch_calls: int, gateway: str,
                 pricing: Callable[[str, str | None], Pricing], *, sqlite: bool,
                 workers: int = 1) -> None:
        context = get_context("spawn")
        jobs = [Job(w.file.path, w.stat, w.state, w.file.compressed, w.file.session_hint,
                    gateway, pricing(str(w.file.path), w.state.agent_id), sqlite)
                for w in work]
        self._files = len(jobs)
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        count = max(1, min(workers, len(jobs)))
        for number in range(count):
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(target=_work,
                                      args=(sending, jobs[number::count], batch_calls),
                                      name="openclaw-telemetry parser", daemon=True)
            process.start()
            sending.close()  # the worker holds the only writing end: its end is our EOF
            self._pipes.append(receiving)
            self._processes.append(process)

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
        """What the workers send, file by file in the run's order, until they are done."""
        for number in range(self._files):
            which = number % len(self._pipes)
            while True:
                message = self._receive(which)
                if message is None:
                    raise WorkerFailed("a parsing process ended before its last file")
                yield message
                if isinstance(message, FileDone):
                    break
        for which in range(len(self._pipes)):  # each worker's last word: done
            if self._receive(which) is not None:
                raise WorkerFailed("a parsing process sent more than its files")

    def _receive(self, which: int) -> Message | None:
        try:
            message: Message | str | None = pickle.loads(self._pipes[which].recv_bytes())
        except EOFError:
            raise WorkerFailed("the parsing process ended without finishing (exit "
                               f"code {self._processes[which].exitcode})") from None
        if isinstance(message, str):
            raise WorkerFailed(message)
        return message


class _Sink:
    """The reader's `Sink` in the worker: batches go down the pipe. A thread of the
    worker's own writes to the pipe, so parsing goes on while the ingest is busy writing
    and not reading the pipe; it runs ahead by at most `AHEAD` bytes of pickled batches."""

    def __init__(self, pipe: Connection, batch_calls: int) -> None:
        self.pipe = pipe
        self.batch_calls = batch_calls
        self.job: Job | None = None  # the file being read
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
        self.send(Flushed(state.source_id, state.values(), prepare(batch, place)))

    def progress(self, units: int) -> None:
        self.send(Progressed(units))

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


def _work(pipe: Connection, jobs: list[Job], batch_calls: int) -> None:
    """The worker's main: read every file in order, then say so."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # no reference cycles, only churn: as the ingest's reading (`run.py`)
    sink = _Sink(pipe, batch_calls)
    try:
        for job in jobs:
            sink.job = job
            try:
                read_jsonl(job.path, job.stat, job.state, job.compressed, job.hint, sink,
                           sink.progress)
            except OSError as exc:
                sink.send(FileDone(f"{job.path}: {exc.strerror or exc}"))
            else:
                sink.send(FileDone(None))
        last = None
    except BrokenPipeError:  # the ingest is gone (killed): nobody to tell
        return
    except Exception:  # a bug: the ingest raises it with this traceback
        last = traceback.format_exc()
    with suppress(BrokenPipeError):
        sink.close(last)
