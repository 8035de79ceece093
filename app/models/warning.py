"""Early warnings (预警): a series whose daily count went over its expected band.

Called ``EarlyWarning`` rather than ``Warning`` so as not to shadow Python's
built-in ``Warning`` class wherever the models are imported.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base
from app.models.types import UTCDateTime
from app.timeutil import utcnow


class Dimension(enum.StrEnum):
    CATEGORY = "category"
    DISTRICT = "district"
    AGENCY = "agency"
    # A theme (专题) of a configured scenario (services/scenarios.py); its key
    # is "<scenario code>:<theme code>".
    THEME = "theme"


class EarlyWarning(Base):
    __tablename__ = "warnings"
    __table_args__ = (
        # One warning per series and day: a re-scan updates, never duplicates.
        UniqueConstraint("dimension", "key", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[Dimension] = mapped_column(String(16))
    # A category or district code, an agency's name as the clues give it, or
    # "<scenario>:<theme>".
    key: Mapped[str] = mapped_column(String(200))
    # The Shanghai calendar day the surge was seen on.
    day: Mapped[date] = mapped_column(index=True)
    count: Mapped[int]
    expected: Mapped[float]
    upper: Mapped[int]
    # "day" or "two_days": which test of services/surge.py fired.
    rule: Mapped[str] = mapped_column(String(16), default="day")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
