"""Finding OpenClaw's data: state roots, agents and which files count (contract A1-A2).

Never only `agents/main`: every agent of every state directory is returned. Files are
classified by name (format §2.3); ignored kinds are never returned as sources.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.model import SourceKind
from openclaw_telemetry.pricing import load_json_file

AGENT_DB_NAME = "openclaw-agent.sqlite"
IMPORT_ARCHIVE_DIR = "session-sqlite-import-archive"
_LEGACY_DIRS = (".clawdbot", ".moltbot", ".moldbot")
_ARCHIVE = re.compile(r"^(?P<stem>.+?)\.jsonl\.(?P<kind>reset|deleted|bak)\.(?P<rest>.+)$")
_IGNORED_JSONL = re.compile(r"(\.trajectory\.jsonl|\.checkpoint\.[^.]+\.jsonl)$")
_ARCHIVE_KINDS = {"reset": SourceKind.RESET, "deleted": SourceKind.DELETED,
                  "bak": SourceKind.BAK}


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A counted transcript file."""

    path: Path
    kind: SourceKind
    agent_id: str
    session_hint: str
    compressed: bool


@dataclass(frozen=True, slots=True)
class Agent:
    agent_id: str
    sessions_dir: Path | None
    agent_dir: Path | None

    @property
    def database(self) -> Path | None:
        if self.agent_dir is None:
            return None
        candidate = self.agent_dir / AGENT_DB_NAME
        return candidate if candidate.is_file() else None


@dataclass(frozen=True, slots=True)
class StateRoot:
    """One OpenClaw state directory (or a bare sessions folder) and its agents."""

    path: Path
    is_state_dir: bool
    agents: tuple[Agent, ...] = field(default_factory=tuple)

    @property
    def config_file(self) -> Path:
        return self.path / "openclaw.json"

    def agent_folder(self, agent_id: str) -> Path:
        """An agent's `agent/` folder (auth, models.json), moved or not."""
        return next((a.agent_dir for a in self.agents
                     if a.agent_id == agent_id and a.agent_dir is not None),
                    self.path / "agents" / agent_id / "agent")

    @property
    def global_db(self) -> Path:
        return self.path / "state" / "openclaw.sqlite"


def resolve_roots(explicit: str | None, env: Mapping[str, str]) -> list[StateRoot]:
    """The state roots to read, in the order of contract A1 / format §2.1."""
    home = _home(env)

    def root(path: Path) -> StateRoot:
        return _with_configured_folders(_root_for(path), home)

    if explicit:
        path = Path(explicit).expanduser()
        if not path.exists():
            raise ConfigError(f"--sessions-dir {explicit}: no such directory")
        if not path.is_dir():
            raise ConfigError(f"--sessions-dir {explicit}: not a directory")
        return [root(path.resolve())]
    for name in ("OPENCLAW_STATE_DIR", "CLAWDBOT_STATE_DIR", "MOLTBOT_STATE_DIR"):
        value = env.get(name)
        if value:
            path = Path(value).expanduser()
            return [root(path.resolve())] if path.is_dir() else []
    return [root(p) for p in default_candidates(env) if p.is_dir()]


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("OPENCLAW_HOME") or env.get("HOME") or env.get("USERPROFILE")
                or Path.home()).expanduser()


def _with_configured_folders(root: StateRoot, home: Path) -> StateRoot:
    """Add the folders openclaw.json moved out of the state directory (format §2.1):
    `agents.list[].agentDir` (an agent's `agent/` folder: its database and models.json)
    and `session.store` (transcripts next to that file, `{agentId}` replaced). What the
    default folders hold is still read: it was written before the move."""
    config = load_json_file(root.config_file) if root.is_state_dir else None
    if not isinstance(config, dict):
        return root
    agents = config.get("agents")
    listed = agents.get("list") if isinstance(agents, dict) else None
    moved = {str(item["id"]): _expand(str(item["agentDir"]), root.path, home)
             for item in (listed if isinstance(listed, list) else [])
             if isinstance(item, dict) and item.get("id") and isinstance(item.get("agentDir"), str)}
    found = list(root.agents)
    known = {a.agent_dir.resolve() for a in found if a.agent_dir is not None}
    for agent_id, folder in moved.items():
        if folder.is_dir() and folder not in known:
            known.add(folder)
            found.insert(0, Agent(agent_id, None, folder))  # first: its models.json wins
    session = config.get("session")
    store = session.get("store") if isinstance(session, dict) else None
    if isinstance(store, str) and store.strip():
        known = {a.sessions_dir.resolve() for a in found if a.sessions_dir is not None}
        for agent_id in dict.fromkeys([*(a.agent_id for a in found), "main"]):
            folder = _expand(store.strip().replace("{agentId}", agent_id), root.path, home).parent
            if folder.is_dir() and folder not in known:
                known.add(folder)
                found.append(Agent(agent_id, folder, None))
    return StateRoot(root.path, root.is_state_dir, tuple(found))


