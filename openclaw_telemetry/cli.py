"""`session_parser.py`: the ingest command, and the dispatch to its subcommands `export`
and `report` (`export_cli`, `report_cli`). Turns errors into one line and an exit code.

A first argument `export` or `report` runs that subcommand (own options, own --help);
anything else is the ingest, exactly as before (users' hourly cron lines). The ingest's
modules are imported only when the ingest runs, so a report starts fast.

Exit codes (contract E3; the table is `doors.EXIT_CODES`): 0 done, also when some sources
could not be read (they are reported); 1 the database cannot be opened or written, or a
parsing process was lost; 3 another run holds the database lock; 64 a wrong argument or
setting.
"""

from __future__ import annotations

import gc
import importlib
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

import orjson
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry import config, stopping
from openclaw_telemetry.doors import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    reader_may_leave,
    usage_error,
)
from openclaw_telemetry.errors import (
    ConfigError,
    DatabaseError,
    LockedError,
    TelemetryError,
    WorkerLost,
)
from openclaw_telemetry.ui import format as fmt

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openclaw_telemetry.ingest.bookkeeping import RunSummary
    from openclaw_telemetry.sources.discover import StateRoot

PROG = "session_parser.py"
INTERRUPTED = "interrupted; the next run continues where this one stopped"
IDLE_STOP = "stopped between runs (nothing was interrupted)"  # a watcher waiting
SUBCOMMANDS = {"export": "openclaw_telemetry.export_cli", "report": "openclaw_telemetry.report_cli"}


