"""Parsing many files on all cores while the main process writes.

Parsing is pure (bytes -> records), so worker processes can parse whole small files while
the main process writes the previous ones; results are applied strictly in file order, so
the database is the same as a serial run's. The window of files in flight is bounded, which
bounds memory. Large files and small workloads stay serial (streamed in batches).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

from openclaw_telemetry.ingest.state import SourceState

WORKER_MAX_FILE = 16 * 1024 * 1024  # larger files are streamed by the main process
PARALLEL_MIN_BYTES = 32 * 1024 * 1024  # below this, starting workers costs more than it saves
_WINDOW_PER_WORKER = 8

Job = tuple[Path, os.stat_result, SourceState, bool, str, int]
J = TypeVar("J")
R = TypeVar("R")


def worth_it(sizes: Sequence[int]) -> bool:
    return (os.cpu_count() or 1) > 1 and sum(sizes) >= PARALLEL_MIN_BYTES


def in_workers(work: Callable[[J], R], jobs: Sequence[J],
               on_error: Callable[[J, BaseException], None]) -> Iterator[tuple[J, R]]:
    """(job, result) in job order, at most a small window of results held at once."""
    workers = min(os.cpu_count() or 1, 4)
    context = multiprocessing.get_context("forkserver")  # safe beside the watcher's threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[tuple[J, Future[R]]] = deque()
        queue = iter(jobs)
        for job in queue:
            pending.append((job, pool.submit(work, job)))
            if len(pending) >= workers * _WINDOW_PER_WORKER:
                break
        while pending:
            job, future = pending.popleft()
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(work, nxt)))
            try:
                yield job, future.result()
            except Exception as exc:  # a worker that died: reported, the run goes on
                on_error(job, exc)
