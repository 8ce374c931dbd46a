"""Figure builders: what a reader of the chart would otherwise get wrong."""

from __future__ import annotations

import pandas as pd

from openclaw_telemetry import charts, story_charts


def test_alert_history_of_one_day_is_a_day_on_a_week_axis() -> None:
    """One day of alerts must not fill the axis with hour ticks (plotly's default)."""
    frame = pd.DataFrame({"day": [pd.Timestamp("2026-11-24")] * 2,
                          "severity": ["info", "critical"], "alerts": [2, 1]})
    fig = charts.severity_timeline(frame, ["info", "warning", "critical"])
    low, high = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert high - low >= pd.Timedelta(days=7)
    assert low <= pd.Timestamp("2026-11-18") and high > pd.Timestamp("2026-11-24")
    assert fig.layout.xaxis.tickformat == "%b %d"
    assert fig.layout.yaxis.dtick == 1  # whole alerts, not 0.5 steps
    assert {t.name: t.marker.color for t in fig.data if len(t.x)} == {
        "info": charts.SEVERITY_COLOURS["info"], "critical": charts.SEVERITY_COLOURS["critical"]}
    # a bar a day wide, as the timeline's: with one day of alerts plotly cannot tell the
    # width from the spacing of the bars, and drew a hairline
    assert {t.width for t in fig.data if len(t.x)} == {0.9 * 86_400_000}


def test_empty_alert_history_says_so() -> None:
    frame = pd.DataFrame({"day": pd.Series([], dtype="datetime64[ns]"),
                          "severity": pd.Series([], dtype=str), "alerts": pd.Series([], dtype=int)})
    fig = charts.severity_timeline(frame, ["info"])
    assert not fig.data and "No alerts" in fig.layout.annotations[0].text


def _timeline(names: list[str], days: int = 1) -> pd.DataFrame:
    buckets = pd.date_range("2026-10-01", periods=days, freq="D", tz="UTC")
    return pd.DataFrame([{"bucket": b, "series": n, "cost": 1.0, "calls": 1}
                         for b in buckets for n in names])


def test_a_name_keeps_its_colour_whatever_else_is_in_view() -> None:
    """#11 defect 4: colours came from the names in the frame, so they moved with the range."""
    colours = charts.palette(["gpt-5", "claude-opus", "gemini"])
    every = charts.timeline(_timeline(["gpt-5", "claude-opus", "gemini"]), colours=colours)
    alone = charts.timeline(_timeline(["gpt-5"]), colours=colours)
    first = {t.name: t.marker.color for t in every.data}
    assert alone.data[0].marker.color == first["gpt-5"]
    assert len(set(first.values())) == 3


def test_names_from_the_data_are_escaped_in_every_figure() -> None:
    """#11 item 7: Plotly renders <a> and <b> in labels; a model name must show as typed."""
    name = '<a href="https://example.invalid">x</a><b>b</b>'
    frame = _timeline([name])
    figures = [charts.timeline(frame),
               charts.share_pie(frame.rename(columns={"series": "model"}), names="model",
                                values="cost", title="t"),
               charts.ranked_bars(frame.rename(columns={"series": "model"}), names="model",
                                  values="cost", title="t")]
    for fig in figures:
        text = fig.to_json()
        assert "<a href" not in text and "<b>" not in text
        assert "&lt;a href" in text


def test_monthly_bars_are_labelled_by_month_and_span_their_month() -> None:
    """#11 defect 5: monthly bars were labelled Oct 1 / Oct 31 / Nov 30."""
    frame = pd.DataFrame({"bucket": pd.to_datetime(["2026-10-01", "2026-11-01"]),
                          "series": ["m", "m"], "cost": [1.0, 2.0], "calls": [1, 1]})
    fig = charts.timeline(frame, unit="month")
    assert fig.layout.xaxis.tickformat == "%b %Y" and fig.layout.xaxis.dtick == "M1"
    assert fig.layout.xaxis.ticklabelmode == "period"  # a month's name over its bar
    assert fig.data[0].xperiod == "M1" and fig.data[0].xperiodalignment == "middle"


