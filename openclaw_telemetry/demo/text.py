"""Deterministic filler text for generated transcripts: prose, logs, code, base64.

Pools are built once per seed and sliced at random offsets, which is what keeps the
generator fast (no per-message text synthesis). A few non-ASCII words and emoji are mixed
in so that readers meet real UTF-8, as OpenClaw transcripts do.
"""

from __future__ import annotations

import base64
import random
import time

WORDS = (
    "the", "agent", "ran", "a", "command", "and", "read", "the", "file", "then", "wrote",
    "notes", "about", "the", "build", "config", "deploy", "server", "error", "retry", "cache",
    "token", "budget", "session", "cron", "job", "report", "summary", "test", "database",
    "query", "index", "schema", "migration", "parser", "worker", "queue", "latency", "timeout",
    "request", "response", "header", "payload", "user", "channel", "thread", "message",
    "review", "patch", "branch", "commit", "merge", "release", "version", "docs", "README",
    "install", "package", "module", "function", "class", "method", "value", "list", "check",
    "update", "fix", "refactor", "draft", "plan", "meeting", "calendar", "invoice", "email",
    "reply", "follow-up", "weather", "travel", "booking", "price", "alert", "digest", "feed",
    "article", "link", "summary", "café", "naïve", "résumé", "über", "déjà-vu", "日本語", "テスト",
    "✅", "🦞", "🚀", "—", "…", "«quoted»", "data", "point", "metric", "graph", "chart", "panel",
)

LOG_LEVELS = ("INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR")
CODE_LINES = (
    "def handle(request: Request) -> Response:",
    "    payload = json.loads(request.body)",
    "    if not payload.get(\"id\"):",
    "        raise ValueError(\"missing id\")",
    "    return Response(status=200, body=render(payload))",
    "import { readFile } from 'node:fs/promises';",
    "export async function load(path) {",
    "  const text = await readFile(path, 'utf8');",
    "  return text.split('\\n').filter(Boolean).map((line) => JSON.parse(line));",
    "}",
    "SELECT session_id, sum(cost) FROM messages GROUP BY session_id;",
    "# TODO: retry with backoff when the provider returns 429",
    "    for (const item of items) total += item.price * item.qty;",
)
POOL_CHARS = 300_000


class TextPools:
    """Large pre-built strings; `take(kind, n)` returns an n-character slice."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"text:{seed}")
        self.pools = {
            "prose": _prose(rng),
            "log": _logs(rng),
            "code": _code(rng),
        }
        self.blob = base64.b64encode(rng.randbytes(600_000)).decode("ascii")

    def take(self, rng: random.Random, kind: str, length: int) -> str:
        pool = self.pools[kind]
        length = min(length, len(pool) - 1)
        start = rng.randrange(0, len(pool) - length)
        return pool[start : start + length].strip() or "ok"

    def base64(self, rng: random.Random, length: int) -> str:
        length = min(length - length % 4, len(self.blob))
        start = rng.randrange(0, (len(self.blob) - length) // 4 + 1) * 4
        return self.blob[start : start + length]


def _prose(rng: random.Random) -> str:
    parts: list[str] = []
    size = 0
    while size < POOL_CHARS:
        sentence = " ".join(rng.choices(WORDS, k=rng.randint(6, 22)))
        sentence = sentence[0].upper() + sentence[1:] + rng.choice((". ", ". ", "? ", ".\n\n"))
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)


def _logs(rng: random.Random) -> str:
    lines: list[str] = []
    size = 0
    clock = 1_790_000_000
    while size < POOL_CHARS:
        clock += rng.randint(0, 5)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(clock))
        words = " ".join(rng.choices(WORDS, k=rng.randint(3, 9)))
        line = (f"{stamp} {rng.choice(LOG_LEVELS)} worker[{rng.randint(1, 16)}]: {words} "
                f"in {rng.randint(1, 900)}ms")
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _code(rng: random.Random) -> str:
    lines: list[str] = []
    size = 0
    while size < POOL_CHARS:
        line = rng.choice(CODE_LINES)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)
