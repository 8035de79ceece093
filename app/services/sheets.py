"""Reading the spreadsheets partners export: CSV in UTF-8 or GB18030, and XLSX.

Shared by the hotline and enforcement-case imports; each says which columns
it wants and checks the values itself.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from app.services.errors import DomainError


class SheetError(DomainError):
    """The file cannot be read at all (not CSV/XLSX, damaged, undecodable)."""

    code = "sheet_unreadable"


def decode(raw: bytes) -> str:
    # Excel on Chinese Windows saves "CSV" as GB18030; UTF-8 (with or without
    # BOM) is tried first. GB18030 decodes any byte string, so this never fails
    # outright; a wrong guess shows up as unknown headers.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("无法识别文件编码")  # pragma: no cover


def csv_rows(raw: bytes) -> Iterator[tuple[int, list[str]]]:
    """(line number where the row ends, cells); tab-separated files are read too."""
    text = decode(raw)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise SheetError(f"CSV 第 {reader.line_num} 行无法解析：{exc}") from None


def xlsx_rows(stream: IO[bytes] | Path) -> Iterator[tuple[int, list[object]]]:
    """(row number, cells) of the first sheet, read in openpyxl's read-only mode."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise SheetError(f"无法读取 XLSX 文件：{exc.__class__.__name__}") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise SheetError("XLSX 文件没有工作表")
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def blank(cells: list[object] | list[str]) -> bool:
    return all(cell is None or str(cell).strip() == "" for cell in cells)
