"""The Prometheus exporter behind `exporter.py`: its metrics and its command line.

Serves `/metrics` (prometheus_client's own HTTP server), or writes the exposition once, to
stdout or atomically to a file for node_exporter's textfile collector. Every value is read
from the telemetry database, never from OpenClaw's files, and every metric is a gauge:
- totals since the first ingest (calls, errors, tokens, cost and its estimated, subscription
  and unpriced parts, tool calls, sessions, input problems), each series labelled with its
  `gateway` (the OpenClaw host it was read from), re-read only when an ingest run
  changed the data (the data version). They are not counters on purpose: a correction moves
  or lowers them (a session's kind learned later, a price added), which a counter may not do.
- the same call measures over the last hour and the last 24 hours (`window` label), exact
  at each scrape: what alert rules and "spend per hour" graphs should use, since a series
  that appears with a value already (a new model) is invisible to `increase()`/`delta()`;
- freshness: the last ingest run and the last call of each gateway.
A database that is missing or unreachable is `openclaw_telemetry_database_up 0`, not a
failed scrape. A labelled series with nothing to count (an idle hour, no bad input) is
absent, not a 0 under made-up labels: a query that means 0 says `or 0 * …` (README,
"Prometheus exporter"; the Grafana dashboard does).

Exit codes (the table is `doors.EXIT_CODES`): 0 stopped or written, 1 cannot listen, 64 a
wrong argument, 66 the database is missing or unreadable (--once, --textfile), 73 the
--textfile cannot be written.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Hashable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from prometheus_client import generate_latest, start_http_server, write_to_textfile
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry.config import default_db
from openclaw_telemetry.doors import (
    EXIT_CANTCREAT,
    EXIT_FAILED,
    EXIT_NOINPUT,
    EXIT_OK,
    door_parser,
    fail,
    reader_may_leave,
    usage_error,
)
from openclaw_telemetry.errors import ConfigError, DatabaseError
from openclaw_telemetry.model import COST_DECIMALS
from openclaw_telemetry.read import (
    data_version,
    ingest_status,
    issue_counts,
    recent_usage,
    session_counts,
    tool_outcomes,
    usage_totals,
)
from openclaw_telemetry.read.rollups import TOKEN_KINDS
from openclaw_telemetry.store import (
    cannot_open,
    database_url,
    describe,
    make_engine,
    open_existing,
)

PROG = "exporter.py"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 9473
CALL_LABELS = ["gateway", "agent", "model", "provider", "kind"]
# (metric, measure of `rollups.MEASURES`, help): call measures over the call labels; `{cost}`
# in a help is the cost metric of the same family (openclaw_cost_usd, openclaw_recent_cost_usd)
CALL_MEASURES = (
    ("openclaw_llm_calls", "calls",
     "LLM calls, each counted once however many copies OpenClaw kept"),
    ("openclaw_llm_call_errors", "errors", "LLM calls that ended in an error, abort or timeout"),
    ("openclaw_cost_usd", "cost",
     "Cost in US dollars at list price: recorded by OpenClaw, else estimated from prices"),
    ("openclaw_estimated_cost_usd", "estimated_cost",
     "The part of {cost} estimated from prices rather than recorded"),
    ("openclaw_subscription_cost_usd", "subscription_cost",
     "The part of {cost} made through subscription or login providers: "
     "a list-price equivalent, not money spent"),
    ("openclaw_unpriced_llm_calls", "unpriced_calls",
     "LLM calls with no price anywhere (their cost counts as 0)"),
    ("openclaw_unpriced_tokens", "unpriced_tokens", "Tokens of the unpriced LLM calls"),
)
WINDOWS = (("1h", timedelta(hours=1)), ("24h", timedelta(hours=24)))
RECENT = "openclaw_recent_"  # the windowed twin of each call measure: openclaw_recent_<name>
SINCE_FIRST = "; since the first ingest"


def _epoch(value: Any) -> float | None:
    """Naive-UTC datetime (or pandas Timestamp) -> Unix seconds; None for none."""
    if value is None or pd.isna(value):
        return None
    moment = pd.Timestamp(value).to_pydatetime()
    return moment.replace(tzinfo=UTC).timestamp()


def _call_families(rows: list[dict[Hashable, Any]], prefix: str, suffix: str,
                   window: str | None) -> list[GaugeMetricFamily]:
    """One gauge per call measure and one for tokens by type, over the call labels (and
    the window, for recent ones)."""
    labels = [*CALL_LABELS, *(["window"] if window else [])]
    extra = [window] if window else []
    families = []
    for name, measure, help_text in CALL_MEASURES:
        family = GaugeMetricFamily(prefix + name.removeprefix("openclaw_"),
                                   help_text.format(cost=prefix + "cost_usd") + suffix,
                                   labels=labels)
        # dollars to COST_DECIMALS, as reports give them (a sum of floats reads 1.0729762500000002)
        dollars = name.endswith("_usd")
        for row in rows:
            value = float(row[measure])
            family.add_metric([*(row[label] for label in CALL_LABELS), *extra],
                              round(value, COST_DECIMALS) if dollars else value)
        families.append(family)
    tokens = GaugeMetricFamily(prefix + "tokens", "Tokens of LLM calls by type (input excludes "
                               "cached tokens)" + suffix, labels=[*labels, "type"])
    for row in rows:
        for kind in TOKEN_KINDS:
            tokens.add_metric([*(row[label] for label in CALL_LABELS), *extra, kind],
                              float(row[kind]))
    return [*families, tokens]


def total_families(engine: Engine) -> list[Metric]:
    """Totals since the first ingest: the part of a scrape that changes only with the data."""
    families: list[Metric] = list(_call_families(
        usage_totals(engine).to_dict("records"), "openclaw_", SINCE_FIRST, None))
    tools = GaugeMetricFamily("openclaw_tool_calls", "Tool calls by gateway, tool and outcome "
                              "(unanswered: no result seen yet)" + SINCE_FIRST,
                              labels=["gateway", "tool", "outcome"])
    for row in tool_outcomes(engine).to_dict("records"):
        tools.add_metric([row["gateway"], row["tool"], row["outcome"]], float(row["calls"]))
    sessions = GaugeMetricFamily("openclaw_sessions", "Sessions known, by gateway, agent and "
                                 "kind", labels=["gateway", "agent", "kind"])
    for row in session_counts(engine).to_dict("records"):
        sessions.add_metric([row["gateway"], row["agent"], row["kind"]], float(row["sessions"]))
    problems = GaugeMetricFamily("openclaw_input_problems", "Problems in OpenClaw's files "
                                 "recorded by the ingest (each cost only itself), by gateway "
                                 "and kind", labels=["gateway", "kind"])
    for row in issue_counts(engine).to_dict("records"):
        problems.add_metric([row["gateway"], row["kind"]], float(row["issues"]))
    return [*families, tools, sessions, problems]


def recent_families(engine: Engine, now: datetime) -> list[Metric]:
    """The call measures of the last hour and the last 24 hours, exact at this moment (a
    call dated in the future by a skewed clock is in neither)."""
    merged: dict[str, GaugeMetricFamily] = {}
    for window, span in WINDOWS:
        rows = recent_usage(engine, since=now - span, until=now).to_dict("records")
        for family in _call_families(rows, RECENT, "; over the last `window` (1h or 24h)", window):
            if family.name in merged:
                merged[family.name].samples.extend(family.samples)
            else:
                merged[family.name] = family
    return list(merged.values())


def status_families(engine: Engine, version: int) -> list[Metric]:
    """Freshness, per gateway: read at every scrape (an ingest run that found nothing new
    still ran)."""
    rows = ingest_status(engine).to_dict("records")
    families: list[Metric] = [GaugeMetricFamily(
        "openclaw_telemetry_data_version", "Id of the latest ingest run that changed the data",
        value=float(version))]
    for name, column, help_text in (
            ("openclaw_last_ingest_timestamp_seconds", "last_finished",
             "When the latest ingest run of each gateway finished (Unix time)"),
            ("openclaw_last_llm_call_timestamp_seconds", "last_call",
             "Time of each gateway's latest LLM call in the database (Unix time)")):
        family = GaugeMetricFamily(name, help_text, labels=["gateway"])
        for row in rows:
            seconds = _epoch(row[column])
            if seconds is not None:
                family.add_metric([row["gateway"]], seconds)
        families.append(family)
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
            now = datetime.now(UTC).replace(tzinfo=None)
            families = [*self._cached[1], *recent_families(self._engine, now),
                        *status_families(self._engine, version)]
        except (DatabaseError, SQLAlchemyError) as exc:
            self._report(cannot_open(database_url(self.db), exc)
                         if isinstance(exc, SQLAlchemyError) else str(exc).splitlines()[0])
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


def parser() -> argparse.ArgumentParser:
    p = door_parser(PROG, "Prometheus exporter for OpenClaw Telemetry: serves what the "
                          "database holds (calls, tokens, cost, tool calls, sessions, input "
                          "problems; in total and over the last hour and day; freshness) on "
                          "/metrics, or writes it once.")
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
        return usage_error(PROG, exc)
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
        return fail(PROG, str(exc), EXIT_NOINPUT)
    if path is None:
        with reader_may_leave(sys.stdout):
            sys.stdout.write(generate_latest(registry).decode())
        return EXIT_OK
    try:
        write_to_textfile(path, registry)
    except OSError as exc:
        return fail(PROG, f"cannot write {path}: {exc.strerror}", EXIT_CANTCREAT)
    return EXIT_OK


def _serve(db: str, registry: CollectorRegistry, host: str, port: int) -> int:
    try:
        server, thread = start_http_server(port, host, registry)
    except OSError as exc:
        return fail(PROG, f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_FAILED)
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
