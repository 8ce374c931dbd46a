#!/usr/bin/env bash
# OpenClaw Telemetry in one command: virtual environment, ingestion, dashboard.
# Run ./start.sh --help for the options. No logic of its own (design.md §1) and no Python
# of its own: the virtual environment is scripts/bootstrap.sh's, the checks before serving
# are `python -m openclaw_telemetry.preflight`, the demo data is
# `python -m openclaw_telemetry.demo`, the reading is session_parser.py's, the serving is
# Streamlit's. Kept to bash 3.2 (macOS), like scripts/bootstrap.sh.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ./start.sh [OPTIONS]

Reads your OpenClaw agents' usage into a local database, then serves the dashboard on
http://127.0.0.1:8501/ until you press Ctrl-C. The first run creates .venv and installs
requirements.txt (needs Python 3.11+ and network); later runs skip that unless
requirements.txt changed.

Options:
  --sessions-dir DIR  OpenClaw state directory to read (the folder holding agents/), one
                      agent's folder, or its sessions/ folder. Default: $OPENCLAW_SESSIONS_DIR,
                      else $OPENCLAW_STATE_DIR, else ~/.openclaw, its profiles
                      ~/.openclaw-* and the legacy ~/.clawdbot, ~/.moltbot, ~/.moldbot
                      and ~/.clawdis.
  --db PATH           telemetry database (SQLite file or SQLAlchemy URL). Default:
                      $OPENCLAW_TELEMETRY_DB, else ./openclaw_telemetry.db (the same default
                      as session_parser.py). Put a URL holding a password in
                      $OPENCLAW_TELEMETRY_DB or ~/.pgpass, not on the command line.
  --port PORT         dashboard port (default: 8501)
  --host ADDR         address the dashboard listens on (default: 127.0.0.1, this machine
                      only). Anything else exposes it, without a password, to whoever can
                      reach ADDR: prefer nginx with a password (README.md, "Run it as a service").
  --enhanced          serve the enhanced dashboard (dashboard_enhanced.py: more pages,
                      cost statistics, alerts) instead of dashboard.py
  --with-bmasterai    --enhanced, and also install the optional bmasterai package
                      (requirements-bmasterai.txt) into .venv for the bmasterai monitor
                      of its Alerts page
  --watch             keep ingesting while the dashboard runs (session_parser.py --watch),
                      so new usage shows up within seconds; stops with the dashboard
  --demo              no OpenClaw data yet? Generate a realistic demo state directory
                      (several agents, cron jobs, sub-agents, models, errors, two months)
                      in demo-data/ and show it from its own, clearly labelled database,
                      ./openclaw_telemetry_demo.db (or --db). Never touches your database.
  -h, --help          show this help and exit

Environment:
  OPENCLAW_TELEMETRY_DB, OPENCLAW_SESSIONS_DIR, OPENCLAW_STATE_DIR   as above
  OPENCLAW_PYTHON     Python 3.11+ used to create .venv (default: the first found on PATH)
  OPENCLAW_VENV       use this existing virtual environment as it is, without installing
                      anything (it must already have requirements.txt installed)

Exit status: the dashboard's when it stopped by itself (0 for a clean stop); 1 when
there is nothing to show or a step failed (the message says which); 64 for a bad option;
130/143/129/141 after Ctrl-C / SIGTERM / SIGHUP / SIGPIPE.

Examples:
  ./start.sh                                  your data, basic dashboard
  ./start.sh --enhanced --watch               enhanced dashboard, live numbers
  ./start.sh --sessions-dir /data/.openclaw   OpenClaw state in a Docker volume
  ./start.sh --demo                           a first look without OpenClaw data
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf 'start.sh: %s\n' "$*" >&2; }
die() {
    warn "$*"
    exit 1
}
EXIT_USAGE=64 # a bad option, as for every command here (README "Exit codes")
bad_usage() {
    printf 'start.sh: error: %s (see ./start.sh --help)\n' "$*" >&2
    exit "$EXIT_USAGE"
}

