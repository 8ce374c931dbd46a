"""Alerts: what fires now, coloured by severity, then the history of the range; the
rules come from alerts.toml (or the defaults), narrowed by the sidebar's agent, model,
kind and gateway filters. A session alert opens its session, on its gateway. bmasterai,
when installed, records them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from openclaw_telemetry import charts, read, rulesfile
from openclaw_telemetry.alert_check import active_alerts, alert_summary, rule_scope
from openclaw_telemetry.alerting import (
    BY_RANK,
    DEFAULT_RULES,
    METRIC_NAMES,
    SESSION_METRICS,
    Alert,
    Rule,
    Severity,
    format_value,
)
from openclaw_telemetry.errors import ConfigError
from openclaw_telemetry.read import Scope
from openclaw_telemetry.ui import bmaster, data, deliveries, shell
from openclaw_telemetry.ui import format as fmt
from openclaw_telemetry.ui.widgets import (
    link_column,
    linked_first,
    session_links,
    table,
    time_column,
)

_STYLE = {"critical": "background-color: #fdd; color: #900",
          "warning": "background-color: #fff1d6; color: #8a4b00",
          "info": "background-color: #e3f0fb; color: #0b4f8a"}


def counted_gateways(rules: Sequence[Rule], within: Scope) -> dict[str, str]:
    """Per rule, the gateways whose calls it counts: its own `gateway`, narrowed by the
    sidebar's ('all': every gateway; a dash would read as "none")."""
    return {rule.name: ", ".join(scope.gateways) if scope and scope.gateways else "all"
            for rule in rules for scope in [rule_scope(rule, None, None, within)]}


def alert_table(ctx: shell.Ctx, alerts: list[Alert], key: str,
                gateways: Mapping[str, str]) -> None:
    """One row per alert; a session alert names its session's gateway (with several) and
    opens that session, any other the gateways its rule counts (`counted_gateways`)."""
    frame = pd.DataFrame([{"severity": str(a.severity), "rule": a.rule, "subject": a.label,
                           "gateway": fmt.text(a.gateway or gateways.get(a.rule)),
                           "value": format_value(a.metric, a.value),
                           "threshold": format_value(a.metric, a.threshold), "at": a.at}
                          for a in alerts])
    frame["at"] = (pd.to_datetime(frame["at"]).dt.tz_localize("UTC").dt.tz_convert(ctx.tz)
                   .dt.tz_localize(None))
    frame["open"] = session_links(ctx, [a.subject if a.metric in SESSION_METRICS else None
                                        for a in alerts],
                                   [a.gateway or None for a in alerts]).to_numpy()
    st.dataframe(frame.style.map(lambda v: _STYLE.get(str(v), ""), subset=["severity"]),
                 hide_index=True, key=key, column_order=linked_first(ctx, [
                     "severity", "rule", "subject", "value", "threshold", "at"]),
                 column_config={
                     "severity": "Severity", "rule": "Rule", "subject": "What",
                     "gateway": "Gateway", "value": "Value", "threshold": "Over",
                     "at": time_column("At"), "open": link_column("Session")})


def _local_range(ctx: shell.Ctx) -> tuple[pd.Timestamp | None, pd.Timestamp]:
    """The chosen range in local wall-clock time (its end: now at the latest); all time
    has no start (the chart starts at the first alert)."""
    since = ctx.window.since
    return (None if since is None else ctx.local(since).tz_localize(None).normalize(),
            ctx.local(ctx.end).tz_localize(None))


def banner(alerts: list[Alert]) -> None:
    counts = {s: sum(a.severity is s for a in alerts) for s in Severity}
    if not alerts:
        st.success("No alert is firing.", icon=":material/check_circle:")
    for severity, show, icon in ((Severity.CRITICAL, st.error, ":material/error:"),
                                 (Severity.WARNING, st.warning, ":material/warning:"),
                                 (Severity.INFO, st.info, ":material/info:")):
        if counts[severity]:
            show(f"{fmt.counted(counts[severity], f'{severity} alert')} firing", icon=icon)


def rules_source(rules: tuple[Rule, ...], path: str | None) -> str:
    """Where the rules come from: a file's [[rule]] tables, or the built-in rules (no file,
    or a file without [[rule]] tables), or none (`rule = []`)."""
    if path is None:
        return "Rules from the built-in defaults."
    if rules is DEFAULT_RULES:
        return (f"The built-in rules: {path} has no [[rule]] tables (write some to replace "
                "them, or rule = [] for none).")
    if not rules:
        return f"No alert rules: {path} says rule = [] (its budgets are on the Budgets page)."
    return f"Rules from {path}."


