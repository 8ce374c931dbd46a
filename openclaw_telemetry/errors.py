"""The project's exceptions: one base class and a few subclasses.

Only the CLI and UI edges turn these into a one-line message for a person; everything
inside raises them with the path, line or key that caused the problem.
"""


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
