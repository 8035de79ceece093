"""Times are stored in UTC and shown, and judged by date, in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, literal_column

LOCAL = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL)


def local_today(now: datetime | None = None) -> date:
    return local(now or utcnow()).date()


def rfc3339(moment: datetime | None) -> str | None:
    """RFC 3339 in Shanghai time, as the API promises (``+08:00``)."""
    if moment is None:
        return None
    return local(moment).isoformat(timespec="seconds")


def parse_aware(text: str) -> datetime:
    """Parse an ISO 8601 time that must carry an offset; returns UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("the time needs an offset, e.g. +08:00")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+08:00 or 9999-12-31T23:00-05:00: no such UTC time.
        raise ValueError("the time is out of range") from None


def sql_local_day(dialect: str, column: Any) -> ColumnElement[Any]:
    """The Shanghai calendar day of a stored (naive UTC) time, in SQL.

    Shanghai has kept UTC+8 without summer time since 1991.
    """
    if dialect == "postgresql":
        return func.date(column + literal_column("interval '8 hours'"))
    return func.date(column, "+8 hours")


def as_date(value: Any) -> date:
    """A day as the database returns it: a date (PostgreSQL) or its ISO text (SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
