"""Reading enforcement case files: CSV (UTF-8 or GB18030) and XLSX, header aliases.

Yields raw values per canonical column; checking them is services/cases.py's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from app.services import sheets
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


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, object]]]:
    """(row number, {canonical column: raw value}) for each non-empty data row."""
    path = Path(path)
    if not path.is_file():
        raise CasesFileError(f"文件不存在：{path}")
    suffix = path.suffix.lower()
    try:
        rows: Iterator[tuple[int, list[object]]] | Iterator[tuple[int, list[str]]]
        if suffix in (".xlsx", ".xlsm"):
            rows = sheets.xlsx_rows(path)
        elif suffix in (".csv", ".txt", ".tsv"):
            rows = sheets.csv_rows(path.read_bytes())
        else:
            raise CasesFileError("只支持 CSV 或 XLSX 文件")
        first = next(rows, None)
        if first is None:
            raise CasesFileError("文件为空")
        columns = _columns(list(first[1]))
        for line, row in rows:
            if sheets.blank(row):
                continue
            yield line, {key: row[i] if i < len(row) else None for key, i in columns.items()}
    except sheets.SheetError as exc:
        raise CasesFileError(exc.message) from None
