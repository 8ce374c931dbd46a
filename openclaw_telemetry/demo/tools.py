"""Tool calls and their results as OpenClaw's tools write them (format §4.5, §4.7, §12).

`ToolFactory.call()` draws one tool use: the `toolCall` arguments and the `toolResult`
text, details and error flag; `spawn()` is the `sessions_spawn` of a planned sub-agent,
answered with its key (sub-agents are only spawned as planned, see entries.py). Result
sizes are heavy-tailed: most are a line or two, a few are several KiB, a rare few hit
OpenClaw's 40,000-character persistence cap and carry its `[... N more characters
truncated]` suffix. SQLite-era (2026.9.6) sessions call every tool outside the direct set
through the `tool_call` bridge (§12.2).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson

from openclaw_telemetry.demo.plan import uuid4
from openclaw_telemetry.demo.text import TextPools

TOOL_WEIGHTS = {"exec": 26, "read": 28, "edit": 8, "write": 8, "process": 3, "web_search": 5,
                "web_fetch": 5, "memory_search": 5, "message": 6, "browser": 2,
                "sessions_list": 2, "cron": 2}
DIRECT_V4 = frozenset({"exec", "read", "write", "edit", "ls", "process", "apply_patch"})
COMMANDS = ("git status --short", "ls -la src", "npm test", "python3 -m pytest -q",
            "tail -n 50 logs/app.log", "grep -rn TODO src", "df -h",
            "curl -s https://api.example.com/health", "docker ps", "make build")
PATHS = ("src/app.py", "src/server.ts", "README.md", "notes/todo.md", "config/settings.json",
         "docs/plan.md", "scripts/deploy.sh", "package.json", "memory/2026-11-20.md")
RESULT_CAP = 40_000
SYNTHETIC_MISSING = ("[openclaw] missing tool result in session history; inserted synthetic "
                     "error result for transcript repair.")


@dataclass(frozen=True, slots=True)
class ToolUse:
    call_block: dict[str, Any]
    name: str
    text: str
    details: dict[str, Any] | None
    is_error: bool
    duration_ms: int


class ToolFactory:
    """Draws tool uses for one session."""

    def __init__(self, rng: random.Random, text: TextPools, *, v4: bool, dialect: str,
                 partial_args: bool, cwd: str) -> None:
        self.rng = rng
        self.text = text
        self.v4 = v4
        self.id_prefix = "toolu_" if dialect == "anthropic" else "call_"
        self.partial_args = partial_args
        self.cwd = cwd
        self.names = list(TOOL_WEIGHTS)
        self.weights = list(TOOL_WEIGHTS.values())

    def call(self) -> ToolUse:
        name = self.rng.choices(self.names, self.weights)[0]
        return self._use(self.rng, name, *getattr(self, f"_{name}")())

    def spawn(self, rng: random.Random, key: str, run_id: str, label: str,
              task: str) -> ToolUse:
        """`sessions_spawn` of the sub-agent `key`, accepted at once (as in both samples);
        drawn from `rng`, so that the session's own draws stay as they were."""
        result = orjson.dumps({"status": "accepted", "childSessionKey": key, "runId": run_id,
                               "mode": "run"}, option=orjson.OPT_INDENT_2).decode()
        return self._use(rng, "sessions_spawn", {"task": task, "label": label}, result, None,
                         False)

    def _use(self, rng: random.Random, name: str, args: dict[str, Any], text: str,
             details: dict[str, Any] | None, is_error: bool) -> ToolUse:
        duration = self._duration(rng, name)
        if rng.random() < 0.001:
            text, details, is_error = SYNTHETIC_MISSING, None, True
        block = self._block(rng, name, args)
        if block["name"] == "tool_call":
            text = _bridge_text(name, text)
        if details is not None and "durationMs" in details:
            details["durationMs"] = duration
        return ToolUse(block, block["name"], text, details, is_error, duration)

    def _block(self, rng: random.Random, name: str, args: dict[str, Any]) -> dict[str, Any]:
        call_id = f"{self.id_prefix}{rng.getrandbits(96):024x}"
        if self.v4 and name not in DIRECT_V4:
            return {"type": "toolCall", "id": call_id, "name": "tool_call",
                    "arguments": {"id": name, "args": args}}
        block: dict[str, Any] = {"type": "toolCall", "id": call_id, "name": name,
                                 "arguments": args}
        if self.partial_args:
            block["partialArgs"] = orjson.dumps(args).decode().replace('":', '": ')
        return block

    @staticmethod
    def _duration(rng: random.Random, name: str) -> int:
        base = 4_000 if name in ("web_fetch", "browser", "exec") else 300
        return int(rng.expovariate(1 / base)) + 5

    def _size(self, scale: float = 1.0) -> int:
        r = self.rng.random()
        if r < 0.0004:
            return self.rng.randint(20_000, 90_000)
        if r < 0.006:
            return int(self.rng.randint(1_000, 5_000) * scale)
        if r < 0.12:
            return int(self.rng.randint(80, 400) * scale)
        return int(self.rng.randint(2, 50) * scale)

    def _capped(self, kind: str, length: int) -> str:
        text = self.text.take(self.rng, kind, length)
        if len(text) <= RESULT_CAP:
            return text
        dropped = len(text) - RESULT_CAP
        return f"{text[:RESULT_CAP]}\n\n[... {dropped} more characters truncated]"

    def _exec(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        command = self.rng.choice(COMMANDS)
        output = self._capped("log", self._size())
        code = 0 if self.rng.random() < 0.93 else self.rng.choice((1, 2, 127))
        details = {"status": "completed", "exitCode": code, "exitSignal": None,
                   "exitReason": "exit", "durationMs": 0, "aggregated": output,
                   "noOutputTimedOut": False, "cwd": self.cwd}
        return {"command": command}, output, details, code != 0 and not self.v4

    def _read(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        path = self.rng.choice(PATHS)
        if self.rng.random() < 0.03:
            return ({"path": path}, f"ENOENT: no such file or directory, access "
                    f"'{self.cwd}/{path}'", None, True)
        content = self._capped("code", self._size(1.5))
        details = {"kind": "text", "content": content} if self.v4 else None
        return {"path": path}, content, details, False

    def _edit(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        path = self.rng.choice(PATHS)
        old = self.text.take(self.rng, "code", self.rng.randint(8, 40))
        new = self.text.take(self.rng, "code", self.rng.randint(8, 50))
        line = self.rng.randint(1, 400)
        diff = f" {line - 1} ...\n-{line} {old[:60]}\n+{line} {new[:60]}"
        details = {"diff": diff, "patch": f"--- {path}\n+++ {path}\n@@ -{line},1 +{line},1 @@\n"
                   f"-{old[:60]}\n+{new[:60]}\n", "firstChangedLine": line}
        return ({"path": path, "edits": [{"oldText": old, "newText": new}]},
                f"Successfully replaced 1 block(s) in {path}.", details, False)

    def _write(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        path = self.rng.choice(PATHS)
        content = self.text.take(self.rng, "code", self.rng.randint(20, 300))
        size = len(content.encode())
        return ({"path": path, "content": content},
                f"Successfully wrote {size} bytes to {path}", None, False)

    def _process(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        session = f"proc_{self.rng.getrandbits(32):08x}"
        output = self._capped("log", self._size())
        return {"action": "poll", "sessionId": session}, output, {"status": "running"}, False

    def _web_search(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        query = self.text.take(self.rng, "prose", self.rng.randint(15, 60))
        results = self._capped("prose", self.rng.randint(60, 400))
        return {"query": query, "count": 5}, results, None, False

    def _web_fetch(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        url = f"https://example.com/articles/{self.rng.getrandbits(40):010x}"
        body = self._capped("prose", self._size(2.0))
        return {"url": url, "extractMode": "markdown"}, body, {"status": 200}, False

    def _memory_search(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        query = self.text.take(self.rng, "prose", self.rng.randint(10, 50))
        hits = self._capped("prose", self.rng.randint(30, 200))
        return {"query": query, "maxResults": 5}, hits, None, False

    def _message(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        body = self.text.take(self.rng, "prose", self.rng.randint(20, 300))
        target = f"telegram:{self.rng.randrange(10**8, 10**10)}"
        result = f'{{"ok":true,"messageId":"{self.rng.randrange(10**5, 10**7)}"}}'
        return {"action": "send", "to": target, "message": body}, result, None, False

    def _browser(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        snapshot = self._capped("prose", self._size(3.0))
        return {"action": "snapshot", "targetId": f"tab-{self.rng.randint(1, 9)}"}, snapshot, \
            None, False

    def _sessions_list(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        preview = self.text.take(self.rng, "prose", self.rng.randint(40, 300))
        listed = {"count": 1, "sessions": [{"key": "agent:main:main", "kind": "main",
                                            "sessionId": uuid4(self.rng),
                                            "lastMessage": preview}]}
        return {"limit": 10}, orjson.dumps(listed, option=orjson.OPT_INDENT_2).decode(), \
            None, False

    def _cron(self) -> tuple[dict[str, Any], str, dict[str, Any] | None, bool]:
        listing = self._capped("prose", self.rng.randint(30, 200))
        return {"action": "list"}, listing, None, False


def _bridge_text(name: str, inner: str) -> str:
    """The Tool Search bridge wraps the real tool's result (§12.2)."""
    wrapped = {"tool": {"id": f"openclaw:core:{name}", "name": name, "source": "openclaw"},
               "result": {"content": [{"type": "text", "text": inner}]}}
    return orjson.dumps(wrapped, option=orjson.OPT_INDENT_2).decode()