def test_a_day_is_labelled_under_its_bar() -> None:
    """One day of calls on a fortnight's axis: plotly ticked every other midnight from the
    day after (Nov 25, 27 …), so the one bar, Nov 24, stood left of the first label with
    none of its own. The labels now stand under the bars' middles, from the first day."""
    day = pd.Timestamp("2026-11-24", tz="UTC")
    frame = pd.DataFrame({"bucket": [day], "series": ["m"], "cost": [1.0], "calls": [1]})
    for start, span_days, step in ((day, 14, 2), (day, 7, 1), (day - pd.Timedelta(days=16),
                                                               30, 5), (day, 90, 13)):
        fig = charts.timeline(frame, unit="day",
                              span=(start, start + pd.Timedelta(days=span_days)))
        axis = fig.layout.xaxis
        assert axis.tickmode == "linear" and axis.dtick == step * 86_400_000, span_days
        assert pd.Timestamp(axis.tick0) == day + pd.Timedelta(hours=12)  # the bar's middle
        assert span_days / step <= 7  # labels that fit a phone


def test_one_day_bucket_does_not_fill_the_plot() -> None:
    """#11 defect 5: Today with daily buckets drew one bar across the whole plot."""
    fig = charts.timeline(_timeline(["m"]), unit="day")
    low, high = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert high - low >= pd.Timedelta(days=7)


def test_nothing_to_draw_says_so_instead_of_empty_axes() -> None:
    """#11 defect 5: an empty range drew axes -1…6 and $0…$4 and blank donuts."""
    empty = pd.DataFrame({"bucket": pd.Series([], dtype="datetime64[ns, UTC]"),
                          "series": pd.Series([], dtype=str), "cost": pd.Series([], dtype=float),
                          "calls": pd.Series([], dtype=int)})
    for fig in (charts.timeline(empty),
                charts.share_pie(empty.rename(columns={"series": "model"}), names="model",
                                 values="cost", title="t")):
        assert not fig.data
        assert fig.layout.annotations[0].text == "No calls in this range"
        assert fig.layout.xaxis.visible is False


def test_the_axis_covers_the_chosen_range() -> None:
    """Today, hourly: midnight to midnight, not the previous evening to the last call."""
    day = pd.Timestamp("2026-10-01", tz="Europe/Berlin")
    frame = pd.DataFrame({"bucket": pd.date_range(day, periods=3, freq="h"), "series": "m",
                          "cost": 1.0, "calls": 1})
    fig = charts.timeline(frame, unit="hour", span=(day, day + pd.Timedelta(days=1)))
    low, high = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert (low, high) == (day, day + pd.Timedelta(days=1))


def test_one_day_of_cron_runs_is_a_day_wide_bar() -> None:
    """A frame that is not zero-filled (cron runs on one day of "This month") drew a
    hairline: plotly sizes bars by the gaps between them unless told their width."""
    day = pd.Timestamp("2026-12-01", tz="UTC")
    frame = pd.DataFrame({"day": [day], "job": ["hourly-tick"], "cost": [0.01]})
    fig = charts.cron_daily(frame, unit="day", span=(day, day + pd.Timedelta(days=30)))
    assert fig.data[0].width >= 0.8 * 86_400_000


