"""The Prometheus exporter and the `exporter.py` command line.

Serves `/metrics` (prometheus_client's own HTTP server), or writes the exposition once, to
stdout or atomically to a file for node_exporter's textfile collector. Every value is an
all-time total read from the telemetry database, never from OpenClaw's files: counters for
LLM calls, tokens, cost and tool calls, gauges for sessions, recorded input problems and
freshness. Totals are re-read only when an ingest run changed the data (the data version),
so a scrape every 15 s costs two small queries. A database that is missing or unreachable
is reported as `openclaw_telemetry_database_up 0`, not as a failed scrape.

Exit codes: 0 stopped or written, 1 cannot listen or write, 64 bad arguments (EX_USAGE),
66 database missing or unreadable with --once/--textfile (EX_NOINPUT).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any

import pandas as pd
from prometheus_client import generate_latest, start_http_server, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry.config import default_db
from openclaw_telemetry.errors import ConfigError, DatabaseError
from openclaw_telemetry.queries import (
    data_version,
    ingest_status,
    issue_counts,
    session_counts,
    tool_outcomes,
    usage_totals,
)
from openclaw_telemetry.rollups import TOKEN_KINDS
from openclaw_telemetry.store import database_url, describe, make_engine, open_existing

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOINPUT = 0, 1, 64, 66
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 9473
CALL_LABELS = ["agent", "model", "provider", "kind"]
# (metric, roll-up measure, help): counters over the call labels
CALL_COUNTERS = (
    ("openclaw_llm_calls", "calls",
     "LLM calls, each counted once however many copies OpenClaw kept"),
    ("openclaw_llm_call_errors", "errors", "LLM calls that ended in an error, abort or timeout"),
    ("openclaw_cost_usd", "cost",
     "Cost in US dollars at list price: recorded by OpenClaw, else estimated from prices"),
    ("openclaw_estimated_cost_usd", "estimated_cost",
     "The part of openclaw_cost_usd estimated from prices rather than recorded"),
    ("openclaw_subscription_cost_usd", "subscription_cost",
     "The part of openclaw_cost_usd made through subscription or login providers: "
     "a list-price equivalent, not money spent"),
    ("openclaw_unpriced_llm_calls", "unpriced_calls",
     "LLM calls with no price anywhere (their cost counts as 0)"),
    ("openclaw_unpriced_tokens", "unpriced_tokens", "Tokens of the unpriced LLM calls"),
)


def _epoch(value: Any) -> float | None:
    """Naive-UTC datetime (or pandas Timestamp) -> Unix seconds; None for none."""
    if value is None or pd.isna(value):
        return None
    moment = pd.Timestamp(value).to_pydatetime()
    return moment.replace(tzinfo=UTC).timestamp()


def total_families(engine: Engine) -> list[Metric]:
    """The all-time totals: the part of a scrape that changes only with the data."""
    usage = usage_totals(engine).to_dict("records")
    families = []
    for name, measure, help_text in CALL_COUNTERS:
        family = CounterMetricFamily(name, help_text, labels=CALL_LABELS)
        for row in usage:
            family.add_metric([row[label] for label in CALL_LABELS],
                              float(row[measure]))
        families.append(family)
    tokens = CounterMetricFamily("openclaw_tokens", "Tokens of LLM calls by type (input "
                                 "excludes cached tokens)", labels=[*CALL_LABELS, "type"])
    for row in usage:
        for kind in TOKEN_KINDS:
            tokens.add_metric([*(row[label] for label in CALL_LABELS), kind], float(row[kind]))
    tools = CounterMetricFamily("openclaw_tool_calls", "Tool calls by tool and outcome "
                                "(unanswered: no result seen yet)", labels=["tool", "outcome"])
    for row in tool_outcomes(engine).to_dict("records"):
        tools.add_metric([row["tool"], row["outcome"]], float(row["calls"]))
    sessions = GaugeMetricFamily("openclaw_sessions", "Sessions known, by agent and kind",
                                 labels=["agent", "kind"])
    for row in session_counts(engine).to_dict("records"):
        sessions.add_metric([row["agent"], row["kind"]], float(row["sessions"]))
    problems = GaugeMetricFamily("openclaw_input_problems", "Problems in OpenClaw's files "
                                 "recorded by the ingest (each cost only itself), by kind",
                                 labels=["kind"])
    for row in issue_counts(engine).to_dict("records"):
        problems.add_metric([row["kind"]], float(row["issues"]))
    return [*families, tokens, tools, sessions, problems]


def status_families(engine: Engine, version: int) -> list[Metric]:
    """Freshness: read at every scrape (an ingest run that found nothing new still ran)."""
    row = ingest_status(engine).iloc[0]
    families: list[Metric] = [GaugeMetricFamily(
        "openclaw_telemetry_data_version", "Id of the latest ingest run that changed the data",
        value=float(version))]
    for name, column, help_text in (
            ("openclaw_last_ingest_timestamp_seconds", "last_finished",
             "When the latest ingest run finished (Unix time)"),
            ("openclaw_last_llm_call_timestamp_seconds", "last_call",
             "Time of the latest LLM call in the database (Unix time)")):
        seconds = _epoch(row[column])
        if seconds is not None:
            families.append(GaugeMetricFamily(name, help_text, value=seconds))
    return families


class TelemetryCollector(Collector):
    """Collects from the database at each scrape; totals cached per data version."""

    def __init__(self, db: str) -> None:
        self.db = db
        self._engine: Engine | None = None
        self._cached: tuple[int, list[Metric]] | None = None
        self._problem: str | None = None

    def collect(self) -> Iterator[Metric]:
        try:
            if self._engine is None:
                self._engine = open_existing(self.db)
            version = data_version(self._engine)
            if self._cached is None or self._cached[0] != version:
                self._cached = (version, total_families(self._engine))
            families = [*self._cached[1], *status_families(self._engine, version)]
        except (DatabaseError, SQLAlchemyError) as exc:
            self._report(str(exc).splitlines()[0])
            yield _up(False)
            return
        self._report(None)
        yield from families
        yield _up(True)

    def _report(self, problem: str | None) -> None:
        """One line on stderr when the database becomes unreadable or readable again."""
        if problem != self._problem:
            print(f"exporter.py: {problem}" if problem else "exporter.py: database readable",
                  file=sys.stderr, flush=True)
        self._problem = problem


def _up(ok: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily("openclaw_telemetry_database_up",
                             "1 when the telemetry database could be read at this scrape",
                             value=1.0 if ok else 0.0)


class _Parser(argparse.ArgumentParser):
    """Argument errors become ConfigError: one line and exit code 64."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConfigError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="exporter.py", allow_abbrev=False,
        description="Prometheus exporter for OpenClaw Telemetry: serves the database's "
                    "all-time totals (calls, tokens, cost, tool calls, sessions, input "
                    "problems, freshness) on /metrics, or writes them once.",
        epilog="Exit codes: 0 stopped or written, 1 cannot listen or write, 64 bad "
               "arguments, 66 database missing or unreadable (--once, --textfile).")
    p.add_argument("--db", metavar="PATH_OR_URL",
                   help="SQLite file or SQLAlchemy URL (env OPENCLAW_TELEMETRY_DB; default: "
                        "the parser's openclaw_telemetry.db)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port to listen on (default: {DEFAULT_PORT})")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--once", action="store_true",
                     help="print the metrics once on stdout and exit instead of serving")
    out.add_argument("--textfile", metavar="PATH",
                     help="write the metrics once to PATH, atomically (for node_exporter's "
                          "textfile collector, from cron), and exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit code (never raises for a person's mistake)."""
    try:
        args = parser().parse_args(argv)
        if not 0 < args.port < 65536:
            raise ConfigError(f"--port {args.port}: not a TCP port (1-65535)")
        db = args.db or default_db()
        _check_url(db)
    except ConfigError as exc:
        print(f"exporter.py: {exc}", file=sys.stderr)
        return EXIT_USAGE
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TelemetryCollector(db))
    if args.once or args.textfile:
        return _write_once(db, registry, args.textfile)
    return _serve(db, registry, args.host, args.port)


def _check_url(db: str) -> None:
    """A URL no driver can open is a mistake now; a database not written yet is not."""
    with contextlib.suppress(DatabaseError):
        make_engine(database_url(db), create=False).dispose()


def _write_once(db: str, registry: CollectorRegistry, path: str | None) -> int:
    try:
        open_existing(db).dispose()
    except (DatabaseError, SQLAlchemyError) as exc:
        print(f"exporter.py: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_NOINPUT
    if path is None:
        sys.stdout.write(generate_latest(registry).decode())
        return EXIT_OK
    try:
        write_to_textfile(path, registry)
    except OSError as exc:
        print(f"exporter.py: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _serve(db: str, registry: CollectorRegistry, host: str, port: int) -> int:
    try:
        server, thread = start_http_server(port, host, registry)
    except OSError as exc:
        print(f"exporter.py: cannot listen on {host}:{port}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_FAILED
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C
    print(f"exporter.py: serving the metrics of {describe(database_url(db))} on "
          f"http://{host}:{port}/metrics (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return EXIT_OK