# An absolute path for a path given relative to where start.sh was run (URLs unchanged).
absolute() {
    case "$1" in
        *://* | /*) printf '%s\n' "$1" ;;
        "~") printf '%s\n' "$HOME" ;;
        \~/*) printf '%s/%s\n' "$HOME" "${1:2}" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

# --- options ----------------------------------------------------------------------------

PORT=8501
HOST=127.0.0.1
DB=""
SESSIONS_DIR=""
WATCH=0
DEMO=0
SCRIPT=dashboard.py
REQUIREMENTS=requirements.txt

while [ $# -gt 0 ]; do
    option="$1"
    value=""
    case "$option" in
        --*=*)
            value="${option#*=}"
            option="${option%%=*}"
            ;;
        --port | --host | --db | --sessions-dir)
            [ $# -ge 2 ] || bad_usage "$option needs a value"
            value="$2"
            shift
            ;;
    esac
    case "$option" in
        --port) PORT="$value" ;;
        --host) HOST="$value" ;;
        --db) DB="$value" ;;
        --sessions-dir) SESSIONS_DIR="$value" ;;
        --watch | --enhanced | --with-bmasterai | --demo | -h | --help)
            case "$1" in *=*) bad_usage "$option takes no value" ;; esac
            case "$option" in
                --watch) WATCH=1 ;;
                --enhanced) SCRIPT=dashboard_enhanced.py ;;
                --with-bmasterai)
                    SCRIPT=dashboard_enhanced.py
                    REQUIREMENTS=requirements-bmasterai.txt
                    ;;
                --demo) DEMO=1 ;;
                *)
                    usage
                    exit 0
                    ;;
            esac
            ;;
        *) bad_usage "unknown option: $option" ;;
    esac
    shift
done

case "$PORT" in
    "" | *[!0-9]*) bad_usage "--port must be a number from 1 to 65535, not '$PORT'" ;;
esac
if [ "${#PORT}" -gt 5 ] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
    bad_usage "--port must be a number from 1 to 65535, not '$PORT'"
fi
[ -n "$HOST" ] || bad_usage "--host needs an address"
case "$HOST" in
    127.* | ::1 | localhost) LOOPBACK=1 ;;
    *) LOOPBACK=0 ;;
esac
exposure_warning() {
    warn "WARNING: --host $HOST is not a loopback address: anyone who can reach it on port" \
        "$PORT sees your agents' usage and costs, without a password. Keep 127.0.0.1 and" \
        "put nginx with a password in front instead (README.md, \"Run it as a service\")."
}
if [ "$DEMO" = 1 ] && [ -n "$SESSIONS_DIR" ]; then
    bad_usage "--demo reads its own generated data: leave out --sessions-dir"
fi
[ "$LOOPBACK" = 1 ] || exposure_warning # now, and again when the dashboard starts

if [ -z "$DB" ]; then
    if [ "$DEMO" = 1 ]; then
        DB=openclaw_telemetry_demo.db # never the user's database
    else
        DB="${OPENCLAW_TELEMETRY_DB:-openclaw_telemetry.db}"
    fi
fi
DB="$(absolute "$DB")"
[ -z "$SESSIONS_DIR" ] || SESSIONS_DIR="$(absolute "$SESSIONS_DIR")"
if [ -n "$SESSIONS_DIR" ] && [ ! -e "$SESSIONS_DIR" ]; then # now, not after the install
    bad_usage "--sessions-dir $SESSIONS_DIR: no such directory"
fi

# Every program started below finds the database in the environment; a file path is also
# put on their command lines (ps shows which file is served), a URL never: it may hold a
# password.
export OPENCLAW_TELEMETRY_DB="$DB"
export PYTHONUNBUFFERED=1
DB_FILE=()
DB_OPTION=()
case "$DB" in
    *://*) ;;
    *)
        DB_FILE=("$DB")
        DB_OPTION=(--db "$DB")
        ;;
esac
SESSIONS_OPTION=()
[ -z "$SESSIONS_DIR" ] || SESSIONS_OPTION=(--sessions-dir "$SESSIONS_DIR")

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
DEMO_STATE="$ROOT/demo-data/openclaw-state"

# --- processes: everything started here stops with start.sh -----------------------------

CHILDREN=""

# The functions below run from traps.
# shellcheck disable=SC2317
alive_children() {  # those of $CHILDREN still running, after waiting up to $1 tenths of a second
    local pid tries=0
    while :; do
        ALIVE=""
        for pid in $CHILDREN; do
            if kill -0 "$pid" 2>/dev/null; then ALIVE="$ALIVE $pid"; fi
        done
        if [ -z "$ALIVE" ] || [ "$tries" -ge "$1" ]; then return 0; fi
        sleep 0.1
        tries=$((tries + 1))
    done
}

# shellcheck disable=SC2317
stop_children() {
    local pid
    [ -n "$CHILDREN" ] || return 0
    for pid in $CHILDREN; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    alive_children 100
    for pid in $ALIVE; do
        warn "process $pid did not stop within 10 s of SIGTERM: killing it" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    CHILDREN=""
}

# The dashboard and the watcher each say they are stopping (Streamlit's "Stopping...").
# A terminal's Ctrl-C reaches every process of the group: they stop on it by themselves and
# get SIGTERM only if they have not within 10 s (else each would say it twice; for the
# watcher it is a second stop, at once). Any other signal reached start.sh alone: they get
# SIGTERM at once.
# shellcheck disable=SC2317
on_signal() {
    trap '' INT TERM HUP PIPE
    if [ "$1" = 130 ] && [ -n "$CHILDREN" ]; then
        alive_children 100
        CHILDREN="$ALIVE"
    fi
    stop_children
    exit "$1"
}

trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP
trap 'on_signal 141' PIPE
trap stop_children EXIT

# --- 1. virtual environment -------------------------------------------------------------

# shellcheck source=scripts/bootstrap.sh
. "$ROOT/scripts/bootstrap.sh"
if [ -n "${OPENCLAW_VENV:-}" ]; then
    VENV_PYTHON="$OPENCLAW_VENV/bin/python"
    [ -x "$VENV_PYTHON" ] || die "OPENCLAW_VENV=$OPENCLAW_VENV: no bin/python in it"
    say "Using the virtual environment $OPENCLAW_VENV as it is (OPENCLAW_VENV is set)"
    [ "$REQUIREMENTS" = requirements.txt ] ||
        warn "--with-bmasterai installs nothing into OPENCLAW_VENV: install $REQUIREMENTS there yourself"
else
    bootstrap_venv "$REQUIREMENTS" || exit 1
fi

# Checked before the ingestion, which can take minutes on a first run.
"$VENV_PYTHON" -m openclaw_telemetry.preflight port "$HOST" "$PORT" || exit 1

# --- 2. data ------------------------------------------------------------------------------

if [ "$DEMO" = 1 ]; then
    say "==> Demo data: generating an OpenClaw state directory in ${DEMO_STATE#"$ROOT"/}"
    # A demo database from an earlier day is replaced, never a database of real data.
    "$VENV_PYTHON" -m openclaw_telemetry.demo prepare "$DEMO_STATE" \
        ${DB_FILE[@]+"${DB_FILE[@]}"} || exit 1
    SESSIONS_OPTION=(--sessions-dir "$DEMO_STATE")
fi

say "==> Reading OpenClaw data into ${DB_FILE[0]:-\$OPENCLAW_TELEMETRY_DB} (a first run reads the whole history)"
ingest_status=0
"$VENV_PYTHON" session_parser.py ${SESSIONS_OPTION[@]+"${SESSIONS_OPTION[@]}"} \
    ${DB_OPTION[@]+"${DB_OPTION[@]}"} || ingest_status=$?
case "$ingest_status" in
    0) ;;
    3) warn "another ingest run holds the database; showing what it holds so far" ;;
    "$EXIT_USAGE") exit "$EXIT_USAGE" ;; # a --sessions-dir that is not there: said above
    *) die "reading the OpenClaw data failed (session_parser.py exit $ingest_status, see above)" ;;
esac

# Never an empty dashboard: without a single LLM call there is nothing to look at.
# (The database is $OPENCLAW_TELEMETRY_DB, exported above.)
if ! "$VENV_PYTHON" -m openclaw_telemetry.preflight calls; then
    if [ -n "$SESSIONS_DIR" ]; then
        looked="$SESSIONS_DIR"
    else
        looked="OpenClaw's usual places (\$OPENCLAW_SESSIONS_DIR, \$OPENCLAW_STATE_DIR, ~/.openclaw, ~/.openclaw-*, ~/.clawdbot, ~/.moltbot, ~/.moldbot, ~/.clawdis)"
    fi
    warn "no OpenClaw usage to show: no LLM call found."
    warn "  looked in: $looked"
    warn "  your data is elsewhere:   ./start.sh --sessions-dir /path/to/.openclaw"
    warn "  a first look at demo data (generated, clearly labelled, kept in its own database):"
    warn "                            ./start.sh --demo"
    exit 1
fi

# --- 3. dashboard -------------------------------------------------------------------------

case "$HOST" in
    *:*) url_host="[$HOST]" ;;
    *) url_host="$HOST" ;;
esac
URL="http://$url_host:$PORT/"

if [ "$WATCH" = 1 ]; then
    "$VENV_PYTHON" session_parser.py --watch -q ${SESSIONS_OPTION[@]+"${SESSIONS_OPTION[@]}"} \
        ${DB_OPTION[@]+"${DB_OPTION[@]}"} &
    CHILDREN="$CHILDREN $!"
fi

"$VENV_PYTHON" -m streamlit run "$SCRIPT" \
    --server.address "$HOST" \
    --server.port "$PORT" \
    --server.headless true \
    --server.enableXsrfProtection true \
    --browser.gatherUsageStats false \
    -- ${DB_OPTION[@]+"${DB_OPTION[@]}"} &
DASHBOARD=$!
CHILDREN="$CHILDREN $DASHBOARD"

say ""
say "==> Dashboard: $URL"
if [ "$LOOPBACK" = 1 ]; then
    say "    Bound to $HOST only: reachable from this machine, not from the network" \
        "(--host ADDR changes that)."
else
    exposure_warning
fi
[ "$DEMO" = 0 ] || say "    Showing DEMO data from ${DB_FILE[0]:-\$OPENCLAW_TELEMETRY_DB}, not your agents' usage."
[ "$WATCH" = 0 ] || say "    Live ingestion is on (session_parser.py --watch); it stops with the dashboard."
if [ "$SCRIPT" = dashboard_enhanced.py ] \
        && ! "$VENV_PYTHON" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("bmasterai") is None)' 2>/dev/null; then
    say "    Its Alerts page shows a bmasterai monitor when the optional package is installed;" \
        "./start.sh --with-bmasterai installs it."
fi
say "    Press Ctrl-C to stop."
say ""

dashboard_status=0
wait "$DASHBOARD" || dashboard_status=$?
CHILDREN="${CHILDREN/ $DASHBOARD/}"
exit "$dashboard_status"
