"""The session explorer and the Comparisons page in a real chromium (issue #13 item 5):
the deep link `?session=<id>` (and `&section=…`) opens the session, its markers, its
sub-agent tree with links that open the children, at a desktop and a phone width.

Same harness as `test_browser.py` (Debian's /usr/bin/chromium, never a downloaded
browser; skips outside CI when missing). Screenshots land in `test-artifacts/`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import ingest
from served import ARTIFACTS, HEADING, READY, chromium, serve, stop
from sqlalchemy import create_engine, text

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SID = "turning-points"
CHILDREN = (("child-a", SID, "research <i>sub</i>", 0.40), ("child-b", SID, None, 0.10),
            ("grandchild", "child-a", "deep dive", 0.25))
WIDTHS = {"desktop": 1440, "phone": 390}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture with every marker kind, and three sub-agent sessions below it."""
    root = tmp_path_factory.mktemp("explorer")
    sessions = root / "state" / "agents" / "main" / "sessions"
    sessions.mkdir(parents=True)
    shutil.copy(FIXTURES / "turning_points.jsonl", sessions / "turning_points.jsonl")
    db = root / "telemetry.db"
    assert ingest(root / "state", str(db), "-q").code == 0
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        start, gateway = conn.execute(text("SELECT start_time, gateway FROM sessions "
                                           "WHERE session_id = :s"), {"s": SID}).one()
        for sid, parent, label, cost in CHILDREN:
            conn.execute(text(
                "INSERT INTO sessions (session_id, gateway, agent_id, session_key, kind, "
                "start_time, end_time, parent_session_id, label, total_messages, total_cost) "
                "VALUES (:s, :g, 'main', :k, 'subagent', :t, :t, :p, :l, 3, :c)"),
                {"s": sid, "g": gateway, "k": f"agent:main:subagent:{sid}", "t": start,
                 "p": parent, "l": label, "c": cost})
    engine.dispose()
    return db


def _open(page: Any, url: str, shot: str | None = None) -> str:
    page.goto(url)
    # "notRunning" holds before the first run too: the header proves the page ran
    page.wait_for_selector(HEADING, timeout=60_000)
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_timeout(1000)
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")
    if shot:  # the page scrolls inside stMain: grow the window to show all of it
        width = page.viewport_size["width"]
        height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')"
                               "?.scrollHeight ?? 1000")
        page.set_viewport_size({"width": width, "height": max(1000, int(height) + 40)})
        page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
        page.set_viewport_size({"width": width, "height": 1000})
    return str(page.inner_text('[data-testid="stMain"]'))


@pytest.mark.parametrize("device", list(WIDTHS))
def test_session_deep_link_and_comparisons(device: str, database: Path, browser: Any,
                                           tmp_path: Path) -> None:
    proc, url = serve("dashboard_enhanced.py", database, tmp_path / "streamlit.log")
    try:
        page = browser.new_page(viewport={"width": WIDTHS[device], "height": 1000},
                                timezone_id="UTC")
        body = _open(page, f"{url}/sessions?session={SID}", f"explorer-{device}-session")
        assert "What drove the cost" in body
        assert "thinking levels: low, high" in body
        assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1
        assert "None" not in body.split()
        body = _open(page, f"{url}/sessions?session={SID}&section=tree",
                     f"explorer-{device}-subagents")
        assert "This session spawned no sub-agents" not in body
        assert page.locator('[data-testid="stDataFrame"]').count() >= 2
        body = _open(page, f"{url}/sessions?session={quote('child-a')}",
                     f"explorer-{device}-child")
        assert "research <i>sub</i>" in body  # the label, escaped, not rendered
        assert page.locator('[data-testid="stMain"] i', has_text="sub").count() == 0
        assert page.get_by_role("link", name="Parent session").count() == 1
        body = _open(page, f"{url}/compare?range=All+time", f"explorer-{device}-compare")
        assert "claude-opus-4-1" in body
        assert "Cost by thinking level" in body
        page.close()
    finally:
        stop(proc)
