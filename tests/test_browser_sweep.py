"""The sweep's real-browser subset (#11 item 4): every page of the enhanced dashboard and
every view of the basic one, served by `streamlit run` on the busy install of
tests/installs.py and drawn by chromium at 1440 px (and each enhanced page and the basic
dashboard's first view at 390 px, a phone), plus a few filter states only a screen shows
wrong (Today, an empty range, a second range for the colours, a session drill-down).

Each shot must show the page's header and no exception: no Streamlit exception box, no
"Traceback", no exception name (`KeyError`, `ValueError` …). Screenshots land in
`test-artifacts/sweep-*.png` for a person to look at: the whole page (on a phone with the
sidebar closed) and, on a phone, `…-first.png`, the first screen as it opens.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import installs
import pytest
from served import ARTIFACTS, HEADING, READY, chromium, serve, stop

from openclaw_telemetry.ui import app

NOW = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
ZONE = installs.noon_zone(NOW)
SIZES = {"1440": (1440, 900), "390": (390, 844)}
ENHANCED = ["" if i == 0 else name for i, (name, _, _) in enumerate(app.ENHANCED)]
VIEWS = {"sessions": "Sessions", "models": "Models", "tools": "Tools",
         "automation": "Cron & sub-agents"}
EXCEPTION_TEXT = re.compile(r"Traceback|\b\w+(Error|Exception)\b")
pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Shot:
    dashboard: str  # "basic" or "enhanced"
    page: str  # enhanced: the page's URL path ("" = Overview); basic: a View value
    size: str
    query: str = ""
    label: str = ""  # what the query shows, for the file name

    @property
    def name(self) -> str:
        tail = f"-{self.label}" if self.label else ""
        return f"sweep-{self.dashboard}-{self.page or 'overview'}{tail}-{self.size}"


SHOTS = [
    *(Shot("enhanced", page, size) for page in ENHANCED for size in SIZES),
    *(Shot("basic", view, "1440") for view in VIEWS),
    Shot("basic", "sessions", "390"),
    Shot("enhanced", "", "1440", "range=Today", "today"),
    Shot("enhanced", "", "1440", "range=Last+7+days", "7d"),
    Shot("enhanced", "", "1440", "range=Custom+dates&from=2019-12-30&to=2019-12-31", "empty"),
    Shot("enhanced", "", "1440", "agent=ops", "ops"),
    Shot("enhanced", "sessions", "1440", "session=first", "drilldown"),
    Shot("enhanced", "automation", "1440", "agent=ops", "ops"),
]


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("browser-sweep") / "busy.db"
    now = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    installs.write(f"sqlite:///{db}", installs.busy(now), now=now).dispose()
    return db


@pytest.fixture(scope="module")
def urls(busy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    logs = tmp_path_factory.mktemp("browser-sweep-logs")
    served = {name: serve(script, busy, logs / f"{name}.log")
              for name, script in (("basic", "dashboard.py"),
                                   ("enhanced", "dashboard_enhanced.py"))}
    try:
        yield {name: url for name, (_proc, url) in served.items()}
    finally:
        for proc, _url in served.values():
            stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _settle(page: Any) -> None:
    """Wait until the page's header is drawn, then until the script run ended (the app
    says "notRunning" also before its first run), and give Plotly time to draw."""
    page.wait_for_timeout(300)
    page.wait_for_selector(HEADING, timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(800)


def _first_session(db: Path) -> str:
    """`session=<id>` of the most expensive session: the link a table row opens."""
    with closing(sqlite3.connect(db)) as conn:
        (first,) = conn.execute("SELECT session_id FROM sessions "
                                "ORDER BY total_cost DESC LIMIT 1").fetchone()
    return f"session={first}"


def _full_page(page: Any, shot: Shot) -> None:
    """The whole main area: the window made as tall as its content."""
    width, height = SIZES[shot.size]
    full = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')"
                         "?.scrollHeight ?? 0")
    page.set_viewport_size({"width": width, "height": max(height, int(full) + 40)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{shot.name}.png"), full_page=True)


@pytest.mark.parametrize("shot", SHOTS, ids=lambda shot: shot.name)
def test_page_in_browser(shot: Shot, urls: dict[str, str], browser: Any, busy: Path) -> None:
    width, height = SIZES[shot.size]
    page = browser.new_page(viewport={"width": width, "height": height}, timezone_id=ZONE)
    try:
        url = urls[shot.dashboard]
        query = shot.query
        if query == "session=first":
            query = _first_session(busy)
        path = shot.page if shot.dashboard == "enhanced" else ""
        page.goto(f"{url}/{path}" + (f"?{query}" if query else ""))
        _settle(page)
        ARTIFACTS.mkdir(exist_ok=True)
        if shot.size == "390":  # the first screen as a phone shows it (sidebar closed)
            page.screenshot(path=str(ARTIFACTS / f"{shot.name}-first.png"))
            assert not page.locator('[data-testid="stSidebar"]').is_visible() or (
                page.locator('[data-testid="stSidebar"]').get_attribute("aria-expanded")
                == "false"), "the sidebar covers the phone's first screen"
        if shot.dashboard == "basic" and shot.page != "sessions":
            page.get_by_role("radio", name=VIEWS[shot.page], exact=True).click()
            _settle(page)
        _full_page(page, shot)
        body = page.inner_text("body")
        assert page.locator('[data-testid="stException"]').count() == 0, body[-3000:]
        assert not EXCEPTION_TEXT.search(body), EXCEPTION_TEXT.search(body)
    finally:
        page.close()
