"""Backtest of the month-end forecast (issue 12): generated daily-spend histories, the
forecast made at the end of day 10 and of day 20 of each month, against the real month end.

    .venv/bin/python bench/backtest_forecast.py [--histories 200] [--months 12] [--seed 12]

Each history is one user's daily spend in US$ over `--months` months (plus 14 days before,
so the first month has a pace): a level drawn log-uniformly from $0.20 to $50 a day, day to
day noise, quieter weekends, and one of four shapes: `steady`; `trend` (the level grows or
shrinks by up to 60 % a month); `spiky` (3 % of days are runaway days at 5-15x); `sparse`
(40 % of days without any call). The forecast is the product's own `forecast.project` on
the spend so far and the last 14 complete days, exactly as `read.spend_outlook` calls it.
Reported per shape and overall: the absolute percentage error of the projection (median,
mean, p90) and how often the real month end fell inside the p10-p90 range (ideal: 80 %).
"""

from __future__ import annotations

import argparse
import calendar
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openclaw_telemetry.forecast import HISTORY_DAYS, project

SHAPES = ("steady", "trend", "spiky", "sparse")
FIRST = date(2025, 12, 18)  # 14 days of history before the first month, 2026-01


def history(rng: np.random.Generator, shape: str, days: int) -> np.ndarray:
    """One user's daily spend over `days` days from FIRST."""
    level = float(np.exp(rng.uniform(np.log(0.2), np.log(50.0))))
    noise = rng.lognormal(-0.125, 0.5, days)  # mean 1
    weekday = np.array([0.45 if (FIRST + timedelta(days=i)).weekday() >= 5 else 1.2
                        for i in range(days)])
    spend = level * noise * weekday
    if shape == "trend":
        spend *= np.exp(rng.uniform(-0.6, 0.6) * np.arange(days) / 30.0)
    elif shape == "spiky":
        spend *= np.where(rng.random(days) < 0.03, rng.uniform(5, 15, days), 1.0)
    elif shape == "sparse":
        spend *= (rng.random(days) >= 0.4) / 0.6
    return np.asarray(spend)


def forecasts(spend: np.ndarray, months: int, on_day: int) -> list[tuple[float, float, float,
                                                                        float]]:
    """(projected, p10, p90, real month end) for each month, made at the end of `on_day`."""
    out = []
    for m in range(months):
        year, month = 2026 + m // 12, m % 12 + 1
        first = date(year, month, 1)
        length = calendar.monthrange(year, month)[1]
        start = (first - FIRST).days
        cut = start + on_day
        start_at = datetime(year, month, 1, tzinfo=UTC)
        made = project(spent=float(spend[start:cut].sum()),
                       history=[float(v) for v in spend[cut - HISTORY_DAYS:cut]],
                       now=start_at + timedelta(days=on_day), start=start_at,
                       end=start_at + timedelta(days=length))
        out.append((made.projected, made.low, made.high, float(spend[start:start + length].sum())))
    return out


def summary(rows: list[tuple[float, float, float, float]]) -> str:
    errors = np.array([abs(p - real) / real for p, _, _, real in rows if real > 0])
    inside = np.mean([low <= real <= high for _, low, high, real in rows])
    return (f"{np.median(errors):6.1%} | {errors.mean():6.1%} | "
            f"{np.percentile(errors, 90):6.1%} | {inside:6.1%}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--histories", type=int, default=200, help="histories per shape")
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--seed", type=int, default=12)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    days = HISTORY_DAYS + 31 * args.months + 31
    results: dict[tuple[str, int], list[tuple[float, float, float, float]]] = {}
    for shape in SHAPES:
        for _ in range(args.histories):
            spend = history(rng, shape, days)
            for on_day in (10, 20):
                results.setdefault((shape, on_day), []).extend(
                    forecasts(spend, args.months, on_day))
    print(f"{args.histories} histories per shape x {args.months} months, seed {args.seed}\n")
    print("| shape | forecast made | median error | mean error | p90 error | real end in p10-p90 |")
    print("|---|---|---|---|---|---|")
    for on_day in (10, 20):
        for shape in SHAPES:
            print(f"| {shape} | end of day {on_day} | {summary(results[(shape, on_day)])} |")
        everything = [r for (_, d), rows in results.items() if d == on_day for r in rows]
        print(f"| **all** | end of day {on_day} | {summary(everything)} |")


if __name__ == "__main__":
    main()