def test_days_before_a_short_range_are_shaded_as_outside_it() -> None:
    """A one-day range's cron chart is drawn over a week (one bar must not fill the plot):
    the six days before the range read as days without runs unless they say otherwise.
    With no range start (All time) the days before the chart's data say so; a range longer
    than the axis's least has nothing to shade."""
    day = pd.Timestamp("2026-12-02", tz="UTC")
    frame = pd.DataFrame({"day": [day], "job": ["hourly-tick"], "cost": [0.01]})
    fig = charts.cron_daily(frame, unit="day", span=(day, day + pd.Timedelta(days=1)))
    low, high = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    assert high - low == pd.Timedelta(days=7)
    (shade,) = fig.layout.shapes
    assert (pd.Timestamp(shade.x0), pd.Timestamp(shade.x1)) == (low, day)
    assert [a.text for a in fig.layout.annotations] == ["before the range"]
    all_time = charts.cron_daily(frame, unit="day", span=(None, day + pd.Timedelta(days=1)))
    assert [a.text for a in all_time.layout.annotations] == ["before the data"]
    assert not charts.cron_daily(frame, unit="day", span=(day - pd.Timedelta(days=9), day)
                                 ).layout.shapes


def test_bars_of_one_name_each_get_a_row() -> None:
    """Two runs of one cron job started in the same minute have one name: plotly drew both
    bars in one row, the smaller hidden behind the larger."""
    frame = pd.DataFrame({"name": ["Cron: tick · started 2026-12-02 22:23"] * 2 + ["other"],
                          "cost": [2.0, 1.0, 3.0]})
    fig = charts.ranked_bars(frame, names="name", values="cost", title="t", money=True)
    assert list(fig.data[0].y) == ["Cron: tick · started 2026-12-02 22:23 (2)",
                                   "Cron: tick · started 2026-12-02 22:23", "other"]
    assert list(fig.data[0].x) == [1.0, 2.0, 3.0]


def _rates(*rates: float) -> pd.DataFrame:
    return pd.DataFrame({"item": [f"m{i}" for i in range(len(rates))],
                         "error_rate": list(rates)})


def test_error_rates_below_one_percent_get_ticks_that_tell_them_apart() -> None:
    """Comparisons › Error rate: 0.2 % and 0.6 % drew a row of "0%" ticks (".0%")."""
    frame = _rates(0.002, 0.006)
    fig = story_charts.compare_bars(frame, measure="error_rate", title="Error rate",
                                    names=["m0", "m1"], percent=True, nothing="errors")
    assert fig.layout.yaxis.tickformat == ".3~%"  # 0.1%, 0.2% … 0.6%; 10%, 20% for large
    assert list(fig.data[0].y) == [0.002, 0.006]
    assert ".3~%" in fig.data[0].hovertemplate


def test_rates_that_are_all_zero_say_so() -> None:
    """No errors anywhere drew empty 0–100 % axes and no bars."""
    for rates in ((0.0, 0.0), (0.0, float("nan")), (float("nan"), float("nan"))):
        fig = story_charts.compare_bars(_rates(*rates), measure="error_rate",
                                        title="Error rate", names=["m0", "m1"], percent=True,
                                        nothing="errors")
        assert not fig.data
        assert fig.layout.annotations[0].text == "No errors in this range and filter"
        assert fig.layout.yaxis.visible is False


def test_tool_calls_over_time_are_named_tool_calls() -> None:
    """Tools › over time was titled "LLM calls per day, by tool" (measure "calls")."""
    frame = pd.DataFrame({"bucket": pd.date_range("2026-10-01", periods=2, freq="D", tz="UTC"),
                          "series": "exec", "tool_calls": [3, 0], "tool_errors": [1, 0]})
    fig = charts.timeline(frame, measure="tool_calls", by="tool")
    assert fig.layout.title.text == "Tool calls per day, by tool"
    assert fig.layout.yaxis.title.text == "Tool calls"
    none = charts.timeline(frame.iloc[:0], measure="tool_calls", by="tool")
    assert none.layout.title.text == "Tool calls per day, by tool"
    assert none.layout.annotations[0].text == "No tool calls in this range"