def _expand(path: str, base: Path, home: Path) -> Path:
    """A path from openclaw.json: `~` is the home folder; a relative path is taken from the
    state directory (OpenClaw takes it from its working directory, which we cannot know)."""
    if path == "~" or path.startswith(("~/", "~\\")):
        path = str(home) + path[1:]
    return (base / path).resolve()


def default_candidates(env: Mapping[str, str]) -> list[Path]:
    """`~/.openclaw`, its profiles `~/.openclaw-*`, then the legacy directories."""
    home = _home(env)
    found = [home / ".openclaw"]
    if home.is_dir():
        found += sorted(p for p in home.glob(".openclaw-*") if p.is_dir())
    found += [home / name for name in (*_LEGACY_DIRS, ".clawdis")]
    return found


def _root_for(path: Path) -> StateRoot:
    """Accept a state dir, a single agent folder, or one agent's sessions folder."""
    if (path / "agents").is_dir():
        agents = [_agent(d.name, d) for d in sorted((path / "agents").iterdir()) if d.is_dir()]
        if (path / "sessions").is_dir():  # single-agent layout before multi-agent (§2.1)
            agents.append(Agent("main", path / "sessions", None))
        return StateRoot(path, True, tuple(agents))
    if (path / "sessions").is_dir() or (path / "agent").is_dir():
        state = path.parent.parent if path.parent.name == "agents" else path
        return StateRoot(state, state != path, (_agent(path.name, path),))
    if path.name == "sessions" and path.parent.parent.name == "agents":
        agent_dir = path.parent / "agent"
        return StateRoot(path.parent.parent.parent, True,
                         (Agent(path.parent.name, path, agent_dir if agent_dir.is_dir() else None),))
    return StateRoot(path, False, (Agent("main", path, None),))


def _agent(agent_id: str, folder: Path) -> Agent:
    sessions = folder / "sessions"
    agent_dir = folder / "agent"
    return Agent(agent_id, sessions if sessions.is_dir() else None,
                 agent_dir if agent_dir.is_dir() else None)


def classify(name: str) -> tuple[SourceKind, str, bool] | None:
    """(kind, session id hint, compressed) for a counted file name; None when not counted."""
    compressed = name.endswith(".zst")
    base = name[:-4] if compressed else name
    if base.endswith(".jsonl"):
        if _IGNORED_JSONL.search(base):
            return None
        return SourceKind.PRIMARY, _session_hint(base[:-6]), compressed
    match = _ARCHIVE.match(base)
    if match is None or _IGNORED_JSONL.search(f"{match.group('stem')}.jsonl"):
        return None  # not an archive, or an archived sidecar (trajectory, checkpoint)
    return _ARCHIVE_KINDS[match.group("kind")], _session_hint(match.group("stem")), compressed


def _session_hint(stem: str) -> str:
    """File stem -> likely sessionId (the header id wins when present; format §2.2)."""
    if "-topic-" in stem:
        stem = stem.split("-topic-", 1)[0]
    if "_" in stem:  # <ts>_<uuid> fork/successor files
        stem = stem.rsplit("_", 1)[1]
    return stem


def iter_source_files(root: StateRoot) -> Iterator[SourceFile]:
    """Every counted transcript file of every agent of the root."""
    for agent in root.agents:
        if agent.sessions_dir is not None:
            yield from _scan_dir(agent.sessions_dir, agent.agent_id, None)
            cold = agent.sessions_dir / "cold"
            if cold.is_dir():
                yield from _scan_dir(cold, agent.agent_id, SourceKind.COLD)
        for base in (agent.sessions_dir, agent.agent_dir,
                     agent.sessions_dir.parent if agent.sessions_dir else None):
            archive = base / IMPORT_ARCHIVE_DIR if base else None
            if archive is not None and archive.is_dir():
                yield from _scan_tree(archive, agent.agent_id)
    if root.is_state_dir and (root.path / IMPORT_ARCHIVE_DIR).is_dir():
        yield from _scan_tree(root.path / IMPORT_ARCHIVE_DIR, None)


def _scan_dir(folder: Path, agent_id: str, forced: SourceKind | None) -> Iterator[SourceFile]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        found = classify(entry.name)
        if found is None or not entry.is_file():
            continue
        kind, hint, compressed = found
        yield SourceFile(Path(entry.path), forced or kind, agent_id, hint, compressed)


def _scan_tree(folder: Path, agent_id: str | None) -> Iterator[SourceFile]:
    """JSONL moved by `openclaw doctor --session-sqlite import` (format §10)."""
    for path in sorted(folder.rglob("*")):
        found = classify(path.name)
        if found is None or not path.is_file():
            continue
        owner = agent_id or _agent_from_path(path) or "main"
        yield SourceFile(path, SourceKind.IMPORT_ARCHIVE, owner, found[1], found[2])


def _agent_from_path(path: Path) -> str | None:
    parts = path.parts
    for index, part in enumerate(parts[:-1]):
        if part == "agents" and index + 1 < len(parts) - 1:
            return parts[index + 1]
    return None
