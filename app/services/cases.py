"""Import of enforcement case records (执法案件) from CSV or XLSX.

Every row is checked on its own: good rows are imported, bad rows are reported
with their row number (the header is row 1, as a spreadsheet shows it) and a
reason in Chinese. Rows are written in batches, each batch one transaction;
a case number already stored is updated, not duplicated, so a run that
crashed half-way is completed by running it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import Base
from app.models import CaseType, Department, District, EnforcementCase
from app.services import audit
from app.services.case_files import read_rows
from app.services.types import DbSession
from app.timeutil import local_today

BATCH_SIZE = 1000
MAX_AMOUNT_FEN = 10**14  # 1 trillion yuan: anything larger is a typing error

CASE_TYPES = {
    "inspection": CaseType.INSPECTION, "行政检查": CaseType.INSPECTION,
    "检查": CaseType.INSPECTION,
    "penalty": CaseType.PENALTY, "行政处罚": CaseType.PENALTY, "处罚": CaseType.PENALTY,
    "compulsory": CaseType.COMPULSORY, "行政强制": CaseType.COMPULSORY,
    "行政强制措施": CaseType.COMPULSORY, "强制": CaseType.COMPULSORY,
    "强制措施": CaseType.COMPULSORY,
}

# Short forms found in agency names (普陀区市监局, 沈家门派出所 …), longest first
# where one is part of another; used only when the department column is empty.
AGENCY_HINTS: tuple[tuple[str, str], ...] = (
    ("市场监督管理", "market"), ("市监", "market"),
    ("文化和广电旅游体育", "tourism"), ("文广旅体", "tourism"), ("文旅", "tourism"),
    ("交通运输", "transport"), ("运管", "transport"),
    ("综合行政执法", "urban"), ("综合执法", "urban"), ("城管", "urban"),
    ("住房和城乡建设", "housing"), ("住建", "housing"),
    ("自然资源和规划", "planning"), ("自然资源", "planning"),
    ("生态环境", "environment"), ("环保", "environment"),
    ("应急管理", "emergency"),
    ("海洋与渔业", "fishery"), ("渔业", "fishery"), ("渔政", "fishery"),
    ("农业农村", "agriculture"),
    ("卫生健康", "health"), ("卫健", "health"),
    ("公安", "public_security"), ("派出所", "public_security"),
    ("税务", "tax"),
    ("消防", "fire"),
)

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass(frozen=True)
class CaseRecord:
    case_no: str
    agency: str
    department_code: str | None
    district_code: str
    domain: str
    case_type: CaseType
    decided_on: date
    amount_fen: int | None

    def values(self) -> tuple[Any, ...]:
        return (self.agency, self.department_code, self.district_code, self.domain,
                str(self.case_type), self.decided_on, self.amount_fen)


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportResult:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged


# --- checking --------------------------------------------------------------

@dataclass(frozen=True)
class Lookups:
    districts: dict[str, str]
    departments: dict[str, str]
    today: date

    @classmethod
    def load(cls, session: DbSession, today: date) -> Lookups:
        districts: dict[str, str] = {}
        for d in session.scalars(select(District)):
            districts.update({d.code: d.code, d.name: d.code})
            # 定海区 → 定海, 嵊泗县 → 嵊泗: both spellings occur in exports.
            if d.name[-1:] in "区县" and len(d.name) > 2:
                districts[d.name[:-1]] = d.code
        departments: dict[str, str] = {}
        for dept in session.scalars(select(Department)):
            departments.update({dept.code: dept.code, dept.name: dept.code})
        return cls(districts, departments, today)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        return date.fromisoformat(text)  # the common case, and fast
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _amount_fen(value: object) -> int | None:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = _text(value).replace(",", "").replace("，", "").lstrip("¥￥").removesuffix("元")
        if not text:
            return None
        amount = Decimal(text)
    if not amount.is_finite():
        raise InvalidOperation
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError("decimals")
    return int(fen)


def infer_department(agency: str, departments: dict[str, str]) -> str | None:
    for name, code in departments.items():
        if name != code and name in agency:
            return code
    for hint, code in AGENCY_HINTS:
        if hint in agency and code in departments:
            return code
    return None


def check_row(raw: dict[str, object], lookups: Lookups) -> CaseRecord | str:
    """The record, or the reason (Chinese) why the row is refused."""
    case_no = _text(raw.get("case_no"))
    if not case_no:
        return "缺少案件编号"
    if len(case_no) > 64:
        return "案件编号超过 64 个字符"
    agency = _text(raw.get("agency"))
    if not agency:
        return "缺少执法主体"
    if len(agency) > 200:
        return "执法主体超过 200 个字符"
    domain = _text(raw.get("domain"))
    if not domain:
        return "缺少执法领域"
    if len(domain) > 64:
        return "执法领域超过 64 个字符"
    type_text = _text(raw.get("case_type"))
    case_type = CASE_TYPES.get(type_text.lower())
    if case_type is None:
        return f"案件类型无法识别：{type_text or '（空）'}（应为行政检查、行政处罚或行政强制）"
    try:
        decided_on = _date(raw.get("decided_on"))
    except ValueError:
        return f"决定日期格式不正确：{_text(raw.get('decided_on')) or '（空）'}（应为 YYYY-MM-DD）"
    if decided_on > lookups.today:
        return f"决定日期 {decided_on.isoformat()} 晚于今天"
    if decided_on.year < 1990:
        return f"决定日期 {decided_on.isoformat()} 过早"
    try:
        amount_fen = _amount_fen(raw.get("amount_yuan"))
    except (ValueError, InvalidOperation, ArithmeticError):
        return f"金额格式不正确：{_text(raw.get('amount_yuan'))}（单位为元，最多两位小数）"
    if amount_fen is not None and amount_fen < 0:
        return "金额不能为负数"
    if amount_fen is not None and amount_fen > MAX_AMOUNT_FEN:
        return "金额过大"
    district_text = _text(raw.get("district"))
    district = lookups.districts.get(district_text)
    if district is None:
        return f"未知区域：{district_text or '（空）'}"
    department_text = _text(raw.get("department"))
    if department_text:
        # A code, a name, or a name with its place (普陀区市场监督管理局).
        department = lookups.departments.get(department_text) or infer_department(
            department_text, lookups.departments)
        if department is None:
            return f"未知部门：{department_text}"
    else:
        department = infer_department(agency, lookups.departments)
    return CaseRecord(case_no, agency, department, district, domain, case_type, decided_on,
                      amount_fen)


def check_rows(rows: Iterable[tuple[int, dict[str, object]]], lookups: Lookups,
               result: ImportResult) -> Iterator[CaseRecord]:
    """Good records; bad rows (and repeats of a case number) go to result.errors."""
    first_line: dict[str, int] = {}
    for line, raw in rows:
        result.rows += 1
        checked = check_row(raw, lookups)
        if isinstance(checked, str):
            result.errors.append(RowError(line, checked))
            continue
        seen = first_line.get(checked.case_no)
        if seen is not None:
            result.errors.append(RowError(
                line, f"案件编号 {checked.case_no} 与第 {seen} 行重复，本行未导入"))
            continue
        first_line[checked.case_no] = line
        yield checked


# --- writing ---------------------------------------------------------------

def _upsert_statement(session: DbSession) -> Any:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Core, not ORM, insert: the ORM's bulk path costs twice the time per row.
    stmt = insert(Base.metadata.tables[EnforcementCase.__tablename__])
    columns = ("agency", "department_code", "district_code", "domain", "case_type",
               "decided_on", "amount_fen", "updated_at")
    return stmt.on_conflict_do_update(
        index_elements=["case_no"], set_={c: stmt.excluded[c] for c in columns})


def upsert(session: DbSession, records: list[CaseRecord], now: datetime,
           result: ImportResult) -> None:
    """Write one batch and commit it: new numbers inserted, changed ones updated."""
    existing = {
        row[0]: tuple(row[1:]) for row in session.execute(
            select(EnforcementCase.case_no, EnforcementCase.agency,
                   EnforcementCase.department_code, EnforcementCase.district_code,
                   EnforcementCase.domain, EnforcementCase.case_type,
                   EnforcementCase.decided_on, EnforcementCase.amount_fen)
            .where(EnforcementCase.case_no.in_([r.case_no for r in records])))
    }
    changed = []
    for record in records:
        before = existing.get(record.case_no)
        if before is None:
            result.inserted += 1
        elif before == record.values():
            result.unchanged += 1
            continue
        else:
            result.updated += 1
        changed.append({
            "case_no": record.case_no, "agency": record.agency,
            "department_code": record.department_code, "district_code": record.district_code,
            "domain": record.domain, "case_type": str(record.case_type),
            "decided_on": record.decided_on, "amount_fen": record.amount_fen,
            "imported_at": now, "updated_at": now,
        })
    if changed:
        session.execute(_upsert_statement(session), changed)
    session.commit()


def import_records(session: DbSession, records: Iterable[CaseRecord], *, now: datetime,
                   result: ImportResult, batch_size: int = BATCH_SIZE) -> None:
    batch: list[CaseRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            upsert(session, batch, now, result)
            batch = []
    if batch:
        upsert(session, batch, now, result)


def import_file(session: DbSession, path: str | Path, *, now: datetime, actor: str,
                batch_size: int = BATCH_SIZE) -> ImportResult:
    """Import a CSV or XLSX file of case records; raises CasesFileError if unreadable."""
    result = ImportResult()
    lookups = Lookups.load(session, local_today(now))
    rows = read_rows(path)
    try:
        import_records(session, check_rows(rows, lookups, result), now=now, result=result,
                       batch_size=batch_size)
    except BaseException:
        session.rollback()
        raise
    audit.record(session, actor=actor, action="cases.imported", target=Path(path).name,
                 details={"rows": result.rows, "inserted": result.inserted,
                          "updated": result.updated, "unchanged": result.unchanged,
                          "rejected": len(result.errors)}, now=now)
    session.commit()
    return result
