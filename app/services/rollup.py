"""Daily roll-ups: kept current as clues change, recomputed a day at a time.

Every flush that adds or changes a clue marks the clue's Shanghai day of
receipt (and the day it was closed, or is no longer closed) in
``stats_dirty``, in the same transaction, by adding a row: a mark never
updates a row, so concurrent submissions never wait for one another.
:func:`refresh` takes the dirty days, deletes the marks it saw first and then
recomputes the days from the clues. A mark it did not see, because its
transaction had not committed yet, is not deleted (neither database deletes
a row it cannot see), so the day stays stale until a refresh counts that
change too.
Bulk writers that bypass the ORM (bulk demo data, the hotline import) call
:func:`mark` themselves.

What a day holds, per campaign (0 when none) — merged clues are left out:

- clues received that day by ``category``, ``situation``, ``district``,
  ``agency``, ``channel``, ``source`` (QR source tag), ``colour``, ``stage``
  (the current status; a closed clue that was not accepted is
  ``closed_na``), ``satisfaction``, ``first_sat`` and ``replied`` (key "1":
  the reporter has had a written answer);
- clues closed that day by ``hours``: the bucket of their handling time from
  receipt to closure (whole hours up to a day, 6-hour steps up to a week,
  then whole days), and their number under ``closed``;
- clues received that day per theme of the configured scenarios: ``theme``,
  ``theme_agency`` and ``theme_ver`` (services/theme_rollup.py, which also
  says how days are recounted when the scenario file's rules change).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    case,
    delete,
    event,
    exists,
    func,
    insert,
    inspect,
    literal,
    select,
)
from sqlalchemy.orm import Session

from app.models import Clue, ClueEvent, ClueStatus, DailyStat, DirtyDay, clue_situations
from app.services import theme_rollup
from app.services.scenario_config import ScenarioSet
from app.services.types import DbSession
from app.timeutil import as_date, local, local_today, sql_local_day, utcnow

RECEIVED_DIMENSIONS: dict[str, Any] = {
    "category": Clue.category_code,
    "district": Clue.district_code,
    "agency": Clue.agency,
    "channel": Clue.channel,
    "source": func.coalesce(Clue.source_tag, ""),
    "colour": func.coalesce(Clue.colour, ""),
    "stage": case((Clue.status == ClueStatus.CLOSED,
                   case((Clue.not_accepted_reason.is_not(None), "closed_na"), else_="closed")),
                  else_=Clue.status),
    "satisfaction": func.coalesce(Clue.satisfaction, ""),
    "first_sat": func.coalesce(Clue.first_satisfaction, ""),
}
# Refresh on a page view at most this many days; the rest waits for the next
# view or `flask stats refresh` (after an upgrade: `flask stats rebuild`).
REFRESH_LIMIT = 62
CHUNK_DAYS = 31


def hours_bucket(hours: float) -> int:
    """The bucket (its lower bound, in hours) a handling time falls into."""
    if hours < 24:
        return max(0, int(hours))
    if hours < 24 * 7:
        return int(hours // 6) * 6
    return int(hours // 24) * 24


# -- marking ---------------------------------------------------------------


def mark(session: DbSession, days: Iterable[date]) -> None:
    """Mark days stale, in the caller's transaction."""
    rows = [{"day": day} for day in sorted(set(days))]
    if rows:
        session.connection().execute(insert(DirtyDay), rows)


def _day(moment: datetime | None) -> date:
    return local(moment or utcnow()).date()


@event.listens_for(Session, "before_flush")
def _mark_changed_clues(session: Session, flush_context: Any, instances: Any) -> None:
    days: set[date] = set()
    for clue in session.new:
        if isinstance(clue, Clue):
            days.add(_day(clue.created_at))
            if clue.closed_at is not None:
                days.add(_day(clue.closed_at))
    for clue in list(session.dirty) + list(session.deleted):
        if not isinstance(clue, Clue) or not session.is_modified(clue):
            continue
        days.add(_day(clue.created_at))
        history = inspect(clue).attrs.closed_at.history
        for closed in (*history.added, *history.deleted):
            if closed is not None:
                days.add(_day(closed))
    if days:
        mark(session, days)


