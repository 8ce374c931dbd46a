"""Named schema migrations and their runner.

Each migration is frozen SQL per dialect in `sql/<name>.<dialect>.sql`, with a one-line
reason below. Never edit a released migration: add the next one. Applied names are kept in
`_migrations`; opening the store runs what is missing, each in its own transaction under
the database's write lock. Derived data a migration rebuilds (the roll-up in m008) is
rebuilt by frozen SQL too, never by calling live code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from sqlalchemy import Connection, Engine, inspect, text

from openclaw_telemetry.errors import DatabaseError

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("m001_initial", "sessions, messages, tool_calls and the ingest bookkeeping"),
    ("m002_usage_rollup", "calls per 15-minute bucket: dashboards need not scan every call"),
    ("m003_tool_call_identity", "tool-call ids repeat across sessions and even inside one "
                                "response: a tool call is its message and place, results are "
                                "kept and joined per session"),
    ("m004_forget_display_names", "2026.9 keeps a session's first user message as its "
                                  "display name, which was stored as its label: labels are "
                                  "learned again, never from display names (contract E4)"),
    ("m005_covering_indexes", "sessions per model and per tool, and tool outcomes, are read "
                              "from the indexes alone (the Models and Tools pages at 1M calls)"),
    ("m006_notifications", "what was delivered where, so that every alert episode and budget "
                           "threshold is sent once, by whichever runner claims it first"),
    ("m007_session_events", "the session page marks compactions, resets and model or "
                            "thinking-level switches: their entries are kept (never text)"),
    ("m008_gateways", "several gateways (OpenClaw hosts) share one database: every row names "
                      "its gateway, ids are unique per gateway, the roll-up is kept per "
                      "gateway; rows stored before get the upgrading host's gateway"),
    ("m009_parse_issue_gateways", "bad input is counted per gateway (the exporter's "
                                  "openclaw_input_problems): each problem names the gateway "
                                  "of its source"),
    ("m010_gateway_indexes", "a session is its id on its gateway: the indexes that count or "
                             "group sessions hold the gateway too, in the order that lists "
                             "each model's and each tool's sessions; the indexes by session "
                             "and by time hold each call's cost (dashboards at 1M calls)"),
    ("m011_cost_by_kind", "a call's cost by kind of token, as OpenClaw recorded it or the "
                          "price table gives it: the session page splits a session's cost "
                          "exactly, for models the price library does not know too; calls "
                          "stored before have none (split at list prices, or `--full`)"),
)
_TABLE = "_migrations"
_PG_MIGRATION_LOCK = 0x0C1A77E2  # arbitrary, fixed; beside the run lock's 0x0C1A77E1


def statements(name: str, dialect: str) -> list[str]:
    folder = resources.files("openclaw_telemetry") / "sql"
    sql = (folder / f"{name}.{dialect}.sql").read_text(encoding="utf-8")
    return [part.strip() for part in sql.split(";\n") if part.strip()]


def applied(conn: Connection) -> list[str]:
    if not inspect(conn).has_table(_TABLE):
        return []
    return [row[0] for row in conn.execute(text(f"SELECT name FROM {_TABLE} ORDER BY name"))]  # noqa: S608 (constant)


def foreign_tables(conn: Connection) -> list[str]:
    """`others` of the database's tables."""
    return others(inspect(conn).get_table_names())


def others(tables: list[str]) -> list[str]:
    """The tables of a database this program did not make (none when it did, or when it
    holds no table yet): no migration history and no calls table (the oldest schema)."""
    return [] if _TABLE in tables or "messages" in tables else sorted(tables)


def schema_status(engine: Engine) -> str:
    """'ready', 'uninitialised' (no tables yet), 'outdated' or 'newer' than this program,
    'foreign' (another program's tables: `foreign_tables`)."""
    with engine.connect() as conn:
        done = applied(conn)
        if not done:
            tables = inspect(conn).get_table_names()
            if "messages" in tables:
                return "outdated"
            return "foreign" if others(tables) else "uninitialised"
    known = [name for name, _ in MIGRATIONS]
    if any(name not in known for name in done):
        return "newer"
    return "ready" if done == sorted(known) else "outdated"


def migrate(engine: Engine, gateway: str) -> list[str]:
    """Bring the database to the current schema; return the names applied now. `gateway`
    is bound as `:gateway` in the migrations' SQL (m008 gives it to the rows stored before;
    m009 to a problem whose source row is missing).

    Processes that open a new or older database at the same moment (two first runs, a
    run beside the dashboard) migrate one after the other: each migration's transaction
    starts by taking the database's write lock and reads the history again under it.
    """
    with engine.connect() as conn:
        if _check(conn) == [name for name, _ in MIGRATIONS]:
            return []
    ran = []
    for name, _why in MIGRATIONS:
        with engine.begin() as conn:
            _write_lock(conn)
            if name in _check(conn):
                continue  # another process applied it meanwhile
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {_TABLE} "
                              "(name VARCHAR(100) PRIMARY KEY, applied_at VARCHAR(40) NOT NULL)"))
            for statement in statements(name, _dialect(engine)):
                conn.execute(text(statement), {"gateway": gateway} if ":gateway" in statement
                             else {})
            conn.execute(text(f"INSERT INTO {_TABLE} (name, applied_at) VALUES (:n, :t)"),  # noqa: S608
                         {"n": name, "t": datetime.now(UTC).isoformat()})
        ran.append(name)
    return ran


def _dialect(engine: Engine) -> str:
    return "postgresql" if engine.dialect.name == "postgresql" else "sqlite"


def _check(conn: Connection) -> list[str]:
    """The migrations applied; refuses a database that is not ours or is newer."""
    # `messages` first: the first migration creates it and records itself in one
    # transaction, so a history read after it is never older than the table (outside a
    # write lock, another process may commit between the two reads)
    ours = inspect(conn).has_table("messages")
    done = applied(conn)
    if not done and ours:
        raise DatabaseError(
            "this database has a `messages` table but no migration history; it was not "
            "created by OpenClaw Telemetry (or by a pre-release): use a new --db file")
    unknown = [name for name in done if name not in dict(MIGRATIONS)]
    if unknown:
        raise DatabaseError(
            f"this database was written by a newer OpenClaw Telemetry (migration "
            f"{unknown[-1]}); upgrade this program before using it")
    return done


def _write_lock(conn: Connection) -> None:
    """Hold the database's write lock until this transaction ends. SQLite: an explicit
    `BEGIN IMMEDIATE` (the driver would begin only at the first INSERT, leaving the DDL
    outside any transaction); waits up to the busy timeout. PostgreSQL: a transaction
    advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
