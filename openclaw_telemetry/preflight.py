"""`python -m openclaw_telemetry.preflight`: the checks `start.sh` makes before it serves.

- `port HOST PORT`: the dashboard's address is free to listen on. Run right after the
  virtual environment is ready, before an ingest that can take minutes, so a busy port is
  reported at once. Exit 1 with one line saying what to do when it is not.
- `calls [DB]`: the telemetry database holds at least one LLM call (exit 1 when not, and
  nothing is printed: start.sh then says where it looked), so start.sh never serves an
  empty dashboard.

start.sh keeps no Python of its own (design.md §1): what it needs to ask Python is here.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry.config import default_db
from openclaw_telemetry.doors import EXIT_FAILED, EXIT_OK, door_parser, fail, usage_error
from openclaw_telemetry.errors import ConfigError, DatabaseError
from openclaw_telemetry.ingest.bookkeeping import database_totals
from openclaw_telemetry.store import open_existing

PROG = "python -m openclaw_telemetry.preflight"


def port_problem(host: str, port: int) -> str | None:
    """Why the dashboard cannot listen on host:port, or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (f"port {port} on {host} is already in use (another dashboard, or another "
                    "program); stop it or pick a free port with --port, e.g. ./start.sh "
                    f"--port {port % 65535 + 1}")
        return f"cannot listen on {host} port {port}: {exc.strerror or exc}"
    return None


def has_calls(db: str) -> bool:
    """Whether the telemetry database at `db` holds at least one LLM call."""
    try:
        engine = open_existing(db)
    except DatabaseError:
        return False
    try:
        with engine.connect() as conn:
            return int(str(database_totals(conn)["calls"])) > 0
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = door_parser(PROG, "The checks start.sh makes before it serves the dashboard.")
    checks = parser.add_subparsers(dest="check", required=True)
    port = checks.add_parser("port", help="exit 1 (with the reason) when the dashboard "
                                          "cannot listen on HOST PORT")
    port.add_argument("host", metavar="HOST")
    port.add_argument("port", metavar="PORT", type=int)
    calls = checks.add_parser("calls", help="exit 1 when the database holds no LLM call")
    calls.add_argument("db", metavar="DB", nargs="?",
                       help="SQLite file or SQLAlchemy URL (default: $OPENCLAW_TELEMETRY_DB, "
                            "else openclaw_telemetry.db)")
    try:
        args = parser.parse_args(argv)
    except ConfigError as exc:
        return usage_error(PROG, exc)
    if args.check == "port":
        problem = port_problem(args.host, args.port)
        return fail("start.sh", problem, EXIT_FAILED) if problem else EXIT_OK
    return EXIT_OK if has_calls(args.db or default_db()) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