def test_counts_over_time_get_whole_number_ticks() -> None:
    """Timeline › Errors ticked 0, 0.5, 1, 1.5 for one and two errors."""
    frame = pd.DataFrame({"bucket": pd.date_range("2026-10-01", periods=3, freq="D", tz="UTC"),
                          "series": "m", "cost": [0.5, 0.2, 0.0], "calls": [400, 9, 0],
                          "errors": [1, 2, 0], "tool_calls": [2, 0, 1], "tokens": [9, 9, 9]})
    for measure in ("errors", "tool_calls"):
        fig = charts.timeline(frame, measure=measure)
        assert fig.layout.yaxis.tickformat == ",d" and fig.layout.yaxis.dtick == 1
        assert fig.layout.yaxis.rangemode == "tozero"
    calls = charts.timeline(frame, measure="calls")  # hundreds: plotly's whole steps
    assert calls.layout.yaxis.tickformat == ",d" and calls.layout.yaxis.dtick is None
    assert charts.timeline(frame, measure="cost").layout.yaxis.tickformat is None
    none = charts.timeline(frame.assign(errors=0), measure="errors")
    assert not none.data and none.layout.yaxis.visible is False


def _levels(*levels: str) -> pd.DataFrame:
    """`read.thinking_cost`'s answer (most expensive first) for these levels."""
    cost = [float(len(levels) - i) for i in range(len(levels))]
    return pd.DataFrame({"level": list(levels), "calls": [100] * len(levels), "cost": cost,
                         "cost_per_call": [c / 100 for c in cost]})


def test_thinking_levels_in_their_order_and_colours() -> None:
    """Comparisons › Cost by thinking level: bars by cost (low, medium, high, off), one
    colour unlike the comparison bars' above, a title repeating the section heading, and a
    right axis ticked $0.016, $0.012, $0.0082, $0.0041 (ticks synced to the left axis)."""
    fig = story_charts.thinking_cost(_levels("low", "not recorded", "medium", "high", "max",
                                             "off"))
    (bars, line) = fig.data
    assert list(bars.x) == ["off", "low", "medium", "high", "max", "not recorded"]
    assert list(line.x) == list(bars.x)
    assert list(bars.y) == [1.0, 6.0, 4.0, 3.0, 2.0, 5.0]
    assert list(line.y) == [0.01, 0.06, 0.04, 0.03, 0.02, 0.05]
    assert list(bars.marker.color) == [charts.colour(level, story_charts.THINKING_COLOURS)
                                       for level in bars.x]
    assert story_charts.THINKING_COLOURS["low"] != story_charts.THINKING_COLOURS["high"]
    assert fig.layout.yaxis2.tickmode == "auto"
    assert fig.layout.yaxis2.tickformat == ",.3~g"  # 0.0125 is not "0.013"
    assert not fig.layout.title.text  # the page's heading names it
    frame = _levels("high", "low")
    compared = story_charts.compare_bars(frame.rename(columns={"level": "item"}),
                                         measure="cost", title="Cost", names=["high", "low"],
                                         colours=story_charts.THINKING_COLOURS, money=True)
    assert list(compared.data[0].marker.color) == [story_charts.THINKING_COLOURS["high"],
                                                   story_charts.THINKING_COLOURS["low"]]


def test_no_thinking_levels_in_the_selection() -> None:
    """Review 19: a filter that selects nothing had read "No calls in this range" over a
    range of 12,000 calls: the page's filters are the sidebar's too."""
    fig = story_charts.thinking_cost(_levels())
    assert not fig.data
    assert fig.layout.annotations[0].text == "No calls in this range and filter"


def test_every_slice_of_a_pie_is_named_in_its_legend() -> None:
    """Browser review (dash15): small slices had no label and no legend, so on a phone
    they could not be told apart. Every slice is in a legend below the donut (largest
    first), and text on a slice is either readable or not drawn (never shrunk to a speck)."""
    frame = pd.DataFrame({"model": ["big", "mini", "tiny", "zero"],
                          "cost": [90.0, 0.4, 0.05, 0.0]})
    fig = charts.share_pie(frame, names="model", values="cost", title="Cost by model",
                           colours=charts.palette(frame["model"]))
    (pie,) = fig.data
    assert fig.layout.showlegend is not False and pie.showlegend is not False
    assert list(pie.labels) == ["big", "mini", "tiny"]  # the legend's order; $0 left out
    assert fig.layout.legend.orientation == "h"
    assert fig.layout.uniformtext.mode == "hide" and fig.layout.uniformtext.minsize >= 10


