"""Reading enforcement case files: CSV (UTF-8 or GB18030) and XLSX, header aliases.

Yields raw values per canonical column; checking them is services/cases.py's job.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from app.services.errors import DomainError

# Canonical column → accepted headers (compared after _norm_header).
HEADERS: dict[str, tuple[str, ...]] = {
    "case_no": ("case_no", "案件编号", "案号", "文书编号", "决定书文号"),
    "agency": ("agency", "执法主体", "执法机关", "执法单位"),
    "department": ("department", "department_code", "所属部门", "部门"),
    "domain": ("domain", "执法领域", "领域"),
    "case_type": ("case_type", "type", "案件类型", "执法类型"),
    "decided_on": ("decided_on", "date", "决定日期", "日期", "作出日期"),
    "amount_yuan": ("amount_yuan", "amount", "金额(元)", "金额", "罚没金额(元)"),
    "district": ("district", "district_code", "所属区域", "区域", "地区"),
}
REQUIRED = ("case_no", "agency", "domain", "case_type", "decided_on", "district")


class CasesFileError(DomainError):
    """The file cannot be read at all (missing, wrong format, no usable header)."""

    code = "cases_file"


def _norm_header(text: object) -> str:
    value = str(text or "").strip().lower().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", value)


def _columns(header: list[object]) -> dict[str, int]:
    wanted = {alias: key for key, aliases in HEADERS.items()
              for alias in (_norm_header(a) for a in aliases)}
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = wanted.get(_norm_header(name))
        if key and key not in columns:
            columns[key] = index
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        raise CasesFileError("表头缺少必填列：" + "、".join(HEADERS[k][1] for k in missing))
    return columns


def _csv_rows(path: Path) -> Iterator[list[object]]:
    raw = path.read_bytes()
    # Excel in Chinese Windows saves "CSV" as GB18030; UTF-8 (with or
    # without BOM) is tried first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte sequence
        raise CasesFileError("无法识别文件编码")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        raise CasesFileError(f"CSV 第 {reader.line_num} 行无法解析：{exc}") from None


def _xlsx_rows(path: Path) -> Iterator[list[object]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise CasesFileError(f"无法读取 XLSX 文件：{exc.__class__.__name__}") from None
    try:
        sheet = workbook.active
        if sheet is None:
            raise CasesFileError("XLSX 文件没有工作表")
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, object]]]:
    """(row number, {canonical column: raw value}) for each non-empty data row."""
    path = Path(path)
    if not path.is_file():
        raise CasesFileError(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        rows = _csv_rows(path)
    else:
        raise CasesFileError("只支持 CSV 或 XLSX 文件")
    header = next(rows, None)
    if header is None:
        raise CasesFileError("文件为空")
    columns = _columns(header)
    for line, row in enumerate(rows, start=2):
        if all(cell is None or str(cell).strip() == "" for cell in row):
            continue
        yield line, {key: row[i] if i < len(row) else None for key, i in columns.items()}
