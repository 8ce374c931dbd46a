#!/usr/bin/env bash
# The project's one test command (README "Two commands"; CI runs exactly this through .ci/run).
#
#   scripts/test.sh [PYTEST_ARGS...]          e.g. scripts/test.sh -k golden -x
#
# 1. .venv with requirements-dev.txt (scripts/bootstrap.sh: installs only what changed);
# 2. as root, or with passwordless sudo: the Debian packages the tests use, when missing;
# 3. a throwaway PostgreSQL server on 127.0.0.1 (its URL in OPENCLAW_TEST_PG_URL), removed
#    on exit; an OPENCLAW_TEST_PG_URL already set is used as it is;
# 4. ruff check, mypy, pytest (arguments go to pytest). Exits non-zero when any of them
#    fails; pytest collecting no test (exit 5) counts as a failure. pytest runs one process
#    per core, up to 4 (pytest-xdist): on 2 cores the suite takes 11 instead of 19 minutes;
#    `-n 0` runs it in one process (for --pdb).
#
# Without root and without PostgreSQL binaries everything still runs: the PostgreSQL tests
# skip and say why (under CI=true they fail instead, so CI cannot lose them unnoticed).
# OPENCLAW_TEST_NO_APT=1 never installs packages; OPENCLAW_PYTHON picks the interpreter.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bootstrap.sh
. "$ROOT/scripts/bootstrap.sh"

# Debian packages the test suite uses; one list, so chromium, prometheus ... join it here.
TEST_APT_PACKAGES="postgresql nginx openssl chromium prometheus"

PG_DB=openclaw_test
PG_USER=openclaw
PG_TMP=""        # temp dir holding the throwaway cluster, its socket and logs
PG_BIN=""        # bin dir of initdb/pg_ctl
PG_AS=""         # system user running the server when this script runs as root
POLICY_RC_CREATED=0

phase() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
    printf 'test.sh: %s\n' "$*" >&2
    exit 1
}

PRIVILEGE=none
if [ "$(id -u)" -eq 0 ]; then
    PRIVILEGE=root
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    PRIVILEGE=sudo
fi

as_root() {
    case "$PRIVILEGE" in
        root) "$@" ;;
        sudo) sudo -n "$@" ;;
        *) return 1 ;;
    esac
}

# Runs a command as the PostgreSQL server's user, from inside the cluster's temp dir.
as_pg() {
    (
        cd "$PG_TMP" || exit 1
        if [ -z "$PG_AS" ]; then
            "$@"
        elif command -v runuser >/dev/null 2>&1; then
            runuser -u "$PG_AS" -- "$@"
        else
            su -s /bin/bash "$PG_AS" -c "$(printf '%q ' "$@")"
        fi
    )
}

