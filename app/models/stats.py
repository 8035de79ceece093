"""Daily roll-ups (日汇总) that keep the dashboard fast at a million clues.

``daily_stats`` holds, per Shanghai day and campaign, how many clues fall
under each key of each dimension: clues *received* that day by category,
situation, district, agency, channel, QR source tag, colour, stage and
satisfaction, and clues *closed* that day by handling time. It is derived
data: ``services/rollup.py`` recomputes a day whenever one of its clues
changes, and can rebuild the whole table from the clues.

``stats_dirty`` lists the days whose roll-up is stale. Every change to a
clue marks its days in the same transaction by adding a row: marks never
update a row, so concurrent submissions never wait for one another, and a
refresh deletes only the marks it saw, so that a change still being
committed keeps its day stale.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Base


class DailyStat(Base):
    __tablename__ = "daily_stats"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    # 0 for clues outside any campaign (hotline, manual entry).
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    n: Mapped[int]


class DirtyDay(Base):
    __tablename__ = "stats_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
