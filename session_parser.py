#!/usr/bin/env python3
"""Ingest OpenClaw's usage data into the telemetry database. See --help and README.md."""

if __name__ == "__main__":
    import gc

    gc.disable()  # start-up builds only what lives to the end; `cli.main` says when to collect
    from openclaw_telemetry import stopping

    stopping.install()  # first: a stop signal during the imports below is noted, no traceback
    from openclaw_telemetry.cli import main

    main()
