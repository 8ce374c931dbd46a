"""A dashboard served by `streamlit run` and a real chromium to look at it (the browser tests).

Debian's `/usr/bin/chromium` only, never a downloaded browser. Without chromium or
Playwright the browser tests skip with the reason; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from test_pg_server import running_in_ci

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
HEADING = '[data-testid="stMain"] [data-testid="stHeading"]'


def require_browser() -> Any:
    """Playwright's sync API, or a skip (a failure under CI) saying what is missing."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    try:
        from playwright import sync_api
    except ImportError:
        problem = problem or "Playwright is not installed (pip install playwright)"
        sync_api = None
    if problem:
        if running_in_ci():
            pytest.fail(f"browser test cannot run under CI: {problem}")
        pytest.skip(f"browser test skipped: {problem}")
    return sync_api


@contextmanager
def chromium() -> Iterator[Any]:
    sync_api = require_browser()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(script: str, db: Path | str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`streamlit run script -- --db DB` on a free port of 127.0.0.1, once healthy."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "OPENCLAW_TELEMETRY_DB"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--", "--db", str(db)],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"streamlit did not become healthy: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)
