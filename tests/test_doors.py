"""One argument and exit-code convention for every command (openclaw_telemetry/doors.py):
a wrong argument is one line and exit code 64 everywhere, each --help ends with its exit
codes, and the README's one "Exit codes" table says the same, word for word."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from export_db import build_fleet

from openclaw_telemetry.doors import EXIT_CODES, EXIT_USAGE
from tests.entries import T0, assistant, header, state_dir, write

ROOT = Path(__file__).resolve().parents[1]
DOORS = ("session_parser.py", "alerts.py", "exporter.py")
HELPERS = ("openclaw_telemetry.demo", "openclaw_telemetry.preflight")  # what start.sh runs
SUBCOMMANDS = ("session_parser.py export", "session_parser.py report")


def door(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *(["-m", args[0]] if args[0] in HELPERS else
                                 [str(ROOT / args[0])]), *args[1:]]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60,
                          check=False, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def readme_table() -> dict[str, list[tuple[int, str]]]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Exit codes\n"):]
    section = section[:section.index("\n## ", 5)]
    table: dict[str, list[tuple[int, str]]] = {}
    for command, code, meaning in re.findall(r"^\| `([^`]+)` \| `(\d+)` \| (.+) \|$", section,
                                             re.MULTILINE):
        table.setdefault(command, []).append((int(code), meaning))
    return table


def words(text: str) -> str:
    return " ".join(text.split())


WRONG = {"openclaw_telemetry.demo": ("prepare", "state", "--bogus"),
         "openclaw_telemetry.preflight": ("calls", "--bogus")}


@pytest.mark.parametrize("name", [*DOORS, *HELPERS])
def test_a_wrong_argument_is_one_line_and_exit_64(name: str, tmp_path: Path) -> None:
    ran = door(name, *WRONG.get(name, ("--bogus",)), cwd=tmp_path)
    prog = name if name in DOORS else f"python -m {name}"
    assert ran.returncode == EXIT_USAGE == 64
    assert ran.stderr.splitlines() == [
        f"{prog}: error: unrecognized arguments: --bogus (see --help)"], ran.stderr
    assert ran.stdout == ""


@pytest.mark.parametrize("name", [*DOORS, *HELPERS])
def test_help_ends_with_the_exit_codes(name: str) -> None:
    ran = door(name, "--help")
    prog = name if name in DOORS else f"python -m {name}"
    assert ran.returncode == 0, ran.stderr
    for code, meaning in EXIT_CODES[prog]:
        assert f"{code} {words(meaning)}" in words(ran.stdout), (code, meaning)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommands_help_and_wrong_arguments(name: str, tmp_path: Path) -> None:
    door_, sub = name.split()
    ran = door(door_, sub, "--help")
    assert ran.returncode == 0, ran.stderr
    for code, meaning in EXIT_CODES[name]:
        assert f"{code} {words(meaning)}" in words(ran.stdout), (code, meaning)
    wrong = door(door_, sub, "--bogus", cwd=tmp_path)
    assert wrong.returncode == EXIT_USAGE
    assert wrong.stderr.splitlines()[-1].startswith(f"{name}: error: ")
    assert len(wrong.stderr.splitlines()) == 1 and wrong.stdout == ""


def test_the_readme_table_is_the_doors_table() -> None:
    table = readme_table()
    for name in (*DOORS, *SUBCOMMANDS):
        assert table[name] == list(EXIT_CODES[name]), name
    assert set(table) == {*DOORS, *SUBCOMMANDS, "start.sh"}


def test_start_sh_help_and_table_agree() -> None:
    text = (ROOT / "start.sh").read_text()
    help_codes = re.search(r"^Exit status: (.+?)\n\n", text, re.MULTILINE | re.DOTALL)
    assert help_codes
    assert {code for code, _ in readme_table()["start.sh"]} == {
        int(code) for code in re.findall(r"\b(\d+)\b", help_codes.group(1))}
    assert re.search(r"^EXIT_USAGE=64\b", text, re.MULTILINE)


def with_reader_gone(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`door(*args)` with stdout a real pipe whose reader closed it before the command wrote
    (`| head -1` once head has its line): every write fails, and so would the flush at exit."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, str(ROOT / args[0]), *args[1:]], cwd=cwd,
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
                              check=False, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    finally:
        os.close(write_end)


@pytest.mark.parametrize("args", [
    ("session_parser.py", "report", "daily"),
    ("session_parser.py", "report", "session", "--limit", "1"),  # a table and a note
    ("session_parser.py", "report", "monthly", "--json"),
    ("session_parser.py", "export", "--what", "calls"),
    ("session_parser.py", "export", "--what", "sessions", "--format", "parquet"),
    ("session_parser.py", "--sessions-dir", "state", "--json"),
    ("session_parser.py", "--sessions-dir", "state", "--watch", "--json"),  # it ends
    ("alerts.py", "--json"), ("alerts.py",), ("exporter.py", "--once")], ids=" ".join)
def test_a_reader_that_leaves_early_is_no_failure(args: tuple[str, ...], tmp_path: Path) -> None:
    """`… | head` takes what it wants: the command says nothing and exits as it would have
    (the Python docs' "Note on SIGPIPE"), whether a write fails or the flush at exit would."""
    db = tmp_path / "telemetry.db"
    build_fleet(f"sqlite:///{db}").dispose()
    write(state_dir(tmp_path), "s.jsonl", header("s"), assistant(T0, response_id="r"))
    ran = with_reader_gone(*args, "--db", str(db), cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, "")


@pytest.mark.parametrize(("url", "said"), [
    ("postgres://me@127.0.0.1:9/telemetry", "a PostgreSQL URL is postgresql+psycopg://"),
    ("postgresql+psycopg2://me@127.0.0.1:9/telemetry",
     "a PostgreSQL URL is postgresql+psycopg://"),
    ("mysql://me@127.0.0.1:9/telemetry", "a SQLite file or postgresql+psycopg://"),
])
def test_a_database_url_of_no_usable_driver_says_which_is(url: str, said: str,
                                                         tmp_path: Path) -> None:
    """`postgres://` and `+psycopg2` gave SQLAlchemy's "Can't load plugin:
    sqlalchemy.dialects:postgres" and "No module named 'psycopg2'" and nothing more."""
    for args in (["report", "daily"], ["--sessions-dir", str(tmp_path)]):
        ran = subprocess.run([sys.executable, str(ROOT / "session_parser.py"), *args,
                              "--db", url], capture_output=True, text=True, timeout=60,
                             env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
        assert ran.returncode == 64 and said in ran.stderr, ran.stderr
        assert "Traceback" not in ran.stderr
