#!/usr/bin/env bash
# Creates the project's virtual environment and keeps it in step with a requirements file.
#
#   scripts/bootstrap.sh [REQUIREMENTS_FILE]     # default: requirements.txt
#
# or, from another script (start.sh, scripts/test.sh):
#
#   . scripts/bootstrap.sh                       # defines bootstrap_venv, changes nothing
#   bootstrap_venv requirements-dev.txt          # then: "$VENV_PYTHON" -m ...
#
# What it does:
#   - finds a Python >= 3.11 ($OPENCLAW_PYTHON, else python3, python3.14 ... python3.11);
#   - creates <repo>/.venv when it is missing or broken;
#   - runs `pip install -r FILE` only when FILE, or a file it includes with -r/-c, changed
#     since the last successful install of FILE (sha256 stamp kept inside .venv).
# It never changes the calling shell's options; on failure it prints one line starting
# with "bootstrap:" and returns non-zero. Kept to bash 3.2 so it also runs on macOS.

BOOTSTRAP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="$BOOTSTRAP_ROOT/.venv"
VENV_PYTHON="$VENV_DIR/bin/python"

_bootstrap_say() { printf 'bootstrap: %s\n' "$*" >&2; }

# Prints the first interpreter that is Python >= 3.11; fails with one line otherwise.
_bootstrap_find_python() {
    local candidate path version tried=""
    if [ -n "${OPENCLAW_PYTHON:-}" ]; then
        if "$OPENCLAW_PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$OPENCLAW_PYTHON"
            return 0
        fi
        _bootstrap_say "OPENCLAW_PYTHON=$OPENCLAW_PYTHON is not a Python 3.11 or newer"
        return 1
    fi
    for candidate in python3 python3.14 python3.13 python3.12 python3.11 python; do
        path="$(command -v "$candidate" 2>/dev/null)" || continue
        if "$path" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            printf '%s\n' "$path"
            return 0
        fi
        version="$("$path" -c 'import platform; print(platform.python_version())' 2>/dev/null)"
        tried="$tried ${candidate}=${version:-unusable}"
    done
    _bootstrap_say "Python 3.11 or newer is required, none found (tried:${tried:- nothing on PATH});" \
        "install it (Debian/Ubuntu: apt-get install python3 python3-venv) or set OPENCLAW_PYTHON=/path/to/python3.11"
    return 1
}

# sha256 over FILE and every file it includes (scripts/requirements_digest.py).
_bootstrap_requirements_hash() {
    "$1" "$BOOTSTRAP_ROOT/scripts/requirements_digest.py" "$2"
}

_bootstrap_venv_ok() {
    [ -x "$VENV_PYTHON" ] &&
        "$VENV_PYTHON" -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

# Runs in a subshell: options, traps, the lock and `cd` stay local to it.
_bootstrap_venv_impl() (
    req="${1:-requirements.txt}"
    case "$req" in
        /*) ;;
        *) [ -f "$req" ] || req="$BOOTSTRAP_ROOT/$req" ;;
    esac
    if [ ! -f "$req" ]; then
        _bootstrap_say "requirements file not found: ${1:-requirements.txt}"
        exit 1
    fi
    req="$(cd "$(dirname "$req")" && pwd)/$(basename "$req")"

    # Two bootstraps at once (start.sh and the tests) would race on the same .venv.
    if command -v flock >/dev/null 2>&1 && exec 9<"${BASH_SOURCE[0]}"; then
        if ! flock -n 9; then
            _bootstrap_say "waiting for another bootstrap of .venv to finish ..."
            flock 9 || exit 1
        fi
    fi

    python="$(_bootstrap_find_python)" || exit 1

    if [ -e "$VENV_DIR" ] && ! _bootstrap_venv_ok; then
        _bootstrap_say "$VENV_DIR is broken or older than Python 3.11; recreating it"
        rm -rf "$VENV_DIR" || exit 1
    fi
    if [ ! -e "$VENV_DIR" ]; then
        _bootstrap_say "creating .venv with $python ($("$python" -c 'import platform; print(platform.python_version())'))"
        if ! "$python" -m venv "$VENV_DIR" >/dev/null 2>&1; then
            rm -rf "$VENV_DIR"
            _bootstrap_say "could not create $VENV_DIR with $python -m venv" \
                "(Debian/Ubuntu: apt-get install python3-venv)"
            exit 1
        fi
    fi

    digest="$(_bootstrap_requirements_hash "$python" "$req")" || {
        _bootstrap_say "could not read $req"
        exit 1
    }
    stamp_dir="$VENV_DIR/.bootstrap"
    stamp="$stamp_dir/$(basename "$req").sha256"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        _bootstrap_say ".venv is up to date with $(basename "$req")"
        exit 0
    fi

    mkdir -p "$stamp_dir" || exit 1
    log="$stamp_dir/pip-install.log"
    _bootstrap_say "installing $(basename "$req") into .venv (first run or changed; may take a few minutes) ..."
    started=$(date +%s)
    if ! PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
        "$VENV_PYTHON" -m pip install --quiet --requirement "$req" >"$log" 2>&1; then
        tail -n 25 "$log" >&2
        _bootstrap_say "pip install -r $(basename "$req") failed; full log: $log"
        exit 1
    fi
    printf '%s\n' "$digest" >"$stamp" || exit 1
    _bootstrap_say "installed $(basename "$req") in $(($(date +%s) - started)) s"
)

# bootstrap_venv [REQUIREMENTS_FILE]: make .venv current; afterwards use "$VENV_PYTHON".
bootstrap_venv() {
    _bootstrap_venv_impl "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    bootstrap_venv "$@"
fi
