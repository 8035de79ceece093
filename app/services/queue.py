"""The review queue: filters, sorting and keyset pagination.

Keyset pagination (``WHERE (created_at, id) < (:at, :id)``) costs the same on
page 1 and page 10,000, which OFFSET does not. The cursor is opaque to the
browser but not secret: it carries only a time and an id.

The condition is written ``created_at <= :at AND (created_at < :at OR id <
:id)``: the first half is a range the ``created_at`` index serves directly.
Written as a bare OR, PostgreSQL filters the index from its newest end
instead, and a page in the middle of a million clues took 1.5 s.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import Select, and_, false, func, or_, select

from app import search
from app.models import Clue, ClueStatus
from app.services import counts, scenarios
from app.services.types import DbSession
from app.timeutil import LOCAL

PAGE_SIZE = 50
# Filtered counts stop here ("1,000+"): exact counts of arbitrary filters at
# a million clues would cost more than the page they decorate. Counting reads
# each matching row, so the cap is the cost: at a million clues 10,000 took
# about 100 ms for status + colour + district, 1,000 takes about 10 ms.
COUNT_CAP = 1_000
Q = TypeVar("Q", bound=Select)
OPEN_STATUSES = tuple(s for s in ClueStatus if s not in (ClueStatus.CLOSED, ClueStatus.MERGED))
SORTS = ("newest", "oldest", "due")


@dataclass
class Filters:
    campaign_id: int | None = None
    status: str | None = None
    colour: str | None = None
    category: str | None = None
    district: str | None = None
    department: str | None = None
    channel: str | None = None
    source_tag: str | None = None
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    # A scenario theme ("<scenario>:<theme>") and its clue rule, resolved by the
    # door from the scenario file (services/scenarios.py); the rule travels with
    # the filters so that an export job replays it. A theme without a rule (no
    # longer configured) matches nothing.
    theme: str | None = None
    theme_rule: dict[str, list[str]] | None = None
    # A liaison sees only their department's clues: set by the door, not the user.
    scope_department: str | None = None


@dataclass
class Page:
    clues: list[Clue]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)
    counts_capped: bool = False


def _where(query: Q, filters: Filters, now: datetime, with_status: bool = True,
           dialect: str = "sqlite", broad: bool = False) -> Q:
    conditions = []
    if filters.scope_department:
        conditions.append(Clue.handling_department_code == filters.scope_department)
    if filters.campaign_id:
        conditions.append(Clue.campaign_id == filters.campaign_id)
    if with_status and filters.status:
        conditions.append(Clue.status == filters.status)
    for column, value in ((Clue.colour, filters.colour), (Clue.category_code, filters.category),
                          (Clue.district_code, filters.district),
                          (Clue.handling_department_code, filters.department),
                          (Clue.channel, filters.channel), (Clue.source_tag, filters.source_tag)):
        if value:
            conditions.append(column == value)
    if filters.overdue:
        conditions.append(and_(Clue.due_at < now, Clue.status.in_(OPEN_STATUSES)))
    if filters.date_from:
        start = datetime.combine(filters.date_from, time(), tzinfo=LOCAL)
        conditions.append(Clue.created_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), tzinfo=LOCAL)
        conditions.append(Clue.created_at < end)
    if filters.text and filters.text.strip():
        conditions.append(search.condition(dialect, filters.text, broad=broad))
    if filters.theme:
        conditions.append(scenarios.rule_condition(scenarios.ClueRule.from_json(
            filters.theme_rule), dialect) if filters.theme_rule else false())
    return query.where(*conditions) if conditions else query


def encode_cursor(clue: Clue, sort: str) -> str:
    key = clue.due_at if sort == "due" else clue.created_at
    raw = json.dumps([key.isoformat() if key else None, clue.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime | None, int] | None:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(raw[0]) if raw[0] else None
        return moment, int(raw[1])
    except (ValueError, TypeError, IndexError, json.JSONDecodeError):
        return None


def list_clues(session: DbSession, filters: Filters, *, now: datetime, sort: str = "newest",
               cursor: str | None = None, page_size: int = PAGE_SIZE,
               with_counts: bool = True) -> Page:
    """One page of the queue, and the counts per status under the same filters."""
    sort = sort if sort in SORTS else "newest"
    dialect = session.get_bind().dialect.name
    broad = bool(filters.text) and search.is_broad(session, filters.text or "")
    query = _where(select(Clue), filters, now, dialect=dialect, broad=broad)
    after = _decode_cursor(cursor) if cursor else None
    if sort == "due":
        query = query.where(Clue.due_at.is_not(None))
        if after and after[0]:
            query = query.where(Clue.due_at >= after[0],
                                or_(Clue.due_at > after[0], Clue.id > after[1]))
        query = query.order_by(Clue.due_at, Clue.id)
    elif sort == "oldest":
        if after and after[0]:
            query = query.where(Clue.created_at >= after[0],
                                or_(Clue.created_at > after[0], Clue.id > after[1]))
        query = query.order_by(Clue.created_at, Clue.id)
    else:
        if after and after[0]:
            query = query.where(Clue.created_at <= after[0],
                                or_(Clue.created_at < after[0], Clue.id < after[1]))
        query = query.order_by(Clue.created_at.desc(), Clue.id.desc())
    rows = list(session.scalars(query.limit(page_size + 1)))
    next_cursor = encode_cursor(rows[page_size - 1], sort) if len(rows) > page_size else None
    result = Page(rows[:page_size], next_cursor)
    if with_counts:
        result.counts, result.counts_capped = _counts(session, filters, now, dialect)
    return result


def count_matching(session: DbSession, filters: Filters, *, now: datetime, limit: int) -> int:
    """How many clues match the filters, counting no further than ``limit``.

    Bounded so that asking "is this export small?" reads at most ``limit``
    matching rows, not all of a million.
    """
    dialect = session.get_bind().dialect.name
    matching = _where(select(Clue.id), filters, now, dialect=dialect).limit(limit).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)


def _unfiltered(filters: Filters) -> bool:
    return all(not value for key, value in vars(filters).items() if key != "status")


def _counts(session: DbSession, filters: Filters, now: datetime,
            dialect: str) -> tuple[dict[str, int], bool]:
    """Counts per status under the filters (all but status itself)."""
    if _unfiltered(filters):
        return counts.totals(session), False
    matching = _where(select(Clue.status), filters, now, with_status=False,
                      dialect=dialect).limit(COUNT_CAP + 1).subquery()
    found = {str(status): n for status, n in session.execute(
        select(matching.c.status, func.count()).group_by(matching.c.status))}
    return found, sum(found.values()) > COUNT_CAP
