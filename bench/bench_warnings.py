"""Early-warning detector on synthetic surges: precision, recall, detection delay.

Usage: .venv/bin/python bench/bench_warnings.py [--series 200] [--seed 1]

Synthetic daily counts for 2024–2025 (days of the real Chinese holiday
calendar): each series has a base level between 0.3 and 20 clues a day
(log-uniform) and one of two seasonal shapes — "office" (weekends ×0.4,
statutory holidays ×0.3) or "tourism" (weekends ×1.2, holidays ×2, tourist
peak ×1.6) — with Poisson noise. 2024 is history only; in 2025 each series
gets two surges of 3–7 days, each adding a Poisson number of clues a day with
mean m × max(base of that day, 2), m drawn uniformly from 1.5 to 4; the first
surge day gets half of it (a ramp). The detector (app/services/surge.py) runs
over the whole series, exactly as the scan does.

A flag on a surge day (or the day after it) is a true alarm, any other flag a
false one. Precision = true alarms / all alarms. A surge counts as detected
when a flag falls within 2 days of its start (delay 0 = flagged on its first
day); recall = detected / injected. Delay is reported for every surge found
at all within its span.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.services.surge import day_type, detect  # noqa: E402

START = date(2024, 1, 1)
EVAL_FROM = date(2025, 1, 1)
END = date(2025, 12, 31)
WITHIN_DAYS = 2


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation is plenty for a benchmark's noise
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def seasonal(day: date, shape: str) -> float:
    kind = day_type(day)
    factor = 1.0
    if shape == "office":
        factor = 0.3 if kind.startswith("holiday") else 0.4 if kind.startswith("weekend") else 1
    else:
        factor = 2.0 if kind.startswith("holiday") else 1.2 if kind.startswith("weekend") else 1
        factor *= 1.6 if kind.endswith("+peak") else 1
    return factor


def run(series: int, seed: int) -> None:
    rng = random.Random(seed)
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    start_index = days.index(EVAL_FROM)
    true_alarms = false_alarms = injected = found_in_time = 0
    delays: list[int] = []
    started = time.perf_counter()
    for _ in range(series):
        base = math.exp(rng.uniform(math.log(0.3), math.log(20)))
        shape = rng.choice(["office", "tourism"])
        means = [base * seasonal(day, shape) for day in days]
        extra = [0.0] * len(days)
        surges: list[tuple[int, int]] = []
        while len(surges) < 2:
            first = rng.randrange(start_index + 10, len(days) - 10)
            length = rng.randint(3, 7)
            if any(abs(first - other) < 40 for other, _ in surges):
                continue
            m = rng.uniform(1.5, 4)
            for k in range(length):
                extra[first + k] = m * max(means[first + k], 2) * (0.5 if k == 0 else 1)
            surges.append((first, first + length - 1))
        counts = [poisson(rng, means[i]) + poisson(rng, extra[i]) for i in range(len(days))]
        flags = {flag.index for flag in detect(days, counts, start=start_index)}
        for index in flags:
            if any(first <= index <= last + 1 for first, last in surges):
                true_alarms += 1
            else:
                false_alarms += 1
        for first, last in surges:
            injected += 1
            hits = [i - first for i in sorted(flags) if first <= i <= last]
            if hits:
                delays.append(hits[0])
                found_in_time += hits[0] <= WITHIN_DAYS
    elapsed = time.perf_counter() - started
    alarms = true_alarms + false_alarms
    precision = true_alarms / alarms if alarms else 1.0
    series_days = series * (len(days) - start_index)
    print(f"series: {series}, evaluated days: {len(days) - start_index} each "
          f"({series_days} series-days), surges injected: {injected}")
    print(f"alarms: {alarms} (true {true_alarms}, false {false_alarms}; "
          f"{false_alarms / series_days * 1000:.2f} false per 1000 series-days)")
    print(f"precision: {precision:.3f}")
    print(f"recall (flagged within {WITHIN_DAYS} days of the start): "
          f"{found_in_time / injected:.3f}")
    print(f"recall (flagged at any point of the surge): {len(delays) / injected:.3f}")
    median = statistics.median(delays) if delays else float("nan")
    print(f"median detection delay: {median:g} days (0 = on the first surge day)")
    print(f"detector time: {elapsed:.2f} s ({elapsed / series * 1000:.1f} ms per series-pair "
          f"of years)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    run(args.series, args.seed)


if __name__ == "__main__":
    main()
