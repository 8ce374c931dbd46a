"""What every dashboard page stands on: the database, the filters, the refresh loop.

`start()` finds the database (`--db` after `--`, else $OPENCLAW_TELEMETRY_DB, else the
parser's default), opens it without ever creating a file, and shows a page with the
exact command to run when it is missing, empty or of another schema version. `live()`
runs a page body inside `st.fragment(run_every=…)`: each run asks for the database's
`Source` (one stat and one tiny query) and hands the page a `Ctx` whose cached reads are
keyed on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from openclaw_telemetry import charts, read
from openclaw_telemetry.config import default_db
from openclaw_telemetry.demo import is_demo
from openclaw_telemetry.errors import MissingDatabase, TelemetryError
from openclaw_telemetry.read import Scope
from openclaw_telemetry.store import (
    cannot_open,
    database_url,
    describe,
    ingest_command,
    refuse_foreign,
)
from openclaw_telemetry.timeframe import Window, to_utc, zone
from openclaw_telemetry.ui import data, filters
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.data import Source
from openclaw_telemetry.ui.filters import Filters, Refresh

VIEW_KEY = "_openclaw_view"


@dataclass(frozen=True, slots=True)
class View:
    """Per script run: where the data is and what the user asked for."""

    db: str
    url: str
    filters: Filters
    refresh: Refresh
    alerts: str | None
    colours: dict[str, dict[str, str]]  # dimension -> name -> colour, for every chart
    session_link: str = "sessions?session={}"  # a session's page, relative to this one
    gateways: tuple[str, ...] = ()  # every gateway the database holds

    @property
    def several_gateways(self) -> bool:
        """More than one gateway: sessions are named with theirs (links, tables, filter)."""
        return len(self.gateways) > 1


@dataclass(frozen=True, slots=True)
class Ctx:
    """Per fragment run: the view plus the data version and the moment of this run."""

    view: View
    src: Source
    now: datetime
    window: Window
    scope: Scope
    previous: Scope | None

    def colours(self, dimension: str) -> dict[str, str]:
        """The app-wide colours of a dimension ('model', 'agent', 'kind', 'tool')."""
        return self.view.colours.get(dimension, {})

    def job_colours(self, labels: Mapping[str, str]) -> dict[str, str]:
        """Each cron job's app-wide colour under its label on this page (`labels`: job ->
        label): a colour is given to a job (`measures.cron_job()`), not to its label, so
        it stays when a label gains or loses what tells it from another job's."""
        by_job = self.colours("cron job")
        return {label: by_job[job] for job, label in labels.items() if job in by_job}

    @property
    def tz_name(self) -> str:
        return self.view.filters.tz

    @property
    def tz(self) -> tzinfo:
        return zone(self.view.filters.tz)

    def local(self, moment: datetime) -> pd.Timestamp:
        """A naive-UTC moment in the chosen zone (tz-aware)."""
        return pd.Timestamp(moment, tz="UTC").tz_convert(self.tz)

    def local_text(self, moment: object) -> str:
        """A naive-UTC moment as the session page writes it, to the second in the chosen
        zone ('2026-11-24 04:13:23'); '—' when missing."""
        stamp = pd.to_datetime(moment)  # type: ignore[call-overload]
        return "—" if pd.isna(stamp) else f"{self.local(stamp):%Y-%m-%d %H:%M:%S}"

    @property
    def span(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The chosen range in local time, for chart axes (None: open)."""
        since, until = self.window.since, self.window.until
        return (None if since is None else self.local(since),
                None if until is None else self.local(until))

    @property
    def end(self) -> datetime:
        """Naive-UTC end of the range shown: its end, or now if that is earlier."""
        now = to_utc(self.now)
        if self.window.until is not None:
            return min(self.window.until - timedelta(microseconds=1), now)
        return now


def arguments(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """`--db` and `--alerts` from the arguments after `streamlit run app.py --`."""
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    p.add_argument("--db")
    p.add_argument("--alerts")
    known, _ = p.parse_known_args(list(argv))
    return known.db, known.alerts




def _explain(title: str, text: str, db: str) -> None:
    st.title(":material/monitoring: OpenClaw Telemetry")
    st.info(text, icon=":material/info:")
    st.code(ingest_command(db), language="bash")
    st.caption("Add `--sessions-dir DIR` when OpenClaw keeps its state somewhere else than "
               "`~/.openclaw`. Then reload this page.")
    st.caption(title)


def _open(db: str) -> str | None:
    """The database URL when it is ready to read; else a page saying what to do."""
    try:
        url = database_url(db)
        status = data.schema_status(url)
        if status == "foreign":
            refuse_foreign(data.engine(url), url)
    except MissingDatabase as exc:
        _explain(str(exc), "No telemetry database here yet. Build it from your OpenClaw "
                           "sessions with:", db)
        return None
    except TelemetryError as exc:  # not ours, a directory, a URL of no usable driver
        st.error(str(exc), icon=":material/error:")
        return None
    except SQLAlchemyError as exc:
        st.error(cannot_open(url, exc), icon=":material/error:")
        return None
    if status == "ready":
        return url
    messages = {"uninitialised": "This database has no telemetry tables yet. Fill it with:",
                "outdated": "This database was written by an older OpenClaw Telemetry; "
                            "running the parser migrates it:",
                "newer": "This database was written by a newer OpenClaw Telemetry: upgrade "
                         "this program (git pull; pip install -r requirements.txt), or "
                         "point the parser at a new file:"}
    _explain(f"Database: {describe(url)}", messages[status], db)
    return None


@dataclass(frozen=True, slots=True)
class Opened:
    """A database that holds calls, before the filters are drawn (`start`)."""

    db: str
    url: str
    src: Source
    alerts: str | None


def open_data(argv: Sequence[str] | None = None) -> Opened | None:
    """Open the database; None when a hint page was shown instead (no usable database, or
    no call in it yet)."""
    db_arg, alerts = arguments(sys.argv[1:] if argv is None else argv)
    db = db_arg or default_db()
    url = _open(db)
    if url is None:
        return None
    src = data.source(url)
    if not _has_calls(src):
        _empty(db, url)
        return None
    return Opened(db, url, src, alerts)


def start(opened: Opened) -> View:
    """Draw the filters of an opened database (and its demo notice); the page's View."""
    db, url, src, alerts = opened.db, opened.url, opened.src, opened.alerts
    demo = data.ask(is_demo, src)
    if demo:
        st.warning(demo, icon=":material/science:")
    options = data.ask(read.filter_options, src)
    chosen = filters.sidebar(options, st.context.timezone)
    notice = filters.link_notice(chosen)
    if notice:
        st.warning(fmt.escape_md(notice), icon=":material/link_off:")
    colours = {str(field): charts.palette(str(v) for v in group["value"])
               for field, group in options.groupby("field")}
    return View(db, url, chosen, filters.refresh_settings(), alerts, colours,
                gateways=filters.gateways(options))


def _empty(db: str, url: str) -> None:
    _explain(f"Database: {describe(url)}", "The database is ready but holds no LLM calls "
                                           "yet. Read your OpenClaw sessions into it with:", db)

    @st.fragment(run_every="30s")
    def watch() -> None:
        if _has_calls(data.source(url)):
            st.rerun(scope="app")

    watch()


def _has_calls(src: Source) -> bool:
    return bool(src.version) and not pd.isna(
        data.ask(read.call_bounds, src).iloc[0]["last_call"])


def context(view: View, src: Source, now: datetime) -> Ctx:
    window = view.filters.window(now)
    return Ctx(view, src, now, window, view.filters.scope(window),
               view.filters.previous(window))


def live(view: View, body: Callable[[Ctx], None], key: str, title: str, *,
         ranged: bool = True) -> None:
    """Run `body` under a title and the status line, now and, with auto-refresh on, again
    every few seconds in place. `ranged=False`: a page the sidebar's range does not
    apply to, whose status line does not name it."""
    every = f"{view.refresh.every}s" if view.refresh.live else None

    def run() -> None:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        ctx = context(view, data.source(view.url), now)
        st.header(title)
        status_bar(ctx, ranged=ranged)
        body(ctx)

    st.fragment(run, run_every=every, key=key)()


def status_bar(ctx: Ctx, *, ranged: bool = True) -> None:
    """'Data as of …' with the newest call, and a manual refresh button."""
    status = data.ask(read.ingest_status, ctx.src)
    left, right = st.columns([6, 1], vertical_alignment="center")
    parts = [f"{ctx.view.filters.describe()} · {ctx.tz_name}" if ranged else ctx.tz_name,
             freshness(status, ctx.scope.gateways, ctx.tz),
             f"checked {datetime.now(ctx.tz):%H:%M:%S}"]
    left.caption(fmt.escape_md(" · ".join(parts)))
    # A click reruns this fragment; new data shows because reads are keyed on the version.
    right.button("Refresh", icon=":material/refresh:", key="refresh", width="stretch")


def freshness(status: pd.DataFrame, gateways: Sequence[str], tz: tzinfo) -> str:
    """'data as of <end of the latest finished ingest> · newest call <time>' of the
    gateways in view (those chosen, else every one of `read.ingest_status`). Of several,
    the stalest ingest counts and is named: one gateway whose ingest stopped must not hide
    behind the others' fresh data. A run still going leaves the previous one's time."""
    rows = status[status["gateway"].isin(gateways)] if gateways else status
    if rows.empty:
        return "no ingest yet"
    finished = pd.to_datetime(rows["last_finished"])
    never = finished.isna()  # ran, but no run has finished yet: the stalest of all
    stalest = rows[never].iloc[0] if never.any() else rows.iloc[int(finished.argmin())]
    text = f"data as of {_local(stalest['last_finished'], tz)}"
    if len(rows) > 1:
        text = f"{len(rows)} gateways: {text} (stalest: {stalest['gateway']})"
    newest = pd.to_datetime(rows["last_call"]).max()
    return f"{text} · newest call {_local(newest, tz)}"


def _local(moment: object, tz: tzinfo) -> str:
    stamp = pd.Timestamp(moment)  # type: ignore[arg-type]
    if pd.isna(stamp):
        return "—"
    return f"{stamp.tz_localize('UTC').tz_convert(tz):%Y-%m-%d %H:%M}"


def page(body: Callable[[Ctx], None], key: str, title: str, *, ranged: bool = True) -> None:
    """Entry of a page file run by `st.navigation`: the main script left the View."""
    view = st.session_state.get(VIEW_KEY)
    if isinstance(view, View):
        live(view, body, key, title, ranged=ranged)
