"""Where a period's spend will end, with a range: pure arithmetic over daily spend.

The pace is the mean daily spend of the recent complete local days (up to `HISTORY_DAYS`
before today, from the first day with any spend); the rest of the period is expected to
cost pace x days left, and its uncertainty is that of a sum of independent days drawn from
the recent ones, whose mean is itself only estimated from n days: a prediction interval
with standard deviation sigma x sqrt(L + L^2 / n) for L days left, so the p10-p90 range is
+-1.2816 of that (never below what is already spent). With fewer than `MIN_HISTORY`
recent days the pace is the period's spend so far per elapsed day (at least one day),
with sigma = pace and n = 1: a wide range for a young install. The run-out moment is when the
amount is reached at the mean pace (None if not within the period).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

HISTORY_DAYS = 14
MIN_HISTORY = 3
_Z90 = 1.2816  # the standard normal's 90th percentile


@dataclass(frozen=True, slots=True)
class Forecast:
    """Projected spend at the period's end: `low` <= `projected` <= `high`, all >= spent.
    `pace` is dollars per day; `runs_out` (same zone as `now`) is None when the amount is
    not reached within the period at that pace, `now` when it is already reached."""

    spent: float
    projected: float
    low: float
    high: float
    pace: float
    runs_out: datetime | None


def pace_of(history: Sequence[float], spent: float, elapsed_days: float) -> tuple[float, float]:
    """(mean, standard deviation) of daily spend: see the module docstring."""
    if len(history) >= MIN_HISTORY:
        mean = sum(history) / len(history)
        var = sum((v - mean) ** 2 for v in history) / (len(history) - 1)
        return mean, math.sqrt(var)
    mean = spent / max(elapsed_days, 1.0)
    return mean, mean


def project(*, spent: float, history: Sequence[float], now: datetime, start: datetime,
            end: datetime, amount: float | None = None) -> Forecast:
    """The forecast for a period `[start, end)` at `now` (all aware), given the spend so far
    and the recent complete days' spend (oldest first)."""
    elapsed = max((now - start) / timedelta(days=1), 0.0)
    left = max((end - now) / timedelta(days=1), 0.0)
    mean, sigma = pace_of(history, spent, elapsed)
    known = len(history) if len(history) >= MIN_HISTORY else 1
    expected, spread = mean * left, _Z90 * sigma * math.sqrt(left + left * left / known)
    runs_out: datetime | None = None
    if amount is not None and spent >= amount:
        runs_out = now
    elif amount is not None and mean > 0 and (amount - spent) / mean <= left:
        runs_out = now + timedelta(days=(amount - spent) / mean)
    return Forecast(spent, spent + expected, spent + max(expected - spread, 0.0),
                    spent + expected + spread, mean, runs_out)
