"""A scenario and a hand-built set of clues and cases whose counts are known in advance."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from app.extensions import db
from app.models import Channel, Clue, ClueStatus, EnforcementCase, clue_situations
from app.timeutil import LOCAL

SCENARIO: dict[str, Any] = {
    "code": "test_hotel", "name": "测试住宿场景", "name_en": "Test lodging scenario",
    "description": "测试用",
    "scope": {"keywords": ["民宿", "酒店", "airbnb"], "agencies": ["旅馆业"]},
    "themes": [
        {"code": "refund", "name": "退款专题", "keywords": ["退款", "满100%"],
         "cases": {"domains": ["旅游市场"]}},
        {"code": "price", "name": "价格专题", "categories": ["fees"],
         "situations": ["fines_discretion"], "keywords": ["价格"], "agencies": ["市场监督"],
         "cases": {"departments": ["market"], "domains": ["价格"],
                   "agencies": ["价格监督检查"]}},
        {"code": "safety", "name": "检查专题", "categories": ["inspections"]},
        {"code": "rental", "name": "派出所专题", "agencies": ["派出所"],
         "cases": {"agencies": ["派出所"]}},
    ],
}
FILE_DATA = {"scenarios": [SCENARIO]}
THEMES = ["refund", "price", "safety", "rental"]
START, END = date(2026, 1, 1), date(2026, 3, 31)

_numbers = itertools.count(1)


def write_file(folder: Path, data: Any = None) -> Path:
    path = folder / "scenarios.json"
    path.write_text(json.dumps(FILE_DATA if data is None else data, ensure_ascii=False),
                    encoding="utf-8")
    return path


def add_clue(local_time: datetime, description: str, agency: str, *, category: str = "other",
             situations: tuple[str, ...] = (), status: ClueStatus = ClueStatus.RECEIVED,
             district: str = "putuo") -> Clue:
    created = local_time.replace(tzinfo=LOCAL).astimezone(UTC)
    number = next(_numbers)
    clue = Clue(tracking_no=f"SC{number:014d}", receipt_hash=f"scenario-test-{number}",
                channel=Channel.LETTER, category_code=category, agency=agency,
                district_code=district, description=description, real_name=False,
                status=status, created_at=created, updated_at=created)
    db.session.add(clue)
    db.session.flush()
    for code in situations:
        db.session.execute(insert(clue_situations).values(clue_id=clue.id, situation_code=code))
    return clue


def add_case(decided_on: date, domain: str, agency: str, department: str | None) -> None:
    db.session.add(EnforcementCase(
        case_no=f"测试案〔{next(_numbers)}〕号", agency=agency, department_code=department,
        district_code="putuo", domain=domain, case_type="penalty", decided_on=decided_on))


def sample() -> dict[str, Clue]:
    """Clues and cases of January to March 2026 (and just outside), one per rule to test.

    Expected, per theme and month (Jan, Feb, Mar): see tests/test_scenarios.py."""
    c = {
        # January
        "c1": add_clue(datetime(2026, 1, 5, 10), "民宿老板拒绝退款",
                       "普陀区文化和广电旅游体育局执法大队"),
        "c2": add_clue(datetime(2026, 1, 6, 10), "酒店房间价格虚高", "普陀区市场监督管理局",
                       category="fines", situations=("fines_discretion",)),
        "c3": add_clue(datetime(2026, 1, 7, 10), "民宿一个月被检查五次", "定海区消防大队",
                       category="inspections", situations=("inspections_excessive",)),
        "c4": add_clue(datetime(2026, 1, 8, 10), "民宿的退款和价格都有问题", "沈家门派出所",
                       category="fees"),
        "c5": add_clue(datetime(2026, 1, 9, 10), "餐馆退款和价格问题", "某某局", category="fees"),
        "c6": add_clue(datetime(2026, 1, 10, 10), "退款纠纷无人处理", "某某旅馆业管理所"),
        # February
        "c7": add_clue(datetime(2026, 2, 3, 10), "酒店退款", "某局", status=ClueStatus.MERGED),
        "c8": add_clue(datetime(2026, 2, 4, 10), "民宿门口道路不平", "城管"),
        "c9": add_clue(datetime(2026, 2, 5, 10), "民宿价格", "市场监管", category="quality"),
        "c10": add_clue(datetime(2026, 2, 6, 10), "民宿被检查", "普陀派出所",
                        category="inspections"),
        # March, and the edges of the period in Shanghai time
        "c11": add_clue(datetime(2026, 3, 31, 23, 30), "酒店价格", "普陀区市场监督管理局",
                        category="fees"),
        "c12": add_clue(datetime(2026, 4, 1, 0, 30), "酒店价格", "普陀区市场监督管理局",
                        category="fees"),
        "c13": add_clue(datetime(2025, 12, 31, 23, 59), "民宿退款", "某局"),
        "c14": add_clue(datetime(2026, 3, 10, 10), "AirBnB房东拒绝退款", "朱家尖管委会"),
        "c15": add_clue(datetime(2026, 3, 11, 10), "民宿满100元另收费", "某局"),
    }
    add_case(date(2026, 1, 5), "旅游市场", "普陀区文化和广电旅游体育局", "tourism")
    add_case(date(2026, 1, 20), "价格监管", "普陀区市场监督管理局", "market")
    add_case(date(2026, 2, 3), "价格监管", "某价格监督检查局", None)
    add_case(date(2026, 2, 10), "治安管理", "沈家门派出所", "public_security")
    add_case(date(2026, 3, 15), "旅游市场", "普陀区市场监督管理局", "market")
    add_case(date(2026, 3, 20), "食品安全", "某局", "market")
    add_case(date(2026, 4, 2), "旅游市场", "普陀区文化和广电旅游体育局", "tourism")
    add_case(date(2025, 12, 31), "旅游市场", "普陀区文化和广电旅游体育局", "tourism")
    add_case(date(2026, 3, 1), "价格监管", "岱山价格监督检查所", "market")
    db.session.commit()
    return c
