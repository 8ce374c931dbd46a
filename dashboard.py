"""OpenClaw Telemetry — the dashboard.

    streamlit run dashboard.py [-- --db PATH_OR_URL]

The database is `--db`, else $OPENCLAW_TELEMETRY_DB, else the parser's default.
"""

from openclaw_telemetry.ui.app import basic

basic()
