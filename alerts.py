#!/usr/bin/env python3
"""Evaluate the OpenClaw Telemetry alert rules from cron or a script. See --help.

Exit codes: 0 nothing fired (or only info), 1 warning, 2 critical, 64 bad arguments or
rules, 66 database missing. Also the rule API for scripts: `from alerts import load_rules`.
"""

import sys

from openclaw_telemetry.alert_check import active_alerts, alert_history
from openclaw_telemetry.alert_cli import main
from openclaw_telemetry.alerting import (
    DEFAULT_RULES,
    Alert,
    Metric,
    Rule,
    Severity,
    evaluate,
    load_rules,
    parse_rules,
)

__all__ = ["DEFAULT_RULES", "Alert", "Metric", "Rule", "Severity", "active_alerts",
           "alert_history", "evaluate", "load_rules", "parse_rules"]

if __name__ == "__main__":
    sys.exit(main())
