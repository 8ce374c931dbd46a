"""deploy/ works as shipped: the nginx site passes `nginx -t`, the systemd units pass
`systemd-analyze verify`, the cron line is a valid hourly crontab entry, and the files agree
with each other (port, base path, settings) and with the README.

Nothing global is touched: nginx gets a minimal main configuration in a temp dir, the units
are verified as copies whose install path points at a temp dir. `render_site` also serves
loopback tests that run the site for real (own ports, self-signed certificate, htpasswd).
A missing nginx or openssl skips outside CI and fails under CI (scripts/test.sh installs
them); systemd-analyze is used where the machine has it.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_pg_server import running_in_ci

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "openclaw-telemetry.conf"
SYSTEMD = DEPLOY / "systemd"
ENV_FILE = SYSTEMD / "openclaw-telemetry.env"
CRON = DEPLOY / "cron" / "openclaw-telemetry.cron"
SERVICES = sorted(SYSTEMD.glob("*.service"))
UNITS = sorted([*SERVICES, *SYSTEMD.glob("*.timer")])

INSTALL_DIR = "/opt/openclaw-telemetry"
STATE_DIR = "/var/lib/openclaw-telemetry"
INSTALLED_ENV_FILE = "/etc/openclaw-telemetry/openclaw-telemetry.env"
HTPASSWD = "/etc/nginx/openclaw-telemetry.htpasswd"
CERTIFICATE = "/etc/ssl/certs/openclaw-telemetry.crt"
CERTIFICATE_KEY = "/etc/ssl/private/openclaw-telemetry.key"


def require_tool(name: str) -> str:
    """Path of a tool that scripts/test.sh installs; skip without it, fail under CI."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path:
        return path
    reason = f"{name} is not installed (scripts/test.sh installs it when run as root)"
    if running_in_ci():
        pytest.fail(f"{reason}; under CI it must be there")
    pytest.skip(reason)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


# --- helpers for rendering the site into a temp dir ------------------------------------


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid two days: (certificate, key)."""
    openssl = require_tool("openssl")
    certificate, key = directory / "server.crt", directory / "server.key"
    result = run(
        openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", str(key), "-out", str(certificate),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return certificate, key


def make_htpasswd(directory: Path, user: str, password: str) -> Path:
    """An htpasswd file with one user, hashed like `htpasswd` does (apr1)."""
    openssl = require_tool("openssl")
    result = run(openssl, "passwd", "-apr1", password)
    assert result.returncode == 0, result.stderr
    path = directory / "htpasswd"
    path.write_text(f"{user}:{result.stdout.strip()}\n")
    return path


def render_site(
    directory: Path,
    *,
    upstream_port: int = 8501,
    http_port: int = 8080,
    https_port: int = 8443,
    htpasswd: Path,
    certificate: Path,
    key: Path,
) -> Path:
    """The shipped site with its ports, certificate and htpasswd moved into `directory`,
    listening on 127.0.0.1 only (IPv6 listeners dropped)."""
    text = SITE.read_text()
    replacements = {
        "server 127.0.0.1:8501;": f"server 127.0.0.1:{upstream_port};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "https://$host$request_uri": f"https://$host:{https_port}$request_uri",
        HTPASSWD: str(htpasswd),
        CERTIFICATE: str(certificate),
        CERTIFICATE_KEY: str(key),
    }
    for old, new in replacements.items():
        assert old in text, f"{SITE.name} no longer contains {old!r}: update render_site"
        text = text.replace(old, new)
    text = re.sub(r"^\s*listen \[::\].*\n", "", text, flags=re.MULTILINE)
    path = directory / "site.conf"
    path.write_text(text)
    return path


def nginx_main_conf(directory: Path, site: Path) -> Path:
    """A complete nginx.conf that includes `site` and keeps every path in `directory`."""
    # As root, workers would run as nobody and could not read pytest's private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    path = directory / "nginx.conf"
    path.write_text(
        f"{user}worker_processes 1;\n"
        f"pid {directory}/nginx.pid;\n"
        f"error_log {directory}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"    access_log {directory}/access.log;\n"
        + "".join(
            f"    {kind}_temp_path {directory}/{kind}_temp;\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"    include {site};\n"
        "}\n"
    )
    return path


# --- nginx ------------------------------------------------------------------------------


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    nginx = require_tool("nginx")
    certificate, key = make_certificate(tmp_path)
    htpasswd = make_htpasswd(tmp_path, "telemetry", "correct horse")
    site = render_site(tmp_path, htpasswd=htpasswd, certificate=certificate, key=key)
    conf = nginx_main_conf(tmp_path, site)

    result = run(nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log"))

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "test is successful" in output
    assert "[warn]" not in output, output


@pytest.mark.parametrize(
    "directive",
    [
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "map $http_upgrade $connection_upgrade {",
        "location = /openclaw/_stcore/stream {",
        "proxy_read_timeout 1d;",
        f"auth_basic_user_file {HTPASSWD};",
        "return 301 https://$host$request_uri;",
        "listen 443 ssl;",
    ],
)
def test_site_has(directive: str) -> None:
    assert directive in SITE.read_text()


def test_no_location_drops_the_proxy_headers() -> None:
    """nginx forgets the server's proxy_set_header lines in a location that sets its own."""
    directives = re.sub(r"#.*", "", SITE.read_text())
    locations = re.findall(r"\blocation [^{]*\{[^}]*\}", directives)
    assert locations
    assert not [block for block in locations if "proxy_set_header" in block]