stop_postgres() {
    [ -n "$PG_TMP" ] || return 0
    if [ -f "$PG_TMP/data/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMP"
    PG_TMP=""
}

remove_policy_rc() {
    if [ "$POLICY_RC_CREATED" = 1 ]; then
        as_root rm -f /usr/sbin/policy-rc.d || true
        POLICY_RC_CREATED=0
    fi
}

cleanup() {
    trap - EXIT INT TERM
    stop_postgres
    remove_policy_rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

missing_packages() {
    local pkg missing=""
    for pkg in $TEST_APT_PACKAGES; do
        if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
            missing="$missing $pkg"
        fi
    done
    printf '%s\n' "${missing# }"
}

install_packages() {
    phase "System packages: $TEST_APT_PACKAGES"
    if [ "${OPENCLAW_TEST_NO_APT:-}" = 1 ]; then
        note "not checked (OPENCLAW_TEST_NO_APT=1)"
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        note "no apt/dpkg here: install them yourself; tests needing a missing one skip"
        return 0
    fi
    local missing log
    missing="$(missing_packages)"
    if [ -z "$missing" ]; then
        note "all installed"
        return 0
    fi
    if [ "$PRIVILEGE" = none ]; then
        note "missing: $missing; not root and no passwordless sudo, so not installed:" \
            "tests needing them skip"
        return 0
    fi
    # Installed for their binaries only: policy-rc.d keeps their services from starting.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d &&
            chmod 755 /usr/sbin/policy-rc.d'
        POLICY_RC_CREATED=1
    fi
    note "installing $missing with apt-get ..."
    log="$(mktemp)"
    # shellcheck disable=SC2086 # $missing is a list of package names
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update >"$log" 2>&1 ||
        ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
            --no-install-recommends $missing >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "apt-get could not install: $missing"
    fi
    rm -f "$log"
    remove_policy_rc
    note "installed: $missing"
}

# Newest /usr/lib/postgresql/<version>/bin, else the directory of an initdb on PATH.
find_pg_bin() {
    local dir
    dir="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    if [ -x "$dir/initdb" ]; then
        printf '%s\n' "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    else
        return 1
    fi
}

pg_unavailable() {
    note "not started: $*"
    note "the PostgreSQL tests will skip${CI:+ (under CI=$CI they fail)}"
}

free_port() {
    "$VENV_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start_postgres() {
    phase "PostgreSQL test server"
    if [ -n "${OPENCLAW_TEST_PG_URL:-}" ]; then
        note "using OPENCLAW_TEST_PG_URL from the environment"
        return 0
    fi
    if ! PG_BIN="$(find_pg_bin)"; then
        pg_unavailable "no PostgreSQL server binaries (initdb) found"
        return 0
    fi
    if [ "$(id -u)" -eq 0 ]; then
        # The server refuses to run as root: it runs as Debian's postgres system user.
        if ! id postgres >/dev/null 2>&1; then
            pg_unavailable "running as root and there is no 'postgres' system user"
            return 0
        fi
        PG_AS=postgres
        PG_TMP="$(mktemp -d /tmp/openclaw-test-pg.XXXXXX)"
        chown postgres: "$PG_TMP"
    else
        PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/openclaw-test-pg.XXXXXX")"
    fi

    if ! as_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -U "$PG_USER" --auth=trust \
        --encoding=UTF8 --locale=C --no-sync >"$PG_TMP/initdb.log" 2>&1; then
        tail -n 20 "$PG_TMP/initdb.log"
        pg_unavailable "initdb failed"
        stop_postgres
        return 0
    fi
    # Loopback only, socket in the private temp dir; durability off: the data is thrown away.
    cat >>"$PG_TMP/data/postgresql.conf" <<EOF

# scripts/test.sh: throwaway test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    local port="" attempt
    for attempt in 1 2 3; do
        port="$(free_port)"
        if as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -o "-p $port" \
            -w -t 60 start >/dev/null 2>&1; then
            break
        fi
        note "start on port $port failed (attempt $attempt of 3)"
        port=""
    done
    if [ -z "$port" ]; then
        tail -n 20 "$PG_TMP/server.log" 2>/dev/null || true
        pg_unavailable "the server did not start"
        stop_postgres
        return 0
    fi
    if ! "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" "$PG_DB" >/dev/null; then
        pg_unavailable "createdb failed"
        stop_postgres
        return 0
    fi
    export OPENCLAW_TEST_PG_URL="postgresql+psycopg://$PG_USER@127.0.0.1:$port/$PG_DB"
    note "$("$PG_BIN/postgres" --version) on 127.0.0.1:$port${PG_AS:+ as $PG_AS}," \
        "data in $PG_TMP (removed on exit)"
    note "OPENCLAW_TEST_PG_URL=$OPENCLAW_TEST_PG_URL"
}

phase "Python environment: .venv with requirements-dev.txt"
bootstrap_venv requirements-dev.txt

install_packages
start_postgres

failed=""

phase "ruff check ."
"$VENV_DIR/bin/ruff" check . || failed="$failed ruff"

phase "mypy (files and strictness from pyproject.toml)"
"$VENV_DIR/bin/mypy" || failed="$failed mypy"

PYTEST_ARGS=(-n auto --maxprocesses 4 "$@")
phase "pytest ${PYTEST_ARGS[*]}"
status=0
"$VENV_PYTHON" -m pytest "${PYTEST_ARGS[@]}" || status=$?
if [ "$status" -eq 5 ]; then
    printf 'test.sh: pytest ran no test (exit 5), which counts as a failure\n' >&2
fi
[ "$status" -eq 0 ] || failed="$failed pytest"

if [ -n "$failed" ]; then
    printf '\ntest.sh: FAILED:%s\n' "$failed" >&2
    exit 1
fi
