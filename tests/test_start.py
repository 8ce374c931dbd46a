"""start.sh end to end, from a clean copy of the repository, plus its security defaults.

The copy holds what `git ls-files -co --exclude-standard` lists (tracked files and new
files that are not ignored): no .venv, no database, no demo data. To keep the tests fast it
reuses this interpreter's virtual environment through OPENCLAW_VENV (start.sh then installs
nothing); scripts/bootstrap.sh, which start.sh runs otherwise, has its own checks. The venv
given to start.sh is a wrapper whose `python` logs every command line before running the
real one, so the tests see exactly what start.sh ran (and that no secret was on it).

Each run gets an empty HOME and no OPENCLAW_* variables, so nothing of the machine's own
OpenClaw data or settings leaks in. A run is its own session: the tests send Ctrl-C to the
whole group as a terminal does, or SIGTERM to start.sh alone as a service manager does,
and then look for any process of that session still alive.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from openclaw_telemetry.demo import is_demo
from openclaw_telemetry.demo.corpus import Options, generate
from openclaw_telemetry.sources.discover import default_candidates
from openclaw_telemetry.store import database_url, open_db

ROOT = Path(__file__).resolve().parent.parent
START = "start.sh"
OPTIONS = ("--sessions-dir", "--db", "--port", "--host", "--enhanced", "--with-bmasterai",
           "--watch", "--demo", "--help")
STARTUP_SECONDS = 180  # demo generation + ingest + Streamlit start, on a slow CI machine
STOP_SECONDS = 25  # start.sh: 10 s for Ctrl-C to stop its children, then 10 s after SIGTERM


# --- a clean checkout and a recording virtual environment ---------------------------------


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a fresh clone (plus uncommitted new files) holds, in a temp dir."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout
    target = tmp_path_factory.mktemp("checkout") / "openclaw-telemetry"
    for raw in filter(None, listed.split(b"\0")):
        relative = Path(os.fsdecode(raw))
        source = ROOT / relative
        if relative.parts[0] in {".venv", "demo-data"} or not source.is_file():
            continue  # demo-data/: start.sh --demo output, in case it is not ignored yet
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        (target / relative).write_bytes(source.read_bytes())
        os.chmod(target / relative, source.stat().st_mode)
    assert os.access(target / START, os.X_OK), "start.sh must be executable"
    return target


@dataclass
class Venv:
    path: Path
    log: Path

    def command_lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture
def venv(tmp_path: Path) -> Venv:
    """OPENCLAW_VENV for start.sh: this venv's python behind a wrapper that logs argv."""
    path, log = tmp_path / "venv", tmp_path / "python-commands.log"
    (path / "bin").mkdir(parents=True)
    wrapper = path / "bin" / "python"
    wrapper.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{log}'\nexec '{sys.executable}' \"$@\"\n")
    wrapper.chmod(0o755)
    return Venv(path, log)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def environment(home: Path, venv: Venv, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("OPENCLAW_", "STREAMLIT_"))}
    env.update(HOME=str(home), OPENCLAW_VENV=str(venv.path), **extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_start(checkout: Path, cwd: Path, env: dict[str, str], *args: str,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(checkout / START), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


# --- processes --------------------------------------------------------------------------


def session_processes(sid: int) -> dict[int, str]:
    """pid -> command line of every live (non-zombie) process in session `sid`."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, IndexError):
            continue
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def wait_until_gone(sid: int, seconds: float) -> dict[int, str]:
    deadline = time.monotonic() + seconds
    while (left := session_processes(sid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def listeners(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) with a socket listening on `port`."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, _, state = line.split()[1:4]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                addresses.add(address)
    return addresses


LOOPBACK_V4 = "0100007F"  # 127.0.0.1 in /proc/net/tcp (little-endian)


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


@dataclass
class Running:
    process: subprocess.Popen[str]
    output: Path
    port: int

    def text(self) -> str:
        return self.output.read_text()

    def wait_healthy(self) -> None:
        url = f"http://127.0.0.1:{self.port}/_stcore/health"
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"start.sh exited with {self.process.returncode}:\n{self.text()}")
            try:
                if get(url) == (200, "ok"):
                    return
            except OSError:
                pass
            time.sleep(0.25)
        pytest.fail(f"no answer on {url} after {STARTUP_SECONDS} s:\n{self.text()}")


def _as_from_a_terminal() -> None:
    """SIGINT as a terminal gives it: a suite started in the background (`nohup … &`) runs
    with SIGINT ignored, which a shell cannot trap (start.sh's Ctrl-C exit 130)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def launch(checkout: Path, tmp_path: Path, home: Path, venv: Venv) -> Iterator[
        type[Running]]:
    """Start start.sh in its own session; whatever is left is killed at the end."""
    started: list[Running] = []

    class Launch(Running):
        def __init__(self, *args: str, port: int) -> None:
            output = tmp_path / f"start-{len(started)}.out"
            with output.open("w") as sink:
                process = subprocess.Popen(
                    [str(checkout / START), *args, "--port", str(port)], cwd=tmp_path,
                    env=environment(home, venv), stdout=sink, stderr=subprocess.STDOUT,
                    text=True, start_new_session=True, preexec_fn=_as_from_a_terminal)
            super().__init__(process, output, port)
            started.append(self)

    yield Launch
    for running in started:
        for pid in session_processes(running.process.pid):
            os.kill(pid, signal.SIGKILL)
        running.process.wait(timeout=10)


# --- end to end -------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_serves_the_dashboard_and_ctrl_c_stops_everything(
        launch: type[Running], tmp_path: Path, venv: Venv) -> None:
    db = tmp_path / "demo.db"
    port = free_port()
    run = launch("--demo", "--db", str(db), port=port)

    run.wait_healthy()
    status, page = get(f"http://127.0.0.1:{port}/")

    assert status == 200
    assert '<div id="root">' in page and "streamlit" in page.lower()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    engine = open_db(database_url(str(db)), create=False)
    try:
        assert is_demo(engine)
    finally:
        engine.dispose()
    assert listeners(port) == {LOOPBACK_V4}, "the dashboard must listen on 127.0.0.1 only"
    output = run.text()
    assert f"http://127.0.0.1:{port}/" in output
    assert "Bound to 127.0.0.1 only" in output
    assert "DEMO data" in output
    dashboard = [line for line in venv.command_lines() if "-m streamlit run" in line]
    assert len(dashboard) == 1
    for flag in ("--server.address 127.0.0.1", f"--server.port {port}",
                 "--server.headless true", "--server.enableXsrfProtection true",
                 "--browser.gatherUsageStats false"):
        assert flag in dashboard[0]
    assert dashboard[0].endswith(f"dashboard.py --server.address 127.0.0.1 --server.port {port} "
                                 "--server.headless true --server.enableXsrfProtection true "
                                 f"--browser.gatherUsageStats false -- --db {db}")
    processes = session_processes(run.process.pid)
    assert any("streamlit run" in line for line in processes.values()), processes

    os.killpg(run.process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does

    assert run.process.wait(timeout=STOP_SECONDS) == 130
    assert wait_until_gone(run.process.pid, 5) == {}
    assert listeners(port) == set()
    assert "did not stop" not in run.text(), "stopped by SIGKILL, not cleanly"
    # the dashboard stopped on the group's Ctrl-C itself: no SIGTERM after it to say it twice
    assert run.text().count("Stopping") == 1, run.text()


@pytest.mark.slow
def test_sigterm_to_start_sh_alone_stops_the_dashboard_and_the_watcher(
        launch: type[Running], tmp_path: Path) -> None:
    port = free_port()
    run = launch("--demo", "--watch", "--enhanced", "--db", str(tmp_path / "demo.db"),
                 port=port)
    run.wait_healthy()
    processes = session_processes(run.process.pid)
    assert any("session_parser.py --watch -q" in line for line in processes.values()), processes
    assert any("streamlit run dashboard_enhanced.py" in line for line in processes.values())
    # bmasterai is installed here (requirements-dev.txt): no advice to install it
    assert "--with-bmasterai installs it" not in run.text()

    run.process.send_signal(signal.SIGTERM)  # a service manager or `kill`, not the group

    assert run.process.wait(timeout=STOP_SECONDS) == 143
    assert wait_until_gone(run.process.pid, 5) == {}
    assert "did not stop" not in run.text(), "stopped by SIGKILL, not cleanly"
    output = run.text()
    assert output.count("Stopping") == 1, output
    assert "session_parser.py: stopped between runs (nothing was interrupted)" in output


@pytest.mark.slow
def test_demo_twice_gives_a_fresh_demo_database(checkout: Path, launch: type[Running],
                                                tmp_path: Path) -> None:
    """Each --demo run shows 60 days up to now: the old demo database is replaced."""
    db = tmp_path / "demo.db"
    counts = []
    for _ in range(2):
        run = launch("--demo", "--db", str(db), port=free_port())
        run.wait_healthy()
        os.killpg(run.process.pid, signal.SIGINT)
        run.process.wait(timeout=STOP_SECONDS)
        with sqlite3.connect(db) as conn:
            counts.append(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
            assert conn.execute("SELECT value FROM meta WHERE key = 'demo'").fetchone()
    assert counts[0] == counts[1] > 0
    assert (checkout / "demo-data" / "openclaw-state" / "agents").is_dir()


@pytest.mark.slow
def test_demo_refuses_a_database_with_real_data(checkout: Path, tmp_path: Path, home: Path,
                                                venv: Venv) -> None:
    db = tmp_path / "real.db"
    state = tmp_path / "state"
    generate(state, Options(calls=20, seed=1))
    subprocess.run([sys.executable, "session_parser.py", "--sessions-dir", str(state), "--db",
                    str(db), "-q"], cwd=checkout, check=True)

    result = run_start(checkout, tmp_path, environment(home, venv), "--demo", "--db", str(db),
                       "--port", str(free_port()))

    assert result.returncode == 1
    assert "not demo data" in result.stderr
    assert "Dashboard:" not in result.stdout


# --- no data, bad options, help ---------------------------------------------------------


@pytest.mark.slow
def test_no_data_says_where_it_looked_and_offers_the_demo(
        checkout: Path, tmp_path: Path, home: Path, venv: Venv) -> None:
    port = free_port()
    result = run_start(checkout, tmp_path, environment(home, venv), "--port", str(port),
                       "--db", str(tmp_path / "empty.db"))

    assert result.returncode == 1
    assert "~/.openclaw" in result.stderr
    assert "./start.sh --demo" in result.stderr
    assert "Dashboard:" not in result.stdout
    assert not [line for line in venv.command_lines() if "streamlit" in line]
    assert listeners(port) == set()


@pytest.mark.slow
def test_with_bmasterai_serves_the_enhanced_dashboard_and_installs_the_extra(
        checkout: Path, tmp_path: Path, home: Path, venv: Venv) -> None:
    """Into .venv it installs requirements-bmasterai.txt (scripts/bootstrap.sh); into an
    OPENCLAW_VENV, nothing, and it says so."""
    text = (ROOT / START).read_text()
    assert 'bootstrap_venv "$REQUIREMENTS"' in text
    assert "REQUIREMENTS=requirements-bmasterai.txt" in text
    result = run_start(checkout, tmp_path, environment(home, venv), "--with-bmasterai",
                       "--port", str(free_port()), "--db", str(tmp_path / "empty.db"))

    assert result.returncode == 1  # no data here: nothing is served
    assert ("--with-bmasterai installs nothing into OPENCLAW_VENV: install "
            "requirements-bmasterai.txt there yourself") in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("tilde", [False, True])
def test_no_data_in_a_given_folder_names_it(checkout: Path, tmp_path: Path, home: Path,
                                            venv: Venv, tilde: bool) -> None:
    """Also as `--sessions-dir=~/state`, whose tilde no shell expands: start.sh does (its
    check that the folder exists comes after)."""
    folder = (home if tilde else tmp_path) / "state"
    folder.mkdir()
    given = ["--sessions-dir=~/state"] if tilde else ["--sessions-dir", str(folder)]
    result = run_start(checkout, tmp_path, environment(home, venv), *given,
                       "--port", str(free_port()))

    assert result.returncode == 1, result.stderr
    assert f"looked in: {folder}" in result.stderr
    assert "--demo" in result.stderr
    assert (tmp_path / "openclaw_telemetry.db").exists(), "the parser's default, in the cwd"


@pytest.mark.slow
def test_a_port_in_use_is_reported_before_any_work(checkout: Path, tmp_path: Path,
                                                   home: Path, venv: Venv) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_start(checkout, tmp_path, environment(home, venv), "--demo", "--port",
                           str(port))

    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert not (tmp_path / "openclaw_telemetry_demo.db").exists()


@pytest.mark.parametrize(
    "arguments",
    [["--bogus"], ["--port"], ["--port", "http"], ["--port", "70000"], ["--watch=yes"],
     ["--demo", "--sessions-dir", "/tmp"], ["--host", "0.0.0.0", "--demo", "--sessions-dir", "/tmp"],
     ["stray"], ["--sessions-dir", "/definitely/not/here"]],
)
def test_a_bad_option_gives_one_line_and_exit_64(checkout: Path, tmp_path: Path, home: Path,
                                                venv: Venv, arguments: list[str]) -> None:
    result = run_start(checkout, tmp_path, environment(home, venv), *arguments, timeout=20)

    assert result.returncode == 64
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("start.sh: error: ")
    assert venv.command_lines() == [], "a bad option must fail before any work"


def options_in_the_script() -> set[str]:
    """The long options in the case patterns of start.sh's argument loop."""
    text = (ROOT / START).read_text()
    loop = text[text.index("while [ $# -gt 0 ]"):text.index("\ndone\n")]
    patterns = re.findall(r"^\s*([-a-z |*=]+)\)", loop, re.MULTILINE)
    return {option for pattern in patterns for option in re.findall(r"--[a-z][a-z-]*", pattern)}


def test_start_sh_keeps_no_python_of_its_own() -> None:
    """Every question for Python is a module of the package (typed and checked), never a
    script on start.sh's stdin; scripts/bootstrap.sh, sourced by it, keeps none either."""
    for name in (START, "scripts/bootstrap.sh"):
        text = (ROOT / name).read_text()
        assert not re.search(r"<<-?\s*'?PY", text), name
        assert not re.search(r"(python|PYTHON\w*\"?) +- ", text), name
    text = (ROOT / START).read_text()
    assert "bench/" not in text, "the demo generator is the package's"
    modules = set(re.findall(r"-m (openclaw_telemetry[\w.]*)", text))
    assert modules == {"openclaw_telemetry.preflight", "openclaw_telemetry.demo"}
    for module in modules:
        assert importlib.util.find_spec(module) is not None, module


def test_help_lists_every_option_and_does_no_work(checkout: Path, tmp_path: Path, home: Path,
                                                  venv: Venv) -> None:
    env = environment(home, venv)
    del env["OPENCLAW_VENV"]  # --help must not even create .venv
    result = run_start(checkout, tmp_path, env, "--help", timeout=20)

    assert result.returncode == 0
    assert result.stderr == ""
    assert options_in_the_script() == set(OPTIONS)
    for option in OPTIONS:
        assert re.search(rf"^\s+(-[a-z], )?{option}\b", result.stdout, re.MULTILINE), option
    assert not (checkout / ".venv").exists()


def test_docs_show_every_option() -> None:
    text = (ROOT / "README.md").read_text()
    for option in OPTIONS:
        assert f"`{option}" in text, option


def test_help_and_messages_name_every_folder_the_parser_searches(tmp_path: Path) -> None:
    """start.sh's --help runs before .venv exists, so it cannot ask discover.py: its lists
    of OpenClaw's usual places (and the README's) are kept equal to what is searched."""
    searched = {f"~/{p.name}" for p in default_candidates({"HOME": str(tmp_path)})}
    assert {"~/.openclaw", "~/.clawdbot"} < searched
    usage = subprocess.run(["bash", str(ROOT / START), "--help"], capture_output=True,
                           text=True, timeout=20, check=True).stdout
    looked = re.findall(r'^\s*looked="(.+)"$', (ROOT / START).read_text(), re.MULTILINE)
    readme = (ROOT / "README.md").read_text()
    lists = {"--help": usage[usage.index("--sessions-dir"):usage.index("--db")],
             "looked in": "".join(looked),
             "README": readme[readme.index("`session_parser.py` reads, in this order"):
                              readme.index("In each state directory")]}
    for where, text in lists.items():  # profiles: `~/.openclaw-*` or `~/.openclaw-<name>`
        named = {folder + "-*" * bool(profile)
                 for folder, profile in re.findall(r"(~/\.[a-z]+)(-\*|-<name>)?", text)}
        assert named == {*searched, "~/.openclaw-*"}, where


# --- security defaults ------------------------------------------------------------------


def test_start_sh_serves_on_loopback_unless_told_and_warns_otherwise(
        checkout: Path, tmp_path: Path, home: Path, venv: Venv) -> None:
    text = (ROOT / START).read_text()
    assert re.search(r"^HOST=127\.0\.0\.1$", text, re.MULTILINE)
    assert '--server.address "$HOST"' in text
    # Nothing is found, so nothing is served: the warning comes before any work.
    result = run_start(checkout, tmp_path, environment(home, venv), "--host", "0.0.0.0",
                       "--port", str(free_port()), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert "WARNING: --host 0.0.0.0 is not a loopback address" in result.stderr


@pytest.mark.slow
def test_streamlit_run_as_the_readme_shows_it_listens_on_loopback_only(
        checkout: Path, tmp_path: Path, home: Path, venv: Venv) -> None:
    """README: `.venv/bin/streamlit run dashboard.py -- --db …` in the checkout, no --host."""
    port = free_port()
    streamlit = Path(sys.executable).parent / "streamlit"
    output = tmp_path / "streamlit.out"
    with output.open("w") as sink:
        process = subprocess.Popen(
            [str(streamlit), "run", "dashboard.py", "--server.port", str(port),
             "--server.headless", "true", "--", "--db", str(tmp_path / "none.db")],
            cwd=checkout, env=environment(home, venv), stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        Running(process, output, port).wait_healthy()
        assert listeners(port) == {LOOPBACK_V4}
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def streamlit_settings_files() -> list[Path]:
    return [path for path in [ROOT / ".streamlit" / "config.toml", ROOT / START,
                              *sorted((ROOT / "deploy").rglob("*"))] if path.is_file()]


@pytest.mark.parametrize("path", streamlit_settings_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_xsrf_protection_is_never_turned_off(path: Path) -> None:
    text = path.read_text()
    assert not re.search(r"enableXsrfProtection\W+false", text, re.IGNORECASE)
    assert not re.search(r"ENABLE_XSRF_PROTECTION\W+false", text, re.IGNORECASE)
    assert not re.search(r"enableCORS\W+false", text, re.IGNORECASE)
    if path.suffix == ".toml":
        server = tomllib.loads(text).get("server", {})
        assert server.get("enableXsrfProtection", True) is True
        assert server.get("enableCORS", True) is True


def test_start_sh_turns_xsrf_protection_on_explicitly() -> None:
    """A ~/.streamlit/config.toml that turned it off must not win."""
    assert "--server.enableXsrfProtection true" in (ROOT / START).read_text()


SECRET_PATTERNS = (r"://[^/\s:@]+:[^/\s@]+@", r"(?i)--?(password|passwd|token|secret|api-?key)\b")


def deploy_command_lines() -> list[str]:
    lines = []
    for path in sorted((ROOT / "deploy").rglob("*")):
        if not path.is_file() or path.suffix == ".md":
            continue
        text = re.sub(r"\\\n\s*", " ", path.read_text())
        lines += [line for line in text.splitlines()
                  if line.startswith(("ExecStart", "ExecStop")) or re.match(r"^[0-9*@]", line)]
    return lines


def test_no_secret_on_a_deploy_command_line() -> None:
    lines = deploy_command_lines()
    assert lines
    for line in lines:
        for pattern in SECRET_PATTERNS:
            assert not re.search(pattern, line), line


@pytest.mark.slow
def test_a_database_password_never_reaches_a_command_line(
        checkout: Path, tmp_path: Path, home: Path, venv: Venv) -> None:
    """start.sh passes a database URL to its programs in the environment only."""
    closed = free_port()
    url = f"postgresql+psycopg://telemetry:s3cr3t-pw@127.0.0.1:{closed}/telemetry"
    result = run_start(checkout, tmp_path, environment(home, venv, OPENCLAW_TELEMETRY_DB=url),
                       "--port", str(free_port()))

    assert result.returncode == 1  # nothing listens there: the ingest cannot connect
    commands = venv.command_lines()
    assert any("session_parser.py" in line for line in commands), commands
    assert not [line for line in commands if "s3cr3t" in line]
    assert "s3cr3t" not in result.stdout + result.stderr


def test_docs_say_where_secrets_go() -> None:
    text = (ROOT / "README.md").read_text()
    assert "OPENCLAW_TELEMETRY_DB" in text and ".pgpass" in text