# --- systemd ----------------------------------------------------------------------------


def unit_settings(path: Path) -> dict[str, list[str]]:
    """KEY -> values of a unit or environment-style file (continuation lines joined)."""
    settings: dict[str, list[str]] = {}
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


REQUIRED_SERVICE_SETTINGS = {
    "User": "openclaw-telemetry",
    "Group": "openclaw-telemetry",
    "EnvironmentFile": INSTALLED_ENV_FILE,
    "Restart": "on-failure",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "read-only",
    "ReadWritePaths": STATE_DIR,
    "PrivateTmp": "yes",
    "UMask": "0077",
}


@pytest.mark.parametrize("service", SERVICES, ids=lambda path: path.name)
@pytest.mark.parametrize(("key", "value"), REQUIRED_SERVICE_SETTINGS.items())
def test_service_is_confined(service: Path, key: str, value: str) -> None:
    assert unit_settings(service).get(key) == [value]


@pytest.mark.parametrize("service", ["openclaw-telemetry-ingest.service",
                                     "openclaw-telemetry-watch.service"])
def test_a_stop_by_systemd_is_no_failure_of_the_parser(service: str) -> None:
    """session_parser.py exits 143 on SIGTERM (README exit codes)."""
    assert unit_settings(SYSTEMD / service).get("SuccessExitStatus") == ["143"]


@pytest.mark.parametrize(
    ("service", "arguments"),
    [
        ("openclaw-telemetry-ingest.service", f"{INSTALL_DIR}/session_parser.py -q"),
        ("openclaw-telemetry-watch.service", f"{INSTALL_DIR}/session_parser.py --watch"),
        ("openclaw-telemetry-dashboard.service", "-m streamlit run ${OPENCLAW_DASHBOARD_SCRIPT}"),
        ("openclaw-telemetry-exporter.service", f"{INSTALL_DIR}/exporter.py"),
    ],
)
def test_service_runs_the_venv_python(service: str, arguments: str) -> None:
    (command,) = unit_settings(SYSTEMD / service)["ExecStart"]
    assert command.startswith(f"{INSTALL_DIR}/.venv/bin/python {arguments}")


@pytest.mark.parametrize(("service", "flags"), [
    ("openclaw-telemetry-dashboard.service",
     ("--server.headless true", "--server.enableXsrfProtection true",
      "--server.address ${OPENCLAW_DASHBOARD_ADDRESS}")),
    ("openclaw-telemetry-exporter.service",
     ("--host ${OPENCLAW_EXPORTER_ADDRESS}", "--port ${OPENCLAW_EXPORTER_PORT}")),
])
def test_service_flags_come_from_the_environment_file(service: str, flags: tuple[str, ...]
                                                      ) -> None:
    settings = unit_settings(SYSTEMD / service)
    (command,) = settings["ExecStart"]
    used = set(re.findall(r"\$\{(\w+)\}", command))
    defaults = dict(value.split("=", 1) for value in settings["Environment"])
    assert used <= environment_file().keys()
    assert used <= defaults.keys()
    assert {key: environment_file()[key] for key in used} == {key: defaults[key] for key in used}
    for flag in flags:
        assert flag in command


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    # verify checks that ExecStart's program exists: point the install dir at a temp copy.
    install = tmp_path / "opt"
    (install / ".venv" / "bin").mkdir(parents=True)
    (install / ".venv" / "bin" / "python").symlink_to(sys.executable)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNITS:
        (units / unit.name).write_text(unit.read_text().replace(INSTALL_DIR, str(install)))
    options = ["--man=no"]
    if "--recursive-errors" in run(analyze, "--help").stdout:
        options.append("--recursive-errors=no")  # judge these units, not the host's

    result = run(analyze, "verify", *options, *sorted(map(str, units.iterdir())))

    # Unknown keys and bad values are only warnings (exit 0): any output is a failure.
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert output == ""


