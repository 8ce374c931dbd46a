"""What every command-line door shares: how it parses arguments and which exit codes it uses.

Every command (`session_parser.py`, `alerts.py`, `exporter.py` and the helpers `start.sh`
runs, `python -m openclaw_telemetry.demo` and `.preflight`) builds its parser with
`door_parser`. A wrong argument never exits from inside argparse: it raises `ConfigError`,
and the command's `main` turns every `ConfigError` (a wrong argument, option value or
setting) into one line on stderr, `<prog>: error: <what> (see --help)`, and exit code 64.

The codes follow sysexits.h where one fits: 64 (EX_USAGE) a wrong argument or setting, 66
(EX_NOINPUT) the database a command only reads is missing or unreadable, 73 (EX_CANTCREAT)
an output file cannot be created or written. The small codes
are each command's own results (alerts.py: 1 and 2 are the severity that fired), and 130 /
143 mean stopped by Ctrl-C / SIGTERM. `EXIT_CODES` is the table: each `--help` ends with its
command's rows, and the README's "Exit codes" table repeats them word for word (a test
compares the two).

What a command prints for a reader that may stop reading early (`| head`) is written inside
`reader_may_leave`: the reader leaving is not a failure and changes no exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import IO, Any, NoReturn, TextIO

from openclaw_telemetry.errors import ConfigError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_WARNING, EXIT_CRITICAL = 1, 2  # alerts.py: the worst severity that fired
EXIT_LOCKED = 3  # session_parser.py: another ingest run holds the database
EXIT_USAGE = 64
EXIT_NOINPUT = 66
EXIT_CANTCREAT = 73  # an output file (export, the exporter's --textfile) cannot be written

_USAGE = "a wrong argument, option value or setting"
_NOINPUT = "the database is missing or unreadable"
EXIT_CODES: dict[str, tuple[tuple[int, str], ...]] = {
    "session_parser.py": (
        (EXIT_OK, "done, also when some files could not be read (each is named in a warning)"),
        (EXIT_FAILED, "the database cannot be opened, created or written, or a parsing "
                      "process was lost (killed, e.g. out of memory)"),
        (EXIT_LOCKED, "another ingest run holds the database"),
        (EXIT_USAGE, f"{_USAGE} (also a folder to read that does not exist or cannot be read)"),
        (130, "interrupted by Ctrl-C (the next run continues where this one stopped)"),
        (143, "stopped by SIGTERM (the next run continues where this one stopped)"),
    ),
    "session_parser.py export": (
        (EXIT_OK, "written, also when nothing is selected (a file with only the header or "
                  "schema)"),
        (EXIT_USAGE, f"{_USAGE} (also a bad date, an unknown gateway or agent, or Parquet to "
                     "a terminal)"),
        (EXIT_NOINPUT, _NOINPUT),
        (EXIT_CANTCREAT, "the output file cannot be created or written (nothing is left "
                         "behind)"),
        (130, "interrupted by Ctrl-C (no output file is left)"),
        (143, "stopped by SIGTERM (no output file is left)"),
    ),
    "session_parser.py report": (
        (EXIT_OK, "printed, also when nothing is selected"),
        (EXIT_USAGE, f"{_USAGE} (also a bad date, an unknown gateway or agent)"),
        (EXIT_NOINPUT, _NOINPUT),
    ),
    "alerts.py": (
        (EXIT_OK, "nothing fired, or only info"),
        (EXIT_WARNING, "a warning fired, or a budget reached 80 % (a warning fraction); with "
                       "--test-notify: a notify URL did not work"),
        (EXIT_CRITICAL, "a critical alert fired, or a budget is at or over 100 %"),
        (EXIT_USAGE, f"{_USAGE} (also a bad rules file or time zone)"),
        (EXIT_NOINPUT, _NOINPUT),
    ),
    "exporter.py": (
        (EXIT_OK, "stopped (Ctrl-C, SIGTERM), or the metrics were written"),
        (EXIT_FAILED, "cannot listen"),
        (EXIT_USAGE, _USAGE),
        (EXIT_NOINPUT, f"{_NOINPUT} (with --once or --textfile)"),
        (EXIT_CANTCREAT, "the --textfile cannot be created or written (nothing is left "
                         "behind)"),
    ),
    "python -m openclaw_telemetry.demo": (
        (EXIT_OK, "done"),
        (EXIT_FAILED, "the demo could not be written (the database holds real data, or a "
                      "folder is in the way)"),
        (EXIT_USAGE, _USAGE),
    ),
    "python -m openclaw_telemetry.preflight": (
        (EXIT_OK, "ready"),
        (EXIT_FAILED, "not ready (the message says why)"),
        (EXIT_USAGE, _USAGE),
    ),
}


def epilog(prog: str) -> str:
    """The exit codes of `prog` as its --help shows them."""
    return "Exit codes: " + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODES[prog]) + "."


class _DoorParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # a positional's choice is named by the choice, not by its internal name:
        # "invalid choice: 'weekly' (choose from …)", not "argument kind: invalid choice …"
        for action in self._actions:
            if not action.option_strings and action.choices:
                message = message.removeprefix(f"argument {action.dest}: ")
        raise ConfigError(f"{message} (see --help)")


def door_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser for `prog`: mistakes raise ConfigError; --help ends with its exit codes."""
    return _DoorParser(prog=prog, description=description, epilog=epilog(prog),
                       allow_abbrev=False)


def fail(prog: str, message: str, code: int, err: TextIO | None = None) -> int:
    """Print `<prog>: <first line of message>` on stderr; return `code`."""
    print(f"{prog}: {message.strip().splitlines()[0] if message.strip() else 'failed'}",
          file=err or sys.stderr)
    return code


def usage_error(prog: str, exc: ConfigError, err: TextIO | None = None) -> int:
    """A wrong argument or setting: one line, a line per mistake of a rules file that has
    several (`errors.Mistakes`), and exit code 64."""
    for line in exc.lines:
        fail(prog, f"error: {line}", EXIT_USAGE, err)
    return EXIT_USAGE


@contextlib.contextmanager
def reader_may_leave(stream: IO[Any]) -> Iterator[None]:
    """Write to `stream` (stdout, a FIFO) inside the block; it is flushed at the end. A
    reader that closes the pipe early (`| head`) has all it wanted: the writing stops
    quietly, and the stream's descriptor is pointed at /dev/null so that what is still
    buffered cannot fail again when the interpreter flushes it at exit (the Python docs'
    "Note on SIGPIPE", signal module)."""
    try:
        yield
        stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)
