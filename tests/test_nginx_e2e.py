"""The dashboard behind the shipped nginx site, for real, in a real browser.

Streamlit serves dashboard.py under /openclaw (`server.baseUrlPath`) on a free loopback
port, over a database ingested from a copy of the openclaw-2026.7.1 sample. The nginx
site from deploy/ is rendered by test_deploy.render_site (loopback ports, a self-signed
certificate, an htpasswd file) and run by a real nginx. Then: without credentials (or with
a wrong password) every path is 401; with them chromium, driven by Playwright, loads
/openclaw/, the WebSocket through nginx connects and the page shows the sample's KPIs.
A screenshot goes to test-artifacts/nginx-dashboard.png.

Needs nginx, openssl, /usr/bin/chromium (Debian packages; scripts/test.sh installs them
as root) and Playwright's Python package (requirements-dev.txt; never `playwright
install`: the browser is Debian's). Missing ones skip, or fail under CI.
"""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_sample, ingest
from test_deploy import make_certificate, make_htpasswd, nginx_main_conf, render_site, require_tool
from test_pg_server import running_in_ci

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
BASE_PATH = "openclaw"
USER, PASSWORD = "telemetry", "correct horse battery"
SAMPLE = "openclaw-2026.7.1"
SAMPLE_LLM_CALLS = "65"
SCREENSHOT = ROOT / "test-artifacts" / "nginx-dashboard.png"
STARTUP_SECONDS = 60


def missing(reason: str) -> None:
    if running_in_ci():
        pytest.fail(f"{reason}; under CI it must be there")
    pytest.skip(reason)


def sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed (pip install playwright==1.65.2; the browser is "
                "Debian's chromium, never `playwright install`)")
    return sync_playwright()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}:\n"
                        f"{log.read_text(errors='replace')}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after {STARTUP_SECONDS} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def streamlit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """dashboard.py under /openclaw on a free loopback port; yields the port."""
    require_tool("nginx")  # no Streamlit to start when the test cannot run
    tmp_path = tmp_path_factory.mktemp("streamlit")
    state = tmp_path / SAMPLE
    copy_sample(SAMPLE, state)
    db = tmp_path / "telemetry.db"
    ran = ingest(state, str(db), "-q")
    assert ran.code == 0, ran.err
    home = tmp_path / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("OPENCLAW_", "STREAMLIT_"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    port = free_port()
    log = tmp_path / "streamlit.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py",
             "--server.address", "127.0.0.1", "--server.port", str(port),
             "--server.baseUrlPath", BASE_PATH, "--server.headless", "true",
             "--server.enableXsrfProtection", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", "--", "--db", str(db)],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, process, log)
        yield port
    finally:
        stop(process)


@dataclass(frozen=True)
class Site:
    http_port: int
    https_port: int

    def url(self, path: str = f"/{BASE_PATH}/") -> str:
        return f"https://127.0.0.1:{self.https_port}{path}"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, streamlit: int) -> Iterator[Site]:
    """The shipped site in front of that Streamlit, with basic auth and TLS, on loopback."""
    binary = require_tool("nginx")
    prefix = tmp_path_factory.mktemp("nginx")
    certificate, key = make_certificate(prefix)
    htpasswd = make_htpasswd(prefix, USER, PASSWORD)
    site = Site(free_port(), free_port())
    conf = nginx_main_conf(prefix, render_site(
        prefix, upstream_port=streamlit, http_port=site.http_port, https_port=site.https_port,
        htpasswd=htpasswd, certificate=certificate, key=key))
    log = prefix / "error.log"
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-e", str(log), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(site.https_port, process, log)
        yield site
    finally:
        stop(process)


def tls() -> ssl.SSLContext:
    """The test certificate is self-signed: accept it (loopback only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def fetch(url: str, password: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url)
    if password is not None:
        token = base64.b64encode(f"{USER}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10, context=tls()) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


@pytest.mark.parametrize("password", [None, "wrong password"])
@pytest.mark.parametrize("path", ["/", f"/{BASE_PATH}/", f"/{BASE_PATH}/_stcore/health",
                                  f"/{BASE_PATH}/_stcore/stream"])
def test_without_the_password_everything_is_401(nginx: Site, path: str,
                                                password: str | None) -> None:
    status, headers, body = fetch(nginx.url(path), password)

    assert status == 401
    assert headers.get("WWW-Authenticate") == 'Basic realm="OpenClaw Telemetry"'
    assert "streamlit" not in body.lower()


def test_plain_http_redirects_to_https(nginx: Site) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)
    try:
        connection.request("GET", f"/{BASE_PATH}/")
        response = connection.getresponse()
    finally:
        connection.close()

    assert response.status == 301
    assert response.getheader("Location") == nginx.url()


def test_health_through_nginx_with_the_password(nginx: Site) -> None:
    assert fetch(nginx.url(f"/{BASE_PATH}/_stcore/health"), PASSWORD)[::2] == (200, "ok")


def test_dashboard_loads_through_nginx_in_chromium(nginx: Site) -> None:
    if not CHROMIUM.is_file():
        missing(f"{CHROMIUM} is missing (apt-get install chromium; scripts/test.sh does it)")
    sockets: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            context = browser.new_context(
                http_credentials={"username": USER, "password": PASSWORD},
                ignore_https_errors=True, viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            page.on("websocket", lambda socket: sockets.append(socket.url))

            response = page.goto(nginx.url(), wait_until="domcontentloaded")
            assert response is not None and response.status == 200
            page.wait_for_selector('[data-testid="stApp"]', timeout=30_000)
            # KPIs only appear after the script ran: the WebSocket through nginx works.
            metric = page.locator('[data-testid="stMetric"]', has_text="LLM calls").first
            metric.wait_for(timeout=60_000)
            value = metric.locator('[data-testid="stMetricValue"]').inner_text()
            page.wait_for_load_state("networkidle")
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            assert value.strip() == SAMPLE_LLM_CALLS
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Connection error").count() == 0
            assert f"wss://127.0.0.1:{nginx.https_port}/{BASE_PATH}/_stcore/stream" in sockets
        finally:
            browser.close()
