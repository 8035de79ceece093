"""Clues for the early-warning tests, inserted directly with chosen creation times."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

from app.extensions import db
from app.models import Channel, Clue
from app.timeutil import LOCAL

SECRET_TEXT = "某所执法人员暗示送礼才能通过检查"
AGENCY = "普陀区某某局执法大队"
_numbers = itertools.count(1)


def add_clues(day: date, n: int, *, at: time = time(10), category: str = "fines",
              district: str = "putuo", agency: str = AGENCY) -> None:
    created = datetime.combine(day, at, tzinfo=LOCAL).astimezone(UTC)
    for _ in range(n):
        number = next(_numbers)
        db.session.add(Clue(
            tracking_no=f"WT{number:014d}", receipt_hash=f"warning-test-{number}",
            channel=Channel.LETTER, category_code=category, agency=agency,
            district_code=district, description=SECRET_TEXT, real_name=False,
            created_at=created, updated_at=created))


def surge_sample(surge_day: date, *, background_days: int = 45) -> None:
    """Two clues a day (fines, putuo, AGENCY) and one a day elsewhere; on
    ``surge_day`` 20 more, half just after midnight and half just before the
    next midnight, Shanghai time, so that only Shanghai days count them right."""
    for k in range(background_days, -3, -1):
        day = surge_day - timedelta(days=k)
        add_clues(day, 2)
        add_clues(day, 1, category="seizures", district="dinghai", agency="定海区某局")
    add_clues(surge_day, 10, at=time(0, 30))
    add_clues(surge_day, 10, at=time(23, 30))
    db.session.commit()
