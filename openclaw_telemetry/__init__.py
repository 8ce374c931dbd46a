"""OpenClaw Telemetry: exact usage and cost accounting for OpenClaw agent gateways.

The package turns what OpenClaw stored (JSONL transcripts up to 2026.7, per-agent SQLite
databases from 2026.8) into a database that dashboards, alerts and scripts read.
See docs/accounting.md for the rules every number follows.
"""

__version__ = "0.1.0"
