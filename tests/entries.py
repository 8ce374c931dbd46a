"""Builders of OpenClaw transcript lines for tests (shapes of format §4 and §12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

T0 = 1795490000000  # 2026-11-24T03:13:20Z in epoch ms


def iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def header(session_id: str, ms: int = T0, **extra: Any) -> dict[str, Any]:
    return {"type": "session", "version": 3, "id": session_id, "timestamp": iso(ms),
            "cwd": "/tmp/ws", **extra}


def user(text: str, ms: int, entry_id: str = "u0000000") -> dict[str, Any]:
    return {"type": "message", "id": entry_id, "parentId": None, "timestamp": iso(ms),
            "message": {"role": "user", "content": text, "timestamp": ms}}


def assistant(ms: int, *, inp: int = 100, out: int = 10, cr: int = 0, cw: int = 0,
              cost: float | None = 0.001, provider: str = "fakeoa", model: str = "fake-gpt-4o",
              response_id: str | None = None, stop: str = "stop", entry_id: str = "a0000000",
              tools: list[dict[str, Any]] | None = None, latency: int = 500,
              **extra: Any) -> dict[str, Any]:
    usage: dict[str, Any] = {"input": inp, "output": out, "cacheRead": cr, "cacheWrite": cw,
                             "totalTokens": inp + out + cr + cw}
    if cost is not None:
        usage["cost"] = {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": cost}
    msg: dict[str, Any] = {"role": "assistant", "content": tools or [{"type": "text", "text": "ok"}],
                           "api": "openai-completions", "provider": provider, "model": model,
                           "usage": usage, "stopReason": stop, "timestamp": ms, **extra}
    if response_id:
        msg["responseId"] = response_id
    return {"type": "message", "id": entry_id, "parentId": None, "timestamp": iso(ms + latency),
            "message": msg}


def model_change(ms: int, provider: str, model: str) -> dict[str, Any]:
    """What OpenClaw writes at the top of a file and after a reset (format §4.3, §12)."""
    return {"type": "model_change", "id": "m0000000", "parentId": None, "timestamp": iso(ms),
            "provider": provider, "modelId": model}


def model_snapshot(ms: int, provider: str, model: str) -> dict[str, Any]:
    """How OpenClaw 2026.7.1 records a /model before the next run (format §4.8)."""
    return {"type": "custom", "id": "s0000000", "parentId": None, "timestamp": iso(ms),
            "customType": "model-snapshot",
            "data": {"timestamp": ms, "provider": provider, "modelApi": "openai-completions",
                     "modelId": model}}


def reset(ms: int) -> dict[str, Any]:
    return {"type": "reset", "id": "r0000001", "parentId": None, "timestamp": iso(ms),
            "reason": "reset"}


def tool_call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "toolCall", "id": call_id, "name": name, "arguments": arguments}


def tool_result(call_id: str, name: str, ms: int, *, error: bool = False,
                duration: int | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "toolResult", "toolCallId": call_id, "toolName": name,
                           "content": [{"type": "text", "text": "result"}], "isError": error,
                           "timestamp": ms}
    if duration is not None:
        msg["details"] = {"durationMs": duration}
    return {"type": "message", "id": "r0000000", "parentId": None, "timestamp": iso(ms),
            "message": msg}


def lines(*entries: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in entries)


def write(folder: Path, name: str, *entries: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(lines(*entries))
    return path


def state_dir(tmp: Path, agent: str = "main") -> Path:
    """An empty state directory with one agent's sessions folder; returns that folder."""
    sessions = tmp / "state" / "agents" / agent / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    return sessions
