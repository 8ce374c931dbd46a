"""The project's exceptions: one base class and a few subclasses.

Only the CLI and UI edges turn these into a message for a person, a line each (one, but
for the several mistakes of a rules file: `Mistakes`); everything inside raises them with
the path, line or key that caused the problem.
"""

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class TelemetryError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(TelemetryError):
    """A setting or command-line argument is wrong (exit code 64, `doors.EXIT_USAGE`)."""

    @property
    def lines(self) -> list[str]:
        """What is wrong, a line each: several for a file's mistakes (`Mistakes`)."""
        return str(self).splitlines() or [""]


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

    def check(self, part: Callable[..., T], *args: Any, fallback: T) -> T:
        """`part(*args)`, or `fallback` when it raises a ConfigError (kept)."""
        try:
            return part(*args)
        except ConfigError as exc:
            self.found += exc.lines
            return fallback

    def raise_any(self) -> None:
        if self.found:
            raise ConfigError("\n".join(self.found))
