"""The project's exceptions: one base class and a few subclasses.

Only the CLI and UI edges turn these into a one-line message for a person; everything
inside raises them with the path, line or key that caused the problem.
"""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class TelemetryError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(TelemetryError):
    """A setting or command-line argument is wrong (exit code 64, `doors.EXIT_USAGE`)."""


class DatabaseError(TelemetryError):
    """The output database cannot be opened, created, migrated or written."""


class MissingDatabase(DatabaseError):
    """The output database does not exist (yet): the parser has not written it."""


class ForeignDatabase(DatabaseError):
    """`--db` names a database another program made (one of OpenClaw's own, say): it holds
    tables and none of ours, and is never written or migrated."""


class LockedError(TelemetryError):
    """Another ingest run holds the database lock."""


class WorkerLost(TelemetryError):
    """A parsing process of the ingest ended without finishing (killed, e.g. by the
    kernel when memory runs out, or crashed): what it parsed and was not written is read
    again by the next run."""


class Mistakes:
    """Every mistake of a file at once, not the first only: `check` runs one part (a rule,
    a budget, a key) and keeps its ConfigError; `raise_any` raises them as one, a line each."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, part: Callable[[], T], fallback: T) -> T:
        try:
            return part()
        except ConfigError as exc:
            self.found.append(str(exc))
            return fallback

    def raise_any(self) -> None:
        if self.found:
            raise ConfigError("\n".join(self.found))
