"""The dashboards' cached reads: the only module with Streamlit cache decorators.

`ask(read.<question>, source, **filters)` answers one question of the read layer and caches
the answer in a bounded `cache_data` keyed on the question, the database's `Source` (its
URL, the identity of its file and its data version) and the filters. A refresh with no
new data costs one tiny query (`source`); a new ingest, or a database file replaced under
the running dashboard, changes the key, so it shows at once. The figures are those of the
read layer's own functions, the ones the tests check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine

from openclaw_telemetry import read
from openclaw_telemetry.alert_check import active_alerts, alert_summary
from openclaw_telemetry.demo import is_demo
from openclaw_telemetry.store import make_engine

T = TypeVar("T")
_QUESTIONS: dict[str, Callable[..., Any]] = {
    function.__name__: function for function in (
        *(getattr(read, name) for name in read.__all__ if name[0].islower()),
        active_alerts, alert_summary, is_demo)}


@dataclass(frozen=True, slots=True)
class Source:
    """One database as one version of its data: what every cached answer is keyed on."""

    url: str
    identity: str
    version: int


@st.cache_resource(show_spinner=False, max_entries=4)
def engine(url: str) -> Engine:
    """One engine per database; never creates a file (missing -> DatabaseError). SQLite
    files are opened anew for each read, so a file replaced under the dashboard is read,
    never the old one a pooled connection would keep open."""
    return make_engine(url, create=False, pooled=False, reader=True)


def source(url: str) -> Source:
    """The database's current `Source`: one stat() and two indexed look-ups per refresh."""
    born, version = read.stamp(engine(url))
    return Source(url, f"{read.file_identity(url)}|{born}", version)


def schema_status(url: str) -> str:
    return read.schema_status(engine(url))


@st.cache_data(show_spinner=False, max_entries=256)
def _answer(question: str, src: Source, filters: tuple[tuple[str, Any], ...]) -> Any:
    return _QUESTIONS[question](engine(src.url), **dict(filters))


def ask(question: Callable[..., T], src: Source, /, **filters: Any) -> T:
    """`question(engine, **filters)`, cached per source: `question` is a function of the
    read layer (or the alert evaluation built on it)."""
    name = question.__name__
    if _QUESTIONS.get(name) is not question:
        raise ValueError(f"{name} is not a read-layer question")
    answer: T = _answer(name, src, tuple(sorted(filters.items())))
    return answer
