"""The session page's conversation (replay): opt-in, read at view time, never stored.

Everything shown is text from OpenClaw's files: it goes through `st.text` and `st.code`
only (escaped, never Markdown or HTML). Thinking is collapsed; tool arguments and results
show a preview and expand to the whole text.
"""

from __future__ import annotations

import sys

import streamlit as st

from openclaw_telemetry import replay
from openclaw_telemetry.config import replay_settings
from openclaw_telemetry.sources.jsonl import parse_time
from openclaw_telemetry.ui import data, shell
from openclaw_telemetry.ui import format as fmt

REPLAY_PAGE = 100  # turns shown at once
_ICONS = {"user": ":material/person:", "assistant": ":material/smart_toy:",
          "tool_call": ":material/build:", "tool_result": ":material/output:",
          "note": ":material/info:"}


def _argv() -> list[str]:
    return sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else sys.argv[1:]


def enabled() -> bool:
    """Replay was asked for (the section is offered; it may still be refused)."""
    return replay_settings(_argv())[0]


def render(ctx: shell.Ctx, session_id: str, gateway: str) -> None:
    asked, remote = replay_settings(_argv())
    refused = replay.refusal(asked, remote, st.get_option("server.address"))
    if refused is not None:
        st.warning(refused, icon=":material/lock:")
        return
    got = replay.conversation(data.engine(ctx.src.url), session_id=session_id,
                              gateway=gateway)
    if got.source:
        st.caption(fmt.escape_md(f"Read just now from OpenClaw's {got.source}; nothing of it "
                                 "is stored."))
    if got.note:
        st.info(fmt.escape_md(got.note))
    for turn in _page(got.turns, session_id):
        _turn(turn, _when(turn.timestamp, ctx))


def _page(turns: list[replay.Turn], session_id: str) -> list[replay.Turn]:
    """The turns shown: all of a short conversation, else REPLAY_PAGE of them, picked by
    the turns a page holds (a 590-call session was one page some 250,000 px tall)."""
    count = len(turns)
    if count <= REPLAY_PAGE:
        return turns
    start = st.selectbox(
        "Conversation", range(0, count, REPLAY_PAGE), key=f"replay-page-{session_id}",
        format_func=lambda at: f"turns {at + 1:,}–{min(at + REPLAY_PAGE, count):,} of {count:,}")
    return turns[start:start + REPLAY_PAGE]


def _when(stamp: str | None, ctx: shell.Ctx) -> str:
    """' · ' and the entry's time in the chosen zone, as the page's header shows times
    (the file's own text when it is no time)."""
    if not stamp:
        return ""
    moment = parse_time(stamp)
    return f" · {stamp}" if moment is None else f" · {ctx.local_text(moment)}"


def _turn(turn: replay.Turn, when: str) -> None:
    label = f"{turn.kind.replace('_', ' ')}{f' · {turn.name}' if turn.name else ''}" \
            f"{' · error' if turn.is_error else ''}{when}"
    if turn.kind == "thinking":
        with st.expander(f"thinking{when}", icon=":material/psychology:"):
            st.text(turn.text)
        return
    with st.container(border=turn.kind in ("user", "assistant")):
        st.caption(fmt.escape_md(label))
        if turn.kind in ("tool_call", "tool_result"):
            st.code(turn.preview, language="json" if turn.kind == "tool_call" else None)
            if turn.truncated:
                with st.expander(f"show all ({len(turn.text):,} characters)"):
                    st.code(turn.text, language=None)
        else:
            st.text(turn.text)
