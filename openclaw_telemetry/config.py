"""One frozen Settings object per process: defaults, environment, then the command line.

This is the only module that reads the environment. Every setting has help text, shown
by `--help` and listed in the README.
"""

from __future__ import annotations

import argparse
import math
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from openclaw_telemetry import __version__
from openclaw_telemetry.doors import door_parser
from openclaw_telemetry.errors import ConfigError

ENV_SESSIONS_DIR = "OPENCLAW_SESSIONS_DIR"
ENV_DB = "OPENCLAW_TELEMETRY_DB"
ENV_CONFIG = "OPENCLAW_CONFIG_PATH"
ENV_ALERTS = "OPENCLAW_TELEMETRY_ALERTS"
ENV_NOTIFY = "OPENCLAW_TELEMETRY_NOTIFY"
ENV_REPLAY = "OPENCLAW_TELEMETRY_REPLAY"  # 1: the session page may show the conversation
ENV_REPLAY_REMOTE = "OPENCLAW_TELEMETRY_REPLAY_REMOTE"  # 1: also off loopback
ENV_GATEWAY = "OPENCLAW_TELEMETRY_GATEWAY"
DEFAULT_ALERTS = "alerts.toml"
DEFAULT_DB = "openclaw_telemetry.db"
DEFAULT_POLL = 30.0  # seconds: --watch looks for changes at least this often


@dataclass(frozen=True, slots=True)
class Settings:
    sessions_dir: str | None
    sessions_dir_origin: str  # the option or variable it came from, for messages
    db: str
    full: bool
    json: bool
    quiet: bool
    lock_wait: float
    batch_size: int
    watch: bool
    poll: float
    config_path: Path | None
    env: Mapping[str, str]
    alerts: str | None = None  # with --watch: the rules file to evaluate after each run
    gateway: str = ""  # the OpenClaw host this run reads (ids are unique per gateway)
    jobs: int | None = None  # processes parsing transcripts; None: as `parse_worker.wanted`


def default_db(env: Mapping[str, str] | None = None) -> str:
    """The database every command uses unless told otherwise."""
    return (env if env is not None else os.environ).get(ENV_DB) or DEFAULT_DB


def default_gateway(env: Mapping[str, str] | None = None) -> str:
    """The gateway a run belongs to unless told: the env variable, else this host's name."""
    return checked_gateway((env if env is not None else os.environ).get(ENV_GATEWAY)
                           or socket.gethostname() or "local")


def checked_gateway(name: str) -> str:
    """A gateway name as stored: trimmed, 1–100 printable characters."""
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise ConfigError(f"gateway name {name[:100]!r}: use 1 to 100 printable characters, "
                          "e.g. the host's name")
    return name


