"""The insight dashboard (数据看板): numbers from the daily roll-ups.

Volumes, breakdowns, the funnel and handling times come from
``daily_stats`` (services/rollup.py), so a year at a million clues costs a
few thousand summed rows. Due and overdue are about *now* and are counted
live on the open clues. Every number here is also shown as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.models import (
    Campaign,
    Category,
    Clue,
    ClueStatus,
    DailyStat,
    District,
    Situation,
    SourceTag,
)
from app.services import rollup
from app.services.figures import Period
from app.services.types import DbSession
from app.timeutil import as_date

BREAKDOWNS = ("category", "situation", "district", "agency", "channel", "source", "colour",
              "stage", "satisfaction", "first_sat")
OPEN = (ClueStatus.RECEIVED, ClueStatus.TRIAGING, ClueStatus.ACCEPTED, ClueStatus.ASSIGNED,
        ClueStatus.INVESTIGATING)
# The funnel: how far the period's clues have come, each stage counting the
# clues at it or beyond it. Not accepted is a branch beside the funnel.
FUNNEL = (
    ("received", ("received", "triaging", "accepted", "assigned", "investigating", "concluded",
                  "feedback_given", "closed", "closed_na", "not_accepted")),
    ("triaged", ("accepted", "assigned", "investigating", "concluded", "feedback_given",
                 "closed", "closed_na", "not_accepted")),
    ("accepted", ("accepted", "assigned", "investigating", "concluded", "feedback_given",
                  "closed")),
    ("assigned", ("assigned", "investigating", "concluded", "feedback_given", "closed")),
    ("concluded", ("concluded", "feedback_given", "closed")),
    ("closed", ("closed",)),
)
DONE_STAGES = ("concluded", "feedback_given", "closed", "closed_na", "not_accepted")
CONTENT = ("satisfied", "basically")


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    campaign_id: int | None = None  # 0: clues outside any campaign

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)


@dataclass
class Dashboard:
    filters: Filters
    received: int
    closed: int
    series: list[tuple[date, int, int]]  # day, received, closed
    breakdowns: dict[str, list[tuple[str, int]]]
    funnel: list[tuple[str, int]]
    not_accepted: int
    closure_rate: float | None
    satisfaction: float | None
    first_satisfaction: float | None
    median_hours: float | None
    p90_hours: float | None
    overdue: int
    due_soon: int
    open_now: int
    stale_days: int = 0
    labels: dict[str, dict[str, str]] = field(default_factory=dict)


def _scoped(query: Any, filters: Filters) -> Any:
    query = query.where(DailyStat.day >= filters.start, DailyStat.day <= filters.end)
    if filters.campaign_id is not None:
        query = query.where(DailyStat.campaign_id == filters.campaign_id)
    return query


def totals(session: DbSession, filters: Filters,
           dimensions: tuple[str, ...] = BREAKDOWNS) -> dict[str, list[tuple[str, int]]]:
    """Per dimension, (key, clues) largest first."""
    return rollup.totals(session, filters.start, filters.end, dimensions,
                         campaign_id=filters.campaign_id)


def series(session: DbSession, filters: Filters) -> list[tuple[date, int, int]]:
    """Every day of the period: clues received and clues closed."""
    by_day: dict[date, list[int]] = {}
    query = _scoped(select(DailyStat.day, DailyStat.dimension, func.sum(DailyStat.n))
                    .where(DailyStat.dimension.in_(("category", "closed")))
                    .group_by(DailyStat.day, DailyStat.dimension), filters)
    for day, dimension, n in session.execute(query):
        by_day.setdefault(as_date(day), [0, 0])[dimension == "closed"] += int(n)
    found = []
    for offset in range((filters.end - filters.start).days + 1):
        day = filters.start + timedelta(days=offset)
        received, closed = by_day.get(day, (0, 0))
        found.append((day, received, closed))
    return found


def percentile_hours(histogram: list[tuple[int, int]], share: float) -> float | None:
    """The handling time below which ``share`` of the clues were closed.

    ``histogram`` holds (bucket's lower bound in hours, clues); the answer is
    the upper bound of the bucket where the share is reached.
    """
    total = sum(n for _, n in histogram)
    if not total:
        return None
    wanted, seen = share * total, 0
    for lower, n in sorted(histogram):
        seen += n
        if seen >= wanted:
            width = 1 if lower < 24 else 6 if lower < 24 * 7 else 24
            return float(lower + width)
    return None  # pragma: no cover - the loop always reaches the total


def _rate(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def due_now(session: DbSession, filters: Filters, now: datetime) -> tuple[int, int, int]:
    """(overdue, due within 24 h, open) among all clues being handled now — the
    period does not apply (these are today's numbers), the campaign does."""
    conditions: list[Any] = [Clue.status.in_(OPEN)]
    if filters.campaign_id == 0:
        conditions.append(Clue.campaign_id.is_(None))
    elif filters.campaign_id is not None:
        conditions.append(Clue.campaign_id == filters.campaign_id)
    overdue, soon, open_now = session.execute(select(
        func.count().filter(Clue.due_at < now),
        func.count().filter(Clue.due_at >= now, Clue.due_at < now + timedelta(hours=24)),
        func.count(),
    ).where(*conditions)).one()
    return int(overdue or 0), int(soon or 0), int(open_now or 0)


def build(session: DbSession, filters: Filters, *, now: datetime,
          english: bool = False) -> Dashboard:
    stale = rollup.pending(session)
    if stale:
        rollup.refresh(session)
        stale = rollup.pending(session)
    found = totals(session, filters, (*BREAKDOWNS, "hours", "closed"))
    stages = dict(found["stage"])
    received = sum(n for _, n in found["category"])
    funnel = [(name, sum(stages.get(s, 0) for s in members)) for name, members in FUNNEL]
    histogram = [(int(key), n) for key, n in found.pop("hours")]
    closed = sum(n for _, n in found.pop("closed"))
    satisfaction = dict(found["satisfaction"])
    first = dict(found["first_sat"])
    rated = sum(n for key, n in satisfaction.items() if key)
    first_rated = sum(n for key, n in first.items() if key)
    overdue, soon, open_now = due_now(session, filters, now)
    return Dashboard(
        filters=filters, received=received, closed=closed, series=series(session, filters),
        breakdowns=found, funnel=funnel,
        not_accepted=stages.get("not_accepted", 0) + stages.get("closed_na", 0),
        closure_rate=_rate(sum(stages.get(s, 0) for s in DONE_STAGES), received),
        satisfaction=_rate(sum(satisfaction.get(s, 0) for s in CONTENT), rated),
        first_satisfaction=_rate(sum(first.get(s, 0) for s in CONTENT), first_rated),
        median_hours=percentile_hours(histogram, 0.5),
        p90_hours=percentile_hours(histogram, 0.9),
        overdue=overdue, due_soon=soon, open_now=open_now, stale_days=stale,
        labels=labels(session, english=english))


def labels(session: DbSession, *, english: bool = False) -> dict[str, dict[str, str]]:
    """Names for the codes the roll-ups keep (categories, situations, districts, tags)."""
    def names(model: Any) -> dict[str, str]:
        column = model.name_en if english else model.name
        return {code: name for code, name in session.execute(select(model.code, column))}

    return {
        "category": names(Category), "situation": names(Situation),
        "district": names(District),
        "source": {tag: label for tag, label in session.execute(
            select(SourceTag.tag, SourceTag.label))},
    }


def campaigns(session: DbSession) -> list[tuple[int, str]]:
    return [(c.id, c.title) for c in session.scalars(select(Campaign).order_by(
        Campaign.opens_at.desc()))]
