#!/usr/bin/env python3
"""Prometheus exporter for OpenClaw Telemetry: serve /metrics, or write them once. See --help."""

import sys

from openclaw_telemetry.prometheus import main

if __name__ == "__main__":
    sys.exit(main())
