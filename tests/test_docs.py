"""The README documents every option and setting of the commands (design.md §7)."""

from __future__ import annotations

from pathlib import Path

from openclaw_telemetry import config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_ingest_option_is_in_the_readme() -> None:
    options = [s for action in config.parser()._actions for s in action.option_strings
               if s.startswith("--") and s not in ("--help", "--version")]
    assert options
    missing = [o for o in options if f"`{o}" not in README]
    assert missing == []


def test_every_alerts_option_is_in_the_readme() -> None:
    from openclaw_telemetry.alert_check import parser
    from openclaw_telemetry.config import ENV_ALERTS

    options = [s for action in parser()._actions for s in action.option_strings
               if s.startswith("--") and s != "--help"]
    assert [o for o in options if f"`{o}" not in README and f"[{o}" not in README] == []
    assert ENV_ALERTS in README


def test_every_environment_setting_is_in_the_readme() -> None:
    for name in (config.ENV_SESSIONS_DIR, config.ENV_DB, config.ENV_CONFIG,
                 "OPENCLAW_STATE_DIR", "OPENCLAW_HOME", "OPENCLAW_TEST_PG_URL"):
        assert name in README, name


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
