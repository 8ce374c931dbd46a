"""Dashboard speed on a synthetic database of 1 million LLM calls.

Builds (or reuses) the database with `bench/synthetic_db.py`, then runs both Streamlit
apps in-process with `AppTest` and times, for every page with the range "All time":

  cold    first render with every Streamlit cache empty (a new server, or the first view
          after an ingest changed the data version);
  warm    first render of the page after another page already ran (the engine and the
          hourly roll-up are shared);
  refresh the page again with no new data (what auto-refresh costs);
  filter  re-render after a filter change not seen before (one model selected, then
          "Last 7 days"), the slower of the two.

Targets (issue 11): cold first render <= 1 s, filter change <= 0.5 s (issue 4 had 2 s and
1 s). Prints a Markdown table and the machine it ran on.

    .venv/bin/python bench/bench_dashboard.py [--calls 1000000] [--db PATH] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402, TID251 (the bench drives the apps with AppTest)
from streamlit.testing.v1 import AppTest  # noqa: E402, TID251
from synthetic_db import build  # noqa: E402 (bench/ is the script folder)

PAGES = ("overview", "timeline", "models", "tools", "sessions", "automation", "statistics",
         "alert_center")
BASIC_VIEWS = ("models", "tools", "sessions", "automation")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} CPUs, {memory:.0f} GiB RAM; {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version}, Streamlit {st.__version__}; load average {load}")


def timed(step: Callable[[], AppTest]) -> float:
    began = time.perf_counter()
    at = step()
    elapsed = time.perf_counter() - began
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].value}")
    return elapsed


def fresh(script: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / script), default_timeout=600)
    at.context["timezone"] = "Europe/Berlin"
    return at


def clear() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def filter_change(at: AppTest) -> float:
    """Slowest of two uncached filter changes: one model, then the last 7 days."""
    model = at.multiselect(key="model").options[0]
    first = timed(lambda: at.multiselect(key="model").set_value([model]).run())
    second = timed(lambda: at.selectbox(key="range").set_value("Last 7 days").run())
    return max(first, second)


def enhanced(page: str, *, cold: bool) -> AppTest:
    """Cold: every cache emptied just before the page runs. Warm: another page ran
    first (the overview; for the overview itself, the timeline page)."""
    clear()
    at = fresh("dashboard_enhanced.py").run()
    if page == "overview":
        at.switch_page("openclaw_telemetry/ui/pages/timeline.py").run()
    if cold:
        clear()
    return at


def time_enhanced(page: str) -> tuple[float, float, float, float]:
    path = f"openclaw_telemetry/ui/pages/{page}.py"
    at = enhanced(page, cold=True)
    cold = timed(lambda: at.switch_page(path).run())
    at = enhanced(page, cold=False)
    warm = timed(lambda: at.switch_page(path).run())
    again = timed(at.run)
    return cold, warm, again, filter_change(at)


def time_basic(view: str) -> tuple[float, float, float, float]:
    clear()
    at = fresh("dashboard.py").run()
    if view == "overview":
        clear()
        cold = timed(at.run)
        warm = cold  # the basic dashboard always starts with its overview
    else:
        clear()
        cold = timed(lambda: at.segmented_control(key="view").set_value(view).run())
        other = "models" if view == "sessions" else "sessions"
        at.segmented_control(key="view").set_value(other).run()
        warm = timed(lambda: at.segmented_control(key="view").set_value(view).run())
    again = timed(at.run)
    return cold, warm, again, filter_change(at)


def measure(repeat: int) -> list[tuple[float, ...]]:
    rows: list[tuple[float, ...]] = []
    for app, names, run in (("enhanced", PAGES, time_enhanced),
                            ("basic", ("overview", *BASIC_VIEWS), time_basic)):
        for name in names:
            runs = [run(name) for _ in range(repeat)]
            print(f"  measured {app}: {name}", file=sys.stderr)
            rows.append((f"{app}: {name}", *(statistics.median(r[i] for r in runs)
                                             for i in range(4))))
    return rows


def table(rows: list[tuple[float, ...]]) -> str:
    lines = ["| page (All time) | cold first render | warm first render | refresh, no new "
             "data | filter change |", "|---|---:|---:|---:|---:|"]
    for name, *cells in rows:
        lines.append(f"| {name} | " + " | ".join(f"{c:.2f} s" for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", help="database file (default: a file in the temp folder)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell (median)")
    args = parser.parse_args()
    db = args.db or str(Path(tempfile.gettempdir()) / f"openclaw-bench-{args.calls}.db")
    began = time.perf_counter()
    build(db, calls=args.calls, rebuild=args.rebuild).dispose()
    print(f"database {db}: {args.calls:,} calls, ready in {time.perf_counter() - began:.1f} s")
    os.environ["OPENCLAW_TELEMETRY_DB"] = db
    os.chdir(tempfile.mkdtemp(prefix="openclaw-bench-"))  # no alerts.toml, no stray files
    print(f"machine: {machine()}\n")
    print(table(measure(args.repeat)))


if __name__ == "__main__":
    main()
