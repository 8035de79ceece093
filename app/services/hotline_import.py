"""Bulk import of the hotline's daily export (CSV or XLSX), row by row accountable.

The hotline system exports its own column names; a mapping names, for each
field Jidu needs, the column that holds it (DEFAULT_MAPPING knows the usual
Chinese headers, and the operator can override any of them). Every row is
validated like an API order. Good rows are imported, each bad row is
reported with its line and reason, and nothing is imported twice: rows are
committed in batches, a batch entirely or not at all, and an order number
already stored with the same content is skipped, so a file whose import was
interrupted can simply be imported again.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from sqlalchemy import select

from app.messages import field_message
from app.models import Department, District, HotlineOrder, Role, User
from app.security import envelope
from app.services import audit, campaigns, hotline, hotline_store, notify, screening, sheets
from app.services.errors import ValidationFailed
from app.services.types import DbSession
from app.timeutil import LOCAL

BATCH = 1000
# Field → the headers it is known by, the hotline's own first.
DEFAULT_MAPPING: dict[str, list[str]] = {
    "order_no": ["工单编号", "工单号", "order_no"],
    "received_at": ["受理时间", "来电时间", "received_at"],
    "content": ["诉求内容", "工单内容", "content"],
    "district": ["所属区域", "区域", "district"],
    "hotline_category": ["诉求分类", "工单分类", "hotline_category"],
    "dispatched_to": ["派单部门", "承办部门", "dispatched_to"],
    "disputed": ["是否争议", "派单争议", "disputed"],
    "caller.name": ["来电人", "来电人姓名", "caller_name"],
    "caller.phone": ["联系电话", "来电号码", "caller_phone"],
}
FIELD_NAMES = {"order_no": "工单编号", "received_at": "受理时间", "content": "诉求内容",
               "district": "所属区域", "hotline_category": "诉求分类",
               "dispatched_to": "派单部门", "disputed": "是否争议", "caller": "来电人",
               "caller.name": "来电人", "caller.phone": "联系电话"}
YES = {"是", "yes", "true", "1", "y", "争议"}
NO = {"否", "no", "false", "0", "n", ""}


class ImportError_(ValueError):
    """The file as a whole cannot be read (not CSV/XLSX, no header, a needed column missing)."""


@dataclass
class Rejected:
    line: int
    reason: str


@dataclass
class ImportReport:
    imported: int = 0
    related: int = 0
    disputed: int = 0
    skipped: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.imported + self.skipped + len(self.rejected)


def read_rows(name: str, stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, {header: value}) for each data row of a CSV or XLSX file."""
    suffix = Path(name).suffix.lower()
    try:
        rows: Iterator[tuple[int, list[object]]] | Iterator[tuple[int, list[str]]]
        if suffix == ".xlsx":
            rows = sheets.xlsx_rows(stream)
        elif suffix in (".csv", ".txt", ""):
            rows = sheets.csv_rows(stream.read())
        else:
            raise ImportError_("只能导入 CSV 或 XLSX 文件")
        first = next(rows, None)
        if first is None or sheets.blank(first[1]):
            raise ImportError_("文件是空的或没有表头")
        names = [str(h).strip() if h is not None else "" for h in first[1]]
        for line, cells in rows:
            if not sheets.blank(cells):
                yield line, dict(zip(names, cells, strict=False))
    except sheets.SheetError as exc:
        raise ImportError_(exc.message) from None


def resolve_mapping(headers: list[str], overrides: Mapping[str, str] | None) -> dict[str, str]:
    """Field → column, from the overrides first, then the known headers."""
    mapping: dict[str, str] = {}
    for target, known in DEFAULT_MAPPING.items():
        wanted = (overrides or {}).get(target)
        if wanted:
            if wanted not in headers:
                raise ImportError_(f"映射的列“{wanted}”不在文件中")
            mapping[target] = wanted
            continue
        found = next((h for h in known if h in headers), None)
        if found:
            mapping[target] = found
    for needed in ("order_no", "received_at", "content", "district"):
        if needed not in mapping:
            raise ImportError_(f"找不到“{FIELD_NAMES[needed]}”列，请在列映射中指定")
    return mapping