def _story(models: list[str], failed: list[bool], **extra: list[object]) -> pd.DataFrame:
    """`read.session_timeline`'s columns that the story chart draws."""
    count = len(models)
    frame = pd.DataFrame({"n": range(1, count + 1), "model": models, "is_error": failed,
                          "cost": [0.0 if bad else 0.01 for bad in failed],
                          "context": [0 if bad else 1000 for bad in failed],
                          "cache_hit": [float("nan") if bad else 0.5 for bad in failed],
                          "latency_ms": [500] * count})
    for key, values in extra.items():
        frame[key] = values
    return frame


_NO_MARKS = pd.DataFrame(columns=["kind", "n", "value", "detail"])


def test_cost_per_call_names_each_model_once_and_failed_calls_apart() -> None:
    """Browser review (story15): the cost bars had no legend, and failed calls were drawn
    in error red beside the palette's near red #E45756 (a model's colour). Each model is in
    the legend once, in its colour; a failed call is an x on its bar, a shape no model
    colour can be taken for, grouped with the Markers panel's "error"."""
    models = ["gpt", "sonnet", "gpt", "sonnet", "gpt", "opus"]
    timeline = _story(models, [False, False, True, False, False, False])
    marks = pd.DataFrame({"kind": ["error"], "n": [3.0], "value": [None],
                          "detail": ["the call failed"]})
    colours = charts.palette(["a-model", "b-model", "c-model", "opus", "gpt", "sonnet"])
    fig = story_charts.session_story(timeline, marks, colours)
    bars = [t for t in fig.data if t.type == "bar"]
    assert sorted(t.name for t in bars) == ["gpt", "opus", "sonnet"]
    assert all(t.showlegend is not False and t.marker.color == colours[t.name] for t in bars)
    assert sorted(n for t in bars for n in t.x) == [1, 2, 3, 4, 5, 6]
    named = [t.name for t in fig.data if t.showlegend is not False]
    assert len(named) == len(set(named))
    (failed,) = [t for t in fig.data if t.yaxis == "y2" and t.type != "bar"]
    assert list(failed.x) == [3] and failed.marker.symbol == "x"
    assert failed.showlegend is False and failed.legendgroup == "error"
    (error,) = [t for t in fig.data if t.name == "error"]
    assert error.legendgroup == "error"
    assert fig.layout.yaxis2.rangemode == "nonnegative"


def test_context_has_a_gap_at_a_call_without_usage() -> None:
    """Browser review (story15): a failed call has zero usage, so the context line fell to
    0 there and read as a reset. No context is a gap, as in the cache-hit panel; a failed
    call whose input was billed keeps its context."""
    timeline = _story(["m"] * 4, [False, True, True, False],
                      context=[1000, 0, 1500, 2000])
    fig = story_charts.session_story(timeline, _NO_MARKS)
    (line,) = [t for t in fig.data if t.name == "context"]
    assert [None if pd.isna(v) else v for v in line.y] == [1000, None, 1500, 2000]
    assert line.connectgaps is not True


