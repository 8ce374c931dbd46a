"""Demo data: a realistic OpenClaw install, generated, and the marker that labels it.

`marker.py` marks a telemetry database as demo data (the dashboards' banner); `build.py`
makes the demo `start.sh --demo` shows (`build_demo`, `prepare_demo`); `corpus.py` writes
OpenClaw state directories of any size with `plan.py`, `entries.py`, `tools.py`, `text.py`,
`models.py`, `writers.py` and `stores.py` (the benchmark's corpora come from it too);
`__main__.py` is the command line start.sh runs.
"""

from openclaw_telemetry.demo.marker import DEFAULT_TEXT, NotDemoError, is_demo, mark_demo

__all__ = ["DEFAULT_TEXT", "NotDemoError", "is_demo", "mark_demo"]
