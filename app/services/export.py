"""Export of the filtered queue, never with identity, streamed in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.models import Clue
from app.services import audit, queue
from app.services.types import DbSession
from app.timeutil import rfc3339

HEADER = ["tracking_no", "submitted_at", "channel", "source_tag", "category", "situations",
          "agency", "district", "occurred_on", "amount_yuan", "status", "colour", "due_at",
          "handling_department", "conclusion", "recovered_yuan", "satisfaction", "real_name",
          "description"]
BATCH = 1000


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell must not start a formula.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:.2f}"


def rows(session: DbSession, filters: queue.Filters, now: datetime) -> Iterator[list[str]]:
    """Every matching clue, newest first, read in keyset batches."""
    cursor = None
    while True:
        page = queue.list_clues(session, filters, now=now, cursor=cursor, page_size=BATCH,
                                with_counts=False)
        ids = [c.id for c in page.clues]
        clues: list[Clue] = list(session.scalars(
            select(Clue).where(Clue.id.in_(ids)).options(selectinload(Clue.situations))
            .order_by(Clue.created_at.desc(), Clue.id.desc()))) if ids else []
        for clue in clues:
            yield [_cell(v) for v in (
                clue.tracking_no, rfc3339(clue.created_at), clue.channel, clue.source_tag,
                clue.category_code, " ".join(s.code for s in clue.situations), clue.agency,
                clue.district_code, clue.occurred_on, _yuan(clue.amount_fen), clue.status,
                clue.colour, rfc3339(clue.due_at), clue.handling_department_code,
                clue.conclusion, _yuan(clue.recovered_fen), clue.satisfaction,
                "yes" if clue.real_name else "no", clue.description)]
        session.expunge_all()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def csv_chunks(session: DbSession, filters: queue.Filters, now: datetime) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so that Excel opens UTF-8 Chinese correctly
    writer.writerow(HEADER)
    for n, row in enumerate(rows(session, filters, now), start=1):
        writer.writerow(row)
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def log_export(session: DbSession, *, actor: str, filters: queue.Filters, fmt: str,
               now: datetime) -> None:
    """Every export is an audited event, with the filters that shaped it."""
    used = {k: str(v) for k, v in vars(filters).items() if v not in (None, False)}
    audit.record(session, actor=actor, action="queue.export",
                 details={"format": fmt, "filters": used}, now=now)
    session.commit()