def test_an_empty_markers_panel_says_there_is_nothing_to_mark() -> None:
    """Browser review (story15): a session without markers had a blank band titled
    "Markers" and no axes. It says so; markers only after the last call are not drawn
    (the table lists them), and the panel does not deny them."""
    timeline = _story(["m"] * 3, [False] * 3)
    texts = {a.text for a in story_charts.session_story(timeline, _NO_MARKS).layout.annotations}
    assert "No errors, model switches, compactions or resets" in texts
    late = pd.DataFrame({"kind": ["reset"], "n": [float("nan")], "value": ["reset"],
                         "detail": ["session reset"]})
    texts = {a.text for a in story_charts.session_story(timeline, late).layout.annotations}
    assert "Nothing marked up to the last call" in texts
    drawn = pd.DataFrame({"kind": ["reset"], "n": [2.0], "value": ["reset"],
                          "detail": ["session reset"]})
    texts = {a.text for a in story_charts.session_story(timeline, drawn).layout.annotations}
    assert texts == {"Markers", "Cost per call", "Context tokens", "Cache hit rate", "Latency"}


def test_long_bar_labels_are_shortened_and_stay_apart() -> None:
    """Review 17 (390 px): 'agent:main:main · started 2026-11-24 03:19' took 70 % of a
    phone's width beside a 60 px bar. Long labels lose their middle (the start time at the
    end tells one key's sessions apart; review 18: what every key says alike goes first, see
    below); labels that would then read alike keep more; the
    whole name is in the hover."""
    run = "agent:main:cron:ef212854-b9a6-4936-8768-82df3d1d84ec:run:{} · started 2026-11-24 03:25"
    names = ["agent:main:main · started 2026-11-24 03:19",
             "agent:main:main · started 2026-11-24 03:22", "fake-gpt-4o",
             run.format("b9af3eb7"), run.format("c0ffee00")]
    short = charts.short_labels(names)
    assert short[:3] == ["main · started …11-24 03:19", "main · started …11-24 03:22",
                         "fake-gpt-4o"]
    assert len(set(short)) == len(names) and all("…" in s for s in short[3:])
    assert charts.short_labels(["same", "same"]) == ["same", "same"]
    frame = pd.DataFrame({"name": names, "cost": [5.0, 4.0, 3.0, 2.0, 1.0]})
    fig = charts.ranked_bars(frame, names="name", values="cost", title="t")
    (bars,) = fig.data
    assert list(bars.y) == [charts.safe(n) for n in names[::-1]]  # one bar per session
    assert list(fig.layout.yaxis.ticktext) == [charts.safe(s) for s in short[::-1]]
    assert "%{y}" in bars.hovertemplate


def _ticks(names: list[str]) -> list[str]:
    """The axis labels `ranked_bars` gives bars of these names, largest (first) on top."""
    frame = pd.DataFrame({"name": names, "cost": [float(len(names) - i)
                                                  for i in range(len(names))]})
    fig = charts.ranked_bars(frame, names="name", values="cost", title="t")
    assert list(fig.data[0].y) == [charts.safe(n) for n in names[::-1]]  # hover: whole
    return list(fig.layout.yaxis.ticktext)[::-1]


def test_short_bar_labels_keep_the_channel_not_what_every_bar_says() -> None:
    """Review 18: 'agent:main:telegram:direct:12345 · started …' read 'agent:main:…2026-11-24
    03:19' on the axis, the channel only in the hover. A long label first loses the
    'agent:' every session key begins with, and the agent's id where every key on the
    chart is one agent's; the cut then keeps more of the head (channel, kind) than of the
    end (the start, without its year), and no stub of a word ('ops:telegram:dir…')."""
    one_agent = ["agent:main:telegram:direct:12345 · started 2026-11-24 03:19",
                 "agent:main:main · started 2026-11-24 03:22",
                 "agent:main:discord:group:987654 · started 2026-11-24 03:25",
                 "agent:main:cron:ef212854-b9a6-4936-8768-82df3d1d84ec · started 2026-11-24 "
                 "03:30", "fake-gpt-4o", "agent:main:main"]
    assert _ticks(one_agent) == ["telegram:direct:…11-24 03:19", "main · started …11-24 03:22",
                                 "discord:group:…11-24 03:25", "cron:ef212854-b9…11-24 03:30",
                                 "fake-gpt-4o", "agent:main:main"]  # short ones stay whole
    two_agents = ["agent:ops:telegram:direct:6072211481 · started 2026-11-19 21:53",
                  "agent:main:main · started 2026-11-15 22:56",
                  "agent:research:telegram:group:-1005563654762 · started 2026-12-01 07:21",
                  "5c65ecf2-73ca-4ff1-b9d9-031bf0ee4222 · started 2026-10-27 20:43"]
    assert _ticks(two_agents) == ["ops:telegram:…11-19 21:53", "main:main · …11-15 22:56",
                                  "research:telegra…12-01 07:21",  # more than a stub: kept
                                  "5c65ecf2-73ca-4f…10-27 20:43"]