# -- recomputing -----------------------------------------------------------


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Contiguous runs of days, each at most CHUNK_DAYS long."""
    ordered = sorted(set(days))
    start = previous = ordered[0]
    for day in ordered[1:]:
        if day != previous + timedelta(days=1) or (day - start).days >= CHUNK_DAYS:
            yield start, previous
            start = day
        previous = day
    yield start, previous


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    from app.services.figures import Period

    return Period(first, last).bounds()


def _compute(session: DbSession, first: date, last: date,
             themes: ScenarioSet) -> list[dict[str, Any]]:
    start, end = _bounds(first, last)
    campaign = func.coalesce(Clue.campaign_id, 0)
    received = (Clue.created_at >= start, Clue.created_at < end,
                Clue.status != ClueStatus.MERGED)
    day = sql_local_day(session.get_bind().dialect.name, Clue.created_at)
    rows: list[dict[str, Any]] = []

    def collect(dimension: str, query: Any) -> None:
        for row_day, row_campaign, key, n in session.execute(query):
            rows.append({"dimension": dimension, "day": as_date(row_day),
                         "campaign_id": int(row_campaign), "key": str(key)[:200], "n": int(n)})

    for dimension, column in RECEIVED_DIMENSIONS.items():
        collect(dimension, select(day, campaign, column, func.count())
                .where(*received).group_by(day, campaign, column))
    replied = exists().where(ClueEvent.clue_id == Clue.id, ClueEvent.public_message.is_not(None))
    collect("replied", select(day, campaign, literal("1"), func.count())
            .where(*received, replied).group_by(day, campaign))
    collect("situation", select(day, campaign, clue_situations.c.situation_code, func.count())
            .join(clue_situations, clue_situations.c.clue_id == Clue.id)
            .where(*received).group_by(day, campaign, clue_situations.c.situation_code))

    closed: dict[tuple[date, int, str, str], int] = defaultdict(int)
    for created, closed_at, row_campaign in session.execute(
            select(Clue.created_at, Clue.closed_at, campaign).where(
                Clue.closed_at >= start, Clue.closed_at < end,
                Clue.status != ClueStatus.MERGED)):
        closed_day = _day(closed_at)
        hours = (closed_at - created).total_seconds() / 3600 if closed_at else 0.0
        closed[(closed_day, int(row_campaign), "closed", "")] += 1
        closed[(closed_day, int(row_campaign), "hours", str(hours_bucket(hours)))] += 1
    rows += [{"dimension": dimension, "day": row_day, "campaign_id": row_campaign, "key": key,
              "n": n} for (row_day, row_campaign, dimension, key), n in closed.items()]
    received_days = {row["day"] for row in rows if row["dimension"] == theme_rollup.RECEIVED}
    return rows + theme_rollup.rows(session, themes, first, last, received_days)


def _recompute(session: DbSession, first: date, last: date, themes: ScenarioSet) -> int:
    theme_rollup.share_lock(session)
    session.execute(delete(DailyStat).where(DailyStat.day >= first, DailyStat.day <= last))
    rows = _compute(session, first, last, themes)
    if rows:
        session.execute(insert(DailyStat), rows)
    return len(rows)


def refresh(session: DbSession, *, limit: int | None = REFRESH_LIMIT) -> int:
    """Recompute the stale days (newest first, at most ``limit``), then recount the
    themes of at most ``limit`` days counted with other rules; commits.

    Returns how many days were recomputed or recounted.
    """
    themes = theme_rollup.configured(session)
    query = (select(DirtyDay.day, func.max(DirtyDay.id)).group_by(DirtyDay.day)
             .order_by(DirtyDay.day.desc()))
    if limit is not None:
        query = query.limit(limit)
    seen = session.execute(query).all()
    days = [as_date(day) for day, _last in seen]
    if days:
        # The marks seen go first: a change committed from now on, or still
        # in flight now, keeps a mark of its own.
        session.execute(delete(DirtyDay).where(DirtyDay.day.in_(days),
                                               DirtyDay.id <= max(last for _day, last in seen)))
        for first, last in _runs(days):
            _recompute(session, first, last, themes)
        session.commit()
    else:
        session.rollback()
    return len(days) + theme_rollup.recount(session, themes, limit=limit, chunk=CHUNK_DAYS)


def totals(session: DbSession, first: date, last: date, dimensions: Iterable[str], *,
           campaign_id: int | None = None) -> dict[str, list[tuple[str, int]]]:
    """Per dimension, (key, clues) over the days ``first`` to ``last``, largest first."""
    found: dict[str, list[tuple[str, int]]] = {d: [] for d in dimensions}
    query = (select(DailyStat.dimension, DailyStat.key, func.sum(DailyStat.n))
             .where(DailyStat.dimension.in_(list(found)), DailyStat.day >= first,
                    DailyStat.day <= last)
             .group_by(DailyStat.dimension, DailyStat.key))
    if campaign_id is not None:
        query = query.where(DailyStat.campaign_id == campaign_id)
    for dimension, key, n in session.execute(query):
        if n:
            found[dimension].append((key, int(n)))
    for rows in found.values():
        rows.sort(key=lambda row: (-row[1], row[0]))
    return found


def refresh_all(session: DbSession) -> int:
    """Refresh until no day is stale (reports, CLI); returns how many days."""
    total = 0
    while done := refresh(session):
        total += done
    return total


def pending(session: DbSession) -> int:
    """How many days wait for a refresh (not counting days whose themes wait)."""
    return session.scalar(select(func.count(DirtyDay.day.distinct()))) or 0


def rebuild(session: DbSession, *, today: date | None = None) -> int:
    """Recompute every day from the first clue to today (or the last closure);
    commits per chunk. Returns how many days."""
    earliest, latest, closed = session.execute(select(
        func.min(Clue.created_at), func.max(Clue.created_at), func.max(Clue.closed_at))).one()
    themes = theme_rollup.configured(session)
    session.execute(delete(DirtyDay))
    session.execute(delete(DailyStat))
    session.commit()
    if earliest is None:
        return 0
    first = _day(earliest)
    final = max(today or local_today(), _day(latest), _day(closed or latest))
    days = 0
    while first <= final:
        last = min(first + timedelta(days=CHUNK_DAYS - 1), final)
        _recompute(session, first, last, themes)
        session.commit()
        days += (last - first).days + 1
        first = last + timedelta(days=1)
    return days
