"""One formatter per kind of number (#11 defect 8): money, counts, durations, changes."""

from __future__ import annotations

import pytest

from openclaw_telemetry.ui import format as fmt


@pytest.mark.parametrize(("value", "shown"), [
    (15.9075, "$15.91"), (1234.5, "$1,234.50"), (0.5, "$0.50"), (0.0, "$0.00"),
    (0.0012, "$0.0012"), (-3.0, "-$3.00"), (None, "—"), (float("nan"), "—")])
def test_money(value: float | None, shown: str) -> None:
    assert fmt.money(value) == shown


def test_counts_are_exact_at_every_size() -> None:
    """'11.8M' beside '653,196' on the same screen: one style."""
    assert fmt.count(11_812_345) == "11,812,345"
    assert fmt.count(653_196) == "653,196"
    assert fmt.count(None) == "—"


@pytest.mark.parametrize(("seconds", "shown"), [
    (4, "4.0 s"), (12, "12 s"), (192, "3 min 12 s"), (180, "3 min"), (3600, "1 h"), (11_520, "3 h 12 min"),
    (86_400, "24 h"), (3 * 86_400 + 4 * 3600, "3 d 4 h"), (None, "—"),
    # below 10 s the tenths or milliseconds a tool call takes, never a table of "0 s"
    (0, "0 s"), (0.114, "114 ms"), (0.0004, "0 ms"), (0.9996, "1.0 s"), (1.5, "1.5 s"),
    (9.94, "9.9 s"), (9.96, "10 s"), (59.6, "1 min")])
def test_durations(seconds: float | None, shown: str) -> None:
    """'an hour' beside '3.2 h', and every cron run 'a few seconds': one precise style."""
    assert fmt.duration(seconds) == shown


def test_no_arrow_for_no_change() -> None:
    """'+0.0%' with a green arrow: a change that rounds to zero is no change."""
    assert fmt.change(100.0, 100.01) is None
    assert fmt.change(110.0, 100.0) == "+10.0%"
    assert fmt.points(0.1, 0.1) is None
    assert fmt.text(None) == "—" and fmt.text(float("nan")) == "—" and fmt.text("x") == "x"


@pytest.mark.parametrize(("value", "digits", "shown"), [
    (0.25, 1, "25.0%"), (0.0, 1, "0.0%"), (0.000_4, 1, "<0.1%"), (0.000_5, 1, "0.1%"),
    (0.002, 0, "<1%"), (0.5, 0, "50%"), (None, 1, "—")])
def test_a_share_that_is_not_zero_never_reads_zero(value: float | None, digits: int,
                                                   shown: str) -> None:
    """Overview: "estimated … $0.0076 (0.0%)" of a $100 total."""
    assert fmt.percent(value, digits) == shown


@pytest.mark.parametrize(("values", "least", "decimals"), [
    ([12.5, 0.0, 1_234.0], 2, 2), ([], 2, 2), ([0.0, float("nan")], 2, 2),
    ([3 * 0.0015, 10.0], 2, 4), ([0.005], 2, 4), ([0.01], 2, 2), ([0.000_012], 2, 6),
    ([0.0015], 4, 4), ([0.000_012], 4, 6)])
def test_money_decimals_of_a_column(values: list[float], least: int, decimals: int) -> None:
    """A table column of amounts: as `money`, a cheap amount never reads as free."""
    assert fmt.money_decimals(values, least) == decimals


def test_a_count_and_its_noun_agree() -> None:
    """"2 info alert(s) firing": one or several, said as such."""
    assert fmt.counted(1, "info alert") == "1 info alert"
    assert fmt.counted(2, "info alert") == "2 info alerts"
    assert fmt.counted(0, "call") == "0 calls" and fmt.counted(1_204, "call") == "1,204 calls"


def test_amounts_side_by_side_share_their_decimals() -> None:
    """Comparisons: "$0.02" against "$0.0064": the first was $0.0166, so the change beside
    it could not be checked by eye. Given decimals, an amount shows exactly those."""
    decimals = fmt.money_decimals([0.0166, 0.0064])
    assert decimals == 4
    assert [fmt.money(v, decimals) for v in (0.0166, 0.0064)] == ["$0.0166", "$0.0064"]
    assert fmt.money(-1234.5, 3) == "-$1,234.500"
    assert fmt.money(None, 4) == "—"


def test_a_small_negative_amount_puts_its_sign_before_the_dollar() -> None:
    """The Cache table's write premium of a model whose cache writes cost less than its
    input read "$-0.0015"; amounts of a cent and more already read "-$1.50"."""
    assert [fmt.money(v) for v in (-0.0015, -0.00001234, -1.5)] == [
        "-$0.0015", "-$1.2e-05", "-$1.50"]
