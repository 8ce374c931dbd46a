"""What a table shows without scrolling sideways, measured where it is drawn (review 18):
the Sessions table at 1440 px beside the sidebar, the Cron jobs table on a phone (390 px),
over the demo's data (long keys, session ids as names, millions of tokens).

A table is a canvas (glide-data-grid). Its accessible header row names the columns that
are in view, wholly or in part; on the canvas, each column wholly in view ends in a
vertical grid line the height of the table. Same harness as `test_browser.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import ingest
from served import HEADING, READY, chromium, serve, stop

from openclaw_telemetry.demo.build import build_demo

pytestmark = pytest.mark.browser

# x of every vertical line of one colour (not the background) from top to bottom of the
# canvas, and the names of the columns in view
_LINES = """grid => {
  const canvas = grid.querySelector('canvas');
  const {width, height} = canvas;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const at = (x, y) => data.slice((y * width + x) * 4, (y * width + x) * 4 + 3).join();
  const lines = [];
  for (let x = 0; x < width; x++) {
    const top = at(x, 2);
    let y = 3;
    while (y < height - 2 && at(x, y) === top) y++;
    if (y === height - 2 && top !== '255,255,255') lines.push(x);
  }
  return {lines, heads: Array.from(grid.querySelectorAll('th')).map(th => th.innerText)};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("tables")
    build_demo(root / "state", f"sqlite:///{root / 'demo.db'}", now=datetime.now(UTC))
    proc, url = serve("dashboard_enhanced.py", root / "demo.db", root / "streamlit.log")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def served_two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo on two gateways: its state ingested again as gateway `office-mini`."""
    root = tmp_path_factory.mktemp("tables-two")
    db = f"sqlite:///{root / 'demo.db'}"
    build_demo(root / "state", db, now=datetime.now(UTC))
    assert ingest(root / "state", db, "--gateway", "office-mini").code == 0
    proc, url = serve("dashboard_enhanced.py", root / "demo.db", root / "streamlit.log")
    try:
        yield url
    finally:
        stop(proc)


def wholly_shown(browser: Any, url: str, width: int, *, markers: int = 0,
                 nth: int = 0) -> list[str]:
    """The columns of the page's `nth` table (0: the first) wholly in view at `width` px
    (`markers`: the row-selection columns before them, which have a line but no name)."""
    page = browser.new_page(viewport={"width": width, "height": 1000})
    try:
        page.goto(url)
        page.wait_for_selector(HEADING, timeout=60_000)
        page.wait_for_selector(READY, timeout=60_000)
        grid = page.locator('[data-testid="stDataFrame"]').nth(nth)
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        drawn = grid.evaluate(_LINES)
    finally:
        page.close()
    return list(drawn["heads"][:len(drawn["lines"]) - markers])


def test_the_sessions_table_shows_what_is_read_at_a_glance_at_1440_px(
        browser: Any, served: str) -> None:
    """Cost, the name (a session id whole), what OpenClaw kept, start, main model and the
    figures; before, the view ended in Main model, half drawn."""
    shown = wholly_shown(browser, f"{served}/sessions?range=All+time", 1440, markers=1)
    assert shown == ["Total", "Session", "Transcript", "Start", "Main model", "Calls",
                     "Errors", "Tools", "Tokens"]


def test_with_two_gateways_the_sessions_table_still_shows_its_figures_at_1440_px(
        browser: Any, served_two: str) -> None:
    """The Gateway column comes second; before, it pushed Tokens out of view. What
    OpenClaw kept of a transcript (mostly "—") then waits after the figures."""
    shown = wholly_shown(browser, f"{served_two}/sessions?range=All+time", 1440, markers=1)
    assert shown == ["Total", "Gateway", "Session", "Start", "Main model", "Calls", "Errors",
                     "Tools", "Tokens"]


def test_a_phone_shows_each_cron_jobs_cost_runs_and_cost_per_run(
        browser: Any, served: str) -> None:
    """Before, a job's name as wide as its text left room for Cost, Job, Runs and half of
    'Avg $/run'."""
    shown = wholly_shown(browser, f"{served}/automation?range=All+time", 390)
    assert shown[:5] == ["Cost", "Job", "Runs", "Avg/run", "Max/run"]


def test_the_sub_agents_table_shows_its_figures_at_1440_px(browser: Any, served: str) -> None:
    """Review 19: Total $ and Share, after the spawning session's name (a key and a start),
    were cut at 1440 px; the figures now come before it."""
    # (tables: cron jobs, latest runs (folded: not drawn), sub-agents)
    shown = wholly_shown(browser, f"{served}/automation?range=All+time", 1440, nth=2)
    assert shown[:5] == ["Session", "Sub-agent $", "Total $", "Share", "Spawned by"]


def test_a_column_in_part_in_view_is_not_counted(browser: Any, served: str) -> None:
    """The measure itself: on a phone the Sessions table shows Total and part of a name."""
    shown = wholly_shown(browser, f"{served}/sessions?range=All+time", 390, markers=1)
    assert shown == ["Total"]
