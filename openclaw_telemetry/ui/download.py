"""CSV downloads of the tables in view, through the export's own code path: the rows of
`read.export` for the page's scope and the CSV writer of `export_format`, so a download
is byte for byte what `session_parser.py export --format csv` writes for the same filters.

The file is made only when the button is clicked (Streamlit's deferred download, run
beside the script), so a page costs nothing until then.
"""

from __future__ import annotations

import io

import streamlit as st

from openclaw_telemetry.export_format import write
from openclaw_telemetry.read.export import What, export
from openclaw_telemetry.ui import data, shell


def csv_button(ctx: shell.Ctx, what: What, label: str, *, key: str, search: str = "",
               help: str | None = None) -> None:
    """A download button for `what` in the page's scope (`search`: the sessions table's;
    `help`: its tooltip)."""
    table = export(data.engine(ctx.src.url), what=what, scope=ctx.scope, tz=ctx.tz,
                   search=search)

    def csv() -> bytes:
        sink = io.BytesIO()
        write(table, "csv", sink)
        return sink.getvalue()

    st.download_button(label, data=csv, file_name=f"openclaw-{what}.csv", mime="text/csv",
                       key=key, on_click="ignore", icon=":material/download:", help=help)
