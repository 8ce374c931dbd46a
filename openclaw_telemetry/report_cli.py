"""`session_parser.py report daily|monthly|session|model`: ccusage-style usage tables in
the terminal (rich), or `--json` for scripts, read from the telemetry database only.

The figures are `read.reports`' (the roll-up, no pandas), numbers on screen go through
`ui.format` (the dashboards' formatters), and rich is imported only to draw a table, so a
report answers in well under half a second on a million calls. Exit codes:
`doors.EXIT_CODES["session_parser.py report"]`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import threading
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, TextIO

import orjson
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry.cli_options import Selection, add_selection, selection
from openclaw_telemetry.doors import (
    EXIT_NOINPUT,
    EXIT_OK,
    door_parser,
    fail,
    reader_may_leave,
    usage_error,
)
from openclaw_telemetry.errors import ConfigError, DatabaseError
from openclaw_telemetry.model import COST_DECIMALS
from openclaw_telemetry.read.reports import (
    SessionReport,
    Usage,
    session_report,
    summed,
    usage_report,
)
from openclaw_telemetry.timeframe import iso
from openclaw_telemetry.ui import format as fmt

if TYPE_CHECKING:
    from rich.console import Console

PROG = "session_parser.py report"
DEFAULT_LIMIT = 30  # sessions listed by `report session`
KINDS = {"daily": ("day", "Date"), "monthly": ("month", "Month"), "model": ("model", "Model"),
         "session": ("session", "Session")}
TOKEN_HEADERS = ("Input", "Output", "Cache Create", "Cache Read", "Total Tokens")


def parser() -> argparse.ArgumentParser:
    p = door_parser(PROG, "Usage tables in the terminal, like `ccusage daily`: tokens (input, "
                          "output, cache create, cache read, total) and cost per local day, "
                          "month, session or model, with a totals row; read from the "
                          "telemetry database only.")
    p.add_argument("kind", choices=list(KINDS),
                   help="daily, monthly (local calendar days or months of --tz), session "
                        "(sessions active in the range, with their totals, most expensive "
                        "first) or model")
    add_selection(p)
    p.add_argument("--json", action="store_true",
                   help="print the rows and the totals as JSON (raw numbers)")
    p.add_argument("--limit", type=int, metavar="N",
                   help="session: list the N most expensive sessions (0: all; the totals "
                        f"always count every session selected; default: {DEFAULT_LIMIT})")
    return p


def run(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        args = parser().parse_args(argv)
        if args.limit is not None and args.kind != "session":
            raise ConfigError("--limit applies to report session only")
        if args.limit is not None and args.limit < 0:
            raise ConfigError("--limit must be 0 (all) or more")
        limit = DEFAULT_LIMIT if args.limit is None else args.limit
        chosen = selection(args, PROG, err)
    except ConfigError as exc:
        return usage_error(PROG, exc, err)
    except (DatabaseError, SQLAlchemyError) as exc:
        return fail(PROG, str(exc), EXIT_NOINPUT, err)
    drawing = None if args.json else _load_rich()
    try:
        answer: list[Usage] | SessionReport = (
            session_report(chosen.engine, scope=chosen.scope, limit=limit or None)
            if args.kind == "session" else
            usage_report(chosen.engine, scope=chosen.scope, tz=chosen.tz,
                         by=KINDS[args.kind][0]))  # type: ignore[arg-type]
    except SQLAlchemyError as exc:
        return fail(PROG, f"database error: {getattr(exc, 'orig', None) or exc}",
                    EXIT_NOINPUT, err)
    finally:
        chosen.engine.dispose()
    with reader_may_leave(out):
        if args.json:
            _write_json(as_json(args, chosen, answer), out)
        else:
            if drawing is not None:
                drawing.join()
            _table(args, chosen, answer, out)
    return EXIT_OK


def _load_rich() -> threading.Thread:
    """Import rich in the background while the database answers (SQLite leaves the
    interpreter to other threads while it runs a query), so drawing a table costs its
    import no wall time."""
    thread = threading.Thread(target=importlib.import_module, args=("rich.table",),
                              name="import rich", daemon=True)
    thread.start()
    return thread


def _numbers(usage: Usage) -> dict[str, Any]:
    """A line's figures; `unpriced_*`: calls of models with no known price, whose tokens
    are counted and whose cost is not (sessions keep no unpriced tokens: calls only)."""
    unpriced = {"unpriced_calls": usage.unpriced_calls}
    if usage.unpriced_tokens is not None:
        unpriced["unpriced_tokens"] = usage.unpriced_tokens
    return {"calls": usage.calls, "input": usage.input, "output": usage.output,
            "cache_create": usage.cache_write, "cache_read": usage.cache_read,
            "total_tokens": usage.tokens, "cost": round(usage.cost, COST_DECIMALS),
            **unpriced}


def as_json(args: argparse.Namespace, chosen: Selection,
            answer: list[Usage] | SessionReport) -> dict[str, Any]:
    """The report for scripts: `rows`, `totals` (the totals row's figures), and what was
    selected. Costs are US dollars to `COST_DECIMALS` places; times ISO 8601 UTC."""
    head: dict[str, Any] = {
        "report": args.kind, "since": _day(args.since), "until": _day(args.until),
        "tz": str(chosen.tz), "gateways": list(chosen.scope.gateways),
        "agents": list(chosen.scope.agents)}
    if isinstance(answer, SessionReport):
        rows = [{"gateway": s.gateway, "session_id": s.session_id, "name": s.name,
                 "agent": s.agent, "kind": s.kind, "model": list(s.usage.models),
                 "started": _moment(s.started), "last_activity": _moment(s.last_activity),
                 **_numbers(s.usage)}
                for s in answer.sessions]
        return {**head, "rows": rows,
                "totals": {"sessions": answer.count, **_numbers(answer.total)}}
    key = KINDS[args.kind][0] if args.kind != "daily" else "date"
    return {**head, "rows": [{key: u.key, "models": list(u.models), **_numbers(u)}
                             for u in answer],
            "totals": _numbers(summed(answer))}


def _moment(value: datetime | None) -> str | None:
    """A time as the exports write it (`timeframe.iso`: to the microsecond, so that times
    sort as text)."""
    return None if value is None else iso(value)


def _write_json(report: dict[str, Any], out: TextIO) -> None:
    """The report as indented JSON. Bytes straight to a binary stream where there is one
    (no decode of a 20 MB report)."""
    text = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    binary = getattr(out, "buffer", None)
    if binary is None:
        out.write(text.decode())
    else:
        out.flush()
        binary.write(text)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _table(args: argparse.Namespace, chosen: Selection, answer: list[Usage] | SessionReport,
           out: TextIO) -> None:
    from rich.table import Table  # only to draw a table: --json never loads rich

    session = isinstance(answer, SessionReport)
    # sessions of several gateways may share names (agent:main:main on each host): the
    # column when the selection holds several, whichever are listed
    fleet = isinstance(answer, SessionReport) and answer.gateways > 1
    table = Table(title=_title(args, chosen), show_footer=False, header_style="bold cyan")
    table.add_column(KINDS[args.kind][1], style="bold", overflow="fold")
    if session:
        for name in ("Gateway", "Agent", "Kind", "Model", "Started",
                     "Last activity")[0 if fleet else 1:]:
            table.add_column(name, overflow="fold")
    elif args.kind != "model":
        table.add_column("Models", overflow="fold")
    for name in (*TOKEN_HEADERS, "Cost (USD)"):
        table.add_column(name, justify="right", no_wrap=True)
    if isinstance(answer, SessionReport):
        for s in answer.sessions:
            table.add_row(s.name, *[s.gateway] * fleet, s.agent, s.kind,
                          "\n".join(s.usage.models), _when(s.started, chosen.tz),
                          _when(s.last_activity, chosen.tz),
                          *_figures(s.usage))
        total, label = answer.total, f"Total ({fmt.count(answer.count)} sessions)"
        blanks = 5 + fleet
    else:
        for u in answer:
            models = [] if args.kind == "model" else ["\n".join(f"- {m}" for m in u.models)]
            table.add_row(u.key, *models, *_figures(u))
        total, label, blanks = summed(answer), "Total", 0 if args.kind == "model" else 1
    table.add_section()
    table.add_row(label, *[""] * blanks, *_figures(total), style="bold yellow")
    console = _console(out)
    console.print(table)
    if total.unpriced_calls:
        tokens = ("" if total.unpriced_tokens is None
                  else f", tokens {fmt.count(total.unpriced_tokens)}")
        console.print("* Unpriced (a model with no known price), counted in the tokens but "
                      f"not in Cost: calls {fmt.count(total.unpriced_calls)}{tokens}.")
    if isinstance(answer, SessionReport) and len(answer.sessions) < answer.count:
        console.print(f"The {len(answer.sessions)} most expensive of {answer.count:,} sessions "
                      "(--limit 0 lists all); the totals count every one.")
    elif total.calls == 0:
        console.print("No LLM calls in this selection.")


def _console(out: TextIO) -> Console:
    """A rich console on `out` for data (never markup) that lets a closed pipe reach
    `reader_may_leave`: rich's own `on_broken_pipe` exits with status 1."""
    from rich.console import Console

    class Piped(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return Piped(file=out, width=None if out.isatty() else 200, highlight=False, markup=False,
                 emoji=False)


def _figures(usage: Usage) -> list[str]:
    """Token counts and cost; a cost that leaves out unpriced calls is marked `*`."""
    return [*(fmt.count(v) for v in (usage.input, usage.output, usage.cache_write,
                                     usage.cache_read, usage.tokens)),
            fmt.money(usage.cost) + (" *" if usage.unpriced_calls else "")]


def _when(moment: datetime | None, tz: tzinfo) -> str:
    if moment is None:
        return fmt.text(None)
    return f"{moment.replace(tzinfo=UTC).astimezone(tz):%Y-%m-%d %H:%M}"


def _title(args: argparse.Namespace, chosen: Selection) -> str:
    what = {"daily": "per day", "monthly": "per month", "model": "per model",
            "session": "per session"}[args.kind]
    since = args.since.isoformat() if args.since else "the first call"
    until = (args.until.isoformat() if args.until else "now")
    where = ", ".join(chosen.scope.gateways) or "all gateways"
    agents = f"; agents {', '.join(chosen.scope.agents)}" if chosen.scope.agents else ""
    return f"OpenClaw usage {what}, {since} to {until} ({chosen.tz}); {where}{agents}"
