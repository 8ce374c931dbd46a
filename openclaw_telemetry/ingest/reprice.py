"""Prices changed: calls that were estimated or unpriced are priced again (contract C2).

A recorded cost never changes; a call without a usable recorded cost takes the first price
found now, and that price's split by kind (none from the price library). A Google call
whose recorded cost double-counted its cached input (format §4.5) was estimated too: it
takes a price found now, else its repaired figure (stored as its recorded cost), as a first
ingest would. Runs when a price file (`openclaw.json`, an agent's `models.json`) changed
since the last run, and with `--full`; and, at the end of every run, for the calls whose
owner moved (`finalize`: a call takes its owning agent's prices). The affected sessions
are marked dirty for their totals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, bindparam, select, update

from openclaw_telemetry.ingest.prepare import Pricing
from openclaw_telemetry.ingest.writer import chunks
from openclaw_telemetry.model import CostSource, Usage
from openclaw_telemetry.pricing import NO_SPLIT
from openclaw_telemetry.schema import messages, sessions, sources

_CHANGED = ("cost", "cost_source", "input_cost", "output_cost", "cache_read_cost",
            "cache_write_cost")


def reprice(conn: Connection, gateway: str,
            pricing: Callable[[str, str | None], Pricing], keys: Sequence[str] | None = None
            ) -> int:
    """Re-price a gateway's estimated/unpriced calls (those of `keys` when given); return
    how many costs changed.

    `pricing(source path, agent id)` gives the prices that apply where the call was read,
    for the agent that owns it.
    """
    m = messages.c
    query = (select(m.message_id, m.session_id, m.agent_id, sources.c.path, m.provider,
                    m.model, m.input_tokens, m.output_tokens, m.cache_read_tokens,
                    m.cache_write_tokens, m.cost, m.cost_source, m.recorded_cost,
                    m.input_cost, m.output_cost, m.cache_read_cost, m.cache_write_cost)
             .join(sources, sources.c.source_id == m.source_id, isouter=True)
             .where(m.gateway == gateway, m.cost_source != CostSource.RECORDED.value))
    rows = (conn.execute(query).all() if keys is None else
            [row for part in chunks(keys)
             for row in conn.execute(query.where(m.message_id.in_(part)))])
    changed: list[dict[str, object]] = []
    touched: set[str] = set()
    for (key, sid, agent, path, provider, model, inp, out, cr, cw, cost, source, recorded,
         *split) in rows:
        book = pricing(path or "", agent).book
        found = book.estimate(provider or "", model or "", Usage(inp, out, cr, cw))
        if found is not None:
            new = (found.cost, found.source.value, *(found.split or NO_SPLIT))
        elif recorded:  # a repaired Google figure, as a first ingest would take it
            new = (recorded, CostSource.ESTIMATED.value, *NO_SPLIT)
        else:
            new = (0.0, CostSource.UNPRICED.value, *NO_SPLIT)
        if new != (cost, source, *split):
            changed.append({"k": key, **dict(zip(_CHANGED, new, strict=True))})
            touched.add(sid)
    if changed:
        conn.execute(update(messages).where(m.gateway == gateway, m.message_id == bindparam("k"))
                     .values({name: bindparam(name) for name in _CHANGED}), changed)
    for part in chunks(sorted(touched)):
        conn.execute(update(sessions).where(sessions.c.gateway == gateway,
                                            sessions.c.session_id.in_(part)).values(dirty=True))
    return len(changed)
