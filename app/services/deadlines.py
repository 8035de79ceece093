"""Response deadlines per colour, counted in Chinese working days.

Working days come from ``chinese_calendar``, which knows the State Council's
holidays and 调休 make-up working days. For a year it does not know yet, the
count falls back to Monday–Friday and says so, so that a reviewer can check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar

from app.timeutil import LOCAL, local


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    warning: str | None = None


def is_workday(day: date) -> tuple[bool, bool]:
    """(is a working day, known to the holiday calendar)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        return day.weekday() < 5, False


def add_workdays(start: datetime, days: int) -> Deadline:
    """The end (23:59:59 Shanghai) of the ``days``-th working day after ``start``'s date."""
    day = local(start).date()
    counted, unknown = 0, False
    while counted < days:
        day += timedelta(days=1)
        workday, known = is_workday(day)
        unknown = unknown or not known
        counted += workday
    due = datetime.combine(day, time(23, 59, 59), tzinfo=LOCAL)
    warning = "holiday_calendar_unknown" if unknown else None
    return Deadline(due, warning)


def due_for(colour: str, start: datetime, *, red_hours: int, orange_workdays: int,
            yellow_workdays: int) -> Deadline:
    if colour == "red":
        return Deadline(start + timedelta(hours=red_hours))
    return add_workdays(start, orange_workdays if colour == "orange" else yellow_workdays)