def test_timer_starts_the_ingest_service_hourly() -> None:
    settings = unit_settings(SYSTEMD / "openclaw-telemetry-ingest.timer")
    assert settings["OnCalendar"] == ["hourly"]
    assert settings["Unit"] == ["openclaw-telemetry-ingest.service"]
    assert settings["Persistent"] == ["true"]


# --- environment file -------------------------------------------------------------------


def environment_file() -> dict[str, str]:
    return {key: value for key, (value,) in unit_settings(ENV_FILE).items()}


def test_environment_file_is_plain_key_value_lines() -> None:
    """Read by systemd and sourced by /bin/sh (cron): only lines both read the same way."""
    for line in ENV_FILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[\w./:@+-]+", line), line


def test_environment_file_reads_the_same_in_sh() -> None:
    script = f'set -a; . "{ENV_FILE}"; env'
    result = run("sh", "-c", script)
    assert result.returncode == 0, result.stderr
    shell = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert {key: shell.get(key) for key in environment_file()} == environment_file()


def test_environment_file_settings() -> None:
    settings = environment_file()
    assert {"OPENCLAW_SESSIONS_DIR", "OPENCLAW_TELEMETRY_DB"} <= settings.keys()
    assert settings["OPENCLAW_TELEMETRY_DB"].startswith(f"{STATE_DIR}/")
    assert settings["OPENCLAW_DASHBOARD_ADDRESS"] == "127.0.0.1"
    assert settings["OPENCLAW_EXPORTER_ADDRESS"] == "127.0.0.1"
    assert not [key for key in settings if re.search("PASSWORD|SECRET|TOKEN|API_KEY", key)]


def test_nginx_site_matches_the_dashboard_settings() -> None:
    settings = environment_file()
    site = SITE.read_text()
    assert f"server 127.0.0.1:{settings['OPENCLAW_DASHBOARD_PORT']};" in site
    assert f"location /{settings['OPENCLAW_DASHBOARD_BASE_PATH']}/ {{" in site


# --- cron -------------------------------------------------------------------------------

CRON_FIELD = re.compile(r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*")


def cron_entries() -> list[tuple[list[str], str]]:
    """(five time fields, command) per job line; comments and VAR=value lines skipped."""
    entries = []
    for line in CRON.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=", line):
            continue
        *fields, command = line.split(maxsplit=5)
        entries.append((fields, command))
    return entries


def test_cron_line_parses() -> None:
    ((fields, command),) = cron_entries()
    assert len(fields) == 5
    assert all(CRON_FIELD.fullmatch(field) for field in fields), fields
    minute, hour, day, month, weekday = fields
    assert minute.isdigit() and 0 <= int(minute) <= 59
    assert [hour, day, month, weekday] == ["*", "*", "*", "*"], "hourly"
    assert "%" not in command, "cron turns % into a newline"
    assert run("sh", "-n", "-c", command).returncode == 0


def test_cron_line_locks_and_runs_quietly_with_the_venv_python() -> None:
    ((_, command),) = cron_entries()
    words = shlex.split(command)
    assert words[:3] == ["flock", "-n", f"{STATE_DIR}/cron.lock"]
    inner = words[words.index("-c") + 1]
    assert run("sh", "-n", "-c", inner).returncode == 0
    assert f". {INSTALLED_ENV_FILE}" in inner
    assert f"exec {INSTALL_DIR}/.venv/bin/python {INSTALL_DIR}/session_parser.py -q" in inner


# --- README -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted(path for path in DEPLOY.rglob("*") if path.is_file() and path.name != "README.md"),
    ids=lambda path: path.name,
)
def test_readme_covers(path: Path) -> None:
    assert path.name in (DEPLOY.parent / "README.md").read_text()
