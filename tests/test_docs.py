"""The README documents every option and setting of the commands (design.md §7)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import query
from telemetry_db import build, call, session, today_before, tool

from openclaw_telemetry import config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_ingest_option_is_in_the_readme() -> None:
    options = [s for action in config.parser()._actions for s in action.option_strings
               if s.startswith("--") and s not in ("--help", "--version")]
    assert options
    missing = [o for o in options if f"`{o}" not in README]
    assert missing == []


def test_every_alerts_option_is_in_the_readme() -> None:
    from openclaw_telemetry.alert_cli import parser
    from openclaw_telemetry.config import ENV_ALERTS

    options = [s for action in parser()._actions for s in action.option_strings
               if s.startswith("--") and s != "--help"]
    assert [o for o in options if f"`{o}" not in README and f"[{o}" not in README] == []
    assert ENV_ALERTS in README


def test_every_environment_setting_is_in_the_readme() -> None:
    for name in (config.ENV_SESSIONS_DIR, config.ENV_DB, config.ENV_CONFIG,
                 "OPENCLAW_STATE_DIR", "OPENCLAW_HOME", "OPENCLAW_TEST_PG_URL",
                 config.ENV_REPLAY, config.ENV_REPLAY_REMOTE):
        assert name in README, name
    for option in ("--replay", "--replay-remote"):
        assert f"`{option}" in README, option


def test_readme_names_the_two_commands_and_ci_runs_the_test_one() -> None:
    assert "./start.sh" in README and "scripts/test.sh" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci


def test_every_exporter_option_and_metric_is_in_the_readme() -> None:
    from openclaw_telemetry.prometheus import CALL_MEASURES, RECENT, parser

    options = [s for action in parser()._actions for s in action.option_strings
               if s.startswith("--") and s != "--help"]
    assert [o for o in options if f"`{o}" not in README and f"[{o}" not in README] == []
    assert [name for name, _, _ in CALL_MEASURES if f"`{name}`" not in README] == []
    assert f"`{RECENT}" in README


def code_in(text: str, *, inline: bool) -> list[str]:
    """The lines of fenced code blocks (and, with `inline`, the inline code spans)."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    lines = [line for block in fenced for line in block.splitlines()]
    if inline:
        prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
        lines += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return lines


COMMAND = re.compile(r"(?<![\w./-])(python3?|streamlit|pip3?|pytest|ruff|mypy)\s+\S+")
VENV_COMMAND = re.compile(r"(?<![\w/-])\.venv/bin/([\w-]+)(?: -m \w+)?(?: run)? ([\w/.-]+\.py)?")


@pytest.mark.parametrize("name, inline", [("README.md", True), ("bench/README.md", False),
                                          ("deploy/README.md", False)])
def test_commands_run_as_written(name: str, inline: bool) -> None:
    """A stock Debian has no `python`, and only .venv has the requirements: every command
    runs the virtual environment's programs, which exist, on scripts that exist."""
    root = Path(__file__).resolve().parents[1]
    lines = [line for line in code_in((root / name).read_text(), inline=inline)
             if "apt-get install" not in line]
    bare = [line for line in lines if COMMAND.search(line)]
    assert bare == []
    venv_bin = Path(sys.executable).parent
    for line in lines:
        for program, script in VENV_COMMAND.findall(line):
            assert (venv_bin / program).exists(), line
            assert not script or (root / script).is_file(), line


def test_streamlit_listens_on_this_machine_only_by_default() -> None:
    """`streamlit run dashboard.py` as the README shows it (start.sh passes --host itself)."""
    settings = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" /
                              "config.toml").read_text())
    assert settings["server"]["address"] == "127.0.0.1"


