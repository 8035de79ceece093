"""The surge detector on synthetic series with injected surges: known answers."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from app.services import surge


def calendar(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def tail(expected: float, u: int) -> float:
    """P(X > u) for X ~ Poisson(expected), summed independently of the module."""
    return 1 - sum(math.exp(-expected) * expected**k / math.factorial(k) for k in range(u + 1))


@pytest.mark.parametrize(("expected", "upper"), [(0.5, 4), (2, 8), (4, 11), (5, 13), (10, 21)])
def test_poisson_upper_limit_known_answers(expected, upper):
    assert surge.poisson_upper(expected) == upper
    assert tail(expected, upper) < surge.ALPHA <= tail(expected, upper - 1)


@pytest.mark.parametrize(("day", "kind"), [
    ("2025-10-01", "holiday+peak"),  # 国庆
    ("2025-09-28", "workday"),  # Sunday, a 调休 make-up working day
    ("2025-10-11", "workday"),  # Saturday, likewise
    ("2025-03-08", "weekend"),
    ("2025-07-15", "workday+peak"),  # the summer season
    ("2025-05-31", "holiday"),  # 端午, outside the tourist peak
    ("2027-03-06", "weekend"),  # a year the library does not know: Saturday
])
def test_day_types_know_holidays_make_up_days_and_the_peak(day, kind):
    assert surge.day_type(date.fromisoformat(day)) == kind


def test_a_flat_series_raises_nothing():
    days = calendar(date(2025, 2, 10), date(2025, 3, 31))
    assert surge.detect(days, [5] * len(days), start=28) == []


def test_an_injected_one_day_surge_is_flagged_on_its_day_only():
    days = calendar(date(2025, 2, 10), date(2025, 3, 31))
    counts = [5] * len(days)
    surge_day = days.index(date(2025, 3, 19))  # a Wednesday
    counts[surge_day] = 20
    flags = surge.detect(days, counts, start=28)
    assert [(f.day, f.count, f.expected, f.upper, f.rule) for f in flags] == [
        (date(2025, 3, 19), 20, 5.0, 13, "day")]


def test_a_surge_over_several_days_stays_flagged():
    # The flagged days stay out of the baseline, so the surge does not hide itself.
    days = calendar(date(2025, 2, 10), date(2025, 3, 31))
    counts = [5] * len(days)
    first = days.index(date(2025, 3, 17))
    for i in range(first, first + 5):
        counts[i] = 16
    flags = surge.detect(days, counts, start=28)
    assert [f.day for f in flags] == calendar(date(2025, 3, 17), date(2025, 3, 21))
    assert {f.expected for f in flags} == {5.0}


def test_a_slow_start_is_caught_by_the_two_day_test():
    days = calendar(date(2025, 2, 10), date(2025, 3, 31))
    counts = [2] * len(days)
    first = days.index(date(2025, 3, 18))
    counts[first] = counts[first + 1] = 7  # each under the one-day limit of 8
    flags = surge.detect(days, counts, start=28)
    assert [(f.day, f.rule) for f in flags] == [(date(2025, 3, 19), "two_days")]
    # Expected on 19 March: the 20 working days before it, one of them 7.
    assert flags[0].expected == pytest.approx(2.25)


def test_small_numbers_do_not_warn():
    days = calendar(date(2025, 2, 10), date(2025, 3, 31))
    counts = [0] * len(days)
    counts[days.index(date(2025, 3, 19))] = 4  # limit of a quiet series: 4
    assert surge.detect(days, counts, start=28) == []
    counts[days.index(date(2025, 3, 19))] = 5
    assert [f.count for f in surge.detect(days, counts, start=28)] == [5]


def tourist_series(days: list[date], *, holiday: int) -> list[int]:
    """Two clues a day, ``holiday`` on statutory holidays (and 8 on 国庆 2025)."""
    return [8 if date(2025, 10, 1) <= d <= date(2025, 10, 8)
            else holiday if surge.day_type(d).startswith("holiday") else 2 for d in days]


def test_national_day_is_compared_with_earlier_holidays_not_with_working_days():
    days = calendar(date(2024, 10, 1), date(2025, 10, 10))
    start = days.index(date(2025, 9, 1))
    # Holidays always busy: 国庆's 8 a day is what holidays bring, no warning,
    # although it is four times the working days before it.
    assert surge.detect(days, tourist_series(days, holiday=8), start=start) == []
    # Holidays usually as quiet as other days: 国庆 at 8 a day is a surge,
    # caught by the two-day test on its second day and flagged throughout.
    flags = surge.detect(days, tourist_series(days, holiday=2), start=start)
    assert flags[0].day == date(2025, 10, 2)
    assert flags[0].rule == "two_days"
    assert {f.day for f in flags} == set(calendar(date(2025, 10, 2), date(2025, 10, 8)))


def test_the_make_up_working_day_is_a_working_day():
    # A Sunday that is a working day (28 September 2025) is judged with working
    # days: ten clues, as on other working days, are no surge; weekends are quiet.
    days = calendar(date(2025, 8, 25), date(2025, 9, 30))
    counts = [10 if surge.day_type(d).startswith("workday") else 1 for d in days]
    assert surge.detect(days, counts, start=28) == []


def test_evaluate_gives_every_day_its_band():
    days = calendar(date(2025, 2, 10), date(2025, 3, 31))
    result = surge.evaluate(days, [5] * len(days), start=len(days) - 28)
    assert len(result) == 28
    assert {(d.expected, d.upper, d.flag) for d in result} == {(5.0, 13, None)}
