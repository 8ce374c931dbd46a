"""`session_parser.py export`: calls, sessions, tool calls or daily usage of the telemetry
database as CSV, JSON Lines or Parquet, streamed (`read.export` reads chunks from a
server-side cursor, `export_format` writes each chunk), so any size fits in little memory.

Output goes to stdout (`-o -`, the default) or to `-o FILE`, written under a temporary
name beside it and renamed when complete: an interrupted or failed export leaves no
partial file, and a reader never sees one. A symbolic link is followed (the file it points
to is the one replaced); a file replaced keeps its permissions, a new one is readable by
its owner only, as the database. What is not a regular file (a FIFO, `>(…)`, a device)
is written as it is, never replaced. Parquet is refused on a terminal. Exit codes:
`doors.EXIT_CODES["session_parser.py export"]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry import stopping
from openclaw_telemetry.cli_options import add_selection, selection
from openclaw_telemetry.doors import (
    EXIT_CANTCREAT,
    EXIT_NOINPUT,
    EXIT_OK,
    door_parser,
    fail,
    reader_may_leave,
    usage_error,
)
from openclaw_telemetry.errors import ConfigError, DatabaseError
from openclaw_telemetry.export_format import FORMATS, Format, write
from openclaw_telemetry.read.export import WHATS, Export, Rows, export
from openclaw_telemetry.ui import format as fmt

PROG = "session_parser.py export"


def parser() -> argparse.ArgumentParser:
    p = door_parser(PROG, "Export the telemetry database's LLM calls, sessions, tool calls or "
                          "daily usage (per local day and model, as the dashboards count "
                          "it) as CSV, JSON Lines or Parquet. Streamed: any size, little "
                          "memory. Numbers are raw, times ISO 8601 UTC.")
    p.add_argument("--what", required=True, choices=WHATS,
                   help="calls: one row per LLM call; sessions: one per session active in "
                        "the range, with its totals; tool-calls: one per tool call; daily: "
                        "one per local day and model")
    p.add_argument("--format", default="csv", choices=FORMATS,
                   help="csv (with a header row), json (JSON Lines: one object per line) or "
                        "parquet (typed schema); default: csv")
    p.add_argument("-o", "--output", metavar="FILE", default="-",
                   help="the file to write, replaced only once complete (default: -, stdout)")
    add_selection(p)
    return p


def run(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        args = parser().parse_args(argv)
        if not args.output:
            raise ConfigError("-o needs a file name (or - for stdout)")
        if args.output == "-" and args.format == "parquet" and out.isatty():
            raise ConfigError("Parquet is binary and is not written to a terminal: pass "
                              "-o FILE or redirect stdout")
        chosen = selection(args, PROG, err)
    except ConfigError as exc:
        return usage_error(PROG, exc, err)
    except (DatabaseError, SQLAlchemyError) as exc:
        return fail(PROG, str(exc), EXIT_NOINPUT, err)
    table = export(chosen.engine, what=args.what, scope=chosen.scope, tz=chosen.tz)
    try:
        with stopping.noting():
            rows = _write(_stoppable(table), args.format, args.output, out)
    except OSError as exc:
        return fail(PROG, f"cannot write {args.output}: {exc.strerror or exc}", EXIT_CANTCREAT,
                    err)
    except SQLAlchemyError as exc:
        return fail(PROG, f"database error: {getattr(exc, 'orig', None) or exc}",
                    EXIT_NOINPUT, err)
    except stopping.Stopped as exc:
        said = ("what was written so far is incomplete" if _in_place(args.output)
                else "nothing was written" + ("" if args.output == "-" else f" to {args.output}"))
        print(f"{PROG}: interrupted; {said}", file=err)
        return exc.exit_code
    finally:
        chosen.engine.dispose()
    if args.output != "-" and rows is not None:
        print(f"{fmt.counted(rows, 'row')} written to {args.output} ({args.what})", file=err)
    return EXIT_OK


def _in_place(output: str) -> bool:
    """Written as it is rather than replaced: not stdout, and something that is there but
    not a regular file (a FIFO, a process substitution's /dev/fd/N, a device)."""
    if output == "-":
        return False
    target = Path(output).expanduser()
    return target.exists() and not target.is_file() and not target.is_dir()


def _stoppable(table: Export) -> Export:
    """The same rows, with a stop signal acted on between chunks (`stopping`)."""
    def chunks() -> Rows:
        for chunk in table.chunks():
            stopping.check()
            yield chunk

    return dataclasses.replace(table, chunks=chunks)


def _write(table: Export, fmt: Format, output: str, out: TextIO) -> int | None:
    """The rows written; None when the reader (of stdout, of a FIFO) left early (`| head`)."""
    rows = None
    if output == "-":
        with reader_may_leave(out):
            out.flush()
            rows = write(table, fmt, out.buffer)
        return rows
    target = Path(output).expanduser()
    if _in_place(output):
        with target.open("wb") as handle, reader_may_leave(handle):
            rows = write(table, fmt, handle)
        return rows
    target = target.resolve()  # through a symbolic link: the file it points to is replaced
    mode = target.stat().st_mode & 0o7777 if target.exists() else None  # new: 0600, as the
    # database it comes from
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                   suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as handle:
            rows = write(table, fmt, handle)
        if mode is not None:
            os.chmod(partial, mode)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return rows