def test_every_format_section_cited_is_in_docs() -> None:
    """`format §4.5` in the code (or `§4.5` beside it; `design.md §N` is the house style)
    points at a heading of docs/openclaw-format.md, so a citation can be followed."""
    root = Path(__file__).resolve().parents[1]
    docs = (root / "docs" / "openclaw-format.md").read_text()
    headings = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)*)\.? ", docs, re.MULTILINE))
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root,
                            capture_output=True, check=True).stdout
    cited: dict[str, set[str]] = {}
    for raw in filter(None, listed.split(b"\0")):
        path = root / os.fsdecode(raw)
        if path.suffix not in {".py", ".md", ".sh", ".sql", ".toml", ".txt"} or not path.is_file():
            continue
        for section in re.findall(r"(?<!design\.md )§ ?(\d+(?:\.\d+)*)", path.read_text()):
            cited.setdefault(section, set()).add(str(path.relative_to(root)))
    assert len(cited) > 10
    assert {section: sorted(paths) for section, paths in cited.items()
            if section not in headings} == {}


@pytest.mark.parametrize("module", ["export_cli", "report_cli"])
def test_every_export_and_report_option_is_in_the_readme(module: str) -> None:
    import importlib

    parser = importlib.import_module(f"openclaw_telemetry.{module}").parser
    options = [s for action in parser()._actions for s in action.option_strings
               if s.startswith("--") and s != "--help"]
    assert options
    assert [o for o in options if f"`{o}" not in README and f"[{o}" not in README] == []


def dashboard_pages() -> set[str]:
    """The titles of the dashboards' pages, as their sidebar and View picker show them."""
    from openclaw_telemetry.ui.app import ENHANCED, VIEWS  # loads streamlit: only here

    return {title for _, title, _ in ENHANCED} | {title for title, _ in VIEWS.values()}


# "the Sessions page", "the enhanced dashboard's Alerts and Budgets pages": the names
PAGE_MENTION = re.compile(r"(?:\b[Tt]he |dashboard's )((?:[A-Z]|(?<=dashboard's ))"
                          r"[^.;:()`]*?) pages?\b")


def test_the_readme_lists_the_dashboards_pages_by_their_titles() -> None:
    section = README[README.index("\n## The dashboards\n"):]
    section = section[:section.index("\n## ", 5)]
    assert set(re.findall(r"^- \*\*(.+?)\*\* — ", section, re.MULTILINE)) == dashboard_pages()


def test_pages_named_in_the_readme_and_deploy_exist() -> None:
    """A page named in prose ("the dashboard's Sessions and Cron & sub-agents pages") is
    named by its title, so a reader finds it in the sidebar."""
    root = Path(__file__).resolve().parents[1]
    pages = dashboard_pages()
    named = {}
    for path in [root / "README.md", *sorted((root / "deploy").rglob("*"))]:
        if path.is_file():
            text = " ".join(path.read_text().replace("**", "").split())
            for phrase in PAGE_MENTION.findall(text):
                named.update({name: path.name for name in re.split(r", | and ", phrase)})
    assert named and {name: where for name, where in named.items() if name not in pages} == {}


def readme_sql(dialect: str) -> list[str]:
    """The statements of the README's SQL block for `dialect` (SQLite's says date('now'),
    PostgreSQL's AT TIME ZONE)."""
    mark = "date('now')" if dialect == "sqlite" else "AT TIME ZONE"
    (block,) = [block for block in re.findall(r"^```sql\n(.*?)^```", README,
                                              re.MULTILINE | re.DOTALL) if mark in block]
    return [statement.strip() for statement in block.split(";") if statement.strip()]


def test_the_readme_sql_answers_on_its_backend(db_url: str) -> None:
    """Each statement runs on its backend, and 'today's cost by model' counts the calls
    of today (UTC), not the sessions started today (which an earlier example did)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    first = call("s", today_before(now, timedelta(minutes=5)), 0.25, model="m-today")
    yesterday = call("s", now - timedelta(days=1, hours=1), 4.0, model="m-today")
    build(db_url, [session("s", start_time=now - timedelta(days=1, hours=1))],
          [first, yesterday], [tool(first, "read")]).dispose()
    statements = readme_sql("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert len(statements) == 3
    by_model, expensive, tools = (query(db_url, statement) for statement in statements)
    assert by_model == [("m-today", 0.25)]
    assert expensive == [("s", 4.25)]
    assert [(name, calls) for _, name, calls in tools] == [("read", 1)]
