"""Regenerate the XLSX twins of the sample CSV files in this folder.

    .venv/bin/python tests/data/make_samples.py

The CSV files are the source (written by hand, reviewed in diffs); the XLSX
files carry the same rows the way the source systems export them: identifiers
and phone numbers as text, times and dates as real date cells, amounts as
numbers. Importers must read both forms. Document properties are fixed so that
a re-run gives the same content.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
FIXED = datetime(2025, 10, 1, 8, 0, 0)


def _read(name: str) -> list[list[str]]:
    with (HERE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def _save(wb: Workbook, name: str) -> None:
    wb.properties.creator = "jidu tests/data/make_samples.py"
    wb.properties.created = FIXED
    wb.properties.modified = FIXED
    wb.save(HERE / name)


def hotline_sample() -> None:
    rows = _read("hotline_sample.csv")
    header, body = rows[0], rows[1:]
    wb = Workbook()
    ws = wb.active
    ws.title = "工单导出"
    ws.append(header)
    when = header.index("受理时间")
    for row in body:
        cells: list[object] = list(row)
        cells[when] = datetime.strptime(row[when], "%Y-%m-%d %H:%M:%S")
        ws.append(cells)
    for row_cells in ws.iter_rows(min_row=2, min_col=when + 1, max_col=when + 1):
        for cell in row_cells:
            cell.number_format = "yyyy-mm-dd hh:mm:ss"
    _save(wb, "hotline_sample.xlsx")


def cases_sample() -> None:
    rows = _read("cases_sample.csv")
    header, body = rows[0], rows[1:]
    wb = Workbook()
    ws = wb.active
    ws.title = "执法案件"
    ws.append(header)
    decided, amount = header.index("decided_on"), header.index("amount_yuan")
    for row in body:
        cells: list[object] = list(row)
        cells[decided] = date.fromisoformat(row[decided])
        if row[amount]:
            value = Decimal(row[amount])
            cells[amount] = int(value) if value == value.to_integral_value() else float(value)
        else:
            cells[amount] = None
        ws.append(cells)
    for row_cells in ws.iter_rows(min_row=2, min_col=decided + 1, max_col=decided + 1):
        for cell in row_cells:
            cell.number_format = "yyyy-mm-dd"
    _save(wb, "cases_sample.xlsx")


if __name__ == "__main__":
    hotline_sample()
    cases_sample()
    print("written: hotline_sample.xlsx, cases_sample.xlsx")