def alerts_file(given: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """Alert rules: `given` (--alerts), else the env variable, else ./alerts.toml when it
    exists, else None (the built-in rules)."""
    path = given or (env if env is not None else os.environ).get(ENV_ALERTS)
    if path:
        return path
    return DEFAULT_ALERTS if Path(DEFAULT_ALERTS).is_file() else None


def notify_urls(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Apprise URLs from the environment (separated by spaces or newlines: URLs may hold
    commas), which replace the rules file's `notify` list when set. They carry secrets."""
    return tuple((env if env is not None else os.environ).get(ENV_NOTIFY, "").split())
def replay_settings(argv: Sequence[str] = (), env: Mapping[str, str] | None = None
                    ) -> tuple[bool, bool]:
    """(replay asked for, replay allowed off loopback): `OPENCLAW_TELEMETRY_REPLAY=1` or
    `--replay` after `--` on the dashboard command line; `OPENCLAW_TELEMETRY_REPLAY_REMOTE=1`
    or `--replay-remote`. Both off by default (issue #13: nothing is stored, ever)."""
    environment = env if env is not None else os.environ
    asked = environment.get(ENV_REPLAY) == "1" or "--replay" in argv
    remote = environment.get(ENV_REPLAY_REMOTE) == "1" or "--replay-remote" in argv
    return asked, remote


def local_zone_name(env: Mapping[str, str] | None = None) -> str | None:
    """The zone of the environment (TZ), for commands that print local days."""
    return (env if env is not None else os.environ).get("TZ")


def add_db_option(p: argparse.ArgumentParser) -> None:
    """--db, as every command that opens the telemetry database takes it (`default_db`)."""
    p.add_argument("--db", metavar="PATH_OR_URL",
                   help=f"SQLite file or SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db "
                        f"(env {ENV_DB}; default: {DEFAULT_DB} in the working directory)")


def seconds(text: str) -> float:
    """An option's number of seconds: a finite number (argparse turns the error into a
    usage error; NaN would make a comparison with it always false: never wait, never stop)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    return value


def parser() -> argparse.ArgumentParser:
    p = door_parser(
        "session_parser.py",
        "Ingest everything OpenClaw stored (JSONL transcripts, archives and the 2026.8+ "
        "SQLite agent databases) into the OpenClaw Telemetry database, incrementally and "
        "exactly once per LLM call. Reading the database: `session_parser.py report "
        "daily|monthly|session|model` (usage tables) and `session_parser.py export` "
        "(CSV, JSON Lines, Parquet); each has its own --help.")
    p.add_argument("--sessions-dir", metavar="DIR",
                   help=f"an OpenClaw state directory, one agent's folder or its sessions/ "
                        f"folder (env {ENV_SESSIONS_DIR}; default: $OPENCLAW_STATE_DIR, else "
                        "~/.openclaw, its profiles ~/.openclaw-* and legacy folders)")
    add_db_option(p)
    p.add_argument("--gateway", metavar="NAME",
                   help=f"the OpenClaw host this data comes from, when several write into one "
                        f"database (env {ENV_GATEWAY}; default: this machine's host name)")
    p.add_argument("--full", action="store_true",
                   help="forget what was read before and re-read every source (same result; "
                        "data of files OpenClaw has deleted stays)")
    p.add_argument("--json", action="store_true",
                   help="print a machine-readable summary on stdout")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing but warnings and errors (for cron)")
    p.add_argument("--lock-wait", type=seconds, default=60.0, metavar="SECONDS",
                   help="how long to wait for another ingest run to finish (default: 60)")
    p.add_argument("--watch", action="store_true",
                   help="keep running and ingest new data as OpenClaw writes it (inotify on "
                        "the transcripts and agent databases); stop with Ctrl-C or SIGTERM")
    p.add_argument("--poll", type=seconds, metavar="SECONDS",
                   help="with --watch: also look for changes at least this often (default: "
                        f"{DEFAULT_POLL:g})")
    p.add_argument("--alerts", metavar="TOML",
                   help=f"evaluate this rules file (alert rules, budgets) after the run "
                        f"(with --watch: after each run that changed data) and deliver to "
                        f"its notify URLs (env {ENV_ALERTS})")
    p.add_argument("--batch-size", type=int, default=10000, metavar="CALLS",
                   help="LLM calls written per transaction (default: 10000)")
    p.add_argument("--jobs", type=int, choices=range(1, 9), metavar="N",
                   help="processes parsing transcripts (files and agent databases), 1 to "
                        "8: 1 parses them in this process, N >= 2 starts N parsing "
                        "processes while this one writes (default: one per usable core, "
                        "by affinity and CPU quota, up to 4, "
                        "when there is more than 16 MB to read and two cores or more; "
                        "else 1)")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def load(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    environment = dict(os.environ if env is None else env)
    cli = parser()
    args = cli.parse_args(argv)
    if args.lock_wait < 0:
        cli.error("--lock-wait must be 0 or more seconds")
    if args.poll is not None and not args.watch:
        cli.error("--poll applies to --watch only")
    if args.poll is not None and args.poll <= 0:
        cli.error("--poll must be more than 0 seconds")
    if args.batch_size < 1:
        cli.error("--batch-size must be at least 1")
    config = environment.get(ENV_CONFIG)
    return Settings(
        sessions_dir=args.sessions_dir or environment.get(ENV_SESSIONS_DIR) or None,
        sessions_dir_origin="--sessions-dir" if args.sessions_dir else f"${ENV_SESSIONS_DIR}",
        db=args.db or default_db(environment), full=args.full, json=args.json,
        quiet=args.quiet, lock_wait=args.lock_wait, batch_size=args.batch_size,
        watch=args.watch, poll=DEFAULT_POLL if args.poll is None else args.poll,
        config_path=Path(config).expanduser() if config else None, env=environment,
        alerts=args.alerts or environment.get(ENV_ALERTS) or None,
        gateway=checked_gateway(args.gateway) if args.gateway is not None
        else default_gateway(environment), jobs=args.jobs)
