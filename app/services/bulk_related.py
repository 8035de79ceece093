"""What surrounds bulk clues (bulk.fill): hotline orders, disputes, enforcement cases.

The proportions: every hotline clue comes with the 12345 order it was made
from, and the hotline sent as many orders again that were not about
enforcement (no clue); one order in fifty was disputed between departments,
most disputes settled within the day, each with its events on the clue;
and there is one enforcement case record (the denominator of complaints)
for every two clues, over the same days and agencies.

Rows are built beside their clue, in the same batch and process, with ids
that follow from the clue's index (two order slots per clue, one dispute
slot per order, one case per two clues), so that batches built in parallel
never collide; unused slots are gaps, which ids may have.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from app.models import CaseType
from app.security import envelope
from app.services import hotline, screening
from app.services.demo import AGENCIES
from app.services.disputes import SETTLE_WITHIN
from app.services.hotline_store import caller_aad
from app.timeutil import local

UNRELATED = ["市民来电反映，{place}一家店铺夜间噪音扰民，要求相关部门查处。",
             "来电人咨询在{place}开办民宿需要办理哪些证照。",
             "市民来电反映{place}路段路灯不亮，希望尽快维修。",
             "来电人反映{place}小区停水已两天，要求尽快恢复供水。",
             "市民来电称{place}公交班次太少，建议增加班次。"]
PLACES = ["沈家门", "朱家尖", "东极岛", "岱山高亭", "嵊泗菜园", "定海城区", "新城长峙岛"]
NAMES = ["王海明", "李晓燕", "陈国华", "张丽", "刘建军", "周敏", "徐志强", "孙芳"]
HOTLINE_CATEGORIES = ["投诉举报", "咨询", "求助", "市场监管"]
# The department behind each demo agency (demo.AGENCIES).
AGENCY_DEPARTMENT = {"市场监督": "market", "综合行政执法": "urban", "综合执法": "urban",
                     "交通运输": "transport", "文化和广电旅游体育": "tourism",
                     "生态环境": "environment", "消防救援": "fire", "应急管理": "emergency",
                     "海洋与渔业": "fishery", "住房和城乡建设": "housing", "卫生健康": "health",
                     "税务": "tax"}
DEPARTMENTS = sorted(set(AGENCY_DEPARTMENT.values()))
DOMAINS = ["食品安全", "消防安全", "城市管理", "渔业安全", "旅游市场", "交通运输", "生态环境",
           "安全生产", "建筑市场", "税收征管"]
CASE_TYPES = [CaseType.INSPECTION] * 6 + [CaseType.PENALTY] * 3 + [CaseType.COMPULSORY]


def department_of(agency: str) -> str | None:
    return next((code for word, code in AGENCY_DEPARTMENT.items() if word in agency), None)


AGENCY_DEPARTMENTS = {agency: department_of(agency) for agency in AGENCIES}


def add_related(rng: random.Random, rows: dict[str, list[dict[str, Any]]], clue: dict[str, Any],
                index: int, *, ids: dict[str, int], sealer: envelope.Sealer | None,
                receipt_key: str, now: datetime) -> None:
    """The orders, disputes and case that go with the ``index``-th clue of a fill."""
    if index % 2 == 0:
        rows["enforcement_cases"].append(_case(rng, ids["enforcement_cases"] + index // 2,
                                               local(clue["created_at"]).date(), now))
    if clue["channel"] != "hotline":
        return
    for k, related in enumerate((True, False)):
        slot = 2 * index + k
        order = _order(rng, ids["hotline_orders"] + slot, clue, related, sealer=sealer,
                       receipt_key=receipt_key)
        if order["disputed"]:
            order["dispute_id"] = ids["disputes"] + slot
            rows["disputes"].append(_dispute(rng, order, now, rows["clue_events"]))
        rows["hotline_orders"].append(order)


def _order(rng: random.Random, order_id: int, clue: dict[str, Any], related: bool, *,
           sealer: envelope.Sealer | None, receipt_key: str) -> dict[str, Any]:
    received = clue["created_at"] - timedelta(minutes=rng.randint(1, 90))
    order_no = f"12345-{local(received):%Y%m%d}-{order_id:07d}"
    content = clue["description"] if related else rng.choice(UNRELATED).format(
        place=rng.choice(PLACES))
    caller = {"name": rng.choice(NAMES),
              "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"}
    dispatched = clue["handling_department_code"] if related else rng.choice(DEPARTMENTS)
    item = hotline.OrderInput(order_no, received, content, clue["district_code"],
                              rng.choice(HOTLINE_CATEGORIES), caller, dispatched,
                              rng.random() < 0.02)
    return {
        "id": order_id, "order_no": order_no, "received_at": received, "content": content,
        "district_code": item.district, "hotline_category": item.hotline_category,
        "dispatched_to": dispatched, "disputed": item.disputed,
        "caller_sealed": sealer.seal(json.dumps(caller, ensure_ascii=False).encode(),
                                     caller_aad(order_no)) if sealer is not None else None,
        "fingerprint": hotline.fingerprint(item, receipt_key), "source": "import",
        "created_at": clue["created_at"], "enforcement_related": related,
        "category_code": clue["category_code"] if related else None,
        "screening_reasons": ["演示数据"] if related else [],
        "screening_version": screening.VERSION, "clue_id": clue["id"] if related else None,
        "dispute_id": None}


def _dispute(rng: random.Random, order: dict[str, Any], now: datetime,
             events: list[dict[str, Any]]) -> dict[str, Any]:
    opened = order["created_at"]  # the clock starts when Jidu receives the order
    pair = rng.sample(DEPARTMENTS, 2)
    row: dict[str, Any] = {
        "id": order["dispute_id"], "clue_id": order["clue_id"], "opened_at": opened,
        "due_at": opened + SETTLE_WITHIN, "departments": pair, "opened_by": "demo-data",
        "legal_basis": None, "designated_department_code": None, "resolved_at": None,
        "resolved_by": None}
    # Most are settled within the day, a few late; the newest may still be open.
    settled = opened + timedelta(hours=rng.choice([2, 6, 12, 20, 30]))
    if settled < now:
        row.update(legal_basis="依据部门职责清单认定。", designated_department_code=pair[0],
                   resolved_at=settled, resolved_by="demo-data")
    if order["clue_id"] is None:
        return row
    base = {"clue_id": order["clue_id"], "actor_label": "demo-data", "actor_user_id": None,
            "from_status": None, "to_status": None, "public_message": None}
    events.append({**base, "at": opened, "kind": "dispute_opened",
                   "data": {"departments": pair, "order_no": order["order_no"]}})
    if row["resolved_at"] is not None:
        events.append({**base, "at": settled, "kind": "dispute_settled",
                       "data": {"department": pair[0], "in_time": settled <= row["due_at"],
                                "note": row["legal_basis"]}})
    return row


def _case(rng: random.Random, case_id: int, decided: Any, now: datetime) -> dict[str, Any]:
    agency = rng.choice(AGENCIES)
    case_type = rng.choice(CASE_TYPES)
    return {
        "id": case_id, "case_no": f"演示〔{decided.year}〕{case_id:07d}号", "agency": agency,
        "department_code": AGENCY_DEPARTMENTS[agency],
        "district_code": rng.choice(["city", "dinghai", "putuo", "daishan", "shengsi",
                                     "xincheng", "putuoshan"]),
        "domain": rng.choice(DOMAINS), "case_type": str(case_type), "decided_on": decided,
        "amount_fen": rng.choice([200_000, 500_000, 3_000_000])
        if case_type == CaseType.PENALTY else None,
        "imported_at": now, "updated_at": now}
