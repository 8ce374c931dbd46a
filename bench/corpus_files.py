"""Which files of a state directory hold counted transcripts (contract A2, format §2.3).

Used by the read floor, the corpus checker and the corpus summary. Deliberately written
from the contract, not imported from the package under test, so the benchmark checks
the parser instead of agreeing with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

AGENT_DB = "openclaw-agent.sqlite"
IMPORT_ARCHIVE = "session-sqlite-import-archive"
_ARCHIVE = re.compile(r"\.jsonl\.(reset|deleted|bak)\.[^/]+$")
_IGNORED = re.compile(r"(\.trajectory\.jsonl|\.checkpoint\.[^.]+\.jsonl)$")


def is_counted_name(name: str) -> bool:
    """A counted transcript file name: primary, reset, deleted, bak (optionally .zst)."""
    base = name[:-4] if name.endswith(".zst") else name
    if base.endswith(".jsonl"):
        return _IGNORED.search(base) is None
    return _ARCHIVE.search(base) is not None


def transcript_files(root: Path) -> Iterator[Path]:
    """Every counted transcript file under a state directory, in a stable order."""
    for agent in sorted((root / "agents").glob("*")):
        for folder in (agent / "sessions", agent / "sessions" / "cold", agent / IMPORT_ARCHIVE):
            if folder.is_dir():
                yield from (path for path in sorted(folder.iterdir())
                            if path.is_file() and is_counted_name(path.name))


def agent_databases(root: Path) -> Iterator[Path]:
    """Every per-agent SQLite database (format §10)."""
    yield from (path for path in sorted((root / "agents").glob(f"*/agent/{AGENT_DB}"))
                if path.is_file())


def corpus_size(root: Path) -> dict[str, int]:
    """Files and bytes of what a reader must read (transcripts + agent databases)."""
    files = list(transcript_files(root))
    dbs = list(agent_databases(root))
    return {"transcript_files": len(files),
            "transcript_bytes": sum(path.stat().st_size for path in files),
            "databases": len(dbs),
            "database_bytes": sum(path.stat().st_size for path in dbs)}
