"""OpenClaw Telemetry — the enhanced dashboard: every page, cost statistics and alerts.

    streamlit run dashboard_enhanced.py [-- --db PATH_OR_URL] [--alerts alerts.toml]

The database is `--db`, else $OPENCLAW_TELEMETRY_DB, else the parser's default; the alert
rules `--alerts`, else $OPENCLAW_TELEMETRY_ALERTS, else ./alerts.toml, else the defaults.
"""

from openclaw_telemetry.ui.app import enhanced

enhanced()
