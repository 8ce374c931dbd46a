"""A clone without shared/samples beside it still collects every test module: the samples
are read only by the tests that need them (conftest.samples_dir), which then skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_clone_without_the_samples_collects_every_module(tmp_path: Path) -> None:
    clone = tmp_path / "openclaw-telemetry"  # nothing at ../shared/samples
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout
    for raw in filter(None, listed.split(b"\0")):
        relative = Path(os.fsdecode(raw))
        if (ROOT / relative).is_file() and relative.parts[0] != ".venv":
            (clone / relative).parent.mkdir(parents=True, exist_ok=True)
            (clone / relative).write_bytes((ROOT / relative).read_bytes())
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["OPENCLAW_SAMPLES"] = str(tmp_path / "no-samples")

    ran = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                          "no:cacheprovider"], cwd=clone, env=env, capture_output=True,
                         text=True, timeout=300, check=False)

    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    collected = {line.split("::")[0] for line in ran.stdout.splitlines() if "::" in line}
    assert collected == {f"tests/{path.name}" for path in (ROOT / "tests").glob("test_*.py")}
