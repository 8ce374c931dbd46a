"""`python -m openclaw_telemetry.demo prepare STATE_DIR [DB]`: what `start.sh --demo` runs
before it reads STATE_DIR into DB like any OpenClaw data (see build.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from openclaw_telemetry.config import default_db
from openclaw_telemetry.demo.build import DEMO_AGENTS, DEMO_DAYS, DEMO_SEED, prepare_demo
from openclaw_telemetry.doors import EXIT_FAILED, EXIT_OK, door_parser, fail, usage_error
from openclaw_telemetry.errors import ConfigError, TelemetryError

PROG = "python -m openclaw_telemetry.demo"


def _now(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = door_parser(PROG, "Generate the demo OpenClaw data of `start.sh --demo`.")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser(
        "prepare", help="write the demo state directory and mark DB as an (empty) demo "
                        "database; an earlier demo database file is replaced, one holding "
                        "real data is refused")
    prepare.add_argument("state_dir", metavar="STATE_DIR", type=Path,
                         help="folder for the generated OpenClaw state directory (replaced "
                              "when it holds earlier generated data)")
    prepare.add_argument("db", metavar="DB", nargs="?",
                         help="SQLite file or SQLAlchemy URL (default: $OPENCLAW_TELEMETRY_DB, "
                              "else openclaw_telemetry.db)")
    prepare.add_argument("--seed", type=int, default=DEMO_SEED,
                         help=f"random seed (default: {DEMO_SEED})")
    prepare.add_argument("--now", type=_now, metavar="ISO_TIME",
                         help="when the history ends (default: now; UTC unless it says)")
    try:
        args = parser.parse_args(argv)
    except ConfigError as exc:
        return usage_error(PROG, exc)
    now = args.now or datetime.now(UTC)
    try:
        expected = prepare_demo(args.state_dir, args.db or default_db(), now=now,
                                seed=args.seed)
    except TelemetryError as exc:
        return fail(PROG, str(exc), EXIT_FAILED)
    print(f"    {expected['llm_calls']:,} LLM calls in {expected['sessions']:,} sessions of "
          f"{DEMO_AGENTS} agents, the {DEMO_DAYS} days up to {now:%Y-%m-%d %H:%M %Z}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