def rules_table(rules: tuple[Rule, ...]) -> None:
    table(pd.DataFrame([{
        "rule": r.name, "metric": METRIC_NAMES[r.metric],
        "window": fmt.duration(r.window.total_seconds()),
        "thresholds": ", ".join(f"{s} > {format_value(r.metric, t)}" for s, t in r.thresholds),
        "filters": "; ".join(f"{n}: {', '.join(v)}" for n, v in (
            ("agents", r.agents), ("models", r.models), ("kinds", r.kinds),
            ("gateways", r.gateways)) if v) or "—",
        "description": r.description} for r in rules]), key="alert-rules",
        column_config={"rule": "Rule", "metric": "Metric", "window": "Window",
                       "thresholds": "Thresholds", "filters": "Filters",
                       "description": st.column_config.TextColumn("Description",
                                                                  width="large")})


# bmasterai's statistics of a metric, as its `get_metric_stats` names them -> our label
_STATS = {"count": "count", "latest": "latest", "min": "lowest", "max": "highest",
          "avg": "average", "median": "median"}
# metric recorded -> (label, how its values read): alerts are recorded as their severity's
# rank + 1, so a value is a severity (their average is not one: left out)
_MONITORED: dict[str, tuple[str, Callable[[float | None], str]]] = {
    "cost": ("Cost", fmt.money), "calls": ("LLM calls", fmt.count),
    "alert": ("Alerts", lambda rank: "—" if rank is None or rank != int(rank)
              else str(BY_RANK[int(rank) - 1]))}


def monitor_table(stats: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """bmasterai's statistics of the last hour, a row per metric, each number shown by its
    formatter ('—' where bmasterai has none)."""
    rows = []
    for name, (label, shown) in _MONITORED.items():
        numbers = stats.get(name) or {}
        row = {"metric": label}
        for key, column in _STATS.items():
            value = numbers.get(key)
            row[column] = fmt.count(value) if key == "count" else \
                shown(None if value is None else float(value))
        rows.append(row)
    return pd.DataFrame(rows)


def render(ctx: shell.Ctx) -> None:
    try:
        config = rulesfile.load(ctx.view.alerts)
        rules, notify = config.rules, config.notify
    except ConfigError as exc:
        st.error(f"Alert rules not loaded:\n\n{fmt.config_error(exc)}", icon=":material/error:")
        return
    # Windows slide with time: re-evaluated on new data at once, else every 5 minutes.
    tick = ctx.now.replace(minute=ctx.now.minute - ctx.now.minute % 5)
    active = data.ask(active_alerts, ctx.src, rules=rules, now=tick, tz=ctx.tz,
                      within=ctx.scope)
    banner(active)
    gateways = counted_gateways(rules, ctx.scope)
    if active:
        alert_table(ctx, active, "alerts-active", gateways)
    st.subheader(f"History: {ctx.view.filters.describe()}")
    history = data.ask(alert_summary, ctx.src, rules=rules, since=ctx.window.since,
                       until=ctx.window.until, now=tick, tz=ctx.tz, within=ctx.scope)
    if history.first is not None:
        start, end = _local_range(ctx)
        st.plotly_chart(charts.severity_timeline(history.per_day,
                                                 [s.value for s in Severity],
                                                 start=start, end=end),
                        key="alerts-history-chart")
        alert_table(ctx, history.latest, "alerts-history", gateways)
        if history.fired > len(history.latest):
            st.caption(f"The latest {len(history.latest):,} of {history.fired:,} alerts.")
    else:
        st.caption("Nothing fired in this range.")
    st.caption(f"{fmt.escape_md(rules_source(rules, ctx.view.alerts))} Each rule looks "
               "at the calls its own filters select, narrowed by the sidebar's agent, model, "
               "kind and gateway filters; 'firing now' uses each rule's own window, the history the "
               "chosen range.")
    if rules:
        with st.expander("Rules"):
            rules_table(rules)
    st.subheader("Notifications")
    deliveries.show(ctx, "alert", urls=notify)
    monitoring(ctx, active)


def monitoring(ctx: shell.Ctx, active: list[Alert]) -> None:
    totals = data.ask(read.totals, ctx.src, scope=ctx.scope, tz=ctx.tz).iloc[0]
    numbers = {name: float(totals[name]) for name in ("cost", "calls", "tokens", "errors")}
    status = bmaster.record(numbers, active, {"range": ctx.view.filters.describe()})
    st.caption(status.message)
    if status.ok:
        with st.expander("bmasterai monitor (last hour)"):
            table(monitor_table(status.stats), key="bmasterai-stats",
                  column_config={"metric": "Metric", **{c: c.capitalize()
                                                        for c in _STATS.values()}})
            st.caption("bmasterai's monitor keeps every value recorded in the last hour, and "
                       "this page records the range's totals every time this page is drawn: "
                       "the count grows with each view, and lowest, highest and average are "
                       "over the ranges viewed (that is how bmasterai's monitor works).")


if __name__ == "__main__":
    shell.page(render, "alerts", "Alerts")
