"""Finding OpenClaw's data: state roots, agents and which files count (contract A1-A2).

Never only `agents/main`: every agent of every state directory is returned. Files are
classified by name (format §2.3); ignored kinds are never returned as sources.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.model import SourceKind
from openclaw_telemetry.pricing import load_json_file
from openclaw_telemetry.sources.files import refuse_unless_regular

AGENT_DB_NAME = "openclaw-agent.sqlite"
IMPORT_ARCHIVE_DIR = "session-sqlite-import-archive"
LEGACY_DIRS = (".clawdbot", ".moltbot", ".moldbot", ".clawdis")  # in the home folder
_ARCHIVE = re.compile(r"^(?P<stem>.+?)\.jsonl\.(?P<kind>reset|deleted|bak)\.(?P<rest>.+)$")
_IGNORED_JSONL = re.compile(r"(\.trajectory\.jsonl|\.checkpoint\.[^.]+\.jsonl)$")
# `openclaw doctor --session-sqlite import` moves a transcript to
# `<session key, slugged>.<file name>.imported-<ms>[.<n>]` (src/commands/doctor-session-sqlite.ts);
# a slug with a dot in it only blurs the session hint (the header's id wins)
_IMPORTED = re.compile(r"^[^.]+\.(?P<name>.+\.jsonl)\.imported-\d+(?:\.\d+)?$")
_NEVER_COUNTED = (".tmp", ".lock")  # contract A2: a write in progress, a writer's lock
_ARCHIVE_KINDS = {"reset": SourceKind.RESET, "deleted": SourceKind.DELETED,
                  "bak": SourceKind.BAK}
_STATE_DIR_VARIABLES = ("OPENCLAW_STATE_DIR", "CLAWDBOT_STATE_DIR", "MOLTBOT_STATE_DIR")
Report = Callable[[str], None]


def problem(exc: OSError) -> str:
    """What went wrong with which file, for a person: `<path>: Permission denied`."""
    return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)


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
    database: Path | None = None  # its 2026.8+ SQLite database, when it has one


def _make_agent(agent_id: str, sessions_dir: Path | None, agent_dir: Path | None,
                problems: list[str]) -> Agent:
    """The agent, with its database when it has one; a folder that cannot be looked into
    is a problem, and the rest of the agent is still read."""
    database = agent_dir / AGENT_DB_NAME if agent_dir is not None else None
    return Agent(agent_id, sessions_dir, agent_dir,
                 database if database is not None and _probe(database, problems, file=True)
                 else None)


def _probe(path: Path, problems: list[str], *, file: bool = False) -> bool:
    """Is `path` a folder (or a regular file)? A path that cannot be looked at is a
    problem, and so is a file that is not a regular one (SQLite would block on a FIFO)."""
    try:
        if not file:
            return path.is_dir()
        if path.is_file():
            return True
        if path.exists():
            problems.append(f"{path}: not a regular file")
    except OSError as exc:
        problems.append(problem(exc))
    return False


@dataclass(frozen=True, slots=True)
class StateRoot:
    """One OpenClaw state directory (or a bare sessions folder) and its agents."""

    path: Path
    is_state_dir: bool
    agents: tuple[Agent, ...] = field(default_factory=tuple)
    problems: tuple[str, ...] = ()  # folders and settings files that could not be read
    main_key: str = "main"  # openclaw.json `session.mainKey` (format §3.1)

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


def resolve_roots(explicit: str | None, env: Mapping[str, str],
                  origin: str = "--sessions-dir") -> list[StateRoot]:
    """The state roots to read, in the order of contract A1 / format §2.1. A folder the
    user named (`origin`: the option or variable it came from) must exist and be readable;
    so must a default one that exists."""
    home = _home(env)

    def root(path: Path, label: str) -> StateRoot:
        return _with_configured_folders(_root_for(_readable_dir(path, label)), home)

    if explicit:
        return [root(_with_home(explicit, home), f"{origin} {explicit}")]
    for name in _STATE_DIR_VARIABLES:
        value = env.get(name)
        if value:
            return [root(_with_home(value, home), f"${name} {value}")]
    unique: dict[Path, StateRoot] = {}  # a symlinked legacy folder is the same root
    for candidate in default_candidates(env):
        if candidate.is_dir():
            found = root(candidate, str(candidate))
            unique.setdefault(found.path, found)
    return list(unique.values())


def _readable_dir(path: Path, label: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{label}: no such directory")
    if not path.is_dir():
        raise ConfigError(f"{label}: not a directory")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ConfigError(f"{label}: permission denied (run as a user who can read it; "
                          "see the README, \"Give it read access\")")
    return path.resolve()


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("OPENCLAW_HOME") or env.get("HOME") or env.get("USERPROFILE")
                or Path.home()).expanduser()


def _with_configured_folders(root: StateRoot, home: Path) -> StateRoot:
    """Add the folders openclaw.json moved out of the state directory (format §2.1):
    `agents.list[].agentDir` (an agent's `agent/` folder: its database and models.json)
    and `session.store` (transcripts next to that file, `{agentId}` replaced). What the
    default folders hold is still read: it was written before the move."""
    problems = list(root.problems)
    config = load_json_file(root.config_file, problems.append) if root.is_state_dir else None
    if not isinstance(config, dict):
        return StateRoot(root.path, root.is_state_dir, root.agents, tuple(problems))
    agents = config.get("agents")
    listed = agents.get("list") if isinstance(agents, dict) else None
    moved = {str(item["id"]): _expand(str(item["agentDir"]), root.path, home)
             for item in (listed if isinstance(listed, list) else [])
             if isinstance(item, dict) and item.get("id") and isinstance(item.get("agentDir"), str)}
    found = list(root.agents)
    known = {a.agent_dir.resolve() for a in found if a.agent_dir is not None}
    for agent_id, folder in moved.items():
        if _probe(folder, problems) and folder not in known:
            known.add(folder)
            found.insert(0, _make_agent(agent_id, None, folder, problems))  # its models.json wins
    session = config.get("session")
    main_key = session.get("mainKey") if isinstance(session, dict) else None
    store = session.get("store") if isinstance(session, dict) else None
    if isinstance(store, str) and store.strip():
        known = {a.sessions_dir.resolve() for a in found if a.sessions_dir is not None}
        for agent_id in dict.fromkeys([*(a.agent_id for a in found), "main"]):
            folder = _expand(store.strip().replace("{agentId}", agent_id), root.path, home).parent
            if _probe(folder, problems) and folder not in known:
                known.add(folder)
                found.append(Agent(agent_id, folder, None))
    return StateRoot(root.path, root.is_state_dir, tuple(found), tuple(problems),
                     main_key.strip() if isinstance(main_key, str) and main_key.strip()
                     else "main")


def _with_home(path: str, home: Path) -> Path:
    """A leading `~` is OpenClaw's effective home (`OPENCLAW_HOME` first; format §2.1)."""
    if path == "~" or path.startswith(("~/", "~\\")):
        return Path(str(home) + path[1:])
    return Path(path)


def _expand(path: str, base: Path, home: Path) -> Path:
    """A path from openclaw.json: `~` is the home folder; a relative path is taken from the
    state directory (OpenClaw takes it from its working directory, which we cannot know)."""
    return (base / _with_home(path, home)).resolve()


def default_candidates(env: Mapping[str, str]) -> list[Path]:
    """`~/.openclaw`, its profiles `~/.openclaw-*`, then the legacy directories."""
    home = _home(env)
    found = [home / ".openclaw"]
    if home.is_dir():
        found += sorted(p for p in home.glob(".openclaw-*") if p.is_dir())
    found += [home / name for name in LEGACY_DIRS]
    return found


def _root_for(path: Path) -> StateRoot:
    """Accept a state dir, its agents/ folder, a single agent folder, or one agent's
    sessions folder (`path` itself is readable; what is not inside it is a problem)."""
    if (path / "agents").is_dir():
        agents, problems = _agents_in(path / "agents")
        if (path / "sessions").is_dir():  # single-agent layout before multi-agent (§2.1)
            agents.append(Agent("main", path / "sessions", None))
        return StateRoot(path, True, tuple(agents), tuple(problems))
    if (path / "agent").is_dir() or (path.parent.name == "agents"
                                     and (path / "sessions").is_dir()):  # one agent's folder
        state = path.parent.parent if path.parent.name == "agents" else path
        agents, problems = _agents_of([path])
        return StateRoot(state, state != path, tuple(agents), tuple(problems))
    if (path / "sessions").is_dir():  # the single-agent layout of older releases (§2.1)
        return StateRoot(path, True, (Agent("main", path / "sessions", None),))
    if path.name == "sessions" and path.parent.parent.name == "agents":
        agents, problems = _agents_of([path.parent])
        return StateRoot(path.parent.parent.parent, True, tuple(agents), tuple(problems))
    if path.name == "agents":
        agents, problems = _agents_in(path)
        if any(a.sessions_dir or a.agent_dir for a in agents):
            # the state directory's agents/ folder: read it as the state directory
            return StateRoot(path.parent, True, tuple(agents), tuple(problems))
    return StateRoot(path, False, (Agent("main", path, None),))


def _agents_in(folder: Path) -> tuple[list[Agent], list[str]]:
    try:
        children = sorted(d for d in folder.iterdir() if d.is_dir())
    except OSError as exc:
        return [], [problem(exc)]
    return _agents_of(children)


def _agents_of(folders: list[Path]) -> tuple[list[Agent], list[str]]:
    """The agent of each folder, and a problem for each part that cannot be looked into
    (what can be is still read)."""
    agents: list[Agent] = []
    problems: list[str] = []
    for folder in folders:
        sessions, agent_dir = folder / "sessions", folder / "agent"
        agents.append(_make_agent(folder.name,
                                  sessions if _probe(sessions, problems) else None,
                                  agent_dir if _probe(agent_dir, problems) else None, problems))
    return agents, problems


def holds_no_data(root: StateRoot) -> bool:
    """A folder that is not a state directory and has no transcript: likely a wrong path."""
    return (not root.is_state_dir and not root.problems
            and next(iter_source_files(root, lambda _problem: None), None) is None)


def classify(name: str) -> tuple[SourceKind, str, bool] | None:
    """(kind, session id hint, compressed) for a counted file name; None when not counted."""
    if name.endswith(_NEVER_COUNTED):  # an archive's name too: `….jsonl.reset.<ts>.tmp`
        return None
    imported = _IMPORTED.match(name)
    if imported is not None:
        name = imported.group("name")
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


def iter_source_files(root: StateRoot, report: Report) -> Iterator[SourceFile]:
    """Every counted transcript file of every agent of the root. A folder that cannot be
    read, or an entry that cannot be looked at (a loop of symlinks, a FIFO), is reported
    and skipped, never what is beside it."""
    for agent in root.agents:
        yield from _agent_files(agent, report)
    if root.is_state_dir:
        yield from _scan_folder(root.path / IMPORT_ARCHIVE_DIR, None, None, report)


def _agent_files(agent: Agent, report: Report) -> Iterator[SourceFile]:
    if agent.sessions_dir is not None:
        yield from _scan_folder(agent.sessions_dir, agent.agent_id, None, report, known=True)
        yield from _scan_folder(agent.sessions_dir / "cold", agent.agent_id, SourceKind.COLD,
                                report)
    for base in (agent.sessions_dir, agent.agent_dir,
                 agent.sessions_dir.parent if agent.sessions_dir else None):
        if base is not None:
            yield from _scan_folder(base / IMPORT_ARCHIVE_DIR, agent.agent_id, None, report)


def _scan_folder(folder: Path, agent_id: str | None, forced: SourceKind | None,
                 report: Report, *, known: bool = False) -> Iterator[SourceFile]:
    """The counted files of one folder (an import archive: of its tree), which may be
    absent unless `known`; a folder that cannot be read is reported."""
    try:
        if not known and not folder.is_dir():
            return
        if folder.name == IMPORT_ARCHIVE_DIR:
            yield from _scan_tree(folder, agent_id, report)
        else:
            yield from _scan_dir(folder, agent_id or "main", forced, report)
    except OSError as exc:
        report(problem(exc))


def _scan_dir(folder: Path, agent_id: str, forced: SourceKind | None,
              report: Report) -> Iterator[SourceFile]:
    """Raises OSError when the folder cannot be listed."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        found = classify(entry.name)
        if found is None or not _regular(Path(entry.path), report):
            continue
        kind, hint, compressed = found
        yield SourceFile(Path(entry.path), forced or kind, agent_id, hint, compressed)


def _scan_tree(folder: Path, agent_id: str | None, report: Report) -> Iterator[SourceFile]:
    """JSONL moved by `openclaw doctor --session-sqlite import` (format §10)."""
    paths = []
    for parent, _dirs, names in os.walk(folder, onerror=lambda exc: report(problem(exc))):
        paths += [Path(parent) / name for name in names]
    for path in sorted(paths):
        found = classify(path.name)
        if found is None or not _regular(path, report):
            continue
        owner = agent_id or _agent_from_path(path) or "main"
        yield SourceFile(path, SourceKind.IMPORT_ARCHIVE, owner, found[1], found[2])


def _regular(path: Path, report: Report) -> bool:
    """Is this transcript a regular file? One that is not, or cannot be looked at, is
    reported, and so is a symbolic link to nothing; one gone meanwhile (renamed by
    OpenClaw) is not."""
    try:
        refuse_unless_regular(path)
    except FileNotFoundError:
        if path.is_symlink():  # the link is there, what it points to is not
            report(f"{path}: a symbolic link to a file that does not exist")
        return False
    except OSError as exc:
        report(problem(exc))
        return False
    return True


def _agent_from_path(path: Path) -> str | None:
    parts = path.parts
    for index, part in enumerate(parts[:-1]):
        if part == "agents" and index + 1 < len(parts) - 1:
            return parts[index + 1]
    return None