@dataclass
class _Lookup:
    """Chinese names and codes of districts and departments, as a hotline writes them."""

    districts: dict[str, str]
    departments: dict[str, str]
    department_names: list[tuple[str, str]]

    @classmethod
    def load(cls, session: DbSession) -> _Lookup:
        districts: dict[str, str] = {}
        for code, name in session.execute(select(District.code, District.name)):
            districts[code] = code
            districts[name] = code
        departments: dict[str, str] = {}
        names = []
        for code, name in session.execute(select(Department.code, Department.name)):
            departments[code] = code
            departments[name] = code
            names.append((name, code))
        return cls(districts, departments, names)

    def district(self, value: str) -> str:
        return self.districts.get(value, value)

    def department(self, value: str) -> str:
        if value in self.departments:
            return self.departments[value]
        # 普陀区市场监督管理局 → market: the bureau's name inside a local one.
        for name, code in self.department_names:
            if name in value:
                return code
        return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _time(value: Any) -> str:
    """A local time as the hotline writes it, as RFC 3339 (Excel cells come as datetimes)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=LOCAL)
        return moment.isoformat()
    if isinstance(value, date):
        return datetime.combine(value, time(), LOCAL).isoformat()
    text = _text(value).replace("/", "-")
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text.replace("T", " ") if "+" not in text else text)
    except ValueError:
        return text  # left for validation to refuse, with the row's line
    return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)).isoformat()


def to_order(row: Mapping[str, Any], mapping: Mapping[str, str], lookup: _Lookup) -> dict[str, Any]:
    """One export row as the JSON the API takes."""
    value = {target: row.get(column) for target, column in mapping.items()}
    order: dict[str, Any] = {
        "order_no": _text(value.get("order_no")),
        "received_at": _time(value.get("received_at")),
        "content": _text(value.get("content")),
        "district": lookup.district(_text(value.get("district"))),
    }
    category = _text(value.get("hotline_category"))
    if category:
        order["hotline_category"] = category
    dispatched = _text(value.get("dispatched_to"))
    if dispatched:
        order["dispatched_to"] = lookup.department(dispatched)
    disputed = _text(value.get("disputed")).lower()
    order["disputed"] = True if disputed in YES else (False if disputed in NO else disputed)
    caller = {k: _text(value.get(f"caller.{k}")) for k in ("name", "phone")}
    caller = {k: v for k, v in caller.items() if v}
    if caller:
        order["caller"] = caller
    return order


def _reason(fields: Mapping[str, str]) -> str:
    if fields.get("caller") == "no_key":
        return "尚未生成身份密钥，无法加密来电人信息"
    return "；".join(f"{FIELD_NAMES.get(k, k)}：{field_message(v)}"
                    for k, v in sorted(fields.items()))


@dataclass
class _Prepare:
    """The per-row work of an import, free of the database: runs in worker processes.

    Turning a row into an order, validating it, fingerprinting, screening
    (the word segmenter) and sealing the caller take most of an import's
    time and need nothing but these values, so a large file is spread over
    the machine's cores while the main process only inserts.
    """

    mapping: dict[str, str]
    lookup: _Lookup
    public_key: bytes | None
    receipt_key: str
    campaign_id: int | None
    now: datetime

    def __call__(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[_Prepared]:
        sealer = _sealer(self.public_key)
        districts = set(self.lookup.districts.values())
        departments = set(self.lookup.departments.values())
        out: list[_Prepared] = []
        for line, row in chunk:
            raw = to_order(row, self.mapping, self.lookup)
            try:
                item = hotline.validate(None, raw, districts=districts, departments=departments)
            except ValidationFailed as exc:
                out.append((line, None, exc.fields))
                continue
            if item.caller and sealer is None:
                out.append((line, None, {"caller": "no_key"}))
                continue
            mark = hotline.fingerprint(item, self.receipt_key)
            out.append((line, hotline_store.plan(
                item, hotline.screen(item), fingerprint_=mark, sealer=sealer,
                receipt_key=self.receipt_key, campaign_id=self.campaign_id,
                agency=hotline.agency_named(item.content), now=self.now, source="import"),
                None))
        return out


# (line, the planned rows, or None and the field errors)
_Prepared = tuple[int, "hotline_store.Plan | None", "dict[str, str] | None"]
_SEALERS: dict[bytes, envelope.Sealer] = {}


def _sealer(public: bytes | None) -> envelope.Sealer | None:
    if public is None:
        return None
    if public not in _SEALERS:  # one key exchange per process and import
        _SEALERS.clear()
        _SEALERS[public] = envelope.Sealer(X25519PublicKey.from_public_bytes(public))
    return _SEALERS[public]


_WORKER: _Prepare | None = None


def _init_worker(prepare: _Prepare) -> None:
    global _WORKER
    _WORKER = prepare


def _work(chunk: list[tuple[int, dict[str, Any]]]) -> list[_Prepared]:
    if _WORKER is None:  # pragma: no cover - the pool always runs the initializer
        raise RuntimeError("worker not initialised")
    return _WORKER(chunk)


def _chunks(rows: Iterator[tuple[int, dict[str, Any]]],
            size: int) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prepared(prepare: _Prepare, rows: Iterator[tuple[int, dict[str, Any]]],
              workers: int) -> Iterator[list[_Prepared]]:
    """Prepared chunks in file order: in worker processes when the file is large."""
    head = list(itertools.islice(rows, 2 * BATCH))
    chunks = _chunks(itertools.chain(head, rows), BATCH)
    if workers < 2 or len(head) < 2 * BATCH or "fork" not in mp.get_all_start_methods():
        yield from map(prepare, chunks)
        return
    screening.warm_up()  # load the segmenter once, before forking, for every worker
    with mp.get_context("fork").Pool(workers, _init_worker, (prepare,)) as pool:
        yield from pool.imap(_work, chunks)


def import_file(session: DbSession, name: str, stream: IO[bytes], *,
                overrides: Mapping[str, str] | None, public_key: X25519PublicKey | None,
                receipt_key: str, now: datetime, actor: str,
                workers: int = 1) -> ImportReport:
    """Import a hotline export; returns what was imported, skipped and refused, by line."""
    rows = read_rows(name, stream)
    first = next(rows, None)
    report = ImportReport()
    if first is None:
        return report
    campaign = campaigns.open_campaign(session, now)
    prepare = _Prepare(resolve_mapping(list(first[1]), overrides), _Lookup.load(session),
                       envelope.public_bytes(public_key) if public_key else None, receipt_key,
                       campaign.id if campaign else None, now)
    seen: dict[str, str] = {}
    for chunk in _prepared(prepare, itertools.chain([first], rows), workers):
        batch: list[tuple[int, hotline_store.Plan]] = []
        for line, plan, errors in chunk:
            if plan is None:
                report.rejected.append(Rejected(line, _reason(errors or {})))
                continue
            number, mark = plan.order["order_no"], plan.order["fingerprint"]
            if number in seen:
                if seen[number] == mark:
                    report.skipped += 1
                else:
                    report.rejected.append(Rejected(line, "工单编号在文件中重复且内容不同"))
                continue
            seen[number] = mark
            batch.append((line, plan))
        _store(session, batch, report, receipt_key=receipt_key, now=now, actor=actor)
    audit.record(session, actor=actor, action="hotline.import",
                 details={"file": Path(name).name[:100], "imported": report.imported,
                          "related": report.related, "skipped": report.skipped,
                          "rejected": len(report.rejected)}, now=now)
    if report.related:
        _summary_mail(session, report, now=now)
    session.commit()
    return report


def _store(session: DbSession, batch: list[tuple[int, hotline_store.Plan]],
           report: ImportReport, *, receipt_key: str, now: datetime, actor: str) -> None:
    """One batch: orders already stored are skipped or refused, the rest added; one commit."""
    numbers = [plan.order["order_no"] for _line, plan in batch]
    stored = dict(session.execute(select(HotlineOrder.order_no, HotlineOrder.fingerprint)
                                  .where(HotlineOrder.order_no.in_(numbers))).all())
    plans = []
    for line, plan in batch:
        number = plan.order["order_no"]
        if number in stored:
            if _same(stored[number], plan.order, receipt_key):
                report.skipped += 1
            else:
                report.rejected.append(Rejected(line, "该工单编号已以不同内容导入过"))
            continue
        plans.append(plan)
    hotline_store.store(session, plans, now=now, actor=actor)
    session.commit()
    report.imported += len(plans)
    report.related += sum(p.clue is not None for p in plans)
    report.disputed += sum(bool(p.order["disputed"]) for p in plans)


def _same(stored: str, order: dict[str, Any], receipt_key: str) -> bool:
    """A row already imported, also after retention replaced its fingerprint."""
    if not stored.startswith(hotline.RETAINED + "$"):
        return stored == order["fingerprint"]
    return stored == hotline.retained_fingerprint(
        {**order, "district": order["district_code"]}, receipt_key)


def _summary_mail(session: DbSession, report: ImportReport, *, now: datetime) -> None:
    """One notice per import instead of one per order: a day's file is not 300 mails."""
    users = session.scalars(select(User).where(
        User.active.is_(True), User.email.is_not(None),
        User.role.in_([str(Role.REVIEWER), str(Role.SUPERVISOR)]))).all()
    for user in users:
        notify.queue_mail(session, "hotline_import", now, user_id=user.id,
                          params={"imported": report.imported, "related": report.related,
                                  "disputed": report.disputed,
                                  "rejected": len(report.rejected)})
