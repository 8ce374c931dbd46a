"""The progress of a run adds up (defect 11 of issue #11): the sources it says it reads are
the sources it reads, and the bytes it advances are the bytes of its total — JSONL,
zstd archives and agent databases alike — on a first run and on an incremental one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zstandard

from openclaw_telemetry.ingest.bookkeeping import RunSummary
from openclaw_telemetry.ingest.run import Ingest
from openclaw_telemetry.progress import BarProgress, ProgressSink
from openclaw_telemetry.sources.discover import resolve_roots
from openclaw_telemetry.store import open_db
from tests.entries import T0, assistant, header, lines, state_dir, write
from tests.test_sqlite_era import add_events, agent_db


class Recorder(ProgressSink):
    """Checks, as it goes, that no advance passes the total announced so far."""

    def __init__(self) -> None:
        self.sources = self.total = self.done = self.advanced = 0

    def start(self, sources: int, total_bytes: int) -> None:
        self.sources, self.total = sources, total_bytes

    def more(self, sources: int) -> None:
        self.sources += sources

    def advance(self, nbytes: int) -> None:
        self.advanced += nbytes
        assert self.advanced <= self.total

    def source_done(self) -> None:
        self.done += 1
        assert self.done <= self.sources


def _run(state: Path, url: str, jobs: int = 1) -> tuple[Recorder, RunSummary]:
    recorder = Recorder()
    engine = open_db(url)
    try:
        summary = Ingest(engine, resolve_roots(str(state), {}), gateway="local", config_path=None,
                         progress=recorder, jobs=jobs).run()
    finally:
        engine.dispose()
    return recorder, summary


@pytest.mark.parametrize("jobs", [1, 2], ids=["in process", "parsing processes"])
def test_progress_of_files_archives_and_databases_adds_up(tmp_path: Path, sqlite_url: str,
                                                          jobs: int) -> None:
    sessions = state_dir(tmp_path)
    write(sessions, "live.jsonl", header("live"),
          *(assistant(T0 + i, response_id=f"l{i}") for i in range(50)))
    (sessions / "old.jsonl.deleted.2026-11-24T04-00-00.000Z.zst").write_bytes(
        zstandard.ZstdCompressor().compress(lines(header("old"), *(
            assistant(T0 + i, response_id=f"o{i}") for i in range(200)))))
    db = agent_db(tmp_path / "state", "ops")
    for s in range(3):
        add_events(db, f"db-{s}", [header(f"db-{s}"), *(
            assistant(T0 + i, response_id=f"d{s}-{i}") for i in range(30))], compress_every=3)
    recorder, summary = _run(tmp_path / "state", sqlite_url, jobs)
    assert recorder.sources == recorder.done == summary.sources_read == 5
    assert recorder.advanced == recorder.total
    with (sessions / "live.jsonl").open("ab") as handle:
        handle.write(lines(assistant(T0 + 999, response_id="more")))
    add_events(db, "db-1", [assistant(T0 + 999, response_id="more-db")], start_seq=31)
    recorder, summary = _run(tmp_path / "state", sqlite_url, jobs)  # only what is new
    assert recorder.sources == recorder.done == summary.sources_read == 2
    assert recorder.advanced == recorder.total
    assert summary.totals.new_calls == 2
    db.close()


def test_the_bar_counts_the_sources_found_while_reading() -> None:
    shown = io.StringIO()
    bar = BarProgress(shown)
    bar.start(2, 100)
    bar.more(3)  # an agent database opened: its sessions to read
    assert "Reading 5 sources" in shown.getvalue()
    bar.close()
