"""How a thing is named where its name alone would not tell it apart from another: a
session id or cron job name can stand on several gateways, and cron job names are free
text (two agents may each have an "hourly-tick"). Pure; no SQL, no Streamlit.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (`read.status` reads JOB_ID, and the terminal reports never load pandas)
    import pandas as pd

# the field of a cron job's id among the names a rule or budget may use (`read.known_names`,
# `rulesfile.unknown_in`): matched like its name, not listed (a UUID is a line on a phone)
JOB_ID = "cron job id"


def on_gateway(name: str, gateway: str) -> str:
    """A name where no Gateway column stands beside it (a chart's series)."""
    return f"{name} · on {gateway}"


def off_gateway(name: str, gateway: str) -> str:
    """`name` without what `on_gateway` added to it: where a Gateway column stands beside
    it (a table), which says the gateway already."""
    return name.replace(on_gateway("", gateway), "", 1)


def job_labels(jobs: pd.DataFrame) -> list[str]:
    """A label per cron job (columns name, agent_id, gateway, job_id; one row per job of
    the selection, in its order): its name, and where other jobs of the selection share
    that name, what tells it from them: its agent where their agents differ (first:
    'research: hourly-tick', which a narrow column cuts at its end), its gateway where
    their gateways differ, its id where two share both."""
    rows = list(zip(jobs["name"].astype(str), jobs["agent_id"], jobs["gateway"],
                    jobs["job_id"], strict=True))
    twins: dict[str, list[tuple[object, object]]] = {}
    for name, agent, gateway, _id in rows:
        twins.setdefault(name, []).append((agent, gateway))
    labels = []
    for name, agent, gateway, job_id in rows:
        places, label = twins[name], name
        if len(places) > 1:
            if len({a for a, _g in places}) > 1:
                label = f"{agent}: {label}"
            if len({g for _a, g in places}) > 1:
                label = on_gateway(label, str(gateway))
            if Counter(places)[(agent, gateway)] > 1:
                label += f" · id {job_id}" if isinstance(job_id, str) else " · no id"
        labels.append(label)
    return labels
