"""Which prices apply where a call was read (contract C2, C4), and whether they changed.

Prices come from the `openclaw.json` in force (`OPENCLAW_CONFIG_PATH` or the state
directory's) and the agent's `models.json`; a provider reached through a login (an
`auth-profiles.json`, or the auth stores OpenClaw 2026.7+ keeps in its databases) is a
subscription. Each file is read once per run and per root and agent.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection

from openclaw_telemetry.config import ENV_CONFIG
from openclaw_telemetry.ingest import learn
from openclaw_telemetry.ingest.prepare import Pricing
from openclaw_telemetry.pricing import (
    PriceBook,
    is_subscription,
    load_json_file,
    prices_from_config,
)
from openclaw_telemetry.pricing import oauth_providers as oauth_of
from openclaw_telemetry.sources import sqlite_store
from openclaw_telemetry.sources.discover import AGENT_DB_NAME, StateRoot, problem


class Prices:
    """The prices of a run's roots; problems reading a file go to `warn`."""

    def __init__(self, roots: list[StateRoot], config_path: Path | None,
                 warn: Callable[[str], None]) -> None:
        self.roots = roots
        self.config_path = config_path
        self.warn = warn
        self._pricing: dict[tuple[str, str], Pricing] = {}
        self._logins: dict[Path, frozenset[str]] = {}
        self._trouble = False
        if config_path is not None and roots and not config_path.exists():  # named on purpose
            warn(f"{config_path} (${ENV_CONFIG}): no such file; the prices it would set are "
                 "not used")

    def of_source(self, path: str, agent_id: str | None) -> Pricing:
        """The prices that apply to a call read from this source path and agent."""
        root = next((r for r in self.roots if path.startswith(f"{r.path}{os.sep}")),
                    self.roots[0])
        return self._for(root, agent_id or "main")

    def changed(self, conn: Connection, gateway: str, *, full: bool) -> bool:
        """Did a price file change since the gateway's last run (or is this a --full run)?
        Never when no state folder was found: no price file can be read, and calls priced
        from one keep their prices until it is found again."""
        if not self.roots:
            return False
        files = [self.config_path] if self.config_path else []
        for root in self.roots:
            files += [root.config_file, *(a.agent_dir / "models.json" for a in root.agents
                                          if a.agent_dir is not None)]
        changed = learn.changed_since_last(conn, gateway, "prices", files)
        if self._trouble:
            learn.forget(conn, gateway, "prices")
        return changed or full

    def _for(self, root: StateRoot, agent_id: str) -> Pricing:
        key = (str(root.path), agent_id)
        if key not in self._pricing:
            config_file = self.config_path or root.config_file
            agent_dir = root.agent_folder(agent_id)
            book = PriceBook(
                prices_from_config(load_json_file(config_file, self._problem)),
                prices_from_config(load_json_file(agent_dir / "models.json", self._problem)))
            oauth = oauth_of(load_json_file(agent_dir / "auth-profiles.json", self.warn))
            for database in (agent_dir / AGENT_DB_NAME, root.global_db):
                oauth |= self._logins_in(database)
            self._pricing[key] = Pricing(book, functools.partial(is_subscription,
                                                                 oauth_providers=oauth))
        return self._pricing[key]

    def _problem(self, message: str) -> None:
        """A price file that cannot be used: the calls priced without it are priced again
        once it can be (`changed`)."""
        self._trouble = True
        self.warn(message)

    def _logins_in(self, database: Path) -> frozenset[str]:
        """Providers reached through a login, from the auth stores OpenClaw 2026.7+ keeps
        in its databases instead of `auth-profiles.json` (contract C4); once per run."""
        if database not in self._logins:
            try:
                stores = sqlite_store.auth_stores(database) if database.is_file() else []
            except OSError as exc:
                self.warn(problem(exc))
                stores = []
            except sqlite_store.ReadError as exc:
                self.warn(str(exc))
                stores = []
            self._logins[database] = frozenset().union(*(oauth_of(s) for s in stores))
        return self._logins[database]
