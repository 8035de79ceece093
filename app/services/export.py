"""Export of the filtered queue, never with identity, streamed in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

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
# Excel's limit is 1,048,576 rows a sheet: the header and this many rows.
XLSX_SHEET_ROWS = 1_048_575
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def write_xlsx(target: Path | IO[bytes], rows_: Iterable[list[str]]) -> int:
    """Write the rows as an XLSX workbook in constant memory; returns how many.

    openpyxl's write-only mode streams each row to disk. Every value is
    written as text: openpyxl stores a string as a formula only when it starts
    with "=", which ``rows`` has already defused as for CSV, and which is
    checked again here (the second lock). A queue longer than a sheet
    continues on the next sheet, each with its header.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    book = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet | None = None

    def text(value: str) -> str | WriteOnlyCell | None:
        if not value:
            return None
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            return "'" + value
        if value in ERROR_CODES:  # "#N/A" typed by a reporter is text, not an error cell
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
        return value

    count = 0
    for count, row in enumerate(rows_, start=1):
        if sheet is None or (count - 1) % XLSX_SHEET_ROWS == 0:
            number = (count - 1) // XLSX_SHEET_ROWS + 1
            sheet = book.create_sheet("clues" if number == 1 else f"clues ({number})")
            sheet.append(HEADER)
        sheet.append([text(value) for value in row])
    if sheet is None:
        book.create_sheet("clues").append(HEADER)
    book.save(target)
    return count


def log_export(session: DbSession, *, actor: str, filters: queue.Filters, fmt: str,
               now: datetime) -> None:
    """Every export is an audited event, with the filters that shaped it."""
    audit.record(session, actor=actor, action="queue.export",
                 details={"format": fmt, "filters": filter_details(filters)}, now=now)
    session.commit()


def filter_details(filters: queue.Filters) -> dict[str, str]:
    # A theme is named by its key; its rule (the scenario file's lists) is not repeated.
    return {k: str(v) for k, v in vars(filters).items()
            if v not in (None, False) and k != "theme_rule"}