def main(argv: Sequence[str] | None = None) -> None:
    """The program (`session_parser.py`, which starts with the cyclic garbage collector off:
    what start-up builds, modules and classes, lives to the end). A report is short and
    small, so it never collects; longer commands collect what they make, never what
    start-up built. At exit nothing is collected either: the interpreter's final
    collections over SQLAlchemy's objects would cost a report a fifth of its time."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["report"]:
        gc.freeze()
        gc.enable()
    code = run(args)
    gc.freeze()
    sys.exit(code)


def _command_hint(exc: ConfigError, args: list[str]) -> ConfigError:
    """An unrecognized word that is close to a command's name, or a report's: the command
    it means (`session_parser.py reprot daily`: did you mean `report`?)."""
    if "unrecognized arguments" not in str(exc):
        return exc
    import difflib  # (only here: a mistake's start-up time does not matter)

    from openclaw_telemetry.report_cli import KINDS
    for word in (arg for arg in args if not arg.startswith("-")):
        if word in KINDS:
            return ConfigError(f"{exc}; did you mean {PROG} report {word}?")
        close = difflib.get_close_matches(word, SUBCOMMANDS, n=1)
        if close:
            return ConfigError(f"{exc}; did you mean the command {close[0]!r} "
                               f"({PROG} {close[0]} …)?")
    return exc


def run(argv: Sequence[str] | None = None, out: TextIO = sys.stdout,
        err: TextIO = sys.stderr) -> int:
    started = time.perf_counter()
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        command: Callable[[list[str], TextIO, TextIO], int] = importlib.import_module(
            SUBCOMMANDS[args[0]]).run
        return command(args[1:], out, err)
    try:
        settings = config.load(argv)
    except ConfigError as exc:
        return usage_error(PROG, _command_hint(exc, args), err)
    try:
        with stopping.noting():
            stopping.check()  # a signal that came while the program started
            return _ingest(settings, started, out, err)
    except ConfigError as exc:
        return usage_error(PROG, exc, err)
    except LockedError as exc:
        print(f"session_parser.py: {exc}", file=err)
        return EXIT_LOCKED
    except WorkerLost as exc:  # (the batch it was in rolled back)
        print(f"session_parser.py: {exc}", file=err)
        return EXIT_FAILED
    except (DatabaseError, TelemetryError) as exc:
        print(f"session_parser.py: database error: {exc}", file=err)
        return EXIT_FAILED
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"session_parser.py: database error: {detail}", file=err)
        return EXIT_FAILED
    except stopping.Stopped as exc:  # the open batch rolled back; the next run resumes
        print(f"session_parser.py: {IDLE_STOP if exc.idle else INTERRUPTED}", file=err)
        return exc.exit_code


def _ingest(settings: config.Settings, started: float, out: TextIO, err: TextIO) -> int:
    from openclaw_telemetry.ingest.bookkeeping import database_totals, summary_dict
    from openclaw_telemetry.sources.discover import (
        default_candidates,
        holds_no_data,
        resolve_roots,
    )
    from openclaw_telemetry.store import database_url, describe, open_db

    roots = resolve_roots(settings.sessions_dir, settings.env, settings.sessions_dir_origin)
    url = database_url(settings.db)
    engine = open_db(url, gateway=settings.gateway)
    talk = not settings.quiet and not settings.json
    empty = [root for root in roots if holds_no_data(root)]
    if talk:  # a folder with no data has no agent (not the implicit `main` of a bare folder)
        counts = [(root.path, 0 if root in empty else len(root.agents)) for root in roots]
        where = ", ".join(f"{path} ({fmt.counted(n, 'agent') if n else 'no agent'})"
                          for path, n in counts) or "nothing"
        print(f"Scanning {where}", file=err)
    if not roots:
        looked = ", ".join(str(p) for p in default_candidates(settings.env))
        print(f"session_parser.py: no OpenClaw data found (looked at {looked}); pass "
              "--sessions-dir DIR", file=err)
    for root in empty:
        print(f"warning: {root.path} holds no OpenClaw data: expected a state directory "
              "(the folder holding agents/), one agent's folder, or a folder of .jsonl "
              "transcripts", file=err)
    try:
        alerts = _alert_watch(settings, engine, err)  # (a bad rules file stops us before)
        if settings.watch:
            with reader_may_leave(out):  # `--watch --json | head -1`: then the watch ends
                _watch(settings, engine, roots, url, alerts, out, err)
            return EXIT_OK
        summary = _run_once(settings, engine, roots, err)
        alerts(summary)
        with engine.connect() as conn:
            totals = database_totals(conn)
    finally:
        engine.dispose()
    summary.elapsed_seconds = time.perf_counter() - started
    if settings.json:
        payload = {**summary_dict(summary), "database": {"url": describe(url), **totals}}
        with reader_may_leave(out):
            out.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif talk:
        _report(summary, totals, describe(url), err)
    elif summary.issues_by_kind:
        print(f"warning: {_issues_line(summary)}", file=err)
    return EXIT_OK


def _run_once(settings: config.Settings, engine: Engine, roots: list[StateRoot], err: TextIO,
              *, progress: bool = True) -> RunSummary:
    """One incremental run under the database lock."""
    from openclaw_telemetry.ingest.lock import run_lock
    from openclaw_telemetry.ingest.run import Ingest
    from openclaw_telemetry.progress import for_stream

    quiet = settings.quiet or settings.json or not progress
    with run_lock(engine, settings.gateway, settings.lock_wait):
        return Ingest(engine, roots, gateway=settings.gateway,
                      config_path=settings.config_path, full=settings.full,
                      batch_calls=settings.batch_size, progress=for_stream(err, quiet=quiet),
                      warn=lambda m: print(f"warning: {m}", file=err),
                      jobs=settings.jobs
                      ).run()


def _watch(settings: config.Settings, engine: Engine, roots: list[StateRoot], url: str,
           alerts: Callable[[RunSummary], None], out: TextIO, err: TextIO) -> None:
    """Keep ingesting as OpenClaw writes; one line (or JSON object) per run that found data."""
    from openclaw_telemetry.ingest.bookkeeping import summary_dict
    from openclaw_telemetry.sources.discover import resolve_roots
    from openclaw_telemetry.store import describe
    from openclaw_telemetry.watch import Watcher, WatchOptions  # watchdog only for --watch

    def run_once() -> RunSummary:  # roots again each time: new agents and state folders
        current = resolve_roots(settings.sessions_dir, settings.env,
                                settings.sessions_dir_origin) or roots
        return _run_once(settings, engine, current, err, progress=False)

    def report(summary: RunSummary) -> None:
        _report_run(summary)
        alerts(summary)

    def _report_run(summary: RunSummary) -> None:
        if settings.json:
            out.write(orjson.dumps(summary_dict(summary)).decode() + "\n")
            out.flush()
        elif not settings.quiet and (summary.totals.new_calls or summary.issues_by_kind):
            t = summary.totals
            print(f"{time.strftime('%H:%M:%S')} +{fmt.counted(t.new_calls, 'call')}, ${t.cost:,.4f} "
                  f"from {summary.sources_read} sources"
                  + (f"; {_issues_line(summary)}" if summary.issues_by_kind else ""), file=err,
                  flush=True)

    if not settings.quiet and not settings.json:
        print(f"Watching for changes (writing to {describe(url)}); Ctrl-C to stop", file=err)
    Watcher(run_once, roots, report, lambda m: print(f"warning: {m}", file=err),
            WatchOptions(poll=settings.poll)).serve()


def _alert_watch(settings: config.Settings, engine: Engine, err: TextIO
                 ) -> Callable[[RunSummary], None]:
    """With --alerts (or its variable): evaluate and deliver after a run (watch_alerts);
    else nothing. So the hourly timer or cron line delivers too, as the watcher does."""
    if settings.alerts is None:
        return lambda _summary: None
    from openclaw_telemetry.watch_alerts import AlertWatch  # Apprise only when asked for

    return AlertWatch(engine, settings.alerts, settings.env,
                      lambda line: print(line, file=err, flush=True), quiet=settings.quiet)


def _issues_line(summary: RunSummary) -> str:
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.issues_by_kind.items()))
    return f"bad input: {kinds} (details in the parse_issues table)"


def _report(summary: RunSummary, totals: dict[str, object], url: str, err: TextIO) -> None:
    t = summary.totals
    gone = f", {summary.sources_gone} gone since last run" if summary.sources_gone else ""
    lines = [
        f"Read {summary.sources_read} of {fmt.counted(summary.sources_total, 'source')}{gone} "
        f"in {summary.elapsed_seconds:.2f} s",
        f"New LLM calls: {t.new_calls:,}   tokens: input {t.input:,} · output {t.output:,} · "
        f"cache read {t.cache_read:,} · cache write {t.cache_write:,}",
        f"New cost: ${t.cost:,.4f} (estimated ${t.estimated_cost:,.4f}; unpriced: "
        f"{fmt.counted(t.unpriced_calls, 'call')}, {fmt.counted(t.unpriced_tokens, 'token')})",
    ]
    if summary.issues_by_kind:
        lines.append(_issues_line(summary).capitalize())
    if summary.unreadable:
        count = len(summary.unreadable)
        lines.append(f"Could not read {count} file{'s' * (count != 1)} or folder"
                     f"{'s' * (count != 1)} (warnings above); the rest was read")
    lines.append(f"Database {url}: {fmt.counted(int(str(totals['calls'])), 'call')} in "
                 f"{fmt.counted(int(str(totals['sessions'])), 'session')}, "
                 f"${float(str(totals['cost'])):,.4f} in total")
    print("\n".join(lines), file=err)