def test_short_bar_labels_that_would_read_alike_stay_apart() -> None:
    """Two peers of one channel started in the same minute keep more of themselves; a
    session labelled 'main' beside the key agent:main:main keeps the key's prefix."""
    peers = ["agent:main:telegram:direct:12345 · started 2026-11-24 03:19",
             "agent:main:telegram:direct:67890 · started 2026-11-24 03:19"]
    short = _ticks(peers)
    assert len(set(short)) == 2 and all(s.startswith("telegram:direct:") for s in short)
    named = ["agent:main:main · started 2026-11-24 03:19", "main · started 2026-11-24 03:19"]
    assert _ticks(named) == named


def test_a_lone_ranked_bar_is_as_thick_as_one_of_many() -> None:
    """One sub-agent's spawning session (both samples) was a bar 110 px thick: the chart's
    least height went to it alone. A bar is at most about 28 px thick."""
    def width(rows: int) -> float:
        frame = pd.DataFrame({"name": [f"s{i}" for i in range(rows)],
                              "cost": [1.0 + i for i in range(rows)]})
        fig = charts.ranked_bars(frame, names="name", values="cost", title="t", money=True)
        plot = fig.layout.height - 90  # the title's and the axis's margins out
        return float(fig.data[0].width) * plot / rows  # px
    assert width(1) <= 30 and width(3) <= 30
    assert 20 <= width(15) <= 30  # many bars: as before


def test_bar_labels_of_several_gateways_keep_the_start() -> None:
    """Review 18: a spawning session's bar label with several gateways ended in
    ' · on gw-a', which the cut kept instead of the start that tells one key's sessions
    apart. The gateway now follows the name, the start ends the label; the same session
    id on two gateways still reads apart."""
    from datetime import datetime

    from openclaw_telemetry.timeframe import zone
    from openclaw_telemetry.ui.widgets import session_names
    frame = pd.DataFrame({
        "label": [None, None, None], "session_id": ["s1", "s1", "s2"],
        "session_key": ["agent:main:telegram:direct:12345"] * 2 + ["agent:main:main"],
        "gateway": ["gw-a", "gw-b", "gw-a"],
        "start_time": [datetime(2026, 11, 24, 3, 19)] * 2 + [datetime(2026, 11, 24, 3, 22)]})
    names = session_names(frame, zone("UTC"), gateway=True)
    assert names[2] == "agent:main:main · on gw-a · started 2026-11-24 03:22"
    ticks = _ticks(names)
    assert all(t.endswith(end) for t, end in zip(ticks, ["03:19", "03:19", "03:22"],
                                                 strict=True)), ticks
    assert len(set(ticks)) == 3, ticks


def test_token_kinds_have_colours_of_their_own_none_red() -> None:
    """Review 19: cache read was drawn in plotly's red, the colour of failures and
    critical alerts elsewhere."""
    frame = pd.DataFrame({"provider": ["a", "b"], "input": [1, 2], "output": [3, 4],
                          "cache_read": [5, 6], "cache_write": [7, 8]})
    fig = charts.token_kinds(frame, by="provider", title="t")
    drawn = [bar.marker.color for bar in fig.data]
    assert drawn == list(charts.TOKEN_COLOURS.values())
    assert charts.SEVERITY_COLOURS["critical"] not in drawn and len(set(drawn)) == 4
