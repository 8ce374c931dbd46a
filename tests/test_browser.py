"""Both dashboards served by `streamlit run` and driven by a real chromium (Playwright).

Uses Debian's `/usr/bin/chromium` (never a downloaded browser). Outside CI the test skips
with the reason when chromium or Playwright is missing; under CI=true it fails instead.
Full-page screenshots of every page land in `test-artifacts/` at the repository root.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_sample, ingest, sample_figures
from served import ARTIFACTS, HEADING, READY, chromium, serve, stop
from sqlalchemy import create_engine, text

from openclaw_telemetry.store import open_db
from openclaw_telemetry.ui import format as fmt

VERSION = "openclaw-2026.7.1"
LABEL = "<b>bold</b> **stars**"
ENHANCED_PAGES = ["", "timeline", "models", "tools", "sessions", "automation", "statistics",
                  "alert_center"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("browser")
    copy_sample(VERSION, root / "state")
    db = root / "telemetry.db"
    assert ingest(root / "state", str(db)).code == 0
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        session_id = conn.execute(text("SELECT session_id FROM sessions WHERE kind = 'main' "
                                       "ORDER BY total_cost DESC LIMIT 1")).scalar_one()
        conn.execute(text("UPDATE sessions SET label = :l WHERE session_id = :s"),
                     {"l": LABEL, "s": session_id})
    engine.dispose()
    return db, str(session_id)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _open(page: Any, url: str, shot: str) -> None:
    page.goto(url)
    # "notRunning" holds before the first run too: the header proves the page ran
    page.wait_for_selector(HEADING, timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(1000)
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')"
                           "?.scrollHeight ?? 900")
    page.set_viewport_size({"width": 1400, "height": max(900, int(height) + 40)})
    page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def _kpis(page: Any) -> dict[str, str]:
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def _uneven_rows(page: Any) -> list[list[float]]:
    """The heights of KPI tiles standing side by side (same top), where they differ."""
    rows: dict[float, list[float]] = {}
    for box in (tile.bounding_box() for tile in page.locator('[data-testid="stMetric"]').all()):
        if box is not None:
            rows.setdefault(round(box["y"]), []).append(round(box["height"]))
    return [heights for heights in rows.values() if max(heights) - min(heights) > 1]


def _expected() -> dict[str, str]:
    want = sample_figures(VERSION)["total"]
    return {"Cost": fmt.money(want["cost"]), "LLM calls": f"{want['llm_calls']:,}",
            "Tool calls": f"{want['tool_calls']:,}",
            "Input tokens": f"{want['input']:,}", "Cache read": f"{want['cache_read']:,}"}


@pytest.mark.parametrize("script", ["dashboard.py", "dashboard_enhanced.py"])
def test_served_dashboard(script: str, database: tuple[Path, str], browser: Any,
                          tmp_path: Path) -> None:
    db, session_id = database
    proc, url = serve(script, db, tmp_path / "streamlit.log")
    name = "basic" if script == "dashboard.py" else "enhanced"
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900},
                                timezone_id="Europe/Berlin")
        _open(page, url, f"{name}-overview")
        shown = _kpis(page)
        for label, value in _expected().items():
            assert shown.get(label) == value, (label, shown)
        # dash15: the Sessions tile, the only one without a sparkline, was shorter
        assert not _uneven_rows(page), _uneven_rows(page)
        if name == "enhanced":
            for path in ENHANCED_PAGES[1:]:
                _open(page, f"{url}/{path}", f"{name}-{path}")
            _open(page, f"{url}/sessions?session={session_id}", f"{name}-session-drilldown")
            body = page.inner_text('[data-testid="stMain"]')
            assert LABEL in body
            assert page.locator('[data-testid="stMain"] b', has_text="bold").count() == 0
        page.close()
    finally:
        stop(proc)


def test_a_hint_page_has_no_menu_of_pages(database: tuple[Path, str], browser: Any,
                                          tmp_path: Path) -> None:
    """The enhanced dashboard on a database without calls showed its hint beside a menu of
    ten pages, each of which showed the same hint; the menu comes with the data."""
    empty = tmp_path / "empty.db"
    open_db(f"sqlite:///{empty}").dispose()
    for db, menu in ((empty, 0), (database[0], 1)):
        proc, url = serve("dashboard_enhanced.py", db, tmp_path / "streamlit.log")
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_selector('[data-testid="stMarkdownContainer"]', timeout=60_000)
            page.wait_for_selector(READY, timeout=60_000)
            page.wait_for_timeout(1000)
            assert page.locator('[data-testid="stException"]').count() == 0
            if not menu:
                assert "holds no LLM calls" in page.inner_text("body")
            assert page.locator('[data-testid="stSidebarNav"]').count() == menu
            page.close()
        finally:
            stop(proc)
