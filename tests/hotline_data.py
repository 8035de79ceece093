"""Synthetic hotline exports in the hotline's own columns, for volume tests and benchmarks.

These sentences are for load, not for judging the screening: that is the
hand-written, labelled tests/data/hotline_labelled.csv.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

HEADER = ["工单编号", "受理时间", "诉求内容", "所属区域", "诉求分类", "派单部门", "是否争议",
          "来电人", "联系电话"]
DISTRICTS = ["定海区", "普陀区", "岱山县", "嵊泗县", "新城", "普陀山-朱家尖", "市本级"]
DEPARTMENTS = ["市场监督管理局", "文化和广电旅游体育局", "综合行政执法局", "交通运输局",
               "海洋与渔业局", "生态环境局", ""]
PLACES = ["沈家门", "朱家尖", "东极岛", "岱山高亭", "嵊泗菜园", "定海城区", "新城长峙岛", "桃花岛"]
BUSINESSES = ["民宿", "海鲜排档", "水产加工厂", "便利店", "物流公司", "渔船", "农家乐", "汽修店"]
AGENCIES = ["执法中队", "市场监管所", "执法大队", "海事处", "渔政站"]
RELATED = [
    "企业负责人来电反映，其在{place}经营的{biz}被{agency}一个月内检查了{n}次，每次都要求停业配合，影响经营。",
    "来电人系{place}{biz}老板，称{agency}以首次轻微违规为由对其罚款{amount}元，认为处罚过重。",
    "{biz}经营者来电反映，{agency}要求其在指定单位购买检测服务，否则不予通过检查。",
    "来电人反映其公司账户被外地公安跨省冻结，对方未出示协作手续，{biz}无法正常经营。",
    "{place}{biz}负责人来电称，扣押的货物超过期限仍未归还，{agency}迟迟不给说法。",
]
UNRELATED = [
    "市民来电反映，{place}一家{biz}夜间噪音扰民，要求相关部门查处。",
    "来电人咨询在{place}开办{biz}需要办理哪些证照。",
    "市民来电反映{place}路段路灯不亮，希望尽快维修。",
    "游客来电投诉{place}一家{biz}价格欺诈，要求退款。",
    "来电人反映小区停水已两天，要求尽快恢复供水。",
    "市民来电称{place}公交班次太少，建议增加班次。",
]
NAMES = ["王海明", "李晓燕", "陈国华", "张丽", "刘建军", "周敏", "徐志强", "孙芳"]


def rows(n: int, *, seed: int = 7, start: datetime | None = None,
         prefix: str = "12345-20250503") -> Iterator[list[str]]:
    rng = random.Random(seed)
    moment = start or datetime(2025, 5, 3, 8, 0, 0)
    for i in range(n):
        template = rng.choice(RELATED if rng.random() < 0.3 else UNRELATED)
        content = template.format(place=rng.choice(PLACES), biz=rng.choice(BUSINESSES),
                                  agency=rng.choice(AGENCIES), n=rng.randint(3, 8),
                                  amount=rng.choice([2000, 5000, 10000, 30000]))
        moment += timedelta(seconds=rng.randint(1, 20))
        yield [f"{prefix}-{i + 1:06d}", moment.strftime("%Y-%m-%d %H:%M:%S"), content,
               rng.choice(DISTRICTS), rng.choice(["投诉举报", "咨询", "求助", "市场监管"]),
               rng.choice(DEPARTMENTS), "是" if rng.random() < 0.02 else "否",
               rng.choice(NAMES), f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"]


def write_csv(path: Path, data: Iterator[list[str]] | list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(data)
    return path
