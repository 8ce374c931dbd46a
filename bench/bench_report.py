"""The benchmark report: rows, checks, the machine description and markdown rendering."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class Row:
    scenario: str
    corpus: str
    measured: str
    reference: str = "-"
    ratio: str = "-"
    target: str = "-"
    result: str = "info"


@dataclass(slots=True)
class Report:
    rows: list[Row] = field(default_factory=list)
    checks: list[list[str]] = field(default_factory=list)
    corpora: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verdict(value: float | None, limit: float) -> str:
    """PASS when the measured value is within its target."""
    if value is None:
        return "n/a"
    return "PASS" if value <= limit else "MISS"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def check_row(corpus: str, source: str, totals: dict[str, Any], check: str) -> list[str]:
    """One line of the totals table."""
    if "error" in totals:
        return [corpus, source, totals["error"][:80], "", "", "", "", "", check]
    counts = [_count(totals[key]) for key in ("llm_calls", "input_tokens", "output_tokens",
                                              "cache_read_tokens", "cache_write_tokens")]
    cost = totals["cost"]
    return [corpus, source, *counts, f"{cost:.4f}" if isinstance(cost, float) else str(cost),
            check]


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def machine_info() -> list[tuple[str, str]]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    ram = "unknown"
    with contextlib.suppress(OSError, StopIteration):
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        ram = f"{kib / 1024 / 1024:.1f} GiB"
    return [("CPU", cpu), ("Cores", str(os.cpu_count())), ("RAM", ram),
            ("Python", platform.python_version()), ("OS", platform.platform()),
            ("Load average (1/5/15 min, at the end)",
             " / ".join(f"{load:.2f}" for load in os.getloadavg())),
            ("Repository", _git_head())]


def _git_head() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True, check=False)
    except OSError:
        return "unknown"
    return out.stdout.strip() or "no commit yet"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render(report: Report, machine: list[tuple[str, str]], command: str, runs: int) -> str:
    parts = ["## OpenClaw Telemetry ingestion benchmark", "",
             table(["Machine", ""], [[k, v] for k, v in machine]), "",
             f"Command: `{command}` - median of {runs} run(s), warm page cache.", "",
             table(["Corpus", "Era", "Transcript files", "Transcript MB", "Database MB",
                    "LLM calls", "Largest file MB"], report.corpora), "",
             table(["Scenario", "Corpus", "Measured", "Reference", "Ratio", "Target",
                    "Result"],
                   [[r.scenario, r.corpus, r.measured, r.reference, r.ratio, r.target,
                     r.result] for r in report.rows]), "",
             "### Totals check (`SELECT count(*), sum(...) FROM messages` vs expected)", "",
             table(["Corpus", "Source", "Calls", "Input", "Output", "Cache read",
                    "Cache write", "Cost", "Check"], report.checks)]
    if report.notes:
        parts += ["", *[f"- {note}" for note in report.notes]]
    return "\n".join(parts) + "\n"
