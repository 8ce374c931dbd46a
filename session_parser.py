#!/usr/bin/env python3
"""Ingest OpenClaw's usage data into the telemetry database. See --help and README.md."""

from openclaw_telemetry.cli import main

if __name__ == "__main__":
    main()
